//! What a checked suite holds: its defaults and its scenarios, each of one kind.

use crate::cgroup::Limits;
use crate::compare::margins::Margins;
use crate::sandbox::NamespaceSet;
use crate::scenario::Timing;
use isobench_reports::schema::Condition;
use serde::Serialize;

/// A checked suite.
#[derive(Debug, Clone, Serialize)]
pub struct Suite {
    /// Its name (`name` in the file, else the file's stem).
    pub name: String,
    /// Where it came from: a path, or `embedded:<name>`.
    pub origin: String,
    /// Rounds, durations and warm-up of every scenario unless the scenario says otherwise.
    pub timing: Timing,
    /// Margins of the gate that replace the defaults, if the suite sets any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margins: Option<Margins>,
    /// Scenarios, in the order they run.
    pub scenarios: Vec<ScenarioDef>,
}

/// One scenario of a suite.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioDef {
    /// Unique name in the suite: results, metrics and `--scenario` use it.
    pub name: String,
    /// Its rounds, window and warm-up: the suite's defaults unless the scenario sets its own.
    pub timing: Timing,
    /// What it runs.
    pub kind: Kind,
}

/// The kinds of scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kind {
    /// Pass/fail checks that each namespace took effect.
    Visibility,
    /// A victim beside aggressors: solo, contended and isolated conditions.
    Isolation(IsolationDef),
    /// A file-backed victim beside an anonymous-memory hog in a memory-limited arena.
    MemoryPressure(MemoryPressureDef),
    /// Case C04 (cgroup v2): memory.high below the working set against memory.max.
    MemoryHighStall,
    /// Sandbox start-up latency by variant, phases, teardown and churn.
    StartupLatency(StartupDef),
}

impl Kind {
    /// The name of the kind in suite files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Visibility => "visibility",
            Kind::Isolation(_) => "isolation",
            Kind::MemoryPressure(_) => "memory-pressure",
            Kind::MemoryHighStall => "memory-high-stall",
            Kind::StartupLatency(_) => "startup-latency",
        }
    }
}

/// Every kind's name in suite files.
pub const KINDS: [&str; 5] = [
    "visibility",
    "isolation",
    "memory-pressure",
    "memory-high-stall",
    "startup-latency",
];

/// An `isolation` scenario.
#[derive(Debug, Clone, Serialize)]
pub struct IsolationDef {
    /// The victim, whose experience is measured.
    pub victim: VictimDef,
    /// The noisy neighbours, each in its own sandbox.
    pub aggressors: Vec<AggressorDef>,
    /// Namespaces of every sandbox in the isolated condition.
    pub namespaces: NamespaceSet,
    /// Conditions to run, `solo` always among them.
    pub conditions: Vec<Condition>,
}

/// The victim of an `isolation` scenario.
#[derive(Debug, Clone, Serialize)]
pub struct VictimDef {
    /// A victim applet of `isobench-workload` (see [`VICTIMS`]).
    pub workload: String,
    /// Its demand: CPUs for `cpu-units` (rate = cpus / unit length), or units per second.
    pub demand: Demand,
    /// Extra arguments of the applet, checked by its own command line.
    pub args: Vec<String>,
    /// Limits of its sandbox in the isolated condition.
    pub limits: LimitsDef,
    /// A unit is late when its latency passes this, µs (`victim.late_share`).
    pub late_us: Option<f64>,
    /// The victim's latency objective, if its suite sets one: the verdict then
    /// reports each condition's slack against it.
    pub slo: Option<Slo>,
}

/// A latency objective (`slo = { p99_us = 2000 }` in a suite file).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    /// The victim's p99 latency must stay at or below this, µs.
    pub p99_us: f64,
}

/// How much the victim asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Demand {
    /// CPUs (cpu-units only): units per second = CPUs / the calibrated unit length.
    Cpus(f64),
    /// Units (requests, wake-ups) per second.
    Rate(f64),
}

/// An aggressor of an `isolation` scenario.
#[derive(Debug, Clone, Serialize)]
pub struct AggressorDef {
    /// Unique among the scenario's sandboxes: prefix of its metrics (`aggressor.cpu_share`).
    pub name: String,
    /// An aggressor applet of `isobench-workload` (see [`AGGRESSORS`]).
    pub workload: String,
    /// Processes of the applet in its sandbox, 1 to [`MAX_COUNT`].
    pub count: usize,
    /// Extra arguments of the applet, checked by its own command line.
    pub args: Vec<String>,
    /// Limits of its sandbox in the isolated condition.
    pub limits: LimitsDef,
}

/// Most processes of one aggressor.
pub const MAX_COUNT: u64 = 64;

/// Victim applets: each reports open-loop units (ops and latencies).
pub const VICTIMS: [&str; 4] = ["cpu-units", "mem-units", "wakeup-latency", "tcp-echo"];

/// Aggressor applets.
pub const AGGRESSORS: [&str; 7] = [
    "cpu-hog",
    "mem-hog",
    "cache-thrash",
    "mem-bw",
    "fork-storm",
    "io-hog",
    "net-hog",
];

/// Limits of one sandbox as the user wrote them, and what they become.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LimitsDef {
    /// The vocabulary used: `cgroup`, `docker` or `kubernetes`; `None` without limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
    /// The user's words, key and value as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<(String, String)>,
    /// The Kubernetes QoS class the words imply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos: Option<String>,
    /// What the harness writes.
    pub limits: Limits,
    /// The files it writes on this host's layout and their values, e.g.
    /// `("cpu.max", "150000 100000")`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<(String, String)>,
    /// Words that write no file by their vocabulary's own rules, with the reason
    /// (Kubernetes `requests.memory` without the MemoryQoS feature gate).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_written: Vec<(String, String)>,
}

/// Every sandbox of a scenario that has limits: its name and limits.
pub fn limits_of(kind: &Kind) -> Vec<(&str, &LimitsDef)> {
    match kind {
        Kind::Isolation(iso) => std::iter::once(("victim", &iso.victim.limits))
            .chain(iso.aggressors.iter().map(|a| (a.name.as_str(), &a.limits)))
            .filter(|(_, l)| l.vocabulary.is_some())
            .collect(),
        Kind::MemoryPressure(m) => m
            .aggressor_limits
            .iter()
            .map(|l| ("aggressor", l))
            .collect(),
        _ => Vec::new(),
    }
}

/// A `memory-pressure` scenario's sizes; `None` is the scenario's default.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryPressureDef {
    /// Memory limit of each condition's arena, bytes.
    pub arena_bytes: Option<u64>,
    /// The victim's working set, bytes.
    pub working_set_bytes: Option<u64>,
    /// The aggressor's limits in the isolated condition (memory knobs only).
    pub aggressor_limits: Option<LimitsDef>,
}

/// A `startup-latency` scenario's settings; `None` is the scenario's default.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StartupDef {
    /// Recorded starts per variant per round.
    pub samples: Option<usize>,
    /// Seconds of each churn measurement.
    pub churn_s: Option<f64>,
    /// Namespaces of the headline sandbox.
    pub namespaces: Option<NamespaceSet>,
}
