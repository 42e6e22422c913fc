//! Sandboxes on real namespaces and cgroups (root only).

mod common;

use isobench::cgroup::Limits;
use isobench::sandbox::{self, NamespaceSet};
use isobench::workload;
use isobench_workloads::inspect::View;
use std::time::Duration;

fn inspect_in(ns: NamespaceSet) -> View {
    let (_host, arena, id) = common::arena("inspect");
    let cg = arena.sandbox("victim", &Limits::default()).unwrap();
    let bin = workload::locate().unwrap();
    let mut p = sandbox::spawn(&bin, &["inspect".into()], ns, Some(&cg)).unwrap();
    p.wait_for(Duration::from_secs(10)).unwrap();
    let out = p.output().unwrap();
    drop(p);
    cg.remove().unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn sandbox_sees_itself_as_pid_1_no_host_pid_and_only_lo() {
    require_root!();
    let view = inspect_in(NamespaceSet::ALL);
    assert_eq!(view.ppid, 1, "the sandbox init is pid 1: {view:?}");
    assert_eq!(
        view.visible_pids,
        vec![1, view.pid],
        "only the init and the workload are visible"
    );
    assert_eq!(view.interfaces, vec!["lo".to_string()]);
    assert_eq!(view.hostname, sandbox::SANDBOX_HOSTNAME);
    assert!(
        view.cgroup.lines().all(|l| l.ends_with(":/")),
        "cgroup namespace root: {}",
        view.cgroup
    );
}

#[test]
fn without_namespaces_the_host_is_visible() {
    require_root!();
    let view = inspect_in(NamespaceSet::default());
    assert_ne!(view.ppid, 1);
    assert!(
        view.visible_pids.contains(&(std::process::id() as i32)),
        "the harness's pid is visible"
    );
    assert!(view.cgroup.contains("isobench-test-"), "{}", view.cgroup);
}
