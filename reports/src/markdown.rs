//! The Markdown summary, sized for a CI job summary page (GitHub caps those at
//! 1 MiB per step, and long ones are hard to read): the verdict lines, the host in
//! one line, and one compact metric table per scenario.

use crate::escape::markdown as esc;
use crate::schema::Results;
use crate::units::{Notes, metric_cells};
use crate::verdict::{status_text, verdict_lines};

/// Most metric rows shown per scenario; the rest are counted, not shown.
const MAX_ROWS_PER_SCENARIO: usize = 40;
/// Size past which no further scenario table is added, bytes. With the verdict
/// lines and the last table this keeps summaries well under 64 KiB.
const TABLE_BUDGET_BYTES: usize = 40 * 1024;
/// Longest warning shown, characters; longer ones are cut with `…`.
const MAX_WARNING_CHARS: usize = 300;

/// Renders `results` as GitHub-flavoured Markdown for a CI job summary: a heading
/// with the run id, one bullet per verdict line, the host (kernel, layout, CPUs),
/// then per scenario its status, warnings and a table (metric, condition, value,
/// 95 % CI), values written by each metric's display rule with their unit; the
/// reasons of unavailable values follow the table as notes, each once.
///
/// The size stays bounded: at most 40 metric rows per scenario, and scenario tables
/// stop once the summary passes 40 KiB (the HTML report has everything).
pub fn render_markdown(results: &Results) -> String {
    let mut md = format!(
        "## isobench: run {}, started {}\n\n",
        esc(&results.run_id),
        esc(&results.started_at)
    );
    for line in verdict_lines(results) {
        md.push_str(&format!("- {}\n", esc(&line)));
    }
    for warning in &results.warnings {
        md.push_str(&format!("- warning: {}\n", esc(warning)));
    }
    let host = &results.host;
    md.push_str(&format!(
        "\nHost: kernel {}, cgroup layout {}, {} CPUs ({} allowed); isobench {}\n",
        esc(&host.kernel),
        esc(&host.layout),
        host.cpus,
        host.cpus_allowed,
        esc(&results.isobench_version)
    ));
    if let Some(sweep) = &results.sweep {
        md.push('\n');
        md.push_str(&crate::sweep_text::sweep_markdown(sweep));
    }
    for (shown, scenario) in results.scenarios.iter().enumerate() {
        if md.len() > TABLE_BUDGET_BYTES {
            md.push_str(&format!(
                "\n{} more scenario(s) left out to keep this summary short; see the HTML \
                 report or results.json.\n",
                results.scenarios.len() - shown
            ));
            break;
        }
        md.push_str(&format!(
            "\n### {}\n\nStatus: {}\n",
            esc(&scenario.name),
            esc(&status_text(scenario))
        ));
        for warning in &scenario.warnings {
            md.push_str(&format!("\n> **Warning:** {}\n", esc(&shortened(warning))));
        }
        if let Some(view) = &scenario.cpu_view {
            md.push('\n');
            for line in crate::cpu_view::lines(view) {
                md.push_str(&format!("- {}\n", esc(line.trim_start())));
            }
        }
        md.push_str(&crate::startup_runtimes::markdown(scenario));
        if scenario.metrics.is_empty() {
            continue;
        }
        md.push_str("\n| metric | condition | value | 95 % CI |\n|---|---|--:|--:|\n");
        let mut notes = Notes::default();
        for metric in scenario.metrics.iter().take(MAX_ROWS_PER_SCENARIO) {
            let cells = metric_cells(metric, &mut notes);
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                esc(&metric.name),
                metric.condition.map_or("—", |c| c.as_str()),
                esc(&cells.value),
                esc(&cells.ci),
            ));
        }
        if !notes.is_empty() {
            md.push('\n');
            for line in notes.lines() {
                md.push_str(&format!("- {}\n", esc(&line)));
            }
        }
        let left_out = scenario.metrics.len().saturating_sub(MAX_ROWS_PER_SCENARIO);
        if left_out > 0 {
            md.push_str(&format!(
                "\n{left_out} more metric(s) in the HTML report and results.json.\n"
            ));
        }
    }
    md
}

/// `text` cut to [`MAX_WARNING_CHARS`] characters, with `…` where it was cut.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_WARNING_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
