use crate::fixture::{self, PSI_REASON};
use isobench_reports::schema::Condition;
use isobench_reports::{render_markdown, verdict_lines};

/// GitHub's limit for one step's job summary is 1 MiB; we promise far less.
const LIMIT_BYTES: usize = 65 * 1024;

#[test]
fn summary_has_verdict_lines_host_and_a_row_per_metric() {
    let results = fixture::results();
    let md = render_markdown(&results);
    for line in verdict_lines(&results) {
        assert!(
            md.contains(&format!("\n- {line}\n")),
            "verdict line missing: {line}"
        );
    }
    assert!(md.contains("kernel 6.8.0-51-generic, cgroup layout v2, 48 CPUs (4 allowed)"));
    let sections: Vec<&str> = md.split("\n### ").skip(1).collect();
    assert_eq!(sections.len(), results.scenarios.len());
    for (scenario, section) in results.scenarios.iter().zip(sections) {
        assert!(section.starts_with(&format!("{}\n", scenario.name)));
        for metric in &scenario.metrics {
            let condition = metric.condition.map_or("—", Condition::as_str);
            let row = format!("\n| {} | {condition} | ", metric.name);
            assert_eq!(section.matches(&row).count(), 1, "one row for {row:?}");
        }
    }
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| metric"))
        .count();
    let metrics: usize = results.scenarios.iter().map(|s| s.metrics.len()).sum();
    assert_eq!(rows, metrics);
}

#[test]
fn null_metric_row_reads_unavailable_with_its_reason_in_a_note() {
    let md = render_markdown(&fixture::results());
    let row = md
        .lines()
        .find(|l| l.starts_with("| victim.cpu_pressure_some_us |"))
        .expect("row of the null metric");
    assert_eq!(
        row,
        "| victim.cpu_pressure_some_us | isolated | unavailable [1] | — |"
    );
    let notes: Vec<&str> = md.lines().filter(|l| l.starts_with("- [")).collect();
    assert_eq!(notes, [format!("- [1] {PSI_REASON}")]);
}

#[test]
fn summary_stays_small_with_200_metrics_per_scenario() {
    let mut results = fixture::results();
    let template = results.scenarios[0].metrics[0].clone();
    for scenario in &mut results.scenarios {
        scenario.metrics = (0..200)
            .map(|i| {
                let mut m = template.clone();
                m.name = format!("victim.some_long_metric_name_number_{i}");
                m
            })
            .collect();
    }
    let one = render_markdown(&results);
    assert!(one.len() < LIMIT_BYTES, "{} bytes", one.len());
    assert!(one.contains("160 more metric(s)"));

    let first = results.scenarios[0].clone();
    results.scenarios = (0..40)
        .map(|i| {
            let mut s = first.clone();
            s.name = format!("scenario-{i}");
            s
        })
        .collect();
    let many = render_markdown(&results);
    assert!(many.len() < LIMIT_BYTES, "{} bytes", many.len());
    assert!(many.contains("more scenario(s) left out"));
    assert!(many.contains("- scenario-39: "), "every verdict line stays");
}

#[test]
fn markdown_escapes_pipes_and_markup_from_results() {
    let mut results = fixture::results();
    results.scenarios[0].warnings = vec!["a | b <script>x</script>\nnext".into()];
    let md = render_markdown(&results);
    assert!(
        md.contains("a \\| b &lt;script&gt;x&lt;/script&gt; next"),
        "{md}"
    );
    assert!(!md.contains("<script>"));
}
