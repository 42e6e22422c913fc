//! Aggressor `cpu-hog`: threads that spin on integer work until a deadline.

use crate::report::HogReport;
use crate::work;
use std::time::{Duration, Instant};

/// Number of CPUs in the calling process's affinity mask (its cpuset), at least 1.
pub fn cpus_allowed() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                .count()
        })
        .unwrap_or(1)
        .max(1)
}

/// Spins `threads` threads for `duration`, then reports.
pub fn run(threads: usize, duration: Duration) -> HogReport {
    let start = Instant::now();
    let deadline = start + duration;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while Instant::now() < deadline {
                    // ~10 µs between clock reads: negligible overhead, prompt exit.
                    work::unit(2_000);
                }
            });
        }
    });
    HogReport {
        threads,
        ran_s: start.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hog_stops_at_its_deadline() {
        let r = run(2, Duration::from_millis(100));
        assert_eq!(r.threads, 2);
        assert!(r.ran_s >= 0.1 && r.ran_s < 2.0, "ran {} s", r.ran_s);
    }

    #[test]
    fn affinity_mask_has_at_least_one_cpu() {
        assert!(cpus_allowed() >= 1);
    }
}
