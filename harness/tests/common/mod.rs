//! Helpers shared by the integration tests that need root and real cgroups.

use isobench::cgroup::{Arena, CgroupHost};
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
