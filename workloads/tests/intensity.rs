//! The intensity knob of every aggressor of the catalogue: at 50 % it uses
//! about half the CPU time it uses at 100 %.
//!
//! One test in its own binary, so that this process's CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`) is the aggressor's alone.

use isobench_workloads::intensity::{Intensity, process_cpu_time};
use isobench_workloads::{cache_thrash, fork_storm, io_hog, mem_bw, net_hog};
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_millis(300);

/// CPU time and wall time of one run of `aggressor` at `pct` percent.
fn measure(aggressor: &dyn Fn(Intensity), pct: u8) -> (Duration, Duration) {
    let (cpu0, wall0) = (process_cpu_time(), Instant::now());
    aggressor(Intensity::new(pct).unwrap());
    (process_cpu_time() - cpu0, wall0.elapsed())
}

/// Whether half intensity used less than 0.8 of the CPU time of full intensity.
/// The host is shared: a neighbour that takes the CPU during the full run makes
/// it look cheaper, so each aggressor gets three tries.
fn halves(name: &str, aggressor: &dyn Fn(Intensity)) {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (full, _) = measure(aggressor, 100);
        let (half, wall) = measure(aggressor, 50);
        assert!(
            wall < RUN + Duration::from_millis(500),
            "{name}: ran {wall:?}"
        );
        let ratio = half.as_secs_f64() / full.as_secs_f64().max(1e-6);
        eprintln!("{name}: CPU time {full:?} at 100 %, {half:?} at 50 % (ratio {ratio:.2})");
        if ratio < 0.8 {
            return;
        }
        seen.push((full, half));
    }
    panic!("{name}: CPU time at 50 % not under 0.8 of 100 % in three tries: {seen:?}");
}

#[test]
fn half_intensity_uses_about_half_the_cpu_time_of_full() {
    halves("cache-thrash", &|intensity| {
        cache_thrash::run(&cache_thrash::ThrashPlan {
            bytes: Some(8 << 20),
            threads: 1,
            intensity,
            duration: RUN,
        });
    });
    halves("mem-bw", &|intensity| {
        mem_bw::run(&mem_bw::BwPlan {
            kernel: mem_bw::Kernel::Copy,
            bytes: 8 << 20,
            threads: 1,
            intensity,
            duration: RUN,
        });
    });
    halves("fork-storm", &|intensity| {
        fork_storm::run(&fork_storm::StormPlan {
            rate: None,
            max_children: 8,
            max_forks: 1_000_000,
            max_attempts: None,
            child_life: std::time::Duration::ZERO,
            intensity,
            duration: RUN,
        })
        .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    halves("io-hog", &|intensity| {
        io_hog::run(&io_hog::IoPlan {
            dir: dir.path().into(),
            pattern: io_hog::Pattern::Seq,
            block: 64 << 10,
            bytes: 8 << 20,
            fsync_every: 16,
            intensity,
            duration: RUN,
        })
        .unwrap();
    });
    halves("net-hog", &|intensity| {
        net_hog::run(&net_hog::NetPlan {
            message: 64 << 10,
            intensity,
            duration: RUN,
        })
        .unwrap();
    });
}
