//! Aggressor `cpu-bursts`: one thread that alternates bursts of CPU work with
//! sleeps, as a request-driven service or a VMM's helper threads do. Its
//! average is well under a CFS quota, but each burst is longer than the quota
//! of one period, so a quota without burst throttles every burst while
//! `cpu.max.burst` (v1 `cpu.cfs_burst_us`) lets it run through on the time it
//! banked while asleep (Documentation/scheduler/sched-bwc.rst, "Burst
//! feature"; case C10).
//!
//! A burst spins until the thread's own CPU clock (`CLOCK_THREAD_CPUTIME_ID`)
//! has advanced by `burst`, so a throttled burst does the same work and takes
//! longer in wall time; each burst's wall time is recorded. It ends after
//! `bursts` bursts or at its deadline, whichever is first (a burst under way at
//! the deadline is finished).

use crate::report::CpuBurstsReport;
use nix::time::{ClockId, clock_gettime};
use std::time::{Duration, Instant};

/// A burst stretched past this many times its CPU time was throttled (or
/// preempted): 120 ms of work taking ≥ 160 ms of wall time, as case C10 counts.
pub const STRETCHED: f64 = 4.0 / 3.0;

/// What `cpu-bursts` does.
#[derive(Debug, Clone)]
pub struct BurstPlan {
    /// CPU time of one burst.
    pub burst: Duration,
    /// Sleep after each burst.
    pub sleep: Duration,
    /// Most bursts; `None` until the deadline.
    pub bursts: Option<u64>,
    /// Run time.
    pub duration: Duration,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

/// Spins until the calling thread has used `cpu` more CPU time.
fn spin(cpu: Duration) {
    let until = thread_cpu() + cpu;
    let mut x = 1u64;
    while thread_cpu() < until {
        for _ in 0..1_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
}

/// Runs the plan in the calling thread.
pub fn run(plan: &BurstPlan) -> CpuBurstsReport {
    let start = Instant::now();
    let deadline = start + plan.duration;
    let cpu0 = thread_cpu();
    let mut walls_ms = Vec::new();
    while Instant::now() < deadline && plan.bursts.is_none_or(|n| (walls_ms.len() as u64) < n) {
        let t = Instant::now();
        spin(plan.burst);
        walls_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let wake = Instant::now() + plan.sleep;
        if wake >= deadline {
            break;
        }
        std::thread::sleep(plan.sleep);
    }
    let burst_ms = plan.burst.as_secs_f64() * 1e3;
    let mut sorted = walls_ms.clone();
    sorted.sort_by(f64::total_cmp);
    CpuBurstsReport {
        bursts: walls_ms.len() as u64,
        burst_cpu_ms: burst_ms,
        sleep_ms: plan.sleep.as_secs_f64() * 1e3,
        wall_ms_p50: sorted.get(sorted.len() / 2).copied(),
        wall_ms_max: sorted.last().copied(),
        stretched_bursts: walls_ms
            .iter()
            .filter(|&&w| w >= STRETCHED * burst_ms)
            .count() as u64,
        walls_ms,
        cpu_s: (thread_cpu() - cpu0).as_secs_f64(),
        ran_s: start.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_burst_uses_its_cpu_time_and_the_count_bounds_the_run() {
        let r = run(&BurstPlan {
            burst: Duration::from_millis(20),
            sleep: Duration::from_millis(10),
            bursts: Some(3),
            duration: Duration::from_secs(5),
        });
        assert_eq!(r.bursts, 3, "{r:?}");
        assert!(r.walls_ms.iter().all(|&w| w >= 19.5), "{r:?}");
        assert!((0.055..0.1).contains(&r.cpu_s), "{r:?}");
        assert!(r.ran_s < 2.0, "{r:?}");
    }

    #[test]
    fn the_deadline_ends_it() {
        let r = run(&BurstPlan {
            burst: Duration::from_millis(5),
            sleep: Duration::from_millis(50),
            bursts: None,
            duration: Duration::from_millis(200),
        });
        assert!((2..=5).contains(&r.bursts), "{r:?}");
        assert!(r.ran_s < 0.4, "{r:?}");
    }
}
