//! `isobench sweep` (issue 17): one scenario at a list of values of one knob,
//! the victim's curve per condition with CIs, the knee named or "no knee"
//! said, the run within 10 % of its printed estimate, and bad input refused
//! naming the flag. The sweeps need root (CI runs them as root); the refusals
//! do not.

mod common;

use isobench::sweep::curve::interval as metric;
use isobench_reports::schema::{Condition, Interval, Results, ScenarioResult};
use isobench_reports::schema_sweep::{Knee, Sweep, SweepCurve};
use std::process::{Command, Output};
use std::time::Instant;

fn isobench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isobench"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("running isobench")
}

/// Runs a sweep into a fresh directory; returns its results and wall seconds.
fn sweep(args: &[&str]) -> (Results, f64, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all = vec!["sweep", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let _turn = common::take_turn();
    let t = Instant::now();
    let o = isobench(&all);
    let wall = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "isobench {all:?} exited {:?}:\n{stderr}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout)
    );
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    (Results::from_json(&text).unwrap(), wall, dir)
}

fn curve(s: &Sweep, c: Condition) -> &SweepCurve {
    s.curves.iter().find(|x| x.condition == c).unwrap()
}

fn step<'r>(r: &'r Results, s: &Sweep, i: usize) -> &'r ScenarioResult {
    r.scenarios
        .iter()
        .find(|x| x.name == s.steps[i].scenario)
        .unwrap()
}

/// No later step's p99 lies wholly below an earlier step's CI.
fn assert_monotone_within_cis(s: &Sweep, c: Condition) {
    let p: Vec<Option<Interval>> = curve(s, c).points.iter().map(|p| p.p99_us).collect();
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            if let (Some(a), Some(b)) = (p[i], p[j]) {
                assert!(
                    b.upper >= a.lower,
                    "{c}: p99 at {} ({b:?}) lies wholly below that at {} ({a:?})",
                    s.steps[j].label,
                    s.steps[i].label
                );
            }
        }
    }
}

/// The knee is where the curve says it is: no earlier step above the margin,
/// the knee's own ratio above it; "no knee" only when no step is.
fn assert_knee_honest(s: &Sweep, c: Condition) {
    let cv = curve(s, c);
    let above = |i: usize| {
        cv.points[i]
            .p99_ratio
            .is_some_and(|r| r.lower > s.knee_margin)
    };
    match &cv.knee {
        Knee::At { step, ratio, .. } => {
            assert!(ratio.lower > s.knee_margin, "{c}: {ratio:?}");
            assert!((1..*step).all(|i| !above(i)), "{c}: an earlier step rose");
        }
        Knee::NoneWithinRange { .. } => {
            assert!((1..s.steps.len()).all(|i| !above(i)), "{c}: a step rose");
        }
        Knee::Undetermined { reason } => assert!(
            cv.points.iter().any(|p| p.valid_rounds < 2),
            "{c}: undetermined ({reason}) with every step valid"
        ),
    }
}

#[test]
fn cpu_hog_intensity_sweep_under_a_half_cpu_quota_draws_curves_within_its_estimate() {
    require_root!();
    let (r, wall, dir) = sweep(&[
        "--scenario",
        "cpu-share",
        "--over",
        "aggressor.intensity",
        "--values",
        "0,25,50,75,100",
        "--rounds",
        "3",
        "--duration",
        "1",
    ]);
    let s = r.sweep.as_ref().expect("results.json has the sweep");
    assert_eq!(s.steps.len(), 5);
    assert_eq!(s.orders.len(), 3);
    for o in &s.orders {
        let mut sorted = o.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec![0, 1, 2, 3, 4],
            "each round runs every step once"
        );
    }
    for c in [Condition::Contended, Condition::Isolated] {
        assert_monotone_within_cis(s, c);
    }
    for c in [Condition::Solo, Condition::Contended, Condition::Isolated] {
        assert_knee_honest(s, c);
        eprintln!("knee {c}: {}", curve(s, c).knee.describe(&s.steps));
    }
    // The quota holds the hog at 0.5 CPU at every intensity (physics: noise
    // on the host can only lower its share), so its curve saturates from 25 %
    // (2 threads × 25 % = 0.5 CPU); without it (contended) nothing caps it.
    let iso = Condition::Isolated;
    for i in 1..5 {
        let a = metric(step(&r, s, i), "aggressor.cpu_share", iso).expect("aggressor share");
        assert!(
            a.value <= 0.5 * 1.1,
            "{}: isolated hog {a:?}",
            s.steps[i].label
        );
    }
    // A hog that got its quota's worth at 100 % (2 threads asking 2 CPUs)
    // must have met it; on a loaded host it may get less and never meet it.
    let top = step(&r, s, 4);
    let hog = metric(top, "aggressor.cpu_share", iso).unwrap();
    let throttled = metric(top, "aggressor.throttled_ratio", iso).expect("throttled ratio");
    if hog.value >= 0.45 {
        assert!(
            throttled.value > 0.0,
            "a hog at its quota is throttled: {throttled:?}"
        );
    }
    assert!(
        metric(top, "aggressor.throttled_ratio", Condition::Contended)
            .is_none_or(|t| t.value == 0.0),
        "no quota, no throttling, without the limits"
    );
    let quiet = r
        .disturbance
        .as_ref()
        .is_some_and(|d| d.disturbed.is_empty());
    if quiet {
        let c = metric(top, "aggressor.cpu_share", Condition::Contended).unwrap();
        assert!(
            c.lower > 0.55,
            "on a quiet host the uncapped hog takes more than the quota: {c:?}"
        );
    }
    // The step without a neighbour: its conditions are alike (a victim alone).
    assert!(step(&r, s, 0).description.contains("no neighbour"));
    // Within 10 % of the printed estimate.
    let e = s.estimate_s;
    eprintln!(
        "estimate {e:.1} s, command took {wall:.1} s, the sweep recorded {:.1} s",
        s.elapsed_s.unwrap()
    );
    assert!(
        (wall - e).abs() <= 0.1 * e,
        "took {wall:.1} s against an estimate of {e:.1} s"
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    let section = &html[html.find("<section id=\"sweep\">").expect("sweep section")..];
    assert!(section.contains("<svg") && section.contains("Victim p99 against aggressor.intensity"));
    let md = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    assert!(md.contains("Knee (isolated): "), "{md}");
}

#[test]
fn cpu_quota_sweep_writes_each_quota_and_the_hog_keeps_under_it() {
    require_root!();
    let (r, _, _dir) = sweep(&[
        "--scenario",
        "cpu-share",
        "--over",
        "aggressor.cpus",
        "--values",
        "0.2,1",
        "--rounds",
        "2",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
    ]);
    let s = r.sweep.as_ref().unwrap();
    assert_eq!(s.unit, "CPUs");
    let low = step(&r, s, 0);
    let quota = &low.spec["scenario"]["aggressors"][0]["limits"]["limits"]["cpu_max"];
    assert_eq!(quota["quota_us"], 20_000, "{quota}");
    let a = metric(low, "aggressor.cpu_share", Condition::Isolated).unwrap();
    assert!(
        a.value <= 0.2 * 1.15,
        "hog under a 0.2-CPU quota took {a:?}"
    );
}

/// The refusal of `args` (exit 3, nothing run): its stderr.
fn refused(args: &[&str]) -> String {
    let mut all = vec!["sweep", "--out", "/nonexistent/never-created"];
    all.extend_from_slice(args);
    let o = isobench(&all);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(3), "{args:?}: {stderr}");
    stderr
}

#[test]
fn bad_sweeps_are_refused_naming_the_flag_and_what_is_accepted() {
    let many: Vec<String> = (0..=50).map(|v| v.to_string()).collect();
    let many = many.join(",");
    let cases: [(&[&str], &[&str]); 8] = [
        (&["--values", "50"], &["--values", "1 value(s)", "2 to 50"]),
        (&["--values", &many], &["--values", "51 value(s)"]),
        (
            &["--values", "50,25"],
            &["--values", "25 % is below 50 %", "lowest to highest"],
        ),
        (&["--values", "25,25,50"], &["--values", "repeats"]),
        (&["--values", "0,150"], &["--values", "\"150\"", "0 to 100"]),
        (
            &["--over", "victim.intensity", "--values", "0,50"],
            &["--over victim.intensity", "no intensity knob"],
        ),
        (
            &["--over", "hog.intensity", "--values", "0,50"],
            &[
                "--over hog.intensity",
                "no aggressor named \"hog\"",
                "aggressor",
            ],
        ),
        (
            &["--over", "aggressor.speed", "--values", "0,50"],
            &["--over", "unknown knob \"speed\""],
        ),
    ];
    for (args, wanted) in cases {
        let mut all = vec!["--scenario", "cpu-share"];
        if !args.contains(&"--over") {
            all.extend(["--over", "aggressor.intensity"]);
        }
        all.extend_from_slice(args);
        let e = refused(&all);
        for w in wanted {
            assert!(e.contains(w), "{args:?}: {e:?} lacks {w:?}");
        }
    }
    let e = refused(&[
        "--scenario",
        "memory-pressure",
        "--over",
        "aggressor.memory",
        "--values",
        "64MiB,128MiB",
    ]);
    assert!(e.contains("isolation scenario"), "{e}");
    let e = refused(&[
        "--scenario",
        "nope",
        "--over",
        "aggressor.cpus",
        "--values",
        "0.1,0.2",
    ]);
    assert!(
        e.contains("--scenario \"nope\"") && e.contains("cpu-share"),
        "{e}"
    );
    // An aggressor without an intensity knob, from a suite file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bursts.toml");
    std::fs::write(
        &file,
        "[[scenario]]\nname = \"b\"\nkind = \"isolation\"\n[scenario.victim]\nworkload = \"cpu-units\"\ncpus = 0.2\n\
         [[scenario.aggressor]]\nworkload = \"cpu-bursts\"\n",
    )
    .unwrap();
    let e = refused(&[
        "--suite",
        file.to_str().unwrap(),
        "--scenario",
        "b",
        "--over",
        "aggressor.intensity",
        "--values",
        "0,50",
    ]);
    assert!(e.contains("cpu-bursts, which has no intensity knob"), "{e}");
}

/// A suite file's isolation scenario with `[scenario.sweep]` holding `sweep`
/// (lines 9 on), beside a cpu-hog aggressor unless `aggressor` is false.
fn with_sweep(sweep: &str, aggressor: bool) -> String {
    let hog = if aggressor {
        "[[scenario.aggressor]]\nworkload = \"cpu-hog\"\n"
    } else {
        ""
    };
    format!(
        "[[scenario]]\nname = \"s\"\nkind = \"isolation\"\n[scenario.victim]\nworkload = \"cpu-units\"\ncpus = 0.2\n{hog}[scenario.sweep]\n{sweep}\n"
    )
}

fn suite_problems(text: &str) -> Vec<String> {
    let host = isobench::suite::HostFacts {
        layout: isobench::cgroup::Layout::Hybrid,
        online_cpus: "0-1".parse().unwrap(),
        block_devices: Vec::new(),
        missing_knobs: Vec::new(),
    };
    match isobench::suite::parse_text(text, "t.toml", &host) {
        Ok(s) => panic!("accepted:\n{text}\nas {s:?}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn bad_suite_sweeps_are_refused_at_their_file_line_and_column() {
    let over = "over = \"aggressor.intensity\"\n";
    let many: Vec<String> = (0..=50).map(|v| v.to_string()).collect();
    let cases = [
        (
            format!("{over}values = [50]"),
            "t.toml:11:10: scenario.sweep.values: 1 value(s): a sweep takes 2 to 50",
        ),
        (
            format!("{over}values = [{}]", many.join(", ")),
            "t.toml:11:10: scenario.sweep.values: 51 value(s)",
        ),
        (
            format!("{over}values = [50, 25]"),
            "t.toml:11:15: scenario.sweep.values: 25 % is below 50 %: expected values from lowest to highest, each once",
        ),
        (
            format!("{over}values = [0, 25, 25]"),
            "t.toml:11:18: scenario.sweep.values: 25 % repeats 25 %",
        ),
        (
            format!("{over}values = [0, 150]"),
            "t.toml:11:14: scenario.sweep.values: \"150\" is not an intensity: expected whole percentages from 0 to 100",
        ),
        (
            "over = \"victim.intensity\"\nvalues = [0, 50]".into(),
            "t.toml:10:8: scenario.sweep.over: \"victim.intensity\": this scenario has a victim, which has no intensity knob",
        ),
        (
            "over = \"aggressor.speed\"\nvalues = [0, 50]".into(),
            "t.toml:10:8: scenario.sweep.over: \"aggressor.speed\": unknown knob \"speed\"",
        ),
        (
            "values = [0, 50]".into(),
            "t.toml:9:1: scenario.sweep.over: missing: expected SANDBOX.KNOB",
        ),
    ];
    for (sweep, wanted) in cases {
        let all = suite_problems(&with_sweep(&sweep, true));
        assert!(
            all.iter().any(|p| p.starts_with(wanted)),
            "{sweep}: {all:#?} lacks {wanted:?}"
        );
    }
    // A knob the scenario lacks: no aggressor to sweep.
    let all = suite_problems(&with_sweep(
        "over = \"aggressor.intensity\"\nvalues = [0, 50]",
        false,
    ));
    assert!(
        all.iter().any(|p| p.starts_with("t.toml:8:8: scenario.sweep.over: \"aggressor.intensity\": this scenario has no aggressor")),
        "{all:#?}"
    );
    // Through the command line: the suite's problem, exit 3.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        with_sweep("over = \"aggressor.intensity\"\nvalues = [50]", true),
    )
    .unwrap();
    let e = refused(&["--suite", file.to_str().unwrap(), "--scenario", "s"]);
    assert!(
        e.contains("s.toml:11:10: scenario.sweep.values: 1 value(s)"),
        "{e}"
    );
}

#[test]
fn a_suite_files_sweep_is_read_and_used_without_flags() {
    let host = isobench::suite::discover_host().unwrap();
    let text = with_sweep(
        "over = \"aggressor.memory\"\nvalues = [\"64MiB\", \"1GiB\"]",
        true,
    );
    let s = isobench::suite::parse_text(&text, "t.toml", &host).unwrap();
    let isobench::suite::Kind::Isolation(def) = &s.scenarios[0].kind else {
        panic!()
    };
    let sweep = def.sweep.as_ref().unwrap();
    assert_eq!(sweep.over, "aggressor.memory");
    assert_eq!(
        sweep.values,
        vec![(64u64 << 20) as f64, (1u64 << 30) as f64]
    );
    // Without a table and without flags, the sweep says what it needs.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        with_sweep("", true).replace("[scenario.sweep]\n", ""),
    )
    .unwrap();
    let e = refused(&["--suite", file.to_str().unwrap(), "--scenario", "s"]);
    assert!(
        e.contains("has no [scenario.sweep]: give both flags"),
        "{e}"
    );
}
