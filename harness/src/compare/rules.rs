//! Which metrics the gate judges, how their change is expressed, which way is
//! better, and the default margins (DESIGN §3). Only the isolated condition and
//! the visibility checks are gated: solo and contended are unconfined context,
//! and a change there says nothing about isolation.

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
}

const fn rule(kind: ChangeKind, better: Better, margin: f64, offset: f64, scale: f64) -> Rule {
    Rule {
        kind,
        better,
        margin,
        offset,
        scale,
    }
}

/// The gated metrics and their default rules. A margins file may change the
/// margin of any of these names, and of no other.
pub const DEFAULTS: [(&str, Rule); 13] = [
    (
        "victim.latency_p50_us",
        rule(ChangeKind::Ratio, Better::Lower, 1.10, 0.0, 1.0),
    ),
    (
        "victim.latency_p99_us",
        rule(ChangeKind::Ratio, Better::Lower, 1.10, 0.0, 1.0),
    ),
    (
        "victim.latency_p999_us",
        rule(ChangeKind::Ratio, Better::Lower, 1.20, 0.0, 1.0),
    ),
    (
        "victim.latency_impact_p50",
        rule(ChangeKind::Ratio, Better::Lower, 1.10, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p99",
        rule(ChangeKind::Ratio, Better::Lower, 1.10, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p999",
        rule(ChangeKind::Ratio, Better::Lower, 1.20, 1.0, 1.0),
    ),
    (
        "victim.psi_memory_full",
        rule(ChangeKind::DifferencePp, Better::Lower, 5.0, 0.0, 100.0),
    ),
    (
        "victim.late_share",
        rule(ChangeKind::DifferencePp, Better::Lower, 3.0, 0.0, 100.0),
    ),
    (
        "victim.throughput_ops",
        rule(ChangeKind::Ratio, Better::Higher, 0.95, 0.0, 1.0),
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
        assert!(default_rule("victim.latency_p99_us", Some(Condition::Isolated)).is_some());
        assert!(default_rule("victim.latency_p99_us", Some(Condition::Contended)).is_none());
        assert!(default_rule("harness.cpu_share", None).is_none());
        assert_eq!(
            default_rule("visibility.net", None).unwrap().kind,
            ChangeKind::Check
        );
    }

    #[test]
    fn improvement_mirrors_the_margin() {
        let p99 = default_rule("victim.latency_p99_us", Some(Condition::Isolated)).unwrap();
        assert!((improvement_bound(&p99) - 1.0 / 1.1).abs() < 1e-12);
        let retained =
            default_rule("victim.retained_throughput", Some(Condition::Isolated)).unwrap();
        assert_eq!(improvement_bound(&retained), 5.0);
    }
}
