//! The external runtimes of scenario startup-latency (issue 16 part 4) on the
//! real host (root only): each found on PATH starts the probe a few times with
//! ordered stamps, in the namespaces it says, its cgroup inside the arena, and
//! leaves nothing; each missing one is skipped with one line.

mod common;

use isobench::cgroup::layout;
use isobench::sandbox::NamespaceSet;
use isobench::startup::runtime::{Runtime, Runtimes};
use isobench::startup::variant;

/// The runtimes the project's scripts install (scripts/install-test-tools).
const TESTED: [Runtime; 4] = [
    Runtime::Unshare,
    Runtime::Bwrap,
    Runtime::Crun,
    Runtime::Runc,
];

fn path() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// A directory holding `crun`, a shell script standing in for it: `body` runs
/// with crun's arguments (`--root STATE run --bundle DIR ID`, so `$5` is the bundle).
fn fake_crun(body: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let crun = dir.path().join("crun");
    std::fs::write(&crun, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&crun, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn each_installed_runtime_starts_the_probe_in_its_namespaces_and_leaves_nothing() {
    require_root!();
    let (_host, arena, id) = common::arena("runtimes");
    let work = tempfile::tempdir().unwrap();
    let arena_name = format!("isobench-{id}");
    // With a cgroup namespace every cgroup the probe sees is its namespace's
    // root; without one, an OCI runtime's probe shows where its cgroup is.
    for ns in [
        variant::HEADLINE,
        NamespaceSet {
            cgroup: false,
            ..variant::HEADLINE
        },
    ] {
        let mut runtimes = Runtimes::prepare(work.path(), &arena, ns, true, &path()).unwrap();
        for r in TESTED {
            let info = runtimes
                .info()
                .iter()
                .find(|i| i.name == r.name())
                .unwrap()
                .clone();
            if info.program.is_none() {
                eprintln!(
                    "skipped {}: not installed (scripts/install-test-tools installs it)",
                    r.name()
                );
                continue;
            }
            if let Some(why) = runtimes.unavailable(r) {
                panic!("{} is installed but unavailable: {why}", r.name());
            }
            eprintln!("{}: {} | cgroup: {}", r.name(), info.how, info.cgroup);
            let got = r.namespaces(ns);
            assert_eq!(info.namespaces, got.names(), "{}", r.name());
            for _ in 0..3 {
                let started = runtimes
                    .start(r)
                    .unwrap_or_else(|e| panic!("{}: {e:#}", r.name()));
                let s = started.stamps;
                assert!(
                    s.ordered() && s.request < s.first && s.first < s.reaped,
                    "{}: {s:?}",
                    r.name()
                );
                let mut lines = started.output.lines();
                assert_eq!(
                    lines.next(),
                    Some("pid 1"),
                    "{}: {}",
                    r.name(),
                    started.output
                );
                let cgroups: Vec<&str> = lines.collect();
                assert!(!cgroups.is_empty(), "{}: {}", r.name(), started.output);
                for line in &cgroups {
                    let path = line.splitn(3, ':').nth(2).unwrap();
                    if ns.cgroup {
                        assert_eq!(path, "/", "{}: {line}", r.name());
                    } else if (r == Runtime::Crun || r == Runtime::Runc)
                        && !(line.starts_with("0::") && info.how.contains("is unmounted"))
                    {
                        assert!(
                            path.ends_with(&format!("/{arena_name}/{}", r.name())),
                            "{}: its cgroup {line} is not in the arena",
                            r.name()
                        );
                    }
                }
            }
        }
        drop(runtimes);
        // The directories made for the OCI runtimes' binds are gone with them.
        let mounts = layout::every_mount_own_dir(
            &std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
            &std::fs::read_to_string("/proc/self/cgroup").unwrap(),
        )
        .unwrap();
        for (_, own) in mounts {
            let dir = own.join(&arena_name);
            assert_eq!(
                dir.exists(),
                arena.dirs().contains(&dir),
                "{}",
                dir.display()
            );
            if dir.exists() {
                let left: Vec<_> = std::fs::read_dir(&dir)
                    .unwrap()
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name())
                    .collect();
                assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
            }
        }
    }
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_runtime_missing_from_path_is_unavailable_with_one_line() {
    require_root!();
    let (_host, arena, _id) = common::arena("runtimes-missing");
    let work = tempfile::tempdir().unwrap();
    let runtimes =
        Runtimes::prepare(work.path(), &arena, variant::HEADLINE, false, &path()).unwrap();
    for info in runtimes.info() {
        if info.program.is_none() {
            let why = info.unavailable.as_deref().unwrap();
            assert_eq!(why, format!("not installed: no {} on PATH", info.name));
        }
    }
    assert_eq!(runtimes.info().len(), Runtime::ALL.len());
    drop(runtimes);
    arena.remove().unwrap();
}

#[test]
fn a_runtime_that_refuses_is_unavailable_with_its_own_message() {
    require_root!();
    let (_host, arena, id) = common::arena("runtimes-refuse");
    let work = tempfile::tempdir().unwrap();
    let fake = fake_crun("echo 'crun: this host is not to my taste' >&2; exit 3");
    let runtimes = Runtimes::prepare(
        work.path(),
        &arena,
        variant::HEADLINE,
        false,
        fake.path().as_os_str(),
    )
    .unwrap();
    let why = runtimes.unavailable(Runtime::Crun).unwrap();
    assert!(why.contains("this host is not to my taste"), "{why}");
    assert!(why.contains("exit status: 3"), "{why}");
    assert!(
        runtimes
            .unavailable(Runtime::Unshare)
            .unwrap()
            .starts_with("not installed")
    );
    drop(runtimes);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_runtime_refusing_the_hybrid_layout_runs_without_the_cgroup2_mount_and_says_so() {
    require_root!();
    let (host, arena, id) = common::arena("runtimes-hybrid");
    if host.layout != isobench::cgroup::Layout::Hybrid {
        eprintln!(
            "skipped: needs a hybrid cgroup layout (this host is {})",
            host.layout.as_str()
        );
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // Refuses as crun 1.8 does while a cgroup2 tree is mounted, else runs the probe.
    let fake = fake_crun(
        "if [ \"$(stat -f -c %T /sys/fs/cgroup/unified)\" = cgroup2fs ]; then\n\
         echo 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2' >&2; exit 1; fi\n\
         exec \"$5/../rootfs/probe\"",
    );
    let mut runtimes = Runtimes::prepare(
        work.path(),
        &arena,
        variant::HEADLINE,
        false,
        fake.path().as_os_str(),
    )
    .unwrap();
    assert_eq!(runtimes.unavailable(Runtime::Crun), None);
    let info = runtimes.info().iter().find(|i| i.name == "crun").unwrap();
    assert!(
        info.how.contains("refused this hybrid layout")
            && info.how.contains("cgroups in hybrid mode not supported")
            && info
                .how
                .contains("/sys/fs/cgroup/unified (the cgroup2 mount) is unmounted"),
        "{}",
        info.how
    );
    let s = runtimes.start(Runtime::Crun).unwrap().stamps;
    assert!(
        s.ordered() && s.request < s.first && s.first < s.reaped,
        "{s:?}"
    );
    drop(runtimes);
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn a_runtime_that_hangs_is_killed_at_its_deadline_and_leaves_nothing() {
    require_root!();
    let (_host, arena, id) = common::arena("runtimes-hang");
    let work = tempfile::tempdir().unwrap();
    // Runs the probe for the check at preparation, then hangs.
    let fake = fake_crun(
        "if [ -e \"$5/../hung-once\" ]; then exec sleep 61.789; fi\n\
         touch \"$5/../hung-once\" && exec \"$5/../rootfs/probe\"",
    );
    let mut runtimes = Runtimes::prepare(
        work.path(),
        &arena,
        variant::HEADLINE,
        false,
        fake.path().as_os_str(),
    )
    .unwrap()
    .with_deadline(std::time::Duration::from_millis(500));
    assert_eq!(runtimes.unavailable(Runtime::Crun), None);
    let started = std::time::Instant::now();
    let err = runtimes
        .start(Runtime::Crun)
        .err()
        .expect("a hanging runtime must fail");
    assert!(format!("{err:#}").contains("deadline"), "{err:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(runtimes);
    let hanging = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmdline| cmdline.windows(6).any(|w| w == b"61.789"));
    assert!(!hanging, "no hanging runtime is left");
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}
