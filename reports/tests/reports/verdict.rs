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
        "cpu-share: PARTLY PROTECTED — p99 vs solo: ×4.80 [4.10, 5.40] contended, ×4.60 [3.90, 5.30] isolated; \
         the limits made no clear difference (removed 5 % [-20, 30] of it); \
         late units vs solo: +9.9 pp [+6.9, +12.9] contended, +4.6 pp [+3.2, +6.1] isolated; \
         the limits removed 54 % [38, 68] of it; \
         throughput vs solo: no interference to remove (contended −0.1 % [−0.3, +0.1]); \
         aggressor got 0.50 CPUs of 0.50 expected"
    );
}

#[test]
fn a_change_whose_ci_holds_no_change_reads_as_no_clear_change() {
    let mut results = fixture::results();
    let v = results.scenarios[0].verdict.as_mut().unwrap();
    v.measures[1].isolated_excess.lower = -0.004;
    let line = &verdict_lines(&results)[0];
    assert!(
        line.contains("no clear change (+4.6 pp [−0.4, +6.1]) isolated"),
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
        line.starts_with("cpu-share: INVALID — 0 of 3 rounds had every condition measuring something"),
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
        line.ends_with("aggressor got 0.50 CPUs (expected share unavailable)"),
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
