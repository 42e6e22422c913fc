//! The inputs of `isobench merge`: results files of many hosts, sorted into the
//! runs that can be merged and the files left out, each with one sentence
//! saying why (unreadable, not a results document, another schema version, a
//! duplicate of a run already taken, no scenario in common with the others).
//!
//! A host is named after its results file: `DIR/node-a/results.json` is
//! `node-a` (the layout the Kubernetes fan-out collects into), any other file
//! by its stem; a name taken twice gets ` (2)`, ` (3)`, … added.

use isobench_reports::fleet::{Excluded, FleetRun};
use std::path::Path;

/// Runs to merge and files left out.
#[derive(Debug)]
pub struct Inputs {
    /// The usable runs, in the order given.
    pub runs: Vec<FleetRun>,
    /// The files left out, in the order given, with the reason.
    pub excluded: Vec<Excluded>,
}

/// Reads every file of `paths` and sorts them into runs to merge and files
/// left out. Never fails: every problem is one [`Excluded`] entry.
pub fn load(paths: &[impl AsRef<Path>]) -> Inputs {
    let mut runs: Vec<FleetRun> = Vec::new();
    let mut excluded = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot be read: {e}"))
            .and_then(|text| crate::commands::results_from_json(&text).map_err(|e| e.to_string()));
        let results = match parsed {
            Ok(r) => r,
            Err(reason) => {
                excluded.push(Excluded {
                    path: shown,
                    reason,
                });
                continue;
            }
        };
        if let Some(first) = runs.iter().find(|r| r.results.run_id == results.run_id) {
            excluded.push(Excluded {
                path: shown,
                reason: format!(
                    "a duplicate of run {} (the same run_id as {}, taken first)",
                    results.run_id, first.path
                ),
            });
            continue;
        }
        let host = unique_name(host_name(path), &runs);
        runs.push(FleetRun {
            host,
            path: shown,
            results,
        });
    }
    let (runs, lonely) = split_lonely(runs);
    excluded.extend(lonely);
    Inputs { runs, excluded }
}

/// The host name of results file `path` (see the module docs).
fn host_name(path: &Path) -> String {
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().into_owned());
    match (path.file_name().and_then(|f| f.to_str()), dir) {
        (Some("results.json"), Some(dir)) => dir,
        _ => path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        ),
    }
}

/// `name`, or `name (n)` with the smallest n ≥ 2 that no run in `runs` has.
fn unique_name(name: String, runs: &[FleetRun]) -> String {
    let taken = |n: &str| runs.iter().any(|r| r.host == n);
    if !taken(&name) {
        return name;
    }
    (2..)
        .map(|n| format!("{name} ({n})"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// Splits off the runs that share no scenario with any other run. Where every
/// run is alone so (no two share a scenario), the first is kept and the rest
/// are left out as having nothing in common with it.
fn split_lonely(runs: Vec<FleetRun>) -> (Vec<FleetRun>, Vec<Excluded>) {
    if runs.len() < 2 {
        return (runs, Vec::new());
    }
    let shares = |a: &FleetRun, b: &FleetRun| {
        a.results
            .scenarios
            .iter()
            .any(|s| b.results.scenarios.iter().any(|t| t.name == s.name))
    };
    let lonely: Vec<bool> = runs
        .iter()
        .enumerate()
        .map(|(i, a)| !runs.iter().enumerate().any(|(j, b)| i != j && shares(a, b)))
        .collect();
    let keep_first = lonely.iter().all(|&l| l);
    let names = |r: &FleetRun| {
        r.results
            .scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut kept = Vec::new();
    let mut excluded = Vec::new();
    let first_scenarios = names(&runs[0]);
    for (i, (run, alone)) in runs.into_iter().zip(lonely).enumerate() {
        if !alone || (keep_first && i == 0) {
            kept.push(run);
            continue;
        }
        let others = if keep_first {
            format!("the first run merged has {first_scenarios}")
        } else {
            "every other run shares a scenario with another".to_owned()
        };
        excluded.push(Excluded {
            reason: format!(
                "no scenario in common with the other runs (it has {}; {others})",
                if names(&run).is_empty() {
                    "none".to_owned()
                } else {
                    names(&run)
                }
            ),
            path: run.path,
        });
    }
    (kept, excluded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_json_is_named_after_its_directory_and_others_after_their_stem() {
        assert_eq!(host_name(Path::new("out/node-a/results.json")), "node-a");
        assert_eq!(host_name(Path::new("quick-a.json")), "quick-a");
        assert_eq!(host_name(Path::new("results.json")), "results");
    }
}
