//! The gate on a sweep's knee (issue 17): two sweeps of the same scenario
//! over the same knob and values, the isolated condition's knee held
//! against the baseline's.
//!
//! A knee is a step index, not a mean over rounds: it has no bootstrap
//! interval of its own, and in an A/A pair the same p99 rise can be called
//! beyond the noise at one step in one run and at the next in the other (the
//! knee's CI test sits at the edge of the rise). So the rule is counted in
//! steps: the knee FAILs when it moved to a lower value by more than the
//! margin (default 1 step: `sweep.knee` in the margins file), PASSes
//! otherwise; "no knee within the swept range" counts as the step just past
//! the last; an undetermined knee on either side is INCONCLUSIVE.

use super::margins::Margins;
use isobench_reports::comparison::{Better, ChangeKind, ComparedMetric, Outcome};
use isobench_reports::schema::{Condition, Results};
use isobench_reports::schema_sweep::{Knee, Sweep};

/// The gated name of the knee.
pub const NAME: &str = "sweep.knee";

/// The knee's step index: the step, the one past the last for no knee, `None` undetermined.
fn index(s: &Sweep, k: &Knee) -> Option<usize> {
    match k {
        Knee::At { step, .. } => Some(*step),
        Knee::NoneWithinRange { .. } => Some(s.steps.len()),
        Knee::Undetermined { .. } => None,
    }
}

fn value(k: &Knee) -> Option<f64> {
    match k {
        Knee::At { value, .. } => Some(*value),
        _ => None,
    }
}

/// The knee's row when both runs are sweeps of the same values; a reason
/// to list as not compared when they are sweeps that differ; nothing when
/// neither is a sweep.
pub fn row(
    base: &Results,
    cur: &Results,
    margins: &Margins,
) -> Result<Option<ComparedMetric>, String> {
    let (b, c) = match (&base.sweep, &cur.sweep) {
        (None, None) => return Ok(None),
        (Some(b), Some(c)) => (b, c),
        _ => return Err(format!("{NAME}: only one of the two runs is a sweep")),
    };
    let values = |s: &Sweep| s.steps.iter().map(|x| x.value).collect::<Vec<f64>>();
    if b.scenario != c.scenario || b.over != c.over || values(b) != values(c) {
        return Err(format!(
            "{NAME}: the sweeps differ (baseline {} over {} at {:?}, current {} over {} at {:?}): a knee compares only between the same steps",
            b.scenario,
            b.over,
            values(b),
            c.scenario,
            c.over,
            values(c)
        ));
    }
    let iso = Condition::Isolated;
    let knee = |s: &Sweep| {
        s.curves
            .iter()
            .find(|x| x.condition == iso)
            .map(|x| x.knee.clone())
    };
    let (Some(kb), Some(kc)) = (knee(b), knee(c)) else {
        return Err(format!(
            "{NAME}: a sweep without the isolated condition has no gated knee"
        ));
    };
    let Some(rule) = margins.rule(&c.scenario, NAME, Some(iso)) else {
        return Ok(None);
    };
    let mut row = ComparedMetric {
        scenario: c.scenario.clone(),
        name: NAME.into(),
        condition: Some(iso),
        unit: c.unit.clone(),
        kind: ChangeKind::Check,
        better: Better::Higher,
        baseline: value(&kb),
        current: value(&kc),
        change: None,
        lower: None,
        upper: None,
        margin: Some(rule.margin),
        detectable: None,
        outcome: Outcome::Inconclusive,
        note: None,
    };
    let describe = |k: &Knee| k.describe(&c.steps);
    match (index(b, &kb), index(c, &kc)) {
        (Some(ib), Some(ic)) => {
            let moved = ic as f64 - ib as f64;
            row.change = Some(moved);
            let down = -moved;
            row.outcome = if down > rule.margin {
                Outcome::Fail
            } else {
                Outcome::Pass
            };
            row.note = Some(format!(
                "knee {} in the baseline, {} now: {} by {} step(s), {} at most {} step(s) lower",
                describe(&kb),
                describe(&kc),
                if moved < 0.0 {
                    "lower"
                } else if moved > 0.0 {
                    "higher"
                } else {
                    "unmoved"
                },
                moved.abs(),
                if down > rule.margin {
                    "beyond"
                } else {
                    "within"
                },
                rule.margin
            ));
        }
        _ => {
            row.note = Some(format!(
                "knee {} in the baseline, {} now: an undetermined knee cannot be judged",
                describe(&kb),
                describe(&kc)
            ));
        }
    }
    Ok(Some(row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::schema::Interval;
    use isobench_reports::schema_sweep::{SweepCurve, SweepStep};

    fn sweep(knee: Knee) -> Results {
        let text = include_str!("../../tests/fixtures/results/quick-a.json");
        let mut r = Results::from_json(text).unwrap();
        r.sweep = Some(Sweep {
            scenario: "cpu-share".into(),
            over: "aggressor.intensity".into(),
            unit: "%".into(),
            steps: (0..5)
                .map(|i| SweepStep {
                    value: i as f64 * 25.0,
                    label: format!("{} %", i * 25),
                    scenario: format!("cpu-share@aggressor.intensity={}%", i * 25),
                })
                .collect(),
            rounds: 3,
            orders: Vec::new(),
            knee_margin: 1.2,
            curves: vec![SweepCurve {
                condition: Condition::Isolated,
                points: Vec::new(),
                knee,
            }],
            estimate_s: 80.0,
            elapsed_s: Some(78.0),
        });
        r
    }

    fn at(step: usize) -> Knee {
        Knee::At {
            step,
            value: step as f64 * 25.0,
            ratio: Interval {
                value: 2.0,
                lower: 1.5,
                upper: 2.5,
            },
        }
    }

    fn outcome(b: Knee, c: Knee) -> Outcome {
        row(&sweep(b), &sweep(c), &Margins::default())
            .unwrap()
            .unwrap()
            .outcome
    }

    #[test]
    fn a_knee_one_step_lower_passes_two_steps_lower_fails() {
        assert_eq!(outcome(at(3), at(3)), Outcome::Pass);
        assert_eq!(outcome(at(3), at(2)), Outcome::Pass);
        assert_eq!(outcome(at(3), at(1)), Outcome::Fail);
        assert_eq!(outcome(at(1), at(4)), Outcome::Pass);
        // No knee counts as the step past the last.
        let none = || Knee::NoneWithinRange { largest: None };
        assert_eq!(outcome(none(), at(4)), Outcome::Pass);
        assert_eq!(outcome(none(), at(3)), Outcome::Fail);
        let undetermined = Knee::Undetermined {
            reason: "step 25 % invalid".into(),
        };
        assert_eq!(outcome(at(2), undetermined), Outcome::Inconclusive);
    }

    #[test]
    fn sweeps_of_other_steps_are_not_compared() {
        let b = sweep(at(2));
        let mut c = sweep(at(2));
        c.sweep.as_mut().unwrap().steps.pop();
        assert!(
            row(&b, &c, &Margins::default())
                .unwrap_err()
                .contains("differ")
        );
        let mut plain = sweep(at(2));
        plain.sweep = None;
        assert!(row(&plain, &plain, &Margins::default()).unwrap().is_none());
    }
}
