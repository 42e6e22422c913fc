use crate::fixture;
use isobench_reports::schema::{Condition, Results, ScenarioStatus};
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
fn cpu_share_line_states_retained_throughput_latency_and_aggressor_share() {
    let lines = verdict_lines(&fixture::results());
    assert_eq!(
        lines[0],
        "cpu-share: isolated victim kept 99 % of its solo throughput (contended: 61 %); \
         p99 +4 % (contended: +380 %); aggressor got 0.50 CPUs of 0.50 expected"
    );
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
    assert_eq!(
        line,
        "cpu-share: isolated victim's retained throughput unavailable (contended: 61 %); \
         p99 +4 % (contended: unavailable); aggressor got 0.50 CPUs (expected share unavailable)"
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
         Permission denied; isolated victim's retained throughput unavailable (contended: 80 %); \
         p99 unavailable (contended: unavailable)"
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
    work.value = Some(7233.0);
    let mut isolated_work = work.clone();
    isolated_work.condition = Some(Condition::Isolated);
    isolated_work.value = Some(1822.0);
    results.scenarios[0]
        .metrics
        .extend(forks.into_iter().chain([work, isolated_work]));
    let line = &verdict_lines(&results)[0];
    assert!(
        line.ends_with(
            "; batch got 0.50 CPUs of 0.50 expected; forks got 0.50 CPUs (expected share \
             unavailable); its work 25 % of contended (1.82 k vs 7.23 k forks/s)"
        ),
        "{line}"
    );
}

#[test]
fn a_latency_impact_past_999_percent_reads_as_a_factor_as_in_the_tables() {
    let mut results = fixture::results();
    set(
        &mut results,
        "victim.latency_impact_p99",
        Condition::Contended,
        Some(17_491.105),
    );
    let line = &verdict_lines(&results)[0];
    assert!(line.contains("p99 +4 % (contended: ×17492)"), "{line}");
}
