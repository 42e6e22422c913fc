//! Helpers shared by the integration tests that need root and real cgroups.

use isobench::cgroup::{Arena, CgroupHost};
use isobench::scenario::RunContext;
use isobench::workload;
use isobench_workloads::report::Calibration;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Skips the calling test, with a one-line reason, unless it runs as root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: needs root to create cgroups and namespaces (CI runs as root)");
            return;
        }
    };
}

/// A fresh arena with a unique run id; returns the host, the arena and its run id.
#[allow(dead_code)] // each test file uses the helpers it needs
pub fn arena(test: &str) -> (CgroupHost, Arena, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let host = CgroupHost::discover().expect("cgroup layout");
    let id = format!(
        "test-{}-{}-{test}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let arena = host.arena(&id).expect("creating the arena");
    (host, arena, id)
}

/// Asserts that no cgroup whose name ends with `suffix` (a run id, or `-<pid>` of a
/// run) is left directly beneath the harness's cgroup in any hierarchy.
#[allow(dead_code)]
pub fn assert_nothing_left(suffix: &str) {
    let host = CgroupHost::discover().expect("cgroup layout");
    let left: Vec<_> = host
        .leftovers()
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A run context over `arena` for tests that run a scenario: the workload
/// binary found as `run` finds it, a victim unit of `unit_ns` ns (not
/// calibrated: these tests do not judge the victim's speed), one CPU.
#[allow(dead_code)]
pub fn context(arena: &Arena, unit_ns: u64) -> RunContext<'_> {
    RunContext {
        arena,
        workload_bin: workload::locate().unwrap(),
        calibration: Calibration {
            iters_per_unit: 1,
            unit_ns,
        },
        cpus_allowed: 1,
        work_dir: std::env::temp_dir(),
    }
}
