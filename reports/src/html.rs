//! The HTML report: one self-contained page per run.
//!
//! No network references (charts are inline SVG, styles inline), no JavaScript,
//! and a print stylesheet. Every text taken from the results is escaped.

use crate::charts::{self, Chart, NotDrawn};
use crate::escape::html as esc;
use crate::format;
use crate::metric_names::{AGGRESSOR_CPU_SHARE, GROUP_PREFIX};
use crate::palette;
use crate::schema::{
    CheckStatus, Condition, Doctor, Environment, HostFingerprint, Reading, Results, ScenarioResult,
    ScenarioStatus, VerdictKind,
};
use crate::units::{Notes, metric_cells};
use crate::verdict::{status_text, verdict_lines};

/// Page styles; the condition colours are appended from [`palette`].
pub(crate) const STYLE: &str = r#"
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin: 2.2rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.meta { color: #555; margin: .2rem 0 0; }
ol.verdict { list-style: none; padding: 0; margin: 1rem 0; }
ol.verdict li { border-left: 6px solid #56B4E9; background: #f3f8fb; padding: .45rem .8rem; margin: .3rem 0; }
ol.verdict li.failed, ol.verdict li.interrupted { border-color: #D55E00; background: #fdf1ea; }
ol.verdict a { color: inherit; text-decoration: none; }
.badge { display: inline-block; min-width: 11em; text-align: center; font-size: .8rem; font-weight: 700; letter-spacing: .03em; color: #fff; border-radius: 3px; padding: .1rem .45rem; margin-right: .5rem; }
.badge.protected { background: #007a59; } ol.verdict li.protected { border-color: #009E73; }
.badge.partly-protected { background: #9a6a00; } ol.verdict li.partly-protected { border-color: #E69F00; }
.badge.not-protected { background: #b34e00; } ol.verdict li.not-protected { border-color: #D55E00; }
.badge.no-interference { background: #2b7aa6; } ol.verdict li.no-interference { border-color: #56B4E9; }
.badge.invalid, .badge.skipped { background: #6b6b6b; } ol.verdict li.invalid, ol.verdict li.skipped { border-color: #999999; }
.badge.measured { background: #0072B2; } ol.verdict li.measured { border-color: #0072B2; }
.status.failed, .status.interrupted { color: #a33f00; font-weight: 600; }
ul.warnings { padding-left: 1.2rem; }
ul.warnings li { color: #7a4a00; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #444; margin-top: .2rem; }
.not-drawn { color: #555; font-style: italic; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
caption { text-align: left; color: #555; font-size: .85rem; padding-bottom: .2rem; }
th, td { border-bottom: 1px solid #e2e2e2; padding: .25rem .7rem .25rem 0; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #bbb; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.nowrap { white-space: nowrap; }
.unavailable { color: #8a4b00; font-style: italic; }
table.metrics td { white-space: nowrap; }
ul.notes { list-style: none; padding: 0; margin: -.6rem 0 1rem; font-size: .85rem; color: #8a4b00; }
td.pass, .check-ok { color: #00704f; }
td.fail, td.outcome-fail { color: #b23a00; font-weight: bold; }
td.outcome-pass, td.outcome-improved { color: #00704f; }
td.outcome-inconclusive { color: #8a5a00; }
.check-unavailable { color: #8a4b00; }
.check-error { color: #b00020; font-weight: 600; }
.swatch { display: inline-block; width: .75em; height: .75em; border-radius: 2px; margin-right: .35em; background: var(--c); vertical-align: -.05em; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre { background: #f5f5f5; padding: .5rem .7rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: .3rem 0; }
@media print {
  main { max-width: none; padding: 0; }
  section.scenario { break-before: page; }
  h2, h3 { break-after: avoid; }
  figure, tr, ol.verdict li { break-inside: avoid; }
  ol.verdict li, .swatch, .badge { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// What the latency CDF shows and which way is good.
const CDF_CAPTION: &str = "Victim latency by percentile, one line per condition, both axes \
     logarithmic. Lower is better; an isolated line close to solo means the sandbox \
     removed the interference. Unit: latency, in µs, ms or s as labelled.";

/// What the CPU share chart shows and which way is good.
const CPU_SHARE_CAPTION: &str = "Aggressor CPU share per condition: bars are measured \
     (whiskers: 95 % CI over rounds), the black mark is the share its limits allow. \
     Closer to the black mark is better; above it means the limit leaks. Unit: CPUs.";

/// What the per-cgroup share chart shows and which way is good.
const CGROUP_SHARES_CAPTION: &str = "CPU share of each sandbox and [group] in the isolated \
     condition: bars are measured (whiskers: 95 % CI over rounds), the black mark is the share \
     expected through the groups' weights, quotas and cpusets (none where a CPU demand is not \
     known ahead). Closer to the black mark is better. Unit: CPUs.";

/// What the throughput chart shows and which way is good.
const THROUGHPUT_CAPTION: &str = "Victim throughput per condition: bars are the mean over rounds \
     (whiskers: 95 % CI). Higher is better; an isolated bar as tall as solo means the sandbox kept the \
     victim's work rate. Unit: work units per second.";

/// Renders `results` as one self-contained HTML5 page (UTF-8): verdict strip, one
/// section per scenario (`<section id="scenario-NAME">` with charts, status,
/// warnings and metric table) and the host panel.
///
/// The page loads nothing: charts are inline SVG, styles inline, no script. Metric
/// values are scaled for display only (µs → ms etc.); a null metric reads
/// `unavailable [n]`, and note n below its table gives the reason.
pub fn render_html(results: &Results) -> String {
    render_html_with_comparison(results, None)
}

/// [`render_html`], with a comparison section (verdict, forest plot of the gated
/// ratio CIs, table) after the verdicts when `comparison` is given.
pub fn render_html_with_comparison(
    results: &Results,
    comparison: Option<&crate::comparison::Comparison>,
) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!(
        "isobench report: run {} started {}",
        results.run_id, results.started_at
    );
    page.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n<main>\n",
        esc(&title),
        condition_styles()
    ));
    page.push_str(&format!(
        "<header>\n<h1>isobench report</h1>\n<p class=\"meta\">run <code>{}</code>, \
         started <time datetime=\"{started}\">{started}</time> · {} scenario(s) · \
         kernel <code>{}</code></p>\n</header>\n",
        esc(&results.run_id),
        results.scenarios.len(),
        esc(&results.host.kernel),
        started = esc(&results.started_at),
    ));
    page.push_str(&verdict_strip(results));
    page.push_str(&run_warnings(results));
    if let Some(c) = comparison {
        page.push_str(&crate::compared::section(c));
    }
    if let Some(sweep) = &results.sweep {
        page.push_str(&crate::sweep_html::section(sweep, figure));
    }
    for scenario in &results.scenarios {
        page.push_str(&scenario_section(scenario));
    }
    page.push_str(&host_panel(results));
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// CSS classes `cond-<condition>` that set `--c` to the condition's colour.
fn condition_styles() -> String {
    Condition::ALL
        .iter()
        .map(|&c| format!(".cond-{} {{ --c: {}; }}\n", c, palette::css(c)))
        .collect()
}

/// Run-wide warnings, if any, as a list under the verdicts.
fn run_warnings(results: &Results) -> String {
    if results.warnings.is_empty() {
        return String::new();
    }
    let items: String = results
        .warnings
        .iter()
        .map(|w| format!("<li>{}</li>\n", esc(w)))
        .collect();
    format!("<h3>Run warnings</h3>\n<ul class=\"warnings\">\n{items}</ul>\n")
}

/// The verdict lines, one linked list item per scenario.
fn verdict_strip(results: &Results) -> String {
    if results.scenarios.is_empty() {
        return "<p>No scenario has started yet.</p>\n".to_owned();
    }
    let items: String = results
        .scenarios
        .iter()
        .zip(verdict_lines(results))
        .map(|(scenario, line)| {
            let (class, word) = match (&scenario.verdict, &scenario.status) {
                (Some(v), _) => (badge_class(v.kind), v.kind.words().to_uppercase()),
                (None, ScenarioStatus::Skipped(_)) => ("skipped", "SKIPPED".to_owned()),
                (None, _) => ("invalid", "NO VERDICT".to_owned()),
            };
            let text = line
                .strip_prefix(&format!("{}: ", scenario.name))
                .unwrap_or(&line);
            let text = text.strip_prefix(&format!("{word} — ")).unwrap_or(text);
            format!(
                "<li class=\"{class} {}\"><a href=\"#{}\"><span class=\"badge {class}\">{word}</span>\
                 <strong>{}</strong>: {}</a></li>\n",
                status_class(&scenario.status),
                anchor(&scenario.name),
                esc(&scenario.name),
                esc(text)
            )
        })
        .collect();
    format!("<h2>Verdict</h2>\n<ol class=\"verdict\">\n{items}</ol>\n")
}

/// The CSS class of a verdict's badge and strip item.
pub(crate) fn badge_class(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Protected => "protected",
        VerdictKind::PartlyProtected => "partly-protected",
        VerdictKind::NotProtected => "not-protected",
        VerdictKind::NoInterference => "no-interference",
        VerdictKind::Invalid => "invalid",
        VerdictKind::Measured => "measured",
    }
}

/// One scenario: description, status, warnings, charts, metrics and spec.
fn scenario_section(scenario: &ScenarioResult) -> String {
    let mut section = format!(
        "<section class=\"scenario\" id=\"{}\">\n<h2>Scenario {}</h2>\n<p>{}</p>\n\
         <p>Status: <span class=\"status {}\">{}</span></p>\n",
        anchor(&scenario.name),
        esc(&scenario.name),
        esc(&scenario.description),
        status_class(&scenario.status),
        esc(&status_text(scenario)),
    );
    if !scenario.warnings.is_empty() {
        let items: String = scenario
            .warnings
            .iter()
            .map(|w| format!("<li>{}</li>\n", esc(w)))
            .collect();
        section.push_str(&format!(
            "<h3>Warnings</h3>\n<ul class=\"warnings\">\n{items}</ul>\n"
        ));
    }
    let skipped =
        matches!(scenario.status, ScenarioStatus::Skipped(_)) && scenario.rounds.is_empty();
    if skipped {
        // Nothing ran: no "chart not drawn" lines, the status says why.
        section.push_str(&metrics_table(scenario));
    } else if scenario.checks.is_empty() {
        section.push_str("<div class=\"charts\">\n");
        if scenario.startup.is_none() {
            section.push_str(&figure(charts::latency_cdf(scenario), CDF_CAPTION));
        }
        if scenario
            .metrics
            .iter()
            .any(|m| m.name == AGGRESSOR_CPU_SHARE)
        {
            section.push_str(&figure(charts::cpu_share(scenario), CPU_SHARE_CAPTION));
        }
        if scenario
            .metrics
            .iter()
            .any(|m| m.name.starts_with(GROUP_PREFIX))
        {
            section.push_str(&figure(
                charts::cgroup_shares(scenario),
                CGROUP_SHARES_CAPTION,
            ));
        }
        if scenario.startup.is_none() && !scenario.latency_cdf.is_empty() {
            section.push_str(&figure(charts::throughput(scenario), THROUGHPUT_CAPTION));
        }
        section.push_str("</div>\n");
        section.push_str(&crate::slices_html::section(scenario, figure));
        section.push_str(&crate::memory_html::section(scenario, figure));
        section.push_str(&pids_table(scenario));
        section.push_str(&crate::startup_html::section(scenario, figure));
        section.push_str(&metrics_table(scenario));
    } else {
        section.push_str(&checks_table(scenario));
        if let Some(view) = &scenario.cpu_view {
            section.push_str(&crate::cpu_view::html(view));
        }
    }
    section.push_str(&format!(
        "<h3>Spec, as run</h3>\n<pre>{}</pre>\n</section>\n",
        esc(&scenario.spec.to_string())
    ));
    section
}

/// Process counts of the last round's sandboxes (case C17): peak, refused
/// forks and whose `pids.max` refused them; nothing where no sandbox has them.
fn pids_table(scenario: &ScenarioResult) -> String {
    let Some(round) = scenario
        .rounds
        .iter()
        .rev()
        .find(|r| r.conditions.iter().any(|c| !c.pids.is_empty()))
    else {
        return String::new();
    };
    let mut runs: Vec<_> = round.conditions.iter().collect();
    runs.sort_by_key(|r| r.condition);
    let mut rows = String::new();
    for run in runs {
        for p in &run.pids {
            let peak = match (p.peak, p.sampled_peak) {
                (Some(k), _) => format!("{k} (pids.peak)"),
                (None, Some(s)) => format!("{s} (sampled every 10 ms)"),
                (None, None) => "unavailable".into(),
            };
            let refused = match p.forks_refused {
                None => "unavailable".to_string(),
                Some(0) => "none".into(),
                Some(n) if p.refused_by.is_empty() => format!("×{n}"),
                Some(_) => p
                    .refused_by
                    .iter()
                    .map(|r| format!("×{} (limit of {}: pids.max {})", r.forks, r.cgroup, r.limit))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            rows.push_str(&format!(
                "<tr><td class=\"nowrap\"><span class=\"swatch cond-{c}\"></span>{c}</td><td>{}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&p.sandbox),
                esc(&peak),
                esc(&refused),
                esc(&p.unavailable.join("; ")),
                c = run.condition,
            ));
        }
    }
    format!(
        "<table class=\"pids\">\n<caption>Tasks of round {}: the peak, and the forks refused by a \
         pids.max with the cgroup whose limit refused them (read from the sandbox and its ancestors up \
         to the arena).</caption>\n<thead><tr><th>condition</th><th>sandbox</th><th class=\"num\">peak \
         tasks</th><th>forks refused</th><th>notes</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        round.index
    )
}

/// Pass/fail checks with their evidence: check, verdict, what was looked at, what was seen.
fn checks_table(scenario: &ScenarioResult) -> String {
    let rows: String = scenario
        .checks
        .iter()
        .map(|c| {
            format!(
                "<tr><td><code>{}.{}</code></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&scenario.name),
                esc(&c.name),
                if c.passed { "pass" } else { "fail" },
                match (c.passed, scenario.name == "visibility") {
                    (true, _) => "pass",
                    (false, true) => "FAIL: isolation breach",
                    (false, false) => "FAIL: unexpected outcome",
                },
                esc(&c.looked_at),
                esc(&c.saw)
            )
        })
        .collect();
    format!(
        "<table class=\"checks\">\n<caption>Each check passes when the sandbox could not see or touch what it \
         must not; a failure is an isolation breach.</caption>\n<thead><tr><th>check</th><th>verdict</th>\
         <th>looked at</th><th>saw</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    )
}

/// A chart in a `<figure>` with its caption, or the reason it is missing. The
/// figure is as wide as the chart, so the caption wraps beneath it.
fn figure(chart: Result<Chart, NotDrawn>, caption: &str) -> String {
    match chart {
        Ok(Chart { svg, width_px }) => format!(
            "<figure style=\"width: {width_px}px\">\n{svg}\n<figcaption>{caption}</figcaption>\n\
             </figure>\n"
        ),
        Err(why) => format!(
            "<p class=\"not-drawn\">Chart not drawn: {}.</p>\n",
            esc(&why)
        ),
    }
}

/// The metric table: name, condition, value and 95 % CI with their display
/// unit; the reasons of unavailable values follow as notes, each once.
fn metrics_table(scenario: &ScenarioResult) -> String {
    if scenario.metrics.is_empty() {
        return "<p class=\"unavailable\">No metrics were derived.</p>\n".to_owned();
    }
    let mut notes = Notes::default();
    let rows: String = scenario
        .metrics
        .iter()
        .map(|metric| {
            let cells = metric_cells(metric, &mut notes);
            let condition = metric.condition.map_or_else(
                || "—".to_owned(),
                |c| format!("<span class=\"swatch cond-{c}\"></span>{c}"),
            );
            let value_class = if metric.value.is_some() {
                "num"
            } else {
                "num unavailable"
            };
            format!(
                "<tr><td><code>{}</code></td><td>{condition}</td>\
                 <td class=\"{value_class}\">{}</td><td class=\"num\">{}</td></tr>\n",
                esc(&metric.name),
                esc(&cells.value),
                esc(&cells.ci),
            )
        })
        .collect();
    let notes: String = notes
        .lines()
        .map(|line| format!("<li>{}</li>\n", esc(&line)))
        .collect();
    let notes = if notes.is_empty() {
        notes
    } else {
        format!("<ul class=\"notes\">\n{notes}</ul>\n")
    };
    format!(
        "<table class=\"metrics\">\n<caption>Mean over rounds, with the bootstrap 95 % \
         confidence interval of the mean</caption>\n<thead><tr><th>metric</th>\
         <th>condition</th><th class=\"num\">value</th><th class=\"num\">95 % CI</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n{notes}"
    )
}

/// Host fingerprint, harness cgroup limits, doctor checks and the run itself.
fn host_panel(results: &Results) -> String {
    let run = facts_table(&[
        ("run id", esc(&results.run_id)),
        ("started", esc(&results.started_at)),
        ("isobench version", esc(&results.isobench_version)),
        (
            "command line",
            format!(
                "<pre>{}</pre>",
                esc(&format::command_line(&results.command_line))
            ),
        ),
    ]);
    format!(
        "<section id=\"host\">\n<h2>Host and run</h2>\n{}{}{}<h3>Run</h3>\n{run}</section>\n",
        fingerprint(&results.host),
        harness_limits(&results.host),
        doctor(&results.doctor),
    )
}

/// The host fingerprint as a two-column table.
fn fingerprint(host: &HostFingerprint) -> String {
    let model = host.cpu_model.as_deref().map_or_else(
        || unavailable_span(Some("no model name in /proc/cpuinfo")),
        esc,
    );
    facts_table(&[
        ("kernel", esc(&host.kernel)),
        ("cgroup layout", esc(&host.layout)),
        ("CPU model", model),
        (
            "CPUs",
            format!(
                "{} online, {} allowed to the harness",
                host.cpus, host.cpus_allowed
            ),
        ),
        ("SMT", reading(&host.smt)),
        ("cpufreq governor", reading(&host.governor)),
        (
            "virtualised",
            if host.virtualised { "yes" } else { "no" }.to_owned(),
        ),
        ("ran in", environment(host.environment.as_ref())),
    ])
}

/// Where the harness ran (`host` or `container (runtime)`), with the signs
/// that said so; files written before it was recorded say so.
fn environment(environment: Option<&Environment>) -> String {
    let Some(env) = environment else {
        return unavailable_span(Some(
            "not recorded in this results file (written before isobench recorded it)",
        ));
    };
    if env.evidence.is_empty() {
        return esc(&env.summary());
    }
    format!(
        "{}<br><small>{}</small>",
        esc(&env.summary()),
        esc(&env.evidence.join("; "))
    )
}

/// Limits set on the harness's own cgroup, as the kernel states them.
fn harness_limits(host: &HostFingerprint) -> String {
    let rows: Vec<(&str, String)> = host
        .harness_cgroup_limits
        .iter()
        .map(|(knob, value)| (knob.as_str(), format!("<code>{}</code>", esc(value))))
        .collect();
    let body = if rows.is_empty() {
        "<p>None recorded.</p>\n".to_owned()
    } else {
        facts_table(&rows)
    };
    format!("<h3>Limits on the harness's cgroup</h3>\n{body}")
}

/// The doctor checks with their status.
fn doctor(doctor: &Doctor) -> String {
    let rows: String = doctor
        .checks
        .iter()
        .map(|check| {
            let (class, status) = match check.status {
                CheckStatus::Ok => ("check-ok", "ok"),
                CheckStatus::Unavailable => ("check-unavailable", "unavailable"),
                CheckStatus::Error => ("check-error", "error"),
            };
            format!(
                "<tr><td>{}</td><td class=\"{class}\">{status}</td><td>{}</td></tr>\n",
                esc(&check.name),
                esc(&check.detail)
            )
        })
        .collect();
    format!(
        "<h3>Doctor checks (layout {})</h3>\n<table class=\"doctor\">\n<thead><tr>\
         <th>check</th><th>status</th><th>detail</th></tr></thead>\n<tbody>\n{rows}</tbody>\n\
         </table>\n",
        esc(&doctor.layout)
    )
}

/// A table of `(label, HTML)` rows; labels are fixed text or escaped here.
fn facts_table(rows: &[(&str, String)]) -> String {
    let rows: String = rows
        .iter()
        .map(|(label, html)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{html}</td></tr>\n",
                esc(label)
            )
        })
        .collect();
    format!("<table class=\"facts\">\n<tbody>\n{rows}</tbody>\n</table>\n")
}

/// A host reading, or `unavailable (reason)` styled as such.
fn reading(reading: &Reading<String>) -> String {
    match reading {
        Reading::Value(value) => esc(value),
        Reading::Unavailable(reason) => unavailable_span(Some(reason)),
    }
}

/// `unavailable (reason)` in a span styled as unavailable.
fn unavailable_span(reason: Option<&str>) -> String {
    format!(
        "<span class=\"unavailable\">{}</span>",
        esc(&format::unavailable(reason))
    )
}

/// CSS class of a scenario status: `complete`, `failed`, `interrupted` or `skipped`.
fn status_class(status: &ScenarioStatus) -> &'static str {
    match status {
        ScenarioStatus::Complete => "complete",
        ScenarioStatus::Failed(_) => "failed",
        ScenarioStatus::Interrupted(_) => "interrupted",
        ScenarioStatus::Skipped(_) => "skipped",
    }
}

/// The element id of a scenario section: `scenario-` and the name, with every
/// character other than ASCII letters, digits, `-` and `_` replaced by `-`.
pub(crate) fn anchor(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("scenario-{safe}")
}
