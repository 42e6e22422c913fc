//! Criterion benches of the harness's hot paths: what it does while it measures
//! must stay small beside what it measures (its own CPU time is reported as
//! `harness.cpu_share`; these benches say where it goes).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use isobench::cgroup::CpuStat;
use isobench::stats::bootstrap;
use std::hint::black_box;
use std::path::Path;

const V2_CPU_STAT: &str = "usage_usec 14338000\nuser_usec 7131350\nsystem_usec 7206650\nnr_periods 287\n\
nr_throttled 286\nthrottled_usec 33545960\nnr_bursts 0\nburst_usec 0\n";

fn parse_cpu_stat(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu.stat");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse v2", |b| {
        b.iter(|| CpuStat::parse_v2(Path::new("cpu.stat"), black_box(V2_CPU_STAT)).unwrap())
    });
    g.finish();
}

fn bootstrap_ci(c: &mut Criterion) {
    let mut g = c.benchmark_group("bootstrap mean CI");
    for rounds in [5usize, 10, 30] {
        let values: Vec<f64> = (0..rounds).map(|i| 100.0 + (i % 7) as f64).collect();
        g.bench_with_input(BenchmarkId::from_parameter(rounds), &values, |b, v| {
            b.iter(|| bootstrap::mean_ci(black_box(v)))
        });
    }
    g.finish();
}

criterion_group!(benches, parse_cpu_stat, bootstrap_ci);
criterion_main!(benches);
