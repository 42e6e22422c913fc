//! The container image (issue 18 part 3) on the real host (root only): the image
//! builds offline (scripts/build-image: static binaries, FROM scratch,
//! `podman build --network=none`), and `podman run --privileged --pid=host
//! --cgroupns=host` of the quick suite in it passes, says "container (podman …)"
//! in its fingerprint and leaves no cgroup and no process behind; in a private
//! cgroup namespace (as Kubernetes on v2) the host's cgroupfs mounted over the
//! container's is refused and the runtime's own mount is used. Outside CI the
//! test skips with one line where podman is missing; in CI (`CI` set) it fails.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every cgroup directory, in every hierarchy, beneath this test's own cgroup
/// whose path names `needle` (a run id, a container id, `libpod`).
fn cgroups_naming(needles: &[&str]) -> BTreeSet<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let self_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut found = BTreeSet::new();
    for (_, own) in isobench::cgroup::layout::every_mount_own_dir(&mountinfo, &self_cgroup).unwrap()
    {
        let mut stack = vec![own];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    let p = e.path();
                    if needles.iter().any(|n| p.to_string_lossy().contains(n)) {
                        found.insert(p.clone());
                    }
                    stack.push(p);
                }
            }
        }
    }
    found
}

/// Pids whose /proc/PID/cgroup or command line names `needle`.
fn processes_naming(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cgroup = std::fs::read_to_string(e.path().join("cgroup")).unwrap_or_default();
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cgroup.contains(needle) || String::from_utf8_lossy(&cmdline).contains(needle) {
            out.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    out
}

fn hard_limit(resource: nix::sys::resource::Resource) -> u64 {
    nix::sys::resource::getrlimit(resource).unwrap().1
}

#[test]
fn quick_suite_in_the_image_under_podman_passes_says_container_and_leaves_nothing() {
    require_root!();
    if Command::new("podman").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "podman is missing in CI: scripts/install-test-tools installs it"
        );
        eprintln!("skipped: needs podman (scripts/install-test-tools installs it)");
        return;
    }
    let tag = format!("localhost/isobench:test-{}", std::process::id());
    let t0 = Instant::now();
    let built = Command::new(repo().join("scripts/build-image"))
        .arg(&tag)
        .status()
        .unwrap();
    assert!(built.success(), "scripts/build-image {tag}: {built}");
    let build_s = t0.elapsed().as_secs_f64();

    let podman_before = cgroups_naming(&["libpod"]);
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let cidfile = work.path().join("cid");
    // runc, not crun: crun 1.8 refuses a hybrid host ("cgroups in hybrid mode
    // not supported"). Limits: podman asks for RLIMIT_NOFILE 1048576, above this
    // host's hard limit, which the runtime may not raise (EPERM); RLIMIT_NPROC
    // likewise failed here above 32768. The quick suite needs far fewer of each.
    let nofile = hard_limit(nix::sys::resource::Resource::RLIMIT_NOFILE);
    let nproc = hard_limit(nix::sys::resource::Resource::RLIMIT_NPROC).min(32768);
    let t1 = Instant::now();
    let run = Command::new("timeout")
        .args(["300", "podman", "--runtime", "runc", "run", "--rm"])
        .arg(format!("--cidfile={}", cidfile.display()))
        .args([
            "--privileged",
            "--pid=host",
            "--cgroupns=host",
            "--network=none",
        ])
        // podman's default pids.max of 2048 would be a limit on the harness's own cgroup.
        .arg("--pids-limit=-1")
        .arg(format!("--ulimit=nofile={nofile}:{nofile}"))
        .arg(format!("--ulimit=nproc={nproc}:{nproc}"))
        .args(["-v", "/sys/fs/cgroup:/sys/fs/cgroup"])
        .arg(format!("-v={}:/results", results.display()))
        .arg(&tag)
        .args(["run", "--suite", "quick", "--out", "/results"])
        .output()
        .unwrap();
    let run_s = t1.elapsed().as_secs_f64();
    let log =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    // As Kubernetes on cgroup v2 does it: a private cgroup namespace. With the
    // host's cgroupfs mounted over the container's, the harness's own cgroup
    // (`/` in its namespace) is not where the mount's root is: refused, so
    // nothing is made at the host's root. With the runtime's own mount, fine.
    let doctor = |host_mount: bool| {
        let mut c = Command::new("timeout");
        c.args(["120", "podman", "--runtime", "runc", "run", "--rm"])
            .args([
                "--privileged",
                "--pid=host",
                "--cgroupns=private",
                "--network=none",
            ])
            .arg(format!("--ulimit=nofile={nofile}:{nofile}"))
            .arg(format!("--ulimit=nproc={nproc}:{nproc}"));
        if host_mount {
            c.args(["-v", "/sys/fs/cgroup:/sys/fs/cgroup"]);
        }
        let out = c.arg(&tag).arg("doctor").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let (over, own) = (doctor(true), doctor(false));
    let removed = Command::new("podman")
        .args(["rmi", "--force", &tag])
        .output()
        .unwrap();
    eprintln!("image build {build_s:.1} s, quick suite in the container {run_s:.1} s");
    assert!(run.status.success(), "podman run: {}\n{log}", run.status);
    assert!(removed.status.success(), "podman rmi {tag}");

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("results.json")).unwrap())
            .unwrap();
    let env = &doc["host"]["environment"];
    assert_eq!(env["kind"], "container", "{env}");
    assert!(
        env["runtime"]
            .as_str()
            .is_some_and(|r| r.starts_with("podman")),
        "{env}"
    );
    for s in doc["scenarios"].as_array().unwrap() {
        assert_eq!(
            s["status"]["state"], "complete",
            "{}: {}",
            s["name"], s["status"]
        );
    }
    assert_eq!(
        doc["scenarios"].as_array().unwrap().len(),
        2,
        "quick has 2 scenarios"
    );
    assert!(results.join("report.html").is_file());

    assert!(
        over.contains("which does not hold the harness's own cgroup")
            && !over.contains("can create cgroups beneath"),
        "host cgroupfs in a private cgroup namespace was not refused:\n{over}"
    );
    assert!(
        own.contains("controller cpu           ok           can create cgroups beneath"),
        "the runtime's own cgroupfs mount in a private cgroup namespace:\n{own}"
    );
    let cid = std::fs::read_to_string(&cidfile).unwrap().trim().to_owned();
    let run_id = doc["run_id"].as_str().unwrap().to_owned();
    assert!(!cid.is_empty());
    // Its cgroups were made beneath podman's cgroup for the container, in every hierarchy.
    let beneath: Vec<&serde_json::Value> = doc["doctor"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let name = c["name"].as_str().unwrap();
            name.starts_with("controller ") || name == "cgroup2 tree"
        })
        .collect();
    assert!(!beneath.is_empty());
    for c in beneath {
        assert!(
            c["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("libpod-{cid}")),
            "not beneath the container's cgroup: {c}"
        );
    }
    let left = cgroups_naming(&[&cid, &run_id]);
    assert!(left.is_empty(), "cgroups left behind: {left:?}");
    // Podman keeps its parent cgroup (`libpod_parent`, made on its first run)
    // and nothing else of the container.
    let podman_new: Vec<_> = cgroups_naming(&["libpod"])
        .difference(&podman_before)
        .filter(|p| !p.ends_with("libpod_parent"))
        .cloned()
        .collect();
    assert!(
        podman_new.is_empty(),
        "podman's cgroups left behind: {podman_new:?}"
    );
    let procs = processes_naming(&cid);
    assert!(procs.is_empty(), "processes left behind: {procs:?}");
    let procs = processes_naming("/usr/local/bin/isobench");
    assert!(procs.is_empty(), "processes left behind: {procs:?}");
}
