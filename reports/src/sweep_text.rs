//! The sweep's summary as Markdown (issue 17): per condition a table of the
//! victim's p99, its ratio against the first step, late share and throughput
//! at each swept value, each with its 95 % CI, then the knee in words. The
//! terminal prints the same text after `isobench sweep`.

use crate::escape::markdown as esc;
use crate::schema::Interval;
use crate::schema_sweep::Sweep;
use crate::units::Rule;

/// `3.95 ms [3.18, 5.14] ms` by `rule`, or `unavailable`.
fn cell(rule: &Rule<'_>, i: Option<&Interval>) -> String {
    match i {
        Some(i) => {
            let (v, ci) = rule.with_interval(i.value, i.lower, i.upper);
            format!("{v} {ci}")
        }
        None => "unavailable".into(),
    }
}

/// The summary: a heading, one table per condition, the knee of each.
pub fn sweep_markdown(sweep: &Sweep) -> String {
    let mut md = format!(
        "### Sweep of {} over {} ({} steps × {} rounds)\n",
        esc(&sweep.scenario),
        esc(&sweep.over),
        sweep.steps.len(),
        sweep.rounds
    );
    md.push_str(&format!(
        "\nKnee: the first value whose victim p99, against the first value's, has a 95 % CI wholly above ×{:.2}.\n",
        sweep.knee_margin
    ));
    let latency = Rule::Duration { us_per_unit: 1.0 };
    for curve in &sweep.curves {
        md.push_str(&format!(
            "\n#### {}\n\n| {} | victim p99 | × first step | late share | throughput |\n|---|---|---|---|---|\n",
            curve.condition,
            esc(&sweep.over)
        ));
        for (step, p) in sweep.steps.iter().zip(&curve.points) {
            let ratio = match &p.p99_ratio {
                Some(r) => format!("×{:.2} [×{:.2}, ×{:.2}]", r.value, r.lower, r.upper),
                None if p.p99_us.is_some() => "—".into(),
                None => "unavailable".into(),
            };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                esc(&step.label),
                cell(&latency, p.p99_us.as_ref()),
                ratio,
                cell(&Rule::Percent, p.late_share.as_ref()),
                cell(&Rule::Rate("ops/s"), p.throughput_ops.as_ref()),
            ));
        }
        for (step, p) in sweep.steps.iter().zip(&curve.points) {
            if let Some(why) = &p.unavailable {
                md.push_str(&format!("\n{}: {}\n", esc(&step.label), esc(why)));
            }
        }
        md.push_str(&format!(
            "\nKnee ({}): {}\n",
            curve.condition,
            esc(&curve.knee.describe(&sweep.steps))
        ));
    }
    if let Some(e) = sweep.elapsed_s {
        md.push_str(&format!(
            "\nTook {:.0} s against an estimate of {:.0} s ({:+.0} %).\n",
            e,
            sweep.estimate_s,
            (e / sweep.estimate_s - 1.0) * 100.0
        ));
    }
    md
}
