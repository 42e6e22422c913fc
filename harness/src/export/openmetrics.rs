//! A text exposition of isobench's figures for node_exporter's textfile
//! collector and any Prometheus scrape.
//!
//! The text is valid in both formats a scraper may expect: the Prometheus text
//! format 0.0.4 (<https://prometheus.io/docs/instrumenting/exposition_formats/>)
//! and OpenMetrics 1.0 (<https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md>):
//! every family is a `gauge` with `# HELP` and `# TYPE` lines, its samples
//! follow it without timestamps, and the text ends with `# EOF` (OpenMetrics'
//! terminator, a comment to the Prometheus format).
//!
//! - Each metric of a run is the family `isobench_<name>`, its name sanitized to
//!   `[a-zA-Z_][a-zA-Z0-9_]*` (every other character becomes `_`), with labels
//!   `scenario`, `condition` (`none` where the metric has none), `metric` (the
//!   name as in results.json), `run_id`, `stat` (`mean`, `ci_lower`, `ci_upper`:
//!   the mean over rounds and its bootstrap 95 % CI), and `host` in a fleet.
//! - `isobench_verdict{scenario, run_id, verdict}` is 1 for the scenario's
//!   verdict and 0 for the others (a state set), so that
//!   `isobench_verdict{verdict="NOT_PROTECTED"} == 1` alerts.
//! - An unavailable figure (null in results.json) has no sample at all: a NaN
//!   would read as a value in arithmetic and compare false in every alert,
//!   where a missing series is what `absent()` and the eye take for "not
//!   measured". The reason is in results.json.
//!
//! Units are those of results.json (`_us`, shares 0..1, CPUs), never scaled.

use isobench_reports::comparison::{Comparison, Outcome};
use isobench_reports::fleet::Fleet;
use isobench_reports::schema::{Results, VerdictKind};
use std::collections::BTreeMap;

/// Every verdict, as the `verdict` label writes it.
const VERDICTS: [(VerdictKind, &str); 6] = [
    (VerdictKind::Protected, "PROTECTED"),
    (VerdictKind::PartlyProtected, "PARTLY_PROTECTED"),
    (VerdictKind::NotProtected, "NOT_PROTECTED"),
    (VerdictKind::NoInterference, "NO_INTERFERENCE"),
    (VerdictKind::Invalid, "INVALID"),
    (VerdictKind::Measured, "MEASURED"),
];

/// Every outcome of `compare`, as the `outcome` label writes it.
const OUTCOMES: [(Outcome, &str); 5] = [
    (Outcome::Pass, "PASS"),
    (Outcome::Fail, "FAIL"),
    (Outcome::Inconclusive, "INCONCLUSIVE"),
    (Outcome::NoClearChange, "NO_CLEAR_CHANGE"),
    (Outcome::Improved, "IMPROVED"),
];

/// One metric family: its help text and samples (labels, value).
#[derive(Debug, Default)]
struct Family {
    help: String,
    samples: Vec<(Vec<(String, String)>, f64)>,
}

/// A text exposition being built; families keep their name order.
#[derive(Debug, Default)]
pub struct Exposition {
    families: BTreeMap<String, Family>,
}

impl Exposition {
    /// Adds one sample to family `name` (sanitized), skipping a non-finite value.
    fn add(&mut self, name: &str, help: &str, labels: Vec<(&str, String)>, value: f64) {
        if !value.is_finite() {
            return;
        }
        let family = self.families.entry(sanitize(name)).or_default();
        if family.help.is_empty() {
            family.help = help.to_owned();
        }
        let labels = labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        family.samples.push((labels, value));
    }

    /// Adds every metric and verdict of `results`, with a `host` label when given.
    pub fn add_run(&mut self, results: &Results, host: Option<&str>) {
        let base = |scenario: &str| {
            let mut l = vec![("scenario", scenario.to_owned())];
            l.push(("run_id", results.run_id.clone()));
            if let Some(h) = host {
                l.push(("host", h.to_owned()));
            }
            l
        };
        for s in &results.scenarios {
            for m in &s.metrics {
                let help = format!("isobench metric {} in {}", m.name, m.unit);
                for (stat, value) in [
                    ("mean", m.value),
                    ("ci_lower", m.lower),
                    ("ci_upper", m.upper),
                ] {
                    let Some(value) = value else { continue };
                    let mut labels = base(&s.name);
                    labels.push((
                        "condition",
                        m.condition.map_or("none".into(), |c| c.to_string()),
                    ));
                    labels.push(("metric", m.name.clone()));
                    labels.push(("stat", stat.to_owned()));
                    self.add(&format!("isobench_{}", m.name), &help, labels, value);
                }
            }
            if let Some(v) = &s.verdict {
                for (kind, word) in VERDICTS {
                    let mut labels = base(&s.name);
                    labels.push(("verdict", word.to_owned()));
                    self.add(
                        "isobench_verdict",
                        "isobench scenario verdict: 1 for the verdict given, 0 for the others",
                        labels,
                        if v.kind == kind { 1.0 } else { 0.0 },
                    );
                }
            }
        }
    }

    /// Adds every gated row of `comparison`: its outcome as a state set and its
    /// change, CI and margin; and the gate's exit code.
    pub fn add_comparison(&mut self, c: &Comparison) {
        let runs = || {
            vec![
                ("run_id", c.current.run_id.clone()),
                ("baseline_run_id", c.baseline.run_id.clone()),
            ]
        };
        for r in c.rows.iter().filter(|r| r.outcome != Outcome::NotGated) {
            let labels = || {
                let mut l = runs();
                l.push(("scenario", r.scenario.clone()));
                l.push((
                    "condition",
                    r.condition.map_or("none".into(), |c| c.to_string()),
                ));
                l.push(("metric", r.name.clone()));
                l
            };
            for (outcome, word) in OUTCOMES {
                let mut l = labels();
                l.push(("outcome", word.to_owned()));
                self.add(
                    "isobench_compare_outcome",
                    "isobench compare outcome of a gated metric: 1 for the outcome given, 0 for the others",
                    l,
                    if r.outcome == outcome { 1.0 } else { 0.0 },
                );
            }
            for (stat, value) in [
                ("change", r.change),
                ("ci_lower", r.lower),
                ("ci_upper", r.upper),
                ("margin", r.margin),
            ] {
                let Some(value) = value else { continue };
                let mut l = labels();
                l.push(("stat", stat.to_owned()));
                self.add(
                    "isobench_compare_change",
                    "isobench compare change of a gated metric against the baseline (a ratio, or a difference in pp), its 95 % CI and margin",
                    l,
                    value,
                );
            }
        }
        self.add(
            "isobench_compare_exit_code",
            "isobench compare exit status: 0 pass, 1 regression, 2 inconclusive or unfit, 3 error",
            runs(),
            f64::from(c.exit_code),
        );
    }

    /// Adds the fleet's per-scenario tallies (per class, or `pooled`), then
    /// every merged run with its host label.
    pub fn add_fleet(&mut self, fleet: &Fleet, runs: &[isobench_reports::fleet::FleetRun]) {
        for s in &fleet.scenarios {
            for g in &s.groups {
                let class = g.class.clone().unwrap_or_else(|| "pooled".into());
                let labels = || vec![("scenario", s.name.clone()), ("class", class.clone())];
                if let Some(share) = g.tally.protected_share {
                    self.add(
                        "isobench_fleet_protected_share",
                        "share of judged hosts (invalid verdicts not counted) whose verdict is PROTECTED, 0..1",
                        labels(),
                        share,
                    );
                }
                for (n, word) in [
                    (g.tally.protected, "PROTECTED"),
                    (g.tally.partly_protected, "PARTLY_PROTECTED"),
                    (g.tally.not_protected, "NOT_PROTECTED"),
                    (g.tally.no_interference, "NO_INTERFERENCE"),
                    (g.tally.invalid, "INVALID"),
                    (g.tally.measured, "MEASURED"),
                    (g.tally.no_verdict, "NONE"),
                ] {
                    let mut l = labels();
                    l.push(("verdict", word.to_owned()));
                    self.add(
                        "isobench_fleet_hosts",
                        "hosts of a fingerprint class by their verdict of a scenario",
                        l,
                        n as f64,
                    );
                }
            }
        }
        for run in runs {
            self.add_run(&run.results, Some(&run.host));
        }
    }

    /// The exposition text, ending with `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, family) in &self.families {
            out.push_str(&format!("# HELP {name} {}\n", escape_help(&family.help)));
            out.push_str(&format!("# TYPE {name} gauge\n"));
            for (labels, value) in &family.samples {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                out.push_str(&format!("{name}{{{}}} {value}\n", labels.join(",")));
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

/// `name` with every character outside `[a-zA-Z0-9_]` replaced by `_`, and a
/// leading digit prefixed with `_` (the exposition formats' metric name grammar,
/// without the `:` kept for recording rules).
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        s.insert(0, '_');
    }
    s
}

/// A label value escaped: `\` → `\\`, `"` → `\"`, newline → `\n`.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A help text escaped: `\` → `\\`, newline → `\n`, and `"` written as `'`:
/// OpenMetrics asks `\"` for it where the Prometheus format refuses that escape.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_to_the_exposition_grammar() {
        assert_eq!(
            sanitize("isobench_startup.posix_spawn.p50_us"),
            "isobench_startup_posix_spawn_p50_us"
        );
        assert_eq!(sanitize("9lives-µs"), "_9lives__s");
    }

    #[test]
    fn unavailable_and_non_finite_values_have_no_sample() {
        let mut e = Exposition::default();
        e.add("x", "h", vec![("a", "b".into())], f64::NAN);
        assert_eq!(e.render(), "# EOF\n");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut e = Exposition::default();
        e.add("x", "h", vec![("a", "q\"\\\n".into())], 1.5);
        assert!(
            e.render().contains("x{a=\"q\\\"\\\\\\n\"} 1.5\n"),
            "{}",
            e.render()
        );
    }
}
