//! The command lines isobench gives the applets of a suite's scenarios: the
//! flags it sets itself (rate, durations, work-unit size, directory), then the
//! user's `args`; checked with the applet's own parser before anything starts.

use super::model::{
    AggressorWorkload, CommandDef, CommandMode, ReportFormat, ServiceDef, ServiceProtocol,
    TcpReply, VictimWorkload,
};
use std::path::Path;

/// Flags isobench sets on every victim (a user's `args` may not repeat them).
const VICTIM_FLAGS: [&str; 6] = [
    "--iters-per-unit",
    "--rate",
    "--warmup",
    "--duration",
    "--slice-ms",
    "--slice-origin-ns",
];
/// Flags isobench sets on every aggressor.
const AGGRESSOR_FLAGS: [&str; 3] = ["--duration", "--dir", "--ramp"];

/// Flags isobench sets on victims.
pub fn victim_flags() -> &'static [&'static str] {
    &VICTIM_FLAGS
}

/// Flags isobench sets on aggressors.
pub fn aggressor_flags() -> &'static [&'static str] {
    &AGGRESSOR_FLAGS
}

/// What isobench fills in on a victim's command line.
#[derive(Debug, Clone, Copy)]
pub struct VictimRun {
    /// Units per second.
    pub rate: f64,
    /// Work-loop iterations per unit (`cpu-units` only).
    pub iters_per_unit: u64,
    /// Unrecorded warm-up, seconds.
    pub warmup_s: f64,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// Slices its latencies are also reported by, ms (`--slice-ms`); `None` for none.
    pub slice_ms: Option<u64>,
    /// CLOCK_MONOTONIC where its first slice starts, ns (`--slice-origin-ns`):
    /// the time 0 of its neighbours' phases; `None`: its window's start.
    pub slice_origin_ns: Option<u64>,
}

impl VictimRun {
    /// `--warmup W --duration D`: a victim's window.
    fn window_flags(&self) -> [String; 4] {
        [
            "--warmup".into(),
            self.warmup_s.to_string(),
            "--duration".into(),
            self.duration_s.to_string(),
        ]
    }

    /// `--rate R --warmup W --duration D`: an open-loop victim's schedule.
    fn schedule_flags(&self) -> Vec<String> {
        let mut flags = vec!["--rate".into(), self.rate.to_string()];
        flags.extend(self.window_flags());
        if let Some(ms) = self.slice_ms {
            flags.extend(["--slice-ms".into(), ms.to_string()]);
            if let Some(ns) = self.slice_origin_ns {
                flags.extend(["--slice-origin-ns".into(), ns.to_string()]);
            }
        }
        flags
    }
}

/// The victim's argv (applet first): isobench's flags, then `args`.
fn victim(workload: &str, run: VictimRun, args: &[String]) -> Vec<String> {
    let mut argv = vec![workload.to_string()];
    if workload == "cpu-units" {
        argv.extend(["--iters-per-unit".into(), run.iters_per_unit.to_string()]);
    }
    argv.extend(run.schedule_flags());
    argv.extend(args.iter().cloned());
    argv
}

/// An aggressor's argv (applet first): `--duration` (and `--dir` for io-hog), then `args`.
fn aggressor(workload: &str, duration_s: f64, dir: &Path, args: &[String]) -> Vec<String> {
    let mut argv = vec![
        workload.to_string(),
        "--duration".into(),
        duration_s.to_string(),
    ];
    if workload == "io-hog" {
        argv.extend(["--dir".into(), dir.display().to_string()]);
    }
    argv.extend(args.iter().cloned());
    argv
}

/// The argv (applet first) that runs `w` as a victim: an applet's, a command's
/// (`command-runs`, `command-reports`, or `exec` for a service, whose driver has
/// argv of its own), or a bench closure's.
pub fn victim_argv(w: &VictimWorkload, run: VictimRun) -> Vec<String> {
    let window = || run.window_flags().to_vec();
    match w {
        VictimWorkload::Applet { workload, args } => victim(workload, run, args),
        VictimWorkload::Command { command, mode } => {
            let mut argv = match mode {
                CommandMode::Runs => [vec!["command-runs".to_string()], window()].concat(),
                CommandMode::Reports(format) => [
                    vec!["command-reports".to_string(), "--format".to_string()],
                    vec![match format {
                        ReportFormat::Lines => "lines".to_string(),
                        ReportFormat::Json => "json".to_string(),
                    }],
                    window(),
                ]
                .concat(),
                // Its output goes to its report file, whose end is quoted if it fails.
                CommandMode::Service(_) => {
                    vec!["exec".to_string(), "--stderr-to-stdout".to_string()]
                }
            };
            argv.extend(command_args(command));
            argv
        }
        VictimWorkload::Closure { name } => {
            let mut argv = vec![BENCH_VICTIM.to_string(), "--name".into(), name.clone()];
            argv.extend(run.schedule_flags());
            argv
        }
    }
}

/// The argv (applet first) of the `drive-service` applet that drives service
/// `s` open-loop at `run.rate` requests per second through `run`'s warm-up and window.
pub fn driver_argv(s: &ServiceDef, run: VictimRun) -> Vec<String> {
    let mut argv = vec![
        "drive-service".to_string(),
        "--port".into(),
        s.port.to_string(),
        "--ready-timeout".into(),
        s.ready_timeout_s.to_string(),
    ];
    match &s.protocol {
        ServiceProtocol::Http { path } => {
            argv.extend([
                "--protocol".into(),
                "http".into(),
                "--path".into(),
                path.clone(),
            ]);
        }
        ServiceProtocol::Tcp { send, reply } => {
            argv.extend([
                "--protocol".into(),
                "tcp".into(),
                "--send".into(),
                send.clone(),
            ]);
            match reply {
                TcpReply::Bytes(n) => argv.extend(["--reply-bytes".into(), n.to_string()]),
                TcpReply::Until(d) => argv.extend(["--reply-until".into(), d.clone()]),
            }
        }
    }
    argv.extend(run.schedule_flags());
    argv
}

/// The applet a `cargo bench` binary serves to run one of its closures as a victim.
pub const BENCH_VICTIM: &str = "bench-victim";

/// The argv (applet first) that runs `w` as an aggressor for `duration_s`
/// (a command runs until it is stopped at the window's end).
pub fn aggressor_argv(w: &AggressorWorkload, duration_s: f64, dir: &Path) -> Vec<String> {
    match w {
        AggressorWorkload::Applet { workload, args } => aggressor(workload, duration_s, dir, args),
        AggressorWorkload::Command(c) => {
            let mut argv = vec!["exec".to_string()];
            argv.extend(command_args(c));
            argv
        }
    }
}

/// `--program P [--env K=V]... [--cwd D] -- ARGV...`: how the command applets take a command.
fn command_args(c: &CommandDef) -> Vec<String> {
    let mut argv = vec!["--program".to_string(), c.program.display().to_string()];
    for (k, v) in &c.env {
        argv.extend(["--env".to_string(), format!("{k}={v}")]);
    }
    if let Some(dir) = &c.cwd {
        argv.extend(["--cwd".to_string(), dir.display().to_string()]);
    }
    argv.push("--".into());
    argv.extend(c.argv.iter().cloned());
    argv
}

/// Checks `args` of applet `workload` with the applet's own command line, as
/// isobench would start it.
///
/// # Errors
/// The applet's message (flag, value, what it accepts).
pub fn check(workload: &str, args: &[String]) -> Result<(), String> {
    let argv = if super::model::VICTIMS.contains(&workload) {
        victim(
            workload,
            VictimRun {
                rate: 1.0,
                iters_per_unit: 1,
                warmup_s: 0.0,
                duration_s: 1.0,
                slice_ms: None,
                slice_origin_ns: None,
            },
            args,
        )
    } else {
        aggressor(workload, 1.0, Path::new("/tmp"), args)
    };
    isobench_workloads::cli::check_args(&argv[0], &argv[1..]).map_err(|e| first_line(&e))
}

/// clap's message without its `error: ` prefix and the usage lines that follow:
/// its first paragraph (e.g. the missing arguments listed under it) on one line,
/// then its tips.
fn first_line(message: &str) -> String {
    let paragraph: Vec<&str> = message
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let tips: Vec<&str> = message
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .collect();
    let mut out = paragraph
        .join(" ")
        .trim_start_matches("error: ")
        .to_string();
    for t in tips {
        out.push_str("; ");
        out.push_str(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> VictimRun {
        VictimRun {
            rate: 200.0,
            iters_per_unit: 1,
            warmup_s: 0.2,
            duration_s: 0.5,
            slice_ms: None,
            slice_origin_ns: None,
        }
    }

    #[test]
    fn the_driver_of_every_protocol_takes_its_argv() {
        for protocol in [
            ServiceProtocol::Http {
                path: "/health".into(),
            },
            ServiceProtocol::Tcp {
                send: "ping\n".into(),
                reply: TcpReply::Bytes(5),
            },
            ServiceProtocol::Tcp {
                send: "ping\n".into(),
                reply: TcpReply::Until("\n".into()),
            },
        ] {
            let s = ServiceDef {
                port: 8080,
                protocol,
                ready_timeout_s: 2.5,
            };
            let argv = driver_argv(&s, run());
            isobench_workloads::cli::check_args(&argv[0], &argv[1..])
                .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }
}
