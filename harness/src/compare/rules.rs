//! Which metrics the gate judges, how their change is expressed, which way is
//! better, and the default margins (DESIGN §3). Only the isolated condition and
//! the visibility checks are gated: solo and contended are unconfined context,
//! and a change there says nothing about isolation.
//!
//! Figures that depend on a run's own calibration are gated only between runs
//! that share it ([`Rule::calibrated`]). Each run measures anew how much work
//! one victim unit is and what rate to offer (4789, 4840 and 5085 units/s in
//! three runs of one build here), so absolute latencies
//! (`victim.latency_p99_us`) and rates (`victim.throughput_ops`) move between
//! runs of the same build; a run made with `--calibration-from BASELINE` (or
//! `--until-decided`) does the baseline's work unit at its rate, and then they
//! are gated. Between independently calibrated runs the gate judges the same
//! things relative to each run's solo condition (`victim.latency_impact_*`,
//! `victim.retained_throughput`, `victim.late_share`, whose threshold is a
//! number of unit lengths).
//!
//! The absolute isolated p99 is the more efficient figure where it may be
//! gated: over 10 A/A pairs of the quick suite here, the smallest change a pair
//! could detect was ×1.51 for `victim.latency_p99_us` against ×2.00 for
//! `victim.latency_impact_p99` (and ×1.34 against ×3.61 for p99.9): an impact
//! divides by the solo p99 of the same round, and one disturbed solo round
//! (4.3 ms among rounds of 0.13 ms) collapses that round's impact.

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
    /// Gated only between runs that share the victim's calibration (the same
    /// `spec.calibration`, null in both for a victim whose work follows none);
    /// context otherwise.
    pub calibrated: bool,
}

/// Added to a recovery time before two runs' recoveries are divided, ms: the
/// longest slice ([`isobench_workloads::slices::MAX_SLICE_MS`]), the resolution
/// of a recovery at worst.
pub const RECOVERY_OFFSET_MS: f64 = isobench_workloads::slices::MAX_SLICE_MS as f64;

const fn rule(kind: ChangeKind, better: Better, margin: f64, offset: f64, scale: f64) -> Rule {
    Rule {
        kind,
        better,
        margin,
        offset,
        scale,
        calibrated: false,
    }
}

/// The rule of a figure that follows the run's calibration (see [`Rule::calibrated`]).
const fn calibrated(kind: ChangeKind, better: Better, margin: f64) -> Rule {
    Rule {
        calibrated: true,
        ..rule(kind, better, margin, 0.0, 1.0)
    }
}

/// The gated metrics and their default rules. A margins file may change the
/// margin of any of these names, and of no other. The margins are no tighter
/// than what the quick suite (10 rounds) resolves on a quiet 2-CPU host: the
/// median over 10 A/A pairs of its smallest detectable change (p50 ×1.04,
/// p99 ×1.51, p99.9 ×1.34; impacts p50 ×1.05, p99 ×2.00, p99.9 ×3.61;
/// docs/compare.md). The transient figures of phased neighbours (issue 17)
/// have margins not yet calibrated from A/A pairs: a worst slice is the
/// largest of tens of slice p99s, noisier than the window's p99, so ×2.0; a
/// recovery is compared as the ratio of `recovery_ms + 100` (the longest
/// slice, so that a recovery of 0 in the baseline does not divide by zero),
/// ×1.5: 50 ms more than a recovery of 0 fails. `isobench calibrate` widens both
/// where a runner is noisier. A sweep's knee (`sweep.knee`) is counted in
/// steps ([`super::knee`]).
pub const DEFAULTS: [(&str, Rule); 16] = [
    (
        "victim.latency_p50_us",
        calibrated(ChangeKind::Ratio, Better::Lower, 1.10),
    ),
    (
        "victim.latency_p99_us",
        calibrated(ChangeKind::Ratio, Better::Lower, 1.60),
    ),
    (
        "victim.latency_p999_us",
        calibrated(ChangeKind::Ratio, Better::Lower, 1.50),
    ),
    (
        "victim.throughput_ops",
        calibrated(ChangeKind::Ratio, Better::Higher, 0.95),
    ),
    (
        "victim.latency_impact_p50",
        rule(ChangeKind::Ratio, Better::Lower, 1.10, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p99",
        rule(ChangeKind::Ratio, Better::Lower, 2.10, 1.0, 1.0),
    ),
    (
        "victim.latency_impact_p999",
        rule(ChangeKind::Ratio, Better::Lower, 3.70, 1.0, 1.0),
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
        "victim.worst_slice_p99_us",
        calibrated(ChangeKind::Ratio, Better::Lower, 2.0),
    ),
    (
        "victim.recovery_ms",
        rule(
            ChangeKind::Ratio,
            Better::Lower,
            1.5,
            RECOVERY_OFFSET_MS,
            1.0,
        ),
    ),
    // A sweep's knee (issue 17), in steps: FAIL when the isolated knee moved
    // to a lower value by more than this many steps (compare::knee says why
    // not by a CI).
    (
        "sweep.knee",
        rule(ChangeKind::Check, Better::Higher, 1.0, 0.0, 1.0),
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
        assert!(default_rule("victim.latency_impact_p99", Some(Condition::Isolated)).is_some());
        assert!(default_rule("victim.latency_impact_p99", Some(Condition::Contended)).is_none());
        assert!(default_rule("harness.cpu_share", None).is_none());
        assert_eq!(
            default_rule("visibility.net", None).unwrap().kind,
            ChangeKind::Check
        );
    }

    #[test]
    fn figures_that_follow_a_runs_calibration_need_a_shared_one() {
        for name in ["victim.latency_p99_us", "victim.throughput_ops"] {
            assert!(
                default_rule(name, Some(Condition::Isolated))
                    .unwrap()
                    .calibrated,
                "{name}"
            );
        }
        assert!(
            !default_rule("victim.latency_impact_p99", Some(Condition::Isolated))
                .unwrap()
                .calibrated
        );
    }

    #[test]
    fn transient_figures_are_gated_isolated_only_the_worst_slice_with_a_shared_calibration() {
        let worst = default_rule("victim.worst_slice_p99_us", Some(Condition::Isolated)).unwrap();
        assert!(worst.calibrated && worst.kind == ChangeKind::Ratio);
        let rec = default_rule("victim.recovery_ms", Some(Condition::Isolated)).unwrap();
        assert!(!rec.calibrated && rec.offset == 100.0);
        assert!(default_rule("victim.recovery_ms", Some(Condition::Contended)).is_none());
        assert!(default_rule("victim.slice_p99_on_us", Some(Condition::Isolated)).is_none());
    }

    #[test]
    fn improvement_mirrors_the_margin() {
        let p99 = default_rule("victim.latency_impact_p99", Some(Condition::Isolated)).unwrap();
        assert!((improvement_bound(&p99) - 1.0 / 2.1).abs() < 1e-12);
        let retained =
            default_rule("victim.retained_throughput", Some(Condition::Isolated)).unwrap();
        assert_eq!(improvement_bound(&retained), 5.0);
    }
}
