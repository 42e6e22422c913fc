//! `cargo bench`: the isobench run of a bench's scenarios, its files under
//! `target/isobench/<bench>/`, and the comparison with its baseline.
//!
//! As criterion does, each run is compared with baseline `base` and then
//! saved as it; `--save-baseline NAME` does the same with NAME, and
//! `--baseline NAME` compares with NAME and saves nothing. The comparison is
//! `isobench compare`'s gate ([`crate::compare`]) with its default margins,
//! printed one line per gated metric ([`isobench_reports::change_lines`]).

use super::args::CargoArgs;
use super::entry::EXIT_ERROR;
use super::files::{BenchDir, DEFAULT_BASELINE, target_dir};
use super::{Scenario, define};
use crate::compare::{CompareInput, margins::Margins};
use crate::run::{Refused, RunPlan, execute};
use isobench_reports::schema::Results;
use std::path::{Path, PathBuf};

/// Exit status of a run ended by SIGINT or SIGTERM.
const EXIT_INTERRUPTED: i32 = 130;

/// Runs `selected` of bench `name` with this bench binary (`exe`) as the
/// workload binary; returns the exit status (see [`super::Bench::main`]).
pub(super) fn run(name: &str, selected: &[&Scenario], c: &CargoArgs, exe: &Path) -> i32 {
    let skip = |why: &dyn std::fmt::Display| {
        println!("isobench: skipped {name}: {why}");
        0
    };
    let host = match crate::suite::discover_host() {
        Ok(h) => h,
        Err(e) => return skip(&e),
    };
    let suite = match define::suite(name, selected, Some(&host)) {
        Ok(s) => s,
        Err(problems) => {
            for p in problems {
                eprintln!("error: {name}: {p}");
            }
            return EXIT_ERROR;
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let target = target_dir(std::env::var_os("CARGO_TARGET_DIR").as_deref(), exe, &cwd);
    let dir = BenchDir::new(&target, name);
    let plan = match Baselines::choose(&dir, c) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return EXIT_ERROR;
        }
    };
    let latest = dir.latest();
    if latest.exists()
        && let Err(e) = std::fs::remove_dir_all(&latest)
    {
        eprintln!(
            "error: {name}: removing the previous run's {}: {e}",
            latest.display()
        );
        return EXIT_ERROR;
    }
    if let Err(e) = crate::output::check_writable(&latest) {
        eprintln!("error: {name}: {e}");
        return EXIT_ERROR;
    }
    if let Err(e) = crate::interrupt::install() {
        eprintln!("error: {name}: installing signal handlers: {e}");
        return EXIT_ERROR;
    }
    let estimate = crate::plan::estimate_s(&suite, Some(host.layout));
    // On stderr with the progress, so that a host that cannot run it leaves one line on stdout.
    eprintln!(
        "isobench: {name}: {} scenario{}, about {:.0} s; files in {}",
        suite.scenarios.len(),
        if suite.scenarios.len() == 1 { "" } else { "s" },
        estimate.ceil(),
        dir.root().display()
    );
    let run_plan = RunPlan {
        suite,
        until_decided: None,
        out_dir: latest.clone(),
        command_line: std::env::args().collect(),
        accept_disturbed: false,
        calibration: None,
        workload_bin: Some(exe.to_path_buf()),
    };
    let outcome = match execute(&run_plan) {
        Ok(o) => o,
        Err(e) if e.downcast_ref::<Refused>().is_some() => return skip(&e),
        Err(e) => {
            eprintln!("error: {name}: {e:#}");
            return EXIT_ERROR;
        }
    };
    for line in isobench_reports::verdict_lines(&outcome.results) {
        println!("{line}");
    }
    if crate::interrupt::requested() {
        println!(
            "interrupted: {} holds the rounds completed; no baseline was saved",
            latest.display()
        );
        return EXIT_INTERRUPTED;
    }
    // Saved before the comparison's report.html replaces the run's own in `latest/`.
    let saved = match &plan.save_as {
        Some(save) => match dir.save(&latest, save) {
            Ok(path) => Some((save, path)),
            Err(e) => {
                eprintln!("error: {name}: saving baseline {save:?}: {e}");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let code = match &plan.compare_with {
        Some((base_name, base, path)) => {
            compared(name, &latest, &outcome.results, base_name, base, path)
        }
        None => {
            if let Some((save, _)) = &saved {
                println!(
                    "no baseline {save:?} yet: this run becomes it, and the next run is compared with it"
                );
            }
            0
        }
    };
    if let Some((save, path)) = &saved {
        println!("saved as baseline {save:?}: {}", path.display());
    }
    println!("report: {}", latest.join("report.html").display());
    code
}

/// Which baseline a run is compared with and which it is saved as.
struct Baselines {
    /// The baseline's name, results and results file, when there is one.
    compare_with: Option<(String, Results, PathBuf)>,
    /// The name this run is saved under afterwards; `None` with `--baseline`
    /// alone, which keeps the baseline as it is.
    save_as: Option<String>,
}

impl Baselines {
    /// `--baseline NAME` (required to exist), else `--save-baseline NAME` or
    /// [`DEFAULT_BASELINE`] (compared with if it exists, then replaced).
    fn choose(dir: &BenchDir, c: &CargoArgs) -> Result<Baselines, super::files::BaselineError> {
        let save_as = match (&c.save_baseline, &c.baseline) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_BASELINE.to_string()),
        };
        if let Some(s) = &save_as {
            dir.baseline(s)?;
        }
        let compare_with = match (&c.baseline, &save_as) {
            (Some(b), _) => {
                let (results, path) = dir.require(b)?;
                Some((b.clone(), results, path))
            }
            (None, Some(s)) => dir.load(s)?.map(|(r, p)| (s.clone(), r, p)),
            (None, None) => None,
        };
        Ok(Baselines {
            compare_with,
            save_as,
        })
    }
}

/// Compares the run in `latest` with baseline `base_name`, prints one line
/// per gated metric and the notes, and writes compare.json, compare.md and
/// report.html (with the comparison) to `latest`. Returns 0: a regression is
/// printed, not fatal (`isobench compare` on the two results files gates CI);
/// 3 when the files cannot be written.
fn compared(
    name: &str,
    latest: &Path,
    current: &Results,
    base_name: &str,
    base: &Results,
    base_path: &Path,
) -> i32 {
    let current_path = latest.join("results.json");
    let (bp, cp) = (
        base_path.display().to_string(),
        current_path.display().to_string(),
    );
    let comparison = crate::compare::compare(&CompareInput {
        baseline: (base, &bp),
        current: (current, &cp),
        margins: &Margins::default(),
        force: false,
        accept_disturbed: false,
    });
    println!(
        "{name} against baseline {base_name:?} (run {}, {}):",
        base.run_id, base.started_at
    );
    for line in isobench_reports::change_lines(&comparison, current) {
        println!("  {line}");
    }
    for note in isobench_reports::comparison_notes(&comparison) {
        println!("  note: {note}");
    }
    match crate::commands::compare::write_files(latest, current, &comparison) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("error: {name}: {e:#}");
            EXIT_ERROR
        }
    }
}
