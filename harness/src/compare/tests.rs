//! The gate on synthetic rounds: seeded trials of A/A and of a 20 % shift.

use super::*;
use isobench_reports::schema::{
    Condition, Doctor, HostFingerprint, Reading, Round, ScenarioStatus, VisibilityCheck,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn host() -> HostFingerprint {
    HostFingerprint {
        kernel: "6.18".into(),
        layout: "hybrid".into(),
        cpu_model: Some("test".into()),
        cpus: 2,
        cpus_allowed: 2,
        smt: Reading::Value("off".into()),
        governor: Reading::Unavailable("none".into()),
        virtualised: true,
        harness_cgroup_limits: [("cpu.cfs_quota_us".to_string(), "-1".to_string())].into(),
        environment: None,
    }
}

fn metric(name: &str, condition: Option<Condition>, rounds: &[f64]) -> Metric {
    Metric {
        name: name.into(),
        condition,
        unit: "us".into(),
        value: Some(rounds.iter().sum::<f64>() / rounds.len() as f64),
        lower: None,
        upper: None,
        per_round: rounds.iter().map(|&v| Some(v)).collect(),
        reason: None,
    }
}

fn results(id: &str, metrics: Vec<Metric>, n_rounds: usize) -> Results {
    Results {
        schema_version: 1,
        isobench_version: "0.1.0".into(),
        command_line: vec![],
        run_id: id.into(),
        started_at: "2026-11-29T00:00:00Z".into(),
        host: host(),
        doctor: Doctor {
            layout: "hybrid".into(),
            checks: vec![],
        },
        scenarios: vec![ScenarioResult {
            name: "cpu-share".into(),
            description: String::new(),
            spec: serde_json::Value::Null,
            status: ScenarioStatus::Complete,
            rounds: (0..n_rounds)
                .map(|index| Round {
                    index,
                    order: vec![],
                    conditions: vec![],
                })
                .collect(),
            latency_cdf: vec![],
            slice_timelines: vec![],
            metrics,
            warnings: vec![],
            checks: vec![],
            cpu_view: None,
            startup: None,
            verdict: None,
        }],
        warnings: vec![],
        suite: None,
        disturbance: None,
        sweep: None,
    }
}

/// `n` rounds of a latency around `mean` with 5 % noise (normal, Box–Muller).
fn noisy(rng: &mut SmallRng, mean: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            mean * (1.0 + 0.05 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos())
        })
        .collect()
}

fn minus_one(v: Vec<f64>) -> Vec<f64> {
    v.into_iter().map(|x| x - 1.0).collect()
}

fn run(base: &Results, cur: &Results) -> Comparison {
    compare(&CompareInput {
        baseline: (base, "b.json"),
        current: (cur, "c.json"),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: false,
    })
}

fn trial(rng: &mut SmallRng, shift: f64) -> Comparison {
    let iso = Some(Condition::Isolated);
    let side = |rng: &mut SmallRng, id: &str, k: f64| {
        let metrics = vec![
            // Impacts `p / p_solo − 1`: the gate compares `p / p_solo`.
            metric(
                "victim.latency_impact_p50",
                iso,
                &minus_one(noisy(rng, 2.0 * k, 5)),
            ),
            metric(
                "victim.latency_impact_p99",
                iso,
                &minus_one(noisy(rng, 9.0 * k, 5)),
            ),
            metric(
                "victim.latency_impact_p999",
                iso,
                &minus_one(noisy(rng, 20.0 * k, 5)),
            ),
        ];
        results(id, metrics, 5)
    };
    let base = side(rng, "a", 1.0);
    let cur = side(rng, "b", shift);
    run(&base, &cur)
}

#[test]
fn identical_distributions_never_fail_in_99_of_100_trials() {
    let mut rng = SmallRng::seed_from_u64(7);
    let fails = (0..100)
        .filter(|_| trial(&mut rng, 1.0).exit_code == 1)
        .count();
    eprintln!("A/A trials: {fails} of 100 FAIL");
    assert!(fails <= 1, "{fails} false FAILs in 100 A/A trials");
}

#[test]
fn a_doubled_tail_fails_in_90_of_100_trials() {
    let mut rng = SmallRng::seed_from_u64(11);
    let fails = (0..100)
        .filter(|_| trial(&mut rng, 2.0).exit_code == 1)
        .count();
    eprintln!("doubled tail trials: {fails} of 100 FAIL");
    assert!(
        fails >= 90,
        "only {fails} of 100 trials caught a doubled tail"
    );
}

#[test]
fn a_halved_tail_is_an_improvement_not_a_failure() {
    let mut rng = SmallRng::seed_from_u64(13);
    let c = trial(&mut rng, 0.5);
    assert_ne!(c.exit_code, 1);
    assert!(
        c.rows.iter().any(|r| r.outcome == Outcome::Improved),
        "{:?}",
        c.rows
    );
}

/// Rounds of a tail impact spread like the quick suite's isolated p99 (CV ≈ 0.25).
fn wide(rng: &mut SmallRng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| 18.0 * (1.0 + 0.25 * (rng.random::<f64>() - 0.5) * 3.46))
        .collect()
}

#[test]
fn a_results_file_compared_with_itself_passes_even_when_noisy() {
    let mut rng = SmallRng::seed_from_u64(17);
    let iso = Some(Condition::Isolated);
    let r = results(
        "a",
        vec![metric(
            "victim.latency_impact_p99",
            iso,
            &wide(&mut rng, 10),
        )],
        10,
    );
    let c = run(&r, &r);
    assert_eq!(c.exit_code, 0, "{}", c.verdict);
    let row = &c.rows[0];
    assert!(
        matches!(row.outcome, Outcome::Pass | Outcome::NoClearChange),
        "{row:?}"
    );
    assert!(row.detectable.unwrap() > 1.0, "{row:?}");
}

#[test]
fn noisy_a_a_pairs_end_with_no_clear_change_not_inconclusive() {
    let mut rng = SmallRng::seed_from_u64(19);
    let iso = Some(Condition::Isolated);
    let mut exits = [0; 4];
    for _ in 0..50 {
        let side = |rng: &mut SmallRng, id: &str| {
            results(
                id,
                vec![
                    metric("victim.latency_impact_p99", iso, &wide(rng, 10)),
                    metric("victim.latency_impact_p999", iso, &wide(rng, 10)),
                ],
                10,
            )
        };
        let (a, b) = (side(&mut rng, "a"), side(&mut rng, "b"));
        exits[run(&a, &b).exit_code as usize] += 1;
    }
    assert_eq!(exits[1], 0, "{exits:?}");
    assert!(exits[0] >= 45, "{exits:?}");
}

#[test]
fn a_worsening_within_the_noise_floor_but_short_of_the_margin_is_inconclusive() {
    let iso = Some(Condition::Isolated);
    let base = results(
        "a",
        vec![metric(
            "victim.late_share",
            iso,
            &[0.050, 0.060, 0.040, 0.050, 0.050],
        )],
        5,
    );
    let cur = results(
        "b",
        vec![metric(
            "victim.late_share",
            iso,
            &[0.080, 0.090, 0.070, 0.080, 0.080],
        )],
        5,
    );
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    assert_eq!(c.rows[0].outcome, Outcome::Inconclusive);
    assert!(crate::compare::undecided(&c.rows[0]));
}

#[test]
fn a_visibility_check_that_breaks_fails_regardless_of_margins() {
    let mut base = results("a", vec![metric("visibility.net", None, &[1.0])], 5);
    let mut cur = results("b", vec![metric("visibility.net", None, &[0.0])], 5);
    for (r, passed) in [(&mut base, true), (&mut cur, false)] {
        r.scenarios[0].name = "visibility".into();
        r.scenarios[0].checks = vec![VisibilityCheck {
            name: "net".into(),
            passed,
            looked_at: String::new(),
            saw: String::new(),
        }];
    }
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 1, "{}", c.verdict);
    assert!(
        c.verdict.contains("visibility/visibility.net"),
        "{}",
        c.verdict
    );
}

#[test]
fn differing_fingerprints_are_unfit_unless_forced() {
    let steady = || {
        vec![metric(
            "victim.retained_throughput",
            Some(Condition::Isolated),
            &[1.0; 5],
        )]
    };
    let base = results("a", steady(), 5);
    let mut cur = results("b", steady(), 5);
    cur.host.kernel = "6.19".into();
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 2);
    assert!(c.verdict.contains("kernel: 6.18 → 6.19"), "{}", c.verdict);
    let forced = compare(&CompareInput {
        baseline: (&base, "b"),
        current: (&cur, "c"),
        margins: &Margins::default(),
        force: true,
        accept_disturbed: false,
    });
    assert_eq!(forced.exit_code, 0, "{}", forced.verdict);
}

#[test]
fn a_cpu_quota_on_the_runner_is_unfit() {
    let steady = || {
        vec![metric(
            "victim.retained_throughput",
            Some(Condition::Isolated),
            &[1.0; 5],
        )]
    };
    let base = results("a", steady(), 5);
    let mut cur = results("b", steady(), 5);
    cur.host
        .harness_cgroup_limits
        .insert("cpu.cfs_quota_us".into(), "200000".into());
    let c = compare(&CompareInput {
        baseline: (&base, "b"),
        current: (&cur, "c"),
        margins: &Margins::default(),
        force: true,
        accept_disturbed: false,
    });
    assert_eq!(c.exit_code, 2);
    assert!(
        c.unfit.iter().any(|u| u.contains("CPU quota (200000)")),
        "{:?}",
        c.unfit
    );
}

#[test]
fn runs_without_a_shared_gated_metric_get_no_verdict() {
    let c = run(&results("a", vec![], 5), &results("b", vec![], 5));
    assert_eq!(c.exit_code, 2);
    assert!(c.verdict.starts_with("NOTHING COMPARED"), "{}", c.verdict);
}

#[test]
fn too_few_rounds_is_unfit_and_a_missing_scenario_is_not_compared() {
    let iso = Some(Condition::Isolated);
    let base = results(
        "a",
        vec![metric("victim.latency_impact_p99", iso, &[1.0, 1.0])],
        2,
    );
    let mut cur = results(
        "b",
        vec![metric("victim.latency_impact_p99", iso, &[1.0, 1.0])],
        2,
    );
    cur.scenarios[0].name = "other".into();
    let c = run(&base, &cur);
    assert!(
        c.not_compared
            .contains(&"scenario other: not in the baseline".to_string()),
        "{:?}",
        c.not_compared
    );
    assert!(
        c.not_compared
            .contains(&"scenario cpu-share: not in the current run".to_string())
    );
    let same = run(
        &base,
        &results(
            "b",
            vec![metric("victim.latency_impact_p99", iso, &[1.0, 1.0])],
            2,
        ),
    );
    assert_eq!(same.exit_code, 2);
    assert!(same.verdict.contains("at least 3"), "{}", same.verdict);
}

#[test]
fn a_check_or_gated_metric_missing_from_the_current_run_cannot_pass() {
    let iso = Some(Condition::Isolated);
    let steady = metric("victim.retained_throughput", iso, &[1.0; 5]);
    let base = results(
        "a",
        vec![
            steady.clone(),
            metric("visibility.net", None, &[1.0]),
            metric("aggressor.cpu_share", iso, &[0.5; 5]),
        ],
        5,
    );
    let cur = results("b", vec![steady], 5);
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 1, "{}", c.verdict);
    let row = |name: &str| c.rows.iter().find(|r| r.name == name).unwrap();
    assert_eq!(row("visibility.net").outcome, Outcome::Fail);
    assert_eq!(row("aggressor.cpu_share").outcome, Outcome::Inconclusive);
    assert_eq!(
        row("aggressor.cpu_share").note.as_deref(),
        Some("missing from the current run")
    );
}

#[test]
fn rounds_without_a_measured_value_do_not_count() {
    let iso = Some(Condition::Isolated);
    let mut sparse = metric("victim.latency_impact_p99", iso, &[900.0; 10]);
    for v in sparse.per_round.iter_mut().skip(2) {
        *v = None;
    }
    let base = results(
        "a",
        vec![metric("victim.latency_impact_p99", iso, &[900.0; 10])],
        10,
    );
    let c = run(&base, &results("b", vec![sparse], 10));
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    let r = &c.rows[0];
    assert_eq!(r.outcome, Outcome::Inconclusive);
    assert!(
        r.note
            .as_deref()
            .unwrap()
            .starts_with("10 and 2 measured rounds"),
        "{:?}",
        r.note
    );
    assert!(c.verdict.contains("could not be judged"), "{}", c.verdict);
}

#[test]
fn a_run_disturbed_by_other_work_gets_no_verdict() {
    let (base, cur) = disturbed_pair(0.4);
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    assert!(
        c.unfit
            .iter()
            .any(|u| u.starts_with("run b was disturbed: other work used 0.40 CPUs")),
        "{:?}",
        c.unfit
    );
}

/// A steady baseline `a`, and a current `b` during which other work used `other` CPUs in every round.
fn disturbed_pair(other: f64) -> (Results, Results) {
    let iso = Some(Condition::Isolated);
    let steady = || metric("victim.retained_throughput", iso, &[1.0; 5]);
    let base = results("a", vec![steady()], 5);
    let cur = results(
        "b",
        vec![steady(), metric("host.other_cpu_share", iso, &[other; 5])],
        5,
    );
    (base, cur)
}

#[test]
fn a_disturbed_run_is_judged_with_accept_disturbed_and_the_disturbance_is_noted() {
    let (base, cur) = disturbed_pair(0.4);
    let c = compare(&CompareInput {
        baseline: (&base, "b.json"),
        current: (&cur, "c.json"),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: true,
    });
    assert_eq!(c.exit_code, 0, "{}", c.verdict);
    assert!(c.unfit.is_empty(), "{:?}", c.unfit);
    assert!(c.accept_disturbed);
    assert_eq!(
        c.accepted_disturbance,
        vec![
            "accepted (--accept-disturbed): run b was disturbed: other work used 0.40 CPUs on average during \
             cpu-share (isolated), more than 0.1 CPU; its figures are judged anyway"
                .to_string()
        ]
    );
    assert!(
        c.verdict.starts_with("PASS")
            && c.verdict.ends_with("(judged although other work disturbed 1 condition: accepted with --accept-disturbed)"),
        "{}",
        c.verdict
    );
    let md = isobench_reports::render_comparison_markdown(&c);
    assert!(
        md.contains("- accepted (--accept-disturbed): run b was disturbed"),
        "{md}"
    );
}

#[test]
fn force_does_not_override_disturbance() {
    let (base, cur) = disturbed_pair(0.2);
    let c = compare(&CompareInput {
        baseline: (&base, "b.json"),
        current: (&cur, "c.json"),
        margins: &Margins::default(),
        force: true,
        accept_disturbed: false,
    });
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    assert!(c.accepted_disturbance.is_empty());
    assert!(
        c.unfit
            .iter()
            .any(|u| u
                .ends_with("rerun on a quiet host, or pass --accept-disturbed to judge it anyway")),
        "{:?}",
        c.unfit
    );
}

#[test]
fn a_mean_just_beyond_the_limit_is_never_written_as_the_limit() {
    let iso = Some(Condition::Isolated);
    let steady = || metric("victim.retained_throughput", iso, &[1.0; 5]);
    let base = results("a", vec![steady()], 5);
    let cur = results(
        "b",
        vec![
            steady(),
            metric("host.other_cpu_share", iso, &[0.1, 0.1, 0.1, 0.1, 0.1015]),
        ],
        5,
    );
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    assert!(
        c.unfit
            .iter()
            .any(|u| u.starts_with("run b was disturbed: other work used 0.1003 CPUs on average")),
        "{:?}",
        c.unfit
    );
    // Exactly at the limit is not disturbed.
    let at = results(
        "c",
        vec![steady(), metric("host.other_cpu_share", iso, &[0.1; 5])],
        5,
    );
    assert_eq!(run(&base, &at).exit_code, 0);
}

#[test]
fn a_run_recorded_as_accepting_disturbance_still_needs_the_flag_to_compare() {
    let iso = Some(Condition::Isolated);
    let steady = || metric("victim.retained_throughput", iso, &[1.0; 5]);
    let base = results("a", vec![steady()], 5);
    let mut cur = results(
        "b",
        vec![steady(), metric("host.other_cpu_share", iso, &[0.3; 5])],
        5,
    );
    cur.disturbance = Some(isobench_reports::schema::Disturbance {
        accepted: true,
        limit_cpus: 0.1,
        disturbed: vec![],
    });
    let c = run(&base, &cur);
    assert_eq!(c.exit_code, 2, "{}", c.verdict);
    assert!(
        c.unfit.iter().any(|u| u.contains(
            "the run was made with --accept-disturbed: pass --accept-disturbed to compare"
        )),
        "{:?}",
        c.unfit
    );
}

#[test]
fn absolute_latencies_are_gated_only_between_runs_that_share_a_calibration() {
    let iso = Some(Condition::Isolated);
    let side = |id: &str, units: u64| {
        let mut r = results(
            id,
            vec![metric("victim.latency_p99_us", iso, &[3000.0; 5])],
            5,
        );
        r.scenarios[0].spec =
            serde_json::json!({ "calibration": { "iters_per_unit": units, "unit_ns": 100_000 } });
        r
    };
    let apart = run(&side("a", 45_619), &side("b", 46_673));
    let row = &apart.rows[0];
    assert_eq!(row.outcome, Outcome::NotGated, "{row:?}");
    assert!(
        row.note.as_deref().unwrap().contains("--calibration-from"),
        "{row:?}"
    );
    let shared = run(&side("a", 45_619), &side("b", 45_619));
    assert_eq!(
        shared.rows[0].outcome,
        Outcome::Pass,
        "{:?}",
        shared.rows[0]
    );
}

#[test]
fn absolute_latencies_of_victims_with_fixed_work_are_gated_between_any_two_runs() {
    let iso = Some(Condition::Isolated);
    let side = |id: &str, spec: serde_json::Value| {
        let mut r = results(
            id,
            vec![metric("victim.latency_p99_us", iso, &[3000.0; 5])],
            5,
        );
        r.scenarios[0].spec = spec;
        r
    };
    let fixed = || serde_json::json!({ "calibration": null });
    let calibrated =
        || serde_json::json!({ "calibration": { "iters_per_unit": 45_619, "unit_ns": 100_000 } });
    let both = run(&side("a", fixed()), &side("b", fixed()));
    assert_eq!(both.rows[0].outcome, Outcome::Pass, "{:?}", both.rows[0]);
    for (b, c) in [
        (fixed(), calibrated()),
        (serde_json::json!({}), serde_json::json!({})),
    ] {
        let c = run(&side("a", b), &side("b", c));
        assert_eq!(c.rows[0].outcome, Outcome::NotGated, "{:?}", c.rows[0]);
    }
}

#[test]
fn transient_figures_fail_when_worse_beyond_their_margins_and_thin_slices_are_not_gated() {
    let iso = Some(Condition::Isolated);
    let side = |id: &str, recovery: f64, worst: f64, units: f64| {
        let mut r = results(
            id,
            vec![
                metric("victim.recovery_ms", iso, &[recovery; 5]),
                metric("victim.worst_slice_p99_us", iso, &[worst; 5]),
                metric("victim.fewest_slice_units", iso, &[units; 5]),
            ],
            5,
        );
        r.scenarios[0].spec = serde_json::json!({ "calibration": null });
        r
    };
    let outcome = |c: &Comparison, name: &str| {
        c.rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };
    // (150 + 100) / (10 + 100) = ×2.3 > ×1.5; a worst slice ×2.5 > ×2.0.
    let worse = run(
        &side("a", 10.0, 4000.0, 1200.0),
        &side("b", 150.0, 10_000.0, 1200.0),
    );
    assert_eq!(outcome(&worse, "victim.recovery_ms").outcome, Outcome::Fail);
    assert_eq!(
        outcome(&worse, "victim.worst_slice_p99_us").outcome,
        Outcome::Fail
    );
    // A recovery of 0 in the baseline divides nothing by zero: ×1.2 passes.
    let same = run(
        &side("a", 0.0, 4000.0, 1200.0),
        &side("b", 20.0, 4100.0, 1200.0),
    );
    assert_eq!(outcome(&same, "victim.recovery_ms").outcome, Outcome::Pass);
    // 100 units per slice: a slice p99 is its largest unit or so.
    let thin = run(
        &side("a", 10.0, 4000.0, 100.0),
        &side("b", 150.0, 10_000.0, 100.0),
    );
    for name in ["victim.recovery_ms", "victim.worst_slice_p99_us"] {
        let row = outcome(&thin, name);
        assert_eq!(row.outcome, Outcome::NotGated, "{row:?}");
        assert!(
            row.note
                .as_deref()
                .unwrap()
                .contains("as few as 100 units per slice"),
            "{row:?}"
        );
    }
}
