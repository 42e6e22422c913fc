//! `cargo bench --bench startup`: one criterion group per way of starting the
//! startup probe, each iteration a full start to exit (and teardown) of it:
//! posix_spawn and fork+exec (no isolation), a sandbox without and with a new
//! network namespace, the cgroup create + attach + remove cycle alone, and the
//! runtimes people use (unshare, bwrap, crun, runc where installed) starting
//! the same static probe with the sandbox's namespaces: read their times as
//! ratios to `startup/sandbox_all` of the same bench run.
//!
//! The sandbox groups need root (namespaces and cgroups); without it each says
//! so on one line and is skipped, and the baselines still run.

use criterion::{Criterion, criterion_group, criterion_main};
use isobench::cgroup::{Arena, CgroupHost, Limits};
use isobench::startup::launch::{self, Probe};
use isobench::startup::runtime::{Runtime, Runtimes};
use isobench::startup::variant::{self, Method};
use std::time::{Duration, Instant};

/// What the sandbox groups need, or why they cannot run here.
fn arena() -> Result<Arena, String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Err("needs root to create cgroups and namespaces".into());
    }
    let host = CgroupHost::discover().map_err(|e| e.to_string())?;
    host.arena(&format!("bench-{}", std::process::id()))
        .map_err(|e| e.to_string())
}

fn starts(c: &mut Criterion) {
    let sandboxes = arena();
    // Baselines need no arena; a placeholder is never touched by them.
    for v in variant::all(variant::HEADLINE) {
        let wanted = matches!(
            v.name,
            "posix_spawn" | variant::FORK_EXEC | variant::SANDBOX | variant::SANDBOX_NET
        );
        if !wanted {
            continue;
        }
        let arena = match (&sandboxes, v.method) {
            (Ok(arena), _) => Some(arena),
            (Err(why), Method::Sandbox { .. }) => {
                println!("startup/{}: skipped: {why}", v.name);
                continue;
            }
            (Err(_), _) => None,
        };
        let mut probe = Probe::embedded(false).expect("the embedded startup probe");
        let mut g = c.benchmark_group(format!("startup/{}", v.name));
        g.measurement_time(Duration::from_secs(3));
        let mut n = 0u64;
        g.bench_function("start to exit", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let started = launch::start(&mut probe, v.method, arena, &format!("b{n}"))
                        .expect("a start of the probe");
                    total += Duration::from_nanos(started.stamps.reaped - started.stamps.request);
                }
                total
            })
        });
        g.finish();
    }
    match &sandboxes {
        Ok(arena) => {
            let mut g = c.benchmark_group("startup/cgroup");
            let mut n = 0u64;
            // A sleeping child to attach, started and ended off the clock: the
            // bench never moves itself out of its own cgroup.
            g.bench_function("create + attach + remove", |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        n += 1;
                        let mut child = std::process::Command::new("sleep")
                            .arg("60")
                            .spawn()
                            .expect("sleep");
                        let start = Instant::now();
                        let cg = arena
                            .sandbox(&format!("c{n}"), &Limits::default())
                            .expect("cgroup");
                        cg.attach(child.id() as i32).expect("attach");
                        total += start.elapsed();
                        child.kill().ok();
                        child.wait().ok();
                        let start = Instant::now();
                        cg.remove().expect("rmdir");
                        total += start.elapsed();
                    }
                    total
                })
            });
            g.finish();
        }
        Err(why) => println!("startup/cgroup: skipped: {why}"),
    }
    if let Ok(arena) = &sandboxes {
        runtimes(c, arena);
    }
    if let Ok(arena) = sandboxes {
        arena.remove().expect("removing the bench's cgroups");
    }
}

/// One group per external runtime found, start to exit (its process reaped);
/// one line for each that is missing or refuses this host.
fn runtimes(c: &mut Criterion, arena: &Arena) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let work = std::env::temp_dir();
    let mut found = match Runtimes::prepare(&work, arena, variant::HEADLINE, false, &path) {
        Ok(r) => r,
        Err(e) => {
            println!("startup/runtimes: skipped: {e:#}");
            return;
        }
    };
    for runtime in Runtime::ALL {
        if let Some(why) = found.unavailable(runtime) {
            println!("startup/{}: skipped: {why}", runtime.name());
            continue;
        }
        let mut g = c.benchmark_group(format!("startup/{}", runtime.name()));
        g.measurement_time(Duration::from_secs(3));
        g.bench_function("start to exit", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = found.start(runtime).expect("a start by the runtime");
                    total += Duration::from_nanos(started.stamps.reaped - started.stamps.request);
                }
                total
            })
        });
        g.finish();
    }
}

criterion_group!(benches, starts);
criterion_main!(benches);
