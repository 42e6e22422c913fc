//! The end-of-run table on the terminal: the headline metrics per scenario,
//! mean and 95 % CI over rounds.

use isobench_reports::schema::{Metric, Results};

/// Metrics shown on the terminal, in this order; the rest are in the report.
const HEADLINE: [&str; 7] = [
    "aggressor.cpu_share",
    "aggressor.cpu_share_error_pp",
    "aggressor.throttled_ratio",
    "victim.throughput_ops",
    "victim.latency_p99_us",
    "victim.retained_throughput",
    "victim.latency_impact_p99",
];

fn cell(m: &Metric) -> String {
    let Some(v) = m.value else {
        return format!(
            "unavailable ({})",
            m.reason.as_deref().unwrap_or("no reason given")
        );
    };
    match (m.lower, m.upper) {
        (Some(lo), Some(hi)) => format!("{v:.3} [{lo:.3}, {hi:.3}]"),
        _ => format!("{v:.3}"),
    }
}

/// One table per scenario: metric, condition, mean [95 % CI], unit.
pub fn table(results: &Results) -> String {
    let mut out = String::new();
    for s in &results.scenarios {
        out.push_str(&format!("{}\n", s.name));
        for c in &s.checks {
            let verdict = if c.passed {
                "pass"
            } else {
                "FAIL (isolation breach)"
            };
            out.push_str(&format!(
                "  visibility.{:<10} {verdict}: {}\n",
                c.name, c.saw
            ));
        }
        if !s.checks.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  {:<30} {:<10} {:<32} {}\n",
            "metric", "condition", "mean [95 % CI]", "unit"
        ));
        for name in HEADLINE {
            for m in s.metrics.iter().filter(|m| m.name == name) {
                let cond = m.condition.map_or("-".to_string(), |c| c.to_string());
                out.push_str(&format!(
                    "  {:<30} {:<10} {:<32} {}\n",
                    m.name,
                    cond,
                    cell(m),
                    m.unit
                ));
            }
        }
    }
    out
}
