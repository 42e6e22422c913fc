//! `isobench sweep` (issue 17): one isolation scenario run at a list of
//! values of one knob — an aggressor's intensity, a CPU quota or a memory
//! limit ([`knob`]) — in one run, to draw the victim's sensitivity curve
//! (Bubble-Up, MICRO'11; iBench, IISWC'13) and name its knee ([`knee`]).
//!
//! Each value becomes one copy of the scenario (a *step*, named
//! `<scenario>@<knob>=<value>`), run by the ordinary isolation runner
//! ([`crate::scenario::isolation::IsolationRounds`]): the same conditions,
//! warm-up, validity rules and statistics as `isobench run`. A round of the
//! sweep runs one round of every step, the steps in a fresh random order
//! (and each step's conditions in their own), so drift of the host spreads
//! over all values alike instead of bending the curve.

pub mod curve;
pub mod knee;
pub mod knob;

use crate::interrupt;
use crate::run::{self, Refused, RunOutcome, RunPlan, Saver};
use crate::scenario::isolation::{IsolationRounds, IsolationSpec};
use crate::scenario::{Progress, RunContext};
use crate::suite::{Kind, ScenarioDef, Suite};
use anyhow::Result;
use isobench_reports::schema::{Condition, ScenarioResult, ScenarioStatus};
use isobench_reports::schema_sweep::{Sweep, SweepStep};
use knob::Over;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::time::Instant;

/// Seconds a run spends besides its scenarios' windows: the host probe, the
/// arena, calibrating the work unit and teardown, as `isobench run` counts
/// them ([`crate::plan::estimate_s`]); sweeps of 5 steps × 3 rounds × 1 s
/// took 76.5 to 81 s in six runs against the 80 s so estimated on the 2-CPU
/// development host.
pub const SETUP_S: f64 = 2.0;

/// A checked sweep: the run of its steps (each a scenario of `run.suite`) and what is swept.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The run: its suite holds one scenario per step, in ascending order of value.
    pub run: RunPlan,
    /// The suite's scenario swept.
    pub scenario: String,
    /// The knob.
    pub over: Over,
    /// The steps, ascending.
    pub steps: Vec<SweepStep>,
    /// The conditions of the scenario.
    pub conditions: Vec<Condition>,
    /// The knee's margin (ratio, [`knee::DEFAULT_MARGIN`]).
    pub knee_margin: f64,
    /// Seconds the sweep should take on about 2 CPUs ([`estimate_s`]).
    pub estimate_s: f64,
}

impl SweepPlan {
    /// Rounds of the sweep: those of its steps (all alike).
    pub fn rounds(&self) -> usize {
        self.run
            .suite
            .scenarios
            .first()
            .map_or(0, |s| s.timing.rounds)
    }
}

/// Replaces `suite`'s scenarios by one copy of `scenario` per value of
/// `values`, the knob `over` set to it; returns the steps.
///
/// # Errors
/// [`Refused`] naming the flag: an unknown scenario, one of another kind than
/// isolation, or a knob it lacks ([`Over::check`]).
pub fn steps(
    suite: &mut Suite,
    scenario: &str,
    over: &Over,
    values: &[f64],
) -> Result<Vec<SweepStep>, Refused> {
    let names: Vec<&str> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
    let Some(def) = suite.scenarios.iter().find(|s| s.name == scenario).cloned() else {
        return Err(Refused(format!(
            "--scenario {scenario:?}: suite {} has no such scenario; it has {}",
            suite.name,
            names.join(", ")
        )));
    };
    let Kind::Isolation(iso) = &def.kind else {
        return Err(Refused(format!(
            "--scenario {scenario}: a sweep runs an isolation scenario (a victim beside aggressors), and {scenario} is another kind"
        )));
    };
    over.check(iso)
        .map_err(|why| Refused(format!("--over {}: scenario {scenario} {why}", over.text)))?;
    let mut steps = Vec::new();
    suite.scenarios = values
        .iter()
        .map(|&v| {
            let mut label = over.label(v);
            if over.knob == knob::Knob::Intensity && v == 0.0 {
                label.push_str(" (neighbour left out)");
            }
            let name = format!(
                "{scenario}@{}={}",
                over.text,
                over.label(v).replace(' ', "")
            );
            steps.push(SweepStep {
                value: v,
                label,
                scenario: name.clone(),
            });
            ScenarioDef {
                name,
                timing: def.timing,
                kind: Kind::Isolation(Box::new(over.apply(iso, v))),
            }
        })
        .collect();
    Ok(steps)
}

/// Seconds a sweep of `suite` (its steps) takes on about 2 CPUs: each step's
/// rounds × conditions × (warm-up + window) and its sandboxes' start and
/// stop ([`crate::plan::scenario_estimate_s`]), plus [`SETUP_S`].
pub fn estimate_s(suite: &Suite, layout: Option<crate::cgroup::Layout>) -> f64 {
    suite
        .scenarios
        .iter()
        .map(|s| crate::plan::scenario_estimate_s(s, layout))
        .sum::<f64>()
        + SETUP_S
}

/// Forwards a step's progress to the run's meter; the sweep saves its steps itself.
struct StepProgress<'s, 'a> {
    saver: &'s mut Saver<'a>,
}

impl Progress for StepProgress<'_, '_> {
    fn step_done(&mut self, scenario: &str, what: &str) {
        self.saver.meter.step_done(scenario, what);
    }

    fn round_done(&mut self, _partial: &ScenarioResult) {}

    fn more_rounds(&mut self, _partial: &ScenarioResult) -> bool {
        false
    }
}

/// Runs the sweep: every round runs one round of each step, the steps in a
/// fresh random order; the results (steps, curves, knees) are written after
/// every round. A step that fails stops only itself.
///
/// # Errors
/// As [`run::execute`].
pub fn execute(plan: &SweepPlan) -> Result<RunOutcome> {
    let started = Instant::now();
    let rounds = plan.rounds();
    run::execute_with(&plan.run, &mut |_host, ctx, saver| {
        let specs: Vec<IsolationSpec> = plan
            .run
            .suite
            .scenarios
            .iter()
            .filter_map(|s| match &s.kind {
                Kind::Isolation(def) => Some(IsolationSpec {
                    name: s.name.clone(),
                    timing: s.timing,
                    def: (**def).clone(),
                }),
                _ => None,
            })
            .collect();
        run_rounds(plan, &specs, ctx, saver, rounds, started)
    })
}

fn run_rounds(
    plan: &SweepPlan,
    specs: &[IsolationSpec],
    ctx: &RunContext<'_>,
    saver: &mut Saver<'_>,
    rounds: usize,
    started: Instant,
) -> Result<()> {
    let seed = u64::from(std::process::id());
    let mut stepped: Vec<IsolationRounds> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| IsolationRounds::new(s, ctx, seed.wrapping_add(i as u64 * 7919)))
        .collect();
    let mut going = vec![true; stepped.len()];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x5eed);
    let mut orders: Vec<Vec<usize>> = Vec::new();
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..stepped.len()).collect();
        order.shuffle(&mut rng);
        for &i in &order {
            if going[i] {
                going[i] = stepped[i].round(&mut StepProgress { saver: &mut *saver });
            }
            if interrupt::requested() {
                break;
            }
        }
        orders.push(order);
        let last = round + 1 == rounds || interrupt::requested();
        for (s, step) in stepped.iter().zip(&plan.steps) {
            let mut partial = s.result().clone();
            if partial.status == ScenarioStatus::Complete && partial.rounds.len() < rounds {
                partial.status = ScenarioStatus::Interrupted(if last {
                    format!(
                        "the sweep was interrupted after {} of {rounds} rounds",
                        partial.rounds.len()
                    )
                } else {
                    "sweep still in progress when this file was written".into()
                });
            }
            saver.save_as(&step.scenario, partial)?;
        }
        let results: Vec<&ScenarioResult> = stepped.iter().map(|s| s.result()).collect();
        let elapsed = last.then(|| started.elapsed().as_secs_f64());
        saver.save_sweep(summary(plan, &results, orders.clone(), elapsed))?;
        saver.meter.part_done(
            &format!("sweep {}: round {}/{rounds} done", plan.scenario, round + 1),
            (round + 1) as f64 / rounds.max(1) as f64,
        );
        if last {
            break;
        }
    }
    Ok(())
}

/// The sweep's part of the results from its steps' results so far.
pub fn summary(
    plan: &SweepPlan,
    results: &[&ScenarioResult],
    orders: Vec<Vec<usize>>,
    elapsed_s: Option<f64>,
) -> Sweep {
    Sweep {
        scenario: plan.scenario.clone(),
        over: plan.over.text.clone(),
        unit: plan.over.knob.unit().into(),
        steps: plan.steps.clone(),
        rounds: plan.rounds(),
        orders,
        knee_margin: plan.knee_margin,
        curves: curve::curves(&plan.conditions, &plan.steps, results, plan.knee_margin),
        estimate_s: plan.estimate_s,
        elapsed_s,
    }
}
