//! `cargo bench --bench isolation`: runs the embedded `quick` suite and writes
//! results.json, report.html and summary.md to `target/isobench/quick-<unix time>/`,
//! ready for `isobench compare BASELINE.json target/isobench/.../results.json`.
//! Needs root (or a delegated cgroup) and the release `isobench-workload`
//! (`cargo build --release`); without them it says so and exits 0.

use isobench::run::{RunPlan, execute};
use isobench::suite;
use std::path::PathBuf;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("quick-suite: benchmark");
        return;
    }
    if !nix::unistd::Uid::effective().is_root() {
        println!("skipped: the isolation bench needs root to create cgroups and namespaces");
        return;
    }
    if let Err(e) = isobench::workload::locate() {
        println!("skipped: {e}");
        return;
    }
    let host = match suite::discover_host() {
        Ok(h) => h,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let suite = match suite::load("quick", &host) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the embedded quick suite: {e}");
            std::process::exit(3);
        }
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // The bench runs from its package's directory; its binary is <target>/<profile>/deps/isolation-*.
    let exe = std::env::current_exe().expect("the bench's own path");
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let out_dir = target.join("isobench").join(format!("quick-{stamp}"));
    let plan = RunPlan {
        suite,
        until_decided: None,
        out_dir: out_dir.clone(),
        command_line: vec![
            "cargo".into(),
            "bench".into(),
            "--bench".into(),
            "isolation".into(),
        ],
        accept_disturbed: false,
        calibration: None,
        workload_bin: None,
    };
    if let Err(e) = isobench::interrupt::install() {
        eprintln!("error: installing signal handlers: {e}");
        std::process::exit(3);
    }
    match execute(&plan) {
        Ok(outcome) => {
            for line in isobench_reports::verdict_lines(&outcome.results) {
                println!("{line}");
            }
            print!("{}", isobench::terminal::table(&outcome.results));
            println!("results: {}", out_dir.join("results.json").display());
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(3);
        }
    }
}
