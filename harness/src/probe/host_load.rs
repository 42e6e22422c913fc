//! The host's CPU time by kind from the aggregate `cpu` line of /proc/stat
//! (proc(5): user, nice, system, idle, iowait, irq, softirq, steal, guest,
//! guest_nice, in USER_HZ ticks, normally 10 ms).
//!
//! Used for what the exact per-task accounting
//! ([`crate::cgroup::HostCpuSource`]) does not hold: interrupt time and steal
//! time. Two caveats make /proc/stat unfit to measure task time over a window
//! of a second: it prints in 10 ms steps (0.014 CPU over a 0.7 s window at each
//! edge), and without `CONFIG_VIRT_CPU_ACCOUNTING_GEN` the user/system/irq split
//! is sampled at each scheduler tick, so a task that wakes thousands of times a
//! second is over- or under-counted by whole ticks. Steal time is measured (from
//! the hypervisor's steal clock), interrupt time only with
//! `CONFIG_IRQ_TIME_ACCOUNTING`; both are still printed in 10 ms steps.

use std::path::Path;

/// The aggregate `cpu` line of /proc/stat, seconds since boot per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcStatCpu {
    /// `user` (guest time included), s.
    pub user: f64,
    /// `nice` (guest_nice included), s.
    pub nice: f64,
    /// `system`, s.
    pub system: f64,
    /// `idle`, s.
    pub idle: f64,
    /// `iowait`, s.
    pub iowait: f64,
    /// `irq`: hardware interrupts, s.
    pub irq: f64,
    /// `softirq`: softirqs, s.
    pub softirq: f64,
    /// `steal`: time the hypervisor ran something else while this guest wanted the CPU, s.
    pub steal: f64,
}

impl ProcStatCpu {
    /// Reads /proc/stat now.
    ///
    /// # Errors
    /// The path and the reason when it cannot be read or parsed.
    pub fn read() -> Result<ProcStatCpu, String> {
        let path = Path::new("/proc/stat");
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .unwrap_or(100) as f64;
        ProcStatCpu::parse(&text, ticks)
            .ok_or_else(|| format!("{}: no well-formed aggregate `cpu` line", path.display()))
    }

    /// Parses the text of /proc/stat with `ticks_per_s` USER_HZ; `None` when its
    /// first `cpu ` line is missing, has fewer than the 8 fields up to steal
    /// (Linux ≥ 2.6.11), or holds something that is not a count.
    pub fn parse(text: &str, ticks_per_s: f64) -> Option<ProcStatCpu> {
        let line = text.lines().find(|l| l.starts_with("cpu "))?;
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        let s = |i: usize| Some(*f.get(i)? as f64 / ticks_per_s);
        Some(ProcStatCpu {
            user: s(0)?,
            nice: s(1)?,
            system: s(2)?,
            idle: s(3)?,
            iowait: s(4)?,
            irq: s(5)?,
            softirq: s(6)?,
            steal: s(7)?,
        })
    }

    /// Interrupt time (irq + softirq), s.
    pub fn interrupts(&self) -> f64 {
        self.irq + self.softirq
    }

    /// Time of tasks, by the ticks (user + nice + system), s: the stand-in for
    /// the exact accounting where that cannot be read.
    pub fn tasks(&self) -> f64 {
        self.user + self.nice + self.system
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_read_in_seconds_from_the_hybrid_hosts_proc_stat() {
        let text = include_str!("../../tests/fixtures/hybrid-6.18/proc/stat");
        let s = ProcStatCpu::parse(text, 100.0).unwrap();
        assert_eq!(
            s,
            ProcStatCpu {
                user: 834.82,
                nice: 0.0,
                system: 148.36,
                idle: 573.94,
                iowait: 19.83,
                irq: 0.0,
                softirq: 3.02,
                steal: 13.76,
            }
        );
        assert!((s.tasks() - (834.82 + 148.36)).abs() < 1e-9);
        assert!((s.interrupts() - 3.02).abs() < 1e-9);
    }

    #[test]
    fn malformed_or_short_stat_is_refused() {
        assert_eq!(ProcStatCpu::parse("cpu  a b c d e f g h\n", 100.0), None);
        assert_eq!(ProcStatCpu::parse("cpu  1 2 3 4 5 6 7\n", 100.0), None);
        assert_eq!(ProcStatCpu::parse("intr 1 2\n", 100.0), None);
    }

    #[test]
    fn this_host_reports_its_cpu_time() {
        let s = ProcStatCpu::read().unwrap();
        assert!(s.tasks() + s.idle > 0.0);
    }
}
