//! Aggressor `fork-storm`: forks short-lived children and reaps them, so that
//! it stresses process creation and the pids controller (`pids.max`,
//! Documentation/admin-guide/cgroup-v2.rst, "PID").
//!
//! It forks with `fork(2)` and the child calls `_exit(0)` at once. Spawning
//! `/proc/self/exe` through `std::process::Command` would need no `unsafe`,
//! but it measures exec and dynamic loading more than fork, is ten times
//! slower per child, and needs a `/proc` that a sandbox may not mount; the one
//! `unsafe` block here keeps the storm about what it stresses.
//!
//! At most `max_children` children are alive (forked and not yet reaped) at
//! once; children are reaped oldest first. With `child_life` each child sleeps
//! that long before it exits (a holder's sleepers, case C17), so the storm
//! holds tasks against `pids.max`. A fork the kernel refuses with
//! EAGAIN (`pids.max` reached, `RLIMIT_NPROC`) or ENOMEM is counted as a
//! failure by errno, not an error: the storm backs off for 1 ms and goes on. It
//! ends at its deadline, after `max_forks` children or after `max_attempts`
//! forks tried (refused ones included), whichever is first, and
//! reaps every child it forked before it returns. It reaps only its own
//! children (by pid), never others of the process.

use crate::intensity::{Intensity, Pacer};
use crate::report::ForkStormReport;
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Hard cap on `--max-forks`.
pub const MAX_FORKS_CAP: u64 = 1_000_000;

/// Pause after a refused fork.
const BACKOFF: Duration = Duration::from_millis(1);

/// What `fork-storm` does.
#[derive(Debug, Clone)]
pub struct StormPlan {
    /// Forks per second; `None` is as fast as the intensity allows.
    pub rate: Option<f64>,
    /// Most children alive at once.
    pub max_children: usize,
    /// Most children forked in all (at most [`MAX_FORKS_CAP`]).
    pub max_forks: u64,
    /// Most forks tried, refused ones included; `None` for no bound but `max_forks`.
    pub max_attempts: Option<u64>,
    /// How long each child sleeps before it exits.
    pub child_life: Duration,
    /// Duty cycle.
    pub intensity: Intensity,
    /// Run time.
    pub duration: Duration,
}

/// Forks a child that sleeps for `life` (not at all when zero), then `_exit(0)`s,
/// and returns its pid.
#[allow(unsafe_code)]
fn fork_exiting_child(life: Duration) -> nix::Result<Pid> {
    let sleep = libc::timespec {
        tv_sec: life.as_secs() as libc::time_t,
        tv_nsec: life.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the child calls only `nanosleep` and `_exit`, which are
    // async-signal-safe, so no lock or allocator state that another thread held
    // at the fork is touched.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            if !life.is_zero() {
                // SAFETY: `sleep` is a valid timespec on this stack; the remainder is not wanted.
                unsafe { libc::nanosleep(&sleep, std::ptr::null_mut()) };
            }
            // SAFETY: `_exit` ends the child without running any handler.
            unsafe { libc::_exit(0) }
        }
    }
}

/// Reaps `pid`, waiting for it with `block`; true once it is gone.
///
/// # Errors
/// `waitpid`'s errors other than ECHILD (a child already reaped, e.g. with
/// SIGCHLD ignored, is gone).
fn reap(pid: Pid, block: bool) -> nix::Result<bool> {
    let flags = (!block).then_some(WaitPidFlag::WNOHANG);
    match waitpid(pid, flags) {
        Ok(WaitStatus::StillAlive) => Ok(false),
        Ok(_) | Err(Errno::ECHILD) => Ok(true),
        Err(Errno::EINTR) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs the plan.
///
/// # Errors
/// A fork refused for another reason than EAGAIN or ENOMEM, or a failed
/// `waitpid` (after the children forked so far are reaped).
pub fn run(plan: &StormPlan) -> nix::Result<ForkStormReport> {
    let start = Instant::now();
    let mut pacer = Pacer::new(plan.intensity, start + plan.duration);
    let max_children = plan.max_children.max(1);
    let max_forks = plan.max_forks.min(MAX_FORKS_CAP);
    let mut alive: VecDeque<Pid> = VecDeque::with_capacity(max_children);
    let (mut forks, mut attempts, mut peak) = (0u64, 0u64, 0usize);
    let mut errnos: BTreeMap<String, u64> = BTreeMap::new();
    let outcome = (|| {
        while forks < max_forks && plan.max_attempts.is_none_or(|n| attempts < n) && pacer.go() {
            while let Some(&oldest) = alive.front() {
                if !reap(oldest, alive.len() >= max_children)? {
                    break;
                }
                alive.pop_front();
            }
            if alive.len() >= max_children {
                continue;
            }
            if let Some(rate) = plan.rate {
                let due = start + Duration::from_secs_f64(attempts as f64 / rate);
                if due > Instant::now() {
                    pacer.sleep_until(due);
                    continue;
                }
            }
            attempts += 1;
            match fork_exiting_child(plan.child_life) {
                Ok(child) => {
                    alive.push_back(child);
                    forks += 1;
                    peak = peak.max(alive.len());
                }
                Err(e @ (Errno::EAGAIN | Errno::ENOMEM)) => {
                    *errnos.entry(format!("{e:?}")).or_default() += 1;
                    pacer.sleep_until(Instant::now() + BACKOFF);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })();
    let reaped = alive.iter().try_for_each(|&pid| reap(pid, true).map(drop));
    outcome.and(reaped)?;
    let ran_s = start.elapsed().as_secs_f64();
    Ok(ForkStormReport {
        forks,
        fork_failures: errnos.values().sum(),
        fork_errnos: errnos,
        peak_children: peak as u64,
        attempts,
        forks_per_s: forks as f64 / ran_s,
        ran_s,
        intensity: plan.intensity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> StormPlan {
        StormPlan {
            rate: None,
            max_children: 4,
            max_forks: 100_000,
            max_attempts: None,
            child_life: Duration::ZERO,
            intensity: Intensity::FULL,
            duration: Duration::from_millis(300),
        }
    }

    #[test]
    fn sleeping_children_are_held_and_attempts_bound_the_storm() {
        let start = Instant::now();
        let r = run(&StormPlan {
            max_children: 8,
            max_attempts: Some(5),
            child_life: Duration::from_millis(100),
            duration: Duration::from_secs(5),
            ..plan()
        })
        .unwrap();
        assert_eq!((r.forks, r.attempts, r.peak_children), (5, 5, 5), "{r:?}");
        let took = start.elapsed().as_secs_f64();
        assert!((0.1..1.0).contains(&took), "reaps its sleepers: {took} s");
    }

    #[test]
    fn forks_within_its_bounds_until_the_deadline() {
        let r = run(&plan()).unwrap();
        assert!(r.forks > 0 && r.peak_children >= 1, "{r:?}");
        assert!(r.peak_children <= 4, "{r:?}");
        assert!(r.ran_s >= 0.3 && r.ran_s < 0.8, "{r:?}");
        assert_eq!(r.fork_failures, 0, "{r:?}");
    }

    #[test]
    fn stops_after_max_forks() {
        let r = run(&StormPlan {
            max_forks: 20,
            ..plan()
        })
        .unwrap();
        assert_eq!(r.forks, 20, "{r:?}");
        assert!(r.ran_s < 0.3, "ends before its deadline: {r:?}");
    }

    #[test]
    fn rate_limits_forks() {
        let r = run(&StormPlan {
            rate: Some(100.0),
            ..plan()
        })
        .unwrap();
        // 30 due in 0.3 s (the first at once).
        assert!((20..=31).contains(&r.forks), "{r:?}");
    }
}
