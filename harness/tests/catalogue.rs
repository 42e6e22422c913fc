//! The aggressor catalogue and the new victims, each run confined in a real
//! sandbox (root only; CI runs it here and in the cgroup v2 VM): each stays
//! inside its limits and stops at its deadline, reporting what it did.

mod common;

use isobench::cgroup::{Cgroup, CpuMax, Limits, MemoryKnob, MemorySetting};
use isobench::sandbox::{self, NamespaceSet, Process};
use isobench::workload;
use isobench_workloads::report::WorkloadReport;
use nix::sys::wait::WaitStatus;
use std::time::{Duration, Instant};

const RUN_S: f64 = 1.5;

fn half_a_cpu() -> Limits {
    Limits {
        cpu_max: Some(CpuMax {
            quota_us: Some(50_000),
            period_us: 100_000,
        }),
        ..Limits::default()
    }
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Starts `args` in `cg` with `ns`, waits for it to end by itself, and returns
/// its report and the seconds it took; panics if it overruns its deadline by 1.5 s.
fn run_to_end(cg: &Cgroup, ns: NamespaceSet, args: &[String]) -> (WorkloadReport, f64) {
    let bin = workload::locate().unwrap();
    let start = Instant::now();
    let mut p: Process = sandbox::spawn(&bin, args, ns, Some(cg)).unwrap();
    let status = p
        .wait_for(Duration::from_secs_f64(RUN_S + 1.5))
        .unwrap_or_else(|e| panic!("{args:?} did not stop at its deadline: {e}"));
    let took = start.elapsed().as_secs_f64();
    assert_eq!(
        status,
        WaitStatus::Exited(nix::unistd::Pid::from_raw(p.pid()), 0),
        "{args:?}"
    );
    let report = workload::parse_report(&args[0], &p.output().unwrap()).unwrap();
    (report, took)
}

#[test]
fn cpu_bound_aggressors_stay_within_their_quota_and_stop_at_their_deadline() {
    require_root!();
    let (_host, arena, _id) = common::arena("catalogue-cpu");
    let d = RUN_S.to_string();
    for args in [
        argv(&["cpu-hog", "--duration", &d]),
        argv(&["cache-thrash", "--duration", &d, "--threads", "2"]),
        argv(&[
            "mem-bw",
            "--duration",
            &d,
            "--threads",
            "2",
            "--bytes",
            "48MiB",
        ]),
    ] {
        let cg = arena.sandbox(&args[0], &half_a_cpu()).unwrap();
        let before = cg.cpu_stat().unwrap();
        let (_, took) = run_to_end(&cg, NamespaceSet::default(), &args);
        let used_s = cg.cpu_stat().unwrap().delta(&before).usage_us.unwrap() as f64 / 1e6;
        let share = used_s / took;
        assert!(
            share <= 0.55,
            "{}: {share:.3} CPUs under a 0.5 CPU quota",
            args[0]
        );
        assert!(
            share >= 0.2,
            "{}: only {share:.3} CPUs: did it run?",
            args[0]
        );
        cg.remove().unwrap();
    }
}

#[test]
fn io_hog_page_cache_stays_within_memory_max() {
    require_root!();
    let (_host, arena, _id) = common::arena("catalogue-io");
    let limits = Limits {
        memory: vec![MemorySetting {
            knob: MemoryKnob::Max,
            bytes: Some(48 << 20),
        }],
        ..Limits::default()
    };
    let cg = arena.sandbox("io-hog", &limits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // On tmpfs or ramfs (the v2 VM has no disk) the file is shared memory, which
    // nothing reclaims without swap: there the file stays below the limit.
    use nix::sys::statfs::{FsType, TMPFS_MAGIC, statfs};
    const RAMFS_MAGIC: FsType = FsType(0x8584_58f6);
    let kind = statfs(dir.path()).unwrap().filesystem_type();
    let bytes = if kind == TMPFS_MAGIC || kind == RAMFS_MAGIC {
        eprintln!(
            "{} is in memory: io-hog writes 32 MiB, not 256",
            dir.path().display()
        );
        "32MiB"
    } else {
        "256MiB"
    };
    let args = argv(&[
        "io-hog",
        "--duration",
        &RUN_S.to_string(),
        "--dir",
        &dir.path().display().to_string(),
        "--bytes",
        bytes,
    ]);
    let (report, _) = run_to_end(&cg, NamespaceSet::default(), &args);
    let WorkloadReport::IoHog(r) = report else {
        panic!("{report:?}")
    };
    assert!(r.bytes_written > 0 && r.fsyncs > 0, "{r:?}");
    let (usage, _, _) = cg.memory().unwrap();
    if let Some(peak) = usage.peak_bytes {
        assert!(
            peak <= 48 << 20,
            "peak {peak} bytes above memory.max 48 MiB"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "io-hog left a file"
    );
    cg.remove().unwrap();
}

#[test]
fn net_hog_and_tcp_echo_run_in_their_own_network_namespace() {
    require_root!();
    let (_host, arena, _id) = common::arena("catalogue-net");
    let ns = NamespaceSet::ALL;
    let d = RUN_S.to_string();
    let cg = arena.sandbox("net-hog", &half_a_cpu()).unwrap();
    let (report, _) = run_to_end(&cg, ns, &argv(&["net-hog", "--duration", &d]));
    let WorkloadReport::NetHog(r) = report else {
        panic!("{report:?}")
    };
    assert!(r.mb_per_s > 0.0, "{r:?}");
    let cg2 = arena.sandbox("tcp-echo", &Limits::default()).unwrap();
    let (report, _) = run_to_end(
        &cg2,
        ns,
        &argv(&[
            "tcp-echo",
            "--rate",
            "500",
            "--warmup",
            "0.2",
            "--duration",
            "1",
        ]),
    );
    let WorkloadReport::TcpEcho(r) = report else {
        panic!("{report:?}")
    };
    assert!(r.ops >= 400, "{r:?}");
    cg.remove().unwrap();
    cg2.remove().unwrap();
}

#[test]
fn wakeup_latency_records_one_oversleep_per_wakeup() {
    require_root!();
    let (_host, arena, _id) = common::arena("catalogue-wake");
    let cg = arena.sandbox("wakeup", &Limits::default()).unwrap();
    let (report, _) = run_to_end(
        &cg,
        NamespaceSet::ALL,
        &argv(&[
            "wakeup-latency",
            "--rate",
            "1000",
            "--warmup",
            "0.2",
            "--duration",
            "1",
        ]),
    );
    let WorkloadReport::WakeupLatency(r) = report else {
        panic!("{report:?}")
    };
    let recorded: u64 = r.latency_ns.iter().map(|(_, n)| n).sum();
    assert!(r.ops >= 900 && recorded >= r.ops, "{r:?}");
    cg.remove().unwrap();
}

#[test]
fn fork_storm_stays_under_pids_max() {
    require_root!();
    let (_host, arena, _id) = common::arena("catalogue-fork");
    let limits = Limits {
        pids_max: Some(isobench::cgroup::Limit::Value(8)),
        ..Limits::default()
    };
    let cg = arena.sandbox("fork-storm", &limits).unwrap();
    let pids = cg.controller_dir("pids").unwrap().join("pids.current");
    let bin = workload::locate().unwrap();
    let args = argv(&[
        "fork-storm",
        "--duration",
        &RUN_S.to_string(),
        "--max-children",
        "32",
        // Each child lives 50 ms: held, not reaped at once. Children that exit
        // at once let the storm reap the oldest before each fork, and in the
        // emulated v2 VM (353 forks/s) no more than 7 were ever alive: no fork
        // met the limit.
        "--child-life-ms",
        "50",
    ]);
    let mut p = sandbox::spawn(&bin, &args, NamespaceSet::default(), Some(&cg)).unwrap();
    let mut peak = 0u64;
    let deadline = Instant::now() + Duration::from_secs_f64(RUN_S + 1.5);
    while Instant::now() < deadline && p.try_reap().is_ok_and(|done| !done) {
        if let Ok(n) = std::fs::read_to_string(&pids) {
            peak = peak.max(n.trim().parse().unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = p.wait_for(Duration::from_secs(2)).unwrap();
    assert_eq!(
        status,
        WaitStatus::Exited(nix::unistd::Pid::from_raw(p.pid()), 0)
    );
    assert!(peak <= 8, "pids.current reached {peak} under pids.max 8");
    let WorkloadReport::ForkStorm(r) =
        workload::parse_report("fork-storm", &p.output().unwrap()).unwrap()
    else {
        panic!("not a fork-storm report")
    };
    assert!(r.forks > 0, "{r:?}");
    assert!(
        r.fork_failures > 0 && r.fork_errnos.contains_key("EAGAIN"),
        "32 children wanted under pids.max 8, yet no fork failed: {r:?}"
    );
    assert!(r.peak_children < 8, "{r:?}");
    cg.remove().unwrap();
}
