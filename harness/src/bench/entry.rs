//! [`super::Bench::main`]'s dispatch: the victim closure and the applets when
//! isobench re-executes the bench binary in a sandbox, `--list`, `cargo test`'s
//! single call of each closure, and `cargo bench`'s run ([`super::run`]).

use super::args::{self, CargoArgs, Mode, USAGE, VictimArgs};
use super::{Bench, Scenario, define, files};
use isobench_workloads::report::WorkloadReport;
use isobench_workloads::{applets, open_loop};
use std::ffi::OsString;

/// Exit status of a bad definition, command line or a runtime error (DESIGN §3).
pub(super) const EXIT_ERROR: i32 = 3;

/// Runs what `argv` (program name first) asks for; returns the exit status.
pub(super) fn dispatch(mut bench: Bench, argv: Vec<OsString>) -> i32 {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args::parse(&args) {
        Err(e) => {
            eprintln!("{}", with_error_prefix(&e));
            EXIT_ERROR
        }
        Ok(Mode::Victim(v)) => victim(&mut bench, &v),
        Ok(Mode::Applet) => match applets::main_with(argv) {
            Ok(()) => 0,
            // As `isobench-workload`'s `main` returning the error.
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        },
        Ok(Mode::Cargo(c)) => cargo(bench, &c),
    }
}

/// `error: …` once, whether or not the message (clap's) already has it.
fn with_error_prefix(message: &str) -> String {
    let message = message.trim_end();
    if message.starts_with("error:") {
        message.to_string()
    } else {
        format!("error: {message}")
    }
}

/// `bench-victim`: runs the named closure on its open-loop schedule and
/// prints the units as one JSON report line; 2 when no scenario has that name.
fn victim(bench: &mut Bench, v: &VictimArgs) -> i32 {
    let names: Vec<String> = bench.scenarios.iter().map(|s| s.name.clone()).collect();
    let Some(s) = bench.scenarios.iter_mut().find(|s| s.name == v.name) else {
        eprintln!(
            "error: {}: this bench has no scenario {:?}; it has {}",
            crate::suite::run_args::BENCH_VICTIM,
            v.name,
            names.join(", ")
        );
        return 2;
    };
    let unit = &mut s.unit;
    let report = open_loop::run(v.schedule.schedule(), unit);
    match applets::print(&WorkloadReport::BenchVictim(report)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// `cargo bench` and `cargo test` of the bench: `--help`, `--list`, one call
/// of each closure without `--bench`, the isobench run with it.
fn cargo(mut bench: Bench, c: &CargoArgs) -> i32 {
    if c.help {
        println!("{USAGE}");
        return 0;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: finding this bench's own executable (/proc/self/exe): {e}");
            return EXIT_ERROR;
        }
    };
    let name = bench
        .name
        .clone()
        .unwrap_or_else(|| files::bench_name(&exe));
    if !files::valid_name(&name) {
        eprintln!(
            "error: bench name {name:?}: expected 1 to 100 of letters, digits, `.`, `_` and `-`, \
             not starting with `.` (its files go to target/isobench/<name>/)"
        );
        return EXIT_ERROR;
    }
    if c.list {
        for s in bench.scenarios.iter().filter(|s| c.selects(&s.name)) {
            println!("{}: benchmark", s.name);
        }
        return 0;
    }
    let filtered_out =
        !bench.scenarios.is_empty() && !bench.scenarios.iter().any(|s| c.selects(&s.name));
    if filtered_out {
        // `cargo bench -- FILTER` passes FILTER to every bench target; it may be meant for another.
        println!("isobench: {name}: no scenario matches {:?}", c.filters);
        return 0;
    }
    if c.bench {
        let selected: Vec<&Scenario> = bench
            .scenarios
            .iter()
            .filter(|s| c.selects(&s.name))
            .collect();
        return super::run::run(&name, &selected, c, &exe);
    }
    let host = crate::suite::discover_host().ok();
    let problems = {
        let selected: Vec<&Scenario> = bench
            .scenarios
            .iter()
            .filter(|s| c.selects(&s.name))
            .collect();
        define::suite(&name, &selected, host.as_ref()).err()
    };
    if let Some(problems) = problems {
        for p in problems {
            eprintln!("error: {name}: {p}");
        }
        return EXIT_ERROR;
    }
    for s in bench.scenarios.iter_mut().filter(|s| c.selects(&s.name)) {
        (s.unit)();
        println!(
            "Testing {name}/{}: Success (one unit ran; `cargo bench` measures it)",
            s.name
        );
    }
    0
}
