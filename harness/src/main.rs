//! `isobench`: the command line. Each command lives in [`isobench::commands`];
//! this only dispatches. Exit codes (DESIGN §3): 0 success, 1 regression,
//! 2 inconclusive or unfit host, 3 usage or runtime error; 130 when interrupted.

use clap::Parser;
use isobench::cli::{Cli, Command, SuiteCommand};
use isobench::commands::{self, EXIT_ERROR, EXIT_INTERRUPTED};
use std::process::ExitCode;

fn main() -> ExitCode {
    isobench::sandbox::sys::default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(EXIT_ERROR);
        }
    };
    if cli.command.tears_down_on_interrupt()
        && let Err(e) = isobench::interrupt::install()
    {
        eprintln!("error: installing SIGINT/SIGTERM handlers: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    let outcome = match cli.command {
        Command::Run(args) => commands::run::run_command(args),
        Command::Doctor { json } => commands::doctor::doctor(json),
        Command::Cleanup => commands::cleanup::cleanup(),
        Command::Sweep(args) => commands::sweep::sweep(args),
        Command::Compare(args) => commands::compare::compare(args),
        Command::Merge(args) => commands::merge::merge(args),
        Command::Calibrate(args) => commands::calibrate::calibrate(args),
        Command::Report {
            results,
            out,
            compare,
        } => commands::report::report(&results, out, compare),
        Command::Suite(SuiteCommand::Show { name }) => commands::suite::suite_show(&name),
        Command::Suite(SuiteCommand::Check { file }) => commands::suite::suite_check(&file),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        if isobench::interrupt::requested() {
            eprintln!("interrupted: the output directory, if created, holds what was measured before the signal");
            return ExitCode::from(EXIT_INTERRUPTED);
        }
        ExitCode::from(EXIT_ERROR)
    })
}
