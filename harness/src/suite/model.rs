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
    /// Pass/fail checks that each namespace took effect, and what a workload
    /// in a limited sandbox believes it has (`cpu-view`).
    Visibility(Box<VisibilityDef>),
    /// A victim beside aggressors: solo, contended and isolated conditions.
    Isolation(Box<IsolationDef>),
    /// A file-backed victim beside an anonymous-memory hog in a memory-limited arena.
    MemoryPressure(Box<MemoryPressureDef>),
    /// Case C04 (cgroup v2): memory.high below the working set against memory.max.
    MemoryHighStall,
    /// Sandbox start-up latency by variant, phases, teardown and churn.
    StartupLatency(StartupDef),
}

impl Kind {
    /// The name of the kind in suite files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Visibility(_) => "visibility",
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

/// A `visibility` scenario's `cpu-view` check: the sandbox it runs in
/// (`[scenario.cpu_view]`) and the groups above it (`[[scenario.group]]`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct VisibilityDef {
    /// Limits of the `cpu-view` sandbox; none when the suite gives no
    /// `[scenario.cpu_view]` (the budget is then the arena's and the host's).
    pub cpu_view_limits: LimitsDef,
    /// The group its sandbox sits in; `None` for the arena.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_view_group: Option<String>,
    /// Groups above it, each after its parent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupDef>,
}

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
    /// Groups above the sandboxes in the isolated condition, each after its
    /// parent (`[[scenario.group]]`); empty: every sandbox is a child of the arena.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupDef>,
    /// What `isobench sweep` moves when its command line names no knob
    /// (`[scenario.sweep]`); `isobench run` runs the scenario as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepDef>,
}

/// A scenario's own sweep (`[scenario.sweep]`, docs/suite-format.md "Sweeps"),
/// checked against the scenario when the suite is read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepDef {
    /// The knob, `SANDBOX.KNOB` ([`crate::sweep::knob::Over`]).
    pub over: String,
    /// Its values, ascending, in the knob's unit (%, CPUs, bytes).
    pub values: Vec<f64>,
}

impl IsolationDef {
    /// The group a sandbox (`victim` or an aggressor's name) sits in, if any.
    pub fn group_of(&self, sandbox: &str) -> Option<&str> {
        if sandbox == "victim" {
            return self.victim.group.as_deref();
        }
        self.aggressors
            .iter()
            .find(|a| a.name == sandbox)
            .and_then(|a| a.group.as_deref())
    }

    /// Whether an aggressor has phases (`phase = { ... }`).
    pub fn phased(&self) -> bool {
        self.aggressors.iter().any(|a| a.phase.is_some())
    }

    /// The victim's slice length, ms: its `slice_ms`, else
    /// [`super::phase::DEFAULT_SLICE_MS`] beside a phased neighbour; `None`
    /// without either, or for a victim that does not slice
    /// ([`super::phase::SLICED_VICTIMS`], and bench closures).
    pub fn slice_ms(&self) -> Option<u64> {
        let sliced = match &self.victim.workload {
            VictimWorkload::Applet { workload, .. } => {
                super::phase::SLICED_VICTIMS.contains(&workload.as_str())
            }
            VictimWorkload::Closure { .. } => true,
            VictimWorkload::Command { .. } => false,
        };
        let wanted = self
            .victim
            .slice_ms
            .or(self.phased().then_some(super::phase::DEFAULT_SLICE_MS));
        wanted.filter(|_| sliced)
    }
}

/// A group: a cgroup between the arena and some sandboxes, with limits of its
/// own (a pod, a QoS tier, a slice). In the isolated condition it is created
/// beneath its parent (or the arena) with its limits, and its sandboxes and
/// child groups beneath it; the contended condition has no groups.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDef {
    /// Unique among the scenario's groups and sandboxes; its metrics are `group.<name>.*`.
    pub name: String,
    /// The group it sits in; `None` for a child of the arena.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Its limits: as written, or as the kubelet would derive them (`kubelet`).
    pub limits: LimitsDef,
    /// The kubelet's level this group stands for, and how its limits were derived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletDef>,
}

/// Most levels of groups beneath the arena: the kubelet's three
/// (`kubepods`, the QoS tier, the pod) and one slice above them.
pub const MAX_GROUP_DEPTH: usize = 4;

/// A group whose limits are the ones the kubelet writes for its level
/// (`kubelet = { level = "pod" }`), derived from what sits beneath it.
#[derive(Debug, Clone, Serialize)]
pub struct KubeletDef {
    /// Which of the kubelet's cgroups it is.
    pub level: KubeletLevel,
    /// The milliCPU its `cpu.shares` come from: the node's allocatable CPU, the
    /// sum of the CPU requests of the tier's pods or of the pod's containers.
    pub cpu_milli: u64,
    /// `cpu.shares` by `MilliCPUToShares` (milliCPU × 1024 / 1000, 2 to 262144).
    pub cpu_shares: u64,
    /// How the shares became `cpu.weight` on cgroup v2 (not used on v1, which
    /// writes the shares).
    pub weight_formula: crate::cgroup::SharesFormula,
    /// That formula in words, with its source.
    pub weight_formula_text: &'static str,
    /// A pod's QoS class, from its containers (`Guaranteed`, `Burstable`, `BestEffort`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos: Option<String>,
}

/// The kubelet's cgroups (pkg/kubelet/cm: node_container_manager_linux.go,
/// qos_container_manager_linux.go, helpers_linux.go `ResourceConfigForPod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KubeletLevel {
    /// `kubepods`: `cpu.shares` of the node's allocatable CPU.
    Node,
    /// `kubepods/burstable`: `cpu.shares` of the sum of its pods' CPU requests.
    Burstable,
    /// `kubepods/besteffort`: 2 shares.
    BestEffort,
    /// A pod: `cpu.shares` of its containers' requests; a quota of their limits
    /// (and a memory limit of theirs) when every container has one.
    Pod,
}

impl KubeletLevel {
    /// Every level, as suite files name them.
    pub const NAMES: [&'static str; 4] = ["node", "burstable", "besteffort", "pod"];

    /// The level named `name` in a suite file.
    pub fn from_name(name: &str) -> Option<KubeletLevel> {
        match name {
            "node" => Some(KubeletLevel::Node),
            "burstable" => Some(KubeletLevel::Burstable),
            "besteffort" => Some(KubeletLevel::BestEffort),
            "pod" => Some(KubeletLevel::Pod),
            _ => None,
        }
    }

    /// Its name in suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            KubeletLevel::Node => "node",
            KubeletLevel::Burstable => "burstable",
            KubeletLevel::BestEffort => "besteffort",
            KubeletLevel::Pod => "pod",
        }
    }
}

/// The victim of an `isolation` scenario.
#[derive(Debug, Clone, Serialize)]
pub struct VictimDef {
    /// What it runs: an applet, a command of the user's, or a bench closure.
    #[serde(flatten)]
    pub workload: VictimWorkload,
    /// Its demand: CPUs for `cpu-units` (rate = cpus / unit length), units per
    /// second, or none of its own (a command that runs back to back or paces itself).
    pub demand: Demand,
    /// Limits of its sandbox in the isolated condition.
    pub limits: LimitsDef,
    /// A unit is late when its latency passes this, µs (`victim.late_share`).
    pub late_us: Option<f64>,
    /// The victim's latency objective, if its suite sets one: the verdict then
    /// reports each condition's slack against it.
    pub slo: Option<Slo>,
    /// The group its sandbox sits in when isolated; `None` for the arena.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Length of the slices its latencies are also reported by, ms (10 to
    /// 100; `slice_ms`); see [`IsolationDef::slice_ms`] for the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_ms: Option<u64>,
}

/// What a victim runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum VictimWorkload {
    /// A victim applet of `isobench-workload` (see [`VICTIMS`]) with extra
    /// arguments, checked by its own command line.
    Applet {
        /// The applet, e.g. `cpu-units`.
        workload: String,
        /// Its extra arguments.
        args: Vec<String>,
    },
    /// A command of the user's, measured as `mode` says.
    Command {
        /// What runs.
        command: CommandDef,
        /// How its latency and throughput are taken.
        mode: CommandMode,
    },
    /// A closure registered with `isobench::bench` in a `cargo bench` binary,
    /// which is re-executed in the sandbox to run it open-loop.
    Closure {
        /// The name it was registered under.
        name: String,
    },
}

impl VictimWorkload {
    /// A short name for descriptions: the applet, `command gzip (runs)`, `closure hash`.
    pub fn label(&self) -> String {
        match self {
            VictimWorkload::Applet { workload, .. } => workload.clone(),
            VictimWorkload::Command { command, mode } => {
                format!("command {} ({})", command.display_name(), mode.as_str())
            }
            VictimWorkload::Closure { name } => format!("closure {name}"),
        }
    }

    /// Whether the victim's work follows the run's calibrated unit (`cpu-units`):
    /// its absolute figures then differ between runs that calibrated apart.
    pub fn calibrated(&self) -> bool {
        matches!(self, VictimWorkload::Applet { workload, .. } if workload == "cpu-units")
    }

    /// Whether the gate compares the victim's absolute latencies and rates only
    /// between runs that share a calibration: true for the built-in applets
    /// (cpu-units' unit follows it, and the absolute margins were set from A/A
    /// pairs of runs that shared one), false for a command or a closure, whose
    /// work is the user's own and the same in every run.
    pub fn absolutes_need_shared_calibration(&self) -> bool {
        matches!(self, VictimWorkload::Applet { .. })
    }
}

/// A command of the user's, as a victim or a neighbour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandDef {
    /// The command line as written: program, then arguments.
    pub argv: Vec<String>,
    /// The program found at `suite check`: `argv[0]` if it has a `/`, else the
    /// first executable of that name on PATH.
    pub program: std::path::PathBuf,
    /// Variables added to isobench's environment, `(name, value)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    /// Working directory; isobench's own when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<std::path::PathBuf>,
}

impl CommandDef {
    /// The program's file name, for labels (`stress-ng`).
    pub fn display_name(&self) -> String {
        let first = self.argv.first().map_or("", String::as_str);
        first.rsplit('/').next().unwrap_or(first).to_string()
    }
}

/// How a command victim is measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandMode {
    /// Run to completion again and again through the window: each run's wall
    /// time is a latency sample, runs per second the throughput.
    Runs,
    /// A long-running server, driven open-loop over TCP inside its sandbox's
    /// network namespace.
    Service(ServiceDef),
    /// The command reports its own latencies on stdout.
    Reports(ReportFormat),
}

impl CommandMode {
    /// Its name in suite files.
    pub fn as_str(&self) -> &'static str {
        match self {
            CommandMode::Runs => "runs",
            CommandMode::Service(_) => "service",
            CommandMode::Reports(_) => "reports",
        }
    }
}

/// Modes of a command victim, as suite files name them.
pub const COMMAND_MODES: [&str; 3] = ["runs", "service", "reports"];

/// A service victim: where it listens and what one request is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDef {
    /// TCP port it listens on, on 127.0.0.1 of its network namespace.
    pub port: u16,
    /// One request and its reply.
    pub protocol: ServiceProtocol,
    /// How long isobench waits for the port to accept before the window, s.
    pub ready_timeout_s: f64,
}

/// One request/response exchange with a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "protocol", rename_all = "kebab-case")]
pub enum ServiceProtocol {
    /// Raw TCP: `send` goes out, the reply is `reply`.
    Tcp {
        /// Bytes sent per request.
        send: String,
        /// How the reply ends.
        reply: TcpReply,
    },
    /// HTTP/1.1 GET of `path` on a kept-alive connection; the reply ends after
    /// its headers and `Content-Length` bytes.
    Http {
        /// The request target, e.g. `/`.
        path: String,
    },
}

/// How a raw TCP reply ends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TcpReply {
    /// After exactly this many bytes.
    Bytes(u64),
    /// At the first occurrence of this delimiter (included).
    Until(String),
}

/// What a `reports` command prints.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    /// One latency per line, µs; each line read while the window is open is a unit.
    Lines,
    /// One JSON object at exit: `{"latencies_us": [...]}` and optionally `"ops"`
    /// and `"window_s"` (docs/suite-format.md).
    Json,
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
    /// Units (requests, wake-ups) per second, on an open-loop schedule.
    Rate(f64),
    /// None of its own: a `runs` command runs back to back, a `reports`
    /// command keeps its own pace.
    Own,
}

/// An aggressor of an `isolation` scenario.
#[derive(Debug, Clone, Serialize)]
pub struct AggressorDef {
    /// Unique among the scenario's sandboxes: prefix of its metrics (`aggressor.cpu_share`).
    pub name: String,
    /// What it runs.
    #[serde(flatten)]
    pub workload: AggressorWorkload,
    /// Processes of it in its sandbox, 1 to [`MAX_COUNT`].
    pub count: usize,
    /// Limits of its sandbox in the isolated condition.
    pub limits: LimitsDef,
    /// The group its sandbox sits in when isolated; `None` for the arena.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// When it is on and off (`phase = { ... }`), applied by freezing its
    /// cgroup in the contended and isolated conditions; `None`: on throughout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<super::phase::Phase>,
}

/// What an aggressor runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AggressorWorkload {
    /// An aggressor applet of `isobench-workload` (see [`AGGRESSORS`]).
    Applet {
        /// The applet, e.g. `cpu-hog`.
        workload: String,
        /// Its extra arguments, checked by its own command line.
        args: Vec<String>,
    },
    /// A command of the user's: stopped with its whole tree at the window's end.
    Command(CommandDef),
}

impl AggressorWorkload {
    /// A short name: the applet, or `command stress-ng`.
    pub fn label(&self) -> String {
        match self {
            AggressorWorkload::Applet { workload, .. } => workload.clone(),
            AggressorWorkload::Command(c) => format!("command {}", c.display_name()),
        }
    }
}

/// Most processes of one aggressor.
pub const MAX_COUNT: u64 = 64;

/// Victim applets: each reports open-loop units (ops and latencies).
pub const VICTIMS: [&str; 4] = ["cpu-units", "mem-units", "wakeup-latency", "tcp-echo"];

/// Aggressor applets.
pub const AGGRESSORS: [&str; 8] = [
    "cpu-hog",
    "cpu-bursts",
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
    /// A Kubernetes container's requests and limits (vocabulary `kubernetes`),
    /// which a kubelet pod group sums.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::vocabulary::ContainerResources>,
}

/// Every sandbox and group of a scenario that has limits: its name
/// (`group <name>` for a group) and limits.
pub fn limits_of(kind: &Kind) -> Vec<(String, &LimitsDef)> {
    match kind {
        Kind::Isolation(iso) => iso
            .groups
            .iter()
            .map(|g| (format!("group {}", g.name), &g.limits))
            .chain(std::iter::once(("victim".to_string(), &iso.victim.limits)))
            .chain(iso.aggressors.iter().map(|a| (a.name.clone(), &a.limits)))
            .filter(|(_, l)| l.vocabulary.is_some())
            .collect(),
        Kind::Visibility(v) => v
            .groups
            .iter()
            .map(|g| (format!("group {}", g.name), &g.limits))
            .chain(std::iter::once((
                "cpu-view".to_string(),
                &v.cpu_view_limits,
            )))
            .filter(|(_, l)| l.vocabulary.is_some())
            .collect(),
        Kind::MemoryPressure(m) => m
            .aggressor_limits
            .iter()
            .map(|l| ("aggressor".to_string(), l))
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
