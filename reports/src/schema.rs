//! The results document: one JSON file per run (`results.json`).
//!
//! This module is the single definition of the schema; `docs/results-schema.md`
//! describes it for people and tools. The harness writes it (atomically, after
//! each scenario) and the renderers in this crate read it, so a report can be
//! remade offline from any results file.
//!
//! Units live in the field names (`_us`, `_s`, `_bytes`) or in a metric's `unit`;
//! nothing is scaled for display here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of this schema. Bumped whenever a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of `isobench run`: the host it ran on and every scenario's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Version of the isobench binary that wrote the file.
    pub isobench_version: String,
    /// The exact command line, argv as given.
    pub command_line: Vec<String>,
    /// Identifier of the run; also names its cgroups (`isobench-<run_id>`).
    pub run_id: String,
    /// Start of the run, RFC 3339, UTC.
    pub started_at: String,
    /// What the host is, for telling comparable runs apart (DESIGN §3).
    pub host: HostFingerprint,
    /// The capability probe of `isobench doctor`, taken at the start of the run.
    pub doctor: Doctor,
    /// Scenarios in the order they ran; a scenario appears once it has started.
    pub scenarios: Vec<ScenarioResult>,
    /// Run-wide warnings (e.g. another isobench run on the same host), each saying what to do.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The suite as run, after the command line's overrides: name, origin (a
    /// file or `embedded:<name>`), timing, the gate's margins if it sets any,
    /// and its scenarios with their limits in the user's words and the files
    /// written (docs/suite-format.md); null in files written before suites.
    #[serde(default)]
    pub suite: Option<serde_json::Value>,
    /// Conditions during which other work on the host used more CPU than the
    /// limit, and whether the run was told to accept that
    /// (`--accept-disturbed`); absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disturbance: Option<Disturbance>,
    /// The curves and knees of `isobench sweep` (issue 17); absent from
    /// `isobench run`'s results and from files written before sweeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<crate::schema_sweep::Sweep>,
}

/// Disturbance of a run by other work on the host (`host.other_cpu_share`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Disturbance {
    /// True when the run was made with `--accept-disturbed`: its disturbed
    /// conditions are judged anyway, and say so.
    pub accepted: bool,
    /// The limit, CPUs: above it a condition is disturbed.
    pub limit_cpus: f64,
    /// Every scenario and condition with a round above the limit, in run order.
    pub disturbed: Vec<DisturbedCondition>,
}

/// One scenario's condition during which other work exceeded the limit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DisturbedCondition {
    /// Scenario name.
    pub scenario: String,
    /// The condition.
    pub condition: Condition,
    /// The rounds (0-based) in which `host_other_cpu_share` exceeded the limit.
    pub rounds: Vec<usize>,
    /// The largest `host_other_cpu_share` of those rounds, CPUs.
    pub max_cpus: f64,
    /// Mean `host_other_cpu_share` over all rounds of the condition, CPUs:
    /// above the limit, `isobench compare` calls the run unfit unless told to
    /// accept it.
    pub mean_cpus: f64,
}

/// Host fingerprint (DESIGN §3): runs are comparable only when these agree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostFingerprint {
    /// `uname -r`.
    pub kernel: String,
    /// Cgroup layout: `v1`, `v2` or `hybrid`.
    pub layout: String,
    /// `model name` from /proc/cpuinfo, or null when absent (some architectures).
    pub cpu_model: Option<String>,
    /// Online CPUs (sysconf `_SC_NPROCESSORS_ONLN`).
    pub cpus: usize,
    /// CPUs the harness may run on (its affinity mask), which the arena inherits.
    pub cpus_allowed: usize,
    /// SMT state from /sys/devices/system/cpu/smt/control (`on`, `off`, `notsupported`, ...).
    pub smt: Reading<String>,
    /// cpufreq scaling governor of cpu0.
    pub governor: Reading<String>,
    /// True when /proc/cpuinfo carries the `hypervisor` flag.
    pub virtualised: bool,
    /// Limits on the harness's own cgroup, as the kernel states them
    /// (e.g. `cpu.max` = `max 100000`, `memory.limit_in_bytes` = `9223372036854771712`).
    pub harness_cgroup_limits: BTreeMap<String, String>,
    /// Where the harness ran: on the host, or in a container (with the runtime
    /// and orchestrator its signs name); absent in files written before it was
    /// recorded (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
}

/// Whether the harness ran in a container, and the signs that say so
/// (`harness/src/probe/container.rs` reads them).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Environment {
    /// `host` or `container`.
    pub kind: EnvironmentKind,
    /// The container runtime the signs name (`podman`, `docker`, `containerd`,
    /// `cri-o`, `lxc`, `systemd-nspawn`, ...), with its version where a sign
    /// gives it (`podman 4.3.1`); null on the host or where no sign names one.
    pub runtime: Option<String>,
    /// The orchestrator (`kubernetes`), or null where none is seen.
    pub orchestrator: Option<String>,
    /// Every sign looked at that said something, in words
    /// (e.g. `/run/.containerenv exists (engine="podman-4.3.1")`), including
    /// signs that were seen but not trusted, with why.
    pub evidence: Vec<String>,
}

/// Where the harness ran.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// Directly on the host (no container sign trusted).
    Host,
    /// Inside a container.
    Container,
}

impl Environment {
    /// One line for people: `host`, `container (podman 4.3.1, kubernetes)`.
    pub fn summary(&self) -> String {
        let named: Vec<&str> = [self.runtime.as_deref(), self.orchestrator.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        match (self.kind, named.is_empty()) {
            (EnvironmentKind::Host, _) => "host".to_owned(),
            (EnvironmentKind::Container, true) => "container (runtime not named)".to_owned(),
            (EnvironmentKind::Container, false) => format!("container ({})", named.join(", ")),
        }
    }
}

/// A value read from the host, or why it could not be read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Reading<T> {
    /// The value as read.
    Value(T),
    /// Not available, with the reason (file absent, permission denied, ...).
    Unavailable(String),
}

/// Result of `isobench doctor`: what the host supports, and why not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Doctor {
    /// Cgroup layout: `v1`, `v2` or `hybrid`.
    pub layout: String,
    /// Every check made, in a fixed order.
    pub checks: Vec<Check>,
}

/// One capability check of the doctor probe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    /// What was checked, e.g. `controller cpu`, `namespace net`, `psi`.
    pub name: String,
    /// `ok`, `unavailable` (the figures that need it degrade) or `error` (runs cannot start).
    pub status: CheckStatus,
    /// What was seen: the path, the errno, the value read.
    pub detail: String,
}

/// Outcome of a [`Check`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Supported and working.
    Ok,
    /// Missing; figures that depend on it are reported as unavailable.
    Unavailable,
    /// Missing and required: `isobench run` cannot start.
    Error,
}

/// A condition of a scenario (DESIGN §1).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Victim alone, unconfined.
    Solo,
    /// Victim and aggressor, both unconfined.
    Contended,
    /// Victim and aggressor, each in its sandbox with the scenario's limits.
    Isolated,
}

impl Condition {
    /// Every condition, in the order reports show them.
    pub const ALL: [Condition; 3] = [Condition::Solo, Condition::Contended, Condition::Isolated];

    /// The lower-case name used in JSON, metrics and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Solo => "solo",
            Condition::Contended => "contended",
            Condition::Isolated => "isolated",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scenario's spec, raw per-round values and derived metrics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioResult {
    /// Scenario name, e.g. `cpu-share`.
    pub name: String,
    /// One sentence on what the scenario asks.
    pub description: String,
    /// The scenario as it ran: workloads, limits, namespaces, durations.
    pub spec: serde_json::Value,
    /// Whether every round completed.
    pub status: ScenarioStatus,
    /// Raw values of every round, in the order run.
    pub rounds: Vec<Round>,
    /// Victim latency distribution per condition, all rounds merged.
    pub latency_cdf: Vec<LatencyCdf>,
    /// The victim's latency per time slice beside its phased neighbours, one
    /// round per condition (isolation scenarios with a `phase` or `slice_ms`); empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slice_timelines: Vec<crate::schema_phases::SliceTimeline>,
    /// Derived statistics over rounds. Names are a contract (docs/results-schema.md).
    pub metrics: Vec<Metric>,
    /// Things the reader should know, each saying what to do about it.
    pub warnings: Vec<String>,
    /// Pass/fail checks with their evidence (scenario `visibility`); empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<VisibilityCheck>,
    /// What a workload in a limited sandbox believes it has: the CPU counts
    /// runtimes pick against the budget, and the host figures it sees (scenario
    /// `visibility`, check `cpu-view`); absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_view: Option<CpuView>,
    /// Distributions per variant and phase, and churn (scenario `startup-latency`); absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<StartupDetail>,
    /// The scenario's answer (docs/verdict.md); absent for a skipped scenario
    /// and in files written before verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// A scenario's answer to "do the limits protect the victim from its
/// neighbour?" (DESIGN §1 "verdict", §2 isolation effectiveness), with the
/// evidence per measure. How it is decided: docs/verdict.md.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// The answer.
    pub kind: VerdictKind,
    /// One sentence saying why, with the figures that decided it.
    pub reason: String,
    /// Rounds whose solo, contended and isolated conditions all measured
    /// something, and so were used.
    pub rounds_used: usize,
    /// Per victim measure (`p99`, `late_share`, `throughput`): the interference
    /// the neighbour caused and what the limits left of it; empty for scenarios
    /// of checks and for startup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<MeasureVerdict>,
    /// The victim's latency objective and the slack each condition left, where
    /// its suite sets one (`slo = { p99_us = … }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloVerdict>,
    /// Set when other work on the host disturbed a condition of this scenario:
    /// which, how much, and whether the run accepted it (`--accept-disturbed`).
    /// The verdict line then says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disturbed: Option<String>,
    /// Whose doing each sandbox's CPU pressure was, per condition but solo
    /// (case C12): its own quota's throttling, a neighbour, or no stall;
    /// empty where no sandbox's CPU pressure could be read, and in files
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_pressure: Vec<PressureVerdict>,
}

/// The CPU pressure of one sandbox in one condition over the rounds, and
/// whose doing it was (harness `scenario::pressure`, case C12).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PressureVerdict {
    /// Sandbox name (`victim`, or an aggressor's).
    pub sandbox: String,
    /// Which condition.
    pub condition: Condition,
    /// PSI `cpu.pressure` some: the share of the window in which some of its
    /// runnable tasks waited for a CPU, 0..1, mean over rounds with its CI.
    pub some: Interval,
    /// Δthrottled time / Δwall, mean over rounds with its CI; a share of the
    /// window summed over CPUs, so several throttled CPUs can make it exceed 1;
    /// null where `cpu.stat` has no throttled time (`throttled_unavailable`).
    pub throttled: Option<Interval>,
    /// Why `throttled` is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_unavailable: Option<String>,
    /// Whose doing the stall was, from the means.
    pub cause: StallCause,
}

/// Whose doing a sandbox's CPU pressure was (case C12; the rule: harness
/// `scenario::pressure::attribute`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StallCause {
    /// PSI some below the floor: its tasks hardly waited for a CPU.
    NoStall,
    /// Its own quota: the time it was throttled accounts for the stall.
    SelfInflicted,
    /// Not its throttling: other tasks (a neighbour, other work) held the CPUs it wanted.
    Neighbour,
}

impl StallCause {
    /// How the verdict line says it: `no stall`, `self-inflicted (throttling)`, `neighbour`.
    pub fn words(self) -> &'static str {
        match self {
            StallCause::NoStall => "no stall",
            StallCause::SelfInflicted => "self-inflicted (throttling)",
            StallCause::Neighbour => "neighbour",
        }
    }
}

/// The five answers of DESIGN §1, and `measured` for a scenario that measures a
/// cost with no neighbour (startup latency).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// The limits left the victim no worse than the neighbour made it, or its
    /// checks failed: isolation made no clear difference, or made it worse.
    NotProtected,
    /// The limits removed part of the interference, clearly, and left part.
    PartlyProtected,
    /// The limits removed the interference: the isolated victim is not clearly
    /// worse than alone (beyond the noise floor), and clearly better than contended.
    Protected,
    /// The neighbour did not hurt the victim beyond the noise even unconfined.
    NoInterference,
    /// A condition measured nothing usable (its neighbour died, its victim
    /// never ran) in too many rounds to judge.
    Invalid,
    /// A cost measured without a neighbour (startup latency): no isolation question.
    Measured,
}

impl VerdictKind {
    /// The answer in words: `protected`, `partly protected`, `not protected`,
    /// `no interference to remove`, `invalid`, `measured`.
    pub fn words(self) -> &'static str {
        match self {
            VerdictKind::Protected => "protected",
            VerdictKind::PartlyProtected => "partly protected",
            VerdictKind::NotProtected => "not protected",
            VerdictKind::NoInterference => "no interference to remove",
            VerdictKind::Invalid => "invalid",
            VerdictKind::Measured => "measured",
        }
    }
}

/// A value and its bootstrap 95 % CI over rounds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Interval {
    /// The estimate.
    pub value: f64,
    /// Lower bound of the 95 % CI.
    pub lower: f64,
    /// Upper bound of the 95 % CI.
    pub upper: f64,
}

/// One victim measure's evidence. "Excess" is how much worse than solo a
/// condition left the victim, in `excess_unit`: for `p99` the ratio
/// p99(condition) / p99(solo) − 1 (0.25 = 25 % slower), for `late_share` the
/// difference of late shares (0.05 = 5 pp more units late), for `throughput`
/// the share of the solo throughput lost (0.1 = 10 % fewer units).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MeasureVerdict {
    /// `p99`, `late_share` or `throughput`.
    pub measure: String,
    /// What an excess of 1 means: `ratio`, `share` (of units) or `share` (of throughput).
    pub excess_unit: String,
    /// Excess below which a difference is called noise, in `excess_unit`.
    pub noise_floor: f64,
    /// The victim's own figure alone, 20 % trimmed mean over rounds (µs for
    /// p99, share 0..1 for late_share, ops/s for throughput).
    pub solo: Interval,
    /// Excess of the contended condition: the interference there was to remove.
    pub contended_excess: Interval,
    /// Excess of the isolated condition: what the limits left.
    pub isolated_excess: Interval,
    /// Isolation effectiveness `(d_contended − d_isolated) / (d_contended − 1)`
    /// (DESIGN §2), 1 = all interference removed, 0 = none, < 0 = worse;
    /// null where there was no interference to remove.
    pub effectiveness: Option<Interval>,
    /// This measure's answer.
    pub kind: VerdictKind,
    /// The isolated victim was worse than the contended one beyond the noise.
    #[serde(default)]
    pub isolation_worse: bool,
    /// Excess of the isolated condition over the contended one (p99: p99
    /// isolated / p99 contended − 1), what `isolation_worse` is judged on;
    /// absent in files written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated_over_contended: Option<Interval>,
}

/// The victim's latency objective and how each condition met it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SloVerdict {
    /// The objective: p99 at most this many µs.
    pub p99_us: f64,
    /// Per condition: its p99 and slack `(SLO − p99) / SLO` (Lo et al.,
    /// "Heracles: improving resource efficiency at scale", ISCA 2015), negative
    /// when the objective is missed.
    pub conditions: Vec<SloSlack>,
    /// Whether the isolated victim held the objective: true when the CI of its
    /// p99 lies at or below the SLO, false when above, null when it straddles.
    pub held: Option<bool>,
}

/// One condition's slack against the objective.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SloSlack {
    /// Which condition.
    pub condition: Condition,
    /// Its p99, µs (20 % trimmed mean over rounds, with CI).
    pub p99_us: Interval,
    /// `(SLO − p99) / SLO`, with CI.
    pub slack: Interval,
}

/// What scenario `startup-latency` measured beyond its metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StartupDetail {
    /// How sandboxes were attached to their cgroup: `cgroup.procs` (written by the parent
    /// while the child waits) or `clone3 CLONE_INTO_CGROUP`.
    pub attach: String,
    /// One entry per variant, in the order run (net variants last, in a block of their own).
    pub variants: Vec<StartupVariant>,
    /// Sandboxes started and torn down per second.
    pub churn: Vec<Churn>,
    /// Findings such as `netns serialization` (case C07), each saying what was seen.
    pub flags: Vec<String>,
    /// The external runtimes looked for on the host (`unshare`, `bwrap`, `crun`,
    /// `runc`, `podman`, `docker`): what each got, or why it was not timed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtimes: Vec<RuntimeInfo>,
}

/// An external runtime timed beside isobench's sandbox, or why it was not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeInfo {
    /// Its variant name, e.g. `crun` (metrics `startup.crun.*`).
    pub name: String,
    /// Where it was found on PATH; null when it was not.
    pub program: Option<String>,
    /// The first line of its `--version`; null when it gave none.
    pub version: Option<String>,
    /// The namespaces it created for the probe (`pid`, `mnt`, `uts`, `ipc`, `cgroup`).
    pub namespaces: Vec<String>,
    /// The cgroup it made for the probe, or why none.
    pub cgroup: String,
    /// How it was run: its command line and anything done to make it run here.
    pub how: String,
    /// Why it was not timed: not installed, or refused with its own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One variant's distributions over every round, µs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StartupVariant {
    /// Name, e.g. `fork_exec`, `sandbox_all`.
    pub name: String,
    /// How it starts: `posix_spawn`, `fork_exec` or `sandbox` with its namespaces.
    pub method: serde_json::Value,
    /// From the request to the probe's first instruction; null with `unavailable` when it could not start.
    pub start: Option<Percentiles>,
    /// From the first instruction until reaped and its cgroup removed.
    pub teardown: Option<Percentiles>,
    /// From the request until the start is over: the process reaped and, for
    /// isobench's sandboxes, its cgroup removed (what hyperfine's whole-process
    /// figure of a runtime covers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Percentiles>,
    /// Per phase in the order taken (`cgroup_create`, `clone`, `attach`, `release`,
    /// `exec_to_main`, `reap`, `cgroup_remove`).
    pub phases: Vec<Phase>,
    /// Where the slowest 1 % of starts spent their extra time, phase by phase;
    /// absent with fewer than [`TailAttribution::MIN_STARTS`] starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<TailAttribution>,
    /// Why it could not be measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The tail of a variant's start latency, attributed to its phases from each
/// start's own stamps: the slowest 1 % of starts (at least one) against the
/// medians of all starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TailAttribution {
    /// Starts in the tail: the slowest ⌈1 %⌉ of `of_starts`.
    pub starts: u64,
    /// Starts measured in all.
    pub of_starts: u64,
    /// The fastest start in the tail, µs (about the p99).
    pub from_us: f64,
    /// Mean start of the tail, µs.
    pub mean_us: f64,
    /// Median start over all starts, µs.
    pub p50_us: f64,
    /// The start's phases (`cgroup_create` … `exec_to_main`), in the order taken.
    pub phases: Vec<TailPhase>,
    /// The phase with the largest excess: the one that owns the tail.
    pub owner: String,
}

impl TailAttribution {
    /// Starts below which no tail is attributed (its 1 % would be under one start).
    pub const MIN_STARTS: u64 = 100;
}

/// One phase in a [`TailAttribution`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TailPhase {
    /// Phase name.
    pub name: String,
    /// Its median over all starts, µs.
    pub p50_us: f64,
    /// Its mean over the tail's starts, µs.
    pub tail_mean_us: f64,
    /// `tail_mean_us − p50_us`: what it adds in the tail, µs.
    pub excess_us: f64,
}

/// One phase's distribution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    /// Phase name.
    pub name: String,
    /// Its distribution, µs.
    pub latency: Percentiles,
}

/// A latency distribution from an HDR histogram, µs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median, µs.
    pub p50_us: f64,
    /// 90th percentile, µs.
    pub p90_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// Maximum, µs.
    pub max_us: f64,
}

/// Churn: sandboxes started and torn down one after another by `starters` threads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Churn {
    /// The variant churned.
    pub variant: String,
    /// Threads starting sandboxes at once (1: sequential).
    pub starters: usize,
    /// Sandboxes per second, all starters together, from the first start until
    /// the last sandbox started was torn down; null with `unavailable` when it failed.
    pub per_s: Option<f64>,
    /// Mean µs of each phase during the churn: the starter's (`cgroup_create` …
    /// `exec_to_main`), then its reaper thread's (`reap`, `cgroup_remove`).
    #[serde(default)]
    pub phases: Vec<ChurnPhase>,
    /// Why it could not be measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One phase's mean during a churn.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChurnPhase {
    /// Phase name.
    pub name: String,
    /// Mean over the churn's sandboxes, µs.
    pub mean_us: f64,
}

/// One namespace visibility check: what was looked at, what was seen, and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisibilityCheck {
    /// Check name: `pid`, `uts`, `net`, `mnt`, `ipc`, `cgroup`, `user`; its metric is `visibility.<name>`.
    pub name: String,
    /// True when the sandbox could not see or touch what it must not.
    pub passed: bool,
    /// What was looked at, e.g. `kill(4242, 0) from inside the sandbox`.
    pub looked_at: String,
    /// What was seen, e.g. `ESRCH`.
    pub saw: String,
}

/// The `cpu-view` check of scenario `visibility` (cases C14, C15): inside a
/// sandbox with limits, the CPU count each runtime would size its pools by,
/// against the budget the harness derives from the cgroup files, and the host
/// figures /proc, sysfs and sysinfo(2) show. A runtime that counts more than
/// ⌈budget⌉ is a finding (`over_budget`), not a namespace breach; host figures
/// are informational.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuView {
    /// The sandbox's limits and the groups above it, as written, e.g.
    /// `cpuset.cpus 0, cpu.cfs_quota_us 50000 / cpu.cfs_period_us 100000 in group pod (…)`.
    pub sandbox: String,
    /// The budget, CPUs: the smallest quota/period over the sandbox's cgroup and
    /// its ancestors up to the root, capped by its effective cpuset and the CPUs
    /// online; never from weights or shares.
    pub budget_cpus: Reading<f64>,
    /// What bounds the budget, in words, with the cgroup or file.
    pub budget_bound_by: String,
    /// Each cgroup read for the budget, leaf first: `<dir>: cpu.max 50000 100000`.
    pub budget_read: Vec<String>,
    /// Each runtime's count: affinity, Rust, Go, Java, Node.
    pub runtimes: Vec<RuntimeCpus>,
    /// Host figures seen from inside, with the host's own value beside them.
    pub host_visible: Vec<HostFigure>,
}

/// One runtime's CPU count inside the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeCpus {
    /// `affinity`, `rust`, `go`, `java` or `node`.
    pub runtime: String,
    /// What was asked, e.g. `sched_getaffinity(2)`, `std::thread::available_parallelism()`.
    pub asked: String,
    /// The count, CPUs; unavailable with the reason (not installed, failed, timed out), never 0.
    pub cpus: Reading<u64>,
    /// True when the count is above ⌈budget⌉: the runtime sizes for CPUs it cannot get.
    pub over_budget: bool,
}

/// A host figure visible inside the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostFigure {
    /// What was read, e.g. `/proc/cpuinfo processors`, `MemTotal (bytes)`.
    pub name: String,
    /// Its value inside the sandbox.
    pub inside: Reading<String>,
    /// The same read by the harness on the host, for comparison.
    pub host: Reading<String>,
    /// True when the figure inside is the host's although the sandbox is limited
    /// below it (a CPU count above ⌈budget⌉, memory above the sandbox's limit).
    pub host_value_shown: bool,
}

/// How far a scenario got.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum ScenarioStatus {
    /// All rounds ran.
    Complete,
    /// Stopped by an error after the recorded rounds; the reason says which step failed.
    Failed(String),
    /// Stopped by SIGINT/SIGTERM after the recorded rounds.
    Interrupted(String),
    /// Not run: the host lacks what it needs (e.g. memory.high on a v1 layout); the reason says what.
    Skipped(String),
}

/// One round: every condition once, in `order`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Round {
    /// 0-based round index.
    pub index: usize,
    /// The randomized order the conditions ran in.
    pub order: Vec<Condition>,
    /// One entry per condition run.
    pub conditions: Vec<ConditionRun>,
}

/// Raw values of one condition in one round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConditionRun {
    /// Which condition.
    pub condition: Condition,
    /// What the victim reported; null when it reported nothing (OOM-killed:
    /// see `memory.victim_fate`).
    pub victim: Option<VictimRun>,
    /// Per aggressor sandbox; empty for `solo`.
    pub aggressors: Vec<CpuAccount>,
    /// Per group of an isolation scenario (`[[scenario.group]]`), `sandbox`
    /// holding the group's name: isolated, its cgroup's accounting; contended
    /// (no groups there), the sum of its sandboxes' shares, without throttling
    /// counters; empty for `solo` and without groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<CpuAccount>,
    /// CPU accounting of the victim's cgroup.
    pub victim_cpu: CpuAccount,
    /// The harness's own CPU time over the condition divided by its wall time (CPUs).
    pub harness_cpu_share: f64,
    /// CPU used during the window by tasks on the host that are not this run's
    /// (not in the run's arena, not the harness), in CPUs: the `all_tasks`,
    /// `arena` and `harness` figures of `host_cpu`; null with the reason in
    /// `host_cpu.unavailable` where it could not be measured. Above
    /// `Disturbance::limit_cpus` (0.1) the figures were disturbed by other load.
    #[serde(default)]
    pub host_other_cpu_share: Option<f64>,
    /// Where the host's CPU time went during the window, the parts of
    /// `host_other_cpu_share` and what it leaves out; absent in files written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_cpu: Option<HostCpuWindow>,
    /// Why this condition measured nothing a verdict can use (its neighbour
    /// exited or was OOM-killed before the window ended, never reached its
    /// load, or the victim never ran); absent when it is valid. An invalid
    /// condition is left out of the verdict and the gate, never read as
    /// "kept 100 %".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// Memory figures of the memory scenarios; absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryRun>,
    /// What each aggressor of an isolation scenario reported, and its sandbox's
    /// memory peak; empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<NeighbourRun>,
    /// Process counts of each sandbox of an isolation scenario (victim first),
    /// where the pids controller is on: peaks, refused forks and whose limit
    /// refused them; empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<PidsAccount>,
    /// CPU pressure and throttling of each sandbox of an isolation scenario
    /// (victim first) over the window (case C12); empty elsewhere and in files
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_pressure: Vec<CpuPressure>,
}

/// CPU pressure of one sandbox's cgroup over a window, beside the time its own
/// quota throttled it (case C12). PSI: Documentation/accounting/psi.rst; on a
/// hybrid host read from the sandbox's twin in the cgroup2 tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuPressure {
    /// Sandbox name, as in [`CpuAccount::sandbox`].
    pub sandbox: String,
    /// Δ`cpu.pressure` some total / Δwall, 0..1; null with `psi_unavailable`.
    pub some: Option<f64>,
    /// Δ`cpu.pressure` full total / Δwall, 0..1 (cgroups, Linux ≥ 5.13); null
    /// without a `full` line or with `psi_unavailable`.
    pub full: Option<f64>,
    /// Why the PSI figures are null (PSI absent or disabled, a v1 layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi_unavailable: Option<String>,
    /// Δthrottled time (v2 `throttled_usec`, v1 `throttled_time`) / Δwall: a
    /// share of the window, summed over the CPUs it was throttled on; null
    /// with `throttled_unavailable`.
    pub throttled_share: Option<f64>,
    /// Why `throttled_share` is null (no cpu controller, a kernel without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_unavailable: Option<String>,
    /// Whose doing the stall was in this window; null where PSI is unavailable.
    pub cause: Option<StallCause>,
}

/// Process counts of one sandbox over a condition, from the pids controller
/// (Documentation/admin-guide/cgroup-v2.rst "PID"; cgroup-v1/pids.rst). Tasks
/// are processes and threads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PidsAccount {
    /// Sandbox name, as in [`CpuAccount::sandbox`].
    pub sandbox: String,
    /// Highest `pids.current` sampled every 10 ms while its processes ran, tasks;
    /// null where the file could not be read.
    pub sampled_peak: Option<u64>,
    /// The kernel's high-water mark since the sandbox was created, tasks: the
    /// lowest `pids.peak` of the sandbox and its ancestors (the kernel raises a
    /// cgroup's `pids.peak` for a fork that an ancestor's limit then refuses, so
    /// the sandbox's own file can read one above what it held); null where the
    /// kernel lacks the file (older kernels), with the reason in `unavailable`.
    pub peak: Option<u64>,
    /// Forks of the sandbox's tasks refused by a pids limit over the condition
    /// (EAGAIN), from `pids.events` of the sandbox and its ancestors up to the
    /// arena; null where they could not be read.
    pub forks_refused: Option<u64>,
    /// Whose limit refused them: one entry per cgroup whose `pids.max` did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_by: Vec<PidsRefusal>,
    /// The cgroups read, the sandbox first, then each ancestor up to the arena.
    pub levels: Vec<PidsLevel>,
    /// Why a figure is null, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<String>,
}

/// Forks refused by one cgroup's `pids.max`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PidsRefusal {
    /// Forks refused.
    pub forks: u64,
    /// The cgroup whose limit refused them, as the kernel names it (relative to
    /// its hierarchy's root).
    pub cgroup: String,
    /// Its `pids.max`, tasks.
    pub limit: u64,
    /// How it was told: `pids.events.local` (the kernel counts the event at the
    /// cgroup whose limit was hit: v2 kernels with `pids.events.local`, 2024) or `inferred` (the kernel
    /// counts it where the fork failed: v1, and older v2 or v2 with
    /// `pids_localevents`; the limit is the nearest one at or above the sandbox
    /// that its peak reached).
    pub how: String,
}

/// One cgroup's pids files over a condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PidsLevel {
    /// The cgroup, as the kernel names it (relative to its hierarchy's root).
    pub cgroup: String,
    /// `pids.max`: a count of tasks, or `max`.
    pub max: String,
    /// `pids.current` at the end, tasks.
    pub current: u64,
    /// `pids.peak` at the end, tasks; null where the kernel lacks it.
    pub peak: Option<u64>,
    /// Δ`pids.events` `max` over the condition.
    pub events_max: u64,
    /// Δ`pids.events.local` `max` over the condition; null where the kernel
    /// lacks the file (v1, older v2).
    pub events_local_max: Option<u64>,
}

/// One aggressor sandbox of a condition: its applet's own figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NeighbourRun {
    /// Sandbox name (`aggressor`), as in [`CpuAccount::sandbox`].
    pub sandbox: String,
    /// The applet (`cpu-hog`, `mem-bw`, ...), or `command <program>` for a user's command.
    pub workload: String,
    /// Processes of the applet in the sandbox.
    pub count: usize,
    /// The applet's headline figure summed over its processes (e.g. `mb_per_s`);
    /// null for applets without one (`cpu-hog`).
    pub work: Option<WorkFigure>,
    /// Peak memory charged to the sandbox (`memory.peak`, v1 `max_usage_in_bytes`),
    /// bytes; null where the kernel has no peak file.
    pub memory_peak_bytes: Option<u64>,
    /// The reports of its processes, as they printed them.
    pub reports: Vec<serde_json::Value>,
    /// How each process that did not run to its end ended (`exited with status 2`,
    /// `killed by SIGKILL`, ...); empty when all did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// How each process of a command neighbour ended when it was stopped at the
    /// window's end (`stopped by SIGTERM: exited with status 143`, `ignored
    /// SIGTERM for 1 s; killed`); empty for applets, which end by themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<String>,
}

/// The headline figure of an aggressor's report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkFigure {
    /// Field name in the report, also the metric's suffix (`aggressor.mb_per_s`).
    pub name: String,
    /// Value, summed over the sandbox's processes.
    pub value: f64,
    /// Unit (`MB/s`, `forks/s`, ...).
    pub unit: String,
}

/// Memory figures of one condition (DESIGN §2 "Memory pressure").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemoryRun {
    /// How the victim ended: `completed`, `oom-killed`, or what else happened.
    pub victim_fate: String,
    /// Per sandbox (victim, aggressor): limits, peaks, events, PSI, faults, counters.
    pub sandboxes: Vec<MemoryAccount>,
    /// Host-wide PSI over the window (`/proc/pressure/*`).
    pub system_psi: Vec<PsiFigure>,
    /// Every OOM kill seen during the condition, attributed.
    pub oom_kills: Vec<OomKill>,
    /// Whether the unconfined 32 MiB canary beside the sandboxes survived; its death is an isolation breach.
    pub canary_survived: bool,
    /// Samples taken every `sample_interval_s` during the condition.
    pub timeline: Vec<TimelineSample>,
    /// Interval of the timeline, seconds.
    pub sample_interval_s: f64,
    /// The sampler thread's CPU time over the condition's wall time, in CPUs.
    pub sampler_cpu_share: f64,
    /// How the aggressor pressed on memory while the victim ran: the evidence
    /// behind `invalid`; absent for `solo` (and in files written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure: Option<MemoryPressure>,
}

/// The evidence that a memory aggressor pressed on its limit while the victim
/// ran (docs/validity.md). Limits and counters are the kernel's: v2
/// `memory.max`, `memory.high`, `memory.current`, `memory.events`
/// (Documentation/admin-guide/cgroup-v2.rst); v1 `memory.limit_in_bytes`,
/// `memory.usage_in_bytes`, `memory.failcnt` (Documentation/admin-guide/cgroup-v1/memory.rst).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemoryPressure {
    /// The lowest memory limit of the aggressor's own sandbox (`memory.max`,
    /// `memory.high`, `memory.limit_in_bytes`), kernel file name; null when it
    /// has none of its own (contended: only the arena bounds it).
    pub limit_knob: Option<String>,
    /// That limit, bytes; null with `limit_knob`.
    pub limit_bytes: Option<u64>,
    /// The charge it was to hold: its size, or the limit less its headroom
    /// (1/16 of the limit, 4 to 64 MiB) where that is lower, bytes.
    pub target_bytes: u64,
    /// Its sandbox's charge when the victim was started, bytes; null when unreadable.
    pub start_bytes: Option<u64>,
    /// Seconds the harness waited for it to grow before starting the victim.
    pub fill_wait_s: f64,
    /// Lowest charge of the timeline samples taken while the victim ran, bytes;
    /// null without samples.
    pub min_bytes: Option<u64>,
    /// Share of those samples (0..1) in which its charge was at least 90 % of
    /// `target_bytes`; null without samples.
    pub held_share: Option<f64>,
    /// Timeline samples taken while the victim ran.
    pub samples: usize,
    /// Times its sandbox's charge hit its own limit while the victim ran
    /// (Δ of v2 `memory.events` `max` + `high`, v1 `memory.failcnt`): reclaim at
    /// the limit; null where unreadable. 0 without a limit of its own.
    pub limit_events: Option<u64>,
    /// Whether its process was still running when the victim ended.
    pub alive_at_end: bool,
    /// How it ended, when it ended before the victim did (`killed by SIGKILL`, `exited with status 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// How it pressed, in words: what it held and whether it streamed a file
    /// through the page cache (and if not, why not).
    pub method: String,
}

/// One sandbox's memory account over a condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemoryAccount {
    /// `victim` or `aggressor`.
    pub sandbox: String,
    /// Memory knobs written, kernel file name → value (empty: no limit of its own).
    pub limits: BTreeMap<String, String>,
    /// Highest charge, bytes (v2 `memory.peak`, v1 `memory.max_usage_in_bytes`); null where the kernel lacks it.
    pub peak_bytes: Option<u64>,
    /// Charge at the end of the window, split (bytes): see [`MemoryBreakdown`].
    pub end: MemoryBreakdown,
    /// Δ`memory.events` over the condition; a counter the layout lacks is null (v1 has only `max`, `oom_kill`).
    pub events: MemoryEventCounts,
    /// The same counters of `memory.events.local`: events of the sandbox's own
    /// limits, its descendants' left out (v2, Linux ≥ 5.2); null on v1 and hybrid.
    #[serde(default)]
    pub events_local: Option<MemoryEventCounts>,
    /// Δ`pgfault` of `memory.stat` over the window (minor + major faults).
    pub pgfault: Option<u64>,
    /// Δ`pgmajfault` of `memory.stat` over the window.
    pub pgmajfault: Option<u64>,
    /// Per-cgroup PSI over the window (memory, cpu, io).
    pub psi: Vec<PsiFigure>,
    /// perf software (and, where present, hardware) counters of the sandbox's processes.
    pub perf: Vec<PerfCount>,
}

/// A memory charge split by kind, bytes; null where the kernel does not report it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MemoryBreakdown {
    /// `memory.current` / `memory.usage_in_bytes`.
    pub current_bytes: Option<u64>,
    /// Anonymous memory.
    pub anon_bytes: Option<u64>,
    /// Page cache, including shmem.
    pub file_bytes: Option<u64>,
    /// tmpfs and shared memory.
    pub shmem_bytes: Option<u64>,
    /// Usage minus inactive page cache.
    pub working_set_bytes: Option<u64>,
}

/// Counts of memory limit events (v2 `memory.events`); null where the layout lacks the counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MemoryEventCounts {
    /// Reclaim despite memory.low protection.
    pub low: Option<u64>,
    /// Throttled above memory.high.
    pub high: Option<u64>,
    /// Hit memory.max (v1: `memory.failcnt`).
    pub max: Option<u64>,
    /// OOM killer invoked.
    pub oom: Option<u64>,
    /// Processes OOM-killed.
    pub oom_kill: Option<u64>,
    /// Times the whole group was OOM-killed (`memory.oom.group`; Linux ≥ 5.17);
    /// null on v1 and older kernels.
    #[serde(default)]
    pub oom_group_kill: Option<u64>,
}

/// PSI of one resource over a window: shares of time 0..1, or why unavailable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PsiFigure {
    /// `memory`, `cpu` or `io`.
    pub resource: String,
    /// Δ`some total` / Δwall, 0..1; null when unavailable.
    pub some: Option<f64>,
    /// Δ`full total` / Δwall, 0..1; null when unavailable or the file has no `full` line.
    pub full: Option<f64>,
    /// Why the figures are null (e.g. `PSI disabled: ... (boot with psi=1)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One perf event's count, or why it could not be counted (never 0 in its place: case C08).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PerfCount {
    /// Event name, e.g. `task-clock` (ns), `context-switches`, `major-faults`.
    pub event: String,
    /// The count over the sandbox's life; null when unavailable.
    pub value: Option<u64>,
    /// Why `value` is null: the errno and its cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One OOM kill and where it struck (case C05).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OomKill {
    /// `aggressor` (expected), `victim` or `outside` (both isolation breaches).
    pub attributed_to: String,
    /// True for a kill in the victim's sandbox or outside both.
    pub breach: bool,
    /// The killed process's pid and name, when the kernel log named it.
    pub process: Option<String>,
    /// The cgroup the kernel named (`task_memcg`), or the sandbox whose `memory.events` counted it.
    pub cgroup: String,
    /// `kmsg` (kernel log line) or `memory.events`.
    pub source: String,
    /// When, seconds since the condition's timeline started; null when only `memory.events` counted it.
    #[serde(default)]
    pub t_s: Option<f64>,
    /// The cgroup whose `memory.oom.group` made the kernel kill this process with
    /// the rest of that group (the log's "Tasks in <cgroup> are going to be
    /// killed due to memory.oom.group set"); null for a kill of one process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_group: Option<String>,
    /// The process's `oom_score_adj` as the kernel logged it; null where not logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// True when the kernel killed this process twice and `memory.events`
    /// `oom_kill` counts it twice: a group kill's chosen victim that the group
    /// scan found still alive (mm/oom_kill.c; seen on 6.1). Absent when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub counted_twice: bool,
}

/// For `skip_serializing_if`: a flag that is off.
fn is_false(b: &bool) -> bool {
    !*b
}

/// One sample of the memory timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineSample {
    /// Seconds since the condition started.
    pub t_s: f64,
    /// Per sandbox, in the order of `MemoryRun::sandboxes`.
    pub sandboxes: Vec<TimelinePoint>,
}

/// One sandbox at one sample.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelinePoint {
    /// Charge by kind, bytes.
    pub memory: MemoryBreakdown,
    /// Memory PSI `some` share since the previous sample, 0..1; null when unavailable.
    pub psi_memory_some: Option<f64>,
    /// Memory PSI `full` share since the previous sample, 0..1; null when unavailable.
    pub psi_memory_full: Option<f64>,
}

/// The victim's own report for one condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VictimRun {
    /// Work units completed inside the measured window.
    pub ops: u64,
    /// Measured window, seconds.
    pub window_s: f64,
    /// `ops / window_s`, ops/s.
    pub throughput_ops: f64,
    /// Latency from each unit's intended start to its end, µs.
    pub latency_p50_us: f64,
    /// 99th percentile, µs.
    pub latency_p99_us: f64,
    /// 99.9th percentile, µs.
    pub latency_p999_us: f64,
    /// Maximum, µs.
    pub latency_max_us: f64,
    /// Share of units (0..1) that ended past the late threshold (10 unit lengths
    /// after their intended start for cpu-units, 1 ms for the other applets, the
    /// suite's `late_us` where given); null for a victim without one (a command
    /// or closure victim whose suite sets no `late_us`).
    #[serde(default)]
    pub late_share: Option<f64>,
}

/// The host's CPU time over one condition's measured window, in CPUs (CPU
/// time / wall time of the window).
///
/// `other = all_tasks − arena − harness` (`host_other_cpu_share`). Interrupt and
/// steal time are apart: they come from /proc/stat, in 10 ms steps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostCpuWindow {
    /// Where `all_tasks` was read: the v1 cpuacct root's `cpuacct.usage`, or on
    /// cgroup v2 the root's child cgroups' `cpu.stat` plus its own threads'
    /// `/proc/<tid>/schedstat`; or why it could not be.
    pub source: String,
    /// CPU time of every task on the host (exact, from the scheduler's
    /// accounting); null when it could not be read.
    pub all_tasks_cpu_share: Option<f64>,
    /// CPU time of every task in the run's arena (all sandboxes: victim,
    /// aggressors), from the arena's cgroup; null when it could not be read.
    pub arena_cpu_share: Option<f64>,
    /// CPU time of the harness process itself (all its threads:
    /// CLOCK_PROCESS_CPUTIME_ID), which lives outside the arena.
    pub harness_cpu_share: f64,
    /// Hardware and soft interrupt time (/proc/stat `irq` + `softirq`); with
    /// `CONFIG_IRQ_TIME_ACCOUNTING` measured and apart from task time, without
    /// it sampled at the tick (the interrupted task is charged); null when
    /// The kernel's own threads (kswapd, kworkers, ksoftirqd…), from their
    /// `/proc/<pid>/schedstat`, CPUs: inside `all_tasks` and left out of
    /// `host_other_cpu_share`, since they work mostly for the run's own
    /// workloads; null where /proc could not be listed.
    #[serde(default)]
    pub kernel_threads_cpu_share: Option<f64>,
    /// /proc/stat could not be read.
    pub irq_cpu_share: Option<f64>,
    /// Steal time (/proc/stat `steal`): the hypervisor ran something else while
    /// this guest wanted the CPU; 0 on bare metal; null when /proc/stat could not be read.
    pub steal_cpu_share: Option<f64>,
    /// Why `host_other_cpu_share` is null; absent when it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// CPU accounting of one sandbox's cgroup over the measured window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuAccount {
    /// Sandbox name (`victim`, `aggressor`).
    pub sandbox: String,
    /// Δusage / Δwall over the window, in CPUs.
    pub cpu_share: f64,
    /// What the cgroup should get under the limits of the isolated condition,
    /// in CPUs: its weight's part of what its parent gets among its busy
    /// siblings, capped by the quotas over it, its cpuset and its demand
    /// (harness `scenario::expected`); null outside the isolated condition, or
    /// when not known (`cpu_share_expected_reason` says why).
    pub cpu_share_expected: Option<f64>,
    /// Why `cpu_share_expected` is null in the isolated condition (a CPU demand
    /// not known ahead); absent when it is known, and in files written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_share_expected_reason: Option<String>,
    /// Δ`nr_periods` (v2 cpu.stat, v1 cpu.stat); null where the file lacks it.
    pub nr_periods: Option<u64>,
    /// Δ`nr_throttled`.
    pub nr_throttled: Option<u64>,
    /// Δ`throttled_usec` (v1: `throttled_time` ns / 1000), µs.
    pub throttled_us: Option<u64>,
    /// Δ`nr_bursts`: periods in which the sandbox ran above its quota on banked
    /// burst time (`cpu.max.burst`, v1 `cpu.cfs_burst_us`; Linux ≥ 5.14,
    /// Documentation/scheduler/sched-bwc.rst); null where cpu.stat lacks it.
    #[serde(default)]
    pub nr_bursts: Option<u64>,
    /// Δ`burst_usec` (v1: `burst_time` ns / 1000): CPU time above the quota, µs;
    /// null where cpu.stat lacks it.
    #[serde(default)]
    pub burst_us: Option<u64>,
}

/// A latency distribution as quantile points, for the CDF chart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LatencyCdf {
    /// Which condition.
    pub condition: Condition,
    /// `(quantile 0..1, latency µs)`, quantile ascending.
    pub points: Vec<(f64, f64)>,
}

/// One derived statistic over rounds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metric {
    /// Contract name, e.g. `victim.latency_p99_us`.
    pub name: String,
    /// The condition it describes, or null where none applies.
    pub condition: Option<Condition>,
    /// Unit: `CPUs`, `ops/s`, `us`, `pp` (percentage points), `ratio`, `share` (0..1).
    pub unit: String,
    /// Mean over rounds; null when it could not be measured (see `reason`).
    pub value: Option<f64>,
    /// Lower bound of the bootstrap 95 % CI of the mean over rounds; null with fewer than 2 rounds.
    pub lower: Option<f64>,
    /// Upper bound of the same interval.
    pub upper: Option<f64>,
    /// The value of each round, in round order (null where that round could not measure it).
    pub per_round: Vec<Option<f64>>,
    /// Why `value` is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ScenarioResult {
    /// The names of the checks that failed, in the order they ran.
    pub fn failed_checks(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// A scenario that has just started: complete so far, with nothing measured yet.
    pub fn started(name: &str, description: &str, spec: serde_json::Value) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            description: description.into(),
            spec,
            status: ScenarioStatus::Complete,
            rounds: Vec::new(),
            latency_cdf: Vec::new(),
            slice_timelines: Vec::new(),
            metrics: Vec::new(),
            warnings: Vec::new(),
            checks: Vec::new(),
            cpu_view: None,
            startup: None,
            verdict: None,
        }
    }
}

impl Results {
    /// Parses a results document, checking its schema version first.
    ///
    /// # Errors
    /// [`SchemaError::Json`] when the text is not JSON or does not match the schema,
    /// [`SchemaError::Version`] when `schema_version` is one this build does not read.
    pub fn from_json(text: &str) -> Result<Results, SchemaError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(SchemaError::Json)?;
        let Some(object) = value.as_object() else {
            return Err(SchemaError::Version(
                "missing (the document is not a JSON object)".into(),
            ));
        };
        match object.get("schema_version") {
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(v) if v.is_u64() => return Err(SchemaError::Version(v.to_string())),
            Some(v) => return Err(SchemaError::Version(format!("{v} (not a whole number)"))),
            None => return Err(SchemaError::Version("missing".into())),
        }
        serde_json::from_value(value).map_err(SchemaError::Json)
    }

    /// The metric `name` for `condition`, if the scenario has it.
    pub fn metric<'a>(
        scenario: &'a ScenarioResult,
        name: &str,
        condition: Option<Condition>,
    ) -> Option<&'a Metric> {
        scenario
            .metrics
            .iter()
            .find(|m| m.name == name && m.condition == condition)
    }
}

/// Why a results document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Not JSON, or fields that do not match the schema.
    #[error("not an isobench results document: {0}")]
    Json(serde_json::Error),
    /// A schema version this build does not read.
    #[error(
        "results schema_version {0} is not supported: this isobench reads version {SCHEMA_VERSION}"
    )]
    Version(String),
}
