//! The command line of a bench binary: what isobench gives it when it
//! re-executes it in a sandbox, and what `cargo bench` and `cargo test` give it.

use crate::suite::run_args::BENCH_VICTIM;
use isobench_workloads::cli::ScheduleArgs;

/// What the command line asks of the bench binary.
#[derive(Debug)]
pub(super) enum Mode {
    /// `bench-victim --name N --rate R --warmup W --duration D`: run closure N
    /// open-loop in this process and print its units.
    Victim(VictimArgs),
    /// Another applet of `isobench-workload` (`sandbox-init`, `cpu-hog`, `calibrate`, …).
    Applet,
    /// `cargo bench` (`--bench`), `--list` or `cargo test --benches`.
    Cargo(CargoArgs),
}

/// `bench-victim`'s arguments.
#[derive(Debug, clap::Parser)]
#[command(name = BENCH_VICTIM, about = "Runs a closure of this bench open-loop and prints its units")]
pub(super) struct VictimArgs {
    /// The name the closure's scenario was given.
    #[arg(long)]
    pub name: String,
    /// When its units are due.
    #[command(flatten)]
    pub schedule: ScheduleArgs,
}

/// What `cargo bench -- …` or `cargo test --benches -- …` asked for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct CargoArgs {
    /// `--bench`: cargo bench runs it; without it, `cargo test` does.
    pub bench: bool,
    /// `--list`: list the scenarios and exit.
    pub list: bool,
    /// Filters: a scenario runs if its name contains one of them (or equals
    /// one, with `--exact`); all run when none is given.
    pub filters: Vec<String>,
    /// `--exact`.
    pub exact: bool,
    /// `--save-baseline NAME`.
    pub save_baseline: Option<String>,
    /// `--baseline NAME`.
    pub baseline: Option<String>,
    /// `--help`.
    pub help: bool,
}

impl CargoArgs {
    /// Whether scenario `name` passes the filters.
    pub fn selects(&self, name: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|f| {
                if self.exact {
                    name == f
                } else {
                    name.contains(f.as_str())
                }
            })
    }
}

/// The usage printed for `--help` and after a command-line error.
pub(super) const USAGE: &str = "\
usage: cargo bench [--bench NAME] -- [FILTER]... [--exact] [--save-baseline NAME | --baseline NAME] [--list]

  FILTER                 run the scenarios whose name contains FILTER (all without one)
  --exact                FILTER must match a name exactly
  --save-baseline NAME   compare with baseline NAME, then save this run as NAME (default: base)
  --baseline NAME        compare with baseline NAME and keep it; this run is not saved as a baseline
  --list                 list the scenarios
Files: target/isobench/<bench>/latest/ and target/isobench/<bench>/baselines/<NAME>/ (docs/cargo-bench.md).";

/// libtest's options that take a value and mean nothing here (cargo passes
/// the same `-- …` to every bench target of a run).
const IGNORED_WITH_VALUE: [&str; 4] = ["--color", "--format", "--test-threads", "--logfile"];
/// libtest's and criterion's switches that mean nothing here.
const IGNORED: [&str; 6] = [
    "--nocapture",
    "--show-output",
    "--quiet",
    "-q",
    "--test",
    "--ignored",
];

/// Reads `args` (without the program name).
///
/// # Errors
/// An unknown option or one without its value, with the usage.
pub(super) fn parse(args: &[String]) -> Result<Mode, String> {
    let first = args.first().map(String::as_str);
    if first == Some(BENCH_VICTIM) {
        use clap::Parser;
        return VictimArgs::try_parse_from(args)
            .map(Mode::Victim)
            .map_err(|e| e.render().to_string());
    }
    // Cargo ends the command line of a bench with `--bench`: `cpu-hog --bench`
    // is a filter, never the applet isobench starts. An applet that carries a
    // command (`sandbox-init`, `exec`) has it after `--`, and that command may
    // end with `--bench` itself.
    if first.is_some_and(isobench_workloads::cli::is_applet)
        && (args.last().map(String::as_str) != Some("--bench") || args.iter().any(|a| a == "--"))
    {
        return Ok(Mode::Applet);
    }
    let mut out = CargoArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{what} needs a value\n{USAGE}"))
        };
        match flag {
            "--bench" => out.bench = true,
            "--list" => out.list = true,
            "--exact" => out.exact = true,
            "--help" | "-h" => out.help = true,
            "--save-baseline" => out.save_baseline = Some(value("--save-baseline NAME")?),
            "--baseline" => out.baseline = Some(value("--baseline NAME")?),
            f if IGNORED_WITH_VALUE.contains(&f) => {
                value(f)?;
            }
            f if IGNORED.contains(&f) => {}
            f if f.starts_with('-') => {
                return Err(format!("unknown option {a:?}\n{USAGE}"));
            }
            _ => out.filters.push(a.clone()),
        }
    }
    Ok(Mode::Cargo(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn cargo(line: &str) -> CargoArgs {
        match parse(&args(line)).unwrap() {
            Mode::Cargo(c) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn isobench_re_executing_the_bench_gets_the_victim_or_an_applet() {
        let Mode::Victim(v) = parse(&args(
            "bench-victim --name hash --rate 2000 --warmup 0.2 --duration 0.5",
        ))
        .unwrap() else {
            panic!("not the victim")
        };
        assert_eq!(v.name, "hash");
        assert_eq!(v.schedule.schedule().rate, 2000.0);
        for line in [
            "sandbox-init --private-mounts -- bench-victim --name hash",
            "cpu-hog --duration 1",
            "calibrate --unit-us 100",
            "exec --program /usr/bin/other-bench -- other-bench --bench",
            "sandbox-init --private-mounts -- exec --program /b -- b --bench",
        ] {
            assert!(
                matches!(parse(&args(line)).unwrap(), Mode::Applet),
                "{line}"
            );
        }
        let err = parse(&args("bench-victim --name hash")).unwrap_err();
        assert!(err.contains("--rate"), "{err}");
    }

    #[test]
    fn cargo_bench_passes_filters_and_baselines_and_ends_with_bench() {
        assert_eq!(
            cargo("--bench"),
            CargoArgs {
                bench: true,
                ..CargoArgs::default()
            }
        );
        let c = cargo("hash --save-baseline=main --bench");
        assert_eq!(
            (c.filters.as_slice(), c.save_baseline.as_deref()),
            (&["hash".to_string()][..], Some("main"))
        );
        let c = cargo("--baseline main --color always --nocapture --bench");
        assert_eq!(c.baseline.as_deref(), Some("main"));
        assert!(c.bench);
        let c = cargo("cpu-hog --bench");
        assert_eq!(
            c.filters,
            ["cpu-hog"],
            "an applet's name followed by --bench is a filter"
        );
        assert!(!cargo("").bench, "cargo test gives no --bench");
    }

    #[test]
    fn filters_select_by_substring_or_exactly() {
        let c = cargo("hash --bench");
        assert!(c.selects("hash-beside-cpu-hog") && !c.selects("sort"));
        let c = cargo("hash --exact --bench");
        assert!(c.selects("hash") && !c.selects("hash-beside-cpu-hog"));
        assert!(cargo("--bench").selects("anything"));
    }

    #[test]
    fn unknown_options_and_missing_values_are_refused_with_the_usage() {
        let err = parse(&args("--sample-size 10 --bench")).unwrap_err();
        assert!(
            err.starts_with("unknown option \"--sample-size\"\nusage: cargo bench"),
            "{err}"
        );
        let err = parse(&args("--save-baseline")).unwrap_err();
        assert!(
            err.starts_with("--save-baseline NAME needs a value"),
            "{err}"
        );
    }
}
