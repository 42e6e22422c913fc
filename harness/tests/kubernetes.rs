//! deploy/kubernetes (issue 18 part 4) without a cluster: the manifests against
//! the Kubernetes schemas (PyPI kubernetes-validate, installed by
//! scripts/install-test-tools), and the fan-out script's logic against a
//! stand-in kubectl (tests/fixtures/kubernetes/kubectl) that records its calls
//! and plays back a scripted cluster. Outside CI, tests skip with one line
//! where python3 or the validator is missing; in CI (`CI` set) they fail.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// True when `python3 -c code` succeeds; else skips (prints why) outside CI, fails in CI.
fn python_has(code: &str, what: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", code])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is missing in CI: scripts/install-test-tools installs it"
        );
        eprintln!("skipped: needs {what} (scripts/install-test-tools installs it)");
    }
    ok
}

/// A scripted cluster in a temp dir, with a stand-in `isobench` that records its arguments.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new(cluster: Value) -> Fake {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cluster.json"), cluster.to_string()).unwrap();
        let isobench = dir.path().join("isobench");
        std::fs::write(
            &isobench,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}/merge-args\n",
                dir.path().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&isobench, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fake { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the fan-out with `args` against this cluster.
    fn fanout(&self, args: &[&str]) -> Output {
        let out = Command::new("python3")
            .arg(repo().join("deploy/kubernetes/isobench-fanout"))
            .args(args)
            .args(["--image", "registry.example.invalid/isobench:1"])
            .args(["--out", self.path("out").to_str().unwrap()])
            .args(["--poll", "0.05"])
            .arg("--kubectl")
            .arg(repo().join("harness/tests/fixtures/kubernetes/kubectl"))
            .arg("--isobench")
            .arg(self.path("isobench"))
            .env("FAKE_KUBE_DIR", self.dir.path())
            .output()
            .unwrap();
        eprintln!(
            "fan-out: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn lines(&self, name: &str) -> Vec<Value> {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn merge_args(&self) -> Option<Vec<String>> {
        std::fs::read_to_string(self.path("merge-args"))
            .ok()
            .map(|t| t.lines().map(str::to_owned).collect())
    }

    fn summary(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("out/fanout.json")).unwrap())
            .unwrap()
    }
}

fn nodes(names: &[&str]) -> Value {
    names
        .iter()
        .map(|n| (n.to_string(), json!({"pool": "bench"})))
        .collect()
}

#[test]
fn fanout_runs_one_job_per_node_at_most_two_at_once_and_merges_the_nodes_that_gave_results() {
    if !python_has("import json", "python3") {
        return;
    }
    let fake = Fake::new(json!({
        "nodes": nodes(&["n1", "n2", "n3", "n4", "n5"]),
        "behaviour": {"n3": "hang", "n4": "fail"},
        "polls": 2,
        "existing": [],
    }));
    let out = fake.fanout(&[
        "--nodes",
        "n1,n2,n3,n4,n5",
        "--concurrency",
        "2",
        "--timeout",
        "8",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "some nodes failed: the fleet is incomplete"
    );
    let events = fake.lines("events.jsonl");
    let creates: Vec<&Value> = events.iter().filter(|e| e["event"] == "create").collect();
    assert_eq!(creates.len(), 5, "one Job per node: {events:?}");
    let mut peak = 0;
    for c in &creates {
        let active: Vec<&str> = c["active"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j.as_str().unwrap())
            .collect();
        peak = peak.max(active.len());
        assert!(active.len() <= 2, "more than 2 Jobs at once: {c}");
        // Job names end with their node: no two active Jobs on one node.
        let mut on: Vec<&str> = active
            .iter()
            .map(|j| j.rsplit('-').next().unwrap())
            .collect();
        on.sort();
        on.dedup();
        assert_eq!(on.len(), active.len(), "two Jobs on one node: {c}");
    }
    assert_eq!(peak, 2, "concurrency 2 was never used: {events:?}");
    let summary = fake.summary();
    let state = |n: &str| summary["nodes"][n]["state"].as_str().unwrap().to_owned();
    assert_eq!(state("n3"), "timed_out");
    assert_eq!(state("n4"), "failed");
    assert!(
        summary["nodes"]["n4"]["reason"]
            .as_str()
            .unwrap()
            .contains("BackoffLimitExceeded"),
        "{summary}"
    );
    for n in ["n1", "n2", "n5"] {
        assert_eq!(state(n), "ok", "{summary}");
        let collected: Value = serde_json::from_str(
            &std::fs::read_to_string(fake.path(&format!("out/{n}/results.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            collected["host"], n,
            "results collected from the wrong node"
        );
    }
    let merged = fake.merge_args().expect("isobench merge was called");
    let want: Vec<String> = ["n1", "n2", "n5"]
        .iter()
        .map(|n| {
            fake.path(&format!("out/{n}/results.json"))
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(merged[0], "merge");
    assert_eq!(&merged[1..4], &want[..], "{merged:?}");
    assert_eq!(
        &merged[4..],
        &[
            "--out".to_string(),
            fake.path("out/merged").display().to_string()
        ]
    );
    // Every Job and collector pod created was deleted.
    let deleted: Vec<&Value> = events.iter().filter(|e| e["event"] == "delete").collect();
    assert_eq!(deleted.len(), 5, "{events:?}");
    let calls = fake.lines("calls.jsonl");
    let pods_made = calls
        .iter()
        .filter(|c| c["argv"].as_array().unwrap().iter().any(|a| a == "wait"))
        .count();
    let pods_deleted = calls
        .iter()
        .filter(|c| {
            let a = c["argv"].as_array().unwrap();
            a.iter().any(|x| x == "delete") && a.iter().any(|x| x == "pod")
        })
        .count();
    assert_eq!((pods_made, pods_deleted), (3, 3), "collector pods");
}

#[test]
fn fanout_refuses_a_node_where_an_isobench_job_is_already_active() {
    if !python_has("import json", "python3") {
        return;
    }
    let fake = Fake::new(json!({
        "nodes": nodes(&["a1", "a2"]),
        "behaviour": {},
        "polls": 1,
        "existing": [{"name": "isobench-other-a2", "namespace": "team", "node": "a2"}],
    }));
    let out = fake.fanout(&["--selector", "pool=bench", "--concurrency", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let summary = fake.summary();
    assert_eq!(summary["nodes"]["a2"]["state"], "refused", "{summary}");
    assert!(
        summary["nodes"]["a2"]["reason"]
            .as_str()
            .unwrap()
            .contains("team/isobench-other-a2")
    );
    let creates: Vec<Value> = fake
        .lines("events.jsonl")
        .into_iter()
        .filter(|e| e["event"] == "create")
        .collect();
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0]["node"], "a1");
    assert_eq!(
        fake.merge_args().unwrap()[1],
        fake.path("out/a1/results.json").display().to_string()
    );
}

#[test]
fn fanout_refuses_bad_usage_naming_the_value() {
    if !python_has("import json", "python3") {
        return;
    }
    let fake = Fake::new(json!({"nodes": {}, "behaviour": {}, "polls": 1}));
    let out = fake.fanout(&["--nodes", "n1", "--concurrency", "0"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--concurrency 0"));
    let out = fake.fanout(&["--nodes", "Bad_Node"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bad_Node"));
    assert!(fake.merge_args().is_none(), "merge called without results");
}

#[test]
fn manifests_pass_the_kubernetes_schemas() {
    if !python_has(
        "import kubernetes_validate",
        "python3 with kubernetes-validate",
    ) {
        return;
    }
    // The template as shipped, then a Job and a collector pod as the fan-out made them.
    let fake = Fake::new(json!({
        "nodes": nodes(&["node-1"]), "behaviour": {}, "polls": 1, "existing": [],
    }));
    assert_eq!(fake.fanout(&["--nodes", "node-1"]).status.code(), Some(0));
    let mut files = vec![repo().join("deploy/kubernetes/job.yaml")];
    for entry in std::fs::read_dir(fake.dir.path()).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("isobench-") && (name.ends_with(".yaml") || name.ends_with(".json")) {
            files.push(p);
        }
    }
    assert_eq!(files.len(), 3, "template, Job, collector pod: {files:?}");
    let rendered = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        !rendered.contains("ISOBENCH_"),
        "placeholder left: {rendered}"
    );
    let out = Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict"])
        .args(&files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("passed").count(), 3, "{text}");
}
