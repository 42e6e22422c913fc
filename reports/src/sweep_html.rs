//! The sweep's section of the report (issue 17): the victim's p99 against the
//! swept value, one curve per condition with its 95 % CI whiskers, the
//! knee of each condition marked and said in words, and the sweep's table.

use crate::charts::{Chart, NotDrawn, Ticked, colour, draw, latency_axis};
use crate::escape;
use crate::format;
use crate::legend::{Entry, Glyph};
use crate::palette;
use crate::schema_sweep::{Knee, Sweep};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Size of the chart, pixels.
const SIZE: (u32, u32) = (720, 420);
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);

const CAPTION: &str = "The victim's p99 at each swept value, one line per condition: the mean \
     over rounds with its bootstrap 95 % CI as a whisker (the conditions are set a little apart \
     so their whiskers do not hide each other). A ring marks each condition's knee: the first \
     value whose p99, against the first value's, has a CI wholly above the knee margin. Lower is \
     better; in isolated, a flat line means the limits held across the swept range. Unit: \
     latency, log scale.";

/// The section: heading, chart, knees and the Markdown summary's table as HTML.
pub(crate) fn section(
    sweep: &Sweep,
    figure: impl Fn(Result<Chart, NotDrawn>, &str) -> String,
) -> String {
    let mut out = format!(
        "<section id=\"sweep\">\n<h2>Sweep of {} over <code>{}</code></h2>\n",
        escape::html(&sweep.scenario),
        escape::html(&sweep.over)
    );
    out.push_str(&figure(chart(sweep), CAPTION));
    out.push_str("<ul class=\"knees\">\n");
    for c in &sweep.curves {
        out.push_str(&format!(
            "<li class=\"cond-{}\"><strong>{}</strong>: knee {}</li>\n",
            c.condition,
            c.condition,
            escape::html(&c.knee.describe(&sweep.steps))
        ));
    }
    out.push_str("</ul>\n");
    out.push_str(&table(sweep));
    out.push_str("</section>\n");
    out
}

/// Each condition's figures per step, in a table.
fn table(sweep: &Sweep) -> String {
    let cell = |i: Option<&crate::schema::Interval>, text: &dyn Fn(f64) -> String| match i {
        Some(i) => format!(
            "{} <span class=\"ci\">[{}, {}]</span>",
            text(i.value),
            text(i.lower),
            text(i.upper)
        ),
        None => "unavailable".into(),
    };
    let mut rows = String::new();
    for c in &sweep.curves {
        for (s, p) in sweep.steps.iter().zip(&c.points) {
            let ratio = p.p99_ratio.as_ref().map_or("—".into(), |r| {
                format!("×{:.2} [×{:.2}, ×{:.2}]", r.value, r.lower, r.upper)
            });
            rows.push_str(&format!(
                "<tr class=\"cond-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                c.condition,
                c.condition,
                escape::html(&s.label),
                cell(p.p99_us.as_ref(), &format::latency_us),
                escape::html(&ratio),
                cell(p.late_share.as_ref(), &format::percent),
                cell(p.throughput_ops.as_ref(), &format::per_second),
                escape::html(p.unavailable.as_deref().unwrap_or(""))
            ));
        }
    }
    format!(
        "<table>\n<thead><tr><th>condition</th><th>value</th><th>victim p99</th><th>× first value</th>\
         <th>late share</th><th>throughput</th><th>note</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    )
}

/// The chart of p99 against the step.
///
/// # Errors
/// When no step has a p99 with its CI, or plotters fails.
fn chart(sweep: &Sweep) -> Result<Chart, NotDrawn> {
    let n = sweep.curves.len().max(1) as f64;
    let lines: Vec<_> = sweep
        .curves
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let dx = (k as f64 - (n - 1.0) / 2.0) * 0.06;
            let points: Vec<(f64, f64, f64, f64)> = c
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let i99 = p.p99_us?;
                    Some((i as f64 + dx, i99.lower, i99.value, i99.upper))
                })
                .filter(|p| p.1 > 0.0)
                .collect();
            let knee = match c.knee {
                Knee::At { step, .. } => points
                    .iter()
                    .find(|p| (p.0 - dx - step as f64).abs() < 1e-9)
                    .map(|p| (p.0, p.2)),
                _ => None,
            };
            (c.condition, points, knee)
        })
        .collect();
    let all = || lines.iter().flat_map(|(_, p, _)| p.iter());
    let (Some(lo), Some(hi)) = (
        all().map(|p| p.1).reduce(f64::min),
        all().map(|p| p.3).reduce(f64::max),
    ) else {
        return Err("no step has a victim p99 with its CI".into());
    };
    let (y_start, y_end) = (lo / 1.6, hi * 1.6);
    let x_end = sweep.steps.len() as f64 - 0.5;
    let mut legend: Vec<Entry> = lines
        .iter()
        .map(|(c, _, _)| {
            Entry::new(
                c.as_str(),
                Glyph::Line {
                    rgb: palette::rgb(*c),
                    dashed: false,
                },
            )
        })
        .collect();
    if lines.iter().any(|l| l.2.is_some()) {
        legend.push(Entry::new("knee", Glyph::Swatch(palette::BLACK)));
    }
    let labels: Vec<String> = sweep.steps.iter().map(|s| short(&s.label)).collect();
    let title = format!(
        "Victim p99 against {}, scenario {}",
        sweep.over, sweep.scenario
    );
    draw(SIZE, &title, &[legend], |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .margin_right(28)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(
                Ticked::new(
                    RangedCoordf64::from(-0.5..x_end),
                    (0..sweep.steps.len()).map(|i| i as f64).collect(),
                ),
                latency_axis(y_start, y_end),
            )?;
        chart
            .configure_mesh()
            .x_desc(sweep.over.as_str())
            .y_desc("victim p99")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| {
                labels
                    .get(x.round().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            })
            .y_label_formatter(&|y| format::latency_label(*y))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (c, points, knee) in &lines {
            let rgb = colour(palette::rgb(*c));
            chart.draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.2)),
                rgb.stroke_width(2),
            ))?;
            // A whisker: the CI as a vertical line with caps.
            let cap = 0.05;
            chart.draw_series(points.iter().flat_map(|p| {
                [
                    [(p.0, p.1), (p.0, p.3)],
                    [(p.0 - cap, p.1), (p.0 + cap, p.1)],
                    [(p.0 - cap, p.3), (p.0 + cap, p.3)],
                ]
                .map(|line| PathElement::new(line, rgb.stroke_width(2)))
            }))?;
            chart.draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.0, p.2), 3, rgb.filled())),
            )?;
            if let Some(k) = knee {
                chart.draw_series(std::iter::once(Circle::new(
                    *k,
                    9,
                    colour(palette::BLACK).stroke_width(2),
                )))?;
            }
        }
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}

/// A step's label without the note in parentheses, for the axis.
fn short(label: &str) -> String {
    label.split(" (").next().unwrap_or(label).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Condition, Interval};
    use crate::schema_sweep::{SweepCurve, SweepPoint, SweepStep};

    fn i(value: f64) -> Option<Interval> {
        Some(Interval {
            value,
            lower: value * 0.8,
            upper: value * 1.2,
        })
    }

    fn sweep() -> Sweep {
        let point = |p99: f64, ratio: Option<Interval>| SweepPoint {
            p99_us: i(p99),
            late_share: i(0.1),
            throughput_ops: i(5000.0),
            p99_ratio: ratio,
            valid_rounds: 3,
            unavailable: None,
        };
        let steps = (0..3)
            .map(|k| SweepStep {
                value: k as f64 * 50.0,
                label: format!("{} %", k * 50),
                scenario: format!("s@aggressor.intensity={}%", k * 50),
            })
            .collect();
        Sweep {
            scenario: "s".into(),
            over: "aggressor.intensity".into(),
            unit: "%".into(),
            steps,
            rounds: 3,
            orders: vec![vec![2, 0, 1]; 3],
            knee_margin: 1.2,
            curves: vec![
                SweepCurve {
                    condition: Condition::Contended,
                    points: vec![
                        point(100.0, None),
                        point(400.0, i(4.0)),
                        point(900.0, i(9.0)),
                    ],
                    knee: Knee::At {
                        step: 1,
                        value: 50.0,
                        ratio: i(4.0).unwrap(),
                    },
                },
                SweepCurve {
                    condition: Condition::Isolated,
                    points: vec![
                        point(100.0, None),
                        point(105.0, i(1.05)),
                        point(110.0, i(1.1)),
                    ],
                    knee: Knee::NoneWithinRange { largest: i(1.1) },
                },
            ],
            estimate_s: 40.0,
            elapsed_s: Some(42.0),
        }
    }

    #[test]
    fn section_draws_a_curve_per_condition_and_says_each_knee() {
        let s = sweep();
        let html = section(&s, |c, caption| match c {
            Ok(c) => format!("{}{caption}", c.svg),
            Err(e) => panic!("{e}"),
        });
        assert!(html.contains("<svg") && html.contains("Victim p99 against aggressor.intensity"));
        assert!(html.contains("knee at 50 % (p99 ×4.00"), "{html}");
        assert!(
            html.contains("knee no knee within the swept range"),
            "{html}"
        );
        let md = crate::sweep_text::sweep_markdown(&s);
        assert!(
            md.contains("| 50 % | 400 µs [320, 480] µs | ×4.00 [×3.20, ×4.80] |"),
            "{md}"
        );
        assert!(
            md.contains("Knee (isolated): no knee within the swept range"),
            "{md}"
        );
        assert!(
            md.contains("Took 42 s against an estimate of 40 s (+5 %)"),
            "{md}"
        );
    }
}
