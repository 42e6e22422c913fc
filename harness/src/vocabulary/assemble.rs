//! From the parsed entries of one limit list to the limits each layout gets:
//! the rules that span several entries (Docker's memory+swap, Kubernetes'
//! requests and limits and its QoS class), and the choice of file per layout.

use super::{ContainerResources, HostFacts, LimitError, NotWritten, QosClass};
use crate::cgroup::limits::{
    CFS_BURST, CPU_IDLE, CPU_MAX_BURST, MEMORY_OOM_GROUP, oom_group_unsupported,
};
use crate::cgroup::{CpuList, CpuMax, CpuWeight, IoMax, IoWeight, Layout, Limit, Limits};
use crate::cgroup::{MemoryKnob, MemorySetting};

/// One entry's value, read and checked alone ([`super::table::Row::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Parsed {
    /// A CPU bandwidth limit (native `cpu.max`, Docker `cpus`).
    CpuMax(CpuMax),
    /// A CPU burst, µs (native `cpu.max.burst`).
    CpuBurst(u64),
    /// An idle group or not (native `cpu.idle`).
    CpuIdle(bool),
    /// A group OOM kill or not (native `memory.oom.group`).
    OomGroup(bool),
    /// A CPU weight (native `cpu.weight` / `cpu.shares`, Docker `cpu_shares`).
    CpuWeight(CpuWeight),
    /// A cpuset (native `cpuset.cpus`, Docker `cpuset_cpus`).
    Cpuset(CpuList),
    /// A memory knob written under its own name on every layout (native
    /// `memory.*`, Docker `memory` → `memory.max`); bytes, `None` for `max`.
    Memory(MemoryKnob, Option<u64>),
    /// Docker `memory_reservation`, bytes.
    Reservation(u64),
    /// Docker `memory_swap`: memory plus swap, bytes.
    MemoryPlusSwap(Limit),
    /// `pids.max` (native), Docker `pids_limit`.
    Pids(Limit),
    /// An I/O weight (native `io.weight` / `blkio.weight`, Docker `blkio_weight`).
    IoWeight(IoWeight),
    /// I/O throttling per device (native `io.max`, Docker `device_*`).
    IoMax(Vec<IoMax>),
    /// Kubernetes `requests.cpu` (`limit: false`) or `limits.cpu`, in milliCPU.
    K8sCpu { limit: bool, milli: u64 },
    /// Kubernetes `requests.memory` or `limits.memory`, in bytes.
    K8sMemory { limit: bool, bytes: u64 },
}

/// One entry of the list: the user's key and value, and what they parsed to.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub key: String,
    pub value: String,
    pub parsed: Parsed,
}

impl Entry {
    fn error(&self, message: impl Into<String>) -> LimitError {
        LimitError {
            key: self.key.clone(),
            value: self.value.clone(),
            message: message.into(),
        }
    }
}

/// What is written for one entry; memory knobs may differ per layout.
#[derive(Debug, Clone)]
enum Target {
    CpuMax(CpuMax),
    CpuBurst(u64),
    CpuIdle(bool),
    OomGroup(bool),
    CpuWeight(CpuWeight),
    Cpuset(CpuList),
    Pids(Limit),
    IoWeight(IoWeight),
    IoMax(IoMax),
    Memory {
        v2: MemorySetting,
        v1: MemorySetting,
    },
}

/// The assembled list: what each entry writes (by entry index; `None` for what
/// no entry asked for, such as the kubelet's 2 shares without a CPU request),
/// the QoS class (Kubernetes) and what is deliberately not written.
#[derive(Debug, Default)]
pub(super) struct Plan {
    targets: Vec<(Option<usize>, Target)>,
    pub qos: Option<QosClass>,
    pub not_written: Vec<NotWritten>,
    /// The container's requests and limits (Kubernetes only), for a pod's sums.
    pub resources: Option<ContainerResources>,
}

/// Kubernetes' CFS period, µs (`QuotaPeriod` in pkg/kubelet/cm/helpers_linux.go).
pub(crate) const K8S_QUOTA_PERIOD_US: u64 = 100_000;
/// Docker's CFS period for `--cpus`, µs (`defaultCFSPeriod`, daemon/daemon_unix.go).
pub(super) const DOCKER_CFS_PERIOD_US: u64 = 100_000;

/// Applies the rules that span entries. Errors go to `errors`, each naming its entry.
pub(super) fn assemble(
    vocabulary: super::Vocabulary,
    entries: &[Entry],
    errors: &mut Vec<LimitError>,
) -> Plan {
    let mut plan = Plan::default();
    if vocabulary == super::Vocabulary::Kubernetes {
        kubernetes(entries, &mut plan, errors);
        return plan;
    }
    let memory_max = entries.iter().find_map(|e| match e.parsed {
        Parsed::Memory(MemoryKnob::Max, bytes) => Some(bytes),
        _ => None,
    });
    for (i, e) in entries.iter().enumerate() {
        let target = match &e.parsed {
            Parsed::CpuMax(m) => Target::CpuMax(*m),
            Parsed::CpuBurst(b) => Target::CpuBurst(*b),
            Parsed::CpuIdle(on) => Target::CpuIdle(*on),
            Parsed::OomGroup(on) => Target::OomGroup(*on),
            Parsed::CpuWeight(w) => Target::CpuWeight(*w),
            Parsed::Cpuset(c) => Target::Cpuset(c.clone()),
            Parsed::Pids(p) => Target::Pids(*p),
            Parsed::IoWeight(w) => Target::IoWeight(*w),
            Parsed::Memory(knob, bytes) => {
                let s = MemorySetting {
                    knob: *knob,
                    bytes: *bytes,
                };
                Target::Memory { v2: s, v1: s }
            }
            Parsed::Reservation(bytes) => {
                if let Some(Some(max)) = memory_max
                    && *bytes > max
                {
                    errors.push(e.error(format!(
                        "the reservation is above the memory limit of {max} bytes: expected at most \
                         the limit (Docker: \"Minimum memory limit can not be less than memory reservation limit\")"
                    )));
                    continue;
                }
                // runc writes the reservation to memory.low on v2 (fs2/memory.go) and to
                // memory.soft_limit_in_bytes on v1 (fs/memory.go).
                let s = |knob| MemorySetting {
                    knob,
                    bytes: Some(*bytes),
                };
                Target::Memory {
                    v2: s(MemoryKnob::Low),
                    v1: s(MemoryKnob::SoftLimitInBytes),
                }
            }
            Parsed::MemoryPlusSwap(total) => match memory_plus_swap(*total, memory_max) {
                Ok(t) => t,
                Err(m) => {
                    errors.push(e.error(m));
                    continue;
                }
            },
            Parsed::IoMax(list) => {
                for m in list {
                    merge_io_max(&mut plan.targets, i, *m, e, errors);
                }
                continue;
            }
            Parsed::K8sCpu { .. } | Parsed::K8sMemory { .. } => {
                unreachable!("Kubernetes rows belong to the Kubernetes vocabulary")
            }
        };
        plan.targets.push((Some(i), target));
    }
    plan
}

/// Docker's `--memory-swap` (memory plus swap): v1 `memory.memsw.limit_in_bytes`
/// as given; v2 `memory.swap.max` = total − memory (`-1` → `max` on both), as
/// runc converts it (opencontainers/cgroups `ConvertMemorySwapToCgroupV2Value`).
fn memory_plus_swap(total: Limit, memory_max: Option<Option<u64>>) -> Result<Target, String> {
    let setting = |knob, bytes| MemorySetting { knob, bytes };
    let Some(Some(memory)) = memory_max else {
        return Err("memory_swap needs memory too: Docker's \"You should always set the Memory \
                    limit when using Memoryswap limit\" (give memory = ..., or memory_swap = -1 with it)"
            .into());
    };
    match total {
        Limit::Max => Ok(Target::Memory {
            v2: setting(MemoryKnob::SwapMax, None),
            v1: setting(MemoryKnob::MemswLimitInBytes, None),
        }),
        Limit::Value(t) if t < memory => Err(format!(
            "memory plus swap is below the memory limit of {memory} bytes: expected at least the \
             memory limit (equal to it: no swap), or -1 for unlimited swap"
        )),
        Limit::Value(t) => Ok(Target::Memory {
            v2: setting(MemoryKnob::SwapMax, Some(t - memory)),
            v1: setting(MemoryKnob::MemswLimitInBytes, Some(t)),
        }),
    }
}

/// Adds `m` to the throttling of its device, refusing a field given twice.
fn merge_io_max(
    targets: &mut Vec<(Option<usize>, Target)>,
    entry: usize,
    m: IoMax,
    e: &Entry,
    errors: &mut Vec<LimitError>,
) {
    let existing = targets.iter_mut().find_map(|(_, t)| match t {
        Target::IoMax(have) if have.device == m.device => Some(have),
        _ => None,
    });
    let Some(have) = existing else {
        targets.push((Some(entry), Target::IoMax(m)));
        return;
    };
    let mut twice = Vec::new();
    for (mine, theirs, name) in [
        (&mut have.rbps, m.rbps, "rbps"),
        (&mut have.wbps, m.wbps, "wbps"),
        (&mut have.riops, m.riops, "riops"),
        (&mut have.wiops, m.wiops, "wiops"),
    ] {
        match (mine.is_some(), theirs) {
            (true, Some(_)) => twice.push(name),
            (false, Some(v)) => *mine = Some(v),
            _ => {}
        }
    }
    if !twice.is_empty() {
        errors.push(e.error(format!(
            "{} of device {} is given twice: expected one value per device and field",
            twice.join(", "),
            m.device
        )));
    }
}

/// Kubernetes: the kubelet's conversions for one container
/// (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go `calculateLinuxResources`,
/// pkg/kubelet/cm/helpers_linux.go `MilliCPUToShares`, `MilliCPUToQuota`) and
/// its QoS class (pkg/apis/core/helper/qos/qos.go `GetPodQOS`).
fn kubernetes(entries: &[Entry], plan: &mut Plan, errors: &mut Vec<LimitError>) {
    let find = |cpu: bool, limit: bool| {
        entries
            .iter()
            .enumerate()
            .find_map(|(i, e)| match e.parsed {
                Parsed::K8sCpu { limit: l, milli } if cpu && l == limit => Some((i, milli)),
                Parsed::K8sMemory { limit: l, bytes } if !cpu && l == limit => Some((i, bytes)),
                _ => None,
            })
    };
    let (cpu_req, cpu_lim) = (find(true, false), find(true, true));
    let (mem_req, mem_lim) = (find(false, false), find(false, true));
    let mut consistent = true;
    for (req, lim, unit) in [(cpu_req, cpu_lim, "milliCPU"), (mem_req, mem_lim, "bytes")] {
        if let (Some((i, r)), Some((_, l))) = (req, lim)
            && r > l
        {
            consistent = false;
            errors.push(entries[i].error(format!(
                "the request ({r} {unit}) is above the limit ({l} {unit}): expected a request at most the \
                 limit (the API server refuses it: \"must be less than or equal to {} limit\")",
                if unit == "bytes" { "memory" } else { "cpu" }
            )));
        }
    }
    // A limit without a request defaults the request to the limit (API defaulting).
    let cpu_request = cpu_req.or(cpu_lim);
    let shares = milli_cpu_to_shares(cpu_request.map_or(0, |(_, m)| m));
    plan.targets.push((
        cpu_request.map(|(i, _)| i),
        Target::CpuWeight(CpuWeight::Shares(shares)),
    ));
    if let Some((i, milli)) = cpu_lim {
        let quota = milli_cpu_to_quota(milli, K8S_QUOTA_PERIOD_US);
        plan.targets.push((
            Some(i),
            Target::CpuMax(CpuMax {
                quota_us: Some(quota),
                period_us: K8S_QUOTA_PERIOD_US,
            }),
        ));
    }
    if let Some((i, bytes)) = mem_lim {
        let s = MemorySetting {
            knob: MemoryKnob::Max,
            bytes: Some(bytes),
        };
        plan.targets
            .push((Some(i), Target::Memory { v2: s, v1: s }));
    }
    if let Some((i, _)) = mem_req {
        plan.not_written.push(NotWritten {
            key: entries[i].key.clone(),
            value: entries[i].value.clone(),
            reason: "the kubelet writes nothing for a memory request by default; memory.min comes \
                     from it only with the MemoryQoS feature gate (alpha, cgroup v2), and the \
                     scheduler uses it for placement"
                .into(),
        });
    }
    plan.resources = Some(ContainerResources {
        cpu_request_milli: cpu_request.map(|(_, m)| m),
        cpu_limit_milli: cpu_lim.map(|(_, m)| m),
        memory_request_bytes: mem_req.or(mem_lim).map(|(_, b)| b),
        memory_limit_bytes: mem_lim.map(|(_, b)| b),
    });
    if consistent {
        plan.qos = Some(qos_class(
            cpu_req.map(|r| r.1),
            cpu_lim.map(|l| l.1),
            mem_req.map(|r| r.1),
            mem_lim.map(|l| l.1),
        ));
    }
}

/// The QoS class of a one-container pod (pkg/apis/core/helper/qos/qos.go):
/// BestEffort without any request or limit; Guaranteed when cpu and memory
/// both have limits and the requests (defaulted to the limits) equal them;
/// Burstable otherwise.
fn qos_class(
    cpu_req: Option<u64>,
    cpu_lim: Option<u64>,
    mem_req: Option<u64>,
    mem_lim: Option<u64>,
) -> QosClass {
    if cpu_req.is_none() && cpu_lim.is_none() && mem_req.is_none() && mem_lim.is_none() {
        return QosClass::BestEffort;
    }
    let guaranteed = |req: Option<u64>, lim: Option<u64>| lim.is_some() && req.or(lim) == lim;
    if guaranteed(cpu_req, cpu_lim) && guaranteed(mem_req, mem_lim) {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

/// kubelet `MilliCPUToShares`: `milliCPU × 1024 / 1000`, at least 2 (also for
/// no request at all), at most 262144.
pub(crate) fn milli_cpu_to_shares(milli: u64) -> u64 {
    (milli.saturating_mul(1024) / 1000).clamp(2, 262_144)
}

/// kubelet `MilliCPUToQuota`: `milliCPU × period / 1000` µs, at least 1000 µs.
pub(crate) fn milli_cpu_to_quota(milli: u64, period_us: u64) -> u64 {
    (milli.saturating_mul(period_us) / 1000).max(1_000)
}

impl Plan {
    /// The limits written on `layout`.
    pub fn limits(&self, layout: Layout) -> Limits {
        let mut l = Limits::default();
        for (_, t) in &self.targets {
            match t {
                Target::CpuMax(m) => l.cpu_max = Some(*m),
                Target::CpuBurst(b) => l.cpu_max_burst_us = Some(*b),
                Target::CpuIdle(on) => l.cpu_idle = Some(*on),
                Target::OomGroup(on) => l.memory_oom_group = Some(*on),
                Target::CpuWeight(w) => l.cpu_weight = Some(*w),
                Target::Cpuset(c) => l.cpuset_cpus = Some(c.clone()),
                Target::Pids(p) => l.pids_max = Some(*p),
                Target::IoWeight(w) => l.io_weight = Some(*w),
                Target::IoMax(m) => l.io_max.push(*m),
                Target::Memory { v2, v1 } => {
                    l.memory.push(if layout == Layout::V2 { *v2 } else { *v1 });
                }
            }
        }
        l
    }

    /// Entries that the host cannot honour: a knob its layout has no file for
    /// (a memory knob, `memory.oom.group` on v1), a knob its kernel lacks
    /// ([`HostFacts::missing_knobs`]), two entries writing the same file, and
    /// combinations the kernel refuses with EINVAL (a burst above the quota, a
    /// weight for an idle group) or that do nothing (a burst without a quota).
    pub fn check(&self, host: &HostFacts, entries: &[Entry], errors: &mut Vec<LimitError>) {
        let layout = host.layout;
        let mut files: Vec<(usize, &'static str)> = Vec::new();
        let quota = self.targets.iter().find_map(|(_, t)| match t {
            Target::CpuMax(m) => Some(*m),
            _ => None,
        });
        let idle = self.targets.iter().find_map(|(i, t)| match t {
            Target::CpuIdle(true) => *i,
            _ => None,
        });
        for (i, t) in &self.targets {
            let Some(i) = i else {
                continue; // written for no entry: nothing to refuse
            };
            let e = &entries[*i];
            let knob = match t {
                Target::CpuBurst(_) => Some(if layout == Layout::V2 {
                    CPU_MAX_BURST
                } else {
                    CFS_BURST
                }),
                Target::CpuIdle(_) => Some(CPU_IDLE),
                Target::OomGroup(_) => Some(MEMORY_OOM_GROUP),
                _ => None,
            };
            if let Some(u) = knob.and_then(|k| host.missing_knobs.iter().find(|u| u.knob == k)) {
                errors.push(e.error(u.to_string()));
                continue;
            }
            let file = match t {
                Target::CpuWeight(_) => {
                    if let Some(idle) = idle {
                        errors.push(e.error(format!(
                            "a weight for an idle group (`{}` = 1): the kernel refuses it with EINVAL \
                             (an idle group runs at the lowest weight); give one of them",
                            entries[idle].key
                        )));
                        continue;
                    }
                    "cpu weight"
                }
                Target::IoWeight(_) => "I/O weight",
                Target::OomGroup(_) if layout != Layout::V2 => {
                    errors.push(e.error(oom_group_unsupported(layout).to_string()));
                    continue;
                }
                Target::CpuBurst(burst) => {
                    match quota.map(|m| (m.quota_us, m.period_us)) {
                        Some((Some(q), p)) if *burst > q => errors.push(e.error(format!(
                            "a burst of {burst} µs is above the quota of {q} µs per {p} µs period: \
                             the kernel refuses it with EINVAL; expected at most {q} µs"
                        ))),
                        Some((Some(_), _)) => {}
                        _ => errors.push(e.error(
                            "a burst without a quota does nothing (it lets a group run above its \
                             cpu.max quota): give cpu.max too, or leave the burst out",
                        )),
                    }
                    continue;
                }
                Target::Memory { v2, v1 } => {
                    let s = if layout == Layout::V2 { v2 } else { v1 };
                    if let Some(u) = s.knob.unsupported_on(layout) {
                        errors.push(e.error(u.to_string()));
                        continue;
                    }
                    s.knob.file(layout)
                }
                _ => continue,
            };
            if let Some((first, _)) = files.iter().find(|(_, f)| *f == file) {
                errors.push(e.error(format!(
                    "sets the same {file} on {layout} as `{}`: give only one of them",
                    entries[*first].key
                )));
            } else {
                files.push((*i, file));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_cpu_conversions() {
        assert_eq!(milli_cpu_to_shares(250), 256);
        assert_eq!(milli_cpu_to_shares(1000), 1024);
        assert_eq!(milli_cpu_to_shares(1), 2);
        assert_eq!(milli_cpu_to_shares(0), 2);
        assert_eq!(milli_cpu_to_shares(1_000_000), 262_144);
        assert_eq!(milli_cpu_to_quota(500, 100_000), 50_000);
        assert_eq!(milli_cpu_to_quota(5, 100_000), 1_000);
    }

    #[test]
    fn qos_follows_the_kubelet_rules() {
        use QosClass::*;
        assert_eq!(qos_class(None, None, None, None), BestEffort);
        assert_eq!(qos_class(None, Some(500), None, Some(1 << 30)), Guaranteed);
        assert_eq!(
            qos_class(Some(500), Some(500), Some(1 << 30), Some(1 << 30)),
            Guaranteed
        );
        assert_eq!(
            qos_class(Some(250), Some(500), None, Some(1 << 30)),
            Burstable
        );
        assert_eq!(qos_class(Some(250), None, None, None), Burstable);
        assert_eq!(qos_class(None, Some(500), None, None), Burstable);
    }
}
