//! `isobench-workload`: the multi-call binary of victims, aggressors and the sandbox init.
#![deny(unsafe_code)]

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use isobench_workloads::report::{Calibration, WorkloadReport};
use isobench_workloads::{cpu_hog, cpu_units, hold, init, inspect, work};
use std::time::Duration;

/// Victims, aggressors and the sandbox init of isobench. Started by `isobench`;
/// each applet prints one JSON report on stdout.
#[derive(Parser)]
#[command(name = "isobench-workload", version)]
struct Cli {
    #[command(subcommand)]
    applet: Applet,
}

#[derive(Subcommand)]
enum Applet {
    /// Victim: fixed CPU work units, open-loop at --rate units/s; reports ops and latencies.
    CpuUnits {
        /// Work-loop iterations per unit (see `calibrate`).
        #[arg(long)]
        iters_per_unit: u64,
        /// Intended units per second.
        #[arg(long)]
        rate: f64,
        /// Seconds of unrecorded warm-up before the measured window.
        #[arg(long, default_value_t = 0.0)]
        warmup: f64,
        /// Seconds of the measured window.
        #[arg(long)]
        duration: f64,
    },
    /// Aggressor: N threads spinning on integer work.
    CpuHog {
        /// Threads; default one per CPU of this process's cpuset.
        #[arg(long)]
        threads: Option<usize>,
        /// Seconds to spin.
        #[arg(long)]
        duration: f64,
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

/// Converts a `--duration`-like value, refusing what is not a finite, non-negative number.
fn seconds(flag: &str, value: f64) -> Result<Duration> {
    if !value.is_finite() || value < 0.0 {
        bail!("invalid {flag} {value}: expected a non-negative number of seconds");
    }
    Ok(Duration::from_secs_f64(value))
}

/// Exits 1 when a holder could not take its resource (it printed why on stdout).
fn held(outcome: Result<bool>) -> Result<()> {
    if !outcome? {
        std::process::exit(1);
    }
    Ok(())
}

fn print(report: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(report)?);
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().applet {
        Applet::CpuUnits {
            iters_per_unit,
            rate,
            warmup,
            duration,
        } => {
            if !(rate.is_finite() && rate > 0.0) {
                bail!("invalid --rate {rate}: expected a positive number of units per second");
            }
            let plan = cpu_units::UnitsPlan {
                iters_per_unit,
                rate,
                warmup: seconds("--warmup", warmup)?,
                duration: seconds("--duration", duration)?,
            };
            print(&WorkloadReport::CpuUnits(cpu_units::run(plan)))
        }
        Applet::CpuHog { threads, duration } => {
            let threads = threads.unwrap_or_else(cpu_hog::cpus_allowed);
            print(&WorkloadReport::CpuHog(cpu_hog::run(
                threads,
                seconds("--duration", duration)?,
            )))
        }
        Applet::Calibrate { unit_us } => {
            let (iters_per_unit, unit_ns) = work::calibrate(Duration::from_micros(unit_us));
            print(&WorkloadReport::Calibrate(Calibration {
                iters_per_unit,
                unit_ns,
            }))
        }
        Applet::SandboxInit {
            private_mounts,
            fresh_proc,
            hostname,
            workload,
        } => {
            let code = init::run(&init::InitPlan {
                private_mounts,
                fresh_proc,
                hostname,
                workload,
            })?;
            std::process::exit(code)
        }
        Applet::Inspect { host_pid } => print(&inspect::look(host_pid)),
        Applet::HoldPort { port, tag, hold_ms } => {
            held(hold::port(port, &tag, Duration::from_millis(hold_ms)))
        }
        Applet::HoldMount {
            dir,
            host_mnt_ns,
            hold_ms,
        } => held(hold::mount(
            &dir,
            &host_mnt_ns,
            Duration::from_millis(hold_ms),
        )),
        Applet::HoldMqueue { name, hold_ms } => {
            held(hold::mqueue(&name, Duration::from_millis(hold_ms)))
        }
    }
}
