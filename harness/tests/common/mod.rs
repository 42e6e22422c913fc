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

/// A fresh arena with a unique run id for this test process.
pub fn arena(test: &str) -> (CgroupHost, Arena) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let host = CgroupHost::discover().expect("cgroup layout");
    let id = format!("test-{}-{}-{test}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let arena = host.arena(&id).expect("creating the arena");
    (host, arena)
}

/// Asserts that no `isobench-test-<this pid>-*` cgroup is left in any hierarchy.
pub fn assert_nothing_left(host: &CgroupHost) {
    let mine = format!("isobench-test-{}-", std::process::id());
    let left: Vec<_> = host.leftovers().into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&mine)).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
