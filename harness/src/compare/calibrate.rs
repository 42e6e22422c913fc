//! Margins proposed from an A/A comparison (the same build run twice): for each
//! gated metric, the spread is how far its CI reached from "no change" with
//! nothing changed; the proposed margin is [`SPREAD_FACTOR`] times that, never
//! tighter than the default (DESIGN §3: margins at about 3× the A/A spread) nor
//! than the smallest change the pair could detect (a margin the suite cannot
//! resolve would leave the metric NO CLEAR CHANGE in every comparison).

use super::margins::Margins;
use super::rules::default_rule;
use isobench_reports::comparison::{Better, ChangeKind, Comparison, Outcome};

/// Margins are this many times the spread seen between two runs of one build.
pub const SPREAD_FACTOR: f64 = 3.0;

/// Rounds a margin to 3 significant decimals, away from "no change" (never tighter).
fn round_out(x: f64, up: bool) -> f64 {
    let scaled = x * 1000.0;
    (if up { scaled.ceil() } else { scaled.floor() }) / 1000.0
}

/// Margins for every gated, measurable metric of an A/A comparison, per scenario.
pub fn propose(aa: &Comparison) -> Margins {
    let mut margins = Margins::default();
    for row in &aa.rows {
        if row.outcome == Outcome::NotGated || row.kind == ChangeKind::Check {
            continue;
        }
        let (Some(lo), Some(hi), Some(default)) = (
            row.lower,
            row.upper,
            default_rule(&row.name, row.condition).map(|r| r.margin),
        ) else {
            continue;
        };
        let neutral = if row.kind == ChangeKind::Ratio {
            1.0
        } else {
            0.0
        };
        let resolvable = row.detectable.map_or(0.0, |d| (d - neutral).abs());
        let spread = (hi - neutral)
            .abs()
            .max((lo - neutral).abs())
            .max(resolvable / SPREAD_FACTOR);
        let margin = match (row.kind, row.better) {
            (ChangeKind::Ratio, Better::Lower) => {
                round_out((neutral + SPREAD_FACTOR * spread).max(default), true)
            }
            (ChangeKind::Ratio, _) => round_out(
                (neutral - SPREAD_FACTOR * spread).min(default).max(0.001),
                false,
            ),
            (_, Better::Lower) => round_out((SPREAD_FACTOR * spread).max(default), true),
            _ => round_out((-SPREAD_FACTOR * spread).min(default), false),
        };
        margins
            .scenarios
            .entry(row.scenario.clone())
            .or_default()
            .insert(row.name.clone(), margin);
    }
    margins
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::comparison::{ComparedMetric, RunRef};
    use isobench_reports::schema::Condition;

    fn row(name: &str, kind: ChangeKind, better: Better, lo: f64, hi: f64) -> ComparedMetric {
        ComparedMetric {
            scenario: "cpu-share".into(),
            name: name.into(),
            condition: Some(Condition::Isolated),
            unit: String::new(),
            kind,
            better,
            baseline: None,
            current: None,
            change: Some((lo + hi) / 2.0),
            lower: Some(lo),
            upper: Some(hi),
            margin: None,
            detectable: None,
            outcome: Outcome::Inconclusive,
            note: None,
        }
    }

    fn aa(rows: Vec<ComparedMetric>) -> Comparison {
        let r = RunRef {
            path: String::new(),
            run_id: String::new(),
            started_at: String::new(),
        };
        Comparison {
            schema_version: 1,
            baseline: r.clone(),
            current: r,
            fingerprint_differences: vec![],
            forced: false,
            unfit: vec![],
            accept_disturbed: false,
            accepted_disturbance: vec![],
            rows,
            not_compared: vec![],
            exit_code: 2,
            verdict: String::new(),
        }
    }

    #[test]
    fn noisy_tail_gets_three_times_its_spread_and_quiet_metrics_keep_the_default() {
        let m = propose(&aa(vec![
            row(
                "victim.latency_impact_p99",
                ChangeKind::Ratio,
                Better::Lower,
                0.7,
                1.5,
            ),
            row(
                "victim.latency_impact_p50",
                ChangeKind::Ratio,
                Better::Lower,
                0.99,
                1.01,
            ),
            row(
                "victim.retained_throughput",
                ChangeKind::DifferencePp,
                Better::Higher,
                -0.1,
                0.06,
            ),
        ]));
        let s = &m.scenarios["cpu-share"];
        assert_eq!(s["victim.latency_impact_p99"], 2.5, "1 + 3 × 0.5");
        assert_eq!(s["victim.latency_impact_p50"], 1.1, "the default, not 1.03");
        assert_eq!(s["victim.retained_throughput"], -5.0);
    }

    #[test]
    fn a_margin_is_never_tighter_than_what_the_pair_can_detect() {
        let mut r = row(
            "victim.latency_impact_p99",
            ChangeKind::Ratio,
            Better::Lower,
            0.98,
            1.02,
        );
        r.detectable = Some(2.4);
        let m = propose(&aa(vec![r]));
        assert_eq!(m.scenarios["cpu-share"]["victim.latency_impact_p99"], 2.4);
    }

    #[test]
    fn proposed_margins_pass_their_own_validation() {
        let m = propose(&aa(vec![row(
            "victim.retained_throughput",
            ChangeKind::DifferencePp,
            Better::Higher,
            -2.0,
            1.0,
        )]));
        assert_eq!(
            m.scenarios["cpu-share"]["victim.retained_throughput"], -6.0,
            "−3 × 2"
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), toml::to_string(&m).unwrap()).unwrap();
        Margins::load(f.path()).unwrap();
    }
}
