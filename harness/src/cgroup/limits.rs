//! Resource limits a sandbox's cgroup can carry, in the kernel's own terms.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// CPU bandwidth limit, if any.
    pub cpu_max: Option<CpuMax>,
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
}
