//! The end-of-run table on the terminal: the headline metrics per scenario,
//! mean and 95 % CI over rounds; verdicts and warnings in colour on a terminal
//! unless NO_COLOR is set (<https://no-color.org>).

use isobench_reports::schema::Results;
use isobench_reports::{Notes, aggressor_sandboxes, metric_cells};

/// Metrics shown on the terminal, in this order; the rest are in the report.
const HEADLINE: [&str; 25] = [
    "aggressor.cpu_share",
    "aggressor.lines_per_s",
    "aggressor.mb_per_s",
    "aggressor.forks_per_s",
    "aggressor.cpu_share_error_pp",
    "aggressor.throttled_ratio",
    "victim.throughput_ops",
    "victim.latency_p99_us",
    "victim.retained_throughput",
    "victim.latency_impact_p99",
    "victim.late_share",
    "victim.psi_memory_full",
    "victim.major_faults",
    "victim.oom_kills",
    "aggressor.oom_kills",
    "outside.oom_kills",
    "aggressor.memory_peak_bytes",
    "startup.baseline_p50_us",
    "startup.sandbox_p50_us",
    "startup.sandbox_p99_us",
    "startup.sandbox_net_p99_us",
    "startup.overhead_ratio_p50",
    "startup.spawn_ratio_p50",
    "startup.teardown_p99_us",
    "startup.churn_per_s",
];

/// Whether metric `name` is shown on the row of headline `headline`: itself, or
/// for `aggressor.*` the same figure of an aggressor sandbox of another name
/// among `aggressors` (`batch.cpu_share` on the row of `aggressor.cpu_share`).
fn shown_as(name: &str, headline: &str, aggressors: &[&str]) -> bool {
    if name == headline {
        return true;
    }
    let (Some(("aggressor", figure)), Some((sandbox, own))) =
        (headline.split_once('.'), name.split_once('.'))
    else {
        return false;
    };
    own == figure && sandbox != "aggressor" && aggressors.contains(&sandbox)
}

/// ANSI SGR for bold red: breaches, failures.
pub const RED: &str = "1;31";
/// ANSI SGR for yellow: warnings.
pub const YELLOW: &str = "33";
/// ANSI SGR for bold: a verdict without trouble.
pub const BOLD: &str = "1";

/// Whether to colour output going to a stream: only a terminal, and not with NO_COLOR set (to anything).
pub fn colour_wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none()
}

/// `text` wrapped in the ANSI SGR `code` when `on`.
pub fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A verdict line, red when it reports a breach, a failure or an interruption.
pub fn verdict(line: &str, on: bool) -> String {
    let trouble = [
        "isolation breach",
        "unexpected outcome",
        "failed",
        "interrupted",
    ]
    .iter()
    .any(|w| line.contains(w));
    paint(line, if trouble { RED } else { BOLD }, on)
}

/// One table per scenario: metric, condition, mean and 95 % CI, each with its
/// display unit as the report and summary.md write them; the reasons of
/// unavailable values follow the table as notes, each once.
pub fn table(results: &Results) -> String {
    let mut out = String::new();
    for s in &results.scenarios {
        if s.metrics.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", s.name));
        for c in &s.checks {
            let verdict = match (c.passed, s.name == "visibility") {
                (true, _) => "pass",
                (false, true) => "FAIL (isolation breach)",
                (false, false) => "FAIL (unexpected outcome)",
            };
            out.push_str(&format!("  {:<12} {verdict}: {}\n", c.name, c.saw));
        }
        for line in s
            .cpu_view
            .iter()
            .flat_map(isobench_reports::cpu_view::lines)
        {
            out.push_str(&format!("  {line}\n"));
        }
        if !s.checks.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  {:<30} {:<10} {:<16} {}\n",
            "metric", "condition", "mean", "95 % CI"
        ));
        let mut notes = Notes::default();
        let aggressors = aggressor_sandboxes(s);
        for name in HEADLINE {
            for m in s
                .metrics
                .iter()
                .filter(|m| shown_as(&m.name, name, &aggressors))
            {
                let cond = m.condition.map_or("-".to_string(), |c| c.to_string());
                let cells = metric_cells(m, &mut notes);
                out.push_str(&format!(
                    "  {:<30} {:<10} {:<16} {}\n",
                    m.name, cond, cells.value, cells.ci
                ));
            }
        }
        for line in notes.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_without_a_terminal_and_red_breaches_with_one() {
        assert_eq!(
            verdict("visibility: 6 of 6 checks passed", false),
            "visibility: 6 of 6 checks passed"
        );
        assert_eq!(
            verdict("visibility: isolation breach: net", true),
            "\x1b[1;31mvisibility: isolation breach: net\x1b[0m"
        );
        assert!(!colour_wanted(false));
    }

    #[test]
    fn a_named_aggressors_figures_take_the_rows_of_aggressor() {
        let aggressors = ["batch"];
        assert!(shown_as(
            "batch.cpu_share",
            "aggressor.cpu_share",
            &aggressors
        ));
        assert!(shown_as("aggressor.cpu_share", "aggressor.cpu_share", &[]));
        assert!(!shown_as(
            "victim.cpu_share",
            "aggressor.cpu_share",
            &aggressors
        ));
        assert!(!shown_as(
            "batch.cpu_share",
            "victim.cpu_share",
            &aggressors
        ));
    }
}
