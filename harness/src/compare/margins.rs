//! Margins files (TOML): override the default margin of gated metrics, for all
//! scenarios or for one.
//!
//! ```toml
//! [metrics]                      # every scenario
//! "victim.latency_impact_p99" = 1.15 # ratio: up to 15 % worse passes
//! [scenarios.cpu-share]          # this scenario only
//! "aggressor.cpu_share_error_pp" = 0.5
//! ```

use super::rules::{DEFAULTS, Rule, default_rule};
use isobench_reports::comparison::{Better, ChangeKind};
use isobench_reports::schema::Condition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Margins that replace the defaults of [`super::rules::DEFAULTS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margins {
    /// Metric name → margin, for every scenario.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Scenario → metric name → margin.
    #[serde(default)]
    pub scenarios: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A margins file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MarginsError {
    /// Unreadable.
    #[error("reading margins file {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
    /// Not TOML of the expected shape.
    #[error("margins file {path}: {error}")]
    Parse {
        /// The file.
        path: String,
        /// What toml said, with line and column.
        error: String,
    },
    /// A metric the gate does not judge, or a margin on the wrong side.
    #[error("margins file {path}: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and what is accepted.
        problem: String,
    },
}

impl Margins {
    /// Reads and checks a margins file.
    ///
    /// # Errors
    /// [`MarginsError`] naming the file, and for a bad entry the metric, the value and what is accepted.
    pub fn load(path: &Path) -> Result<Margins, MarginsError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| MarginsError::Read {
            path: p.clone(),
            error,
        })?;
        let margins: Margins = toml::from_str(&text).map_err(|e| MarginsError::Parse {
            path: p.clone(),
            error: e.to_string(),
        })?;
        margins
            .check()
            .map_err(|problem| MarginsError::Invalid { path: p, problem })?;
        Ok(margins)
    }

    fn check(&self) -> Result<(), String> {
        let entries = self.metrics.iter().map(|(m, v)| (None, m, v));
        let scoped = self
            .scenarios
            .iter()
            .flat_map(|(s, ms)| ms.iter().map(move |(m, v)| (Some(s), m, v)));
        if let Some(s) = self
            .scenarios
            .keys()
            .find(|s| !crate::scenario::KNOWN.contains(&s.as_str()))
        {
            return Err(format!(
                "[scenarios.{s}] names no scenario isobench knows; known are {}",
                crate::scenario::KNOWN.join(", ")
            ));
        }
        for (scenario, name, &value) in entries.chain(scoped) {
            let place = scenario.map_or(String::from("[metrics]"), |s| format!("[scenarios.{s}]"));
            check_margin(name, value).map_err(|e| format!("{place} {e}"))?;
        }
        Ok(())
    }

    /// The margins of the suite recorded in `results` (its `[defaults.margins]`), if it set any.
    pub fn of_suite(results: &isobench_reports::schema::Results) -> Option<Margins> {
        let m = results.suite.as_ref()?.get("margins")?;
        serde_json::from_value(m.clone()).ok()
    }

    /// The rule for `name` in `scenario` under `condition`: the default, with this file's margin if it sets one.
    pub fn rule(&self, scenario: &str, name: &str, condition: Option<Condition>) -> Option<Rule> {
        let mut rule = default_rule(name, condition)?;
        let set = self
            .scenarios
            .get(scenario)
            .and_then(|m| m.get(name))
            .or_else(|| self.metrics.get(name));
        if let Some(&m) = set {
            rule.margin = m;
        }
        Some(rule)
    }
}

/// Checks one margin: `name` is a gated metric, and `value` lies on the bad side of
/// "no change" within sane bounds (ratios above 1 for lower-is-better metrics, …).
///
/// # Errors
/// What is wrong, naming the metric and value, and what is accepted.
pub fn check_margin(name: &str, value: f64) -> Result<(), String> {
    let known: Vec<&str> = DEFAULTS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !n.ends_with('*'))
        .collect();
    let Some(rule) =
        default_rule(name, Some(Condition::Isolated)).filter(|_| known.contains(&name))
    else {
        return Err(format!(
            "{name:?} is not a gated metric; margins can be set for {}",
            known.join(", ")
        ));
    };
    let (ok, want) = match (rule.kind, rule.better) {
        (ChangeKind::Check, _) => (
            (0.0..=50.0).contains(&value) && value.fract() == 0.0,
            "a whole number of steps from 0 to 50 (e.g. 1)",
        ),
        (ChangeKind::Ratio, Better::Lower) => (
            value > 1.0 && value <= 100.0,
            "a ratio above 1 and at most 100 (e.g. 1.10)",
        ),
        (ChangeKind::Ratio, _) => (
            value > 0.0 && value < 1.0,
            "a ratio between 0 and 1, both excluded (e.g. 0.95)",
        ),
        (_, Better::Lower) => (
            value > 0.0 && value <= 1000.0,
            "a difference above 0 and at most 1000 pp (e.g. 1.0)",
        ),
        _ => (
            (-1000.0..0.0).contains(&value),
            "a difference below 0 and at least -1000 pp (e.g. -5.0)",
        ),
    };
    if !ok || !value.is_finite() {
        return Err(format!("{name:?} = {value}: expected {want}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Margins, MarginsError> {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        Margins::load(f.path())
    }

    #[test]
    fn scenario_margin_beats_the_global_one_which_beats_the_default() {
        let m = load("[metrics]\n\"victim.latency_impact_p99\" = 1.2\n[scenarios.cpu-share]\n\"victim.latency_impact_p99\" = 1.3\n").unwrap();
        let iso = Some(Condition::Isolated);
        assert_eq!(
            m.rule("cpu-share", "victim.latency_impact_p99", iso)
                .unwrap()
                .margin,
            1.3
        );
        assert_eq!(
            m.rule("other", "victim.latency_impact_p99", iso)
                .unwrap()
                .margin,
            1.2
        );
        assert_eq!(
            m.rule("other", "victim.latency_impact_p50", iso)
                .unwrap()
                .margin,
            1.10
        );
    }

    #[test]
    fn unknown_metric_is_refused_with_the_known_ones() {
        let err = load("[metrics]\n\"victim.latency_p98_us\" = 1.2\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"victim.latency_p98_us\" is not a gated metric")
                && err.contains("victim.latency_impact_p99"),
            "{err}"
        );
    }

    #[test]
    fn margin_on_the_wrong_side_is_refused() {
        let err = load("[metrics]\n\"victim.retained_throughput\" = 5.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a difference below 0"), "{err}");
        let neutral = load("[metrics]\n\"victim.latency_impact_p99\" = 1.0\n")
            .unwrap_err()
            .to_string();
        assert!(neutral.contains("expected a ratio above 1"), "{neutral}");
    }

    #[test]
    fn a_table_for_an_unknown_scenario_is_refused() {
        let err = load("[scenarios.cpu_share]\n\"victim.latency_impact_p99\" = 1.2\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[scenarios.cpu_share] names no scenario") && err.contains("cpu-share"),
            "{err}"
        );
    }

    #[test]
    fn unknown_table_is_refused_with_line_and_column() {
        let err = load("[metric]\n\"x\" = 1\n").unwrap_err().to_string();
        assert!(
            err.contains("unknown field") && err.contains("line 1"),
            "{err}"
        );
    }
}
