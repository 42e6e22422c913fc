//! `cargo bench -p bench-example`: the crate's `fnv1a` over 4 KiB is the
//! victim, 2000 calls a second on an open-loop schedule, beside isobench's
//! `cpu-hog`: alone, beside the hog unconfined, and with each in its sandbox
//! and the hog limited to half a CPU as `docker run --cpus 0.5` limits it.
//! 5 rounds of 1 s windows (2000 units each, enough for a gated p99): about 25 s. Results, report.html and summary.md
//! go to `target/isobench/hash/latest/`; each run is compared with the one
//! before (baseline `base`). Needs root or a delegated cgroup subtree;
//! elsewhere it says why and skips.

use bench_example::fnv1a;
use isobench::bench::{Bench, Limits, Neighbour, Scenario};
use std::hint::black_box;
use std::time::Duration;

fn main() {
    let data = vec![0x5a_u8; 4096];
    Bench::new()
        .scenario(
            Scenario::new("fnv1a", move || {
                black_box(fnv1a(black_box(&data)));
            })
            .rate(2_000.0)
            .beside(Neighbour::catalogue("cpu-hog").limits(Limits::docker().set("cpus", 0.5)))
            .rounds(5)
            .window(Duration::from_secs(1))
            .warmup(Duration::from_millis(200)),
        )
        .main()
}
