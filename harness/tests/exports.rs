//! The exports of issue 18, read back by parsers from the package registries:
//! the OpenMetrics/Prometheus text of `run`, `compare` and `merge` by PyPI's
//! `prometheus_client` (both its Prometheus text parser and its OpenMetrics
//! parser), and the JUnit XML of `compare --junit` by PyPI's `junitparser`
//! (both installed by scripts/install-test-tools). Where python3 or a module is
//! missing outside CI the parser checks skip with a line saying which; in CI
//! (`CI=true`) they fail. `run`'s own files are checked by a short run of the
//! visibility scenario (root only).

#[macro_use]
mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/results");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn isobench(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isobench"))
        .args(args)
        .output()
        .unwrap()
}

/// Merges quick-a (hybrid host) and quick-v2-vm into `dir`/fleet; returns that directory.
fn merge_hybrid_and_v2(dir: &Path) -> PathBuf {
    let fleet = dir.join("fleet");
    let o = isobench(&[
        "merge".as_ref(),
        fixture("quick-a.json").as_os_str(),
        fixture("quick-v2-vm.json").as_os_str(),
        "--out".as_ref(),
        fleet.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    fleet
}

/// Runs `script` (Python) with `args`; None (after saying why) when python3 or
/// `module` is not installed and this is not CI.
fn python(module: &str, script: &str, args: &[&Path]) -> Option<Output> {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = format!(
            "python3 with {module} is not installed (scripts/install-test-tools installs it)"
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
        return None;
    }
    Some(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .output()
            .unwrap(),
    )
}

/// Parses `file` with prometheus_client's Prometheus text parser and its
/// OpenMetrics parser; prints `families samples` from each.
const PROMETHEUS_PARSE: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families as prom
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
text = open(sys.argv[1]).read()
for parse in (prom, om):
    fams = list(parse(text))
    for f in fams:
        assert f.type == "gauge", (f.name, f.type)
    print(len(fams), sum(len(f.samples) for f in fams))
verdicts = [s for f in om(text) for s in f.samples if s.name == "isobench_verdict" and s.value == 1]
print("verdicts", len(verdicts), sorted({s.labels["verdict"] for s in verdicts}))
"#;

/// Asserts that both parsers read `file` whole; returns their output lines.
fn parse_exposition(file: &Path) -> Option<Vec<String>> {
    let o = python("prometheus_client", PROMETHEUS_PARSE, &[file])?;
    assert!(
        o.status.success(),
        "{} does not parse: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines[0], lines[1], "both formats read the same samples");
    Some(lines)
}

#[test]
fn run_exposition_parses_as_prometheus_text_and_openmetrics() {
    let text = std::fs::read_to_string(fixture("quick-a.json")).unwrap();
    let results = isobench::commands::results_from_json(&text).unwrap();
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("isobench.prom");
    std::fs::write(&path, isobench::output::prometheus(&results)).unwrap();
    let exposition = std::fs::read_to_string(&path).unwrap();
    assert!(exposition.ends_with("# EOF\n"));
    assert!(exposition.contains(
        "isobench_aggressor_cpu_share{scenario=\"cpu-share\",run_id=\"20261129T134838Z-24292\",\
         condition=\"isolated\",metric=\"aggressor.cpu_share\",stat=\"mean\"} 0.5008976982316277"
    ));
    let Some(lines) = parse_exposition(&path) else {
        return;
    };
    // Every non-null mean and CI bound of the run, plus 6 verdict states per scenario.
    let figures: usize = results
        .scenarios
        .iter()
        .flat_map(|s| &s.metrics)
        .map(|m| [m.value, m.lower, m.upper].iter().flatten().count())
        .sum();
    let samples: usize = lines[0].split(' ').nth(1).unwrap().parse().unwrap();
    assert_eq!(samples, figures + 6 * results.scenarios.len());
    assert_eq!(lines[2], "verdicts 2 ['NO_INTERFERENCE', 'PROTECTED']");
}

#[test]
fn unavailable_figures_are_absent_from_the_exposition_never_zero() {
    let text = std::fs::read_to_string(fixture("memory-psi-disabled.json")).unwrap();
    let results = isobench::commands::results_from_json(&text).unwrap();
    let nulls: Vec<String> = results.scenarios[0]
        .metrics
        .iter()
        .filter(|m| m.value.is_none())
        .map(|m| format!("metric=\"{}\"", m.name))
        .collect();
    assert!(!nulls.is_empty());
    let exposition = isobench::output::prometheus(&results);
    for m in results.scenarios[0]
        .metrics
        .iter()
        .filter(|m| m.value.is_none())
    {
        let cond = m.condition.map_or("none".into(), |c| c.to_string());
        let needle = format!("condition=\"{cond}\",metric=\"{}\",stat=\"mean\"", m.name);
        assert!(!exposition.contains(&needle), "{needle}");
    }
    assert!(!exposition.contains("NaN"));
}

#[test]
fn merge_and_compare_expositions_parse_and_carry_host_and_outcome() {
    let t = tempfile::tempdir().unwrap();
    let fleet = merge_hybrid_and_v2(t.path());
    let prom = std::fs::read_to_string(fleet.join("fleet.prom")).unwrap();
    assert!(prom.contains("host=\"quick-v2-vm\""));
    assert!(
        prom.contains(
            "isobench_fleet_protected_share{scenario=\"visibility\",class=\"class-2\"} 1"
        )
    );
    if let Some(lines) = parse_exposition(&fleet.join("fleet.prom")) {
        assert!(lines[2].starts_with("verdicts 4 "), "{lines:?}");
    }
    let o = isobench(&[
        "compare".as_ref(),
        fixture("quick-a.json").as_os_str(),
        fixture("quick-loose-quota.json").as_os_str(),
        "--out".as_ref(),
        t.path().join("cmp").as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let cmp = t.path().join("cmp/compare.prom");
    assert!(std::fs::read_to_string(&cmp).unwrap().contains(
        "isobench_compare_exit_code{run_id=\"20261129T135410Z-26443\",baseline_run_id=\"20261129T134838Z-24292\"} 1"
    ));
    parse_exposition(&cmp);
}

#[test]
fn samples_jsonl_has_one_row_per_metric_per_round_with_the_fingerprint() {
    let t = tempfile::tempdir().unwrap();
    let fleet = merge_hybrid_and_v2(t.path());
    let rows: Vec<Value> = std::fs::read_to_string(fleet.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut expected = 0;
    for f in ["quick-a.json", "quick-v2-vm.json"] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(fixture(f)).unwrap()).unwrap();
        for s in v["scenarios"].as_array().unwrap() {
            for m in s["metrics"].as_array().unwrap() {
                expected += m["per_round"].as_array().unwrap().len();
            }
        }
    }
    assert_eq!(rows.len(), expected);
    let v2 = rows.iter().find(|r| r["host"] == "quick-v2-vm").unwrap();
    assert_eq!(v2["labels"]["layout"], "v2");
    assert_eq!(v2["labels"]["kernel"], "6.1.0-57-amd64");
    for r in &rows {
        assert!(
            r["value"].is_number() || r["unavailable"].is_string(),
            "{r}"
        );
    }
}

/// Parses a JUnit file with junitparser; prints `tests failures skipped` and
/// each failing case's name and message.
const JUNIT_PARSE: &str = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
cases = [c for suite in xml for c in suite]
fails = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
skips = [c for c in cases if any(isinstance(r, Skipped) for r in c.result)]
print(len(cases), len(fails), len(skips))
for c in fails:
    print(c.classname, c.name, "|", c.result[0].message)
"#;

#[test]
fn junit_of_an_injected_regression_has_exactly_one_failing_case() {
    let t = tempfile::tempdir().unwrap();
    // The regression: quick-b's isolated aggressor share raised by 0.2 CPUs in
    // every round (its quota leaks), nothing else changed.
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("quick-b.json")).unwrap()).unwrap();
    let metric = v["scenarios"][1]["metrics"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["name"] == "aggressor.cpu_share" && m["condition"] == "isolated")
        .unwrap();
    for key in ["value", "lower", "upper"] {
        metric[key] = (metric[key].as_f64().unwrap() + 0.2).into();
    }
    for r in metric["per_round"].as_array_mut().unwrap() {
        *r = (r.as_f64().unwrap() + 0.2).into();
    }
    let leaky = t.path().join("leaky.json");
    std::fs::write(&leaky, v.to_string()).unwrap();
    let junit = t.path().join("junit.xml");
    let o = isobench(&[
        "compare".as_ref(),
        fixture("quick-a.json").as_os_str(),
        leaky.as_os_str(),
        "--out".as_ref(),
        t.path().join("cmp").as_os_str(),
        "--junit".as_ref(),
        junit.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let compared: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("cmp/compare.json")).unwrap())
            .unwrap();
    let gated = compared["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] != "NOT_GATED")
        .count();
    let Some(o) = python("junitparser", JUNIT_PARSE, &[&junit]) else {
        // Without the parser, at least one <failure> and one case per gated metric.
        assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), gated, "{xml}");
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = out.lines().collect();
    let counts: Vec<usize> = lines[0].split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(counts[0], gated, "one case per gated metric: {out}");
    assert_eq!(counts[1], 1, "one failing case: {out}");
    assert_eq!(lines.len(), 2, "{out}");
    let fail = lines[1];
    assert!(
        fail.starts_with("isobench.cpu-share aggressor.cpu_share (isolated) | FAIL: "),
        "{fail}"
    );
    for part in [
        "baseline 0.50 CPUs",
        "current 0.70 CPUs",
        "(95 % CI)",
        "margin +5.0 pp",
    ] {
        assert!(fail.contains(part), "{part} not in {fail}");
    }
}

#[test]
fn run_writes_its_exposition_and_samples_beside_results_and_to_prometheus() {
    require_root!();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let textfile = t.path().join("textfile.prom");
    let o = isobench(&[
        "run".as_ref(),
        "--suite".as_ref(),
        "quick".as_ref(),
        "--scenario".as_ref(),
        "visibility".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--prometheus".as_ref(),
        textfile.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let beside = std::fs::read_to_string(out.join("isobench.prom")).unwrap();
    assert_eq!(beside, std::fs::read_to_string(&textfile).unwrap());
    assert!(
        beside.contains("isobench_verdict{scenario=\"visibility\""),
        "{beside}"
    );
    parse_exposition(&textfile);
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let rounds: usize = results["scenarios"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["per_round"].as_array().unwrap().len())
        .sum();
    let samples = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    assert_eq!(samples.lines().count(), rounds);
    let row: Value = serde_json::from_str(samples.lines().next().unwrap()).unwrap();
    assert_eq!(row["host"], Value::Null);
    assert_eq!(row["labels"]["kernel"], results["host"]["kernel"]);
}
