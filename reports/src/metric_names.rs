//! Names of the metrics that the renderers look up by name (the contract is
//! `docs/results-schema.md`); every other metric is shown as found.

use crate::schema::ScenarioResult;

/// The aggressor's measured CPU share, CPUs.
pub(crate) const AGGRESSOR_CPU_SHARE: &str = "aggressor.cpu_share";
/// The aggressor's expected CPU share under its limits, CPUs.
pub(crate) const AGGRESSOR_CPU_SHARE_EXPECTED: &str = "aggressor.cpu_share_expected";
/// Victim work units per second in a condition, ops/s.
pub(crate) const VICTIM_THROUGHPUT: &str = "victim.throughput_ops";
/// Start of the headline sandbox (every namespace but net, plus its cgroup), p50 µs.
pub(crate) const STARTUP_SANDBOX_P50: &str = "startup.sandbox_p50_us";
/// The same, p99 µs.
pub(crate) const STARTUP_SANDBOX_P99: &str = "startup.sandbox_p99_us";
/// The same with a new network namespace, p99 µs.
pub(crate) const STARTUP_SANDBOX_NET_P99: &str = "startup.sandbox_net_p99_us";
/// Plain fork+exec of the probe, p50 µs.
pub(crate) const STARTUP_BASELINE_P50: &str = "startup.baseline_p50_us";
/// Sandbox p50 / fork+exec p50, ratio.
pub(crate) const STARTUP_OVERHEAD_RATIO: &str = "startup.overhead_ratio_p50";
/// posix_spawn of the static probe, p50 µs.
pub(crate) const STARTUP_SPAWN_P50: &str = "startup.posix_spawn.p50_us";
/// The variant whose figures the `startup.sandbox_*` metrics repeat.
pub(crate) const STARTUP_HEADLINE_VARIANT: &str = "sandbox_all";
/// Sandbox p50 / posix_spawn p50 of the same static probe, ratio.
pub(crate) const STARTUP_SPAWN_RATIO: &str = "startup.spawn_ratio_p50";
/// Teardown of the headline sandbox, p99 µs.
pub(crate) const STARTUP_TEARDOWN_P99: &str = "startup.teardown_p99_us";
/// Sandboxes started and torn down per second, one after another.
pub(crate) const STARTUP_CHURN: &str = "startup.churn_per_s";
/// The same with one starter per CPU.
pub(crate) const STARTUP_CHURN_PARALLEL: &str = "startup.churn_parallel_per_s";
/// Share of time all the victim's tasks stalled on memory, 0..1.
pub(crate) const VICTIM_PSI_MEMORY_FULL: &str = "victim.psi_memory_full";
/// OOM kills per sandbox (`aggressor.`, `victim.`, `outside.` prefixes), count.
pub(crate) const OOM_KILLS: [(&str, &str); 3] = [
    ("aggressor", "aggressor.oom_kills"),
    ("victim", "victim.oom_kills"),
    ("outside", "outside.oom_kills"),
];

/// Sandboxes with a `cpu_share` metric that are not aggressors.
const NOT_AGGRESSORS: [&str; 2] = ["victim", "harness"];

/// Prefix of a group's metrics (`group.kubepods.cpu_share`): a group is no aggressor.
pub(crate) const GROUP_PREFIX: &str = "group.";

/// The aggressor sandboxes of `scenario` that have a CPU share metric
/// (`<sandbox>.cpu_share` or `<sandbox>.cpu_share_expected`), in the order first
/// met: `aggressor` in the embedded suites, or the names a suite file gives them
/// (`batch`). Names come from the rounds' `aggressors[].sandbox` and from those
/// metrics of every sandbox but the victim and the harness, and of no group.
pub fn aggressor_sandboxes(scenario: &ScenarioResult) -> Vec<&str> {
    let from_rounds = scenario
        .rounds
        .iter()
        .flat_map(|r| &r.conditions)
        .flat_map(|c| &c.aggressors)
        .map(|a| a.sandbox.as_str());
    let from_metrics = scenario
        .metrics
        .iter()
        .filter_map(|m| cpu_share_of(&m.name))
        .filter(|sandbox| !NOT_AGGRESSORS.contains(sandbox) && !sandbox.starts_with(GROUP_PREFIX));
    let has_share = |sandbox: &str| {
        scenario
            .metrics
            .iter()
            .any(|m| cpu_share_of(&m.name) == Some(sandbox))
    };
    let mut sandboxes: Vec<&str> = Vec::new();
    for sandbox in from_rounds.chain(from_metrics) {
        if !sandboxes.contains(&sandbox) && has_share(sandbox) {
            sandboxes.push(sandbox);
        }
    }
    sandboxes
}

/// The sandbox of a `<sandbox>.cpu_share` or `<sandbox>.cpu_share_expected` metric.
fn cpu_share_of(name: &str) -> Option<&str> {
    name.strip_suffix(".cpu_share")
        .or_else(|| name.strip_suffix(".cpu_share_expected"))
}

/// isobench's headline sandbox ÷ external runtime `runtime` (`crun`, `unshare`, …),
/// request → exit p50, per round, ratio: below 1, isobench's sandbox is faster.
pub(crate) fn startup_runtime_ratio_exit(runtime: &str) -> String {
    format!("startup.{runtime}.sandbox_ratio_exit_p50")
}

/// The same, request → the probe's first instruction p50, ratio.
pub(crate) fn startup_runtime_ratio_first(runtime: &str) -> String {
    format!("startup.{runtime}.sandbox_ratio_p50")
}
