//! Limits written on the real host (root only): CPU weight, cpuset, pids.max
//! and block I/O through `Arena::sandbox`, read back from the cgroup files;
//! and limits in the user's words, whose recorded files are the files written.

mod common;

use isobench::cgroup::{
    Cgroup, CgroupError, CgroupHost, CpuWeight, FileWrite, Layout, Limit, Limits,
};
use isobench::vocabulary::{self, HostFacts, Vocabulary};
use toml::Value;

/// Skips the calling test, with a one-line reason, when the host has no cgroup hierarchy to work in.
macro_rules! require_cgroups {
    () => {
        if let Err(e) = CgroupHost::discover() {
            eprintln!("skipped: no cgroup hierarchy to create sandboxes in ({e})");
            return;
        }
    };
}

/// Asserts that every write of `writes` reads back from `cg` as written.
#[track_caller]
fn assert_written(cg: &Cgroup, writes: &[FileWrite]) {
    for w in writes {
        let dir = cg
            .controller_dir(&w.controller)
            .unwrap_or_else(|| panic!("no {} directory for {}", w.controller, w.file));
        let read = std::fs::read_to_string(dir.join(&w.file)).unwrap();
        let read = read.trim();
        match w.file.as_str() {
            // The kernel lists every field of a throttled device.
            "io.max" => {
                let (device, fields) = w.value.split_once(' ').unwrap();
                let line = read
                    .lines()
                    .find(|l| l.starts_with(&format!("{device} ")))
                    .unwrap_or_else(|| panic!("{device} not in io.max {read:?}"));
                for f in fields.split_whitespace() {
                    assert!(
                        line.split_whitespace().any(|x| x == f),
                        "{f} not in {line:?}"
                    );
                }
            }
            "blkio.throttle.read_bps_device" | "blkio.throttle.write_bps_device" => {
                assert!(
                    read.lines().any(|l| l == w.value),
                    "{} not in {read:?}",
                    w.value
                )
            }
            "io.weight" => assert_eq!(read.lines().next(), Some(w.value.as_str()), "io.weight"),
            _ => assert_eq!(read, w.value, "{}", w.file),
        }
    }
}

#[test]
fn cpu_weight_cpuset_and_pids_max_are_written_and_read_back() {
    require_root!();
    require_cgroups!();
    let (host, arena, id) = common::arena("limits");
    let limits = Limits {
        cpu_weight: Some(CpuWeight::Weight(200)),
        cpuset_cpus: Some("0".parse().unwrap()),
        pids_max: Some(Limit::Value(64)),
        ..Limits::default()
    };
    let cg = arena.sandbox("victim", &limits).unwrap();
    let writes = limits.files(host.layout);
    assert_written(&cg, &writes);
    let cpu = cg.controller_dir("cpu").unwrap();
    let expected = match host.layout {
        Layout::V2 => ("cpu.weight", "200"),
        _ => ("cpu.shares", "2451"),
    };
    let read = std::fs::read_to_string(cpu.join(expected.0)).unwrap();
    assert_eq!(read.trim(), expected.1, "weight 200 on {}", host.layout);
    if host.layout != Layout::V2 {
        let cpuset = cg.controller_dir("cpuset").unwrap();
        let mems = std::fs::read_to_string(cpuset.join("cpuset.mems")).unwrap();
        assert!(
            !mems.trim().is_empty(),
            "cpuset.mems copied from the parent (case C03)"
        );
        assert!(
            cg.controller_dir("blkio").is_none(),
            "no blkio cgroup for a sandbox without I/O limits"
        );
    }
    cg.remove().unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

/// A whole disk of this host with a size (not an empty loop or zram device).
fn a_real_disk(facts: &HostFacts) -> Option<String> {
    facts
        .block_devices
        .iter()
        .find(|d| {
            std::fs::read_to_string(format!("/sys/block/{}/size", d.name))
                .is_ok_and(|s| s.trim() != "0")
        })
        .map(|d| d.name.clone())
}

#[test]
fn docker_words_become_the_files_recorded_for_them() {
    require_root!();
    require_cgroups!();
    let (host, arena, id) = common::arena("docker-words");
    let facts = HostFacts::discover(host.layout).unwrap();
    let mut words = vec![
        ("cpu_shares".to_string(), Value::from(512)),
        ("pids_limit".to_string(), Value::from(32)),
        ("memory".to_string(), Value::from("64m")),
        ("memory_reservation".to_string(), Value::from("32m")),
    ];
    let disk = a_real_disk(&facts);
    match &disk {
        Some(d) => words.push((
            "device_read_bps".into(),
            Value::from(format!("/dev/{d}:1mb")),
        )),
        None => eprintln!("no disk with a size in /sys/block: device_read_bps not checked"),
    }
    let mapped = vocabulary::map(Vocabulary::Docker, &words, &facts).unwrap();
    let cg = match arena.sandbox("aggressor", &mapped.limits) {
        Err(CgroupError::Unsupported(u)) if disk.is_some() && u.knob.starts_with("io") => {
            eprintln!("skipped: {u}");
            return;
        }
        other => other.unwrap(),
    };
    assert_written(&cg, &mapped.files(host.layout));
    cg.remove().unwrap();
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}

#[test]
fn an_io_weight_the_host_cannot_honour_is_refused_by_file_before_anything_is_created() {
    require_root!();
    require_cgroups!();
    let (host, arena, id) = common::arena("io-weight");
    let limits = Limits {
        io_weight: Some(isobench::cgroup::IoWeight::Blkio(500)),
        ..Limits::default()
    };
    let file = match host.layout {
        Layout::V2 => "io.weight",
        _ => "blkio.weight",
    };
    let has_file = arena.dirs().iter().any(|d| d.join(file).exists());
    match arena.sandbox("victim", &limits) {
        Ok(cg) => {
            assert!(has_file, "written although the arena has no {file}");
            assert_written(&cg, &limits.files(host.layout));
            cg.remove().unwrap();
        }
        Err(e) => {
            assert!(!has_file, "{e}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("{file} is not supported on {}", host.layout)),
                "{msg}"
            );
            for d in arena.dirs() {
                assert!(!d.join("victim").exists(), "{} created", d.display());
            }
        }
    }
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
}
