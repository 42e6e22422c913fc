//! A user's own commands as neighbours and victims (issue 14): each runs in its
//! sandbox or the arena like a catalogue applet, bounded the same way, and a
//! command that fails makes its condition invalid with the reason. Scenarios
//! are written as suite text and run for real (root only; CI runs them here
//! and in the cgroup v2 VM).

mod common;

use isobench::scenario::{self, isolation};
use isobench::suite::{self, Kind};
use isobench_reports::schema::{Condition, ScenarioResult};

/// The quiet progress of a test.
struct Quiet;
impl scenario::Progress for Quiet {
    fn step_done(&mut self, _: &str, _: &str) {}
    fn round_done(&mut self, _: &ScenarioResult) {}
    fn more_rounds(&mut self, _: &ScenarioResult) -> bool {
        false
    }
}

/// Parses a suite of one isolation scenario, `[scenario]` body `body`, with `rounds` × `duration` s windows.
fn spec(body: &str, rounds: usize, duration: f64) -> isolation::IsolationSpec {
    let text = format!(
        "[defaults]\nrounds = {rounds}\nduration = {duration}\nwarmup = 0.2\n\n[[scenario]]\nname = \"t\"\nkind = \"isolation\"\n{body}"
    );
    let host = suite::discover_host().expect("host facts");
    let s = suite::parse_text(&text, "t.toml", &host).unwrap_or_else(|e| panic!("{e}"));
    let def = s.scenarios.into_iter().next().unwrap();
    let Kind::Isolation(iso) = def.kind else {
        panic!("not an isolation scenario")
    };
    isolation::IsolationSpec {
        name: def.name,
        timing: def.timing,
        def: *iso,
    }
}

/// Runs `spec` in a fresh arena, removes the arena, and checks that no cgroup of it is left.
fn run(test: &str, spec: &isolation::IsolationSpec) -> ScenarioResult {
    let (_host, arena, id) = common::arena(test);
    let result = {
        let ctx = common::context(&arena, 100_000);
        isolation::run(spec, &ctx, &mut Quiet)
    };
    arena.remove().expect("removing the arena");
    common::assert_nothing_left(&id);
    result
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
    let s = spec(
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
    let r = run("cmd-spin", &s);
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let share = metric(&r, "spin.cpu_share", Condition::Isolated);
    assert!(
        (share - 0.5).abs() <= tolerance(),
        "isolated spin got {share:.3} CPUs under docker cpus = 0.5"
    );
    assert!(metric(&r, "spin.cpu_share", Condition::Contended) > 0.8);
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
    let s = spec(
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
    let r = run("cmd-stress-ng", &s);
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

#[test]
fn a_runs_victim_shows_its_slowdown_beside_a_cpu_neighbour() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    let text: String = (0..200_000)
        .map(|i| format!("line {i} {}\n", i * 7919 % 1013))
        .collect();
    std::fs::write(&file, text).unwrap();
    let s = spec(
        &format!(
            r#"
[scenario.victim]
command = ["gzip", "-9", "-c", "{}"]
mode = "runs"
late_us = 1e6
[[scenario.aggressor]]
workload = "cpu-hog"
args = ["--threads", "4"]
limits.docker = {{ cpus = 0.5 }}
"#,
            file.display()
        ),
        3,
        1.0,
    );
    let r = run("cmd-runs", &s);
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
    let lines = spec(
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
    let r = run("cmd-lines", &lines);
    assert!(invalid(&r).is_empty(), "{:?}", invalid(&r));
    let p50 = metric(&r, "victim.latency_p50_us", Condition::Solo);
    assert!((p50 - 250.0).abs() < 1.0, "p50 {p50}");
    assert!(metric(&r, "victim.throughput_ops", Condition::Solo) > 20.0);
    let json = spec(
        r#"
[scenario.victim]
command = ["sh", "-c", "sleep \"$ISOBENCH_DURATION_S\"; echo '{\"latencies_us\": [100, 200, 300, 400], \"ops\": 40}'"]
mode = "reports"
format = "json"
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        3,
        0.3,
    );
    let r = run("cmd-json", &json);
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
    let s = spec(
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
    let r = run("cmd-quitter", &s);
    let why = invalid(&r);
    assert_eq!(why.len(), 2, "contended and isolated: {why:?}");
    assert!(
        why.iter()
            .all(|w| w.contains("quitter process 0: exited with status 3")),
        "{why:?}"
    );
    // A victim whose runs fail, with what it said on stderr.
    let s = spec(
        r#"
[scenario.victim]
command = ["sh", "-c", "echo 'no such input' >&2; exit 2"]
[[scenario.aggressor]]
workload = "cpu-hog"
"#,
        1,
        0.3,
    );
    let r = run("cmd-failing-victim", &s);
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
    let s = spec(
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
    let r = run("cmd-malformed", &s);
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
    let s = spec(
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
    let r = run("cmd-stubborn", &s);
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
