//! Aggressor `cpu-hog`: threads that spin on integer work until a deadline,
//! each at an intensity (the duty cycle of [`crate::intensity`]: 100 % never
//! sleeps; `isobench sweep` moves it to draw a sensitivity curve).

use crate::intensity::{Intensity, Pacer};
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

/// Spins `threads` threads for `duration`, each busy `intensity` % of every
/// 10 ms period ([`Pacer`]), then reports.
pub fn run(threads: usize, intensity: Intensity, duration: Duration) -> HogReport {
    let start = Instant::now();
    let deadline = start + duration;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut pacer = Pacer::new(intensity, deadline);
                while pacer.go() {
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
        let r = run(2, Intensity::FULL, Duration::from_millis(100));
        assert_eq!(r.threads, 2);
        assert!(r.ran_s >= 0.1 && r.ran_s < 2.0, "ran {} s", r.ran_s);
    }

    #[test]
    fn affinity_mask_has_at_least_one_cpu() {
        assert!(cpus_allowed() >= 1);
    }
}
