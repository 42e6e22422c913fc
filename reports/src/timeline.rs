//! Timeline charts of the memory scenarios over one round's conditions: each
//! sandbox's memory use, its memory by kind, and its memory PSI `some` and
//! `full`; OOM kills are marked on every memory chart.
//!
//! The round shown is the last complete one (all conditions), so every line
//! comes from the same round; each condition keeps its
//! [`palette`](crate::palette) colour. Legends sit below the charts
//! ([`legend`](crate::legend)), never over the lines.

use crate::charts::{Chart, NotDrawn, colour, draw};
use crate::legend::{BAND_OPACITY, BAND_WIDTH, Entry, Glyph};
use crate::palette;
use crate::schema::{Condition, ConditionRun, ScenarioResult, TimelinePoint};
use plotters::prelude::*;

/// Size of the memory-charged chart, pixels (width, height), legend apart.
const MEMORY_SIZE: (u32, u32) = (1120, 340);
/// Size of one memory-by-kind chart (three side by side).
const BY_KIND_SIZE: (u32, u32) = (372, 300);
/// Size of one PSI chart (one per sandbox, side by side).
const PSI_SIZE: (u32, u32) = (560, 300);
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);
const HEADING_FONT: (&str, u32) = ("sans-serif", 18);
const MIB: f64 = 1024.0 * 1024.0;
/// Legend label of the OOM kill cross.
const OOM_KILL: &str = "OOM kill";

/// How a line is stroked.
#[derive(Clone, Copy, PartialEq)]
enum Stroke {
    Solid,
    Dashed,
    /// Wide and pale, under the solid lines.
    Band,
}

/// One line of a timeline: colour, stroke, points (t s, y).
struct Line {
    rgb: (u8, u8, u8),
    stroke: Stroke,
    points: Vec<(f64, f64)>,
}

impl Line {
    fn entry(&self, label: impl Into<String>) -> Entry {
        let rgb = self.rgb;
        let glyph = match self.stroke {
            Stroke::Solid => Glyph::Line { rgb, dashed: false },
            Stroke::Dashed => Glyph::Line { rgb, dashed: true },
            Stroke::Band => Glyph::Band(rgb),
        };
        Entry::new(label, glyph)
    }
}

/// Victims solid, every other sandbox dashed.
fn sandbox_stroke(sandbox: &str) -> Stroke {
    if sandbox == "victim" {
        Stroke::Solid
    } else {
        Stroke::Dashed
    }
}

/// An OOM kill to mark: seconds since the timeline started, and its condition's colour.
type Kill = (f64, (u8, u8, u8));

/// A timeline chart, ready to draw.
struct Timeline<'a> {
    size: (u32, u32),
    /// The SVG `<title>`.
    title: String,
    /// A heading drawn above the plot, for charts shown side by side.
    heading: Option<String>,
    y_desc: &'a str,
    /// Top of the y axis; the x axis spans every line and kill.
    y_end: f64,
    lines: Vec<Line>,
    kills: Vec<Kill>,
    /// Groups of legend entries, each starting a row.
    legend: Vec<Vec<Entry>>,
}

/// Memory charged to each sandbox (`memory.current`, MiB) over time, victims
/// solid and aggressors dashed, with a cross at every OOM kill the kernel log timed.
///
/// # Errors
/// When no round has a timeline, or plotters fails.
pub(crate) fn memory(scenario: &ScenarioResult) -> Result<Chart, NotDrawn> {
    let (index, runs) = last_round(scenario).ok_or("no round recorded a timeline")?;
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    let names = sandboxes(&runs);
    for run in &runs {
        for sandbox in &names {
            let Some(points) = series(run, sandbox, |p| {
                p.memory.current_bytes.map(|b| b as f64 / MIB)
            }) else {
                continue;
            };
            let line = Line {
                rgb: palette::rgb(run.condition),
                stroke: sandbox_stroke(sandbox),
                points,
            };
            legend.push(line.entry(format!("{} {sandbox}", run.condition)));
            lines.push(line);
        }
    }
    if lines.is_empty() {
        return Err(format!("no sample of round {index} had a memory charge"));
    }
    let kills = kills(&runs);
    legend.extend(kill_entry(&kills));
    let legend = vec![legend];
    plot(Timeline {
        size: MEMORY_SIZE,
        title: format!(
            "Memory charged per sandbox, scenario {}, round {index}",
            scenario.name
        ),
        heading: None,
        y_desc: "memory.current (MiB)",
        y_end: top(&lines, 1.0),
        lines,
        kills,
        legend,
    })
}

/// Picks one kind of memory (bytes) from a sample.
type KindOf = fn(&TimelinePoint) -> Option<u64>;

/// Okabe–Ito colours of the kinds of memory, apart from the conditions' colours.
const KINDS: [(&str, (u8, u8, u8), KindOf); 3] = [
    ("anon", (0xCC, 0x79, 0xA7), |p| p.memory.anon_bytes),
    ("file", (0x56, 0xB4, 0xE9), |p| p.memory.file_bytes),
    ("shmem", (0xE6, 0x9F, 0x00), |p| p.memory.shmem_bytes),
];

/// Memory of each sandbox by kind (anon, file, shmem; MiB) over one condition
/// of the round shown, victim solid, aggressor dashed, OOM kills of that
/// condition marked; kinds that stay at 0 are left out.
///
/// # Errors
/// When the round has no timeline for `condition`, or plotters fails.
pub(crate) fn by_kind(scenario: &ScenarioResult, condition: Condition) -> Result<Chart, NotDrawn> {
    let (index, runs) = last_round(scenario).ok_or("no round recorded a timeline")?;
    let run = *runs
        .iter()
        .find(|r| r.condition == condition)
        .ok_or_else(|| format!("round {index} has no {condition} timeline"))?;
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for sandbox in sandboxes(&[run]) {
        for (kind, rgb, pick) in KINDS {
            let Some(points) = series(run, &sandbox, |p| pick(p).map(|b| b as f64 / MIB)) else {
                continue;
            };
            if points.iter().any(|p| p.1 > 0.0) {
                let line = Line {
                    rgb,
                    stroke: sandbox_stroke(&sandbox),
                    points,
                };
                legend.push(line.entry(format!("{sandbox} {kind}")));
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        return Err(format!(
            "no {condition} sample of round {index} split memory by kind"
        ));
    }
    let kills = kills(&[run]);
    legend.extend(kill_entry(&kills));
    let legend = vec![legend];
    plot(Timeline {
        size: BY_KIND_SIZE,
        title: format!(
            "Memory by kind, {condition} condition, scenario {}, round {index}",
            scenario.name
        ),
        heading: Some(format!("{condition}")),
        y_desc: "MiB",
        y_end: top(&lines, 1.0),
        lines,
        kills,
        legend,
    })
}

/// Index of the round the timelines show: the last with every condition's timeline.
pub(crate) fn shown_round(scenario: &ScenarioResult) -> Option<usize> {
    last_round(scenario).map(|(index, _)| index)
}

/// The sandboxes that have memory PSI charts: every sandbox of the round shown,
/// victim first.
pub(crate) fn psi_sandboxes(scenario: &ScenarioResult) -> Vec<String> {
    last_round(scenario).map_or_else(Vec::new, |(_, runs)| sandboxes(&runs))
}

/// Memory PSI of `sandbox` over the round shown (share of each sample
/// interval, %): one colour per condition, `full` a solid line, `some` a wide
/// pale band under it (so that it still shows where the two are equal). Every
/// sandbox's chart has the same y axis, so they compare at a glance.
///
/// # Errors
/// When the round sampled no PSI for `sandbox`, or plotters fails.
pub(crate) fn psi(scenario: &ScenarioResult, sandbox: &str) -> Result<Chart, NotDrawn> {
    let (index, runs) = last_round(scenario).ok_or("no round recorded a timeline")?;
    let some: fn(&TimelinePoint) -> Option<f64> = |p| p.psi_memory_some.map(|s| s * 100.0);
    let full: fn(&TimelinePoint) -> Option<f64> = |p| p.psi_memory_full.map(|s| s * 100.0);
    let (mut bands, mut lines) = (Vec::new(), Vec::new());
    let mut conditions = Vec::new();
    for run in &runs {
        let rgb = palette::rgb(run.condition);
        let band = series(run, sandbox, some).map(|points| Line {
            rgb,
            stroke: Stroke::Band,
            points,
        });
        let line = series(run, sandbox, full).map(|points| Line {
            rgb,
            stroke: Stroke::Solid,
            points,
        });
        if band.is_some() || line.is_some() {
            conditions.push(Entry::new(
                run.condition.as_str(),
                Glyph::Line { rgb, dashed: false },
            ));
        }
        bands.extend(band);
        lines.extend(line);
    }
    if bands.is_empty() && lines.is_empty() {
        return Err(format!(
            "no memory PSI of the {sandbox} was sampled in round {index}"
        ));
    }
    // Bands first, so that every solid line is drawn over them.
    bands.append(&mut lines);
    let lines = bands;
    let black = palette::BLACK;
    let legend = vec![
        conditions,
        vec![
            Entry::new(
                "full: all tasks stalled",
                Glyph::Line {
                    rgb: black,
                    dashed: false,
                },
            ),
            Entry::new("some: at least one stalled", Glyph::Band(black)),
        ],
    ];
    // The same scale for every sandbox: the highest `some` of the round.
    let highest = runs
        .iter()
        .flat_map(|&run| sandboxes(&[run]).into_iter().map(move |s| (run, s)))
        .filter_map(|(run, s)| series(run, &s, some))
        .flatten()
        .map(|p| p.1)
        .fold(0.0, f64::max);
    plot(Timeline {
        size: PSI_SIZE,
        title: format!(
            "Memory PSI some and full of the {sandbox}, scenario {}, round {index}",
            scenario.name
        ),
        heading: Some(sandbox.to_owned()),
        y_desc: "memory PSI (% of time)",
        y_end: (highest * 1.1).max(top(&lines, 1.0)).min(100.0),
        lines,
        kills: Vec::new(),
        legend,
    })
}

/// The runs of the last round that has every condition's memory figures, in
/// the order of [`Condition::ALL`] (not the order run), with that round's index.
fn last_round(scenario: &ScenarioResult) -> Option<(usize, Vec<&ConditionRun>)> {
    scenario.rounds.iter().rev().find_map(|r| {
        let mut runs: Vec<&ConditionRun> = r
            .conditions
            .iter()
            .filter(|c| c.memory.as_ref().is_some_and(|m| !m.timeline.is_empty()))
            .collect();
        runs.sort_by_key(|run| run.condition);
        (!runs.is_empty() && runs.len() == r.conditions.len()).then_some((r.index, runs))
    })
}

/// Every sandbox name of `runs`, victim first, then in the order first seen.
fn sandboxes(runs: &[&ConditionRun]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for run in runs {
        for account in run.memory.iter().flat_map(|m| &m.sandboxes) {
            if !names.contains(&account.sandbox) {
                names.push(account.sandbox.clone());
            }
        }
    }
    names.sort_by_key(|n| n != "victim");
    names
}

/// The points (t s, value) of `sandbox` in `run`'s timeline, or `None` when
/// the run has no such sandbox or no sample has a value.
fn series(
    run: &ConditionRun,
    sandbox: &str,
    value: impl Fn(&TimelinePoint) -> Option<f64>,
) -> Option<Vec<(f64, f64)>> {
    let memory = run.memory.as_ref()?;
    let i = memory.sandboxes.iter().position(|a| a.sandbox == sandbox)?;
    let points: Vec<(f64, f64)> = memory
        .timeline
        .iter()
        .filter_map(|s| Some((s.t_s, value(s.sandboxes.get(i)?)?)))
        .collect();
    (!points.is_empty()).then_some(points)
}

/// Every timed OOM kill of `runs`, in its condition's colour.
fn kills(runs: &[&ConditionRun]) -> Vec<Kill> {
    runs.iter()
        .flat_map(|run| {
            let rgb = palette::rgb(run.condition);
            run.memory
                .iter()
                .flat_map(|m| &m.oom_kills)
                .filter_map(move |k| Some((k.t_s?, rgb)))
        })
        .collect()
}

/// The legend entry of the kill crosses, when there are any: in their
/// condition's colour when they share one, black otherwise.
fn kill_entry(kills: &[Kill]) -> Option<Entry> {
    let (_, first) = kills.first()?;
    let rgb = if kills.iter().all(|(_, c)| c == first) {
        *first
    } else {
        palette::BLACK
    };
    Some(Entry::new(OOM_KILL, Glyph::Cross(rgb)))
}

/// A top for the y axis a little above the highest point, at least `floor`.
fn top(lines: &[Line], floor: f64) -> f64 {
    let highest = lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    (highest * 1.1).max(floor)
}

/// Decimals that tell the ticks of a `0..end` axis apart.
fn decimals(end: f64) -> usize {
    if end >= 10.0 {
        0
    } else if end >= 1.0 {
        1
    } else {
        2
    }
}

fn plot(t: Timeline<'_>) -> Result<Chart, NotDrawn> {
    let x_end = t
        .lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|p| p.0)
        .chain(t.kills.iter().map(|k| k.0))
        .fold(0.0, f64::max)
        .max(0.1);
    let (x_decimals, y_decimals) = (decimals(x_end), decimals(t.y_end));
    draw(t.size, &t.title, &t.legend, |root| {
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin(14)
            .margin_right(22)
            .x_label_area_size(46)
            .y_label_area_size(68);
        if let Some(heading) = &t.heading {
            builder.caption(heading, HEADING_FONT);
        }
        let mut chart = builder.build_cartesian_2d(0.0..x_end, 0.0..t.y_end)?;
        chart
            .configure_mesh()
            .x_desc("time since the victim started (s)")
            .y_desc(t.y_desc)
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .x_labels(if t.size.0 < 400 { 6 } else { 10 })
            .x_label_formatter(&|x| format!("{x:.x_decimals$}"))
            .y_label_formatter(&|y| format!("{y:.y_decimals$}"))
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for line in &t.lines {
            let style = colour(line.rgb).stroke_width(2);
            let points = line.points.iter().copied();
            match line.stroke {
                Stroke::Solid => chart.draw_series(LineSeries::new(points, style))?,
                Stroke::Dashed => chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?,
                Stroke::Band => chart.draw_series(LineSeries::new(
                    points,
                    colour(line.rgb).mix(BAND_OPACITY).stroke_width(BAND_WIDTH),
                ))?,
            };
        }
        // Kills before the first sample (an aggressor killed while the victim
        // started) are drawn at 0, near the bottom so the lines stay visible.
        chart.draw_series(t.kills.iter().map(|&(t_s, rgb)| {
            Cross::new(
                (t_s.clamp(0.0, x_end), t.y_end * 0.05),
                7,
                colour(rgb).stroke_width(3),
            )
        }))?;
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}
