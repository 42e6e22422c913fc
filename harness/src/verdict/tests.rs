//! The verdict on synthetic rounds: every answer it can give.

use super::*;
use isobench_reports::schema::{CpuAccount, Round, VictimRun};

/// A victim's figures: p99 µs, late share, throughput ops/s.
type Figures = (f64, f64, f64);

fn run(condition: Condition, f: Option<Figures>, invalid: Option<&str>) -> ConditionRun {
    ConditionRun {
        condition,
        victim: f.map(|(p99, late, ops)| VictimRun {
            ops: ops as u64,
            window_s: 1.0,
            throughput_ops: ops,
            latency_p50_us: p99 / 4.0,
            latency_p99_us: p99,
            latency_p999_us: p99 * 2.0,
            latency_max_us: p99 * 3.0,
            late_share: Some(late),
        }),
        aggressors: vec![],
        groups: vec![],
        victim_cpu: CpuAccount {
            sandbox: "victim".into(),
            cpu_share: 0.5,
            cpu_share_expected: None,
            cpu_share_expected_reason: None,
            nr_periods: None,
            nr_throttled: None,
            throttled_us: None,
            nr_bursts: None,
            burst_us: None,
        },
        harness_cpu_share: 0.01,
        host_other_cpu_share: Some(0.0),
        host_cpu: None,
        invalid: invalid.map(str::to_string),
        memory: None,
        neighbours: vec![],
        pids: Vec::new(),
        cpu_pressure: Vec::new(),
    }
}

/// A small, repeatable jitter of ±3 % per round and condition.
fn jitter(round: usize, k: usize) -> f64 {
    1.0 + 0.03 * (((round * 7 + k * 3) % 5) as f64 - 2.0) / 2.0
}

/// `n` rounds with the given figures per condition (solo, contended, isolated), jittered.
fn scenario(n: usize, figures: [Figures; 3]) -> ScenarioResult {
    let mut r = ScenarioResult::started("cpu-share", "", serde_json::json!({}));
    r.rounds = (0..n)
        .map(|i| Round {
            index: i,
            order: Condition::ALL.to_vec(),
            conditions: Condition::ALL
                .iter()
                .zip(figures)
                .enumerate()
                .map(|(k, (&c, (p99, late, ops)))| {
                    let j = jitter(i, k);
                    run(c, Some((p99 * j, late * j, ops)), None)
                })
                .collect(),
        })
        .collect();
    r
}

fn kind_of(r: &ScenarioResult) -> VerdictKind {
    judge(r).unwrap().kind
}

const SOLO: Figures = (200.0, 0.002, 5000.0);

#[test]
fn a_neighbour_that_does_not_hurt_leaves_no_interference_to_remove() {
    let r = scenario(8, [SOLO, SOLO, SOLO]);
    let v = judge(&r).unwrap();
    assert_eq!(v.kind, VerdictKind::NoInterference, "{}", v.reason);
    assert_eq!(v.measures.len(), 3);
    assert!(v.measures.iter().all(|m| m.effectiveness.is_none()));
    assert!(
        v.reason.contains("no interference to remove"),
        "{}",
        v.reason
    );
}

#[test]
fn limits_that_remove_the_interference_protect() {
    let r = scenario(8, [SOLO, (4000.0, 0.10, 4000.0), SOLO]);
    let v = judge(&r).unwrap();
    assert_eq!(v.kind, VerdictKind::Protected, "{}", v.reason);
    let p99 = &v.measures[0];
    assert!(p99.effectiveness.unwrap().lower > 0.9, "{p99:?}");
}

#[test]
fn limits_that_change_nothing_do_not_protect() {
    let hurt = (4000.0, 0.10, 4000.0);
    let v = judge(&scenario(8, [SOLO, hurt, hurt])).unwrap();
    assert_eq!(v.kind, VerdictKind::NotProtected, "{}", v.reason);
    assert!(
        v.reason.contains("removed little or none of it"),
        "{}",
        v.reason
    );
}

#[test]
fn limits_that_remove_half_protect_partly() {
    let v = judge(&scenario(
        8,
        [SOLO, (4000.0, 0.10, 5000.0), (2000.0, 0.05, 5000.0)],
    ))
    .unwrap();
    assert_eq!(v.kind, VerdictKind::PartlyProtected, "{}", v.reason);
    let e = v.measures[1].effectiveness.unwrap();
    assert!((0.4..0.6).contains(&e.value), "{e:?}");
    assert!(v.reason.contains("the limits removed"), "{}", v.reason);
}

#[test]
fn an_effect_that_may_be_large_but_is_not_clearly_any_reads_as_partly() {
    // Alternating rounds: the limits help a lot in half of them and not at all in the rest.
    let mut r = scenario(8, [SOLO, (4000.0, 0.10, 5000.0), (2000.0, 0.05, 5000.0)]);
    for (i, round) in r.rounds.iter_mut().enumerate() {
        let v = round.conditions[2].victim.as_mut().unwrap();
        if i % 2 == 0 {
            (v.latency_p99_us, v.late_share) = (4200.0, Some(0.105));
        } else {
            (v.latency_p99_us, v.late_share) = (600.0, Some(0.01));
        }
    }
    let v = judge(&r).unwrap();
    let late = &v.measures[1];
    let e = late.effectiveness.unwrap();
    assert!(e.lower <= 0.0 && e.upper >= LITTLE_REMOVED, "{e:?}");
    assert_eq!(late.kind, VerdictKind::PartlyProtected, "{}", v.reason);
}

#[test]
fn isolation_worse_than_none_is_called_out() {
    let v = judge(&scenario(
        8,
        [SOLO, (400.0, 0.002, 5000.0), (4000.0, 0.002, 5000.0)],
    ))
    .unwrap();
    assert_eq!(v.kind, VerdictKind::NotProtected, "{}", v.reason);
    assert!(v.measures[0].isolation_worse);
    assert!(v.reason.contains("isolation made it worse"), "{}", v.reason);
}

#[test]
fn a_victim_hurt_in_its_sandbox_is_not_protected_even_when_contended_is_too_noisy_to_compare() {
    // The victim is ×14 worse than alone in its sandbox in every round, beside
    // a contended condition that swings between solo's p99 and far above it:
    // too noisy to compare with, and nothing shows the limits protected it (it
    // read "no interference to remove" before).
    let mut r = scenario(8, [SOLO, SOLO, (2800.0, 0.002, 5000.0)]);
    for (i, round) in r.rounds.iter_mut().enumerate() {
        let v = round.conditions[1].victim.as_mut().unwrap();
        v.latency_p99_us = if i % 2 == 0 { 190.0 } else { 5000.0 };
    }
    let v = judge(&r).unwrap();
    let p99 = &v.measures[0];
    assert!(p99.contended_excess.lower <= p99.noise_floor, "{p99:?}");
    assert!(!p99.isolation_worse, "{p99:?}");
    assert_eq!(p99.kind, VerdictKind::NotProtected, "{}", v.reason);
    assert_eq!(v.kind, VerdictKind::NotProtected, "{}", v.reason);
    assert!(
        v.reason
            .contains("hurt in its sandbox beyond the noise, while contended was too noisy"),
        "{}",
        v.reason
    );
}

#[test]
fn a_condition_whose_neighbour_died_is_invalid_never_kept_100_percent() {
    let mut r = scenario(4, [SOLO, (4000.0, 0.10, 100.0), SOLO]);
    for round in &mut r.rounds {
        round.conditions[2].invalid =
            Some("the aggressor was OOM-killed 0.01 s into the window".into());
    }
    let v = judge(&r).unwrap();
    assert_eq!(v.kind, VerdictKind::Invalid);
    assert!(v.reason.contains("OOM-killed"), "{}", v.reason);
    assert!(v.measures.is_empty());
    assert!(!v.reason.contains("100 %"), "{}", v.reason);
}

#[test]
fn invalid_rounds_are_left_out_and_named() {
    let mut r = scenario(6, [SOLO, (4000.0, 0.10, 4000.0), SOLO]);
    r.rounds[0].conditions[1].invalid = Some("the aggressor exited with status 1".into());
    let v = judge(&r).unwrap();
    assert_eq!(v.kind, VerdictKind::Protected, "{}", v.reason);
    assert_eq!(v.rounds_used, 5);
    assert!(v.reason.contains("1 of 6 rounds left out"), "{}", v.reason);
    assert!(
        v.reason
            .contains("round 0: contended: the aggressor exited"),
        "{}",
        v.reason
    );
}

#[test]
fn a_few_percent_between_two_large_p99_excesses_is_not_isolation_made_worse() {
    // Contended ×22, isolated ×23.6: 7 % apart, within the 10 % floor of p99.
    let v = judge(&scenario(
        8,
        [SOLO, (4400.0, 0.002, 5000.0), (4720.0, 0.002, 5000.0)],
    ))
    .unwrap();
    assert!(!v.measures[0].isolation_worse, "{}", v.reason);
    assert_eq!(v.kind, VerdictKind::NotProtected, "{}", v.reason);
}

#[test]
fn a_sandbox_that_hurts_a_victim_its_neighbour_did_not_is_called_out() {
    let v = judge(&scenario(8, [SOLO, SOLO, (1800.0, 0.002, 5000.0)])).unwrap();
    assert_eq!(v.kind, VerdictKind::NotProtected, "{}", v.reason);
    assert!(v.measures[0].isolation_worse);
}

#[test]
fn too_few_rounds_say_so() {
    let v = judge(&scenario(2, [SOLO, (4000.0, 0.10, 4000.0), SOLO])).unwrap();
    assert_eq!(v.kind, VerdictKind::Invalid);
    assert!(
        v.reason.starts_with("too few rounds to judge: 2 ran"),
        "{}",
        v.reason
    );
}

#[test]
fn an_objective_reports_slack_per_condition() {
    let mut r = scenario(8, [SOLO, (4000.0, 0.10, 4000.0), (1500.0, 0.03, 5000.0)]);
    r.spec = serde_json::json!({ "scenario": { "victim": { "slo": { "p99_us": 2000.0 } } } });
    let slo = judge(&r).unwrap().slo.unwrap();
    assert_eq!(slo.held, Some(true));
    let slack = |c| {
        slo.conditions
            .iter()
            .find(|s| s.condition == c)
            .unwrap()
            .slack
            .value
    };
    assert!((slack(Condition::Isolated) - 0.25).abs() < 0.05);
    assert!((slack(Condition::Contended) + 1.0).abs() < 0.1);
}

#[test]
fn checks_and_skips() {
    let mut r = scenario(0, [SOLO, SOLO, SOLO]);
    r.status = ScenarioStatus::Skipped("memory.high is not supported on hybrid".into());
    assert!(judge(&r).is_none());
    r.status = ScenarioStatus::Complete;
    r.checks = vec![isobench_reports::schema::VisibilityCheck {
        name: "net".into(),
        passed: false,
        looked_at: String::new(),
        saw: String::new(),
    }];
    assert_eq!(kind_of(&r), VerdictKind::NotProtected);
}
