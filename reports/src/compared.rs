//! Rendering a [`Comparison`]: compare.md for a CI job summary, and the
//! comparison section (verdict, forest plot, table) of the HTML report.

use crate::charts;
use crate::comparison::{ChangeKind, ComparedMetric, Comparison, Outcome};
use crate::escape;
use crate::schema::{Condition, Results};
use crate::units::Rule;

/// The rule the change of `r` is written by: a factor for a ratio (`×1.07`),
/// signed percentage points for a difference (`+0.3 pp`), pass/fail for a check.
fn change_rule(r: &ComparedMetric) -> Rule<'static> {
    match r.kind {
        ChangeKind::Ratio => Rule::Factor,
        ChangeKind::DifferencePp => Rule::PpChange,
        ChangeKind::Check => Rule::Check,
    }
}

/// `×1.07 [×1.01, ×1.12]` for a ratio, `+0.3 pp [-0.1, +0.6] pp` for a
/// difference, `pass → fail` for a check, `—` when there is none.
fn change_text(r: &ComparedMetric) -> String {
    let Some(v) = r.change else {
        return "—".into();
    };
    match (r.kind, r.lower, r.upper) {
        (ChangeKind::Check, ..) => format!(
            "{} → {}",
            value_text(r, r.baseline),
            value_text(r, r.current)
        ),
        (_, Some(lower), Some(upper)) => {
            let (value, ci) = change_rule(r).with_interval(v, lower, upper);
            format!("{value} {ci}")
        }
        _ => change_rule(r).text(v),
    }
}

/// The margin in the change's own terms: `×1.10`, `-5.0 pp`, `must pass`.
fn margin_text(r: &ComparedMetric) -> String {
    match (r.kind, r.margin) {
        (_, None) => "—".into(),
        (ChangeKind::Check, Some(_)) => "must pass".into(),
        (_, Some(m)) => change_rule(r).text(m),
    }
}

/// The smallest change the pair could have detected, in the change's own
/// terms: `×1.32`, `+2.1 pp`; `—` where none was computed.
fn detectable_text(r: &ComparedMetric) -> String {
    match (r.kind, r.detectable) {
        (ChangeKind::Check, _) | (_, None) => "—".into(),
        (_, Some(d)) => change_rule(r).text(d),
    }
}

/// A side's mean as the metric's display rule writes it (`3.95 ms`, `4.9 %`), or `—`.
fn value_text(r: &ComparedMetric, v: Option<f64>) -> String {
    v.map_or("—".into(), |v| Rule::for_metric(&r.name, &r.unit).text(v))
}

/// The outcome as the table and the forest plot's legend write it.
pub fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Inconclusive => "INCONCLUSIVE",
        Outcome::NoClearChange => "NO CLEAR CHANGE",
        Outcome::Improved => "IMPROVED",
        Outcome::NotGated => "not gated",
    }
}

/// A row's scenario, metric and condition, as compare.md names it:
/// `cpu-share/victim.latency_p99_us (isolated)`.
pub fn metric_label(r: &ComparedMetric) -> String {
    match r.condition {
        Some(c) => format!("{}/{} ({c})", r.scenario, r.name),
        None => format!("{}/{}", r.scenario, r.name),
    }
}

/// What the reader must know beside the table: why there is no verdict,
/// disturbance accepted (`--accept-disturbed`), hosts compared despite
/// differing (`--force`), what was not compared.
fn notes(c: &Comparison) -> Vec<String> {
    let forced = (c.forced && !c.fingerprint_differences.is_empty()).then(|| {
        format!(
            "compared despite differing hosts (--force): {}",
            c.fingerprint_differences.join("; ")
        )
    });
    c.unfit
        .iter()
        .cloned()
        .chain(c.accepted_disturbance.iter().cloned())
        .chain(forced)
        .chain(c.not_compared.iter().cloned())
        .collect()
}

/// compare.md: the verdict, what was not compared, and a table of the gated
/// metrics (metric, baseline, current, change with 95 % CI, margin, the
/// smallest change this pair could have detected, outcome).
pub fn render_comparison_markdown(c: &Comparison) -> String {
    let md = escape::markdown;
    let mut out = format!(
        "## isobench compare: {}\n\nbaseline `{}` ({}) · current `{}` ({})\n\n",
        md(&c.verdict),
        md(&c.baseline.run_id),
        md(&c.baseline.path),
        md(&c.current.run_id),
        md(&c.current.path)
    );
    for line in notes(c) {
        out.push_str(&format!("- {}\n", md(&line)));
    }
    out.push_str("\n| outcome | metric | baseline | current | change [95 % CI] | margin | can detect |\n|---|---|---|---|---|---|---|\n");
    for r in c.rows.iter().filter(|r| r.outcome != Outcome::NotGated) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            outcome_text(r.outcome),
            md(&metric_label(r)),
            md(&value_text(r, r.baseline)),
            md(&value_text(r, r.current)),
            md(&change_text(r)),
            md(&margin_text(r)),
            md(&detectable_text(r))
        ));
    }
    let noted: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.outcome != Outcome::NotGated)
        .filter_map(|r| {
            Some(format!(
                "- {}: {}\n",
                md(&metric_label(r)),
                md(r.note.as_deref()?)
            ))
        })
        .collect();
    if !noted.is_empty() {
        out.push_str(&format!("\nNotes:\n\n{}", noted.concat()));
    }
    out.push_str(&format!("\n{}\n", md(DETECTABLE_NOTE)));
    out
}

/// What the "can detect" column means, under the table.
const DETECTABLE_NOTE: &str = "can detect: the smallest change in the bad direction this pair of runs would have detected \
(80 % power, one-sided α = 2.5 %, from the spread of its rounds). NO CLEAR CHANGE: not worse beyond the noise \
(Holm-corrected across the gated metrics), yet the CI reaches past the margin, so this pair cannot vouch for the margin; \
it does not fail the job. \
More rounds shrink what can be detected by about 1/√rounds. Baseline and current are means over rounds.";

/// The comparison section of the HTML report.
pub(crate) fn section(c: &Comparison) -> String {
    let esc = escape::html;
    let chart = match charts::forest(c) {
        Ok(chart) => format!(
            "<figure style=\"width: {}px\">\n{}\n<figcaption>Each bar is the 95 % CI of current / baseline for a gated \
             ratio metric; the dot is the estimate, the black tick the margin, the grey line no change. For \
             lower-is-better metrics (latency) left is better; for throughput right is better. Colour: outcome, \
             as in the table. Unit: ratio, current / baseline (log scale).</figcaption>\n</figure>\n",
            chart.width_px, chart.svg
        ),
        Err(why) => format!(
            "<p class=\"not-drawn\">Forest plot not drawn: {}</p>\n",
            esc(&why)
        ),
    };
    let rows: String = c
        .rows
        .iter()
        .filter(|r| r.outcome != Outcome::NotGated)
        .map(|r| {
            format!(
                "<tr><td class=\"outcome-{}\">{}</td><td><code>{}</code>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                outcome_text(r.outcome).to_lowercase().replace(' ', "-"),
                outcome_text(r.outcome),
                esc(&metric_label(r)),
                r.note.as_deref().map_or(String::new(), |n| format!("<br><small>{}</small>", esc(n))),
                esc(&value_text(r, r.baseline)),
                esc(&value_text(r, r.current)),
                esc(&change_text(r)),
                esc(&margin_text(r)),
                esc(&detectable_text(r))
            )
        })
        .collect();
    let notes: String = notes(c)
        .iter()
        .map(|l| format!("<li>{}</li>\n", esc(l)))
        .collect();
    format!(
        "<section id=\"comparison\">\n<h2>Comparison with baseline</h2>\n<p><strong>{}</strong></p>\n\
         <p class=\"meta\">baseline <code>{}</code> · current <code>{}</code></p>\n<ul>\n{notes}</ul>\n{chart}\
         <table class=\"comparison\">\n<thead><tr><th>outcome</th><th>metric</th><th>baseline</th><th>current</th>\
         <th>change [95 % CI]</th><th>margin</th><th>can detect</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p class=\"meta\">{}</p>\n</section>\n",
        esc(&c.verdict),
        esc(&c.baseline.run_id),
        esc(&c.current.run_id),
        esc(DETECTABLE_NOTE)
    )
}

/// A gated metric in words for [`change_lines`], beside `neighbours` (the
/// workloads beside the victim, joined): `victim p99 beside cpu-hog`,
/// `victim p99 beside cpu-hog (vs solo)`, `cpu-hog CPU share`; other names as they are.
fn metric_words(name: &str, neighbours: &str) -> String {
    let victim = [
        ("victim.latency_p50_us", "victim p50", ""),
        ("victim.latency_p99_us", "victim p99", ""),
        ("victim.latency_p999_us", "victim p99.9", ""),
        ("victim.throughput_ops", "victim throughput", ""),
        ("victim.latency_impact_p50", "victim p50", " (vs solo)"),
        ("victim.latency_impact_p99", "victim p99", " (vs solo)"),
        ("victim.latency_impact_p999", "victim p99.9", " (vs solo)"),
        ("victim.late_share", "victim late units", ""),
        (
            "victim.retained_throughput",
            "victim throughput",
            " (vs solo)",
        ),
        ("victim.psi_memory_full", "victim memory stall", ""),
    ];
    let beside = if neighbours.is_empty() {
        String::new()
    } else {
        format!(" beside {neighbours}")
    };
    let aggressor = if neighbours.is_empty() {
        "neighbour"
    } else {
        neighbours
    };
    match name {
        "aggressor.cpu_share" => format!("{aggressor} CPU share"),
        "aggressor.cpu_share_error_pp" => format!("{aggressor} CPU share error"),
        _ => victim.iter().find(|(n, ..)| *n == name).map_or_else(
            || name.to_string(),
            |(_, what, vs)| format!("{what}{beside}{vs}"),
        ),
    }
}

/// The change of a row as a relative change or a difference with its CI:
/// `+12 % [+8, +16] %` for a ratio (current / baseline − 1), `+0.3 pp [-0.1,
/// +0.6] pp` for a difference, `pass → fail` for a check.
fn relative_change_text(r: &ComparedMetric) -> String {
    match (r.kind, r.change, r.lower, r.upper) {
        (ChangeKind::Ratio, Some(v), Some(lower), Some(upper)) => {
            let (value, ci) = Rule::Change.with_interval(v - 1.0, lower - 1.0, upper - 1.0);
            format!("{value} {ci}")
        }
        (ChangeKind::Ratio, Some(v), ..) => Rule::Change.text(v - 1.0),
        _ => change_text(r),
    }
}

/// A bound of a row (its margin, or the smallest change it could detect) as
/// [`relative_change_text`] writes changes: `+60 %`, `-5.0 pp`.
fn relative_bound_text(r: &ComparedMetric, bound: f64) -> String {
    match r.kind {
        ChangeKind::Ratio => Rule::Change.text(bound - 1.0),
        _ => change_rule(r).text(bound),
    }
}

/// The outcome of a row in the words of `cargo bench`: `no change`,
/// `improved`, `regressed`, or `inconclusive` with why.
fn outcome_words(r: &ComparedMetric) -> String {
    match r.outcome {
        Outcome::Pass => "no change".into(),
        Outcome::NoClearChange => match r.margin {
            Some(m) => format!(
                "no change (noise wider than the {} margin)",
                relative_bound_text(r, m)
            ),
            None => "no change (within the noise)".into(),
        },
        Outcome::Improved => "improved".into(),
        Outcome::Fail => "regressed".into(),
        Outcome::Inconclusive => match &r.note {
            Some(note) => format!("inconclusive ({note})"),
            None => "inconclusive".into(),
        },
        Outcome::NotGated => "not gated".into(),
    }
}

/// One line per gated metric of `c`, the way `cargo bench` prints a change
/// (as criterion does): the scenario, what was measured beside which
/// neighbours, the change with its 95 % CI, the outcome in words, and the two
/// means:
///
/// `hash: victim p99 beside cpu-hog: +3 % [-6, +12] %, no change; 412 µs, was 400 µs`
///
/// A row that PASSes or reads NO CLEAR CHANGE reads `no change` (its CI lies
/// within the margin, or holds no change), FAIL `regressed`, IMPROVED
/// `improved`, INCONCLUSIVE `inconclusive` with its note. The neighbours of
/// each scenario come from `current`'s rounds.
pub fn change_lines(c: &Comparison, current: &Results) -> Vec<String> {
    c.rows
        .iter()
        .filter(|r| r.outcome != Outcome::NotGated)
        .map(|r| {
            let condition = match r.condition {
                Some(Condition::Isolated) | None => String::new(),
                Some(other) => format!(" ({other})"),
            };
            let means = match (r.current, r.baseline) {
                (Some(now), Some(was)) => format!(
                    "; {}, was {}",
                    value_text(r, Some(now)),
                    value_text(r, Some(was))
                ),
                _ => String::new(),
            };
            format!(
                "{}: {}{condition}: {}, {}{means}",
                r.scenario,
                metric_words(&r.name, &neighbours(current, &r.scenario).join(" + ")),
                relative_change_text(r),
                outcome_words(r)
            )
        })
        .collect()
}

/// The workloads beside the victim of scenario `name` in `results`, in the
/// order first met (`cpu-hog`, `command stress-ng`).
fn neighbours<'a>(results: &'a Results, name: &str) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    let workloads = results
        .scenarios
        .iter()
        .filter(|s| s.name == name)
        .flat_map(|s| &s.rounds)
        .flat_map(|r| &r.conditions)
        .flat_map(|c| &c.neighbours)
        .map(|n| n.workload.as_str());
    for w in workloads {
        if !seen.contains(&w) {
            seen.push(w);
        }
    }
    seen
}

/// What the reader of [`change_lines`] must know beside them, one sentence
/// each: why the comparison gives no verdict (hosts differ, a run was
/// disturbed, too few rounds), disturbance accepted, what was not compared.
pub fn comparison_notes(c: &Comparison) -> Vec<String> {
    notes(c)
}

/// One compared row in words, as compare.md's table gives it: `baseline
/// 3.95 ms, current 4.80 ms, change ×1.22 [×1.15, ×1.30] (95 % CI), margin
/// ×1.10, can detect ×1.05`, then its note if it has one. For JUnit failure
/// texts and other one-line outputs.
pub fn row_text(r: &ComparedMetric) -> String {
    let mut text = format!(
        "baseline {}, current {}, change {} (95 % CI), margin {}, can detect {}",
        value_text(r, r.baseline),
        value_text(r, r.current),
        change_text(r),
        margin_text(r),
        detectable_text(r)
    );
    if let Some(note) = &r.note {
        text.push_str(&format!("; {note}"));
    }
    text
}
