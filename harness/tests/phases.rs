//! Phased neighbours and the victim's transient tail (issue 17): a neighbour
//! frozen and thawed on its pattern, the victim's latency per slice lined up
//! with it, recovery after it leaves, and a neighbour never left frozen, not
//! even after `kill -9` of the harness. Bad phases are refused at `suite
//! check` with file:line:column. The run tests need root (CI runs them here
//! and, the freeze through `cgroup.freeze`, in the cgroup v2 VM).

mod common;

use isobench::cgroup::{CgroupHost, Layout};
use isobench::suite::{self, HostFacts};
use isobench_reports::schema::{Condition, ScenarioResult};
use std::path::Path;
use std::time::{Duration, Instant};

/// A 2-CPU host of `layout`.
fn host(layout: Layout) -> HostFacts {
    HostFacts {
        layout,
        online_cpus: "0-1".parse().unwrap(),
        block_devices: Vec::new(),
        missing_knobs: Vec::new(),
    }
}

/// A valid scenario whose aggressor's phase is `phase` (the value of the key).
fn with_phase(phase: &str) -> String {
    format!(
        r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "wakeup-latency"
rate = 1000
[[scenario.aggressor]]
workload = "cpu-hog"
phase = {phase}
"#
    )
}

/// The problems of `text`, as `isobench suite check` prints them.
fn problems(text: &str) -> Vec<String> {
    match suite::parse_text(text, "t.toml", &host(Layout::Hybrid)) {
        Ok(s) => panic!("accepted:\n{text}\nas {s:?}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// The one problem of `text`.
fn problem(text: &str) -> String {
    let all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].clone()
}

#[test]
fn bad_phases_are_refused_at_their_place_with_what_is_accepted() {
    // (phase, file:line:column, field, part of the message)
    let cases = [
        (
            r#"{ on_ms = 4, off_ms = 4 }"#,
            "t.toml:9:",
            "scenario.aggressor.phase.on_ms",
            "a period of 8 ms is out of range: expected 10 ms to 60 s",
        ),
        (
            r#"{ period = "5ms", duty = 0.5 }"#,
            "t.toml:9:20",
            "scenario.aggressor.phase.period",
            "a period of 5 ms is out of range: expected 10 ms to 60 s",
        ),
        (
            r#"{ period = "61s", duty = 0.5 }"#,
            "t.toml:9:20",
            "scenario.aggressor.phase.period",
            "61000 ms is out of range",
        ),
        (
            r#"{ period = "400ms", duty = 1.5 }"#,
            "t.toml:9:",
            "scenario.aggressor.phase.duty",
            "1.5 is out of range: expected a duty cycle above 0 and below 1 (0–100 %",
        ),
        (
            r#"{ period = "400ms", duty = "120%" }"#,
            "t.toml:9:",
            "scenario.aggressor.phase.duty",
            "\"120%\" is out of range",
        ),
        (
            r#"{ period = "400", duty = 0.5 }"#,
            "t.toml:9:20",
            "scenario.aggressor.phase.period",
            "expected a number with ms or s, such as \"400ms\"",
        ),
        (
            r#"{ on_ms = 200 }"#,
            "t.toml:9:9",
            "scenario.aggressor.phase.off_ms",
            "missing: on/off needs both on_ms and off_ms",
        ),
        (
            r#"{ on_ms = 200, off_ms = 200, step_at = "1s" }"#,
            "t.toml:9:9",
            "scenario.aggressor.phase",
            "expected one pattern",
        ),
        (
            r#"{ step_at = "1s", then = "maybe" }"#,
            "t.toml:9:",
            "scenario.aggressor.phase.then",
            "\"maybe\" is not a state: expected \"on\"",
        ),
        (
            r#"{ on_ms = 200, of_ms = 200 }"#,
            "t.toml:9:",
            "scenario.aggressor.phase.of_ms",
            "did you mean `off_ms`?",
        ),
    ];
    for (phase, place, field, message) in cases {
        let text = with_phase(phase);
        let all = problems(&text);
        let p = all
            .iter()
            .find(|p| p.contains(&format!(": {field}: ")))
            .unwrap_or_else(|| panic!("{phase}: no problem of {field} in {all:#?}"));
        assert!(p.starts_with(place), "{phase}: {p}");
        assert!(p.contains(&format!(": {field}: ")), "{phase}: {p}");
        assert!(p.contains(message), "{phase}: {p}");
    }
}

#[test]
fn ramps_are_refused_where_nothing_can_pace_them() {
    let ramp = r#"{ ramp = { from = 0, to = 100, over = "1s" } }"#;
    // cpu-bursts has no intensity knob.
    let p = problem(&with_phase(ramp).replace("\"cpu-hog\"", "\"cpu-bursts\""));
    assert!(
        p.starts_with(
            "t.toml:9:9: scenario.aggressor.phase.ramp: cpu-bursts has no intensity knob"
        ),
        "{p}"
    );
    let paced = |phase: &str, args: &str| {
        with_phase(phase).replace(
            "workload = \"cpu-hog\"",
            &format!("workload = \"cache-thrash\"\nargs = [{args}]"),
        )
    };
    suite::parse_text(&paced(ramp, ""), "t.toml", &host(Layout::Hybrid)).unwrap();
    for (phase, args, field, message) in [
        (
            ramp,
            "\"--intensity\", \"50\"",
            "scenario.aggressor.phase.ramp",
            "remove --intensity",
        ),
        (
            r#"{ ramp = { from = 40, to = 40, over = "1s" } }"#,
            "",
            "scenario.aggressor.phase.ramp.to",
            "does not move",
        ),
        (
            r#"{ ramp = { from = 0, to = 100, over = "0s" } }"#,
            "",
            "scenario.aggressor.phase.ramp.over",
            "a ramp over 0 ms is a step",
        ),
        (
            r#"{ ramp = { from = 0, to = 101, over = "1s" } }"#,
            "",
            "scenario.aggressor.phase.ramp.to",
            "101 is out of range: expected 0 to 100",
        ),
        (
            r#"{ ramp = { from = 0, over = "1s" } }"#,
            "",
            "scenario.aggressor.phase.ramp.to",
            "missing: a ramp needs from and to",
        ),
    ] {
        let all = problems(&paced(phase, args));
        assert!(
            all.iter()
                .any(|p| p.contains(&format!(": {field}: ")) && p.contains(message)),
            "{phase} {args}: {all:#?}"
        );
    }
}

#[test]
fn a_ramped_neighbour_paces_itself_and_says_so() {
    require_root!();
    let text = r#"[defaults]
rounds = 1
duration = 1.2
warmup = 0.2

[[scenario]]
name = "t"
kind = "isolation"
[scenario.victim]
workload = "wakeup-latency"
rate = 1000
[[scenario.aggressor]]
workload = "cache-thrash"
args = ["--bytes", "8MiB"]
phase = { ramp = { from = 10, to = 100, over = "1s", start = "0.1s" } }
"#;
    let r = common::run_suite(text, "phase-ramp").result;
    let invalid: Vec<_> = r
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .filter_map(|c| c.invalid.clone())
        .collect();
    assert!(invalid.is_empty(), "{invalid:?}");
    for c in [Condition::Contended, Condition::Isolated] {
        let t = r
            .slice_timelines
            .iter()
            .find(|t| t.condition == c)
            .unwrap_or_else(|| panic!("no {c} timeline"));
        let trace = &t.phases[0];
        assert_eq!(trace.mechanism.as_str(), "pacing");
        assert!(trace.flips.is_empty());
        let ramp = trace.ramp.expect("the ramp recorded");
        assert_eq!((ramp.from_pct, ramp.to_pct), (10, 100));
        // Counted from the window's start as foreseen before the neighbours
        // started: no later than asked (earlier where they were slow to start).
        assert!(
            (ramp.end_ms - ramp.start_ms - 1000.0).abs() < 1.0 && ramp.start_ms <= 101.0,
            "{ramp:?}"
        );
    }
    // No change to recover from: null with the reason, never 0.
    let rec = r
        .metrics
        .iter()
        .find(|m| m.name == "victim.recovery_ms" && m.condition == Some(Condition::Contended))
        .unwrap();
    assert!(rec.value.is_none() && rec.reason.is_some(), "{rec:?}");
}

/// CPU time of process `pid` so far, clock ticks (utime + stime, proc(5)).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    f[0] + f[1]
}

#[test]
fn an_applet_on_a_ramp_works_more_as_its_intensity_rises() {
    let _turn = common::take_turn();
    let bin = isobench::workload::locate().unwrap();
    let start_ns = isobench_workloads::hold::monotonic_ns() + 100_000_000;
    // 5 % for 0.1 s, then to 100 % over 0.6 s, then 100 % to the end.
    let mut child = std::process::Command::new(bin)
        .args([
            "cache-thrash",
            "--bytes",
            "4MiB",
            "--duration",
            "1.3",
            "--ramp",
        ])
        .arg(format!("5:100:{start_ns}:600"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let at = |ms: u64| {
        let due = start_ns - 100_000_000 + ms * 1_000_000;
        let now = isobench_workloads::hold::monotonic_ns();
        std::thread::sleep(Duration::from_nanos(due.saturating_sub(now)));
        cpu_ticks(pid)
    };
    // The ramp's first 0.2 s (5 % → 37 %, 21 % on average), then 0.3 s at 100 % after its end.
    let (t0, t1) = (at(100), at(300));
    let (t2, t3) = (at(700), at(1000));
    assert!(child.wait().unwrap().success());
    let early = (t1 - t0) as f64 / 0.2;
    let late = (t3 - t2) as f64 / 0.3;
    eprintln!("CPU ticks per s: {early:.0} early in the ramp, {late:.0} after it");
    if emulated("the applet's CPU rate along its ramp") {
        return;
    }
    assert!(
        late > 2.0 * early.max(1.0),
        "the applet should work more as its intensity rises: {early:.0} then {late:.0} ticks/s"
    );
}

#[test]
fn slices_are_refused_for_a_victim_that_cannot_slice() {
    let text = r#"[[scenario]]
name = "s"
kind = "isolation"
[scenario.victim]
workload = "tcp-echo"
rate = 1000
slice_ms = 50
[[scenario.aggressor]]
workload = "cpu-hog"
"#;
    let p = problem(text);
    assert!(
        p.starts_with("t.toml:7:12: scenario.victim.slice_ms: tcp-echo does not report"),
        "{p}"
    );
    let p = problem(
        &text
            .replace("workload = \"tcp-echo\"", "workload = \"wakeup-latency\"")
            .replace("slice_ms = 50", "slice_ms = 5"),
    );
    assert!(p.contains("5 is out of range: expected 10 to 100"), "{p}");
}

#[test]
fn good_phases_read_as_their_pattern() {
    use isobench::suite::phase::Phase;
    let phase_of = |p: &str| {
        let s = suite::parse_text(&with_phase(p), "t.toml", &host(Layout::V2)).unwrap();
        let suite::Kind::Isolation(def) = &s.scenarios[0].kind else {
            panic!()
        };
        (def.aggressors[0].phase.unwrap(), def.slice_ms())
    };
    assert_eq!(
        phase_of(r#"{ period = "400ms", duty = "25%" }"#),
        (
            Phase::OnOff {
                on_ms: 100.0,
                off_ms: 300.0
            },
            Some(50)
        )
    );
    assert_eq!(
        phase_of(r#"{ step_at = "1.5s", then = "off" }"#).0,
        Phase::Step {
            at_ms: 1500.0,
            on_after: false
        }
    );
}

fn metric(r: &ScenarioResult, name: &str, c: Condition) -> Option<f64> {
    r.metrics
        .iter()
        .find(|m| m.name == name && m.condition == Some(c))
        .unwrap_or_else(|| panic!("no {name} for {c}"))
        .value
}

/// True, with the reason said, where the CPU is emulated (the v2 VM in CI sets
/// `ISOBENCH_EMULATED_CPU=1`): timing is not representative there, so the
/// relations of times are not judged (FIELD-NOTES: "check behaviour and
/// accounting there, never timing").
fn emulated(what: &str) -> bool {
    let on = std::env::var_os("ISOBENCH_EMULATED_CPU").is_some_and(|v| v == "1");
    if on {
        eprintln!("not judged under an emulated CPU: {what}");
    }
    on
}

/// CPUs of other work on the host above which the victim's tail is not
/// judged against its neighbour's phases (the hog's own part of two CPUs is
/// about one).
const MAX_OTHER_CPUS: f64 = 0.5;

/// Solo p99 of the victim above which its tail is not judged either: 25 of
/// its 200 µs units late, so the host cannot run it on time even alone.
const MAX_SOLO_P99_US: f64 = 5000.0;

/// Runs the isolation scenario of suite `text` as `isobench run` would, with
/// a victim work unit calibrated here to 200 µs of CPU (cpu-units' `cpus`
/// becomes a rate of units of real work), on both CPUs.
fn run_calibrated(text: &str, test: &str) -> ScenarioResult {
    use isobench::scenario::isolation;
    let facts = suite::discover_host().unwrap();
    let s = suite::parse_text(text, "t.toml", &facts).unwrap_or_else(|e| panic!("{e}"));
    let suite::Kind::Isolation(def) = &s.scenarios[0].kind else {
        panic!("not an isolation scenario")
    };
    let spec = isolation::IsolationSpec {
        name: s.scenarios[0].name.clone(),
        timing: s.scenarios[0].timing,
        def: (**def).clone(),
    };
    let _turn = common::take_turn();
    let (iters_per_unit, unit_ns) = isobench_workloads::work::calibrate(Duration::from_micros(200));
    let (_host, arena, id) = common::arena(test);
    let result = {
        let mut ctx = common::context(&arena, unit_ns);
        ctx.calibration.iters_per_unit = iters_per_unit;
        ctx.cpus_allowed = 2;
        isolation::run(&spec, &ctx, &mut common::Quiet)
    };
    arena.remove().unwrap();
    common::assert_nothing_left(&id);
    result
}

/// A victim that needs CPU (units of 200 µs of work, 0.2 CPU) beside a
/// 8-thread CPU hog on and off every 200 ms. (A wake-up latency victim shows
/// the reverse on a virtual machine whose host is loaded: with the hog frozen
/// its vCPUs go idle, and waking an idle vCPU costs milliseconds, while a busy
/// one switches to the victim at once; its slices say so, and a CPU-bound
/// victim does not depend on it.)
#[test]
fn a_cpu_neighbour_on_and_off_every_200_ms_raises_the_victims_tail_only_while_on() {
    require_root!();
    let text = r#"[defaults]
rounds = 3
duration = 1.6
warmup = 0.2

[[scenario]]
name = "t"
kind = "isolation"
[scenario.victim]
workload = "cpu-units"
cpus = 0.4
slice_ms = 50
[[scenario.aggressor]]
workload = "cpu-hog"
args = ["--threads", "8"]
phase = { on_ms = 200, off_ms = 200 }
limits.docker = { cpus = 0.5 }
"#;
    let r = run_calibrated(text, "phase-onoff");
    let invalid: Vec<_> = r
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .filter_map(|c| c.invalid.clone())
        .collect();
    assert!(invalid.is_empty(), "{invalid:?}");
    for t in &r.slice_timelines {
        let p99: Vec<String> = t
            .slices
            .iter()
            .map(|s| s.p99_us.map_or("-".into(), |v| format!("{v:.0}")))
            .collect();
        let on: Vec<String> = t
            .phases
            .iter()
            .flat_map(|p| &p.on_ms)
            .map(|s| format!("{:.0}-{:.0}", s[0], s[1]))
            .collect();
        eprintln!(
            "{} round {}: slice p99 µs {} | on {}",
            t.condition,
            t.round,
            p99.join(" "),
            on.join(" ")
        );
    }
    let on = metric(&r, "victim.slice_p99_on_us", Condition::Contended).unwrap();
    let off = metric(&r, "victim.slice_p99_off_us", Condition::Contended).unwrap();
    eprintln!("contended: median slice p99 on {on:.0} µs, off {off:.0} µs (means over rounds)");
    // Per round, on over off; the median of the rounds, so that one round
    // disturbed by other work on this shared host does not decide.
    let per_round = |name: &str| {
        r.metrics
            .iter()
            .find(|m| m.name == name && m.condition == Some(Condition::Contended))
            .unwrap()
            .per_round
            .clone()
    };
    let mut ratios: Vec<f64> = per_round("victim.slice_p99_on_us")
        .iter()
        .zip(per_round("victim.slice_p99_off_us"))
        .filter_map(|(on, off)| Some(on.as_ref()? / off?))
        .collect();
    ratios.sort_by(f64::total_cmp);
    eprintln!("contended: on / off per round {ratios:.2?}");
    let median = ratios[ratios.len() / 2];
    // Other work on a shared host delays the victim in every phase alike and
    // drowns the hog's part: the relation is judged on a host quiet enough.
    // An emulated CPU (the v2 VM) cannot run the victim on time even alone.
    let other = metric(&r, "host.other_cpu_share", Condition::Contended).unwrap_or(0.0);
    let solo_p99 = metric(&r, "victim.latency_p99_us", Condition::Solo).unwrap_or(f64::INFINITY);
    if emulated("the victim's tail in on- against off-phases") {
    } else if other > MAX_OTHER_CPUS {
        eprintln!(
            "not judged: other work on the host used {other:.2} CPUs in the contended windows (more than {MAX_OTHER_CPUS}), as much as the hog"
        );
    } else if solo_p99 > MAX_SOLO_P99_US {
        eprintln!(
            "not judged: the victim alone had a p99 of {solo_p99:.0} µs (more than {MAX_SOLO_P99_US} µs, 25 of its units): this host cannot run it on time"
        );
    } else {
        // The hog hurts in bursts (a thawed hog's threads and the victim's
        // wake-ups trade places under EEVDF), so one round can miss it: judged
        // on the means over rounds, with the per-round ratios shown.
        assert!(
            on > 1.5 * off,
            "contended: the tail should rise while the hog runs: median slice p99 on {on:.0} µs, \
             off {off:.0} µs (means over rounds); on / off per round {ratios:.2?}, median {median:.2}"
        );
    }
    // Recovery, with its CI over rounds.
    let rec = r
        .metrics
        .iter()
        .find(|m| m.name == "victim.recovery_ms" && m.condition == Some(Condition::Contended))
        .unwrap();
    eprintln!(
        "contended recovery {:?} ms [{:?}, {:?}] per round {:?}",
        rec.value, rec.lower, rec.upper, rec.per_round
    );
    let recovery = rec.value.expect("recovery measured");
    assert!((0.0..=200.0).contains(&recovery), "{recovery}");
    assert!(rec.lower.is_some() && rec.upper.is_some(), "{rec:?}");
    // The limits as predicted: isolated, its quota of 0.5 CPU holds and
    // throttles the hog's two threads in its on-phases; contended, nothing
    // throttles it. (A thawed hog spends the whole quota of each 100 ms
    // period an on-phase touches, and an unaligned 200 ms phase touches
    // three: it gets more than 0.5 × its duty cycle, never more than the quota.)
    let contended = metric(&r, "aggressor.cpu_share", Condition::Contended).unwrap();
    let isolated = metric(&r, "aggressor.cpu_share", Condition::Isolated).unwrap();
    let throttled = metric(&r, "aggressor.throttled_ratio", Condition::Isolated).unwrap();
    eprintln!(
        "hog share: contended {contended:.3}, isolated {isolated:.3} (throttled in {:.0} % of periods)",
        throttled * 100.0
    );
    assert!(
        (0.05..=0.55).contains(&isolated),
        "isolated hog under cpus = 0.5, frozen half the time: {isolated:.3} CPUs"
    );
    assert!(
        throttled > 0.1,
        "isolated hog throttled in {throttled:.3} of periods"
    );
    let contended_throttled: u64 = r
        .rounds
        .iter()
        .flat_map(|round| &round.conditions)
        .filter(|c| c.condition == Condition::Contended)
        .flat_map(|c| &c.aggressors)
        .filter_map(|a| a.nr_throttled)
        .sum();
    assert_eq!(contended_throttled, 0, "no quota contended");
    let iso = (
        metric(&r, "victim.slice_p99_on_us", Condition::Isolated),
        metric(&r, "victim.slice_p99_off_us", Condition::Isolated),
    );
    eprintln!("isolated: median slice p99 on/off {iso:?} µs");
    // One round's timeline per condition, with the phases that shade it.
    assert_eq!(r.slice_timelines.len(), 3);
    let t = r
        .slice_timelines
        .iter()
        .find(|t| t.condition == Condition::Contended)
        .unwrap();
    assert_eq!(t.phases.len(), 1);
    let mechanism = t.phases[0].mechanism;
    let expected = match CgroupHost::discover().unwrap().layout {
        Layout::V2 => "cgroup.freeze",
        _ => "freezer.state",
    };
    assert_eq!(mechanism.as_str(), expected);
    assert!(t.phases[0].flips.len() >= 6, "{:?}", t.phases[0].flips);
    assert!(t.slices.len() >= 30, "{}", t.slices.len());
}

/// Cgroups named for run `pid` directly or deeper beneath the harness's own,
/// in every hierarchy, with the frozen ones.
fn cgroups_of(pid: u32) -> (Vec<String>, Vec<String>) {
    fn walk(dir: &Path, all: &mut Vec<String>, frozen: &mut Vec<String>) {
        for f in ["freezer.state", "cgroup.freeze"] {
            if let Ok(s) = std::fs::read_to_string(dir.join(f))
                && matches!(s.trim(), "FROZEN" | "FREEZING" | "1")
            {
                frozen.push(dir.display().to_string());
            }
        }
        all.push(dir.display().to_string());
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&e.path(), all, frozen);
            }
        }
    }
    let host = CgroupHost::discover().unwrap();
    let (mut all, mut frozen) = (Vec::new(), Vec::new());
    for dir in host.leftovers() {
        if dir.to_string_lossy().ends_with(&format!("-{pid}")) {
            walk(&dir, &mut all, &mut frozen);
        }
    }
    (all, frozen)
}

/// The `isobench` binary: cargo's, or, where the test executable was copied
/// elsewhere (the v2 VM's /work/tests/), the one in the directory above it.
fn isobench_bin() -> std::path::PathBuf {
    let built = std::path::PathBuf::from(env!("CARGO_BIN_EXE_isobench"));
    if built.exists() {
        return built;
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("isobench"))
        .filter(|p| p.exists())
        .unwrap_or(built)
}

/// True while process `pid` exists and is not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| r.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// True, with the reason said, on cgroup v2: there `isobench run` needs a
/// cgroup of its own and refuses the one it would share with this test
/// process (the no-internal-processes rule); the v2 freeze itself is run by
/// the on/off test and its thaw on teardown by the unit tests.
fn skip_on_v2() -> bool {
    let v2 = CgroupHost::discover().unwrap().layout == Layout::V2;
    if v2 {
        eprintln!(
            "skipped on cgroup v2: `isobench run` as a child would share this test's cgroup, which it refuses"
        );
    }
    v2
}

/// Starts `isobench run` of a scenario whose neighbour is frozen through its
/// whole window, and returns once the neighbour is frozen: the child, and the
/// cgroups of the run then (all, frozen).
fn frozen_run(dir: &Path) -> (std::process::Child, Vec<String>) {
    let suite_file = dir.join("phase.toml");
    // The neighbour is frozen from the start until 30 s in: the whole window
    // (4 s, so that a solo condition run first does not keep the test waiting).
    std::fs::write(
        &suite_file,
        r#"[defaults]
rounds = 1
duration = 4
warmup = 0.1
[[scenario]]
name = "frozen"
kind = "isolation"
[scenario.victim]
workload = "wakeup-latency"
rate = 200
[[scenario.aggressor]]
workload = "cpu-hog"
args = ["--threads", "1"]
phase = { step_at = "30s" }
"#,
    )
    .unwrap();
    let mut child = std::process::Command::new(isobench_bin())
        .args(["run", "--suite"])
        .arg(&suite_file)
        .arg("--out")
        .arg(dir.join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Solo may come first: wait for the frozen neighbour (at most 60 s).
    let start = Instant::now();
    let (mut all, mut frozen) = cgroups_of(pid);
    while frozen.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no frozen neighbour appeared; cgroups of the run: {all:?}"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("isobench run ended before its neighbour froze: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
        (all, frozen) = cgroups_of(pid);
    }
    (child, all)
}

#[test]
fn sigint_mid_phase_thaws_the_neighbour_and_removes_everything() {
    require_root!();
    if skip_on_v2() {
        return;
    }
    let _turn = common::take_turn();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = frozen_run(dir.path());
    let pid = child.id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "isobench run did not stop within 30 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (left, frozen) = cgroups_of(pid);
    assert!(
        frozen.is_empty() && left.is_empty(),
        "left: {left:?}, frozen: {frozen:?}"
    );
}

#[test]
fn a_harness_killed_mid_phase_leaves_nothing_frozen_after_cleanup() {
    require_root!();
    if skip_on_v2() {
        return;
    }
    let _turn = common::take_turn();
    let dir = tempfile::tempdir().unwrap();
    let bin = isobench_bin();
    let (mut child, all) = frozen_run(dir.path());
    let pid = child.id();
    // The processes of the run's cgroups, to find none of them alive after cleanup.
    let procs: Vec<i32> = all
        .iter()
        .flat_map(|d| std::fs::read_to_string(Path::new(d).join("cgroup.procs")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    assert!(!procs.is_empty(), "the frozen neighbour has processes");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    let (_, still) = cgroups_of(pid);
    assert!(!still.is_empty(), "kill -9 leaves the neighbour frozen");
    let out = std::process::Command::new(&bin)
        .arg("cleanup")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("thawed"), "{said}");
    let (left, frozen) = cgroups_of(pid);
    assert!(
        frozen.is_empty() && left.is_empty(),
        "left: {left:?}, frozen: {frozen:?}"
    );
    let start = Instant::now();
    while procs.iter().any(|&p| alive(p)) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let living: Vec<_> = procs.iter().filter(|&&p| alive(p)).collect();
    assert!(living.is_empty(), "still running after cleanup: {living:?}");
}
