//! The round loop every condition-based scenario shares: conditions in a
//! fresh random order each round (DESIGN §3), results derived and handed to
//! [`Progress`] after every round, extra rounds while `--until-decided` asks,
//! and a failure or interruption ending the scenario with what it has.

use super::Progress;
use super::metrics::ConditionSample;
use crate::interrupt;
use isobench_reports::schema::{Condition, Round, ScenarioResult, ScenarioStatus};
use rand::SeedableRng;
use rand::seq::SliceRandom;

/// Runs `planned` rounds (and more while `progress` asks) of `conditions`
/// through `run_condition(round, condition)`, re-deriving `result` with `derive`
/// after each round.
pub fn run(
    result: &mut ScenarioResult,
    planned: usize,
    conditions: &[Condition],
    progress: &mut dyn Progress,
    run_condition: &mut dyn FnMut(usize, Condition) -> anyhow::Result<ConditionSample>,
    derive: &dyn Fn(&mut ScenarioResult, &[Vec<ConditionSample>]),
) {
    let name = result.name.clone();
    let mut samples: Vec<Vec<ConditionSample>> = Vec::new();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(u64::from(std::process::id()));
    let mut index = 0;
    while index < planned || progress.more_rounds(result) {
        let mut order = conditions.to_vec();
        order.shuffle(&mut rng);
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
            break;
        }
        result.rounds.push(Round {
            index,
            order,
            conditions: round.iter().map(|s| s.run.clone()).collect(),
        });
        samples.push(round);
        derive(result, &samples);
        progress.round_done(result);
        index += 1;
    }
    derive(result, &samples);
}
