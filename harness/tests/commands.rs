//! A user's own commands as neighbours and victims (issue 14): each runs in its
//! sandbox or the arena like a catalogue applet, bounded the same way, and a
//! command that fails makes its condition invalid with the reason. Scenarios
//! are written as suite text and run for real (root only; CI runs them here
//! and in the cgroup v2 VM).

mod common;

use isobench_reports::schema::{Condition, ScenarioResult};

/// Runs a suite of one isolation scenario, `[scenario]` body `body`, with
/// `rounds` × `duration` s windows (0.2 s warm-up), through the suite checker.
fn run(test: &str, body: &str, rounds: usize, duration: f64) -> ScenarioResult {
    let text = format!(
        "[defaults]\nrounds = {rounds}\nduration = {duration}\nwarmup = 0.2\n\n[[scenario]]\nname = \"t\"\nkind = \"isolation\"\n{body}"
    );
    common::run_suite(&text, test).result
}

fn metric(r: &ScenarioResult, name: &str, c: Condition) -> f64 {
    r.metrics
        .iter()
        .find(|m| m.name == name && m.condition == Some(c))
        .and_then(|m| m.value)
        .unwrap_or_else(|| panic!("no {name} for {c} in {:#?}", r.metrics))
}

/// The reasons of the invalid conditions of `r`.
fn invalid(r: &ScenarioResult) -> Vec<String> {
    r.rounds
        .iter()
        .flat_map(|round| round.conditions.iter())
        .filter_map(|c| c.invalid.clone())
        .collect()
}

/// Processes whose command line holds `token`.
fn processes_with(token: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(token)
                .then(|| format!("{}: {cmd}", e.file_name().to_string_lossy()))
        })
        .collect()
}

fn tolerance() -> f64 {
    std::env::var("ISOBENCH_SHARE_TOLERANCE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.02)
}

#[test]
fn a_spinning_command_under_docker_half_a_cpu_reads_half_a_cpu_isolated() {
    require_root!();
    let r = run(
        "cmd-spin",
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 200
[[scenario.aggressor]]
name = "spin"
command = ["sh", "-c", "while :; do :; done"]
limits.docker = { cpus = 0.5 }
"#,
        3,
        1.0,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let share = metric(&r, "spin.cpu_share", Condition::Isolated);
    assert!(
        (share - 0.5).abs() <= tolerance(),
        "isolated spin got {share:.3} CPUs under docker cpus = 0.5"
    );
    let unconfined = metric(&r, "spin.cpu_share", Condition::Contended);
    assert!(
        unconfined > share + 0.2,
        "unconfined the spinner got {unconfined:.3} CPUs, held {share:.3}"
    );
    let exits: Vec<&String> = r
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .flat_map(|c| &c.neighbours)
        .flat_map(|n| &n.exits)
        .collect();
    assert!(
        !exits.is_empty() && exits.iter().all(|e| e.contains("stopped by SIGTERM")),
        "{exits:?}"
    );
}

#[test]
fn stress_ng_as_a_neighbour_beside_a_built_in_victim() {
    require_root!();
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("stress-ng").is_file());
    if !on_path {
        eprintln!(
            "skipped: stress-ng is not installed (scripts/install-test-tools installs it; CI runs it first)"
        );
        return;
    }
    let r = run(
        "cmd-stress-ng",
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 500
[[scenario.aggressor]]
name = "stress"
command = ["stress-ng", "--cpu", "2", "--quiet", "--timeout", "60s"]
limits.docker = { cpus = 0.5 }
"#,
        3,
        0.5,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let contended = metric(&r, "stress.cpu_share", Condition::Contended);
    let isolated = metric(&r, "stress.cpu_share", Condition::Isolated);
    assert!(
        contended > 1.0,
        "stress-ng --cpu 2 unconfined used {contended:.2} CPUs"
    );
    assert!(
        isolated < 0.5 + 2.0 * tolerance(),
        "stress-ng under 0.5 CPU used {isolated:.2}"
    );
    assert!(
        isobench::verdict::judge(&r).is_some(),
        "no verdict: {:?}",
        r.status
    );
    assert!(processes_with("stress-ng --cpu 2").is_empty());
}

/// Each run compresses one file twice at once, so the victim wants both CPUs:
/// beside two spinning threads unconfined (group scheduling gives each cgroup
/// half the machine) it gets about one CPU, beside the same threads held to
/// half a CPU about one and a half.
#[test]
fn a_runs_victim_shows_its_slowdown_beside_a_cpu_neighbour() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    let text: String = (0..60_000)
        .map(|i| format!("line {i} {}\n", i * 7919 % 1013))
        .collect();
    std::fs::write(&file, text).unwrap();
    let r = run(
        "cmd-runs",
        &format!(
            r#"
[scenario.victim]
command = ["sh", "-c", "gzip -9 -c {f} > /dev/null & gzip -9 -c {f} > /dev/null; wait"]
mode = "runs"
late_us = 1e6
[[scenario.aggressor]]
workload = "cpu-hog"
args = ["--threads", "2"]
limits.docker = {{ cpus = 0.5 }}
"#,
            f = file.display()
        ),
        3,
        1.0,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let solo = metric(&r, "victim.latency_p50_us", Condition::Solo);
    let contended = metric(&r, "victim.latency_p50_us", Condition::Contended);
    let isolated = metric(&r, "victim.latency_p50_us", Condition::Isolated);
    assert!(
        contended > 1.2 * solo && isolated < contended,
        "gzip p50: solo {solo:.0} µs, contended {contended:.0} µs, isolated {isolated:.0} µs"
    );
    let retained = r
        .metrics
        .iter()
        .find(|m| {
            m.name == "victim.retained_throughput" && m.condition == Some(Condition::Contended)
        })
        .unwrap();
    assert!(
        retained.lower.is_some() && retained.upper.is_some(),
        "the slowdown has no CI: {retained:?}"
    );
    assert!(retained.upper.unwrap() < 0.95, "{retained:?}");
}

#[test]
fn a_reports_victim_is_read_line_by_line_and_as_a_json_summary() {
    require_root!();
    let r = run(
        "cmd-lines",
        r#"
[scenario.victim]
command = ["sh", "-c", "while :; do echo 250; sleep 0.01; done"]
mode = "reports"
format = "lines"
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        3,
        0.5,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let p50 = metric(&r, "victim.latency_p50_us", Condition::Solo);
    assert!((p50 - 250.0).abs() < 1.0, "p50 {p50}");
    assert!(metric(&r, "victim.throughput_ops", Condition::Solo) > 20.0);
    let r = run(
        "cmd-json",
        r#"
[scenario.victim]
command = ["sh", "-c", "sleep \"$ISOBENCH_WARMUP_S\"; sleep \"$ISOBENCH_DURATION_S\"; echo '{\"latencies_us\": [100, 200, 300, 400], \"ops\": 40}'"]
mode = "reports"
format = "json"
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        3,
        0.3,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    assert_eq!(
        metric(&r, "victim.latency_p50_us", Condition::Isolated).round(),
        200.0
    );
    let ops = metric(&r, "victim.throughput_ops", Condition::Isolated);
    assert!((ops - 40.0 / 0.3).abs() < 1.0, "{ops}");
}

#[test]
fn a_command_that_fails_makes_its_condition_invalid_with_the_reason() {
    require_root!();
    // A neighbour that exits at once.
    let r = run(
        "cmd-quitter",
        r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 200
[[scenario.aggressor]]
name = "quitter"
command = ["sh", "-c", "exit 3"]
"#,
        1,
        0.3,
    );
    let why = invalid(&r);
    assert_eq!(why.len(), 2, "contended and isolated: {why:?}");
    assert!(
        why.iter()
            .all(|w| w.contains("quitter process 0: exited with status 3")),
        "{why:?}"
    );
    // A victim whose runs fail, with what it said on stderr.
    let r = run(
        "cmd-failing-victim",
        r#"
[scenario.victim]
command = ["sh", "-c", "echo 'no such input' >&2; exit 2"]
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        1,
        0.3,
    );
    let why = invalid(&r);
    assert_eq!(why.len(), 3, "every condition: {why:?}");
    assert!(
        why.iter()
            .all(|w| w.contains("run 1 exited with status 2") && w.contains("no such input")),
        "{why:?}"
    );
    assert!(matches!(
        isobench::verdict::judge(&r).map(|v| v.kind),
        Some(isobench_reports::schema::VerdictKind::Invalid)
    ));
    // A victim that prints a malformed number: its line number and text.
    let r = run(
        "cmd-malformed",
        r#"
[scenario.victim]
command = ["sh", "-c", "echo 120; echo 130; echo twelve; sleep 5"]
mode = "reports"
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        1,
        0.3,
    );
    let why = invalid(&r);
    assert!(
        !why.is_empty()
            && why
                .iter()
                .all(|w| w.contains("line 3 of its output, \"twelve\"")),
        "{why:?}"
    );
}

#[test]
fn a_neighbour_that_forks_daemonises_and_ignores_sigterm_leaves_nothing_behind() {
    require_root!();
    let token = format!("isobench-stubborn-{}", std::process::id());
    let r = run(
        "cmd-stubborn",
        &format!(
            r#"
[scenario.victim]
workload = "wakeup-latency"
rate = 200
[[scenario.aggressor]]
name = "stubborn"
command = ["sh", "-c", "trap '' TERM; setsid sh -c 'trap \"\" TERM; while :; do sleep 0.05; done' {token} & sh -c 'trap \"\" TERM; while :; do :; done' {token} & while :; do sleep 0.05; done", "{token}"]
"#
        ),
        1,
        0.3,
    );
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let exits: Vec<&String> = r
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .flat_map(|c| &c.neighbours)
        .flat_map(|n| &n.exits)
        .collect();
    assert!(
        exits.iter().any(|e| e.contains("ignored SIGTERM")),
        "{exits:?}"
    );
    let left = processes_with(&token);
    assert!(left.is_empty(), "left running: {left:?}");
}
