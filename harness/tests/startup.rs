//! Starting the startup probe by every method on the real host (root only).

mod common;

use isobench::cgroup::Layout;
use isobench::startup::launch::{self, Probe};
use isobench::startup::variant;

#[test]
fn every_variant_starts_the_probe_with_ordered_stamps_and_leaves_nothing() {
    require_root!();
    let (host, arena, id) = common::arena("startup");
    let mut probe = Probe::embedded(true).unwrap();
    for v in variant::all(variant::HEADLINE) {
        let started = launch::start(&mut probe, v.method, Some(&arena), v.name);
        let started = match started {
            Ok(s) => s,
            Err(e) if v.name == variant::SANDBOX_CLONE3 && host.layout != Layout::V2 => {
                assert!(
                    format!("{e:#}").contains("needs a cgroup v2 layout"),
                    "{e:#}"
                );
                continue;
            }
            Err(e) if v.name == "sandbox_user" => {
                eprintln!(
                    "{}: {e:#} (the probe must be executable by uid 65534)",
                    v.name
                );
                continue;
            }
            Err(e) => panic!("{}: {e:#}", v.name),
        };
        let s = started.stamps;
        assert!(s.ordered(), "{}: {s:?}", v.name);
        assert!(s.start_us() > 0.0, "{}: {s:?}", v.name);
        if let variant::Method::Sandbox { namespaces }
        | variant::Method::IntoCgroup { namespaces } = v.method
        {
            let pid_line = started.output.lines().next().unwrap_or_default();
            if namespaces.pid {
                assert_eq!(
                    pid_line, "pid 1",
                    "{}: the probe is pid 1 of its namespace",
                    v.name
                );
            }
            let cgroup = started
                .output
                .lines()
                .find(|l| l.starts_with("0::"))
                .unwrap_or_default();
            if namespaces.cgroup {
                assert_eq!(
                    cgroup, "0::/",
                    "{}: its cgroup is its namespace's root",
                    v.name
                );
            } else {
                assert!(
                    cgroup.ends_with(&format!("/isobench-{id}/{}", v.name)),
                    "{}: {cgroup}",
                    v.name
                );
            }
        }
    }
    if host.layout == Layout::V2 {
        // Without a cgroup namespace the probe sees where clone3 put it.
        let into = variant::Method::IntoCgroup {
            namespaces: isobench::sandbox::NamespaceSet {
                pid: true,
                ..Default::default()
            },
        };
        let started = launch::start(&mut probe, into, Some(&arena), "into-cgroup").unwrap();
        let cgroup = started
            .output
            .lines()
            .find(|l| l.starts_with("0::"))
            .unwrap_or_default();
        assert!(
            cgroup.ends_with(&format!("/isobench-{id}/into-cgroup")),
            "clone3 CLONE_INTO_CGROUP started the probe in {cgroup}"
        );
    }
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_probe_that_hangs_is_killed_at_its_deadline_and_leaves_nothing() {
    require_root!();
    let (_host, arena, id) = common::arena("hang");
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("hanging-probe");
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 61.234\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut probe = Probe::program(&fake, false)
        .unwrap()
        .with_deadline(std::time::Duration::from_millis(500));
    for v in variant::all(variant::HEADLINE) {
        if v.name != "fork_exec" && v.name != variant::SANDBOX {
            continue;
        }
        let started = std::time::Instant::now();
        let err = launch::start(&mut probe, v.method, Some(&arena), v.name)
            .err()
            .unwrap_or_else(|| panic!("{}: a hanging probe must fail", v.name));
        assert!(
            format!("{err:#}").contains("deadline"),
            "{}: {err:#}",
            v.name
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{}",
            v.name
        );
    }
    let hanging = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmdline| cmdline.windows(6).any(|w| w == b"61.234"));
    assert!(!hanging, "no hanging probe is left");
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn churn_pipes_starts_to_a_reaper_reports_every_phase_and_leaves_nothing() {
    require_root!();
    let (_host, arena, id) = common::arena("churn");
    let headline = variant::all(variant::HEADLINE)
        .into_iter()
        .find(|v| v.name == variant::SANDBOX)
        .unwrap();
    let c = isobench::startup::churn::churn(headline, 1, 0.3, &arena);
    assert_eq!(c.unavailable, None);
    let per_s = c.per_s.unwrap();
    assert!(per_s > 10.0, "{per_s}/s");
    let names: Vec<&str> = c.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, launch::PHASES, "every phase, in order");
    assert!(c.phases.iter().all(|p| p.mean_us > 0.0), "{:?}", c.phases);
    // Every sandbox it started was torn down: the arena has no cgroup left.
    for dir in arena.dirs() {
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{}: {left:?}", dir.display());
    }
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_self_attaching_sandbox_stamps_its_clone_attach_and_exec_steps() {
    require_root!();
    let (_host, arena, id) = common::arena("stamps");
    let mut probe = Probe::embedded(false).unwrap();
    let headline = variant::all(variant::HEADLINE)
        .into_iter()
        .find(|v| v.name == variant::SANDBOX)
        .unwrap();
    let s = launch::start(&mut probe, headline.method, Some(&arena), "stamped")
        .unwrap()
        .stamps;
    assert!(s.created > s.request && s.cloned > s.created, "{s:?}");
    assert!(s.attached >= s.cloned && s.released >= s.attached, "{s:?}");
    assert!(s.first > s.released && s.ordered(), "{s:?}");
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}
