//! The `isobench` binary as a user meets it: bad input, a short real run,
//! interruption and cleanup.

mod common;

use isobench::cgroup::Layout;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn isobench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isobench"))
}

/// Runs isobench to the end; returns its output and the `-<pid>` suffix of its run id.
fn run(args: &[&str]) -> (Output, String) {
    let child = isobench()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let suffix = format!("-{}", child.id());
    (child.wait_with_output().unwrap(), suffix)
}

/// Writes `suite` to a file in `dir` and runs it with `isobench run --suite`,
/// results in `dir/run`; returns the output, the run id's suffix and that directory.
fn run_suite_file(dir: &Path, suite: &str) -> (Output, String, PathBuf) {
    let file = dir.join("suite.toml");
    std::fs::write(&file, suite).unwrap();
    let out = dir.join("run");
    let (o, run_id) = run(&[
        "run",
        "--suite",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (o, run_id, out)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_refused(args: &[&str], needle: &str) {
    let (o, run_id) = run(args);
    common::assert_nothing_left(&run_id);
    assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: expected {needle:?} in {}",
        stderr(&o)
    );
}

#[test]
fn bad_input_exits_3_naming_the_problem_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = out.to_str().unwrap();
    assert_refused(
        &["run", "--scenario", "cpu-sharez", "--out", o],
        "unknown scenario \"cpu-sharez\"",
    );
    assert_refused(&["run", "--rounds", "0", "--out", o], "--rounds");
    assert_refused(
        &["run", "--duration", "abc", "--out", o],
        "not a number of seconds",
    );
    assert_refused(&["run", "--duration", "-1", "--out", o], "--duration");
    assert_refused(&["run", "--duration", "0", "--out", o], "at least 0.1");
    assert_refused(&["run", "--suite", "nightly", "--out", o], "unknown suite");
    assert_refused(
        &[
            "run",
            "--suite",
            "quick",
            "--arena-memory",
            "1GiB",
            "--out",
            o,
        ],
        "--arena-memory applies to a memory-pressure scenario",
    );
    assert_refused(
        &[
            "run",
            "--scenario",
            "visibility",
            "--aggressor-cpus",
            "1",
            "--out",
            o,
        ],
        "--aggressor-cpus applies to an isolation aggressor with a CPU quota",
    );
    assert_refused(
        &[
            "run",
            "--scenario",
            "visibility",
            "--out",
            "/proc/isobench-out-test",
        ],
        "on procfs",
    );
    assert_refused(
        &[
            "run",
            "--scenario",
            "cpu-share",
            "--scenario",
            "cpu-share",
            "--out",
            o,
        ],
        "given twice",
    );
    assert_refused(&["run", "--rounds", "-1", "--out", o], "--rounds");
    assert!(
        !out.exists(),
        "a refused run must not create its output directory"
    );
}

#[test]
fn bad_memory_input_exits_3_naming_the_field_and_what_is_accepted() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = out.to_str().unwrap();
    assert_refused(
        &["run", "--arena-memory", "100000GiB", "--out", o],
        "at most",
    );
    assert_refused(
        &["run", "--arena-memory", "0", "--out", o],
        "--arena-memory",
    );
    assert_refused(
        &["run", "--arena-memory", "-1GiB", "--out", o],
        "--arena-memory",
    );
    assert_refused(&["run", "--working-set", "0B", "--out", o], "is zero");
    assert_refused(
        &[
            "run",
            "--arena-memory",
            "1GiB",
            "--working-set",
            "2GiB",
            "--out",
            o,
        ],
        "--working-set 2048 MiB is not below the arena's memory limit of 1024 MiB",
    );
    assert_refused(
        &["run", "--aggressor-memory", "memory.hgih=1MiB", "--out", o],
        "unknown memory knob \"memory.hgih\"; accepted: memory.max, memory.high",
    );
    assert_refused(
        &["run", "--aggressor-memory", "memory.max", "--out", o],
        "is not KNOB=SIZE",
    );
    if nix::unistd::Uid::effective().is_root()
        && isobench::cgroup::CgroupHost::discover().is_ok_and(|h| h.layout != Layout::V2)
    {
        assert_refused(
            &[
                "run",
                "--aggressor-memory",
                "memory.high=256MiB",
                "--out",
                o,
            ],
            "memory.high is not supported on",
        );
    }
    assert!(
        !out.exists(),
        "a refused run must not create its output directory"
    );
}

#[test]
fn a_bogus_workload_binary_is_refused_before_anything_is_created() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = isobench()
        .args([
            "run",
            "--rounds",
            "1",
            "--duration",
            "0.2",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("ISOBENCH_WORKLOAD", "/bin/false")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/bin/false ($ISOBENCH_WORKLOAD) is not a working isobench-workload"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn an_output_directory_with_earlier_results_is_not_overwritten() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("results.json"), "earlier").unwrap();
    let (o, run_id) = run(&[
        "run",
        "--rounds",
        "1",
        "--duration",
        "0.2",
        "--out",
        t.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already holds a results.json"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("results.json")).unwrap(),
        "earlier"
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn unwritable_output_directory_exits_3_before_anything_runs() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("file");
    std::fs::write(&file, "").unwrap();
    let (o, run_id) = run(&[
        "run",
        "--rounds",
        "1",
        "--duration",
        "0.2",
        "--out",
        file.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write to output directory"),
        "{}",
        stderr(&o)
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn without_root_or_delegation_exits_3_saying_what_to_do() {
    require_root!();
    use std::os::unix::process::CommandExt;
    let t = tempfile::tempdir().unwrap();
    let out = Path::new("/tmp").join(format!("isobench-nobody-{}", std::process::id()));
    let child = isobench()
        .args([
            "run",
            "--rounds",
            "1",
            "--duration",
            "0.2",
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(t.path())
        .uid(65534)
        .gid(65534)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run_id = format!("-{}", child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run as root, or from a delegated cgroup subtree"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    common::assert_nothing_left(&run_id);
}

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

#[test]
fn short_run_writes_results_report_and_summary_with_the_contract_metrics() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let out: PathBuf = t.path().join("run");
    let (o, run_id) = run(&[
        "run",
        "--scenario",
        "cpu-share",
        "--rounds",
        "2",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("cpu-share: "))
        .unwrap_or_else(|| panic!("no verdict line: {stdout}"));
    let words = [
        "PROTECTED",
        "PARTLY PROTECTED",
        "NOT PROTECTED",
        "NO INTERFERENCE TO REMOVE",
        "INVALID",
    ];
    assert!(
        words
            .iter()
            .any(|w| line.starts_with(&format!("cpu-share: {w} — "))),
        "{line}"
    );
    // Without a terminal, a plain line per scenario and per round instead of a bar.
    let err = stderr(&o);
    for needle in [
        "[cpu-share] scenario 1 of 1 — ",
        "[cpu-share] round 1/2 done (",
        "[cpu-share] round 2/2 done (",
        " elapsed, about ",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let r = results(&out);
    assert_eq!(r["schema_version"], 1);
    let scenario = &r["scenarios"][0];
    let verdict = &scenario["verdict"];
    assert!(verdict["kind"].is_string(), "{verdict}");
    assert!(!verdict["reason"].as_str().unwrap().is_empty());
    assert_eq!(verdict["rounds_used"], 2, "{verdict}");
    assert_eq!(scenario["status"]["state"], "complete");
    assert_eq!(scenario["rounds"].as_array().unwrap().len(), 2);
    let metrics = scenario["metrics"].as_array().unwrap();
    let has = |name: &str, cond: &str| {
        metrics
            .iter()
            .any(|m| m["name"] == name && m["condition"] == cond && m["value"].is_number())
    };
    for (name, cond) in [
        ("aggressor.cpu_share", "isolated"),
        ("aggressor.cpu_share", "contended"),
        ("aggressor.cpu_share_expected", "isolated"),
        ("aggressor.cpu_share_error_pp", "isolated"),
        ("aggressor.throttled_ratio", "isolated"),
        ("victim.throughput_ops", "solo"),
        ("victim.latency_p50_us", "isolated"),
        ("victim.latency_p99_us", "contended"),
        ("victim.latency_p999_us", "solo"),
        ("victim.retained_throughput", "isolated"),
        ("victim.latency_impact_p99", "contended"),
    ] {
        assert!(has(name, cond), "missing {name} ({cond})");
    }
    let expected = metrics
        .iter()
        .find(|m| m["name"] == "aggressor.cpu_share_expected")
        .unwrap();
    assert_eq!(expected["value"], 0.5);
    // Other work on the host is measured in every condition, from its parts.
    for round in scenario["rounds"].as_array().unwrap() {
        for c in round["conditions"].as_array().unwrap() {
            let h = &c["host_cpu"];
            assert!(c["host_other_cpu_share"].is_number(), "{c}");
            assert!(
                h["all_tasks_cpu_share"].is_number()
                    && h["arena_cpu_share"].is_number()
                    && h["harness_cpu_share"].is_number()
                    && h["steal_cpu_share"].is_number()
                    && h["source"].is_string(),
                "{h}"
            );
        }
    }
    assert!(has("host.steal_cpu_share", "solo") && has("host.irq_cpu_share", "isolated"));
    assert_eq!(r["disturbance"]["accepted"], false);
    assert_eq!(r["disturbance"]["limit_cpus"], 0.1);
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("<svg")
    );
    assert!(
        std::fs::read_to_string(out.join("summary.md"))
            .unwrap()
            .contains("| ")
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn accept_disturbed_is_recorded_with_the_disturbed_conditions() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let out: PathBuf = t.path().join("run");
    let (o, run_id) = run(&[
        "run",
        "--scenario",
        "cpu-share",
        "--rounds",
        "1",
        "--duration",
        "0.2",
        "--warmup",
        "0.1",
        "--accept-disturbed",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = results(&out);
    let d = &r["disturbance"];
    assert_eq!(d["accepted"], true, "{d}");
    // Whether this host was quiet is not up to the test: what was recorded must agree with the rounds.
    let beyond: usize = r["scenarios"][0]["rounds"][0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["host_other_cpu_share"].as_f64().unwrap() > 0.1)
        .count();
    assert_eq!(d["disturbed"].as_array().unwrap().len(), beyond, "{d}");
    let noted = r["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with("disturbance accepted (--accept-disturbed)")
    });
    assert_eq!(noted, beyond > 0, "{}", r["warnings"]);
    assert_eq!(
        stderr(&o).contains("note: disturbance accepted"),
        beyond > 0,
        "{}",
        stderr(&o)
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn sigint_keeps_the_rounds_already_measured_and_cleans_up() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("run");
    let child = isobench()
        .args([
            "run",
            "--scenario",
            "cpu-share",
            "--rounds",
            "50",
            "--duration",
            "0.3",
            "--warmup",
            "0.1",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Calibration plus one round of three conditions takes about 1.5 s.
    std::thread::sleep(Duration::from_secs(4));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let run_id = format!("-{}", child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let r = results(&out);
    let scenario = &r["scenarios"][0];
    assert_eq!(
        scenario["status"]["state"], "interrupted",
        "{}",
        scenario["status"]
    );
    assert!(
        !scenario["rounds"].as_array().unwrap().is_empty(),
        "completed rounds are kept"
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn cleanup_removes_what_a_killed_run_left() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let mut child = isobench()
        .args([
            "run",
            "--rounds",
            "50",
            "--duration",
            "1",
            "--out",
            t.path().join("run").to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    child.kill().unwrap(); // SIGKILL: no teardown runs
    child.wait().unwrap();
    let run_id = format!("-{}", child.id());
    let host = isobench::cgroup::CgroupHost::discover().unwrap();
    assert!(
        host.leftovers()
            .iter()
            .any(|p| p.to_string_lossy().ends_with(&run_id)),
        "the killed run left its arena"
    );
    let (o, _) = run(&["cleanup"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("removed"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn doctor_reports_every_check_as_json() {
    require_root!();
    let (o, _) = run(&["doctor", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in [
        "layout",
        "psi (system)",
        "perf software events",
        "namespace net",
        "workload binary",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}

#[test]
fn until_decided_adds_rounds_while_inconclusive_up_to_the_maximum() {
    require_root!();
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/quick-a.json"
    );
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("run");
    let args = [
        "run",
        "--scenario",
        "cpu-share",
        "--rounds",
        "3",
        "--duration",
        "0.2",
        "--warmup",
        "0.1",
        "--until-decided",
        "--baseline",
        base,
        "--max-rounds",
        "5",
        "--out",
        out.to_str().unwrap(),
    ];
    let (o, run_id) = run(&args);
    // What is tested is the rounds added; 0.2 s windows on a loaded host (this
    // binary's tests run beside each other) can leave every round invalid, and
    // then the run says "no answer" with exit 4 after the same rounds.
    assert!(
        matches!(o.status.code(), Some(0 | 4)),
        "{:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    let rounds = results(&out)["scenarios"][0]["rounds"]
        .as_array()
        .unwrap()
        .len();
    assert!((3..=5).contains(&rounds), "{rounds} rounds");
    common::assert_nothing_left(&run_id);
}

#[test]
fn until_decided_needs_a_usable_baseline_and_enough_max_rounds() {
    let t = tempfile::tempdir().unwrap();
    let o = t.path().join("out");
    let o = o.to_str().unwrap();
    assert_refused(&["run", "--until-decided", "--out", o], "--baseline");
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/quick-a.json"
    );
    let args = [
        "run",
        "--until-decided",
        "--baseline",
        base,
        "--rounds",
        "5",
        "--max-rounds",
        "3",
        "--out",
        o,
    ];
    assert_refused(&args, "--max-rounds 3 is below the 5 rounds");
    assert_refused(
        &[
            "run",
            "--until-decided",
            "--baseline",
            "/nonexistent.json",
            "--out",
            o,
        ],
        "--baseline reading /nonexistent.json",
    );
}

#[test]
fn report_is_remade_offline_from_a_results_file() {
    let t = tempfile::tempdir().unwrap();
    let html = t.path().join("again/report.html");
    let results = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/results/quick-a.json"
    );
    let (o, _) = run(&["report", results, "--out", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("Scenario cpu-share")
    );
    assert!(t.path().join("again/summary.md").exists());
    let (o, _) = run(&["report", "/nonexistent/results.json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("reading /nonexistent/results.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn memory_reports_show_timelines_kills_and_unavailable_figures_with_their_reason() {
    let t = tempfile::tempdir().unwrap();
    let fixture = |name: &str| {
        format!(
            "{}/tests/fixtures/results/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let html = t.path().join("hybrid.html");
    let (o, _) = run(&[
        "report",
        &fixture("memory-hybrid.json"),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    for needle in [
        "Memory charged per sandbox",
        "Memory PSI some and full of the victim",
        "OOM kill",
        "isobench-worklo) in aggressor (kmsg)",
        "<code>cycles</code></td><td class=\"unavailable\" colspan=\"5\">unavailable (No such file or directory",
        "memory.high is not supported on hybrid",
    ] {
        assert!(page.contains(needle), "report lacks {needle:?}");
    }
    let html = t.path().join("disabled.html");
    let (o, _) = run(&[
        "report",
        &fixture("memory-psi-disabled.json"),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("unavailable (PSI disabled: reading"),
        "C06: the reason, never 0"
    );
    assert!(page.contains("Chart not drawn: no memory PSI was sampled in round 1"));
    let summary = std::fs::read_to_string(t.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("victim memory stall (PSI full) unavailable"),
        "{summary}"
    );
}

#[test]
fn bad_startup_input_exits_3_naming_the_field() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = out.to_str().unwrap();
    assert_refused(
        &["run", "--namespaces", "pid,time", "--out", o],
        "unknown namespace \"time\": expected a comma-separated list of pid, mnt, uts, ipc, net, cgroup, user",
    );
    assert_refused(
        &["run", "--startup-samples", "0", "--out", o],
        "--startup-samples",
    );
    assert_refused(
        &["run", "--churn-seconds", "-1", "--out", o],
        "--churn-seconds",
    );
    assert!(
        !out.exists(),
        "a refused run must not create its output directory"
    );
}

#[test]
fn suite_check_reports_every_problem_and_show_prints_a_suite_to_start_from() {
    let t = tempfile::tempdir().unwrap();
    let shown = isobench()
        .args(["suite", "show", "default"])
        .output()
        .unwrap();
    assert_eq!(shown.status.code(), Some(0));
    let copy = t.path().join("mine.toml");
    std::fs::write(&copy, &shown.stdout).unwrap();
    let ok = isobench()
        .args(["suite", "check", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(said.contains("ok: suite default, 10 scenarios"), "{said}");
    assert!(said.contains("aggressor: pids.max = 16"), "{said}");

    let bad = t.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[defaults]\nround = 3\n[[scenario]]\nname = \"x\"\nkind = \"isolation\"\n[scenario.victim]\nworkload = \"cpu-unit\"\ncpus = 0.5\n[[scenario.aggressor]]\nworkload = \"cpu-hog\"\n[scenario.aggressor.limits.docker]\ncpus = 0\n",
    )
    .unwrap();
    let o = isobench()
        .args(["suite", "check", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    let path = bad.display().to_string();
    for needle in [
        format!("{path}:2:1: defaults.round: unknown key; did you mean `rounds`?"),
        format!("{path}:7:12: scenario.victim.workload:"),
        format!("{path}:12:8: scenario.aggressor.limits.docker.cpus:"),
    ] {
        assert!(err.contains(&needle), "expected {needle:?} in {err}");
    }
    assert!(err.starts_with("3 problems in the suite file:"), "{err}");
}

#[test]
fn a_users_suite_file_runs_with_limits_in_docker_words_and_records_them() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let (o, run_id, out) = run_suite_file(
        t.path(),
        r#"name = "pod"
[defaults]
rounds = 2
duration = 0.4
warmup = 0.1
[[scenario]]
name = "pod-vs-batch"
kind = "isolation"
[scenario.victim]
workload = "wakeup-latency"
rate = 500
[[scenario.aggressor]]
name = "batch"
workload = "cpu-hog"
args = ["--threads", "1"]
[scenario.aggressor.limits.docker]
cpus = 0.25
[[scenario.aggressor]]
name = "forks"
workload = "fork-storm"
[scenario.aggressor.limits.docker]
pids_limit = 8
"#,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("suite pod ("), "{}", stderr(&o));
    let r = results(&out);
    let scenario = &r["scenarios"][0];
    assert_eq!(scenario["name"], "pod-vs-batch");
    assert_eq!(scenario["status"]["state"], "complete");
    let metric = |name: &str, cond: &str| {
        scenario["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name && m["condition"] == cond)
            .unwrap_or_else(|| panic!("no {name} ({cond})"))
            .clone()
    };
    let batch = metric("batch.cpu_share", "isolated")["value"]
        .as_f64()
        .unwrap();
    assert!(batch <= 0.3, "batch got {batch} CPUs under cpus = 0.25");
    assert_eq!(
        metric("batch.cpu_share_expected", "isolated")["value"],
        0.25
    );
    assert!(metric("forks.forks_per_s", "isolated")["value"].is_number());
    let recorded = &r["suite"]["scenarios"][0]["kind"]["aggressors"][0]["limits"];
    assert_eq!(recorded["vocabulary"], "docker");
    assert_eq!(recorded["words"][0][0], "cpus");
    let files = recorded["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f[0] == "cpu.max" && f[1] == "25000 100000")
            || files
                .iter()
                .any(|f| f[0] == "cpu.cfs_quota_us" && f[1] == "25000"),
        "{files:?}"
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn a_run_in_which_every_verdict_is_invalid_exits_4_and_keeps_its_files() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let (o, run_id, out) = run_suite_file(
        t.path(),
        r#"name = "broken"
[defaults]
rounds = 3
duration = 0.2
warmup = 0.1
[[scenario]]
name = "failing-victim"
kind = "isolation"
[scenario.victim]
command = ["sh", "-c", "exit 2"]
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no scenario gave an answer"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        results(&out)["scenarios"][0]["verdict"]["kind"],
        "invalid",
        "{}",
        stderr(&o)
    );
    common::assert_nothing_left(&run_id);
}

#[test]
fn cleanup_also_looks_in_the_cgroup_mounts_the_harness_does_not_work_in() {
    require_root!();
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    let host = isobench::cgroup::CgroupHost::discover().unwrap();
    let worked_in: Vec<std::path::PathBuf> =
        host.hierarchies.iter().map(|h| h.own_dir.clone()).collect();
    let others: Vec<std::path::PathBuf> = isobench::cgroup::layout::every_mount_own_dir(
        &read("/proc/self/mountinfo"),
        &read("/proc/self/cgroup"),
    )
    .unwrap()
    .into_iter()
    .map(|(_, own)| own)
    .filter(|own| !worked_in.contains(own))
    .collect();
    let Some(other) = others.first() else {
        println!("skipped: every cgroup mount here is one the harness works in (a v2 host)");
        return;
    };
    // A dead run's twin of its arena, as the startup's OCI runtimes leave after a kill -9.
    let dead = other.join("isobench-20200101T000000Z-3999999");
    std::fs::create_dir(&dead).unwrap();
    let (o, _) = run(&["cleanup"]);
    let left = dead.exists();
    if left {
        std::fs::remove_dir(&dead).unwrap();
    }
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!left, "cleanup left {}", dead.display());
}
