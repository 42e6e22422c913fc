//! The applets of the catalogue run as the harness runs them: as the built
//! `isobench-workload`, one JSON report on stdout, the process ended by itself
//! soon after its `--duration`.

use isobench_workloads::report::{UnitsReport, WorkloadReport};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_isobench-workload");

/// Runs `isobench-workload ARGS` and returns its output and wall time.
fn run(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(BIN).args(args).output().unwrap();
    (out, t.elapsed())
}

/// Runs an applet for `seconds` and returns its report, checking that the
/// process ended within half a second of its duration.
fn report(args: &[&str], seconds: f64) -> WorkloadReport {
    let (out, wall) = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
    assert!(
        wall.as_secs_f64() < seconds + 0.5,
        "{args:?} ended {wall:?} after it started"
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

fn recorded(r: &UnitsReport) -> u64 {
    r.latency_ns.iter().map(|&(_, c)| c).sum()
}

#[test]
fn cache_thrash_streams_over_twice_the_llc_or_says_why_not() {
    let WorkloadReport::CacheThrash(r) = report(&["cache-thrash", "--duration", "0.4"], 0.4) else {
        panic!("not a cache-thrash report");
    };
    match r.llc_bytes {
        Some(llc) => assert_eq!(r.buffer_bytes, (2 * llc).min(1 << 30), "{r:?}"),
        None => assert!(r.llc_source.contains("32 MiB"), "{r:?}"),
    }
    assert!(r.lines_per_s > 0.0 && r.ran_s < 0.9, "{r:?}");
}

#[test]
fn mem_bw_reports_bandwidth() {
    let args = [
        "mem-bw",
        "--duration",
        "0.4",
        "--bytes",
        "24MiB",
        "--kernel",
        "copy",
    ];
    let WorkloadReport::MemBw(r) = report(&args, 0.4) else {
        panic!("not a mem-bw report");
    };
    assert!(r.mb_per_s.unwrap() > 0.0 && r.passes > 0, "{r:?}");
    assert!(r.array_bytes <= 24 << 20 && r.ran_s < 0.9, "{r:?}");
}

#[test]
fn fork_storm_keeps_its_bounds() {
    let args = [
        "fork-storm",
        "--duration",
        "0.4",
        "--max-children",
        "3",
        "--max-forks",
        "500",
    ];
    let WorkloadReport::ForkStorm(r) = report(&args, 0.4) else {
        panic!("not a fork-storm report");
    };
    assert!(r.forks > 0 && r.forks <= 500, "{r:?}");
    assert!(r.peak_children <= 3 && r.ran_s < 0.9, "{r:?}");
}

#[test]
fn io_hog_stays_within_its_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let args = [
        "io-hog",
        "--duration",
        "0.4",
        "--dir",
        dir_arg,
        "--bytes",
        "1MiB",
        "--pattern",
        "rand",
    ];
    let WorkloadReport::IoHog(r) = report(&args, 0.4) else {
        panic!("not an io-hog report");
    };
    assert!(
        r.bytes_written > 0 && r.fsyncs > 0 && r.mb_per_s > 0.0,
        "{r:?}"
    );
    assert!(r.file_bytes <= 1 << 20 && r.ran_s < 0.9, "{r:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left"
    );
}

#[test]
fn net_hog_moves_bytes_over_loopback() {
    let WorkloadReport::NetHog(r) = report(&["net-hog", "--duration", "0.4"], 0.4) else {
        panic!("not a net-hog report");
    };
    assert!(
        r.bytes_moved > 0 && r.mb_per_s > 0.0 && r.ran_s < 0.9,
        "{r:?}"
    );
}

#[test]
fn wakeup_latency_records_every_wake_up() {
    let args = ["wakeup-latency", "--rate", "1000", "--duration", "0.3"];
    let WorkloadReport::WakeupLatency(r) = report(&args, 0.3) else {
        panic!("not a wakeup-latency report");
    };
    assert!(r.ops > 200, "{r:?}");
    assert_eq!(recorded(&r), r.ops + r.missed);
}

#[test]
fn tcp_echo_records_every_round_trip() {
    let args = [
        "tcp-echo",
        "--rate",
        "1000",
        "--duration",
        "0.3",
        "--payload",
        "128",
    ];
    let WorkloadReport::TcpEcho(r) = report(&args, 0.3) else {
        panic!("not a tcp-echo report");
    };
    assert!(r.ops > 200, "{r:?}");
    assert_eq!(recorded(&r), r.ops + r.missed);
}

#[test]
fn bad_arguments_are_a_usage_error() {
    for args in [
        &["cache-thrash", "--duration", "1", "--intensity", "0"][..],
        &["mem-bw", "--duration", "1", "--intensity", "101"],
        &["mem-bw", "--duration", "1", "--bytes", "0"],
        &["io-hog", "--duration", "1"],
    ] {
        let (out, _) = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no report");
    }
}

/// A fresh network namespace starts with `lo` down: net-hog and tcp-echo say so.
/// Needs `unshare -rn` (unprivileged user namespaces); skips with a message where
/// it is not allowed.
#[test]
fn loopback_down_is_named() {
    if !Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: `unshare -rn` is not allowed here (no unprivileged user namespaces)");
        return;
    }
    for args in [
        &["net-hog", "--duration", "0.2"][..],
        &["tcp-echo", "--rate", "100", "--duration", "0.2"],
    ] {
        let out = Command::new("unshare")
            .arg("-rn")
            .arg(BIN)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("lo is down") && stderr.contains("ip link set lo up"),
            "{stderr}"
        );
    }
}
