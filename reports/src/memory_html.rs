//! The memory part of a scenario section: timeline charts (memory charged,
//! memory by kind per condition, memory PSI some and full per sandbox), and one
//! table of each sandbox's memory account, PSI and perf counters for the round
//! the charts show. A figure that could not be measured reads `unavailable (reason)`.

use crate::charts::{Chart, NotDrawn};
use crate::escape::html as esc;
use crate::format;
use crate::schema::{Condition, MemoryAccount, PerfCount, PsiFigure, Round, ScenarioResult};
use crate::timeline;

/// What the memory timeline shows.
const MEMORY_CAPTION: &str = "Memory charged to each sandbox over one round (the last complete \
     one): one colour per condition, victims solid, aggressors dashed; crosses mark OOM kills when \
     the kernel logged them (one before the victim started sits at 0). Better: the victim's line \
     stays level at its working set (a drop is its memory reclaimed) and the isolated aggressor's \
     stays under its limit. Unit: MiB.";

/// What a memory-by-kind timeline shows, after its condition's name.
const BY_KIND_CAPTION: &str = "condition, same round: victim solid, aggressor dashed, crosses \
     for this condition's OOM kills. Only swap can reclaim anon; reclaim takes file (page cache, \
     shmem included) first. Better: the victim's lines stay level, as in solo; a falling victim \
     file line is its working set evicted. Unit: MiB.";

/// What a PSI timeline shows, after the sandbox's name and the sample interval.
const PSI_CAPTION: &str = "one colour per condition: full (thin line) is the share of each \
     interval in which all of its tasks stalled on memory, some (pale band) the share in which at \
     least one did. Same scale for every sandbox. Lower is better; an isolated victim near solo \
     means the sandbox kept the pressure out. Unit: % of time.";

/// The charts and the account table, or nothing when no round has memory figures.
pub(crate) fn section(
    scenario: &ScenarioResult,
    figure: impl Fn(Result<Chart, NotDrawn>, &str) -> String,
) -> String {
    if !scenario
        .rounds
        .iter()
        .flat_map(|r| &r.conditions)
        .any(|c| c.memory.is_some())
    {
        return String::new();
    }
    let mut out = String::from("<div class=\"charts\">\n");
    out.push_str(&figure(timeline::memory(scenario), MEMORY_CAPTION));
    out.push_str("</div>\n<div class=\"charts\">\n");
    for condition in Condition::ALL {
        out.push_str(&figure(
            timeline::by_kind(scenario, condition),
            &format!("Memory by kind, {condition} {BY_KIND_CAPTION}"),
        ));
    }
    out.push_str("</div>\n<div class=\"charts\">\n");
    let interval = sample_interval_ms(scenario);
    let psi: Vec<(String, Result<Chart, NotDrawn>)> = timeline::psi_sandboxes(scenario)
        .into_iter()
        .map(|sandbox| {
            let chart = timeline::psi(scenario, &sandbox);
            (sandbox, chart)
        })
        .collect();
    if psi.iter().all(|(_, chart)| chart.is_err()) {
        // One reason for all (e.g. PSI disabled), not one per sandbox.
        let round = timeline::shown_round(scenario)
            .map_or_else(|| "the round shown".into(), |i| format!("round {i}"));
        out.push_str(&figure(
            Err(format!(
                "no memory PSI was sampled in {round}; the table below says why"
            )),
            "",
        ));
    } else {
        for (sandbox, chart) in psi {
            out.push_str(&figure(
                chart,
                &format!(
                    "Memory PSI of the {}, same round, sampled every {interval} ms, \
                     {PSI_CAPTION}",
                    esc(&sandbox)
                ),
            ));
        }
    }
    out.push_str("</div>\n");
    out.push_str(&accounts_table(scenario));
    out.push_str(&perf_table(scenario));
    out
}

/// The interval of the memory timeline, ms, as written in the results.
fn sample_interval_ms(scenario: &ScenarioResult) -> String {
    scenario
        .rounds
        .iter()
        .rev()
        .flat_map(|r| &r.conditions)
        .find_map(|c| c.memory.as_ref())
        .map_or_else(
            || "?".into(),
            |m| format!("{:.0}", m.sample_interval_s * 1000.0),
        )
}

fn bytes(b: Option<u64>) -> String {
    b.map_or_else(|| format::unavailable(None), |b| format::bytes(b as f64))
}

fn count(v: Option<u64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| v.to_string())
}

fn psi(figures: &[PsiFigure], resource: &str) -> String {
    match figures.iter().find(|p| p.resource == resource) {
        Some(PsiFigure {
            some: Some(s),
            full,
            ..
        }) => format!(
            "{} / {}",
            format::percent(*s),
            full.map_or("n/a".into(), format::percent)
        ),
        Some(p) => format::unavailable(p.unavailable.as_deref()),
        None => format::unavailable(None),
    }
}

/// One perf count as read: task-clock (ns) in ms, other events as counted.
fn perf_value(event: &str, value: u64) -> String {
    if event == "task-clock" {
        format!("{:.0} ms", value as f64 / 1e6)
    } else {
        value.to_string()
    }
}

/// The last round with every condition's memory figures.
fn shown_round(scenario: &ScenarioResult) -> Option<&Round> {
    scenario
        .rounds
        .iter()
        .rev()
        .find(|r| r.conditions.iter().all(|c| c.memory.is_some()))
}

/// Every (condition, sandbox account) of `round`, conditions in report order.
fn accounts(round: &Round) -> Vec<(Condition, &MemoryAccount)> {
    let mut runs: Vec<_> = round.conditions.iter().collect();
    runs.sort_by_key(|r| r.condition);
    runs.iter()
        .flat_map(|run| {
            run.memory
                .iter()
                .flat_map(|m| &m.sandboxes)
                .map(move |a| (run.condition, a))
        })
        .collect()
}

/// The perf counters of each sandbox of the round shown: one row per event, one
/// column per condition and sandbox. An event that no sandbox could count for
/// the same reason reads `unavailable (reason)` once, across the row.
fn perf_table(scenario: &ScenarioResult) -> String {
    let Some(round) = shown_round(scenario) else {
        return String::new();
    };
    let columns = accounts(round);
    let mut events: Vec<&str> = Vec::new();
    for (_, a) in &columns {
        for p in &a.perf {
            if !events.contains(&p.event.as_str()) {
                events.push(&p.event);
            }
        }
    }
    if events.is_empty() {
        return String::new();
    }
    let head: String = columns
        .iter()
        .map(|(c, a)| {
            format!(
                "<th class=\"num\"><span class=\"swatch cond-{c}\"></span>{c} {}</th>",
                esc(&a.sandbox)
            )
        })
        .collect();
    let mut rows = String::new();
    for event in events {
        let counts: Vec<Option<&PerfCount>> = columns
            .iter()
            .map(|(_, a)| a.perf.iter().find(|p| p.event == event))
            .collect();
        let reasons: Vec<Option<&str>> = counts
            .iter()
            .map(|c| c.and_then(|c| c.unavailable.as_deref()))
            .collect();
        let unmeasured = counts.iter().all(|c| c.is_none_or(|c| c.value.is_none()));
        let cells = if unmeasured && reasons.iter().all(|r| *r == reasons[0]) {
            format!(
                "<td class=\"unavailable\" colspan=\"{}\">{}</td>",
                columns.len(),
                esc(&format::unavailable(reasons[0]))
            )
        } else {
            counts
                .iter()
                .map(|c| match c {
                    Some(PerfCount { value: Some(v), .. }) => {
                        format!("<td class=\"num\">{}</td>", perf_value(event, *v))
                    }
                    Some(p) => format!(
                        "<td class=\"unavailable\">{}</td>",
                        esc(&format::unavailable(p.unavailable.as_deref()))
                    ),
                    None => "<td class=\"unavailable\">not counted</td>".into(),
                })
                .collect()
        };
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td>{cells}</tr>\n",
            esc(event)
        ));
    }
    format!(
        "<table class=\"perf\">\n<caption>perf counters of round {} over each sandbox's life (kernel \
         events included); an event that could not be counted reads unavailable, with the cause.</caption>\n\
         <thead><tr><th>event</th>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        round.index
    )
}

/// One row per condition and sandbox of the last round with memory figures.
fn accounts_table(scenario: &ScenarioResult) -> String {
    let Some(round) = shown_round(scenario) else {
        return String::new();
    };
    let mut runs: Vec<_> = round.conditions.iter().collect();
    runs.sort_by_key(|r| r.condition);
    let mut rows = String::new();
    for run in runs {
        let m = run.memory.as_ref().expect("checked above");
        for a in &m.sandboxes {
            let limits: Vec<String> = a.limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut events = format!(
                "high {}, max {}, oom {}, oom_kill {}",
                count(a.events.high),
                count(a.events.max),
                count(a.events.oom),
                count(a.events.oom_kill)
            );
            if let Some(g) = a.events.oom_group_kill {
                events.push_str(&format!(", oom_group_kill {g}"));
            }
            if let Some(l) = &a.events_local {
                events.push_str(&format!(
                    " (its own limits: max {}, oom_kill {})",
                    count(l.max),
                    count(l.oom_kill)
                ));
            }
            rows.push_str(&format!(
                "<tr><td class=\"nowrap\"><span class=\"swatch cond-{c}\"></span>{c}</td><td>{}</td>\
                 <td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                esc(&a.sandbox),
                esc(&if limits.is_empty() {
                    "none of its own".into()
                } else {
                    limits.join(", ")
                }),
                bytes(a.peak_bytes),
                esc(&events),
                count(a.pgmajfault),
                esc(&psi(&a.psi, "memory")),
                esc(&psi(&a.psi, "cpu")),
                esc(&psi(&a.psi, "io")),
                c = run.condition,
            ));
        }
        let kills: Vec<String> = m
            .oom_kills
            .iter()
            .map(|k| {
                format!(
                    "{} in {} ({}{}{})",
                    k.process.as_deref().unwrap_or("a process"),
                    k.attributed_to,
                    k.source,
                    k.oom_group
                        .as_ref()
                        .map_or(String::new(), |g| format!(", killed with its group {g}")),
                    if k.breach { ", isolation breach" } else { "" }
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td></td><td colspan=\"8\">victim {}; OOM kills: {}; canary {}; system PSI memory {}; \
             sampler {} of a CPU</td></tr>\n",
            esc(&m.victim_fate),
            esc(&if kills.is_empty() { "none".into() } else { kills.join("; ") }),
            if m.canary_survived { "survived" } else { "<strong>died: isolation breach</strong>" },
            esc(&psi(&m.system_psi, "memory")),
            format::percent(m.sampler_cpu_share),
        ));
    }
    format!(
        "<table class=\"memory\">\n<caption>Memory accounts of round {}: limits written, peak charge, \
         memory.events over the condition, major faults and PSI (some / full, share of the victim's \
         life) over the window.</caption>\n<thead><tr><th>condition</th><th>sandbox</th>\
         <th>limits</th><th class=\"num\">peak</th><th>memory.events</th><th class=\"num\">major faults</th>\
         <th class=\"num\">PSI memory</th><th class=\"num\">PSI cpu</th><th class=\"num\">PSI io</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n",
        round.index
    )
}
