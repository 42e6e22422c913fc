//! `isobench doctor`: what the host supports and why not.

use super::EXIT_UNFIT;
use crate::cgroup::CgroupHost;
use anyhow::Result;
use isobench_reports::schema::CheckStatus;
use std::io::Write;
use std::process::ExitCode;

/// Prints what the host supports (as JSON with `json`); exit 2 when an error
/// keeps `run` from starting.
///
/// # Errors
/// Only stdout errors.
pub fn doctor(json: bool) -> Result<ExitCode> {
    let host = CgroupHost::discover();
    let report = crate::probe::doctor(host.as_ref());
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(out, "layout: {}", report.layout)?;
        for c in &report.checks {
            let mark = match c.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Unavailable => "unavailable",
                CheckStatus::Error => "ERROR",
            };
            writeln!(out, "{:<24} {:<12} {}", c.name, mark, c.detail)?;
        }
    }
    let unfit = report.checks.iter().any(|c| c.status == CheckStatus::Error);
    Ok(if unfit {
        ExitCode::from(EXIT_UNFIT)
    } else {
        ExitCode::SUCCESS
    })
}
