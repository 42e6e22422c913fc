//! `isobench merge` on real results: two runs of the quick suite on the hybrid
//! development host (one fingerprint class) beside one in the cgroup v2 VM
//! (another class), and the files it must leave out, each with its line.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/results");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn merge(inputs: &[PathBuf], extra: &[&str]) -> (Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_isobench"))
        .arg("merge")
        .args(inputs)
        .arg("--out")
        .arg(out.path().join("fleet"))
        .args(extra)
        .output()
        .unwrap();
    (o, out)
}

fn read(dir: &tempfile::TempDir, name: &str) -> String {
    std::fs::read_to_string(dir.path().join("fleet").join(name)).unwrap()
}

/// A copy of fixture `name` in `dir` as `file`, edited by `edit`.
fn edited(dir: &Path, name: &str, file: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(file);
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[test]
fn hybrid_and_v2_hosts_are_kept_in_two_classes_and_never_pooled() {
    let (o, out) = merge(
        &[
            fixture("quick-a.json"),
            fixture("quick-b.json"),
            fixture("quick-v2-vm.json"),
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("merged 3 run(s) in 2 fingerprint class(es)"),
        "{stdout}"
    );
    let fleet: Value = serde_json::from_str(&read(&out, "fleet.json")).unwrap();
    assert_eq!(fleet["pooled"], false);
    let classes = fleet["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    assert_eq!(classes[0]["layout"], "hybrid");
    assert_eq!(classes[1]["layout"], "v2");
    let class_of = |host: &str| {
        fleet["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == host)
            .unwrap()["class"]
            .clone()
    };
    assert_eq!(class_of("quick-a"), class_of("quick-b"));
    assert_ne!(class_of("quick-a"), class_of("quick-v2-vm"));
    for s in fleet["scenarios"].as_array().unwrap() {
        let groups = s["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 2, "{}: one group per class", s["name"]);
        for g in groups {
            for h in g["hosts"].as_array().unwrap() {
                assert_eq!(class_of(h["host"].as_str().unwrap()), g["class"], "{g}");
            }
            // Spread and tally count the group's hosts only.
            let n = g["hosts"].as_array().unwrap().len();
            assert_eq!(g["tally"]["hosts"], n);
            for sp in g["spread"].as_array().unwrap() {
                assert!(sp["hosts"].as_u64().unwrap() as usize <= n, "{sp}");
            }
        }
    }
    // cpu-share: every host's headline figures with their CI, as report.html shows them.
    let cpu = &fleet["scenarios"][1];
    assert_eq!(cpu["name"], "cpu-share");
    let v2 = &cpu["groups"][1]["hosts"][0];
    let share = v2["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "aggressor.cpu_share")
        .unwrap();
    assert!(
        share["text"].as_str().unwrap().contains(" CPUs ["),
        "{share}"
    );
    let html = read(&out, "fleet.html");
    assert!(!html.contains("pooled across"), "not pooled unless asked");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    assert!(html.contains("cgroup v2") && html.contains("cgroup hybrid"));
    let md = read(&out, "fleet.md");
    assert!(
        md.contains("class-1: kernel 6.18.44-fc-v595 · cgroup hybrid"),
        "{md}"
    );
    assert!(
        md.contains("class-2: kernel 6.1.0-57-amd64 · cgroup v2"),
        "{md}"
    );
}

#[test]
fn pooling_across_classes_happens_only_when_asked_and_says_so() {
    let (o, out) = merge(
        &[fixture("quick-a.json"), fixture("quick-v2-vm.json")],
        &["--pool-classes"],
    );
    assert_eq!(o.status.code(), Some(0));
    let fleet: Value = serde_json::from_str(&read(&out, "fleet.json")).unwrap();
    assert_eq!(fleet["pooled"], true);
    for s in fleet["scenarios"].as_array().unwrap() {
        assert_eq!(s["groups"].as_array().unwrap().len(), 1);
        assert_eq!(s["groups"][0]["class"], Value::Null);
        assert_eq!(s["groups"][0]["hosts"].as_array().unwrap().len(), 2);
    }
    for file in ["fleet.html", "fleet.md"] {
        let text = read(&out, file);
        assert!(text.contains("--pool-classes was given"), "{file}");
        assert!(
            text.contains("pooled across 2 fingerprint class(es)"),
            "{file}"
        );
    }
}

#[test]
fn duplicates_other_schema_versions_and_strangers_are_left_out_with_a_line_each() {
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join("copy-of-a.json");
    std::fs::copy(fixture("quick-a.json"), &copy).unwrap();
    let v2schema = edited(t.path(), "quick-b.json", "future.json", |v| {
        v["schema_version"] = 2.into();
    });
    let broken = t.path().join("broken.json");
    std::fs::write(&broken, "{\"schema_version\": 1, ").unwrap();
    let (o, out) = merge(
        &[
            fixture("quick-a.json"),
            fixture("quick-b.json"),
            copy.clone(),
            v2schema.clone(),
            fixture("memory-hybrid.json"),
            broken.clone(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "the rest is merged: {stderr}");
    let lines = [
        format!(
            "left out {}: a duplicate of run 20261129T134838Z-24292 (the same run_id as {}, taken first)",
            copy.display(),
            fixture("quick-a.json").display()
        ),
        format!(
            "left out {}: results schema_version 2 is not supported: this isobench reads version 1",
            v2schema.display()
        ),
        format!(
            "left out {}: no scenario in common with the other runs (it has memory-pressure, memory-high-stall;",
            fixture("memory-hybrid.json").display()
        ),
        format!(
            "left out {}: not an isobench results document: EOF while parsing",
            broken.display()
        ),
    ];
    for line in &lines {
        assert!(stderr.contains(line.as_str()), "{line}\nnot in\n{stderr}");
    }
    let fleet: Value = serde_json::from_str(&read(&out, "fleet.json")).unwrap();
    assert_eq!(fleet["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(fleet["excluded"].as_array().unwrap().len(), 4);
    let md = read(&out, "fleet.md");
    let html = read(&out, "fleet.html");
    for e in fleet["excluded"].as_array().unwrap() {
        let reason = e["reason"].as_str().unwrap();
        assert!(
            md.contains(&format!("left out {}: ", e["path"].as_str().unwrap())),
            "{md}"
        );
        assert!(html.contains(&reason.replace('\'', "&#39;").replace('"', "&quot;")[..30]));
    }
}

#[test]
fn nothing_to_merge_is_an_error_with_exit_3() {
    let t = tempfile::tempdir().unwrap();
    let v2schema = edited(t.path(), "quick-a.json", "future.json", |v| {
        v["schema_version"] = 7.into();
    });
    let (o, out) = merge(&[v2schema, t.path().join("absent.json")], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("absent.json: cannot be read: No such file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: no results file could be merged (2 given"),
        "{stderr}"
    );
    assert!(!out.path().join("fleet").exists(), "nothing written");
}

#[test]
fn a_run_of_one_host_twice_counts_twice_in_its_class_with_the_worst_first() {
    let (o, out) = merge(
        &[
            fixture("quick-a.json"),
            fixture("quick-b.json"),
            fixture("quick-loose-quota.json"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let fleet: Value = serde_json::from_str(&read(&out, "fleet.json")).unwrap();
    let g = &fleet["scenarios"][1]["groups"][0];
    assert_eq!(g["tally"]["hosts"], 3);
    // The worst are ranked by verdict: not protected, partly, no interference, protected.
    let rank = |v: &str| {
        [
            "not_protected",
            "partly_protected",
            "no_interference",
            "protected",
        ]
        .iter()
        .position(|k| *k == v)
        .unwrap()
    };
    let verdict_of = |host: &Value| {
        g["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| &h["host"] == host)
            .unwrap()["verdict"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let worst: Vec<usize> = g["worst"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| rank(&verdict_of(h)))
        .collect();
    assert!(worst.windows(2).all(|w| w[0] <= w[1]), "{worst:?}");
    // The loosened quota shows in the spread of the aggressor's isolated share.
    let spread = g["spread"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "aggressor.cpu_share")
        .unwrap();
    assert_eq!(spread["max"][1], "quick-loose-quota");
    assert!(spread["max"][0].as_f64().unwrap() > 1.0, "{spread}");
}

#[test]
fn when_no_two_runs_share_a_scenario_the_first_is_kept_and_the_rest_named() {
    let (o, out) = merge(
        &[fixture("quick-a.json"), fixture("memory-hybrid.json")],
        &[],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "left out {}: no scenario in common with the other runs (it has memory-pressure, \
             memory-high-stall; the first run merged has visibility, cpu-share)",
            fixture("memory-hybrid.json").display()
        )),
        "{stderr}"
    );
    let fleet: Value = serde_json::from_str(&read(&out, "fleet.json")).unwrap();
    assert_eq!(fleet["hosts"][0]["host"], "quick-a");
    assert_eq!(fleet["hosts"].as_array().unwrap().len(), 1);
}

#[test]
fn a_signal_ends_a_merge_at_once_even_one_blocked_on_its_input() {
    use std::os::unix::process::ExitStatusExt;
    // A FIFO nobody writes: merge blocks opening it. It makes nothing to tear
    // down, so SIGTERM ends it as it ends any process (it once only noted the
    // signal in a flag nobody polled and ran on).
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("never-written.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_isobench"))
        .arg("merge")
        .arg(&fifo)
        .arg(fixture("quick-a.json"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("merge ran on 10 s after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}
