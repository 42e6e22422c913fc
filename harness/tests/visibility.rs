//! The visibility checks on real namespaces (root only): each passes with every
//! namespace on, and each reports 0 with evidence when its namespace is off, so
//! no check is an assertion that cannot fail.

mod common;

use isobench::sandbox::NamespaceSet;
use isobench::scenario::visibility::{self, CHECKS};
use std::sync::Mutex;

/// The checks bind host port 3306 and mount in /tmp: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn without(name: &str) -> NamespaceSet {
    let mut ns = NamespaceSet::ALL;
    match name {
        "pid" => ns.pid = false,
        "uts" => ns.uts = false,
        "net" => ns.net = false,
        "mnt" => ns.mnt = false,
        "ipc" => ns.ipc = false,
        "cgroup" => ns.cgroup = false,
        "user" => ns.user = false,
        other => panic!("no namespace for check {other}"),
    }
    ns
}

fn run_check(name: &str, ns: NamespaceSet) -> isobench_reports::schema::VisibilityCheck {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_host, arena, id) = common::arena(&format!("vis-{name}"));
    let ctx = common::context(&arena, 1);
    let check = visibility::check(name, ns, &ctx).unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
    check
}

#[test]
fn every_check_passes_with_every_namespace_on() {
    require_root!();
    for name in CHECKS {
        let c = run_check(
            name,
            NamespaceSet {
                user: name == "user",
                ..NamespaceSet::ALL
            },
        );
        assert!(
            c.passed,
            "{name} failed: looked at {}; saw {}",
            c.looked_at, c.saw
        );
        assert!(!c.saw.is_empty() && !c.looked_at.is_empty());
    }
}

#[test]
fn every_check_fails_with_evidence_when_its_namespace_is_off() {
    require_root!();
    for name in CHECKS {
        let c = run_check(name, without(name));
        assert!(
            !c.passed,
            "{name} passed without its namespace: saw {}",
            c.saw
        );
        assert!(!c.saw.is_empty(), "{name}: no evidence");
        eprintln!("{name} off: {}", c.saw);
    }
}

#[test]
fn net_check_sees_the_port_clash_between_unconfined_processes() {
    require_root!();
    let c = run_check("net", NamespaceSet::ALL);
    assert!(
        c.saw.contains("got \"pong-a\"") && c.saw.contains("got \"pong-b\""),
        "{}",
        c.saw
    );
    assert!(
        c.saw.contains("the expected clash") && c.saw.contains("Address already in use"),
        "{}",
        c.saw
    );
}
