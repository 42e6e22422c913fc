//! `isobench-workload`: the multi-call binary of victims, aggressors and the sandbox init.
#![deny(unsafe_code)]

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use isobench_workloads::memory::Kind;
use isobench_workloads::open_loop::Schedule;
use isobench_workloads::report::{Calibration, WorkloadReport};
use isobench_workloads::{cpu_hog, cpu_units, hold, init, inspect, mem_hog, mem_units, work};
use std::path::PathBuf;
use std::time::Duration;

/// Victims, aggressors and the sandbox init of isobench. Started by `isobench`;
/// each applet prints one JSON report on stdout.
#[derive(Parser)]
#[command(name = "isobench-workload", version)]
struct Cli {
    #[command(subcommand)]
    applet: Applet,
}

/// When a victim's units are due (open loop).
#[derive(clap::Args)]
struct ScheduleArgs {
    /// Intended units per second.
    #[arg(long)]
    rate: f64,
    /// Seconds of unrecorded warm-up before the measured window.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Seconds of the measured window.
    #[arg(long)]
    duration: f64,
}

impl ScheduleArgs {
    /// The checked schedule.
    fn schedule(&self) -> Result<Schedule> {
        Ok(Schedule {
            rate: positive_rate("--rate", self.rate)?,
            warmup: seconds("--warmup", self.warmup)?,
            duration: seconds("--duration", self.duration)?,
        })
    }
}

#[derive(Subcommand)]
enum Applet {
    /// Victim: fixed CPU work units, open-loop at --rate units/s; reports ops and latencies.
    CpuUnits {
        /// Work-loop iterations per unit (see `calibrate`).
        #[arg(long)]
        iters_per_unit: u64,
        #[command(flatten)]
        schedule: ScheduleArgs,
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

/// Parses a size such as `256MiB`, `2G` or `4096`, refusing zero.
fn size(text: &str) -> Result<u64, String> {
    let bytes = parse_size::parse_size(text)
        .map_err(|e| format!("{e}: expected a size in bytes such as 4096, 256MiB or 2G"))?;
    if bytes == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(bytes)
}

/// Parses a size of at least one page (4096 bytes).
fn page_or_more(text: &str) -> Result<u64, String> {
    let bytes = size(text)?;
    if bytes < isobench_workloads::memory::PAGE as u64 {
        return Err(format!(
            "{bytes} bytes is less than one page: expected at least 4096"
        ));
    }
    Ok(bytes)
}

/// Checks `--rate`-like values: finite and positive.
fn positive_rate(flag: &str, value: f64) -> Result<f64> {
    if !(value.is_finite() && value > 0.0) {
        bail!("invalid {flag} {value}: expected a positive number per second");
    }
    Ok(value)
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
            schedule,
        } => print(&WorkloadReport::CpuUnits(cpu_units::run(
            iters_per_unit,
            schedule.schedule()?,
        ))),
        Applet::MemUnits {
            working_set,
            kind,
            lines,
            dir,
            schedule,
        } => {
            let report = mem_units::run(
                kind,
                working_set as usize,
                lines as usize,
                &dir,
                schedule.schedule()?,
            )?;
            print(&WorkloadReport::MemUnits(report))
        }
        Applet::MemHog {
            bytes,
            rate,
            step,
            kind,
            keep,
            huge_pages,
            exit_when_grown,
            dir,
            duration,
        } => {
            let plan = mem_hog::HogPlan {
                huge_pages,
                exit_when_grown,
                kind,
                bytes,
                rate: rate.map(|r| r as f64),
                step,
                keep,
                duration: seconds("--duration", duration)?,
                dir,
            };
            print(&WorkloadReport::MemHog(mem_hog::run(&plan)?))
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
