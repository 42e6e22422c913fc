//! Which metrics the gate judges, how their change is expressed, which way is
//! better, and the default margins (DESIGN §3). Only the isolated condition and
//! the visibility checks are gated: solo and contended are unconfined context,
//! and a change there says nothing about isolation.
//!
//! Nothing that depends on a run's own calibration is gated. Each run measures
//! anew how much work one victim unit is and what rate to offer (4789, 4840 and
//! 5085 units/s in three runs of one build here), so absolute latencies
//! (`victim.latency_p99_us`) and rates (`victim.throughput_ops`) move between
//! runs of the same build; the gate judges them relative to the same run's solo
//! condition instead (`victim.latency_impact_*`, `victim.retained_throughput`,
//! `victim.late_share`, whose threshold is a number of unit lengths).
//!
//! Tail figures are summarised over rounds by a trimmed mean
//! ([`Center::Trimmed`]): one round disturbed by the host moves a mean of ten
//! rounds of p99 by a third, and the trimmed mean not at all.

use crate::stats::center::{Center, TAIL_TRIM};
use isobench_reports::comparison::{Better, ChangeKind};
use isobench_reports::schema::Condition;

/// How one metric is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Ratio, difference in pp, or a pass/fail check.
    pub kind: ChangeKind,
    /// Which way is better.
    pub better: Better,
    /// The worst change still accepted: a ratio (1.10 = 10 % worse) or a difference in pp.
    pub margin: f64,
    /// Applied to every per-round value before comparing: `(v + offset) × scale`.
    /// Latency impacts (`p / p_solo − 1`) get offset 1 so their ratio is that of
    /// the degradations; shares get scale 100 so differences are in pp.
    pub offset: f64,
    /// See `offset`.
    pub scale: f64,
    /// How each run's rounds are summarised before the two are compared.
    pub center: Center,
}

const fn rule(kind: ChangeKind, better: Better, margin: f64, offset: f64, scale: f64) -> Rule {
    Rule {
        kind,
        better,
        margin,
        offset,
        scale,
        center: Center::Mean,
    }
}

/// A tail figure's rule: summarised by the trimmed mean of its rounds.
const fn tail(kind: ChangeKind, margin: f64, offset: f64, scale: f64) -> Rule {
    Rule {
        center: Center::Trimmed(TAIL_TRIM),
        ..rule(kind, Better::Lower, margin, offset, scale)
    }
}

/// The gated metrics and their default rules. A margins file may change the
/// margin of any of these names, and of no other. The margins are no tighter
/// than what the quick suite (10 rounds) resolves on a quiet 2-CPU host: its
/// smallest detectable change, measured over A/A pairs (docs/compare.md).
pub const DEFAULTS: [(&str, Rule); 9] = [
    (
        "victim.latency_impact_p50",
        tail(ChangeKind::Ratio, 1.25, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p99",
        tail(ChangeKind::Ratio, 1.50, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p999",
        tail(ChangeKind::Ratio, 1.75, 1.0, 1.0),
    ),
    (
        "victim.psi_memory_full",
        rule(ChangeKind::DifferencePp, Better::Lower, 5.0, 0.0, 100.0),
    ),
    (
        "victim.late_share",
        tail(ChangeKind::DifferencePp, 3.0, 0.0, 100.0),
    ),
    (
        "victim.retained_throughput",
        rule(ChangeKind::DifferencePp, Better::Higher, -5.0, 0.0, 100.0),
    ),
    (
        "aggressor.cpu_share",
        rule(ChangeKind::DifferencePp, Better::Lower, 5.0, 0.0, 100.0),
    ),
    (
        "aggressor.cpu_share_error_pp",
        rule(ChangeKind::DifferencePp, Better::Lower, 1.0, 0.0, 1.0),
    ),
    (
        "visibility.*",
        rule(ChangeKind::Check, Better::Higher, 0.0, 0.0, 1.0),
    ),
];

/// Figures that were gated before the gate left calibration-dependent ones
/// out, each with the metric that judges the same thing relative to solo.
pub const UNGATED_CALIBRATED: [(&str, &str); 5] = [
    ("victim.latency_p50_us", "victim.latency_impact_p50"),
    ("victim.latency_p99_us", "victim.latency_impact_p99"),
    ("victim.latency_p999_us", "victim.latency_impact_p999"),
    ("victim.throughput_ops", "victim.retained_throughput"),
    ("victim.latency_max_us", "victim.latency_impact_p999"),
];

/// The default rule for `name` under `condition`, or `None` when it is not gated.
pub fn default_rule(name: &str, condition: Option<Condition>) -> Option<Rule> {
    if name.starts_with("visibility.")
        || (name.starts_with("memory-high-stall.") && name.ends_with(".passed"))
    {
        return Some(DEFAULTS[DEFAULTS.len() - 1].1);
    }
    if condition != Some(Condition::Isolated) {
        return None;
    }
    DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// The margin a change would have to beat, mirrored, to count as an improvement:
/// `1 / margin` for a ratio, `−margin` for a difference.
pub fn improvement_bound(r: &Rule) -> f64 {
    match r.kind {
        ChangeKind::Ratio => 1.0 / r.margin,
        _ => -r.margin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_isolated_figures_and_checks_are_gated() {
        assert!(default_rule("victim.latency_impact_p99", Some(Condition::Isolated)).is_some());
        assert!(default_rule("victim.latency_impact_p99", Some(Condition::Contended)).is_none());
        assert!(default_rule("harness.cpu_share", None).is_none());
        assert_eq!(
            default_rule("visibility.net", None).unwrap().kind,
            ChangeKind::Check
        );
    }

    #[test]
    fn figures_that_follow_a_runs_calibration_are_not_gated() {
        for name in ["victim.latency_p99_us", "victim.throughput_ops"] {
            assert!(default_rule(name, Some(Condition::Isolated)).is_none(), "{name}");
        }
    }

    #[test]
    fn improvement_mirrors_the_margin() {
        let p99 = default_rule("victim.latency_impact_p99", Some(Condition::Isolated)).unwrap();
        assert!((improvement_bound(&p99) - 1.0 / 1.5).abs() < 1e-12);
        let retained =
            default_rule("victim.retained_throughput", Some(Condition::Isolated)).unwrap();
        assert_eq!(improvement_bound(&retained), 5.0);
    }
}
