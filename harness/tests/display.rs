//! One metric reads the same in every output: the terminal table, summary.md,
//! the HTML report, compare.md and the comparison section of the report all
//! write a value and its CI by the metric's one display rule (issue 13).

use isobench::compare::{CompareInput, compare, margins::Margins};
use isobench_reports::schema::{
    Condition, Doctor, HostFingerprint, Metric, Reading, Results, Round, ScenarioResult,
    ScenarioStatus,
};
use isobench_reports::{
    render_comparison_markdown, render_html, render_html_with_comparison, render_markdown,
    verdict_lines,
};

/// Why the synthetic PSI figure is missing.
const NO_PSI: &str = "PSI is disabled on this kernel (boot with psi=1)";

/// A metric of the synthetic run and how every output must write it.
struct Shown {
    name: &'static str,
    unit: &'static str,
    value: f64,
    ci: [f64; 2],
    /// The mean as written.
    text: &'static str,
    /// The CI as written.
    ci_text: &'static str,
}

/// Shorthand for a [`Shown`].
const fn shown(
    name: &'static str,
    unit: &'static str,
    value: f64,
    ci: [f64; 2],
    text: &'static str,
    ci_text: &'static str,
) -> Shown {
    Shown {
        name,
        unit,
        value,
        ci,
        text,
        ci_text,
    }
}

/// One metric of each display rule, all under `isolated`.
#[rustfmt::skip]
const SHOWN: [Shown; 14] = [
    shown("aggressor.cpu_share", "CPUs", 0.5013, [0.4998, 0.5029], "0.50 CPUs", "[0.50, 0.50] CPUs"),
    shown("aggressor.lines_per_s", "lines/s", 170_904_824.0, [165e6, 178e6], "171 M lines/s", "[165, 178] M lines/s"),
    shown("aggressor.cpu_share_error_pp", "pp", 0.21, [0.1, 0.3], "0.2 pp", "[0.1, 0.3] pp"),
    shown("aggressor.throttled_ratio", "share", 0.97, [0.95, 0.99], "97 %", "[95, 99] %"),
    shown("victim.throughput_ops", "ops/s", 5037.0, [5030.0, 5040.0], "5.04 k ops/s", "[5.03, 5.04] k ops/s"),
    shown("victim.latency_p99_us", "us", 3952.6, [3180.0, 5140.0], "3.95 ms", "[3.18, 5.14] ms"),
    shown("victim.retained_throughput", "share", 0.9997, [0.999, 1.0], "100 %", "[100, 100] %"),
    shown("victim.latency_impact_p99", "ratio", 17_491.105, [12_987.0, 23_188.0], "×17492", "[×12988, ×23189]"),
    shown("victim.late_share", "share", 0.0488, [0.035, 0.064], "4.9 %", "[3.5, 6.4] %"),
    shown("victim.major_faults", "count", 1234.0, [1100.0, 1390.0], "1.23 k", "[1.10, 1.39] k"),
    shown("aggressor.oom_kills", "count", 1.0, [1.0, 1.0], "1", "[1, 1]"),
    shown("aggressor.memory_peak_bytes", "bytes", 1_310_720.0, [1_200_000.0, 1_400_000.0], "1.25 MiB", "[1.14, 1.34] MiB"),
    shown("startup.overhead_ratio_p50", "ratio", 0.8444, [0.81, 0.88], "×0.84", "[×0.81, ×0.88]"),
    shown("startup.churn_per_s", "per s", 407.97, [390.0, 420.0], "408/s", "[390, 420]/s"),
];

fn metric(name: &str, unit: &str, value: f64, [lower, upper]: [f64; 2]) -> Metric {
    Metric {
        name: name.into(),
        condition: Some(Condition::Isolated),
        unit: unit.into(),
        value: Some(value),
        lower: Some(lower),
        upper: Some(upper),
        per_round: vec![Some(value); 5],
        reason: None,
    }
}

/// A run of one scenario with every metric of [`SHOWN`] and one unavailable
/// figure, under `isolated`.
fn results() -> Results {
    let mut metrics: Vec<Metric> = SHOWN
        .iter()
        .map(|s| metric(s.name, s.unit, s.value, s.ci))
        .collect();
    metrics.push(Metric {
        value: None,
        lower: None,
        upper: None,
        per_round: vec![None; 5],
        reason: Some(NO_PSI.into()),
        ..metric("victim.psi_memory_full", "share", 0.0, [0.0, 0.0])
    });
    Results {
        schema_version: 1,
        isobench_version: "0.1.0".into(),
        command_line: vec![],
        run_id: "synthetic".into(),
        started_at: "2026-12-01T00:00:00Z".into(),
        host: HostFingerprint {
            kernel: "6.18".into(),
            layout: "v2".into(),
            cpu_model: None,
            cpus: 2,
            cpus_allowed: 2,
            smt: Reading::Value("off".into()),
            governor: Reading::Unavailable("no cpufreq".into()),
            virtualised: true,
            harness_cgroup_limits: Default::default(),
            environment: None,
        },
        doctor: Doctor {
            layout: "v2".into(),
            checks: vec![],
        },
        scenarios: vec![ScenarioResult {
            rounds: (0..5)
                .map(|index| Round {
                    index,
                    order: vec![],
                    conditions: vec![],
                })
                .collect(),
            metrics,
            ..ScenarioResult::started("units", "every display rule", serde_json::Value::Null)
        }],
        warnings: vec![],
        suite: None,
        disturbance: None,
        sweep: None,
    }
}

/// The line of `text` that holds metric `name`'s row (by `prefix` + name).
fn row<'a>(text: &'a str, prefix: &str, name: &str) -> &'a str {
    let start = format!("{prefix}{name}");
    text.lines()
        .find(|l| l.trim_start().starts_with(&start))
        .unwrap_or_else(|| panic!("no row of {name} in:\n{text}"))
}

#[test]
fn every_output_writes_a_metric_and_its_interval_alike() {
    let results = results();
    assert_eq!(results.scenarios[0].status, ScenarioStatus::Complete);
    let terminal = isobench::terminal::table(&results);
    let md = render_markdown(&results);
    let html = render_html(&results);
    for Shown {
        name,
        text: value,
        ci_text: ci,
        ..
    } in SHOWN
    {
        let cells = format!("| {value} | {ci} |");
        assert!(row(&md, "| ", name).ends_with(&cells), "summary.md: {name}");
        let cells = format!("<td class=\"num\">{value}</td><td class=\"num\">{ci}</td>");
        assert!(
            row(&html, "<tr><td><code>", name).contains(&cells),
            "report: {name}"
        );
        let line = row(&terminal, "", name);
        let shown: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(shown[2..], [value, ci], "terminal: {line}");
    }
}

#[test]
fn an_unavailable_value_has_a_marker_and_its_reason_below_the_table_once() {
    let results = results();
    let terminal = isobench::terminal::table(&results);
    let md = render_markdown(&results);
    let html = render_html(&results);
    let name = "victim.psi_memory_full";
    assert!(row(&terminal, "", name).contains("unavailable [1]"));
    assert!(row(&md, "| ", name).ends_with("| unavailable [1] | — |"));
    assert!(row(&html, "<tr><td><code>", name).contains(">unavailable [1]</td>"));
    let note = format!("[1] {NO_PSI}");
    for (output, text) in [
        ("terminal", &terminal),
        ("summary.md", &md),
        ("report", &html),
    ] {
        assert_eq!(text.matches(&note).count(), 1, "{output}:\n{text}");
        assert!(
            !text.contains(&format!("unavailable ({NO_PSI}")),
            "{output}"
        );
    }
}

#[test]
fn the_comparison_and_the_verdict_write_means_as_the_tables_do() {
    let results = results();
    let comparison = compare(&CompareInput {
        baseline: (&results, "a.json"),
        current: (&results, "b.json"),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: false,
    });
    let md = render_comparison_markdown(&comparison);
    let html = render_html_with_comparison(&results, Some(&comparison));
    let gated = [
        "victim.latency_impact_p99",
        "victim.late_share",
        "victim.retained_throughput",
        "aggressor.cpu_share",
        "aggressor.cpu_share_error_pp",
    ];
    for Shown {
        name, text: value, ..
    } in SHOWN.iter().filter(|s| gated.contains(&s.name))
    {
        let label = format!("units/{name} (isolated)");
        let line = md
            .lines()
            .find(|l| l.contains(&label))
            .unwrap_or_else(|| panic!("no row of {name} in:\n{md}"));
        assert!(
            line.contains(&format!("| {value} | {value} |")),
            "compare.md: {line}"
        );
        let line = html
            .lines()
            .find(|l| l.contains(&format!("<code>{label}</code>")))
            .unwrap_or_else(|| panic!("no comparison row of {name}"));
        let cells = format!("<td class=\"num\">{value}</td><td class=\"num\">{value}</td>");
        assert!(line.contains(&cells), "report comparison: {line}");
    }
    let verdict = &verdict_lines(&results)[0];
    assert!(verdict.contains("aggressor got 0.50 CPUs"), "{verdict}");
}
