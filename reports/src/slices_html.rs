//! The transient part of a scenario section (issue 17): the victim's p99 per
//! time slice over one round of each condition, the neighbours' on-phases
//! shaded behind it, the recovery reference (the round's solo p99) and the
//! latency objective as dashed lines. Every condition's chart has the same
//! log-scaled y axis, so they compare at a glance.

use crate::charts::{Chart, NotDrawn, colour, draw, latency_axis};
use crate::format;
use crate::legend::{Entry, Glyph};
use crate::palette;
use crate::schema::ScenarioResult;
use crate::schema_phases::SliceTimeline;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Size of one condition's chart, pixels (three side by side on a wide page).
const SIZE: (u32, u32) = (560, 300);
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);
const HEADING_FONT: (&str, u32) = ("sans-serif", 18);
/// Grey of the on-phase shading.
const SHADE: (u8, u8, u8) = (0x99, 0x99, 0x99);
/// Colour of a ramp's span (Okabe–Ito sky blue).
const RAMP: (u8, u8, u8) = (0x56, 0xB4, 0xE9);
/// Opacity of the on-phase and ramp shading.
const SHADE_OPACITY: f64 = 0.25;
/// Colour of the objective line (Okabe–Ito reddish purple: no condition's colour).
const SLO: (u8, u8, u8) = (0xCC, 0x79, 0xA7);

/// What each chart shows, after its condition's name.
const CAPTION: &str = "condition, one round: the victim's p99 in each time slice of its \
     window (the round and slice length in the title), the neighbour's on-phases shaded grey \
     (it was frozen in between) or its intensity ramp shaded blue, the round's solo p99 dashed black (the victim has recovered \
     once its slice p99 is back within 10 % of it), the latency objective dashed purple where \
     the suite sets one. Lower is better; in isolated, a line that stays flat through the \
     shaded spans means the limits kept the neighbour's phases out. Unit: latency, log scale.";

/// The charts, or nothing when the scenario has no slice timeline.
pub(crate) fn section(
    scenario: &ScenarioResult,
    figure: impl Fn(Result<Chart, NotDrawn>, &str) -> String,
) -> String {
    if scenario.slice_timelines.is_empty() {
        return String::new();
    }
    let values = || {
        scenario
            .slice_timelines
            .iter()
            .flat_map(|t| {
                t.slices
                    .iter()
                    .filter_map(|s| s.p99_us)
                    .chain(t.reference_p99_us)
                    .chain(t.slo_p99_us)
            })
            .filter(|&v| v > 0.0)
    };
    let (Some(lo), Some(hi)) = (values().reduce(f64::min), values().reduce(f64::max)) else {
        return String::new();
    };
    let mut out = String::from("<h3>Victim latency per time slice</h3>\n<div class=\"charts\">\n");
    for t in &scenario.slice_timelines {
        out.push_str(&figure(
            chart(scenario, t, lo / 1.6, hi * 1.6),
            &format!("{} {CAPTION}", t.condition),
        ));
    }
    out.push_str("</div>\n");
    out
}

/// One condition's chart, its y axis from `y_start` to `y_end` µs.
///
/// # Errors
/// When the timeline has no slice with units, or plotters fails.
fn chart(
    scenario: &ScenarioResult,
    t: &SliceTimeline,
    y_start: f64,
    y_end: f64,
) -> Result<Chart, NotDrawn> {
    let points: Vec<(f64, f64)> = t
        .slices
        .iter()
        .filter_map(|s| Some(((s.start_ms + t.slice_ms / 2.0) / 1e3, s.p99_us?)))
        .filter(|p| p.1 > 0.0)
        .collect();
    if points.is_empty() {
        return Err(format!("no slice of the {} victim had units", t.condition));
    }
    let x_end = (t.slices.len() as f64 * t.slice_ms / 1e3).max(0.1);
    let spans: Vec<[f64; 2]> = t
        .phases
        .iter()
        .filter(|p| p.ramp.is_none())
        .flat_map(|p| p.on_ms.iter().map(|s| [s[0] / 1e3, s[1] / 1e3]))
        .collect();
    let ramps: Vec<[f64; 2]> = t
        .phases
        .iter()
        .filter_map(|p| p.ramp)
        .map(|r| [r.start_ms.max(0.0) / 1e3, r.end_ms / 1e3])
        .collect();
    let rgb = palette::rgb(t.condition);
    let mut legend = vec![Entry::new("slice p99", Glyph::Line { rgb, dashed: false })];
    if !spans.is_empty() {
        let how = t
            .phases
            .iter()
            .filter(|p| p.ramp.is_none())
            .map(|p| format!("{} on ({})", p.sandbox, p.mechanism.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        legend.push(Entry::new(how, Glyph::Swatch(SHADE)));
    }
    for p in &t.phases {
        if let Some(r) = p.ramp {
            legend.push(Entry::new(
                format!(
                    "{} ramps {} % → {} % ({})",
                    p.sandbox,
                    r.from_pct,
                    r.to_pct,
                    p.mechanism.as_str()
                ),
                Glyph::Swatch(RAMP),
            ));
        }
    }
    if t.reference_p99_us.is_some() {
        let black = palette::BLACK;
        legend.push(Entry::new(
            "solo p99 (recovery reference)",
            Glyph::Line {
                rgb: black,
                dashed: true,
            },
        ));
    }
    if t.slo_p99_us.is_some() {
        legend.push(Entry::new(
            "objective (slo.p99_us)",
            Glyph::Line {
                rgb: SLO,
                dashed: true,
            },
        ));
    }
    let title = format!(
        "Victim p99 per {} ms slice, {} condition, scenario {}, round {}",
        t.slice_ms, t.condition, scenario.name, t.round
    );
    draw(SIZE, &title, &[legend], |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(t.condition.as_str(), HEADING_FONT)
            .margin(14)
            .margin_right(22)
            .x_label_area_size(46)
            .y_label_area_size(80)
            .build_cartesian_2d(
                RangedCoordf64::from(0.0..x_end),
                latency_axis(y_start, y_end),
            )?;
        chart
            .configure_mesh()
            .x_desc("time in the window (s)")
            .y_desc("victim slice p99")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format::latency_label(*y))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (spans, rgb) in [(&spans, SHADE), (&ramps, RAMP)] {
            chart.draw_series(spans.iter().map(|s| {
                Rectangle::new(
                    [(s[0], y_start), (s[1].min(x_end), y_end)],
                    colour(rgb).mix(SHADE_OPACITY).filled(),
                )
            }))?;
        }
        for (value, rgb) in [(t.reference_p99_us, palette::BLACK), (t.slo_p99_us, SLO)] {
            if let Some(v) = value {
                chart.draw_series(DashedLineSeries::new(
                    [(0.0, v), (x_end, v)],
                    8,
                    5,
                    colour(rgb).stroke_width(2),
                ))?;
            }
        }
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            colour(rgb).stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 2, colour(rgb).filled())),
        )?;
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}
