//! The command line of `isobench-workload`, in the library so that the harness
//! can check a user's workload arguments before it starts anything
//! ([`check_args`]); the binary's `main` only dispatches.
//!
//! Every value is checked here, by clap's value parsers, so that what parses is
//! what runs: a bad duration, size or intensity is a usage error, never a
//! failure halfway through a scenario.

use crate::memory::{Kind, PAGE};
use crate::open_loop::Schedule;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Victims, aggressors and the sandbox init of isobench. Started by `isobench`;
/// each applet prints one JSON report on stdout.
#[derive(Parser)]
#[command(name = "isobench-workload", version)]
pub struct Cli {
    /// The applet to run, with its arguments.
    #[command(subcommand)]
    pub applet: Applet,
}

/// When a victim's units are due (open loop).
#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// Intended units per second (a positive number).
    #[arg(long, value_parser = positive_rate)]
    pub rate: f64,
    /// Seconds of unrecorded warm-up before the measured window.
    #[arg(long, value_parser = seconds, default_value = "0")]
    pub warmup: Duration,
    /// Seconds of the measured window.
    #[arg(long, value_parser = seconds)]
    pub duration: Duration,
}

impl ScheduleArgs {
    /// The schedule these arguments describe.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            rate: self.rate,
            warmup: self.warmup,
            duration: self.duration,
        }
    }
}

/// The applets of `isobench-workload`, one per victim, aggressor or helper.
#[derive(Subcommand)]
pub enum Applet {
    /// Victim: fixed CPU work units, open-loop at --rate units/s; reports ops and latencies.
    CpuUnits {
        /// Work-loop iterations per unit (see `calibrate`).
        #[arg(long)]
        iters_per_unit: u64,
        /// When units are due.
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Aggressor: N threads spinning on integer work.
    CpuHog {
        /// Threads; default one per CPU of this process's cpuset.
        #[arg(long)]
        threads: Option<usize>,
        /// Seconds to spin.
        #[arg(long, value_parser = seconds)]
        duration: Duration,
    },
    /// Victim: open-loop units at --rate units/s, each reading --lines random cache
    /// lines of a working set; reports ops and latencies.
    MemUnits {
        /// Working set size, at least one page (bytes; suffixes K, M, G, KiB, MiB, GiB).
        #[arg(long, value_parser = page_or_more)]
        working_set: u64,
        /// Kind of memory: `file` is a mapped file on disk (reclaimable), `anon` heap memory.
        #[arg(long, value_enum, default_value_t = Kind::File)]
        kind: Kind,
        /// Cache lines read per unit.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        lines: u32,
        /// Directory of the working-set file (`--kind file`), on a disk, not tmpfs.
        #[arg(long, default_value = "/var/tmp")]
        dir: PathBuf,
        /// When units are due.
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Aggressor: grows to --bytes of memory at --rate bytes/s, touching every page, and holds it.
    MemHog {
        /// Size to grow to (bytes; suffixes K, M, G, KiB, MiB, GiB).
        #[arg(long, value_parser = size)]
        bytes: u64,
        /// Growth rate in bytes/s (suffixes as --bytes); default as fast as it can.
        #[arg(long, value_parser = size)]
        rate: Option<u64>,
        /// Bytes per allocation or write.
        #[arg(long, value_parser = size, default_value = "16MiB")]
        step: u64,
        /// Kind of memory: anonymous, page cache of a file, or shared memory in /dev/shm.
        #[arg(long, value_enum, default_value_t = Kind::Anon)]
        kind: Kind,
        /// Keep re-touching every page once grown.
        #[arg(long)]
        keep: bool,
        /// Ask for transparent huge pages (`--kind anon`): grows several times faster, with 512 times fewer faults.
        #[arg(long)]
        huge_pages: bool,
        /// End as soon as --bytes are reached instead of holding them until --duration ends.
        #[arg(long)]
        exit_when_grown: bool,
        /// Directory of the file (`--kind file`).
        #[arg(long, default_value = "/var/tmp")]
        dir: PathBuf,
        /// Seconds to run, growth included.
        #[arg(long, value_parser = seconds)]
        duration: Duration,
    },
    /// Victim: sleeps until each due time, open-loop at --rate wake-ups/s, and
    /// records how late it woke (oversleep, ns); like cyclictest.
    WakeupLatency {
        /// When wake-ups are due.
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Finds the work-loop iterations that make one unit of --unit-us µs.
    Calibrate {
        /// Wanted unit length, µs.
        #[arg(long, default_value_t = 100)]
        unit_us: u64,
    },
    /// Pid 1 of a sandbox: prepares it, runs the workload, forwards signals, reaps.
    SandboxInit {
        /// Make all mounts private (needs a mount namespace).
        #[arg(long)]
        private_mounts: bool,
        /// Mount a fresh /proc (needs mount and pid namespaces).
        #[arg(long)]
        fresh_proc: bool,
        /// Hostname to set (needs a UTS namespace).
        #[arg(long)]
        hostname: Option<String>,
        /// The workload applet and its arguments.
        #[arg(last = true, required = true)]
        workload: Vec<String>,
    },
    /// Prints what this process can see: pids, interfaces, hostname, cgroup, namespaces.
    Inspect {
        /// A pid of the host to try to signal (signal 0, nothing is delivered).
        #[arg(long)]
        host_pid: Option<i32>,
    },
    /// Binds TCP 127.0.0.1:PORT, serves a request of its own, holds the port.
    HoldPort {
        /// The port.
        #[arg(long)]
        port: u16,
        /// Tag of the request and reply (`ping-TAG` → `pong-TAG`).
        #[arg(long)]
        tag: String,
        /// Milliseconds to hold the port.
        #[arg(long)]
        hold_ms: u64,
    },
    /// Mounts a tmpfs on DIR with a marker file, holds it (refuses in the host's mount namespace).
    HoldMount {
        /// An existing, empty directory.
        #[arg(long)]
        dir: std::path::PathBuf,
        /// The host's mount namespace (`mnt:[...]`); the mount is refused if this process shares it.
        #[arg(long)]
        host_mnt_ns: String,
        /// Milliseconds to hold the mount.
        #[arg(long)]
        hold_ms: u64,
    },
    /// Creates a POSIX message queue, holds it, unlinks it.
    HoldMqueue {
        /// Queue name, starting with `/`.
        #[arg(long)]
        name: String,
        /// Milliseconds to hold the queue.
        #[arg(long)]
        hold_ms: u64,
    },
}

/// Parses a `--duration`-like value: a finite, non-negative number of seconds.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected a number of seconds such as 0.5 or 30".to_string())?;
    if !value.is_finite() || value < 0.0 {
        return Err("expected a non-negative number of seconds".into());
    }
    Duration::try_from_secs_f64(value).map_err(|e| format!("{e}: expected a number of seconds"))
}

/// Parses a size such as `256MiB`, `2G` or `4096`, refusing zero.
pub fn size(text: &str) -> Result<u64, String> {
    let bytes = parse_size::parse_size(text)
        .map_err(|e| format!("{e}: expected a size in bytes such as 4096, 256MiB or 2G"))?;
    if bytes == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(bytes)
}

/// Parses a size of at least one page ([`PAGE`] bytes).
pub fn page_or_more(text: &str) -> Result<u64, String> {
    let bytes = size(text)?;
    if bytes < PAGE as u64 {
        return Err(format!(
            "{bytes} bytes is less than one page: expected at least {PAGE}"
        ));
    }
    Ok(bytes)
}

/// Parses a `--rate`-like value: a finite, positive number per second.
pub fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err("expected a positive number per second".into()),
    }
}

/// Checks the arguments of one applet as `isobench-workload APPLET ARGS...` would,
/// without running anything.
///
/// # Errors
/// Clap's message for the first problem found (unknown applet or flag, bad
/// value, missing argument), as plain text without colours.
pub fn check_args(applet: &str, args: &[String]) -> Result<(), String> {
    let argv = ["isobench-workload", applet]
        .into_iter()
        .chain(args.iter().map(String::as_str));
    Cli::try_parse_from(argv)
        .map(drop)
        .map_err(|e| e.render().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(applet: &str, args: &[&str]) -> Result<(), String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        check_args(applet, &args)
    }

    #[test]
    fn good_arguments_pass() {
        check(
            "cpu-units",
            &["--iters-per-unit", "100", "--rate", "10", "--duration", "1"],
        )
        .unwrap();
        check("mem-hog", &["--bytes", "64MiB", "--duration", "0.5"]).unwrap();
    }

    #[test]
    fn unknown_flag_is_refused_by_name() {
        let err = check("cpu-hog", &["--duration", "1", "--speed", "3"]).unwrap_err();
        assert!(err.contains("--speed"), "{err}");
        assert!(!err.contains('\x1b'), "no colours: {err:?}");
    }

    #[test]
    fn bad_value_is_refused_with_the_flag_and_value() {
        let err = check("cpu-hog", &["--duration=-1"]).unwrap_err();
        assert!(
            err.contains("--duration") && err.contains("non-negative"),
            "{err}"
        );
        let err = check("mem-hog", &["--bytes", "0", "--duration", "1"]).unwrap_err();
        assert!(
            err.contains("--bytes") && err.contains("more than 0"),
            "{err}"
        );
        let err = check(
            "cpu-units",
            &["--iters-per-unit", "1", "--rate", "0", "--duration", "1"],
        )
        .unwrap_err();
        assert!(err.contains("--rate"), "{err}");
    }

    #[test]
    fn unknown_applet_and_missing_argument_are_refused() {
        let err = check("gpu-hog", &[]).unwrap_err();
        assert!(err.contains("gpu-hog"), "{err}");
        let err = check("cpu-hog", &[]).unwrap_err();
        assert!(err.contains("--duration"), "{err}");
    }
}
