//! The curves of a sweep: per condition and step, the victim's p99,
//! late share and throughput as means over rounds with their bootstrap CIs
//! (the step's own metrics, [`crate::scenario`]'s derivation, so the figures
//! are those `isobench run` reports), the p99's ratio against the first step,
//! and the knee ([`super::knee`]).

use super::knee;
use isobench_reports::schema::{Condition, Interval, Metric, Results, ScenarioResult};
use isobench_reports::schema_sweep::{SweepCurve, SweepPoint, SweepStep};

const P99: &str = "victim.latency_p99_us";
const LATE: &str = "victim.late_share";
const THROUGHPUT: &str = "victim.throughput_ops";

/// One curve per condition of `conditions`; `results[i]` is step `i`'s scenario
/// (as far as it ran), `margin` the knee's ([`knee::DEFAULT_MARGIN`]).
pub fn curves(
    conditions: &[Condition],
    steps: &[SweepStep],
    results: &[&ScenarioResult],
    margin: f64,
) -> Vec<SweepCurve> {
    conditions
        .iter()
        .map(|&c| curve(c, steps, results, margin))
        .collect()
}

fn curve(
    c: Condition,
    steps: &[SweepStep],
    results: &[&ScenarioResult],
    margin: f64,
) -> SweepCurve {
    let p99s: Vec<Vec<f64>> = results
        .iter()
        .map(|r| valid(Results::metric(r, P99, Some(c))))
        .collect();
    let points = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ratio = (i > 0)
                .then(|| knee::ratio(&p99s[0], &p99s[i], 17 + i as u64))
                .flatten();
            point(r, c, ratio, p99s[i].len())
        })
        .collect();
    let values: Vec<f64> = steps.iter().map(|s| s.value).collect();
    let labels: Vec<String> = steps.iter().map(|s| s.label.clone()).collect();
    SweepCurve {
        condition: c,
        points,
        knee: knee::knee(&p99s, &values, &labels, margin),
    }
}

/// The valid rounds' values of `m` (none when the step has no such metric).
fn valid(m: Option<&Metric>) -> Vec<f64> {
    m.map(|m| m.per_round.iter().flatten().copied().collect())
        .unwrap_or_default()
}

/// The mean and CI of metric `name` of `r` in condition `c`, when it has both.
pub fn interval(r: &ScenarioResult, name: &str, c: Condition) -> Option<Interval> {
    let m = Results::metric(r, name, Some(c))?;
    Some(Interval {
        value: m.value?,
        lower: m.lower?,
        upper: m.upper?,
    })
}

fn point(
    r: &ScenarioResult,
    c: Condition,
    p99_ratio: Option<Interval>,
    valid_rounds: usize,
) -> SweepPoint {
    let p99_us = interval(r, P99, c);
    let unavailable = p99_us.is_none().then(|| {
        let invalid: Vec<String> = r
            .rounds
            .iter()
            .filter_map(|round| {
                let run = round.conditions.iter().find(|x| x.condition == c)?;
                Some(format!(
                    "round {}: {}",
                    round.index + 1,
                    run.invalid.as_ref()?
                ))
            })
            .collect();
        let mut why = format!(
            "{valid_rounds} valid round(s) of {} run: a mean with a CI needs at least {}",
            r.rounds.len(),
            knee::MIN_ROUNDS
        );
        if !invalid.is_empty() {
            why.push_str(&format!("; invalid: {}", invalid.join("; ")));
        }
        why
    });
    SweepPoint {
        p99_us,
        late_share: interval(r, LATE, c),
        throughput_ops: interval(r, THROUGHPUT, c),
        p99_ratio,
        valid_rounds,
        unavailable,
    }
}
