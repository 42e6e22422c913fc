//! The startup part of a scenario section: start latency per variant, the
//! phase breakdown of each sandbox variant as stacked bars, and tables of the
//! distributions, churn and flags.

use crate::charts::{Chart, NotDrawn, Ticked, colour, draw, one_two_five};
use crate::escape::html as esc;
use crate::format;
use crate::legend::{Entry, Glyph};
use crate::palette;
use crate::schema::{Percentiles, ScenarioResult, StartupDetail};
use crate::startup_runtimes::{self, SANDBOX, SANDBOX_NET, is_runtime};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

const LABEL_FONT: (&str, u32) = ("sans-serif", 15);
const AXIS_FONT: (&str, u32) = ("sans-serif", 17);

/// Okabe–Ito colours for the phases, in the order they are taken.
const PHASE_COLOURS: [(u8, u8, u8); 7] = [
    (0xE6, 0x9F, 0x00),
    (0x56, 0xB4, 0xE9),
    (0x00, 0x9E, 0x73),
    (0xF0, 0xE4, 0x42),
    (0x00, 0x72, 0xB2),
    (0xD5, 0x5E, 0x00),
    (0xCC, 0x79, 0xA7),
];

const PERCENTILES_CAPTION: &str = "Start latency per variant, from the request to the probe's first \
     instruction in main: bar to the median, whisker to p99. Lower is better; the sandbox bars against \
     fork_exec are the cost of isolation. Unit: µs, ms as labelled (log scale).";

const EXIT_CAPTION: &str = "Whole starts, from the request to the exit (the process reaped; for isobench's \
     sandboxes also its cgroup removed), as hyperfine times a whole process: isobench's own (blue) beside the \
     runtimes found on the host (orange), each starting the same static probe. Bar to the median, whisker to \
     p99. Lower is better. Unit: µs, ms as labelled (log scale).";

const PHASES_CAPTION: &str = "Where a sandbox's start and teardown go: the median of each phase, \
     stacked (medians do not add up to the median total). Lower is better. Unit: µs.";

/// The charts and tables, or nothing when the scenario has no startup detail.
pub(crate) fn section(
    scenario: &ScenarioResult,
    figure: impl Fn(Result<Chart, NotDrawn>, &str) -> String,
) -> String {
    let Some(detail) = &scenario.startup else {
        return String::new();
    };
    let mut out = String::from("<div class=\"charts\">\n");
    out.push_str(&figure(
        percentiles_chart(scenario, detail),
        PERCENTILES_CAPTION,
    ));
    if !detail.runtimes.is_empty() {
        out.push_str(&figure(exit_chart(scenario, detail), EXIT_CAPTION));
    }
    out.push_str(&figure(phases_chart(scenario, detail), PHASES_CAPTION));
    out.push_str("</div>\n");
    out.push_str(&tables(detail));
    out.push_str(&startup_runtimes::html(scenario));
    out
}

/// isobench's own bars.
const OWN: (u8, u8, u8) = (0x00, 0x72, 0xB2);
/// An external runtime's bars.
const RUNTIME: (u8, u8, u8) = (0xE6, 0x9F, 0x00);

/// One row of a latency chart: its name, its distribution, and whether an external runtime drew it.
type Row<'a> = (&'a str, Percentiles, bool);

fn percentiles_chart(scenario: &ScenarioResult, d: &StartupDetail) -> Result<Chart, NotDrawn> {
    let rows: Vec<Row<'_>> = d
        .variants
        .iter()
        .filter_map(|v| Some((v.name.as_str(), v.start?, is_runtime(v))))
        .collect();
    bars(
        &format!("Start latency per variant, scenario {}", scenario.name),
        "µs from request to first instruction (log)",
        &rows,
    )
}

/// The baselines, the headline sandbox with and without net, and every runtime, to their exit.
fn exit_chart(scenario: &ScenarioResult, d: &StartupDetail) -> Result<Chart, NotDrawn> {
    let rows: Vec<Row<'_>> = d
        .variants
        .iter()
        .filter(|v| {
            is_runtime(v)
                || [SANDBOX, SANDBOX_NET].contains(&v.name.as_str())
                || !v.method.get("method").is_some_and(|m| {
                    m.as_str()
                        .is_some_and(|m| ["sandbox", "join_net", "into_cgroup"].contains(&m))
                })
        })
        .filter_map(|v| Some((v.name.as_str(), v.exit?, is_runtime(v))))
        .collect();
    bars(
        &format!(
            "Request to exit: isobench beside the runtimes, scenario {}",
            scenario.name
        ),
        "µs from request to exit (log)",
        &rows,
    )
}

/// Horizontal bars to each row's p50 with a whisker to its p99, log x axis.
fn bars(title: &str, x_desc: &str, rows: &[Row<'_>]) -> Result<Chart, NotDrawn> {
    if rows.is_empty() {
        return Err("no variant could be measured".into());
    }
    let lo = rows.iter().map(|r| r.1.p50_us).fold(f64::MAX, f64::min) / 2.0;
    let hi = rows.iter().map(|r| r.1.p99_us).fold(0.0, f64::max) * 1.5;
    let n = rows.len();
    let mut entries = vec![Entry::new("p50", Glyph::Swatch(OWN))];
    if rows.iter().any(|r| r.2) {
        entries = vec![
            Entry::new("isobench p50", Glyph::Swatch(OWN)),
            Entry::new("runtime p50", Glyph::Swatch(RUNTIME)),
        ];
    }
    entries.push(Entry::new(
        "to p99",
        Glyph::Line {
            rgb: palette::BLACK,
            dashed: false,
        },
    ));
    let legend = [entries];
    draw((720, 60 + 28 * n as u32), title, &legend, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(170)
            .build_cartesian_2d(
                Ticked::new(
                    LogCoord::from((lo.max(1.0)..hi.max(2.0)).log_scale()),
                    one_two_five(lo.max(1.0), hi.max(2.0)),
                ),
                RangedCoordf64::from(-0.5..n as f64 - 0.5),
            )?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .y_labels(n)
            .y_label_formatter(&|y| row_label(rows, *y, |r| r.0))
            .x_label_formatter(&|x| format::latency_label(*x))
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, p, runtime))| {
            let y = (n - 1 - i) as f64;
            let c = colour(if *runtime { RUNTIME } else { OWN });
            Rectangle::new([(lo.max(1.0), y - 0.3), (p.p50_us, y + 0.3)], c.filled())
        }))?;
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, p, _))| {
            let y = (n - 1 - i) as f64;
            PathElement::new(vec![(p.p50_us, y), (p.p99_us, y)], BLACK.stroke_width(2))
        }))?;
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}

fn phases_chart(scenario: &ScenarioResult, d: &StartupDetail) -> Result<Chart, NotDrawn> {
    let rows: Vec<(&str, Vec<(&str, f64)>)> = d
        .variants
        .iter()
        .filter(|v| v.phases.len() > 3)
        .map(|v| {
            (
                v.name.as_str(),
                v.phases
                    .iter()
                    .map(|p| (p.name.as_str(), p.latency.p50_us))
                    .collect(),
            )
        })
        .collect();
    if rows.is_empty() {
        return Err("no sandbox variant was measured".into());
    }
    // Every phase any row has, in the order rows take them (a waiting clone has
    // clone/attach/release, a self-attaching one has not).
    let mut names: Vec<&str> = Vec::new();
    for (_, phases) in &rows {
        for (i, (name, _)) in phases.iter().enumerate() {
            if !names.contains(name) {
                let after = phases[..i]
                    .iter()
                    .filter_map(|(n, _)| names.iter().position(|m| m == n))
                    .max();
                names.insert(after.map_or(0, |a| a + 1), name);
            }
        }
    }
    let n = rows.len();
    let top = rows
        .iter()
        .map(|r| r.1.iter().map(|p| p.1).sum::<f64>())
        .fold(0.0, f64::max)
        * 1.05;
    let title = format!(
        "Phases of a sandbox's start and teardown, scenario {}",
        scenario.name
    );
    let phase_colour = |k: usize| PHASE_COLOURS[k % PHASE_COLOURS.len()];
    let legend = [names
        .iter()
        .enumerate()
        .map(|(k, phase)| Entry::new(*phase, Glyph::Swatch(phase_colour(k))))
        .collect::<Vec<_>>()];
    draw((720, 90 + 28 * n as u32), &title, &legend, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..top.max(1.0), -0.5..n as f64 - 0.5)?;
        chart
            .configure_mesh()
            .x_desc("median µs per phase, stacked")
            .axis_desc_style(AXIS_FONT)
            .label_style(LABEL_FONT)
            .y_labels(n)
            .y_label_formatter(&|y| row_label(&rows, *y, |r| r.0))
            .x_label_formatter(&|x| format::latency_label(*x))
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (k, phase) in names.iter().enumerate() {
            let c = colour(phase_colour(k));
            chart.draw_series(rows.iter().enumerate().filter_map(|(i, (_, phases))| {
                let y = (n - 1 - i) as f64;
                let at = phases.iter().position(|p| p.0 == *phase)?;
                let start: f64 = phases.iter().take(at).map(|p| p.1).sum();
                let (_, width) = phases[at];
                Some(Rectangle::new(
                    [(start, y - 0.3), (start + width, y + 0.3)],
                    c.filled(),
                ))
            }))?;
        }
        Ok::<(), DrawingAreaErrorKind<_>>(())
    })
}

/// The name of the row drawn at `y` (rows run top to bottom), or nothing between rows.
fn row_label<T>(rows: &[T], y: f64, name: impl Fn(&T) -> &str) -> String {
    let i = y.round();
    if (y - i).abs() > 0.01 || i < 0.0 {
        return String::new();
    }
    rows.len()
        .checked_sub(1 + i as usize)
        .and_then(|k| rows.get(k))
        .map_or_else(String::new, |r| name(r).to_owned())
}

fn tables(d: &StartupDetail) -> String {
    let ms = |v: f64| esc(&format::latency_us(v));
    let rows: String = d
        .variants
        .iter()
        .map(|v| match (&v.start, &v.teardown) {
            (Some(s), teardown) => format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                esc(&v.name),
                s.count,
                ms(s.p50_us),
                ms(s.p90_us),
                ms(s.p99_us),
                ms(s.p999_us),
                ms(s.max_us),
                teardown.map_or_else(|| esc(&format::unavailable(None)), |t| ms(t.p99_us)),
            ),
            (None, _) => format!(
                "<tr><td><code>{}</code></td><td colspan=\"7\" class=\"unavailable\">{}</td></tr>\n",
                esc(&v.name),
                esc(&format::unavailable(v.unavailable.as_deref()))
            ),
        })
        .collect();
    let churn: String = d
        .churn
        .iter()
        .map(|c| {
            let phases: Vec<String> = c
                .phases
                .iter()
                .map(|p| format!("{} {}", p.name, format::latency_us(p.mean_us)))
                .collect();
            format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                esc(&c.variant),
                c.starters,
                c.per_s.map_or_else(
                    || esc(&format::unavailable(c.unavailable.as_deref())),
                    format::per_second
                ),
                esc(&phases.join(" · "))
            )
        })
        .collect();
    let tails: String = d
        .variants
        .iter()
        .filter_map(|v| Some((v, v.tail.as_ref()?)))
        .map(|(v, t)| {
            let phases: Vec<String> = t
                .phases
                .iter()
                .map(|p| {
                    let text = format!(
                        "{} {} → {}",
                        p.name,
                        format::latency_us(p.p50_us),
                        format::latency_us(p.tail_mean_us)
                    );
                    if p.name == t.owner {
                        format!("<strong>{}</strong>", esc(&text))
                    } else {
                        esc(&text)
                    }
                })
                .collect();
            format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{} of {}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                esc(&v.name),
                t.starts,
                t.of_starts,
                ms(t.p50_us),
                ms(t.from_us),
                ms(t.mean_us),
                phases.join(" · ")
            )
        })
        .collect();
    let flags: String = d
        .flags
        .iter()
        .map(|f| format!("<li>{}</li>\n", esc(f)))
        .collect();
    format!(
        "<table class=\"startup\">\n<caption>Start latency per variant over every round (from the request to \
         the probe's first instruction), and teardown p99 (first instruction until reaped and its cgroup \
         removed). Attach: {}.</caption>\n<thead><tr><th>variant</th><th>starts</th><th>p50</th><th>p90</th>\
         <th>p99</th><th>p99.9</th><th>max</th><th>teardown p99</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <table class=\"tail\">\n<caption>Where the slowest 1 % of starts went, from each start's own stamps: \
         each phase's median over all starts → its mean in the tail; the phase that grows most (bold) owns \
         the tail.</caption>\n<thead><tr><th>variant</th><th>tail starts</th><th>p50</th><th>tail from</th>\
         <th>tail mean</th><th>phases: p50 → tail mean</th></tr></thead>\n<tbody>\n{tails}</tbody>\n</table>\n\
         <table class=\"churn\">\n<caption>Churn: sandboxes started and torn down per second (higher is better); \
         each starter hands its sandboxes to a reaper thread of its own; phases: mean per sandbox.\
         </caption>\n<thead><tr><th>variant</th><th>starters</th><th>rate</th><th>phases (mean)</th></tr></thead>\n\
         <tbody>\n{churn}</tbody>\n</table>\n{}",
        esc(&d.attach),
        if flags.is_empty() {
            String::new()
        } else {
            format!("<ul class=\"warnings\">\n{flags}</ul>\n")
        }
    )
}
