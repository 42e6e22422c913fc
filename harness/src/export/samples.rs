//! `samples.jsonl`: one JSON object per line for each metric of each round
//! (the `per_round` values of results.json), with the host's fingerprint as
//! labels, for a warehouse to ingest as flat rows (the shape of
//! PerfKitBenchmarker's samples: metric, value, unit, metadata).
//!
//! A row: `{"run_id", "started_at", "host" (in a fleet, else null), "scenario",
//! "metric", "condition" (or null), "unit", "round" (0-based), "value",
//! "labels": {"kernel", "layout", "cpu_model", "cpus", "cpus_allowed", "smt",
//! "governor", "virtualised"}}`. A round that could not measure the metric has
//! `"value": null` and `"unavailable"` with the metric's reason, never 0.

use isobench_reports::schema::{HostFingerprint, Reading, Results};
use serde_json::{Value, json};

/// The fingerprint as flat labels; an unreadable field is null.
fn labels(host: &HostFingerprint) -> Value {
    let reading = |r: &Reading<String>| match r {
        Reading::Value(v) => Value::from(v.as_str()),
        Reading::Unavailable(_) => Value::Null,
    };
    json!({
        "kernel": host.kernel,
        "layout": host.layout,
        "cpu_model": host.cpu_model,
        "cpus": host.cpus,
        "cpus_allowed": host.cpus_allowed,
        "smt": reading(&host.smt),
        "governor": reading(&host.governor),
        "virtualised": host.virtualised,
    })
}

/// The rows of `results`, one line each, with `host` as the host's name in a fleet.
pub fn rows(results: &Results, host: Option<&str>) -> String {
    let labels = labels(&results.host);
    let mut out = String::new();
    for s in &results.scenarios {
        for m in &s.metrics {
            for (round, value) in m.per_round.iter().enumerate() {
                let mut row = json!({
                    "run_id": results.run_id,
                    "started_at": results.started_at,
                    "host": host,
                    "scenario": s.name,
                    "metric": m.name,
                    "condition": m.condition,
                    "unit": m.unit,
                    "round": round,
                    "value": value.filter(|v| v.is_finite()),
                    "labels": labels,
                });
                if value.is_none_or(|v| !v.is_finite()) {
                    row["unavailable"] =
                        Value::from(m.reason.as_deref().unwrap_or("not measured in this round"));
                }
                out.push_str(&row.to_string());
                out.push('\n');
            }
        }
    }
    out
}
