//! The lines `cargo bench` prints for a comparison (issue 14): one per gated
//! metric, its change as a signed percentage with its CI, and the outcome in
//! criterion's words.

use crate::fixture;
use isobench_reports::change_lines;
use isobench_reports::comparison::{
    Better, ChangeKind, ComparedMetric, Comparison, Outcome, RunRef,
};
use isobench_reports::schema::{Condition, NeighbourRun, Results};

fn row(name: &str, unit: &str, change: (f64, f64, f64), outcome: Outcome) -> ComparedMetric {
    ComparedMetric {
        scenario: "cpu-share".into(),
        name: name.into(),
        condition: Some(Condition::Isolated),
        unit: unit.into(),
        kind: ChangeKind::Ratio,
        better: Better::Lower,
        baseline: Some(400.0),
        current: Some(400.0 * change.0),
        change: Some(change.0),
        lower: Some(change.1),
        upper: Some(change.2),
        margin: Some(1.6),
        detectable: Some(1.3),
        outcome,
        note: None,
    }
}

fn comparison(rows: Vec<ComparedMetric>) -> Comparison {
    let run = RunRef {
        path: "results.json".into(),
        run_id: "r".into(),
        started_at: "2026-12-06T00:00:00Z".into(),
    };
    Comparison {
        schema_version: isobench_reports::comparison::COMPARISON_VERSION,
        baseline: run.clone(),
        current: run,
        fingerprint_differences: Vec::new(),
        forced: false,
        unfit: Vec::new(),
        accept_disturbed: false,
        accepted_disturbance: Vec::new(),
        rows,
        not_compared: Vec::new(),
        exit_code: 0,
        verdict: String::new(),
    }
}

/// The fixture's results with a `cpu-hog` beside the victim in every condition but solo.
fn beside_cpu_hog() -> Results {
    let mut r = fixture::results();
    for c in r.scenarios[0]
        .rounds
        .iter_mut()
        .flat_map(|r| &mut r.conditions)
        .filter(|c| c.condition != Condition::Solo)
    {
        c.neighbours.push(NeighbourRun {
            sandbox: "aggressor".into(),
            workload: "cpu-hog".into(),
            count: 1,
            work: None,
            memory_peak_bytes: None,
            reports: Vec::new(),
            failures: Vec::new(),
            exits: Vec::new(),
        });
    }
    r
}

#[test]
fn a_change_reads_as_a_signed_percentage_with_its_interval_and_outcome() {
    let mut impact = row(
        "victim.latency_impact_p99",
        "ratio",
        (1.2, 0.7, 1.9),
        Outcome::NoClearChange,
    );
    (impact.baseline, impact.current) = (Some(3.0), Some(3.8));
    let mut share = row(
        "aggressor.cpu_share",
        "CPUs",
        (0.4, -0.2, 1.1),
        Outcome::Pass,
    );
    share.kind = ChangeKind::DifferencePp;
    (share.baseline, share.current) = (Some(0.5), Some(0.5));
    let c = comparison(vec![
        row(
            "victim.latency_p99_us",
            "us",
            (1.12, 1.08, 1.16),
            Outcome::Fail,
        ),
        row(
            "victim.latency_p50_us",
            "us",
            (0.98, 0.93, 1.04),
            Outcome::Pass,
        ),
        impact,
        row(
            "victim.latency_p999_us",
            "us",
            (0.5, 0.4, 0.6),
            Outcome::Improved,
        ),
        share,
        row(
            "harness.cpu_share",
            "CPUs",
            (1.0, 1.0, 1.0),
            Outcome::NotGated,
        ),
    ]);
    let lines = change_lines(&c, &beside_cpu_hog());
    assert_eq!(
        lines,
        [
            "cpu-share: victim p99 beside cpu-hog: +12 % [+8, +16] %, regressed; 448 µs, was 400 µs",
            "cpu-share: victim p50 beside cpu-hog: -2 % [-7, +4] %, no change; 392 µs, was 400 µs",
            "cpu-share: victim p99 beside cpu-hog (vs solo): +20 % [-30, +90] %, no change (noise wider than the +60 % margin); +380 %, was +300 %",
            "cpu-share: victim p99.9 beside cpu-hog: -50 % [-60, -40] %, improved; 200 µs, was 400 µs",
            "cpu-share: cpu-hog CPU share: +0.4 pp [-0.2, +1.1] pp, no change; 0.50 CPUs, was 0.50 CPUs",
        ]
    );
}

#[test]
fn an_inconclusive_row_says_why_and_a_difference_reads_in_pp() {
    let mut late = row(
        "victim.late_share",
        "share",
        (0.4, -0.2, 1.1),
        Outcome::Inconclusive,
    );
    late.kind = ChangeKind::DifferencePp;
    late.baseline = Some(0.01);
    late.current = Some(0.014);
    late.note = Some("2 and 3 measured rounds: at least 3 are needed".into());
    let lines = change_lines(&comparison(vec![late]), &fixture::results());
    assert_eq!(
        lines,
        [
            "cpu-share: victim late units: +0.4 pp [-0.2, +1.1] pp, inconclusive (2 and 3 measured rounds: at least 3 are needed); 1.4 %, was 1.0 %"
        ]
    );
}
