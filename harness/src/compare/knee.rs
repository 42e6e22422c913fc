//! The gate on a sweep's knee (issue 17): two sweeps of the same scenario
//! over the same knob and values, the isolated condition's knee held
//! against the baseline's.
//!
//! A knee is a step index, not a mean over rounds: it has no bootstrap
//! interval of its own, and in an A/A pair the same p99 rise can be called
//! beyond the noise at one step in one run and at another in the other (the
//! knee's CI test sits at the edge of the rise; on the shared, loaded 2-CPU
//! host an A/A pair of 3-round sweeps found "no knee" and "at 50 %"). So the
//! rule is "moved by more than the margin in steps, and beyond the noise": a
//! knee at most `sweep.knee` steps (default 1) lower PASSes; one lower by more
//! FAILs only where the current run's isolated p99 at its knee is, against the
//! baseline's at the same step, a ratio whose 95 % CI lies wholly above the
//! sweep's knee margin (the curve really rose there; [`crate::stats::change`]
//! over the two runs' rounds), and is INCONCLUSIVE otherwise. "No knee within
//! the swept range" counts as the step just past the last; an undetermined
//! knee on either side is INCONCLUSIVE.

use super::margins::Margins;
use isobench_reports::comparison::{Better, ChangeKind, ComparedMetric, Outcome};
use isobench_reports::schema::{Condition, Interval, Results};
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
            let said = format!(
                "knee {} in the baseline, {} now: {} by {} step(s)",
                describe(&kb),
                describe(&kc),
                if moved < 0.0 {
                    "lower"
                } else if moved > 0.0 {
                    "higher"
                } else {
                    "unmoved"
                },
                moved.abs()
            );
            if down <= rule.margin {
                row.outcome = Outcome::Pass;
                row.note = Some(format!(
                    "{said}, within at most {} step(s) lower",
                    rule.margin
                ));
            } else {
                let rise = rise_at(base, cur, c, ic);
                let beyond = rise.is_some_and(|r| r.lower > c.knee_margin);
                row.outcome = if beyond {
                    Outcome::Fail
                } else {
                    Outcome::Inconclusive
                };
                row.note = Some(match rise {
                    Some(r) => format!(
                        "{said}; at that step the p99 is ×{:.2} [×{:.2}, ×{:.2}] of the baseline's: {}",
                        r.value,
                        r.lower,
                        r.upper,
                        if beyond {
                            format!("beyond the noise (above ×{:.2})", c.knee_margin)
                        } else {
                            format!(
                                "not beyond the noise (×{:.2}): more rounds could tell",
                                c.knee_margin
                            )
                        }
                    ),
                    None => format!(
                        "{said}; the p99s at that step cannot be compared (too few valid rounds)"
                    ),
                });
            }
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

/// The current run's isolated p99 at step `step` against the baseline's,
/// with its CI over the two runs' rounds; `None` without two valid rounds on
/// each side (or past the last step).
fn rise_at(base: &Results, cur: &Results, sweep: &Sweep, step: usize) -> Option<Interval> {
    let name = &sweep.steps.get(step)?.scenario;
    let p99s = |r: &Results| -> Vec<f64> {
        r.scenarios
            .iter()
            .find(|s| &s.name == name)
            .and_then(|s| Results::metric(s, "victim.latency_p99_us", Some(Condition::Isolated)))
            .map(|m| m.per_round.iter().flatten().copied().collect())
            .unwrap_or_default()
    };
    crate::sweep::knee::ratio(&p99s(base), &p99s(cur), 0x4b4e4545)
}

#[cfg(test)]
mod tests {
    use super::*;
    use isobench_reports::schema::{Metric, ScenarioResult};
    use isobench_reports::schema_sweep::{SweepCurve, SweepStep};

    /// A sweep result whose isolated knee is `knee` and whose steps' isolated
    /// p99s are `p99[i]` µs in each of 3 rounds (±2 %).
    fn sweep_with(knee: Knee, p99: [f64; 5]) -> Results {
        let text = include_str!("../../tests/fixtures/results/quick-a.json");
        let mut r = Results::from_json(text).unwrap();
        let steps: Vec<SweepStep> = (0..5)
            .map(|i| SweepStep {
                value: i as f64 * 25.0,
                label: format!("{} %", i * 25),
                scenario: format!("cpu-share@aggressor.intensity={}%", i * 25),
            })
            .collect();
        r.scenarios = steps
            .iter()
            .zip(p99)
            .map(|(s, v)| {
                let mut sr = ScenarioResult::started(&s.scenario, "", serde_json::json!({}));
                sr.metrics.push(Metric {
                    name: "victim.latency_p99_us".into(),
                    condition: Some(Condition::Isolated),
                    unit: "us".into(),
                    value: Some(v),
                    lower: Some(v * 0.98),
                    upper: Some(v * 1.02),
                    per_round: vec![Some(v * 0.98), Some(v), Some(v * 1.02)],
                    reason: None,
                });
                sr
            })
            .collect();
        r.sweep = Some(Sweep {
            scenario: "cpu-share".into(),
            over: "aggressor.intensity".into(),
            unit: "%".into(),
            steps,
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

    /// A sweep whose curve is flat at 100 µs (an A/A baseline).
    fn sweep(knee: Knee) -> Results {
        sweep_with(knee, [100.0; 5])
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
    fn a_knee_one_step_lower_passes_further_is_judged_on_the_noise() {
        assert_eq!(outcome(at(3), at(3)), Outcome::Pass);
        assert_eq!(outcome(at(3), at(2)), Outcome::Pass);
        assert_eq!(outcome(at(1), at(4)), Outcome::Pass);
        let none = || Knee::NoneWithinRange { largest: None };
        assert_eq!(outcome(none(), at(4)), Outcome::Pass);
        // Two steps lower on curves alike at that step (an A/A pair): not beyond the noise.
        assert_eq!(outcome(at(3), at(1)), Outcome::Inconclusive);
        assert_eq!(outcome(none(), at(3)), Outcome::Inconclusive);
        // Two steps lower where the current curve is ×3 the baseline's: FAIL.
        let risen = sweep_with(at(1), [100.0, 300.0, 300.0, 300.0, 300.0]);
        let r = row(&sweep(at(3)), &risen, &Margins::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.outcome, Outcome::Fail, "{:?}", r.note);
        assert!(r.note.unwrap().contains("beyond the noise"));
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
