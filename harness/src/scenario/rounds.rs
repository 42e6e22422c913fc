//! The round loop every condition-based scenario shares: conditions in a
//! fresh random order each round (DESIGN §3), results derived and handed to
//! [`Progress`] after every round, extra rounds while `--until-decided` asks,
//! and a failure or interruption ending the scenario with what it has.
//!
//! [`RoundLoop`] runs one round at a time, so that `isobench sweep` can
//! interleave the rounds of several scenario variants (one per swept value)
//! in an order of its own; [`run`] runs a scenario's rounds back to back.

use super::Progress;
use super::metrics::ConditionSample;
use crate::interrupt;
use isobench_reports::schema::{Condition, Round, ScenarioResult, ScenarioStatus};
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// Runs one condition of a round: `(round index, condition)` → its sample.
pub type RunCondition<'a> = dyn FnMut(usize, Condition) -> anyhow::Result<ConditionSample> + 'a;
/// Derives a scenario's metrics from the samples of every round so far.
pub type Derive<'a> = dyn Fn(&mut ScenarioResult, &[Vec<ConditionSample>]) + 'a;

/// The rounds of one scenario so far: their samples, and the random order source.
pub struct RoundLoop {
    samples: Vec<Vec<ConditionSample>>,
    rng: rand::rngs::SmallRng,
}

impl RoundLoop {
    /// A loop with no round run yet; `seed` sets the conditions' orders.
    pub fn new(seed: u64) -> RoundLoop {
        RoundLoop {
            samples: Vec::new(),
            rng: rand::rngs::SmallRng::seed_from_u64(seed),
        }
    }

    /// Rounds completed.
    pub fn done(&self) -> usize {
        self.samples.len()
    }

    /// Runs the next round of `conditions`, in a fresh random order, and
    /// re-derives `result`. Returns false when the round failed or was
    /// interrupted: `result.status` says why, and no further round should run.
    pub fn round(
        &mut self,
        result: &mut ScenarioResult,
        conditions: &[Condition],
        progress: &mut dyn Progress,
        run_condition: &mut RunCondition<'_>,
        derive: &Derive<'_>,
    ) -> bool {
        let index = self.samples.len();
        let name = result.name.clone();
        let mut order = conditions.to_vec();
        order.shuffle(&mut self.rng);
        let mut round = Vec::new();
        for &condition in &order {
            match run_condition(index, condition) {
                Ok(sample) => round.push(sample),
                Err(e) if interrupt::requested() => {
                    result.status =
                        ScenarioStatus::Interrupted(format!("round {index}, {condition}: {e:#}"));
                    break;
                }
                Err(e) => {
                    result.status =
                        ScenarioStatus::Failed(format!("round {index}, {condition}: {e:#}"));
                    break;
                }
            }
            progress.step_done(&name, &format!("round {} {condition}", index + 1));
        }
        if result.status != ScenarioStatus::Complete {
            derive(result, &self.samples);
            return false;
        }
        result.rounds.push(Round {
            index,
            order,
            conditions: round.iter().map(|s| s.run.clone()).collect(),
        });
        self.samples.push(round);
        derive(result, &self.samples);
        true
    }
}

/// Runs `planned` rounds (and more while `progress` asks) of `conditions`
/// through `run_condition(round, condition)`, re-deriving `result` with `derive`
/// after each round.
pub fn run(
    result: &mut ScenarioResult,
    planned: usize,
    conditions: &[Condition],
    progress: &mut dyn Progress,
    run_condition: &mut RunCondition<'_>,
    derive: &Derive<'_>,
) {
    let mut rounds = RoundLoop::new(u64::from(std::process::id()));
    while rounds.done() < planned || progress.more_rounds(result) {
        if !rounds.round(result, conditions, progress, run_condition, derive) {
            return;
        }
        progress.round_done(result);
    }
}
