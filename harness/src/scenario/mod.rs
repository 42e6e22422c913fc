//! Scenarios: a victim, its aggressors, the limits and the durations, run as
//! conditions (solo, contended, isolated) × rounds in randomized order (DESIGN §1, §3).

pub mod cpu_share;
mod metrics;

use crate::cgroup::Arena;
use isobench_workloads::report::Calibration;
use std::path::PathBuf;

/// Scenarios of the embedded default suite, in the order they run.
pub const DEFAULT_SUITE: [&str; 1] = [cpu_share::NAME];

/// Every scenario isobench knows.
pub const KNOWN: [&str; 1] = [cpu_share::NAME];

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
    /// One condition of one round finished (or failed).
    fn condition_done(
        &mut self,
        scenario: &str,
        round: usize,
        condition: isobench_reports::schema::Condition,
    );
    /// A round finished; `partial` holds everything measured so far, to be saved.
    fn round_done(&mut self, partial: &isobench_reports::schema::ScenarioResult);
}
