//! deploy/kubernetes (issue 18 part 4) without a cluster: the manifests against
//! the Kubernetes schemas (PyPI kubernetes-validate, installed by
//! scripts/install-test-tools), and the fan-out script's logic against a
//! stand-in kubectl (tests/fixtures/kubernetes/kubectl) that records its calls
//! and plays back a scripted cluster. Outside CI, tests skip with one line
//! where python3 or the validator is missing; in CI (`CI` set) they fail.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

    /// The fan-out against this cluster: the stand-ins, `--out DIR/out` and a
    /// short poll, then `args` (a later option overrides an earlier one).
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("python3");
        c.arg(repo().join("deploy/kubernetes/isobench-fanout"))
            .args(["--image", "registry.example.invalid/isobench:1"])
            .args(["--out", self.path("out").to_str().unwrap()])
            .args(["--poll", "0.05"])
            .arg("--kubectl")
            .arg(repo().join("harness/tests/fixtures/kubernetes/kubectl"))
            .arg("--isobench")
            .arg(self.path("isobench"))
            .args(args)
            .env("FAKE_KUBE_DIR", self.dir.path());
        c
    }

    /// Runs the fan-out with `args` against this cluster.
    fn fanout(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
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

    /// The argv of every call of the stand-in kubectl.
    fn calls(&self) -> Vec<Vec<String>> {
        self.lines("calls.jsonl")
            .iter()
            .map(|c| {
                c["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
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
    let node_of: std::collections::HashMap<&str, &str> = creates
        .iter()
        .map(|c| (c["job"].as_str().unwrap(), c["node"].as_str().unwrap()))
        .collect();
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
        // No two active Jobs on one node.
        let mut on: Vec<&str> = active.iter().map(|j| node_of[j]).collect();
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

/// Runs the fan-out with `args` on a cluster of `cluster_nodes` and asserts that
/// it stopped with exit status 3 and a message holding each of `says`, before any
/// Job or pod was created and without a traceback or a merge.
fn assert_refused(cluster_nodes: &[&str], args: &[&str], says: &[&str]) -> Fake {
    let fake = Fake::new(json!({
        "nodes": nodes(cluster_nodes), "behaviour": {}, "polls": 1, "existing": [],
    }));
    let out = fake.fanout(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
    for s in says {
        assert!(err.contains(s), "{args:?}: expected {s:?} in: {err}");
    }
    assert!(!err.contains("Traceback"), "{args:?}: {err}");
    let creates: Vec<Vec<String>> = fake
        .calls()
        .into_iter()
        .filter(|a| a.iter().any(|x| x == "create"))
        .collect();
    assert!(creates.is_empty(), "{args:?}: created {creates:?}");
    assert!(fake.merge_args().is_none(), "{args:?}: merge called");
    fake
}

#[test]
fn fanout_refuses_bad_usage_with_exit_status_3_naming_the_value() {
    if !python_has("import json", "python3") {
        return;
    }
    // argparse's own errors (status 2 means "fleet incomplete" here) exit 3 too.
    assert_refused(
        &[],
        &["--nodes", "n1", "--concurrency", "0"],
        &["--concurrency 0: expected a whole number of Jobs from 1 to 10000"],
    );
    assert_refused(
        &[],
        &["--nodes", "n1", "--concurrency", "x"],
        &["--concurrency x: expected a whole number of Jobs from 1 to 10000"],
    );
    assert_refused(
        &[],
        &[],
        &["one of the arguments --nodes --selector is required"],
    );
    assert_refused(
        &[],
        &["--nodes", "n1", "--selector", "pool=bench"],
        &["argument --selector: not allowed with argument --nodes"],
    );
    assert_refused(
        &[],
        &["--nodes", "n1", "--bogus"],
        &["unrecognized arguments: --bogus"],
    );
    assert_refused(
        &[],
        &["--nodes", "Bad_Node"],
        &[
            "--nodes Bad_Node: node 'Bad_Node': not a Kubernetes node name (expected a DNS-1123 subdomain",
        ],
    );
    assert_refused(
        &[],
        &["--nodes", "n1,a..b"],
        &["node 'a..b': not a Kubernetes node name"],
    );
}

#[test]
fn fanout_refuses_what_it_cannot_use_before_any_job_starts() {
    if !python_has("import json", "python3") {
        return;
    }
    assert_refused(
        &["n1"],
        &["--nodes="],
        &["--nodes '': expected one or more comma-separated node names"],
    );
    assert_refused(
        &["n1"],
        &["--nodes", " , "],
        &["--nodes ' , ': expected one or more comma-separated node names"],
    );
    let fake = assert_refused(
        &["n1"],
        &["--nodes", "n1", "--kubectl", "/nonexistent"],
        &[
            "--kubectl /nonexistent: /nonexistent is not an executable file (expected the program's name on PATH or a path to an executable file; or set $KUBECTL)",
        ],
    );
    assert!(fake.calls().is_empty());
    let fake = assert_refused(
        &["n1"],
        &["--nodes", "n1", "--isobench", "/nonexistent"],
        &[
            "--isobench /nonexistent: /nonexistent is not an executable file (expected the program's name on PATH or a path to an executable file; or set $ISOBENCH)",
        ],
    );
    assert!(
        fake.calls().is_empty(),
        "kubectl called before --isobench was checked"
    );
    // --out an existing file: refused before any Job, the file untouched.
    let fake =
        Fake::new(json!({"nodes": nodes(&["n1"]), "behaviour": {}, "polls": 1, "existing": []}));
    let file = fake.path("a-file");
    std::fs::write(&file, "mine\n").unwrap();
    let out = fake.fanout(&["--nodes", "n1", "--out", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "--out {}: is an existing file, not a directory (expected a directory",
            file.display()
        )),
        "{err}"
    );
    assert!(
        fake.calls().is_empty(),
        "kubectl called: {:?}",
        fake.calls()
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
    for v in ["nan", "inf", "-inf", "0", "x"] {
        assert_refused(
            &["n1"],
            &["--nodes", "n1", &format!("--poll={v}")],
            &[&format!(
                "--poll {v}: expected seconds above 0 and at most 3600"
            )],
        );
    }
    let fake = assert_refused(
        &["n1"],
        &["--selector", "pool=none"],
        &[
            "--selector pool=none: selector pool=none matched no node (expected a label selector that matches one or more nodes",
        ],
    );
    assert!(!fake.path("out/fanout.json").exists());
}

#[test]
fn fanout_takes_whole_seconds_from_1_to_7_days_as_the_timeout() {
    if !python_has("import json", "python3") {
        return;
    }
    for v in ["nan", "inf", "1.5", "0", "-5", "604801", "1e3", "x"] {
        assert_refused(
            &["n1"],
            &["--nodes", "n1", "--timeout", v],
            &[&format!(
                "--timeout {v}: expected whole seconds from 1 to 604800 (7 days); it becomes each Job's activeDeadlineSeconds"
            )],
        );
    }
    let fake =
        Fake::new(json!({"nodes": nodes(&["n1"]), "behaviour": {}, "polls": 1, "existing": []}));
    assert_eq!(
        fake.fanout(&["--nodes", "n1", "--timeout", "604800"])
            .status
            .code(),
        Some(0)
    );
    let job = fake.lines("events.jsonl")[0]["job"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest = std::fs::read_to_string(fake.path(&format!("{job}.yaml"))).unwrap();
    assert!(
        manifest.contains("\n  activeDeadlineSeconds: 604800\n"),
        "{manifest}"
    );
}

/// The name the fan-out gives a node's Job (`suffix` "") or collector pod
/// (`suffix` "-collect"): a DNS label of at most 63 characters, the node's name
/// with '.' as '-', cut to fit, then the first 8 hex digits of the sha256 of the
/// full name.
fn expected_name(fanout: &str, node: &str, hash: &str, suffix: &str) -> String {
    let prefix = format!("isobench-{fanout}-");
    let tail = format!("-{hash}{suffix}");
    let room = 63 - prefix.len() - tail.len();
    let stem = node.replace('.', "-");
    let stem = stem[..room.min(stem.len())].trim_end_matches('-');
    let name = format!("{prefix}{stem}{tail}");
    assert!(name.len() <= 63);
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.ends_with('-'),
        "not a DNS label: {name}"
    );
    name
}

/// Runs the fan-out on `names` (with their sha256 prefixes) and checks each
/// node's Job and collector pod: named per node, pinned to the node by its full
/// name, its results collected from it and merged.
fn assert_runs_each_node_by_its_full_name(names: &[(&str, &str)]) {
    let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let fake = Fake::new(json!({
        "nodes": nodes(&list), "behaviour": {}, "polls": 1, "existing": [],
    }));
    let out = fake.fanout(&["--nodes", &list.join(","), "--concurrency", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let summary = fake.summary();
    let fanout = summary["fanout"].as_str().unwrap();
    let creates: Vec<Value> = fake
        .lines("events.jsonl")
        .into_iter()
        .filter(|e| e["event"] == "create")
        .collect();
    assert_eq!(creates.len(), names.len(), "{creates:?}");
    let mut want_merged = vec![];
    for (i, (node, hash)) in names.iter().enumerate() {
        let job = expected_name(fanout, node, hash, "");
        assert_eq!(creates[i]["job"], job.as_str());
        assert_eq!(creates[i]["node"], *node);
        assert_eq!(summary["nodes"][node]["state"], "ok", "{summary}");
        assert_eq!(summary["nodes"][node]["job"], job.as_str());
        let manifest = std::fs::read_to_string(fake.path(&format!("{job}.yaml"))).unwrap();
        assert!(
            manifest.contains(&format!("\n        kubernetes.io/hostname: {node}\n")),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("\n    isobench.example.invalid/node: {node}\n")),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("\"/results/{fanout}/{node}\"]")),
            "{manifest}"
        );
        let pod = expected_name(fanout, node, hash, "-collect");
        let pod: Value = serde_json::from_str(
            &std::fs::read_to_string(fake.path(&format!("{pod}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(pod["spec"]["nodeName"], *node);
        assert_eq!(
            pod["metadata"]["labels"]["isobench.example.invalid/node"],
            *node
        );
        assert_eq!(
            pod["spec"]["volumes"][0]["hostPath"]["path"],
            format!("/var/lib/isobench/{fanout}/{node}")
        );
        let results = fake.path(&format!("out/{node}/results.json"));
        let collected: Value =
            serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
        assert_eq!(
            collected["host"], *node,
            "results collected from the wrong node"
        );
        want_merged.push(results.display().to_string());
    }
    assert_eq!(
        &fake.merge_args().unwrap()[1..=names.len()],
        &want_merged[..]
    );
}

#[test]
fn fanout_takes_node_names_with_dots() {
    if !python_has("import json", "python3") {
        return;
    }
    assert_runs_each_node_by_its_full_name(&[
        ("ip-10-0-1-2.ec2.internal", "c40faa88"),
        ("n1.example.com", "f296f202"),
    ]);
    // The hostname label that pins the Job holds at most 63 characters.
    let long = format!("{}.example.com", "a".repeat(52));
    assert_eq!(long.len(), 64);
    assert_refused(
        &[],
        &["--nodes", &format!("n1,{long}")],
        &[&format!(
            "--nodes n1,{long}: node '{long}': 64 characters: the Job is pinned to the node by its kubernetes.io/hostname label, and a label value holds at most 63 (expected a node name of at most 63 characters)"
        )],
    );
}

#[test]
fn fanout_gives_nodes_with_long_alike_names_a_job_each() {
    if !python_has("import json", "python3") {
        return;
    }
    let (a, b) = (
        "gke-prod-cluster-default-pool-1a2b3c4d-xyz1",
        "gke-prod-cluster-default-pool-1a2b3c4d-xyz2",
    );
    assert_eq!(a[..40], b[..40]);
    assert_runs_each_node_by_its_full_name(&[(a, "a4456b71"), (b, "714dce47")]);
}

/// Starts the fan-out on s1..s3 with the stand-in kubectl slow to answer
/// `create` of `kind`, sends `signal` once it is creating, and returns the
/// fan-out's output with the name it was creating.
fn interrupt_during_create(kind: &str, signal: &str) -> (Fake, Output, String) {
    let fake = Fake::new(json!({
        "nodes": nodes(&["s1", "s2", "s3"]), "behaviour": {}, "polls": 1, "existing": [],
        "slow_create": kind,
    }));
    let child: Child = fake
        .command(&["--nodes", "s1,s2,s3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let marker = fake.path(&format!("creating-{kind}"));
    let t0 = Instant::now();
    while !marker.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no create of a {kind}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let name = std::fs::read_to_string(&marker).unwrap();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    eprintln!(
        "fan-out: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "waited for kubectl create"
    );
    (fake, out, name)
}

fn deletes(fake: &Fake, kind: &str, name: &str) -> usize {
    fake.calls()
        .iter()
        .filter(|a| {
            a.windows(3)
                .any(|w| w[0] == "delete" && w[1] == kind && w[2] == name)
                && a.iter().any(|x| x == "--ignore-not-found")
        })
        .count()
}

#[test]
fn fanout_stopped_while_creating_a_job_deletes_it_and_says_so() {
    if !python_has("import json", "python3") {
        return;
    }
    let (fake, out, job) = interrupt_during_create("job", "INT");
    assert_eq!(out.status.code(), Some(130), "128 + SIGINT");
    assert_eq!(deletes(&fake, "job", &job), 1, "{:?}", fake.calls());
    let events = fake.lines("events.jsonl");
    let created: Vec<&Value> = events.iter().filter(|e| e["event"] == "create").collect();
    assert_eq!(created.len(), 1, "{events:?}");
    assert_eq!(created[0]["job"], job.as_str());
    assert_eq!(events.last().unwrap()["event"], "delete");
    assert_eq!(
        events.last().unwrap()["active"],
        json!([]),
        "a Job left running"
    );
    let summary = fake.summary();
    assert_eq!(summary["interrupted"], "SIGINT");
    assert_eq!(
        summary["nodes"]["s1"],
        json!({"state": "interrupted", "job": job,
               "reason": format!("stopped by SIGINT before the node finished; its Job {job} was deleted")})
    );
    for n in ["s2", "s3"] {
        assert_eq!(
            summary["nodes"][n],
            json!({"state": "interrupted", "reason": "stopped by SIGINT before its Job was created"})
        );
    }
    assert!(
        fake.merge_args().is_none(),
        "merge called after an interrupt"
    );
}

#[test]
fn fanout_stopped_while_creating_a_collector_pod_deletes_it_and_the_job() {
    if !python_has("import json", "python3") {
        return;
    }
    let (fake, out, pod) = interrupt_during_create("pod", "TERM");
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM");
    assert_eq!(deletes(&fake, "pod", &pod), 1, "{:?}", fake.calls());
    let summary = fake.summary();
    let fanout = summary["fanout"].as_str().unwrap();
    assert_eq!(pod, expected_name(fanout, "s1", "e8bc163c", "-collect"));
    let job = expected_name(fanout, "s1", "e8bc163c", "");
    assert_eq!(summary["nodes"]["s1"]["job"], job.as_str());
    assert_eq!(deletes(&fake, "job", &job), 1, "{:?}", fake.calls());
    assert_eq!(summary["interrupted"], "SIGTERM");
    assert_eq!(summary["nodes"]["s1"]["state"], "interrupted");
    assert_eq!(summary["nodes"]["s2"]["state"], "interrupted");
    assert!(fake.merge_args().is_none());
}

#[test]
fn manifests_pass_the_kubernetes_schemas() {
    if !python_has(
        "import kubernetes_validate",
        "python3 with kubernetes-validate",
    ) {
        return;
    }
    // The template as shipped, then a Job and a collector pod as the fan-out made them,
    // for a node named as on EKS.
    const NODE: &str = "ip-10-0-1-2.eu-west-1.compute.internal";
    let fake = Fake::new(json!({
        "nodes": nodes(&[NODE]), "behaviour": {}, "polls": 1, "existing": [],
    }));
    assert_eq!(fake.fanout(&["--nodes", NODE]).status.code(), Some(0));
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
