//! perf counters of a sandbox's processes (perf_event_open(2), via perf-event2).
//!
//! Counters are opened on the sandbox's first process while it waits to be
//! released, with `inherit`, so every process it starts is counted, and with
//! kernel events included (without them context switches and migrations read 0).
//! A counter the host cannot give is reported as unavailable with the cause
//! (case C08), never as 0.

use isobench_reports::schema::PerfCount;
use perf_event::events::{Event, Hardware, Software};

/// The software events counted: name (as `perf list` spells it) and event.
/// `task-clock` is in ns.
const SOFTWARE: [(&str, Software); 6] = [
    ("task-clock", Software::TASK_CLOCK),
    ("context-switches", Software::CONTEXT_SWITCHES),
    ("cpu-migrations", Software::CPU_MIGRATIONS),
    ("page-faults", Software::PAGE_FAULTS),
    ("minor-faults", Software::PAGE_FAULTS_MIN),
    ("major-faults", Software::PAGE_FAULTS_MAJ),
];

/// The hardware events counted where the host has them.
const HARDWARE: [(&str, Hardware); 2] = [
    ("cycles", Hardware::CPU_CYCLES),
    ("instructions", Hardware::INSTRUCTIONS),
];

/// The cause of a failed perf_event_open, for people (case C08).
pub fn explain(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(nix::libc::EACCES) => {
            let level =
                std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
            format!("EACCES: perf_event_paranoid = {}", level.trim())
        }
        Some(nix::libc::EPERM) => "EPERM: blocked by seccomp or missing CAP_PERFMON".to_string(),
        Some(nix::libc::ENOENT | nix::libc::EOPNOTSUPP) => {
            format!("{e}: no such counters here (typical of VMs)")
        }
        _ => e.to_string(),
    }
}

/// One counter on `pid` and the children it will start, kernel side included.
fn open_one(pid: i32, event: impl Event) -> Result<perf_event::Counter, String> {
    perf_event::Builder::new(event)
        .observe_pid(pid)
        .any_cpu()
        .inherit(true)
        .include_kernel()
        .enabled(true)
        .build()
        .map_err(|e| explain(&e))
}

/// Counters on one sandbox, each opened or the reason it could not be.
pub struct SandboxCounters {
    counters: Vec<(&'static str, Result<perf_event::Counter, String>)>,
}

impl SandboxCounters {
    /// Opens every counter on `pid` and its future children, counting from now.
    pub fn open(pid: i32) -> SandboxCounters {
        let counters = SOFTWARE
            .iter()
            .map(|&(name, e)| (name, open_one(pid, e)))
            .chain(HARDWARE.iter().map(|&(name, e)| (name, open_one(pid, e))))
            .collect();
        SandboxCounters { counters }
    }

    /// The counts so far (after the sandbox ended: over its whole life).
    pub fn read(&mut self) -> Vec<PerfCount> {
        self.counters
            .iter_mut()
            .map(|(name, c)| {
                let value = match c {
                    Ok(counter) => counter.read().map_err(|e| explain(&e)),
                    Err(why) => Err(why.clone()),
                };
                PerfCount {
                    event: (*name).into(),
                    value: value.as_ref().ok().copied(),
                    unavailable: value.err(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c08_causes_are_named_by_errno() {
        let e = |n| std::io::Error::from_raw_os_error(n);
        assert!(explain(&e(nix::libc::EPERM)).starts_with("EPERM: blocked by seccomp"));
        assert!(explain(&e(nix::libc::EACCES)).starts_with("EACCES: perf_event_paranoid = "));
        assert!(explain(&e(nix::libc::ENOENT)).contains("no such counters here"));
    }

    #[test]
    fn c08_counters_of_a_child_are_counts_or_reasons_never_silent_zeros() {
        // A child that sleeps, so the counters are open before it does its work.
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "sleep 0.2; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
            ])
            .spawn()
            .unwrap();
        let mut counters = SandboxCounters::open(child.id() as i32);
        child.wait().unwrap();
        let counts = counters.read();
        assert_eq!(counts.len(), SOFTWARE.len() + HARDWARE.len());
        for c in &counts {
            assert!(
                c.value.is_some() != c.unavailable.is_some(),
                "either a count or a reason: {c:?}"
            );
        }
        // Where perf works at all (root or paranoid ≤ 1), task-clock of a busy loop is positive.
        if let Some(ns) = counts[0].value {
            assert!(ns > 1_000_000, "task-clock {ns} ns");
        }
    }
}
