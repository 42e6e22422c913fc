//! The commands of the `isobench` binary, one module each; `main.rs` only dispatches.
//! Exit codes (DESIGN §3): 0 success, 1 regression, 2 inconclusive or unfit host,
//! 3 usage or runtime error; 130 when interrupted.

pub mod calibrate;
pub mod cleanup;
pub mod compare;
pub mod doctor;
pub mod merge;
pub mod report;
pub mod run;
pub mod suite;
pub mod sweep;

use crate::run::Refused;
use crate::suite::{HostFacts, Suite};
use anyhow::{Context, Result};

/// Exit status of a host unfit for the command (`doctor` found an error).
pub const EXIT_UNFIT: u8 = 2;
/// Exit status of a run in which no scenario gave an answer: every verdict is
/// invalid although it ran the rounds a verdict needs (each says why), so a
/// CI job does not read "no answer" as success.
pub const EXIT_NO_ANSWER: u8 = 4;
/// Exit status of bad input or a runtime error.
pub const EXIT_ERROR: u8 = 3;
/// Exit status of a run ended by SIGINT or SIGTERM.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Loads suite `what` (an embedded name or a file), with the host's facts for its checks.
pub fn load_suite(what: &str) -> Result<(Suite, HostFacts), Refused> {
    let host = crate::suite::discover_host().map_err(Refused)?;
    let suite = crate::suite::load(what, &host).map_err(|e| Refused(format!("--suite: {e}")))?;
    Ok((suite, host))
}

/// Reads a results file, naming it in every error. Every scenario's verdict is
/// derived again from its raw rounds, as `run` gave it: a file written before
/// verdicts gets one, and a hand-edited verdict cannot contradict the data.
pub fn read_results(path: &std::path::Path) -> Result<isobench_reports::schema::Results> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    results_from_json(&text).with_context(|| format!("{}", path.display()))
}

/// Parses a results document as [`read_results`] does, judging every scenario again.
///
/// # Errors
/// [`isobench_reports::schema::SchemaError`]: not JSON, not the schema, or another schema version.
pub fn results_from_json(
    text: &str,
) -> Result<isobench_reports::schema::Results, isobench_reports::schema::SchemaError> {
    let mut results = isobench_reports::schema::Results::from_json(text)?;
    for s in &mut results.scenarios {
        let disturbed = s.verdict.as_ref().and_then(|v| v.disturbed.clone());
        s.verdict =
            crate::verdict::judge(s).map(|v| isobench_reports::schema::Verdict { disturbed, ..v });
    }
    Ok(results)
}

/// UTC time for directory names, e.g. `2026-11-29T134500Z`.
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "")
}
