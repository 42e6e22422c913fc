//! Rendering a [`Comparison`]: compare.md for a CI job summary, and the
//! comparison section (verdict, forest plot, table) of the HTML report.

use crate::charts;
use crate::comparison::{ChangeKind, ComparedMetric, Comparison, Outcome};
use crate::escape;

/// `×1.07 [1.01, 1.12]` for a ratio, `+0.3 pp [−0.1, +0.6]` for a difference,
/// `1 → 0` for a check, `—` when there is none.
fn change_text(r: &ComparedMetric) -> String {
    let Some(v) = r.change else {
        return "—".into();
    };
    let ci = |f: &dyn Fn(f64) -> String| match (r.lower, r.upper) {
        (Some(lo), Some(hi)) => format!(" [{}, {}]", f(lo), f(hi)),
        _ => String::new(),
    };
    match r.kind {
        ChangeKind::Ratio => format!("×{v:.3}{}", ci(&|x| format!("{x:.3}"))),
        ChangeKind::DifferencePp => format!("{v:+.2} pp{}", ci(&|x| format!("{x:+.2}"))),
        ChangeKind::Check => format!(
            "{:.0} → {:.0}",
            r.baseline.unwrap_or(f64::NAN),
            r.current.unwrap_or(f64::NAN)
        ),
    }
}

fn margin_text(r: &ComparedMetric) -> String {
    match (r.kind, r.margin) {
        (_, None) => "—".into(),
        (ChangeKind::Ratio, Some(m)) => format!("×{m}"),
        (ChangeKind::DifferencePp, Some(m)) => format!("{m:+} pp"),
        (ChangeKind::Check, Some(_)) => "must pass".into(),
    }
}

fn value_text(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.4}"))
}

/// The outcome as the table and the forest plot's legend write it.
pub(crate) fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Inconclusive => "INCONCLUSIVE",
        Outcome::Improved => "IMPROVED",
        Outcome::NotGated => "not gated",
    }
}

fn metric_label(r: &ComparedMetric) -> String {
    match r.condition {
        Some(c) => format!("{}/{} ({c})", r.scenario, r.name),
        None => format!("{}/{}", r.scenario, r.name),
    }
}

/// What the reader must know beside the table: why there is no verdict,
/// disturbance accepted (`--accept-disturbed`), hosts compared despite
/// differing (`--force`), what was not compared.
fn notes(c: &Comparison) -> Vec<String> {
    let forced = (c.forced && !c.fingerprint_differences.is_empty()).then(|| {
        format!(
            "compared despite differing hosts (--force): {}",
            c.fingerprint_differences.join("; ")
        )
    });
    c.unfit
        .iter()
        .cloned()
        .chain(c.accepted_disturbance.iter().cloned())
        .chain(forced)
        .chain(c.not_compared.iter().cloned())
        .collect()
}

/// compare.md: the verdict, what was not compared, and a table of the gated
/// metrics (metric, baseline, current, change with 95 % CI, margin, outcome).
pub fn render_comparison_markdown(c: &Comparison) -> String {
    let md = escape::markdown;
    let mut out = format!(
        "## isobench compare: {}\n\nbaseline `{}` ({}) · current `{}` ({})\n\n",
        md(&c.verdict),
        md(&c.baseline.run_id),
        md(&c.baseline.path),
        md(&c.current.run_id),
        md(&c.current.path)
    );
    for line in notes(c) {
        out.push_str(&format!("- {}\n", md(&line)));
    }
    out.push_str("\n| outcome | metric | baseline | current | change [95 % CI] | margin |\n|---|---|---|---|---|---|\n");
    for r in c.rows.iter().filter(|r| r.outcome != Outcome::NotGated) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            outcome_text(r.outcome),
            md(&metric_label(r)),
            value_text(r.baseline),
            value_text(r.current),
            md(&change_text(r)),
            md(&margin_text(r))
        ));
    }
    out
}

/// The comparison section of the HTML report.
pub(crate) fn section(c: &Comparison) -> String {
    let esc = escape::html;
    let chart = match charts::forest(c) {
        Ok(chart) => format!(
            "<figure style=\"width: {}px\">\n{}\n<figcaption>Each bar is the 95 % CI of current / baseline for a gated \
             ratio metric; the dot is the estimate, the black tick the margin, the grey line no change. For \
             lower-is-better metrics (latency) left is better; for throughput right is better. Colour: outcome, \
             as in the table. Unit: ratio, current / baseline (log scale).</figcaption>\n</figure>\n",
            chart.width_px, chart.svg
        ),
        Err(why) => format!(
            "<p class=\"not-drawn\">Forest plot not drawn: {}</p>\n",
            esc(&why)
        ),
    };
    let rows: String = c
        .rows
        .iter()
        .filter(|r| r.outcome != Outcome::NotGated)
        .map(|r| {
            format!(
                "<tr><td class=\"outcome-{}\">{}</td><td><code>{}</code></td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                outcome_text(r.outcome).to_lowercase().replace(' ', "-"),
                outcome_text(r.outcome),
                esc(&metric_label(r)),
                value_text(r.baseline),
                value_text(r.current),
                esc(&change_text(r)),
                esc(&margin_text(r))
            )
        })
        .collect();
    let notes: String = notes(c)
        .iter()
        .map(|l| format!("<li>{}</li>\n", esc(l)))
        .collect();
    format!(
        "<section id=\"comparison\">\n<h2>Comparison with baseline</h2>\n<p><strong>{}</strong></p>\n\
         <p class=\"meta\">baseline <code>{}</code> · current <code>{}</code></p>\n<ul>\n{notes}</ul>\n{chart}\
         <table class=\"comparison\">\n<thead><tr><th>outcome</th><th>metric</th><th>baseline</th><th>current</th>\
         <th>change [95 % CI]</th><th>margin</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</section>\n",
        esc(&c.verdict),
        esc(&c.baseline.run_id),
        esc(&c.current.run_id)
    )
}
