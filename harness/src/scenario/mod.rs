//! Scenarios: a victim, its aggressors, the limits and the durations, run as
//! conditions (solo, contended, isolated) × rounds in randomized order (DESIGN §1, §3).

pub mod cpu_share;
pub mod memory_high_stall;
pub mod memory_pressure;
mod metrics;
mod rounds;
pub mod startup_latency;
mod support;
pub mod visibility;

use crate::cgroup::Arena;
use isobench_workloads::report::Calibration;
use std::path::PathBuf;

/// An embedded suite: scenarios in the order they run, and their rounds and durations.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    /// Name for `--suite`.
    pub name: &'static str,
    /// Scenario names.
    pub scenarios: &'static [&'static str],
    /// Rounds and durations unless the command line says otherwise.
    pub timing: Timing,
    /// Scenarios that run fewer rounds than `timing` says unless `--rounds` is
    /// given: each memory-pressure condition fills a 2 GiB arena, so 3 rounds
    /// (the fewest `compare` judges) keep the suite's memory scenarios under a minute.
    pub fewer_rounds: &'static [(&'static str, usize)],
}

/// The embedded suites: `default` (what `isobench run` runs, about 1.5 min on 2 CPUs)
/// and `quick` (for every pull request: 10 rounds of short windows of the CPU
/// scenarios, under 45 s).
pub const SUITES: [Suite; 2] = [
    Suite {
        name: "default",
        scenarios: &[
            visibility::NAME,
            cpu_share::NAME,
            memory_pressure::NAME,
            memory_high_stall::NAME,
            startup_latency::NAME,
        ],
        timing: Timing {
            rounds: 5,
            duration_s: 2.0,
            warmup_s: 0.5,
        },
        fewer_rounds: &[(memory_pressure::NAME, 3)],
    },
    Suite {
        name: "quick",
        scenarios: &[visibility::NAME, cpu_share::NAME],
        timing: Timing {
            rounds: 10,
            duration_s: 0.7,
            warmup_s: 0.3,
        },
        fewer_rounds: &[],
    },
];

/// The embedded suite called `name`.
pub fn suite(name: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.name == name)
}

/// CPU used by other work on the host (`host.other_cpu_share`) above which a
/// condition is called disturbed, in CPUs: its figures are warned about, and
/// `isobench compare` gives no verdict on such a run.
pub const OTHER_LOAD_LIMIT_CPUS: f64 = 0.1;

/// Every scenario isobench knows.
pub const KNOWN: [&str; 5] = [
    visibility::NAME,
    cpu_share::NAME,
    memory_pressure::NAME,
    memory_high_stall::NAME,
    startup_latency::NAME,
];

/// Steps scenario `name` reports to [`Progress::step_done`] with `timing`
/// (conditions × rounds, or checks), for the progress bar; 0 for an unknown name.
pub fn steps(name: &str, timing: &Timing) -> usize {
    match name {
        cpu_share::NAME | memory_pressure::NAME => {
            timing.rounds * isobench_reports::schema::Condition::ALL.len()
        }
        visibility::NAME => visibility::CHECKS.len(),
        memory_high_stall::NAME => 1,
        startup_latency::NAME => timing.rounds + 1,
        _ => 0,
    }
}

/// What every scenario needs from the run that hosts it.
pub struct RunContext<'a> {
    /// The run's parent cgroup; sandboxes are created in it.
    pub arena: &'a Arena,
    /// Path of `isobench-workload`.
    pub workload_bin: PathBuf,
    /// The work-unit size calibrated at the start of the run.
    pub calibration: Calibration,
    /// CPUs the arena may use (the harness's affinity mask).
    pub cpus_allowed: usize,
}

/// How many rounds and how long each condition runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Timing {
    /// Rounds (each runs every condition once).
    pub rounds: usize,
    /// Measured window per condition, seconds.
    pub duration_s: f64,
    /// Unrecorded warm-up before each window, seconds.
    pub warmup_s: f64,
}

/// Progress events a scenario reports while it runs.
pub trait Progress {
    /// One step (a condition of a round, a check) finished; `what` names it.
    fn step_done(&mut self, scenario: &str, what: &str);
    /// A round finished; `partial` holds everything measured so far, to be saved.
    fn round_done(&mut self, partial: &isobench_reports::schema::ScenarioResult);
    /// Asked once the planned rounds are done, and after every extra round: run
    /// one more? (`--until-decided`: while the gate is inconclusive.)
    fn more_rounds(&mut self, partial: &isobench_reports::schema::ScenarioResult) -> bool;
}
