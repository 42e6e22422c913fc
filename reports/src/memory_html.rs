//! The memory part of a scenario section: timeline charts, and one table of
//! each sandbox's memory account, PSI and perf counters for the round the
//! charts show. A figure that could not be measured reads `unavailable (reason)`.

use crate::charts::{Chart, NotDrawn};
use crate::escape::html as esc;
use crate::format;
use crate::schema::{Condition, MemoryAccount, PsiFigure, ScenarioResult};
use crate::timeline;

/// What the memory timeline shows.
const MEMORY_CAPTION: &str = "Memory charged to each sandbox over one round (the last complete \
     one): victims solid, aggressors dashed, one colour per condition; crosses mark OOM kills at \
     the time the kernel logged them. A victim line that stays up means it kept its working set. \
     Unit: MiB.";

/// What the memory-by-kind timelines show.
const BY_KIND_CAPTION: &str = "Memory of each sandbox by kind over one condition of the same round \
     (victim solid, aggressor dashed): anonymous memory only swap can reclaim; file (page cache, shmem \
     included) that reclaim takes first. A victim's file line pushed down is its working set being \
     evicted. Unit: MiB.";

/// What the PSI timeline shows.
const PSI_CAPTION: &str = "Memory PSI full per sandbox over the same round: the share of each \
     100 ms interval in which all of its tasks stalled on memory. Lower is better. Unit: % of time.";

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
    for (chart, caption) in [
        (timeline::memory(scenario), MEMORY_CAPTION),
        (timeline::psi_full(scenario), PSI_CAPTION),
    ] {
        out.push_str(&figure(chart, caption));
    }
    for condition in Condition::ALL {
        out.push_str(&figure(
            timeline::by_kind(scenario, condition),
            BY_KIND_CAPTION,
        ));
    }
    out.push_str("</div>\n");
    out.push_str(&accounts_table(scenario));
    out
}

fn bytes(b: Option<u64>) -> String {
    b.map_or_else(
        || format::unavailable(None),
        |b| format!("{:.0} MiB", b as f64 / 1048576.0),
    )
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

fn perf(a: &MemoryAccount) -> String {
    a.perf
        .iter()
        .map(|p| match p.value {
            Some(v) if p.event == "task-clock" => format!("task-clock {:.0} ms", v as f64 / 1e6),
            Some(v) => format!("{} {v}", p.event),
            None => format!(
                "{} {}",
                p.event,
                format::unavailable(p.unavailable.as_deref())
            ),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// One row per condition and sandbox of the last round with memory figures.
fn accounts_table(scenario: &ScenarioResult) -> String {
    let Some(round) = scenario
        .rounds
        .iter()
        .rev()
        .find(|r| r.conditions.iter().all(|c| c.memory.is_some()))
    else {
        return String::new();
    };
    let mut rows = String::new();
    for run in &round.conditions {
        let m = run.memory.as_ref().expect("checked above");
        for a in &m.sandboxes {
            let limits: Vec<String> = a.limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let events = format!(
                "high {}, max {}, oom {}, oom_kill {}",
                count(a.events.high),
                count(a.events.max),
                count(a.events.oom),
                count(a.events.oom_kill)
            );
            rows.push_str(&format!(
                "<tr><td><span class=\"swatch cond-{c}\"></span>{c}</td><td>{}</td>\
                 <td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
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
                perf(a),
                c = run.condition,
            ));
        }
        let kills: Vec<String> = m
            .oom_kills
            .iter()
            .map(|k| {
                format!(
                    "{} in {} ({}{})",
                    k.process.as_deref().unwrap_or("a process"),
                    k.attributed_to,
                    k.source,
                    if k.breach { ", isolation breach" } else { "" }
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td></td><td colspan=\"9\">victim {}; OOM kills: {}; canary {}; system PSI memory {}; \
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
         life) over the window, perf counters over each sandbox's life (kernel events included; \
         unavailable ones with the cause).</caption>\n<thead><tr><th>condition</th><th>sandbox</th>\
         <th>limits</th><th>peak</th><th>memory.events</th><th>major faults</th><th>PSI memory</th>\
         <th>PSI cpu</th><th>PSI io</th><th>perf</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        round.index
    )
}
