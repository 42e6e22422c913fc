//! `isobench cleanup`: removes what a killed run left.

use super::EXIT_ERROR;
use crate::cgroup::CgroupHost;
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

/// Removes the `isobench-*` cgroups a killed run left beneath this process's own;
/// exit 3 when one could not be removed.
///
/// # Errors
/// Cgroup discovery or stdout errors.
pub fn cleanup() -> Result<ExitCode> {
    let host = CgroupHost::discover()?;
    let done = crate::cleanup::cleanup(&host);
    let mut out = std::io::stdout().lock();
    for p in &done.thawed {
        writeln!(
            out,
            "thawed {} (a phased neighbour left frozen)",
            p.display()
        )?;
    }
    for p in &done.removed {
        writeln!(out, "removed {}", p.display())?;
    }
    for (p, pid) in &done.in_use {
        writeln!(
            out,
            "kept {} (its run, pid {pid}, is still running)",
            p.display()
        )?;
    }
    for (p, e) in &done.failed {
        eprintln!("error: could not remove {}: {e}", p.display());
    }
    if done.removed.is_empty() && done.failed.is_empty() && done.in_use.is_empty() {
        writeln!(out, "nothing to clean up")?;
    }
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    })
}
