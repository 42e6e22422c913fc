//! THE table: every key of every vocabulary, what it maps to and where that
//! mapping comes from. A key is known exactly when it has a row here; the row's
//! parser reads its value. The rules that span several keys (Docker's
//! memory+swap, Kubernetes' requests and limits) are in [`super::assemble`].

use super::Vocabulary::{self, Docker, Kubernetes, Native};
use super::assemble::{DOCKER_CFS_PERIOD_US, Parsed};
use super::host::HostFacts;
use super::quantity::{
    self, cpus, docker_bytes, k8s_milli, kernel_bytes_or_max, strings, unsigned,
};
use crate::cgroup::limits::CFS_MAX_QUOTA_US;
use crate::cgroup::{CpuList, CpuMax, CpuWeight, DeviceNumber, IoMax, IoWeight, Limit, MemoryKnob};
use toml::Value;

/// Reads one entry's value: `(key, value, host) → parsed`, or what is accepted.
pub(super) type Parse = fn(&str, &Value, &HostFacts) -> Result<Parsed, String>;

/// One key of one vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The vocabulary the key belongs to.
    pub vocabulary: Vocabulary,
    /// The key, as the suite file writes it once flattened (`limits.cpu`, `cpu.max`, `cpus`).
    pub key: &'static str,
    /// The files it becomes, and how its value is converted.
    pub maps_to: &'static str,
    /// Where the mapping is documented (kernel documentation, runtime docs or source).
    pub source: &'static str,
    pub(super) parse: Parse,
}

const CGROUP_V2: &str = "Documentation/admin-guide/cgroup-v2.rst";
const DOCKER_LIMITS: &str = "https://docs.docker.com/engine/containers/resource_constraints/";
const DOCKER_RUN: &str = "https://docs.docker.com/reference/cli/docker/container/run/";
const RUNC_SHARES: &str = "https://docs.docker.com/engine/containers/resource_constraints/ (--cpu-shares); \
                           v2: runc >= 1.3.2 converts by opencontainers/cgroups ConvertCPUSharesToCgroupV2Value \
                           (https://github.com/opencontainers/runc/pull/4785)";
const K8S_RESOURCES: &str = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/; \
                             kubelet pkg/kubelet/cm/helpers_linux.go";

/// Every key of every vocabulary.
pub const TABLE: &[Row] = &[
    // Native: the kernel's file names, v2 first; values as the files take them.
    Row {
        vocabulary: Native,
        key: "cpu.max",
        maps_to: "cpu.max \"QUOTA PERIOD\" (µs); v1 cpu.cfs_period_us + cpu.cfs_quota_us",
        source: "Documentation/admin-guide/cgroup-v2.rst (cpu.max); Documentation/scheduler/sched-bwc.rst",
        parse: native_cpu_max,
    },
    Row {
        vocabulary: Native,
        key: "cpu.weight",
        maps_to: "cpu.weight 1-10000; v1 cpu.shares by the inverse of the runtimes' shares-to-weight formula",
        source: CGROUP_V2,
        parse: cpu_weight,
    },
    Row {
        vocabulary: Native,
        key: "cpu.shares",
        maps_to: "v1 cpu.shares 2-262144; v2 cpu.weight = ceil(10^((l^2 + 125 l)/612 - 7/34)), l = log2(shares)",
        source: "Documentation/admin-guide/cgroup-v1/ (cpu.shares); https://github.com/opencontainers/runc/pull/4785",
        parse: cpu_shares,
    },
    Row {
        vocabulary: Native,
        key: "cpu.max.burst",
        maps_to: "cpu.max.burst (µs, at most the cpu.max quota); v1 cpu.cfs_burst_us; Linux >= 5.14",
        source: "Documentation/scheduler/sched-bwc.rst (Burst feature); Documentation/admin-guide/cgroup-v2.rst (cpu.max.burst)",
        parse: native_cpu_burst,
    },
    Row {
        vocabulary: Native,
        key: "cpu.idle",
        maps_to: "cpu.idle 0 or 1, same file on v1; no weight with 1; Linux >= 5.15",
        source: "Documentation/admin-guide/cgroup-v2.rst (cpu.idle); kernel/sched/core.c sched_group_set_idle",
        parse: native_switch,
    },
    Row {
        vocabulary: Native,
        key: "cpuset.cpus",
        maps_to: "cpuset.cpus, within the online CPUs; v1 also copies cpuset.mems from the parent",
        source: "Documentation/admin-guide/cgroup-v2.rst (Cpuset); cgroup-v1/cpusets.rst",
        parse: cpuset,
    },
    Row {
        vocabulary: Native,
        key: "memory.max",
        maps_to: "memory.max (bytes or max); v1 memory.limit_in_bytes",
        source: CGROUP_V2,
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.high",
        maps_to: "memory.high; v2 only",
        source: CGROUP_V2,
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.low",
        maps_to: "memory.low; v2 only",
        source: CGROUP_V2,
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.min",
        maps_to: "memory.min; v2 only",
        source: CGROUP_V2,
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.swap.max",
        maps_to: "memory.swap.max; v2 only (v1 limits memory+swap: memory.memsw.limit_in_bytes)",
        source: CGROUP_V2,
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.oom.group",
        maps_to: "memory.oom.group 0 or 1; v2 only (v1 kills one process at a time)",
        source: CGROUP_V2,
        parse: native_switch,
    },
    Row {
        vocabulary: Native,
        key: "memory.limit_in_bytes",
        maps_to: "v1 memory.limit_in_bytes; v1 only",
        source: "Documentation/admin-guide/cgroup-v1/memory.rst",
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.soft_limit_in_bytes",
        maps_to: "v1 memory.soft_limit_in_bytes; v1 only",
        source: "Documentation/admin-guide/cgroup-v1/memory.rst",
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "memory.memsw.limit_in_bytes",
        maps_to: "v1 memory.memsw.limit_in_bytes (memory+swap); v1 only, with swap accounting",
        source: "Documentation/admin-guide/cgroup-v1/memory.rst",
        parse: native_memory,
    },
    Row {
        vocabulary: Native,
        key: "pids.max",
        maps_to: "pids.max (a count or max), same file on v1",
        source: "Documentation/admin-guide/cgroup-v2.rst (PID); cgroup-v1/pids.rst",
        parse: native_pids,
    },
    Row {
        vocabulary: Native,
        key: "io.weight",
        maps_to: "io.weight \"default N\" 1-10000; v1 blkio.weight by the inverse of runc's blkio-to-io formula",
        source: "Documentation/admin-guide/cgroup-v2.rst (IO Interface Files)",
        parse: native_io_weight,
    },
    Row {
        vocabulary: Native,
        key: "blkio.weight",
        maps_to: "v1 blkio.weight 10-1000 (CFQ); v2 io.weight = 1 + (w - 10) * 9999 / 990",
        source: "Documentation/admin-guide/cgroup-v1/blkio-controller.rst; opencontainers/cgroups ConvertBlkIOToIOWeightValue",
        parse: native_blkio_weight,
    },
    Row {
        vocabulary: Native,
        key: "io.max",
        maps_to: "io.max \"MAJ:MIN rbps= wbps= riops= wiops=\" per device; v1 blkio.throttle.{read,write}_{bps,iops}_device",
        source: "Documentation/admin-guide/cgroup-v2.rst (io.max); cgroup-v1/blkio-controller.rst",
        parse: native_io_max,
    },
    // Docker: `docker run` flags, snake_case (--cpu-shares → cpu_shares).
    Row {
        vocabulary: Docker,
        key: "cpus",
        maps_to: "cpu.max \"cpus*100000 100000\"; v1 cpu.cfs_quota_us = cpus*100000, cpu.cfs_period_us = 100000",
        source: DOCKER_LIMITS,
        parse: docker_cpus,
    },
    Row {
        vocabulary: Docker,
        key: "cpu_shares",
        maps_to: "v1 cpu.shares 2-262144; v2 cpu.weight by the runtimes' quadratic formula (1024 -> 100)",
        source: RUNC_SHARES,
        parse: cpu_shares,
    },
    Row {
        vocabulary: Docker,
        key: "cpuset_cpus",
        maps_to: "cpuset.cpus",
        source: DOCKER_LIMITS,
        parse: cpuset,
    },
    Row {
        vocabulary: Docker,
        key: "memory",
        maps_to: "memory.max; v1 memory.limit_in_bytes (at least 6 MiB)",
        source: DOCKER_LIMITS,
        parse: docker_memory,
    },
    Row {
        vocabulary: Docker,
        key: "memory_reservation",
        maps_to: "v2 memory.low; v1 memory.soft_limit_in_bytes (as runc writes it; at most memory)",
        source: "https://docs.docker.com/engine/containers/resource_constraints/; \
                 opencontainers/cgroups fs2/memory.go and fs/memory.go",
        parse: docker_reservation,
    },
    Row {
        vocabulary: Docker,
        key: "memory_swap",
        maps_to: "memory plus swap: v1 memory.memsw.limit_in_bytes; v2 memory.swap.max = memory_swap - memory; -1: unlimited",
        source: "https://docs.docker.com/engine/containers/resource_constraints/#--memory-swap-details; \
                 opencontainers/cgroups ConvertMemorySwapToCgroupV2Value",
        parse: docker_memory_swap,
    },
    Row {
        vocabulary: Docker,
        key: "pids_limit",
        maps_to: "pids.max; 0 or -1: max",
        source: DOCKER_RUN,
        parse: docker_pids,
    },
    Row {
        vocabulary: Docker,
        key: "blkio_weight",
        maps_to: "v1 blkio.weight 10-1000; v2 io.weight = 1 + (w - 10) * 9999 / 990",
        source: "https://docs.docker.com/reference/cli/docker/container/run/ (--blkio-weight); \
                 opencontainers/cgroups ConvertBlkIOToIOWeightValue",
        parse: docker_blkio_weight,
    },
    Row {
        vocabulary: Docker,
        key: "device_read_bps",
        maps_to: "\"/dev/sda:1mb\" -> io.max rbps; v1 blkio.throttle.read_bps_device",
        source: DOCKER_RUN,
        parse: docker_device_throttle,
    },
    Row {
        vocabulary: Docker,
        key: "device_write_bps",
        maps_to: "\"/dev/sda:1mb\" -> io.max wbps; v1 blkio.throttle.write_bps_device",
        source: DOCKER_RUN,
        parse: docker_device_throttle,
    },
    Row {
        vocabulary: Docker,
        key: "device_read_iops",
        maps_to: "\"/dev/sda:1000\" -> io.max riops; v1 blkio.throttle.read_iops_device",
        source: DOCKER_RUN,
        parse: docker_device_throttle,
    },
    Row {
        vocabulary: Docker,
        key: "device_write_iops",
        maps_to: "\"/dev/sda:1000\" -> io.max wiops; v1 blkio.throttle.write_iops_device",
        source: DOCKER_RUN,
        parse: docker_device_throttle,
    },
    // Kubernetes: one container's `resources`, flattened.
    Row {
        vocabulary: Kubernetes,
        key: "requests.cpu",
        maps_to: "v1 cpu.shares = milliCPU*1024/1000 (min 2; also 2 without any CPU request, \
                  limits.cpu standing in when only it is set); v2 cpu.weight from those shares",
        source: K8S_RESOURCES,
        parse: k8s_cpu,
    },
    Row {
        vocabulary: Kubernetes,
        key: "limits.cpu",
        maps_to: "cpu.max \"milliCPU*100000/1000 100000\" (quota min 1000 µs); v1 cpu.cfs_quota_us / cpu.cfs_period_us",
        source: K8S_RESOURCES,
        parse: k8s_cpu,
    },
    Row {
        vocabulary: Kubernetes,
        key: "requests.memory",
        maps_to: "not written (memory.min only with the MemoryQoS feature gate); counts for the QoS class",
        source: "https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/#memory-qos-with-cgroup-v2",
        parse: k8s_memory,
    },
    Row {
        vocabulary: Kubernetes,
        key: "limits.memory",
        maps_to: "memory.max; v1 memory.limit_in_bytes",
        source: K8S_RESOURCES,
        parse: k8s_memory,
    },
    Row {
        vocabulary: Kubernetes,
        key: "limits.pids",
        maps_to: "refused: not a container resource (the kubelet's podPidsLimit sets pids.max per pod)",
        source: "https://kubernetes.io/docs/concepts/policy/pid-limiting/",
        parse: k8s_not_a_container_resource,
    },
    Row {
        vocabulary: Kubernetes,
        key: "requests.pids",
        maps_to: "refused: not a container resource",
        source: "https://kubernetes.io/docs/concepts/policy/pid-limiting/",
        parse: k8s_not_a_container_resource,
    },
    Row {
        vocabulary: Kubernetes,
        key: "limits.ephemeral-storage",
        maps_to: "refused: enforced by eviction, not by a cgroup file",
        source: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage",
        parse: k8s_not_a_container_resource,
    },
    Row {
        vocabulary: Kubernetes,
        key: "requests.ephemeral-storage",
        maps_to: "refused: used for scheduling, not by a cgroup file",
        source: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage",
        parse: k8s_not_a_container_resource,
    },
];

/// The row of `key` in `vocabulary`.
pub fn row(vocabulary: Vocabulary, key: &str) -> Option<&'static Row> {
    TABLE
        .iter()
        .find(|r| r.vocabulary == vocabulary && r.key == key)
}

// ---- Parsers, one per kind of value. ----

/// Default CFS period, µs (kernel/sched/core.c `default_cfs_period`, 100 ms).
const DEFAULT_PERIOD_US: u64 = 100_000;

fn native_cpu_max(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    const EXPECTED: &str = "\"QUOTA PERIOD\" or \"max PERIOD\" in µs, such as \"50000 100000\" \
                            (PERIOD may be left out: 100000)";
    let text = match v {
        Value::Integer(i) => i.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(format!("expected {EXPECTED}, not {}", quantity::kind(v))),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let bad = || format!("{text:?} is not a cpu.max value: expected {EXPECTED}");
    let (quota, period) = match words[..] {
        [q] => (q, DEFAULT_PERIOD_US),
        [q, p] => (q, p.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    let quota = match quota {
        "max" => None,
        q => Some(q.parse().map_err(|_| bad())?),
    };
    CpuMax::new(quota, period).map(Parsed::CpuMax)
}

fn native_cpu_burst(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    const EXPECTED: &str = "a burst in µs, at most the cpu.max quota (0 for none)";
    let n = unsigned(v, EXPECTED)?;
    if n > CFS_MAX_QUOTA_US {
        return Err(format!(
            "{n} µs is above the kernel's maximum of {CFS_MAX_QUOTA_US} µs: expected {EXPECTED}"
        ));
    }
    Ok(Parsed::CpuBurst(n))
}

/// `cpu.idle` and `memory.oom.group`: 0 or 1 (also `true`/`false`).
fn native_switch(key: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let on = match v {
        Value::Integer(0) | Value::Boolean(false) => false,
        Value::Integer(1) | Value::Boolean(true) => true,
        Value::String(s) if s.trim() == "0" => false,
        Value::String(s) if s.trim() == "1" => true,
        _ => {
            return Err(format!(
                "{} is not 0 or 1: expected 0 or 1 (the kernel refuses anything else with EINVAL)",
                quantity::show(v)
            ));
        }
    };
    Ok(match key {
        "cpu.idle" => Parsed::CpuIdle(on),
        _ => Parsed::OomGroup(on),
    })
}

fn cpu_weight(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let n = unsigned(v, "a cpu.weight from 1 to 10000")?;
    CpuWeight::weight(n).map(Parsed::CpuWeight)
}

fn cpu_shares(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let n = unsigned(v, "cpu.shares from 2 to 262144")?;
    CpuWeight::shares(n).map(Parsed::CpuWeight)
}

fn cpuset(_: &str, v: &Value, host: &HostFacts) -> Result<Parsed, String> {
    let online = &host.online_cpus;
    let list: CpuList = match v {
        Value::Integer(i) => i.to_string().parse()?,
        Value::String(s) => s.parse()?,
        _ => {
            return Err(format!(
                "expected a CPU list such as \"0-3,6\", not {}",
                quantity::kind(v)
            ));
        }
    };
    match list.missing_from(online) {
        None => Ok(Parsed::Cpuset(list)),
        Some(missing) => Err(format!(
            "this host has no CPU {missing} online (online: {online}, from /sys/devices/system/cpu/online): \
             expected CPUs within {online}"
        )),
    }
}

fn native_memory(key: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let knob = MemoryKnob::parse(key)?;
    kernel_bytes_or_max(v).map(|bytes| Parsed::Memory(knob, bytes))
}

fn native_pids(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    const EXPECTED: &str = "a number of tasks of at least 1, or max";
    if matches!(v, Value::String(s) if s.trim() == "max") {
        return Ok(Parsed::Pids(Limit::Max));
    }
    match unsigned(v, EXPECTED)? {
        0 => Err(format!(
            "0 tasks would leave the sandbox unable to start its workload: expected {EXPECTED}"
        )),
        n => pids_value(n),
    }
}

/// A pids.max of `n` tasks, refused above what the kernel takes.
fn pids_value(n: u64) -> Result<Parsed, String> {
    if n > crate::cgroup::limits::PID_MAX_LIMIT {
        return Err(format!(
            "{n} tasks is above the kernel's PID_MAX_LIMIT: expected at most {}, or max",
            crate::cgroup::limits::PID_MAX_LIMIT
        ));
    }
    Ok(Parsed::Pids(Limit::Value(n)))
}

fn native_io_weight(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    const EXPECTED: &str = "an io.weight from 1 to 10000, or \"default N\"";
    let n = match v {
        Value::String(s) if s.trim().starts_with("default") => {
            let n = s.trim()["default".len()..].trim();
            unsigned(&Value::String(n.into()), EXPECTED)?
        }
        _ => unsigned(v, EXPECTED)?,
    };
    IoWeight::weight(n).map(Parsed::IoWeight)
}

fn native_blkio_weight(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let n = unsigned(v, "a blkio.weight from 10 to 1000")?;
    IoWeight::blkio(n).map(Parsed::IoWeight)
}

fn native_io_max(_: &str, v: &Value, host: &HostFacts) -> Result<Parsed, String> {
    const EXPECTED: &str = "\"MAJ:MIN rbps=N wbps=N riops=N wiops=N\" (any of the four, N or max), \
                            or an array of such lines";
    let mut out = Vec::new();
    for line in strings(v, EXPECTED)? {
        let mut words = line.split_whitespace();
        let device: DeviceNumber = words.next().unwrap_or("").parse()?;
        known_device(host, device)?;
        let mut m = IoMax::device(device);
        let mut any = false;
        for w in words {
            let (k, val) = w
                .split_once('=')
                .ok_or_else(|| format!("{w:?} is not KEY=VALUE: expected {EXPECTED}"))?;
            let limit =
                match val {
                    "max" => Limit::Max,
                    n => Limit::Value(n.parse().map_err(|_| {
                        format!("{w:?}: {n:?} is not a number: expected {EXPECTED}")
                    })?),
                };
            let field = match k {
                "rbps" => &mut m.rbps,
                "wbps" => &mut m.wbps,
                "riops" => &mut m.riops,
                "wiops" => &mut m.wiops,
                _ => return Err(format!("{k:?} is not an io.max key: expected {EXPECTED}")),
            };
            *field = Some(limit);
            any = true;
        }
        if !any {
            return Err(format!("{line:?} limits nothing: expected {EXPECTED}"));
        }
        out.push(m);
    }
    Ok(Parsed::IoMax(out))
}

fn known_device(host: &HostFacts, device: DeviceNumber) -> Result<(), String> {
    match host.device_numbered(device) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{device} is not a whole-disk block device of this host: expected one of {}",
            host.devices_listed()
        )),
    }
}

fn docker_cpus(_: &str, v: &Value, host: &HostFacts) -> Result<Parsed, String> {
    let n = host.online_cpus.len();
    let c = cpus(v)?;
    if !(0.01..=n as f64).contains(&c) {
        // Docker's own words (daemon/daemon_unix.go).
        return Err(format!(
            "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available"
        ));
    }
    let quota = (c * DOCKER_CFS_PERIOD_US as f64).round() as u64;
    CpuMax::new(Some(quota), DOCKER_CFS_PERIOD_US).map(Parsed::CpuMax)
}

/// Docker's smallest memory limit and reservation, 6 MiB (`linuxMinMemory`, daemon/daemon_unix.go).
const DOCKER_MIN_MEMORY: u64 = 6 << 20;

fn docker_memory(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let b = docker_bytes(v)?;
    if b < DOCKER_MIN_MEMORY {
        return Err("Minimum memory limit allowed is 6MB (Docker): expected at least 6m".into());
    }
    Ok(Parsed::Memory(MemoryKnob::Max, Some(b)))
}

fn docker_reservation(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let b = docker_bytes(v)?;
    if b < DOCKER_MIN_MEMORY {
        return Err(
            "Minimum memory reservation allowed is 6MB (Docker): expected at least 6m".into(),
        );
    }
    Ok(Parsed::Reservation(b))
}

fn docker_memory_swap(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    if matches!(v, Value::Integer(-1)) || matches!(v, Value::String(s) if s.trim() == "-1") {
        return Ok(Parsed::MemoryPlusSwap(Limit::Max));
    }
    docker_bytes(v)
        .map(|b| Parsed::MemoryPlusSwap(Limit::Value(b)))
        .map_err(|e| format!("{e}; or -1 for unlimited swap"))
}

fn docker_pids(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    match quantity::integer(v, "a number of tasks, or -1 for unlimited")? {
        n if n <= 0 => Ok(Parsed::Pids(Limit::Max)),
        n => pids_value(n as u64),
    }
}

fn docker_blkio_weight(_: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let n = unsigned(v, "a weight from 10 to 1000")?;
    IoWeight::blkio(n).map(Parsed::IoWeight)
}

fn docker_device_throttle(key: &str, v: &Value, host: &HostFacts) -> Result<Parsed, String> {
    let bytes = key.ends_with("_bps");
    let expected = if bytes {
        "\"DEVICE:RATE\" such as \"/dev/sda:1mb\" (bytes per second; k, m, g in powers of 1024), \
         or an array of them"
    } else {
        "\"DEVICE:RATE\" such as \"/dev/sda:1000\" (I/Os per second), or an array of them"
    };
    let mut out = Vec::new();
    for item in strings(v, expected)? {
        let (path, rate) = item
            .rsplit_once(':')
            .ok_or_else(|| format!("{item:?} has no ':': expected {expected}"))?;
        let device = host.device_named(path).ok_or_else(|| {
            format!(
                "{path:?} is not a whole-disk block device of this host: expected one of {}",
                host.devices_listed()
            )
        })?;
        let rate = Value::String(rate.into());
        let rate = if bytes {
            docker_bytes(&rate)
        } else {
            unsigned(&rate, expected)
        }?;
        let mut m = IoMax::device(device.device);
        let field = match key {
            "device_read_bps" => &mut m.rbps,
            "device_write_bps" => &mut m.wbps,
            "device_read_iops" => &mut m.riops,
            _ => &mut m.wiops,
        };
        *field = Some(Limit::Value(rate));
        out.push(m);
    }
    Ok(Parsed::IoMax(out))
}

fn k8s_cpu(key: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let milli = k8s_milli(v)?;
    if milli == 0 {
        return Err("0 CPU: expected a quantity above 0 (leave the key out for none)".into());
    }
    let milli = u64::try_from(milli).map_err(|_| format!("{milli}m is too large"))?;
    Ok(Parsed::K8sCpu {
        limit: key.starts_with("limits."),
        milli,
    })
}

fn k8s_memory(key: &str, v: &Value, _: &HostFacts) -> Result<Parsed, String> {
    let milli = k8s_milli(v)?;
    if milli % 1000 != 0 {
        return Err(format!(
            "{} is not a whole number of bytes: expected a quantity such as 512Mi, 1Gi or 1G",
            quantity::show(v)
        ));
    }
    let bytes = u64::try_from(milli / 1000).map_err(|_| "too large a quantity".to_string())?;
    if bytes == 0 {
        return Err("0 bytes: expected a quantity above 0 (leave the key out for none)".into());
    }
    Ok(Parsed::K8sMemory {
        limit: key.starts_with("limits."),
        bytes,
    })
}

fn k8s_not_a_container_resource(key: &str, _: &Value, _: &HostFacts) -> Result<Parsed, String> {
    Err(if key.ends_with(".pids") {
        "pids is not a container resource in Kubernetes: the kubelet limits the pids of a whole pod \
         (podPidsLimit, --pod-max-pids), which no pod spec sets; use the native vocabulary's pids.max"
            .into()
    } else {
        "ephemeral-storage is not enforced through a cgroup file (the kubelet evicts the pod), so \
         isobench cannot apply it; leave it out"
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_within_a_vocabulary_and_every_row_cites_a_source() {
        for (i, r) in TABLE.iter().enumerate() {
            assert!(!r.source.is_empty() && !r.maps_to.is_empty(), "{}", r.key);
            assert!(
                TABLE[..i]
                    .iter()
                    .all(|o| o.vocabulary != r.vocabulary || o.key != r.key),
                "{} twice",
                r.key
            );
        }
        assert!(row(Kubernetes, "limits.cpu").is_some());
        assert!(row(Docker, "limits.cpu").is_none());
    }
}
