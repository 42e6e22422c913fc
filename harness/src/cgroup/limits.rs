//! Resource limits a sandbox's cgroup can carry, in the kernel's own terms.
//!
//! Memory knobs are named by their kernel file: v2 `memory.max`, `memory.high`,
//! `memory.low`, `memory.min`, `memory.swap.max`
//! (Documentation/admin-guide/cgroup-v2.rst, "Memory Interface Files") and v1
//! `memory.limit_in_bytes`, `memory.soft_limit_in_bytes`,
//! `memory.memsw.limit_in_bytes` (Documentation/admin-guide/cgroup-v1/memory.rst).

use super::layout::Layout;

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

/// The limits of one sandbox's cgroup. `Default` is "no limit of its own".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// CPU bandwidth limit, if any.
    pub cpu_max: Option<CpuMax>,
    /// Memory knobs to write, in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory: Vec<MemorySetting>,
}

impl Limits {
    /// The first memory knob that `layout` has no file for, with the reason.
    pub fn unsupported_on(&self, layout: Layout) -> Option<Unsupported> {
        self.memory
            .iter()
            .find(|s| !s.knob.supported_on(layout))
            .map(|s| Unsupported {
                knob: s.knob,
                layout,
            })
    }
}

/// A memory knob that the host's layout has no equivalent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{knob} is not supported on {layout}{hint}", hint = knob.hint(*layout))]
pub struct Unsupported {
    /// The knob asked for.
    pub knob: MemoryKnob,
    /// The host's layout.
    pub layout: Layout,
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

    fn hint(self, layout: Layout) -> &'static str {
        match (self, layout == Layout::V2) {
            (MemoryKnob::LimitInBytes, true) => " (its v2 equivalent is memory.max)",
            (MemoryKnob::SoftLimitInBytes, true) => " (v2 offers memory.low and memory.high)",
            (MemoryKnob::MemswLimitInBytes, true) => " (v2 limits swap alone: memory.swap.max)",
            (MemoryKnob::KmemLimitInBytes, true) => " (v2 counts kernel memory in memory.max)",
            (MemoryKnob::High, false) => {
                " (v1 has no throttling limit; memory.max is memory.limit_in_bytes)"
            }
            (MemoryKnob::SwapMax, false) => " (v1 limits memory+swap: memory.memsw.limit_in_bytes)",
            (MemoryKnob::Low | MemoryKnob::Min, false) => {
                " (v1 protects nothing from reclaim; memory.soft_limit_in_bytes is the nearest)"
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
