//! Timeline charts of the memory scenarios: each sandbox's memory use and its
//! memory PSI `full` over one round's conditions, OOM kills marked.
//!
//! The round shown is the last complete one (all conditions), so every line
//! comes from the same round; victims are solid lines, aggressors dashed, and
//! each condition keeps its [`palette`](crate::palette) colour.

use crate::charts::{Chart, NotDrawn, colour, draw, draw_legend};
use crate::palette;
use crate::schema::{Condition, ConditionRun, ScenarioResult, TimelinePoint};
use plotters::prelude::*;

/// Size of a timeline chart, pixels (width, height).
const SIZE: (u32, u32) = (640, 360);
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);
const MIB: f64 = 1024.0 * 1024.0;

/// What a timeline chart plots from each sample.
struct Plot {
    what: &'static str,
    y_desc: &'static str,
    value: fn(&TimelinePoint) -> Option<f64>,
    mark_kills: bool,
}

/// Memory charged to each sandbox (`memory.current`, MiB) over time, with a
/// cross at every OOM kill the kernel log timed.
///
/// # Errors
/// When no round has a timeline, or plotters fails.
pub(crate) fn memory(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    chart(
        scenario,
        &Plot {
            what: "Memory charged per sandbox",
            y_desc: "memory.current (MiB)",
            value: |p| p.memory.current_bytes.map(|b| b as f64 / MIB),
            mark_kills: true,
        },
    )
}

/// Picks one kind of memory (bytes) from a sample.
type KindOf = fn(&TimelinePoint) -> Option<u64>;

/// One line of a memory-by-kind chart: label, colour, dashed (aggressor), points (t s, MiB).
type KindLine = (String, (u8, u8, u8), bool, Vec<(f64, f64)>);

/// Okabe–Ito colours of the kinds of memory, apart from the conditions' colours.
const KINDS: [(&str, (u8, u8, u8), KindOf); 3] = [
    ("anon", (0xCC, 0x79, 0xA7), |p| p.memory.anon_bytes),
    ("file", (0x56, 0xB4, 0xE9), |p| p.memory.file_bytes),
    ("shmem", (0xE6, 0x9F, 0x00), |p| p.memory.shmem_bytes),
];

/// Memory of each sandbox by kind (anon, file, shmem; MiB) over one condition
/// of the round shown, victim solid, aggressor dashed; kinds that stay at 0 are left out.
///
/// # Errors
/// When the round has no timeline for `condition`, or plotters fails.
pub(crate) fn by_kind(scenario: &ScenarioResult, condition: Condition) -> Result<Chart, NotDrawn> {
    let (index, runs) = last_round(scenario).ok_or("no round recorded a timeline")?;
    let run = runs
        .iter()
        .find(|r| r.condition == condition)
        .ok_or_else(|| format!("round {index} has no {condition} timeline"))?;
    let memory = run.memory.as_ref().expect("filtered above");
    let mut lines: Vec<KindLine> = Vec::new();
    for (i, account) in memory.sandboxes.iter().enumerate() {
        for (kind, rgb, pick) in KINDS {
            let points: Vec<(f64, f64)> = memory
                .timeline
                .iter()
                .filter_map(|s| Some((s.t_s, pick(s.sandboxes.get(i)?)? as f64 / MIB)))
                .collect();
            if points.iter().any(|p| p.1 > 0.0) {
                lines.push((
                    format!("{} {kind}", account.sandbox),
                    rgb,
                    account.sandbox != "victim",
                    points,
                ));
            }
        }
    }
    if lines.is_empty() {
        return Err(format!(
            "no {condition} sample of round {index} split memory by kind"
        ));
    }
    let all = || lines.iter().flat_map(|l| l.3.iter());
    let x_end = all().map(|p| p.0).fold(0.0, f64::max).max(0.1);
    let y_end = all().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.3;
    let title = format!(
        "Memory by kind, {condition} condition, scenario {}, round {index}",
        scenario.name
    );
    draw((480, 320), &title, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .caption(format!("{condition}"), LABEL_FONT)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)?;
        chart
            .configure_mesh()
            .x_desc("time since the victim started (s)")
            .y_desc("MiB")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (label, rgb, dashed, points) in &lines {
            let c = colour(*rgb);
            let style = c.stroke_width(2);
            let series = if *dashed {
                chart.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))?
            } else {
                chart.draw_series(LineSeries::new(points.iter().copied(), style))?
            };
            let dashed = *dashed;
            series.label(label.as_str()).legend(move |(x, y)| {
                let end = if dashed { x + 8 } else { x + 20 };
                PathElement::new(vec![(x, y), (end, y)], c.stroke_width(2))
            });
        }
        draw_legend(&mut chart)
    })
}

/// Memory PSI `full` of each sandbox (share of each interval, %) over time.
///
/// # Errors
/// When no round has a timeline with PSI, or plotters fails.
pub(crate) fn psi_full(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    chart(
        scenario,
        &Plot {
            what: "Memory PSI full per sandbox",
            y_desc: "memory PSI full (% of time)",
            value: |p| p.psi_memory_full.map(|s| s * 100.0),
            mark_kills: false,
        },
    )
}

/// The runs of the last round that has every condition's memory figures.
fn last_round(scenario: &ScenarioResult) -> Option<(usize, Vec<&ConditionRun>)> {
    scenario.rounds.iter().rev().find_map(|r| {
        let runs: Vec<&ConditionRun> = r
            .conditions
            .iter()
            .filter(|c| c.memory.as_ref().is_some_and(|m| !m.timeline.is_empty()))
            .collect();
        (!runs.is_empty() && runs.len() == r.conditions.len()).then_some((r.index, runs))
    })
}

/// One line: condition run, sandbox name, points (t s, y).
type Line<'a> = (&'a ConditionRun, &'a str, Vec<(f64, f64)>);

fn chart(scenario: &ScenarioResult, plot: &Plot) -> Result<Chart, NotDrawn> {
    let (index, runs) = last_round(scenario).ok_or("no round recorded a timeline")?;
    let mut lines: Vec<Line<'_>> = Vec::new();
    for run in &runs {
        let memory = run.memory.as_ref().expect("filtered above");
        for (i, account) in memory.sandboxes.iter().enumerate() {
            let points: Vec<(f64, f64)> = memory
                .timeline
                .iter()
                .filter_map(|s| Some((s.t_s, (plot.value)(s.sandboxes.get(i)?)?)))
                .collect();
            if !points.is_empty() {
                lines.push((run, &account.sandbox, points));
            }
        }
    }
    if lines.is_empty() {
        return Err(format!("no sample of round {index} had a value to plot"));
    }
    let all = || lines.iter().flat_map(|(.., p)| p.iter());
    let x_end = all().map(|p| p.0).fold(0.0, f64::max).max(0.1);
    let y_end = all().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.3;
    let title = format!("{}, scenario {}, round {index}", plot.what, scenario.name);
    draw(SIZE, &title, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)?;
        chart
            .configure_mesh()
            .x_desc("time since the victim started (s)")
            .y_desc(plot.y_desc)
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (run, sandbox, points) in &lines {
            let c = colour(palette::rgb(run.condition));
            let label = format!("{} {sandbox}", run.condition);
            let style = c.stroke_width(2);
            let series = if *sandbox == "victim" {
                chart.draw_series(LineSeries::new(points.iter().copied(), style))?
            } else {
                chart.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))?
            };
            let dashed = *sandbox != "victim";
            series.label(label).legend(move |(x, y)| {
                let end = if dashed { x + 8 } else { x + 20 };
                PathElement::new(vec![(x, y), (end, y)], c.stroke_width(2))
            });
        }
        if plot.mark_kills {
            let kills: Vec<(f64, f64, RGBColor)> = runs
                .iter()
                .flat_map(|run| {
                    let m = run.memory.as_ref().expect("filtered above");
                    m.oom_kills.iter().filter_map(move |k| {
                        let t = k.t_s?.clamp(0.0, x_end);
                        Some((t, y_end * 0.05, colour(palette::rgb(run.condition))))
                    })
                })
                .collect();
            if !kills.is_empty() {
                chart
                    .draw_series(
                        kills
                            .iter()
                            .map(|&(t, y, c)| Cross::new((t, y), 7, c.stroke_width(3))),
                    )?
                    .label("OOM kill")
                    .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(2)));
            }
        }
        draw_legend(&mut chart)
    })
}
