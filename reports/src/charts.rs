//! Charts as inline SVG, drawn with plotters' `SVGBackend` into a `String`.
//!
//! Each chart returns the SVG text, with a `<title>` element as its first child
//! (for screen readers and tooltips), or why it could not be drawn. Conditions
//! keep their [`palette`](crate::palette) colour on every chart.

use crate::comparison::{ChangeKind, ComparedMetric, Comparison, Outcome};
use crate::escape;
use crate::format;
use crate::legend::{self, Entry, Glyph, Legend};
use crate::metric_names::{
    AGGRESSOR_CPU_SHARE, AGGRESSOR_CPU_SHARE_EXPECTED, GROUP_PREFIX, VICTIM_THROUGHPUT,
};
use crate::palette;
use crate::schema::{Condition, Metric, Results, ScenarioResult};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// Size of the latency CDF chart, pixels (width, height).
const CDF_SIZE: (u32, u32) = (640, 400);
/// Size of the CPU share chart, pixels (width, height).
const CPU_SHARE_SIZE: (u32, u32) = (400, 400);
/// Font of tick labels and legends (plotters draws SVG text at size / 1.24).
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);
/// Font of axis descriptions.
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);
/// Percentiles that get a tick on the CDF's x axis, as quantiles.
const CDF_TICKS: [f64; 7] = [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999];

/// Why a chart was not drawn, said to the reader in place of the chart.
pub(crate) type NotDrawn = String;

/// A drawn chart.
pub(crate) struct Chart {
    /// The `<svg>` element, with its `<title>`.
    pub svg: String,
    /// Its width, pixels, at which a page should show it (it may shrink).
    pub width_px: u32,
}

/// Victim latency CDF, one line per condition: x is the percentile on a
/// log(1/(1−q)) scale (ticks 50, 90, 99, 99.9, …), y the latency (µs, log scale,
/// labels scaled to ms or s where needed).
///
/// Quantile 1 (the maximum) would lie at infinity; as in HdrHistogram's plots it
/// is drawn at 1 − 1/n, n being the victim's units over all rounds of that
/// condition, and left out when the rounds record none.
///
/// # Errors
/// When the scenario has no latency point to draw, or plotters fails.
pub(crate) fn latency_cdf(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    let lines: Vec<(Condition, Vec<(f64, f64)>)> = Condition::ALL
        .iter()
        .filter_map(|&condition| Some((condition, cdf_line(scenario, condition)?)))
        .collect();
    let all = || lines.iter().flat_map(|(_, points)| points.iter());
    let (Some(x_max), Some(y_min), Some(y_max)) = (
        all().map(|p| p.0).reduce(f64::max),
        all().map(|p| p.1).reduce(f64::min),
        all().map(|p| p.1).reduce(f64::max),
    ) else {
        return Err("no victim latency distribution was recorded".to_owned());
    };
    // Show up to 99.9 at least, so runs with short tails still read the same way,
    // and a little past the last point.
    let x_end = x_max.max(tail_position(0.999)) + 0.15;
    let x_ticks: Vec<f64> = CDF_TICKS
        .iter()
        .map(|&q| tail_position(q))
        .filter(|&x| x <= x_end + 1e-9)
        .collect();
    // A span over 2.5× always holds a 1-2-5 tick.
    let (y_start, y_end) = (y_min / 1.6, y_max * 1.6);
    let title = format!(
        "Victim latency CDF per condition, scenario {}",
        scenario.name
    );

    let entries: Vec<Entry> = lines
        .iter()
        .map(|(condition, _)| {
            Entry::new(
                condition.as_str(),
                Glyph::Line {
                    rgb: palette::rgb(*condition),
                    dashed: false,
                },
            )
        })
        .collect();

    draw(CDF_SIZE, &title, &[entries], |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            // room for the last tick label, centred on the axis end
            .margin_right(32)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(
                Ticked::new(RangedCoordf64::from(0.0..x_end), x_ticks),
                latency_axis(y_start, y_end),
            )?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("victim latency")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| format::percentile(1.0 - 10f64.powf(-x)))
            .y_label_formatter(&|y| format::latency_label(*y))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (condition, points) in &lines {
            let colour = colour(palette::rgb(*condition));
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?;
        }
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}

/// The CDF line of `condition` as (x position, latency µs), or `None` when the
/// scenario has no point of it to draw.
fn cdf_line(scenario: &ScenarioResult, condition: Condition) -> Option<Vec<(f64, f64)>> {
    let cdf = scenario
        .latency_cdf
        .iter()
        .find(|c| c.condition == condition)?;
    let units: u64 = scenario
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .filter(|run| run.condition == condition)
        .filter_map(|run| run.victim.as_ref().map(|v| v.ops))
        .sum();
    let max_quantile = (units > 0).then(|| 1.0 - 1.0 / units as f64);
    let points: Vec<(f64, f64)> = cdf
        .points
        .iter()
        .filter(|&&(_, latency_us)| latency_us > 0.0)
        .filter_map(|&(q, latency_us)| {
            let q = if q < 1.0 { q } else { max_quantile? };
            (q >= 0.0).then(|| (tail_position(q), latency_us))
        })
        .collect();
    (!points.is_empty()).then_some(points)
}

/// What a per-condition bar chart shows.
pub(crate) struct Bars<'a> {
    /// The metric of the bars, measured per condition.
    pub metric: &'a str,
    /// A metric drawn as a black mark on each bar (what the limits allow), if any.
    pub expected: Option<&'a str>,
    /// Title, before "scenario <name>".
    pub what: &'a str,
    /// The y axis description.
    pub y_desc: &'a str,
    /// Why there is no chart when no condition has the metric.
    pub none: &'a str,
    /// Formats a y value (in the metric's unit) as a tick label.
    pub label: fn(f64) -> String,
}

/// Aggressor CPU share per condition: a bar for the measured share (metric
/// `aggressor.cpu_share`, CPUs) with its 95 % CI as a whisker, and a black mark
/// for the expected share (`aggressor.cpu_share_expected`, CPUs) where known.
///
/// # Errors
/// When no condition has a measured aggressor share, or plotters fails.
pub(crate) fn cpu_share(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    condition_bars(
        scenario,
        &Bars {
            metric: AGGRESSOR_CPU_SHARE,
            expected: Some(AGGRESSOR_CPU_SHARE_EXPECTED),
            what: "Aggressor CPU share, measured and expected",
            y_desc: "aggressor CPU share (CPUs)",
            none: "no aggressor CPU share was measured",
            label: format::cpus,
        },
    )
}

/// Victim throughput per condition (metric `victim.throughput_ops`, ops/s), bars
/// with the 95 % CI over rounds as whiskers.
///
/// # Errors
/// When no condition has a throughput, or plotters fails.
pub(crate) fn throughput(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    condition_bars(
        scenario,
        &Bars {
            metric: VICTIM_THROUGHPUT,
            expected: None,
            what: "Victim throughput per condition",
            y_desc: "victim throughput (ops/s)",
            none: "the victim's throughput was not measured",
            label: |v| format!("{v:.0}"),
        },
    )
}

/// One bar per condition with its CI whisker and, where `bars.expected` is
/// known, a black mark at the expected value.
fn condition_bars(scenario: &ScenarioResult, spec: &Bars<'_>) -> Result<Chart, NotDrawn> {
    let bars: Vec<Bar<'_>> = Condition::ALL
        .iter()
        .filter_map(|&condition| {
            let measured = Results::metric(scenario, spec.metric, Some(condition))?;
            let value = measured.value?;
            let expected = spec
                .expected
                .and_then(|e| Results::metric(scenario, e, Some(condition)))
                .and_then(|m| m.value);
            Some(Bar {
                label: condition.as_str().to_owned(),
                rgb: palette::rgb(condition),
                measured,
                value,
                expected,
            })
        })
        .collect();
    if bars.is_empty() {
        return Err(spec.none.to_owned());
    }
    let title = format!("{}, scenario {}", spec.what, scenario.name);
    labelled_bars(&title, "condition", spec, &bars, CPU_SHARE_SIZE)
}

/// The isolated CPU share of every sandbox and group of a scenario with groups
/// (metrics `<sandbox>.cpu_share` and `group.<name>.cpu_share`, CPUs), a bar
/// each with its 95 % CI whisker and a black mark at its expected share
/// (`….cpu_share_expected`) where known: sandboxes first, then the groups.
///
/// # Errors
/// When the scenario has no group share, or plotters fails.
pub(crate) fn cgroup_shares(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    let iso = Some(Condition::Isolated);
    let mut names: Vec<&str> = Vec::new();
    for m in scenario.metrics.iter().filter(|m| m.condition == iso) {
        if let Some(n) = m.name.strip_suffix(".cpu_share")
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    if !names.iter().any(|n| n.starts_with(GROUP_PREFIX)) {
        return Err("the scenario has no groups".to_owned());
    }
    names.sort_by_key(|n| n.starts_with(GROUP_PREFIX));
    let bars: Vec<Bar<'_>> = names
        .iter()
        .filter_map(|n| {
            let measured = Results::metric(scenario, &format!("{n}.cpu_share"), iso)?;
            let expected = Results::metric(scenario, &format!("{n}.cpu_share_expected"), iso)
                .and_then(|m| m.value);
            let group = n.strip_prefix(GROUP_PREFIX);
            Some(Bar {
                label: group.map_or_else(|| (*n).to_owned(), |g| format!("[{g}]")),
                rgb: if group.is_some() {
                    palette::GROUP
                } else {
                    palette::rgb(Condition::Isolated)
                },
                measured,
                value: measured.value?,
                expected,
            })
        })
        .collect();
    let spec = Bars {
        metric: "",
        expected: None,
        what: "CPU share of each sandbox and [group], isolated, measured and expected",
        y_desc: "CPU share (CPUs)",
        none: "",
        label: format::cpus,
    };
    let title = format!("{}, scenario {}", spec.what, scenario.name);
    let width = (90 * bars.len() as u32 + 120).max(CPU_SHARE_SIZE.0);
    labelled_bars(
        &title,
        "sandbox, [group]",
        &spec,
        &bars,
        (width, CPU_SHARE_SIZE.1),
    )
}

/// One bar of a bar chart: its x label and colour, its metric (for the CI
/// whisker), its value and the expected value.
struct Bar<'a> {
    label: String,
    rgb: (u8, u8, u8),
    measured: &'a Metric,
    value: f64,
    expected: Option<f64>,
}

/// Draws `bars` left to right, each with its CI whisker and, where known, a
/// black mark at its expected value; `x_desc` names the x axis.
fn labelled_bars(
    title: &str,
    x_desc: &str,
    spec: &Bars<'_>,
    bars: &[Bar<'_>],
    size: (u32, u32),
) -> Result<Chart, NotDrawn> {
    let top = bars
        .iter()
        .flat_map(|b| [Some(b.value), b.measured.upper, b.expected])
        .flatten()
        .fold(0.0, f64::max);
    // A little headroom above the tallest bar or whisker; the legend is below the chart.
    let y_end = if top > 0.0 { top * 1.12 } else { 1.0 };
    let names: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
    let x_ticks: Vec<f64> = (0..bars.len()).map(|i| i as f64).collect();
    let black = colour(palette::BLACK);
    let mut entries = Vec::new();
    if bars
        .iter()
        .any(|b| b.measured.lower.is_some() && b.measured.upper.is_some())
    {
        entries.push(Entry::new(
            "95 % CI of measured",
            Glyph::Whisker(palette::BLACK),
        ));
    }
    if bars.iter().any(|b| b.expected.is_some()) {
        entries.push(Entry::new("expected", Glyph::Thick(palette::BLACK)));
    }

    draw(size, title, &[entries], |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(
                Ticked::new(RangedCoordf64::from(-0.5..bars.len() as f64 - 0.5), x_ticks),
                0.0..y_end,
            )?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(spec.y_desc)
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| {
                names
                    .get(x.round() as usize)
                    .map_or_else(String::new, |name| (*name).to_owned())
            })
            .y_label_formatter(&|y| (spec.label)(*y))
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x - 0.3, 0.0), (x + 0.3, b.value)], colour(b.rgb).filled())
        }))?;
        chart.draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let (lower, upper) = (b.measured.lower?, b.measured.upper?);
            let x = i as f64;
            Some(PathElement::new(
                vec![
                    (x - 0.08, lower),
                    (x + 0.08, lower),
                    (x, lower),
                    (x, upper),
                    (x - 0.08, upper),
                    (x + 0.08, upper),
                ],
                black.stroke_width(2),
            ))
        }))?;
        chart.draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let (x, e) = (i as f64, b.expected?);
            Some(PathElement::new(
                vec![(x - 0.42, e), (x + 0.42, e)],
                black.stroke_width(4),
            ))
        }))?;
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}

/// Forest plot of the gated ratio changes of a comparison: one row per metric,
/// its point estimate and 95 % CI as a horizontal bar on a log axis, a grey
/// line at 1 (no change) and a black tick at each row's margin; colour by outcome.
///
/// # Errors
/// When no gated ratio has a CI, or plotters fails.
pub(crate) fn forest(comparison: &Comparison) -> Result<Chart, NotDrawn> {
    let rows: Vec<&ComparedMetric> = comparison
        .rows
        .iter()
        .filter(|r| {
            r.kind == ChangeKind::Ratio && r.outcome != Outcome::NotGated && r.lower.is_some()
        })
        .collect();
    if rows.is_empty() {
        return Err("no gated ratio with a confidence interval to plot".to_owned());
    }
    let bounds = rows
        .iter()
        .flat_map(|r| [r.lower, r.upper, r.margin, r.margin.map(|m| 1.0 / m)])
        .flatten();
    let (lo, hi) = bounds.fold((1.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let (x0, x1) = (lo / 1.1, hi * 1.1);
    let names: Vec<String> = rows
        .iter()
        .map(|r| match r.condition {
            Some(c) => format!("{} ({c})", r.name),
            None => r.name.clone(),
        })
        .collect();
    let n = rows.len();
    let y_ticks: Vec<f64> = (0..n).map(|i| i as f64).collect();
    // Ticks at least a factor 1.25 apart, so their labels never overlap.
    let candidates = [
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0,
    ];
    let mut x_ticks: Vec<f64> = Vec::new();
    for t in candidates.into_iter().filter(|t| (x0..=x1).contains(t)) {
        if x_ticks.last().is_none_or(|&prev| t / prev >= 1.25) {
            x_ticks.push(t);
        }
    }
    let size = (900, 90 + 34 * n as u32);
    let black = colour(palette::BLACK);
    let mut outcomes: Vec<Entry> = [
        Outcome::Fail,
        Outcome::Inconclusive,
        Outcome::NoClearChange,
        Outcome::Pass,
        Outcome::Improved,
    ]
    .into_iter()
    .filter(|o| rows.iter().any(|r| r.outcome == *o))
    .map(|o| {
        Entry::new(
            crate::compared::outcome_text(o),
            Glyph::Thick(palette::outcome_rgb(o)),
        )
    })
    .collect();
    outcomes.push(Entry::new("margin", Glyph::Tick(palette::BLACK)));
    draw(
        size,
        "Change of each gated metric, current / baseline, with 95 % CI",
        &[outcomes],
        |root| {
            let mut chart = ChartBuilder::on(&root)
                .margin(16)
                .x_label_area_size(44)
                .y_label_area_size(330)
                .build_cartesian_2d(
                    Ticked::new(LogCoord::from((x0..x1).log_scale()), x_ticks),
                    Ticked::new(RangedCoordf64::from(-0.6..n as f64 - 0.4), y_ticks),
                )?;
            chart
            .configure_mesh()
            .x_desc("current / baseline (log scale; right of the margin tick is worse for lower-is-better metrics)")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
            .x_label_formatter(&|x| format!("{x}"))
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(1.0, -0.6), (1.0, n as f64 - 0.4)],
                black.mix(0.5).stroke_width(1),
            )))?;
            for (i, r) in rows.iter().enumerate() {
                let y = i as f64;
                let c = colour(palette::outcome_rgb(r.outcome));
                if let (Some(lo), Some(hi)) = (r.lower, r.upper) {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(lo, y), (hi, y)],
                        c.stroke_width(4),
                    )))?;
                }
                if let Some(v) = r.change {
                    chart.draw_series(std::iter::once(Circle::new((v, y), 5, c.filled())))?;
                }
                if let Some(m) = r.margin {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(m, y - 0.3), (m, y + 0.3)],
                        black.stroke_width(2),
                    )))?;
                }
            }
            Ok::<(), DrawingAreaErrorKind<_>>(())
        },
    )
}

/// Position of quantile `q` (0..1) on the x axis of a latency CDF: log10(1/(1−q)),
/// so 90 → 1, 99 → 2, 99.9 → 3.
fn tail_position(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// Tick values 1, 2, 5 × 10ⁿ between `start` and `end` (both > 0), for a log axis;
/// the decades alone when that gives too many ticks.
pub(crate) fn one_two_five(start: f64, end: f64) -> Vec<f64> {
    let decades = start.log10().floor() as i32..=end.log10().ceil() as i32;
    let ticks = |steps: &[f64]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|n| steps.iter().map(move |s| s * 10f64.powi(n)))
            .filter(|v| (start..=end).contains(v))
            .collect()
    };
    let fine = ticks(&[1.0, 2.0, 5.0]);
    if fine.len() <= 10 {
        fine
    } else {
        ticks(&[1.0])
    }
}

/// An f64 axis (linear or log, as `inner` maps it) with ticks and grid lines at
/// chosen values only: plotters' own `with_key_points` loses the number formatting
/// that `configure_mesh` needs.
pub(crate) struct Ticked<R> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ticked<R> {
    /// `inner` with ticks at `ticks` (values in the axis unit).
    pub(crate) fn new(inner: R, ticks: Vec<f64>) -> Self {
        Ticked { inner, ticks }
    }
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// A log-scaled latency axis from `y_start` to `y_end` µs, ticked 1-2-5.
pub(crate) fn latency_axis(y_start: f64, y_end: f64) -> Ticked<LogCoord<f64>> {
    Ticked::new(
        LogCoord::from((y_start..y_end).log_scale()),
        one_two_five(y_start, y_end),
    )
}

/// A plotters colour from red, green, blue.
pub(crate) fn colour((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// Draws with `plot` on a white SVG canvas of `size` pixels (width, height),
/// with `legend` (if any) below it, outside the plotting area: the canvas grows
/// by the legend's height, `plot` still gets `size`. Returns the chart, with
/// `title` as its `<title>`.
pub(crate) fn draw<E: std::error::Error>(
    size: (u32, u32),
    title: &str,
    legend: &Legend,
    plot: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), E>,
) -> Result<Chart, NotDrawn> {
    let legend_height = legend::height(size.0, legend);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (size.0, size.1 + legend_height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (chart, below) = root.split_vertically(size.1);
        plot(chart).map_err(|e| e.to_string())?;
        legend::draw(&below, legend).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Chart {
        svg: with_title(svg, title),
        width_px: size.0,
    })
}

/// `svg` with `<title>title</title>` (escaped) as the first child of its root
/// element; plotters writes none.
fn with_title(mut svg: String, title: &str) -> String {
    let open_end = svg
        .find("<svg")
        .and_then(|start| svg[start..].find('>').map(|end| start + end + 1));
    if let Some(at) = open_end {
        svg.insert_str(at, &format!("\n<title>{}</title>", escape::html(title)));
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_positions_put_nines_one_decade_apart() {
        for (q, x) in [(0.9, 1.0), (0.99, 2.0), (0.999, 3.0)] {
            assert!(
                (tail_position(q) - x).abs() < 1e-9,
                "{q} -> {}",
                tail_position(q)
            );
        }
    }

    #[test]
    fn log_ticks_are_one_two_five_within_range() {
        assert_eq!(one_two_five(30.0, 600.0), vec![50.0, 100.0, 200.0, 500.0]);
        assert_eq!(one_two_five(1.0, 1e6).len(), 7);
    }

    #[test]
    fn title_becomes_first_child_of_svg_and_is_escaped() {
        let svg = with_title("<svg width=\"1\">\n</svg>".to_owned(), "a<b");
        assert_eq!(svg, "<svg width=\"1\">\n<title>a&lt;b</title>\n</svg>");
    }
}
