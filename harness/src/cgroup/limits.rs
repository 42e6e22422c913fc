//! Resource limits a sandbox's cgroup can carry, in the kernel's own terms, and
//! the exact files and values each layout gets for them ([`Limits::files`]).
//!
//! - CPU: `cpu.max` (v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`,
//!   Documentation/scheduler/sched-bwc.rst), its burst `cpu.max.burst` (v1
//!   `cpu.cfs_burst_us`, sched-bwc.rst "Burst feature", Linux ≥ 5.14),
//!   `cpu.idle` (Documentation/admin-guide/cgroup-v2.rst, Linux ≥ 5.15; the same
//!   file on v1), `cpu.weight` (v1 `cpu.shares`, converted by [`super::weight`]),
//!   `cpuset.cpus` (cgroup-v1/cpusets.rst).
//! - Memory knobs are named by their kernel file: v2 `memory.max`, `memory.high`,
//!   `memory.low`, `memory.min`, `memory.swap.max`
//!   (Documentation/admin-guide/cgroup-v2.rst, "Memory Interface Files") and v1
//!   `memory.limit_in_bytes`, `memory.soft_limit_in_bytes`,
//!   `memory.memsw.limit_in_bytes` (Documentation/admin-guide/cgroup-v1/memory.rst);
//!   `memory.oom.group` (cgroup-v2.rst, v2 only).
//! - `pids.max` (cgroup-v1/pids.rst; same file on v2).
//! - Block I/O: v2 `io.weight` and `io.max` ("IO Interface Files"); v1
//!   `blkio.weight` and `blkio.throttle.{read,write}_{bps,iops}_device`
//!   (cgroup-v1/blkio-controller.rst).

use super::cpulist::CpuList;
use super::error::CgroupError;
use super::layout::Layout;
use super::weight::{CpuWeight, IoWeight};

/// v1 CFS period file (µs).
pub(super) const CFS_PERIOD: &str = "cpu.cfs_period_us";
/// v1 CFS quota file (µs, `-1` for none).
pub(super) const CFS_QUOTA: &str = "cpu.cfs_quota_us";
/// v2 CFS burst file (µs; Linux ≥ 5.14).
pub const CPU_MAX_BURST: &str = "cpu.max.burst";
/// v1 CFS burst file (µs; Linux ≥ 5.14).
pub const CFS_BURST: &str = "cpu.cfs_burst_us";
/// The group's SCHED_IDLE switch, `0` or `1`, on both layouts (Linux ≥ 5.15).
pub const CPU_IDLE: &str = "cpu.idle";
/// v2 group OOM kill switch, `0` or `1` (Linux ≥ 4.19); v1 has none.
pub const MEMORY_OOM_GROUP: &str = "memory.oom.group";

/// Shortest CFS quota and period the kernel accepts, µs (`min_cfs_quota_period`
/// in kernel/sched/core.c, Documentation/scheduler/sched-bwc.rst).
pub const CFS_MIN_US: u64 = 1_000;
/// Longest CFS period the kernel accepts, µs (`max_cfs_quota_period`).
pub const CFS_MAX_PERIOD_US: u64 = 1_000_000;
/// Largest CFS quota the kernel takes, µs: `max_cfs_runtime`, 2^44 − 1 µs
/// (kernel/sched/core.c, `MAX_BW`); larger writes fail with EINVAL.
pub const CFS_MAX_QUOTA_US: u64 = (1 << 44) - 1;
/// Largest pids.max the kernel takes: `PID_MAX_LIMIT` on 64-bit (include/linux/threads.h).
pub const PID_MAX_LIMIT: u64 = 4_194_304;

/// CPU bandwidth limit: `quota_us` of CPU time per `period_us` of wall time
/// (v2 `cpu.max`; v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`).
/// Source: Documentation/scheduler/sched-bwc.rst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuMax {
    /// CPU time allowed per period, µs; `None` is `max` (no limit).
    pub quota_us: Option<u64>,
    /// Enforcement period, µs (the kernel accepts 1 000 – 1 000 000).
    pub period_us: u64,
}

impl CpuMax {
    /// A limit the kernel accepts: a quota of at least 1 000 µs (or `None`, no
    /// limit) and a period of 1 000 – 1 000 000 µs.
    ///
    /// # Errors
    /// A message naming the value out of range and the accepted range.
    pub fn new(quota_us: Option<u64>, period_us: u64) -> Result<CpuMax, String> {
        if !(CFS_MIN_US..=CFS_MAX_PERIOD_US).contains(&period_us) {
            return Err(format!(
                "period {period_us} µs is out of range: expected {CFS_MIN_US} to {CFS_MAX_PERIOD_US} µs"
            ));
        }
        if let Some(q) = quota_us.filter(|&q| q < CFS_MIN_US) {
            return Err(format!(
                "quota {q} µs is below the kernel's minimum: expected at least {CFS_MIN_US} µs, or max"
            ));
        }
        if let Some(q) = quota_us.filter(|&q| q > CFS_MAX_QUOTA_US) {
            return Err(format!(
                "quota {q} µs is above the kernel's maximum: expected at most {CFS_MAX_QUOTA_US} µs, or max"
            ));
        }
        Ok(CpuMax {
            quota_us,
            period_us,
        })
    }

    /// The limit in CPUs (`quota / period`), or `None` for `max`.
    pub fn cpus(&self) -> Option<f64> {
        self.quota_us.map(|q| q as f64 / self.period_us as f64)
    }

    /// The value written to v2 `cpu.max`: `"<quota> <period>"` or `"max <period>"`.
    pub fn to_v2(&self) -> String {
        match self.quota_us {
            Some(q) => format!("{q} {}", self.period_us),
            None => format!("max {}", self.period_us),
        }
    }
}

/// A count or byte limit that may be lifted: `max` in the kernel's files.
///
/// Serialised as the number or the string `"max"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// No limit (`max`).
    Max,
    /// A limit of this many (pids, bytes per second, I/Os per second).
    Value(u64),
}

impl std::fmt::Display for Limit {
    /// `max` or the number, as v2 files and v1 `pids.max` take it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Max => f.write_str("max"),
            Limit::Value(v) => write!(f, "{v}"),
        }
    }
}

impl serde::Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Max => s.serialize_str("max"),
            Limit::Value(v) => s.serialize_u64(*v),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Limit, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Ok(Limit::Value(n)),
            Raw::Str(s) if s == "max" => Ok(Limit::Max),
            Raw::Str(s) => Err(serde::de::Error::custom(format!(
                "{s:?}: expected a number or \"max\""
            ))),
        }
    }
}

/// A block device, by its kernel device number (`MAJ:MIN`, as `/sys/block/<dev>/dev` lists it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceNumber {
    /// Major number (the driver).
    pub major: u32,
    /// Minor number (the device of that driver).
    pub minor: u32,
}

impl std::fmt::Display for DeviceNumber {
    /// `MAJ:MIN`, e.g. `8:0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl std::str::FromStr for DeviceNumber {
    type Err = String;
    /// Parses `MAJ:MIN`, e.g. `8:0`.
    fn from_str(s: &str) -> Result<DeviceNumber, String> {
        let bad = || format!("{s:?} is not a device number: expected MAJ:MIN such as 8:0");
        let (a, b) = s.trim().split_once(':').ok_or_else(bad)?;
        Ok(DeviceNumber {
            major: a.parse().map_err(|_| bad())?,
            minor: b.parse().map_err(|_| bad())?,
        })
    }
}

impl serde::Serialize for DeviceNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DeviceNumber, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Throttling of one block device: v2 `io.max` (`MAJ:MIN rbps= wbps= riops= wiops=`),
/// v1 `blkio.throttle.{read,write}_{bps,iops}_device`. `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IoMax {
    /// The device (a whole disk, not a partition).
    pub device: DeviceNumber,
    /// Read bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rbps: Option<Limit>,
    /// Write bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wbps: Option<Limit>,
    /// Read I/O operations per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub riops: Option<Limit>,
    /// Write I/O operations per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiops: Option<Limit>,
}

impl IoMax {
    /// No field set for `device`.
    pub fn device(device: DeviceNumber) -> IoMax {
        IoMax {
            device,
            rbps: None,
            wbps: None,
            riops: None,
            wiops: None,
        }
    }

    /// The fields that are set, as (v2 key, v1 file, limit).
    fn fields(&self) -> impl Iterator<Item = (&'static str, &'static str, Limit)> {
        [
            ("rbps", "blkio.throttle.read_bps_device", self.rbps),
            ("wbps", "blkio.throttle.write_bps_device", self.wbps),
            ("riops", "blkio.throttle.read_iops_device", self.riops),
            ("wiops", "blkio.throttle.write_iops_device", self.wiops),
        ]
        .into_iter()
        .filter_map(|(k, f, v)| v.map(|v| (k, f, v)))
    }
}

/// One write of a limit into a sandbox's cgroup: which controller's hierarchy,
/// which file, what value. [`Limits::files`] lists them in the order the
/// backends write them; results record them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileWrite {
    /// The controller owning the file (`cpu`, `cpuset`, `memory`, `pids`, `io`; v1 `blkio`).
    pub controller: String,
    /// The file's name in the cgroup directory, e.g. `cpu.max`.
    pub file: String,
    /// The exact text written.
    pub value: String,
}

/// The limits of one sandbox's cgroup. `Default` is "no limit of its own".
///
/// Each limit is stored as the user gave it; [`Limits::files`] says what
/// each layout gets for it, and the backends write exactly that.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// CPU bandwidth limit, if any.
    pub cpu_max: Option<CpuMax>,
    /// CPU time the group may bank in periods it leaves quota unused and spend
    /// above its quota later, µs (v2 `cpu.max.burst`, v1 `cpu.cfs_burst_us`;
    /// Documentation/scheduler/sched-bwc.rst, "Burst feature"). The kernel
    /// refuses a burst above the quota with EINVAL (case C10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_max_burst_us: Option<u64>,
    /// Whether the group is an idle group (`cpu.idle` 1: its tasks are treated as
    /// SCHED_IDLE against its siblings; Documentation/admin-guide/cgroup-v2.rst,
    /// "cpu.idle"). The kernel refuses a weight for an idle group (EINVAL) and
    /// resets the weight to the default when idle is cleared (case C16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_idle: Option<bool>,
    /// Proportional CPU weight (v2 `cpu.weight` or v1 `cpu.shares`, as given), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_weight: Option<CpuWeight>,
    /// CPUs the sandbox may run on (`cpuset.cpus`), if restricted. On v1 the
    /// sandbox's `cpuset.mems` is copied from its parent (case C03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset_cpus: Option<CpuList>,
    /// Memory knobs to write, in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory: Vec<MemorySetting>,
    /// Whether an OOM kill in the group kills every task of it
    /// (`memory.oom.group`; Documentation/admin-guide/cgroup-v2.rst, v2 only;
    /// tasks with `oom_score_adj` −1000 are spared, case C11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_oom_group: Option<bool>,
    /// Most tasks (processes and threads) the sandbox may hold (`pids.max`), if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_max: Option<Limit>,
    /// Proportional block I/O weight (v2 `io.weight` or v1 `blkio.weight`, as given), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_weight: Option<IoWeight>,
    /// Per-device I/O throttling, one entry per device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_max: Vec<IoMax>,
}

impl Limits {
    /// The first knob that `layout` has no file for, with the reason.
    pub fn unsupported_on(&self, layout: Layout) -> Option<Unsupported> {
        self.unsupported(layout).into_iter().next()
    }

    /// Every knob that `layout` has no file for, with the reason. CPU and I/O
    /// weights, CPU bursts and idle, cpusets, pids and I/O throttling exist on
    /// every layout (weights are converted); memory knobs differ, and
    /// `memory.oom.group` is v2's alone. Whether the host really has the file (a
    /// controller not mounted or not delegated, a kernel older than the knob,
    /// `blkio.weight` without CFQ) is checked when a sandbox is created.
    pub fn unsupported(&self, layout: Layout) -> Vec<Unsupported> {
        let mut out: Vec<Unsupported> = self
            .memory
            .iter()
            .filter_map(|s| s.knob.unsupported_on(layout))
            .collect();
        if self.memory_oom_group.is_some() && layout != Layout::V2 {
            out.push(oom_group_unsupported(layout));
        }
        out
    }

    /// `err`, from writing `w` of these limits, as [`CgroupError::Refused`]
    /// where [`Limits::refusal`] knows why the kernel refused it; else unchanged.
    pub(super) fn explain(&self, w: &FileWrite, err: CgroupError) -> CgroupError {
        match err {
            CgroupError::Write { path, value, error } => {
                match self.refusal(&w.file, &value, &error) {
                    Some(reason) => CgroupError::Refused {
                        file: w.file.clone(),
                        value,
                        reason,
                        path,
                        error,
                    },
                    None => CgroupError::Write { path, value, error },
                }
            }
            other => other,
        }
    }

    /// Why the kernel refused writing `value` to `file` of these limits with
    /// `error`, in words, where the reason is one isobench knows (the kernel
    /// says only EINVAL): a burst above the quota (sched-bwc.rst), a weight for
    /// an idle group, a `cpu.idle` other than 0 or 1 (kernel/sched/core.c
    /// `sched_group_set_shares`, `sched_group_set_idle`).
    pub fn refusal(&self, file: &str, value: &str, error: &std::io::Error) -> Option<String> {
        if error.raw_os_error() != Some(nix::libc::EINVAL) {
            return None;
        }
        match file {
            CPU_MAX_BURST | CFS_BURST => {
                let burst = self.cpu_max_burst_us?;
                match self.cpu_max.and_then(|m| Some((m.quota_us?, m.period_us))) {
                    Some((quota, period)) if burst > quota => Some(format!(
                        "EINVAL: a burst above the quota ({burst} µs > {quota} µs per {period} µs \
                         period); the kernel takes a burst of at most the quota"
                    )),
                    _ => Some(format!(
                        "EINVAL: the kernel takes a burst of at most the quota, with quota + burst \
                         at most {CFS_MAX_QUOTA_US} µs"
                    )),
                }
            }
            "cpu.weight" | "cpu.shares" if self.cpu_idle == Some(true) => Some(format!(
                "EINVAL: the group is idle ({CPU_IDLE} 1), and the kernel takes no weight for an \
                 idle group; give cpu.idle 0 (then the weight), or no weight"
            )),
            CPU_IDLE => Some(format!("EINVAL: {CPU_IDLE} takes 0 or 1, not {value:?}")),
            _ => None,
        }
    }

    /// The files written for these limits on `layout`, in the order they are
    /// written: on v1 the CFS period before the quota (a quota is checked against
    /// the period in force) and `memory.limit_in_bytes` before the other memory
    /// files (the kernel keeps memory+swap at or above it); v1 and hybrid get the
    /// same files. Memory knobs the layout lacks ([`Limits::unsupported`]) are
    /// left out.
    pub fn files(&self, layout: Layout) -> Vec<FileWrite> {
        let v2 = layout == Layout::V2;
        let mut out = Vec::new();
        let mut push = |controller: &str, file: &str, value: String| {
            out.push(FileWrite {
                controller: controller.into(),
                file: file.into(),
                value,
            })
        };
        if let Some(max) = self.cpu_max {
            if v2 {
                push("cpu", "cpu.max", max.to_v2());
            } else {
                push("cpu", CFS_PERIOD, max.period_us.to_string());
                let quota = max.quota_us.map_or("-1".to_string(), |q| q.to_string());
                push("cpu", CFS_QUOTA, quota);
            }
        }
        if let Some(burst) = self.cpu_max_burst_us {
            // After the quota: the kernel checks a burst against the quota in force.
            push(
                "cpu",
                if v2 { CPU_MAX_BURST } else { CFS_BURST },
                burst.to_string(),
            );
        }
        if let Some(idle) = self.cpu_idle {
            // Before the weight: clearing idle resets the weight to the default.
            push("cpu", CPU_IDLE, u8::from(idle).to_string());
        }
        if let Some(w) = self.cpu_weight {
            if v2 {
                push("cpu", "cpu.weight", w.as_weight().to_string());
            } else {
                push("cpu", "cpu.shares", w.as_shares().to_string());
            }
        }
        if let Some(cpus) = &self.cpuset_cpus {
            push("cpuset", "cpuset.cpus", cpus.to_string());
        }
        let mut memory: Vec<&MemorySetting> = self
            .memory
            .iter()
            .filter(|s| s.knob.supported_on(layout))
            .collect();
        if !v2 {
            memory.sort_by_key(|s| s.knob.file(layout) != MemoryKnob::Max.file(layout));
        }
        for s in memory {
            push("memory", s.knob.file(layout), s.value(layout));
        }
        if let Some(group) = self.memory_oom_group.filter(|_| v2) {
            push("memory", MEMORY_OOM_GROUP, u8::from(group).to_string());
        }
        if let Some(pids) = self.pids_max {
            push("pids", "pids.max", pids.to_string());
        }
        if let Some(w) = self.io_weight {
            if v2 {
                push("io", "io.weight", format!("default {}", w.as_io_weight()));
            } else {
                push("blkio", "blkio.weight", w.as_blkio_weight().to_string());
            }
        }
        for m in &self.io_max {
            if v2 {
                let fields: Vec<String> = m.fields().map(|(k, _, v)| format!("{k}={v}")).collect();
                if !fields.is_empty() {
                    push("io", "io.max", format!("{} {}", m.device, fields.join(" ")));
                }
            } else {
                for (_, file, v) in m.fields() {
                    // v1 lifts a throttle with 0 (blkio-controller.rst).
                    let v = match v {
                        Limit::Max => 0,
                        Limit::Value(v) => v,
                    };
                    push("blkio", file, format!("{} {v}", m.device));
                }
            }
        }
        out
    }
}

/// `memory.oom.group` on a layout without it: v1 has no group OOM kill.
pub fn oom_group_unsupported(layout: Layout) -> Unsupported {
    Unsupported {
        knob: MEMORY_OOM_GROUP.into(),
        layout,
        why: "cgroup v1 has no group OOM kill: the OOM killer takes one process at a time; \
              memory.oom.group needs cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1)"
            .into(),
    }
}

/// A knob that the host's layout (or the host itself) has no file for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{knob} is not supported on {layout}{}", if why.is_empty() { String::new() } else { format!(" ({why})") })]
pub struct Unsupported {
    /// The knob asked for, by its kernel file name (e.g. `memory.high`, `blkio.weight`).
    pub knob: String,
    /// The host's layout.
    pub layout: Layout,
    /// What the host lacks and what to use instead; may be empty.
    pub why: String,
}

/// One memory knob and the value written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemorySetting {
    /// Which file.
    pub knob: MemoryKnob,
    /// Bytes; `None` is `max` (v1: -1), no limit.
    pub bytes: Option<u64>,
}

impl MemorySetting {
    /// The value as the kernel accepts it: bytes, or `max` (v2) / `-1` (v1) for no limit.
    pub fn value(&self, layout: Layout) -> String {
        match (self.bytes, layout) {
            (Some(b), _) => b.to_string(),
            (None, Layout::V2) => "max".into(),
            (None, _) => "-1".into(),
        }
    }
}

/// A memory control file of a cgroup, v2 or v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MemoryKnob {
    /// v2 `memory.max`: hard limit, reclaim then OOM kill. Written as
    /// `memory.limit_in_bytes` on v1, which means the same.
    #[serde(rename = "memory.max")]
    Max,
    /// v2 `memory.high`: throttle and reclaim above it, never OOM kill.
    #[serde(rename = "memory.high")]
    High,
    /// v2 `memory.low`: best-effort protection from reclaim.
    #[serde(rename = "memory.low")]
    Low,
    /// v2 `memory.min`: hard protection from reclaim.
    #[serde(rename = "memory.min")]
    Min,
    /// v2 `memory.swap.max`: swap the cgroup may use.
    #[serde(rename = "memory.swap.max")]
    SwapMax,
    /// v1 `memory.limit_in_bytes`.
    #[serde(rename = "memory.limit_in_bytes")]
    LimitInBytes,
    /// v1 `memory.soft_limit_in_bytes`: reclaimed down to it under global pressure.
    #[serde(rename = "memory.soft_limit_in_bytes")]
    SoftLimitInBytes,
    /// v1 `memory.memsw.limit_in_bytes`: memory + swap (only with swap accounting).
    #[serde(rename = "memory.memsw.limit_in_bytes")]
    MemswLimitInBytes,
    /// v1 `memory.kmem.limit_in_bytes`: kernel memory. Deprecated in Linux 5.4 and
    /// refused (EOPNOTSUPP) or absent on newer kernels (case C05): a sandbox then
    /// runs without it, with a warning.
    #[serde(rename = "memory.kmem.limit_in_bytes")]
    KmemLimitInBytes,
}

impl MemoryKnob {
    /// Every knob, in the order `--help` and errors list them.
    pub const ALL: [MemoryKnob; 9] = [
        MemoryKnob::Max,
        MemoryKnob::High,
        MemoryKnob::Low,
        MemoryKnob::Min,
        MemoryKnob::SwapMax,
        MemoryKnob::LimitInBytes,
        MemoryKnob::SoftLimitInBytes,
        MemoryKnob::MemswLimitInBytes,
        MemoryKnob::KmemLimitInBytes,
    ];

    /// The kernel's file name, e.g. `memory.max`.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryKnob::Max => "memory.max",
            MemoryKnob::High => "memory.high",
            MemoryKnob::Low => "memory.low",
            MemoryKnob::Min => "memory.min",
            MemoryKnob::SwapMax => "memory.swap.max",
            MemoryKnob::LimitInBytes => "memory.limit_in_bytes",
            MemoryKnob::SoftLimitInBytes => "memory.soft_limit_in_bytes",
            MemoryKnob::MemswLimitInBytes => "memory.memsw.limit_in_bytes",
            MemoryKnob::KmemLimitInBytes => "memory.kmem.limit_in_bytes",
        }
    }

    /// The knob whose file is called `name`.
    ///
    /// # Errors
    /// A message naming `name` and every knob accepted.
    pub fn parse(name: &str) -> Result<MemoryKnob, String> {
        MemoryKnob::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                let all: Vec<&str> = MemoryKnob::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown memory knob {name:?}; accepted: {}", all.join(", "))
            })
    }

    /// True when `layout` has a file for this knob (the file itself may still be
    /// missing, e.g. `memory.memsw.limit_in_bytes` without swap accounting).
    pub fn supported_on(self, layout: Layout) -> bool {
        let v2 = layout == Layout::V2;
        match self {
            MemoryKnob::Max => true,
            MemoryKnob::High | MemoryKnob::Low | MemoryKnob::Min | MemoryKnob::SwapMax => v2,
            MemoryKnob::LimitInBytes
            | MemoryKnob::SoftLimitInBytes
            | MemoryKnob::MemswLimitInBytes
            | MemoryKnob::KmemLimitInBytes => !v2,
        }
    }

    /// The file written on `layout` (v1 spells `memory.max` as `memory.limit_in_bytes`).
    pub fn file(self, layout: Layout) -> &'static str {
        match (self, layout) {
            (MemoryKnob::Max, Layout::V1 | Layout::Hybrid) => MemoryKnob::LimitInBytes.as_str(),
            _ => self.as_str(),
        }
    }

    /// Why `layout` has no file for this knob, or `None` when it has one.
    pub fn unsupported_on(self, layout: Layout) -> Option<Unsupported> {
        (!self.supported_on(layout)).then(|| Unsupported {
            knob: self.as_str().into(),
            layout,
            why: self.hint(layout).into(),
        })
    }

    fn hint(self, layout: Layout) -> &'static str {
        match (self, layout == Layout::V2) {
            (MemoryKnob::LimitInBytes, true) => "its v2 equivalent is memory.max",
            (MemoryKnob::SoftLimitInBytes, true) => "v2 offers memory.low and memory.high",
            (MemoryKnob::MemswLimitInBytes, true) => "v2 limits swap alone: memory.swap.max",
            (MemoryKnob::KmemLimitInBytes, true) => "v2 counts kernel memory in memory.max",
            (MemoryKnob::High, false) => {
                "v1 has no throttling limit; memory.max is memory.limit_in_bytes"
            }
            (MemoryKnob::SwapMax, false) => "v1 limits memory+swap: memory.memsw.limit_in_bytes",
            (MemoryKnob::Low | MemoryKnob::Min, false) => {
                "v1 protects nothing from reclaim; memory.soft_limit_in_bytes is the nearest"
            }
            _ => "",
        }
    }
}

impl std::fmt::Display for MemoryKnob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_renders_as_the_kernel_writes_it() {
        assert_eq!(
            CpuMax {
                quota_us: Some(50_000),
                period_us: 100_000
            }
            .to_v2(),
            "50000 100000"
        );
        assert_eq!(
            CpuMax {
                quota_us: None,
                period_us: 100_000
            }
            .to_v2(),
            "max 100000"
        );
        assert_eq!(
            CpuMax {
                quota_us: Some(150_000),
                period_us: 100_000
            }
            .cpus(),
            Some(1.5)
        );
    }

    #[test]
    fn memory_knobs_are_refused_where_the_layout_lacks_them() {
        let high = Limits {
            memory: vec![MemorySetting {
                knob: MemoryKnob::High,
                bytes: Some(128 << 20),
            }],
            ..Limits::default()
        };
        assert_eq!(high.unsupported_on(Layout::V2), None);
        let err = high.unsupported_on(Layout::Hybrid).unwrap().to_string();
        assert!(
            err.starts_with("memory.high is not supported on hybrid"),
            "{err}"
        );
        let max = MemoryKnob::Max;
        assert_eq!(max.file(Layout::V1), "memory.limit_in_bytes");
        assert_eq!(max.file(Layout::V2), "memory.max");
        let soft = MemoryKnob::SoftLimitInBytes;
        assert!(soft.supported_on(Layout::Hybrid) && !soft.supported_on(Layout::V2));
    }

    #[test]
    fn unknown_knob_names_every_accepted_one() {
        assert_eq!(MemoryKnob::parse("memory.low"), Ok(MemoryKnob::Low));
        let err = MemoryKnob::parse("memory.hgih").unwrap_err();
        assert!(
            err.contains("\"memory.hgih\"") && err.contains("memory.swap.max"),
            "{err}"
        );
    }

    fn pairs(l: &Limits, layout: Layout) -> Vec<(String, String, String)> {
        l.files(layout)
            .into_iter()
            .map(|w| (w.controller, w.file, w.value))
            .collect()
    }

    fn t(c: &str, f: &str, v: &str) -> (String, String, String) {
        (c.into(), f.into(), v.into())
    }

    #[test]
    fn every_limit_has_its_files_on_each_layout_in_write_order() {
        let dev = DeviceNumber { major: 8, minor: 0 };
        let l = Limits {
            cpu_max: Some(CpuMax::new(Some(150_000), 100_000).unwrap()),
            cpu_weight: Some(CpuWeight::Shares(1024)),
            cpuset_cpus: Some("0-1".parse().unwrap()),
            memory: vec![
                MemorySetting {
                    knob: MemoryKnob::MemswLimitInBytes,
                    bytes: Some(2 << 30),
                },
                MemorySetting {
                    knob: MemoryKnob::Max,
                    bytes: Some(1 << 30),
                },
            ],
            pids_max: Some(Limit::Value(64)),
            io_weight: Some(IoWeight::Weight(100)),
            io_max: vec![IoMax {
                rbps: Some(Limit::Value(1 << 20)),
                wiops: Some(Limit::Max),
                ..IoMax::device(dev)
            }],
            ..Limits::default()
        };
        assert_eq!(
            pairs(&l, Layout::Hybrid),
            [
                t("cpu", "cpu.cfs_period_us", "100000"),
                t("cpu", "cpu.cfs_quota_us", "150000"),
                t("cpu", "cpu.shares", "1024"),
                t("cpuset", "cpuset.cpus", "0-1"),
                t("memory", "memory.limit_in_bytes", "1073741824"),
                t("memory", "memory.memsw.limit_in_bytes", "2147483648"),
                t("pids", "pids.max", "64"),
                t("blkio", "blkio.weight", "20"),
                t("blkio", "blkio.throttle.read_bps_device", "8:0 1048576"),
                t("blkio", "blkio.throttle.write_iops_device", "8:0 0"),
            ]
        );
        assert_eq!(l.files(Layout::V1), l.files(Layout::Hybrid));
        assert_eq!(
            pairs(&l, Layout::V2),
            [
                t("cpu", "cpu.max", "150000 100000"),
                t("cpu", "cpu.weight", "100"),
                t("cpuset", "cpuset.cpus", "0-1"),
                t("memory", "memory.max", "1073741824"),
                t("pids", "pids.max", "64"),
                t("io", "io.weight", "default 100"),
                t("io", "io.max", "8:0 rbps=1048576 wiops=max"),
            ]
        );
        assert_eq!(
            l.unsupported(Layout::V2)[0].to_string(),
            "memory.memsw.limit_in_bytes is not supported on v2 (v2 limits swap alone: memory.swap.max)"
        );
        assert!(Limits::default().files(Layout::V2).is_empty());
    }

    fn burst_idle_and_oom_group() -> Limits {
        Limits {
            cpu_max: Some(CpuMax::new(Some(50_000), 100_000).unwrap()),
            cpu_max_burst_us: Some(50_000),
            cpu_idle: Some(false),
            cpu_weight: Some(CpuWeight::Weight(200)),
            memory: vec![MemorySetting {
                knob: MemoryKnob::Max,
                bytes: Some(256 << 20),
            }],
            memory_oom_group: Some(true),
            ..Limits::default()
        }
    }

    #[test]
    fn burst_follows_the_quota_and_idle_precedes_the_weight_on_each_layout() {
        let l = burst_idle_and_oom_group();
        assert_eq!(
            pairs(&l, Layout::V2),
            [
                t("cpu", "cpu.max", "50000 100000"),
                t("cpu", "cpu.max.burst", "50000"),
                t("cpu", "cpu.idle", "0"),
                t("cpu", "cpu.weight", "200"),
                t("memory", "memory.max", "268435456"),
                t("memory", "memory.oom.group", "1"),
            ]
        );
        assert_eq!(
            pairs(&l, Layout::V1),
            [
                t("cpu", "cpu.cfs_period_us", "100000"),
                t("cpu", "cpu.cfs_quota_us", "50000"),
                t("cpu", "cpu.cfs_burst_us", "50000"),
                t("cpu", "cpu.idle", "0"),
                t("cpu", "cpu.shares", "2451"),
                t("memory", "memory.limit_in_bytes", "268435456"),
            ]
        );
    }

    #[test]
    fn c11_oom_group_is_refused_on_v1_and_hybrid() {
        let l = burst_idle_and_oom_group();
        assert_eq!(l.unsupported_on(Layout::V2), None);
        for layout in [Layout::V1, Layout::Hybrid] {
            let err = l.unsupported_on(layout).unwrap().to_string();
            assert!(
                err.starts_with(&format!(
                    "memory.oom.group is not supported on {layout} (cgroup v1 has no group OOM kill"
                )),
                "{err}"
            );
        }
    }

    fn einval() -> std::io::Error {
        std::io::Error::from_raw_os_error(nix::libc::EINVAL)
    }

    #[test]
    fn c10_a_burst_above_the_quota_is_explained_with_both_values() {
        let l = Limits {
            cpu_max_burst_us: Some(60_000),
            ..burst_idle_and_oom_group()
        };
        let why = l.refusal("cpu.cfs_burst_us", "60000", &einval()).unwrap();
        assert_eq!(
            why,
            "EINVAL: a burst above the quota (60000 µs > 50000 µs per 100000 µs period); \
             the kernel takes a burst of at most the quota"
        );
        let eperm = std::io::Error::from_raw_os_error(nix::libc::EPERM);
        assert_eq!(l.refusal("cpu.max.burst", "60000", &eperm), None);
    }

    #[test]
    fn c16_a_weight_for_an_idle_group_and_idle_2_are_explained() {
        let l = Limits {
            cpu_idle: Some(true),
            ..burst_idle_and_oom_group()
        };
        let why = l.refusal("cpu.shares", "10", &einval()).unwrap();
        assert!(why.contains("the group is idle (cpu.idle 1)"), "{why}");
        assert_eq!(
            burst_idle_and_oom_group().refusal("cpu.weight", "1", &einval()),
            None,
            "not idle: no reason isobench knows"
        );
        let why = l.refusal("cpu.idle", "2", &einval()).unwrap();
        assert_eq!(why, "EINVAL: cpu.idle takes 0 or 1, not \"2\"");
    }

    #[test]
    fn cpu_max_outside_the_kernels_range_is_refused_with_the_range() {
        assert_eq!(
            CpuMax::new(Some(999), 100_000).unwrap_err(),
            "quota 999 µs is below the kernel's minimum: expected at least 1000 µs, or max"
        );
        assert!(
            CpuMax::new(None, 999)
                .unwrap_err()
                .contains("1000 to 1000000 µs")
        );
        assert!(CpuMax::new(Some(1000), 1_000_001).is_err());
        assert_eq!(
            CpuMax::new(None, 1_000_000),
            Ok(CpuMax {
                quota_us: None,
                period_us: 1_000_000
            })
        );
    }

    #[test]
    fn limits_round_trip_through_json_and_old_records_still_read() {
        let l = Limits {
            cpu_weight: Some(CpuWeight::Weight(200)),
            pids_max: Some(Limit::Max),
            io_max: vec![IoMax {
                rbps: Some(Limit::Value(5)),
                ..IoMax::device(DeviceNumber {
                    major: 254,
                    minor: 0,
                })
            }],
            ..Limits::default()
        };
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            json,
            r#"{"cpu_max":null,"cpu_weight":{"cpu.weight":200},"pids_max":"max","io_max":[{"device":"254:0","rbps":5}]}"#
        );
        assert_eq!(serde_json::from_str::<Limits>(&json).unwrap(), l);
        let old: Limits = serde_json::from_str(r#"{"cpu_max":null}"#).unwrap();
        assert_eq!(old, Limits::default());
    }

    #[test]
    fn no_limit_is_max_on_v2_and_minus_one_on_v1() {
        let s = MemorySetting {
            knob: MemoryKnob::Max,
            bytes: None,
        };
        assert_eq!(s.value(Layout::V2), "max");
        assert_eq!(s.value(Layout::Hybrid), "-1");
    }
}
