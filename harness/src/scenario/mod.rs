//! Scenarios: a victim, its aggressors, the limits and the durations, run as
//! conditions (solo, contended, isolated) × rounds in randomized order (DESIGN §1, §3).

pub mod expected;
pub mod isolation;
pub mod memory_high_stall;
pub mod memory_press;
pub mod memory_pressure;
mod metrics;
pub mod phases;
pub mod pressure;
pub mod protection;
mod rounds;
pub mod startup_latency;
mod support;
mod validity;
pub mod visibility;

use crate::cgroup::Arena;
use isobench_workloads::report::Calibration;
use std::path::PathBuf;

/// Rounds a scenario may have.
pub const ROUNDS: std::ops::RangeInclusive<u64> = 1..=1000;
/// Longest window or warm-up, seconds.
pub const MAX_SECONDS: f64 = 3600.0;
/// Shortest measured window, seconds: at the victim's ~5000 units/s, 500 units, enough for a p99.
pub const MIN_WINDOW_S: f64 = 0.1;

/// CPU used by other work on the host (`host.other_cpu_share`) above which a
/// condition is called disturbed, in CPUs: its figures are warned about, and
/// `isobench compare` gives no verdict on such a run.
pub const OTHER_LOAD_LIMIT_CPUS: f64 = 0.1;

/// The scenarios of the embedded default suite (`harness/suites/default.toml`),
/// which a margins file may name.
pub const KNOWN: [&str; 10] = [
    "visibility",
    isolation::CPU_SHARE,
    memory_pressure::NAME,
    memory_high_stall::NAME,
    "cache-thrash",
    "mem-bandwidth",
    "fork-storm",
    "io-writeback",
    "net-loopback",
    startup_latency::NAME,
];

/// Steps a scenario of `kind` reports to [`Progress::step_done`] with `timing`
/// (conditions × rounds, or checks), for the progress bar.
pub fn steps(kind: &crate::suite::Kind, timing: &Timing) -> usize {
    use crate::suite::Kind;
    match kind {
        Kind::Isolation(def) => timing.rounds * def.conditions.len(),
        Kind::MemoryPressure(_) => timing.rounds * isobench_reports::schema::Condition::ALL.len(),
        Kind::Visibility(_) => visibility::CHECKS.len() + 1,
        Kind::MemoryHighStall => 1,
        Kind::StartupLatency(_) => timing.rounds + 1,
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
    /// The run's output directory: applets that write files (`io-hog`) write there
    /// (unlinked files, so nothing is left behind).
    pub work_dir: PathBuf,
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
