use crate::fixture;
use isobench_reports::schema::{Condition, Results, ScenarioStatus, VerdictKind};
use isobench_reports::verdict_lines;

/// Sets the value of metric `name` under `condition` in the first scenario.
fn set(results: &mut Results, name: &str, condition: Condition, value: Option<f64>) {
    let metric = results.scenarios[0]
        .metrics
        .iter_mut()
        .find(|m| m.name == name && m.condition == Some(condition))
        .expect("metric in fixture");
    metric.value = value;
}

#[test]
fn cpu_share_line_states_its_verdict_each_measure_with_its_ci_and_the_aggressor_share() {
    let lines = verdict_lines(&fixture::results());
    assert_eq!(
        lines[0],
        "cpu-share: PARTLY PROTECTED — p99 vs solo: ×4.80 [×4.10, ×5.40] contended, ×4.60 [×3.90, ×5.30] isolated; \
         the limits removed little or none of it (5.0 % [-20.0, 30.0] %); \
         late units vs solo: +9.9 pp [+6.9, +12.9] pp contended, +4.6 pp [+3.2, +6.1] pp isolated; \
         the limits removed 54 % [38, 68] % of it; \
         throughput vs solo: no interference to remove (contended +0 % [+0, +0] %); \
         aggressor got 0.50 CPUs [0.50, 0.50] CPUs of 0.50 expected"
    );
}

#[test]
fn a_change_whose_ci_holds_no_change_reads_as_no_clear_change() {
    let mut results = fixture::results();
    let v = results.scenarios[0].verdict.as_mut().unwrap();
    v.measures[1].isolated_excess.lower = -0.004;
    let line = &verdict_lines(&results)[0];
    assert!(
        line.contains("no clear change (+4.6 pp [-0.4, +6.1] pp) isolated"),
        "{line}"
    );
}

#[test]
fn an_invalid_verdict_gives_its_reason_never_a_kept_share() {
    let mut results = fixture::results();
    let v = results.scenarios[0].verdict.as_mut().unwrap();
    v.kind = VerdictKind::Invalid;
    v.reason = "0 of 3 rounds had every condition measuring something".into();
    let line = &verdict_lines(&results)[0];
    assert!(
        line.starts_with(
            "cpu-share: INVALID — 0 of 3 rounds had every condition measuring something"
        ),
        "{line}"
    );
    assert!(!line.contains("kept"), "{line}");
}

#[test]
fn one_line_per_scenario_in_run_order() {
    let lines = verdict_lines(&fixture::results());
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("memory-high: "));
}

#[test]
fn missing_or_null_metrics_read_unavailable_never_zero() {
    let mut results = fixture::results();
    results.scenarios[0].metrics.retain(|m| {
        !(m.name == "victim.retained_throughput" && m.condition == Some(Condition::Isolated))
    });
    set(
        &mut results,
        "victim.latency_impact_p99",
        Condition::Contended,
        None,
    );
    set(
        &mut results,
        "aggressor.cpu_share_expected",
        Condition::Isolated,
        None,
    );
    let line = &verdict_lines(&results)[0];
    assert!(
        line.ends_with("aggressor got 0.50 CPUs [0.50, 0.50] CPUs (expected share unavailable)"),
        "{line}"
    );
    set(
        &mut results,
        "aggressor.cpu_share",
        Condition::Isolated,
        None,
    );
    let line = &verdict_lines(&results)[0];
    assert!(line.ends_with("aggressor CPU share unavailable"), "{line}");
    assert!(!line.contains(" 0 %") && !line.contains("0.00"), "{line}");
}

#[test]
fn failed_scenario_says_so_and_keeps_what_was_measured() {
    let lines = verdict_lines(&fixture::results());
    assert_eq!(
        lines[1],
        "memory-high: failed after 1 round: writing \"64M\" to isobench-r1/aggressor/memory.high: \
         Permission denied; no verdict (results written before verdicts)"
    );
}

#[test]
fn interrupted_scenario_without_metrics_gives_only_its_status() {
    let mut results = fixture::results();
    let scenario = &mut results.scenarios[1];
    scenario.status = ScenarioStatus::Interrupted("SIGINT".into());
    scenario.metrics.clear();
    scenario.rounds.clear();
    assert_eq!(
        verdict_lines(&results)[1],
        "memory-high: interrupted after 0 rounds: SIGINT"
    );
}

#[test]
fn a_named_aggressor_gets_the_clauses_of_aggressor() {
    let mut results = fixture::results();
    for m in &mut results.scenarios[0].metrics {
        if let Some(figure) = m.name.strip_prefix("aggressor.") {
            m.name = format!("batch.{figure}");
        }
    }
    let mut forks = results.scenarios[0]
        .metrics
        .iter()
        .filter(|m| m.name.starts_with("batch.cpu_share"))
        .cloned()
        .collect::<Vec<_>>();
    for m in &mut forks {
        m.name = m.name.replacen("batch", "forks", 1);
        if m.name == "forks.cpu_share_expected" {
            m.value = None;
        }
    }
    let mut work = forks[0].clone();
    work.name = "forks.forks_per_s".into();
    work.unit = "forks/s".into();
    (work.value, work.lower, work.upper) = (Some(7233.0), Some(7100.0), Some(7400.0));
    let mut isolated_work = work.clone();
    isolated_work.condition = Some(Condition::Isolated);
    (
        isolated_work.value,
        isolated_work.lower,
        isolated_work.upper,
    ) = (Some(1822.0), Some(1790.0), Some(1850.0));
    results.scenarios[0]
        .metrics
        .extend(forks.into_iter().chain([work, isolated_work]));
    let line = &verdict_lines(&results)[0];
    assert!(
        line.ends_with(
            "; batch got 0.50 CPUs [0.50, 0.50] CPUs of 0.50 expected; forks got 0.50 CPUs [0.50, 0.50] CPUs \
             (expected share unavailable); its work 25 % of contended (1.82 k forks/s [1.79, 1.85] k forks/s \
             isolated vs 7.23 k forks/s [7.10, 7.40] k forks/s contended)"
        ),
        "{line}"
    );
}

#[test]
fn a_latency_impact_past_999_percent_reads_as_a_factor_as_in_the_tables() {
    let mut results = fixture::results();
    let v = results.scenarios[0].verdict.as_mut().unwrap();
    v.measures[0].contended_excess.value = 17_491.105;
    v.measures[0].contended_excess.upper = 20_000.0;
    let line = &verdict_lines(&results)[0];
    assert!(line.contains("p99 vs solo: ×17492 [×4"), "{line}");
}

#[test]
fn c12_cpu_pressure_says_whose_doing_it_was_in_the_verdict_line() {
    use isobench_reports::schema::{Interval, PressureVerdict, StallCause};
    let share = |v: f64| Interval {
        value: v,
        lower: v - 0.01,
        upper: v + 0.01,
    };
    let mut results = fixture::results();
    let v = results.scenarios[0].verdict.as_mut().unwrap();
    v.cpu_pressure = vec![
        PressureVerdict {
            sandbox: "victim".into(),
            condition: Condition::Isolated,
            some: share(0.8),
            throttled: Some(share(0.78)),
            throttled_unavailable: None,
            cause: StallCause::SelfInflicted,
        },
        PressureVerdict {
            sandbox: "victim".into(),
            condition: Condition::Contended,
            some: share(0.35),
            throttled: None,
            throttled_unavailable: Some("cpu.stat has no throttled time".into()),
            cause: StallCause::Neighbour,
        },
    ];
    let line = &verdict_lines(&results)[0];
    assert!(
        line.contains(
            "victim CPU stall (PSI some) 80 % [79, 81] % isolated: self-inflicted (throttling), \
             throttled 78 % [77, 79] % of the window by its own quota, not a neighbour; \
             victim CPU stall (PSI some) 35 % [34, 36] % contended: neighbour: other tasks held the CPUs \
             it wanted (throttled by its own quota unavailable"
        ),
        "{line}"
    );
}
