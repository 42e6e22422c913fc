//! The command line of `isobench-workload`, in the library so that the harness
//! can check a user's workload arguments before it starts anything
//! ([`check_args`]); the binary's `main` only dispatches.
//!
//! Every value is checked here, by clap's value parsers, so that what parses is
//! what runs: a bad duration, size or intensity is a usage error, never a
//! failure halfway through a scenario.

use crate::intensity::AggressorArgs;
use crate::io_hog::Pattern;
use crate::mem_bw::Kernel;
use crate::memory::{Kind, PAGE};
use crate::open_loop::Schedule;
use crate::{cache_thrash, fork_storm, io_hog, mem_bw, net_hog, service_driver, tcp_echo};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
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
#[derive(Debug, clap::Args)]
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
    /// Also report the window's latencies per slice of this many ms (10 to 100),
    /// each slice's units and p99; none by default.
    #[arg(long, value_parser = clap::value_parser!(u64).range(crate::slices::MIN_SLICE_MS..=crate::slices::MAX_SLICE_MS))]
    pub slice_ms: Option<u64>,
    /// CLOCK_MONOTONIC (ns) where the first slice starts; default: the window's start.
    #[arg(long, requires = "slice_ms")]
    pub slice_origin_ns: Option<u64>,
}

impl ScheduleArgs {
    /// The schedule these arguments describe.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            rate: self.rate,
            warmup: self.warmup,
            duration: self.duration,
            slice: self.slice_ms.map(|ms| crate::slices::SliceSpec {
                len: Duration::from_millis(ms),
                origin_mono_ns: self.slice_origin_ns,
            }),
        }
    }
}

/// The window of a victim that keeps its own pace (a user's command).
#[derive(clap::Args)]
pub struct WindowArgs {
    /// Seconds of unrecorded warm-up before the measured window.
    #[arg(long, value_parser = seconds, default_value = "0")]
    pub warmup: Duration,
    /// Seconds of the measured window.
    #[arg(long, value_parser = seconds)]
    pub duration: Duration,
}

impl Applet {
    /// The intensity ramp of a catalogue aggressor (`--ramp`), if it has one.
    pub fn ramp(&self) -> Option<crate::intensity::Ramp> {
        match self {
            Applet::CpuHog { run, .. }
            | Applet::CacheThrash { run, .. }
            | Applet::MemBw { run, .. }
            | Applet::ForkStorm { run, .. }
            | Applet::IoHog { run, .. }
            | Applet::NetHog { run, .. } => run.ramp,
            _ => None,
        }
    }
}

/// The applets of `isobench-workload`, one per victim, aggressor or helper.
#[derive(Subcommand)]
pub enum Applet {
    /// Victim: fixed CPU work units, open-loop at --rate units/s; reports ops and latencies.
    CpuUnits {
        /// Work-loop iterations per unit (see `calibrate`), 1 to 10^9 (about 2 s).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
        iters_per_unit: u64,
        /// When units are due.
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Aggressor: N threads spinning on integer work.
    CpuHog {
        /// Threads, 1 to 1024; default one per CPU of this process's cpuset.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// Intensity (each thread spins that share of every 10 ms period), ramp, duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Aggressor: one thread that spins --burst-ms of CPU time (its own CPU
    /// clock), sleeps --sleep-ms, and again, --bursts times or until --duration;
    /// reports each burst's wall time (longer than its CPU time when a CFS quota
    /// throttles it: cpu.max.burst lets it run through).
    CpuBursts {
        /// CPU time of one burst, ms (0.1 to 10000).
        #[arg(long, default_value_t = 120.0, value_parser = burst_ms)]
        burst_ms: f64,
        /// Sleep after each burst, ms (0.1 to 10000).
        #[arg(long, default_value_t = 280.0, value_parser = burst_ms)]
        sleep_ms: f64,
        /// Most bursts (1 to 100000); default: until --duration.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        bursts: Option<u64>,
        /// Seconds to run at most.
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
        /// Directory of the file (`--kind file`) and of the --stream-rate file.
        #[arg(long, default_value = "/var/tmp")]
        dir: PathBuf,
        /// Live beside its cgroup's memory limit instead of dying on it: grow only
        /// until the cgroup's charge is the limit (the lower of memory.max and
        /// memory.high; v1 memory.limit_in_bytes) less 1/16 of it (4 to 64 MiB),
        /// and end with its report on SIGTERM.
        #[arg(long)]
        press_limit: bool,
        /// The memory cgroup directory to read the limit from (--press-limit);
        /// default: found from /proc/self/cgroup, which a cgroup namespace hides.
        #[arg(long, requires = "press_limit")]
        cgroup: Option<PathBuf>,
        /// With --press-limit: once grown, read a file of twice the headroom
        /// round and round at this rate (bytes/s), so that reclaim keeps running at the limit.
        #[arg(long, value_parser = size, requires = "press_limit")]
        stream_rate: Option<u64>,
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
    /// Victim: requests of --payload bytes to an echo server over loopback TCP,
    /// open-loop at --rate requests/s; records each round trip (ns).
    TcpEcho {
        /// Request and reply size, bytes (at most 1 MiB).
        #[arg(long, value_parser = size_up_to::<{ tcp_echo::MAX_PAYLOAD }>, default_value = "64")]
        payload: u64,
        /// When requests are due.
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Aggressor: streams over a buffer twice the last-level cache, reading and
    /// writing one byte of every 64-byte line.
    CacheThrash {
        /// Buffer size, all threads together (bytes; suffixes K, M, G, KiB, MiB, GiB;
        /// at most 1 GiB); default twice the last-level cache.
        #[arg(long, value_parser = size_up_to::<{ cache_thrash::MAX_BYTES }>)]
        bytes: Option<u64>,
        /// Threads, each streaming over its own share of the buffer.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: u16,
        /// Intensity and duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Aggressor: memory bandwidth, STREAM's copy or triad over arrays larger than the caches.
    MemBw {
        /// The STREAM kernel.
        #[arg(long, value_enum, default_value_t = Kernel::Triad)]
        kernel: Kernel,
        /// All arrays of all threads together (bytes; suffixes as --bytes of cache-thrash; at most 1 GiB).
        #[arg(long, value_parser = size_up_to::<{ mem_bw::MAX_BYTES }>, default_value = "192MiB")]
        bytes: u64,
        /// Threads, each with arrays of its own.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: u16,
        /// Intensity and duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Aggressor: forks children that exit at once, and reaps them.
    ForkStorm {
        /// Forks per second (a positive number); default as fast as --intensity allows.
        #[arg(long, value_parser = positive_rate)]
        rate: Option<f64>,
        /// Most children alive (forked, not yet reaped) at once.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
        max_children: u16,
        /// Most children forked in all (at most 1000000); it ends when they are done.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=fork_storm::MAX_FORKS_CAP))]
        max_forks: u64,
        /// Most forks tried, refused ones included (at most 1000000); default: no bound but --max-forks.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=fork_storm::MAX_FORKS_CAP))]
        max_attempts: Option<u64>,
        /// Milliseconds each child sleeps before it exits (0 to 60000): children
        /// that live hold tasks against pids.max.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
        child_life_ms: u64,
        /// Intensity and duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Aggressor: writes blocks to an unnamed file in --dir, with periodic fdatasync.
    IoHog {
        /// Directory of the file, on the device to load (not tmpfs).
        #[arg(long)]
        dir: PathBuf,
        /// Where the blocks go: one after the other, or at random (`rand` first
        /// writes the file once from start to end, as fio lays files out).
        #[arg(long, value_enum, default_value_t = Pattern::Seq)]
        pattern: Pattern,
        /// Bytes per write (suffixes as --bytes; at most 64 MiB and at most --bytes).
        #[arg(long, value_parser = size_up_to::<{ io_hog::MAX_BLOCK }>, default_value = "64KiB")]
        block: u64,
        /// Bound of the file's size; writes wrap around within it (bytes; suffixes
        /// K, M, G, KiB, MiB, GiB; at most 4 GiB).
        #[arg(long, value_parser = size_up_to::<{ io_hog::MAX_BYTES }>, default_value = "256MiB")]
        bytes: u64,
        /// Blocks written between two fdatasync calls; 0 never syncs.
        #[arg(long, default_value_t = 16)]
        fsync_every: u64,
        /// Intensity and duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Aggressor: a TCP flood over loopback in this network namespace.
    NetHog {
        /// Bytes per write (suffixes K, M, G, KiB, MiB, GiB; at most 64 MiB).
        #[arg(long, value_parser = size_up_to::<{ net_hog::MAX_MESSAGE }>, default_value = "64KiB")]
        message: u64,
        /// Intensity of the sender, and duration.
        #[command(flatten)]
        run: AggressorArgs,
    },
    /// Replaces itself with a user's command (a neighbour, or a service victim).
    Exec {
        /// Send the command's stderr where its stdout goes (a service victim's
        /// output file, whose end the harness quotes when the service fails).
        #[arg(long)]
        stderr_to_stdout: bool,
        /// The command.
        #[command(flatten)]
        command: crate::command::CommandArgs,
    },
    /// Victim: a user's command run back to back; each run's wall time is a unit.
    CommandRuns {
        /// The window.
        #[command(flatten)]
        window: WindowArgs,
        /// The command.
        #[command(flatten)]
        command: crate::command::CommandArgs,
    },
    /// Victim: a user's command that reports its own latencies on stdout.
    CommandReports {
        /// What it prints: one µs figure per line, or one JSON summary at exit.
        #[arg(long, value_enum)]
        format: crate::command_reports::Format,
        /// The window.
        #[command(flatten)]
        window: WindowArgs,
        /// The command.
        #[command(flatten)]
        command: crate::command::CommandArgs,
    },
    /// Victim driver: waits for a user's service on 127.0.0.1:PORT, then sends
    /// it requests open-loop at --rate requests/s over a pool of kept-alive
    /// connections; records each reply's latency from the request's intended start.
    DriveService {
        /// The service's TCP port on 127.0.0.1 of this network namespace.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
        /// What one request is: an HTTP/1.1 GET, or raw bytes.
        #[arg(long, value_enum)]
        protocol: service_driver::Protocol,
        /// The request target of `--protocol http` (default /).
        #[arg(long)]
        path: Option<String>,
        /// The bytes of one `--protocol tcp` request.
        #[arg(long)]
        send: Option<String>,
        /// A `--protocol tcp` reply is this many bytes (suffixes as --bytes; at most 1 MiB).
        #[arg(long, value_parser = size_up_to::<{ service_driver::MAX_TCP_REPLY }>)]
        reply_bytes: Option<u64>,
        /// A `--protocol tcp` reply ends with the first occurrence of this delimiter.
        #[arg(long)]
        reply_until: Option<String>,
        /// Seconds to wait for the port to accept a connection before driving it.
        #[arg(long, value_parser = seconds, default_value = "10")]
        ready_timeout: Duration,
        /// Seconds a whole reply may take from its request being sent (the
        /// connect included); one that takes longer makes the run a failure.
        #[arg(long, value_parser = positive_seconds, default_value = "5")]
        reply_timeout: Duration,
        /// Most connections open to the service at once, 1 to 1024.
        #[arg(long, default_value_t = service_driver::DEFAULT_CONNECTIONS, value_parser = clap::value_parser!(u16).range(1..=1024))]
        connections: u16,
        /// When requests are due.
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
    /// Prints the CPU counts runtimes would pick and the host figures /proc shows (cases C14, C15).
    CpuView {
        /// Seconds each external runtime (go, java, node) may take before it is killed.
        #[arg(long, default_value_t = 30.0)]
        runtime_timeout_s: f64,
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

impl Applet {
    /// The request of `drive-service`, from its flags; `None` for other applets.
    ///
    /// # Errors
    /// A flag that is missing or does not fit the protocol, by name (see
    /// [`service_driver::Request::from_flags`]).
    pub fn service_request(&self) -> Result<Option<service_driver::Request>, String> {
        let Applet::DriveService {
            protocol,
            path,
            send,
            reply_bytes,
            reply_until,
            ..
        } = self
        else {
            return Ok(None);
        };
        service_driver::Request::from_flags(
            *protocol,
            path.as_deref(),
            send.as_deref(),
            *reply_bytes,
            reply_until.as_deref(),
        )
        .map(Some)
    }
}

/// Longest `--duration` or `--warmup` of an applet, seconds (as suites allow).
pub const MAX_SECONDS: f64 = 3600.0;

/// Highest `--rate` of a victim, units per second: a unit every microsecond, well
/// above what one thread serves, and far from what the clock cannot resolve.
pub const MAX_RATE: f64 = 1e6;

/// Parses a `--duration`-like value: a finite number of seconds, 0 to [`MAX_SECONDS`].
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected a number of seconds such as 0.5 or 30".to_string())?;
    if !value.is_finite() || !(0.0..=MAX_SECONDS).contains(&value) {
        return Err(format!("expected 0 to {MAX_SECONDS} seconds"));
    }
    Duration::try_from_secs_f64(value).map_err(|e| format!("{e}: expected a number of seconds"))
}

/// Parses a burst or sleep length of `cpu-bursts`: 0.1 to 10000 ms.
fn burst_ms(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.1..=10_000.0).contains(&v) => Ok(v),
        _ => Err("expected 0.1 to 10000 ms".into()),
    }
}

/// Parses a timeout: as [`seconds`], but more than 0.
pub fn positive_seconds(text: &str) -> Result<Duration, String> {
    let d = seconds(text)?;
    if d.is_zero() {
        return Err("must be more than 0 seconds".into());
    }
    Ok(d)
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

/// Parses a size from 1 to `MAX` bytes.
pub fn size_up_to<const MAX: u64>(text: &str) -> Result<u64, String> {
    let bytes = size(text)?;
    if bytes > MAX {
        return Err(format!(
            "{bytes} bytes is more than the most allowed, {MAX}"
        ));
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

/// Parses a `--rate`-like value: a number per second above 0 and at most [`MAX_RATE`].
pub fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value <= MAX_RATE => Ok(value),
        _ => Err(format!(
            "expected a number per second above 0 and at most {MAX_RATE}"
        )),
    }
}

impl Cli {
    /// Parses `argv` (program name first) and checks what no single value parser
    /// can: that an `io-hog` block fits in its file, and that the flags of
    /// `drive-service` fit its protocol.
    ///
    /// # Errors
    /// Clap's error, ready to print or `exit` with.
    pub fn parse_checked<I, T>(argv: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let cli = Cli::try_parse_from(argv)?;
        if let Applet::IoHog { block, bytes, .. } = cli.applet
            && block > bytes
        {
            return Err(Cli::command().error(
                ErrorKind::ValueValidation,
                format!(
                    "--block {block} is larger than --bytes {bytes}: a block must fit in the file"
                ),
            ));
        }
        if let Applet::DriveService { .. } = cli.applet {
            cli.applet
                .service_request()
                .map_err(|why| Cli::command().error(ErrorKind::ArgumentConflict, why))?;
        }
        Ok(cli)
    }
}

/// Whether `name` is an applet of `isobench-workload` (`cpu-hog`, `sandbox-init`, …),
/// as its command line spells it: a binary that serves the applets through
/// [`crate::applets::main_with`] besides a command line of its own tells them apart with it.
pub fn is_applet(name: &str) -> bool {
    Cli::command()
        .get_subcommands()
        .any(|c| c.get_name() == name)
}

/// Checks the arguments of one applet as `isobench-workload APPLET ARGS...` would,
/// without running anything.
///
/// # Errors
/// Clap's message for the first problem found (unknown applet or flag, bad
/// value, missing argument, an `io-hog` block larger than its file), as plain
/// text without colours.
pub fn check_args(applet: &str, args: &[String]) -> Result<(), String> {
    let argv = ["isobench-workload", applet]
        .into_iter()
        .chain(args.iter().map(String::as_str));
    Cli::parse_checked(argv)
        .map(drop)
        .map_err(|e| e.render().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applets_are_known_by_their_command_line_names() {
        assert!(is_applet("sandbox-init") && is_applet("cache-thrash") && is_applet("calibrate"));
        assert!(!is_applet("--bench") && !is_applet("bench-victim") && !is_applet("cache_thrash"));
    }

    #[test]
    fn rates_and_durations_the_clock_cannot_serve_are_refused() {
        assert_eq!(positive_rate("1000"), Ok(1000.0));
        assert!(
            positive_rate("3e9")
                .unwrap_err()
                .contains("at most 1000000")
        );
        assert!(seconds("1e12").unwrap_err().contains("0 to 3600"));
        assert!(
            check_args(
                "cpu-hog",
                &[
                    "--duration".into(),
                    "1".into(),
                    "--threads".into(),
                    "0".into()
                ]
            )
            .is_err()
        );
        assert!(
            check_args(
                "cpu-units",
                &[
                    "--iters-per-unit".into(),
                    "18446744073709551615".into(),
                    "--rate".into(),
                    "1".into(),
                    "--duration".into(),
                    "1".into()
                ]
            )
            .is_err()
        );
    }

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
            err.contains("--duration") && err.contains("0 to 3600"),
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
    fn every_catalogue_applet_takes_its_defaults() {
        check("cache-thrash", &["--duration", "1"]).unwrap();
        check("mem-bw", &["--duration", "1", "--kernel", "copy"]).unwrap();
        check("fork-storm", &["--duration", "1", "--intensity", "50"]).unwrap();
        check(
            "fork-storm",
            &[
                "--duration",
                "1",
                "--max-attempts",
                "40",
                "--child-life-ms",
                "1500",
            ],
        )
        .unwrap();
        check("cpu-bursts", &["--duration", "1", "--burst-ms", "120"]).unwrap();
        assert!(
            check("cpu-bursts", &["--duration", "1", "--sleep-ms", "0"])
                .unwrap_err()
                .contains("0.1 to 10000 ms")
        );
        check("io-hog", &["--duration", "1", "--dir", "/var/tmp"]).unwrap();
        check("net-hog", &["--duration", "1"]).unwrap();
        check("wakeup-latency", &["--rate", "1000", "--duration", "1"]).unwrap();
        check("tcp-echo", &["--rate", "1000", "--duration", "1"]).unwrap();
    }

    #[test]
    fn intensity_outside_one_to_a_hundred_is_refused() {
        for applet in ["cache-thrash", "mem-bw", "fork-storm", "io-hog", "net-hog"] {
            for bad in ["0", "101"] {
                let args = ["--duration", "1", "--dir", "/tmp", "--intensity", bad];
                // Only io-hog takes --dir.
                let args = if applet == "io-hog" {
                    &args[..]
                } else {
                    &[args[0], args[1], args[4], args[5]][..]
                };
                let err = check(applet, args).unwrap_err();
                assert!(
                    err.contains("--intensity") && err.contains("1 to 100"),
                    "{applet}: {err}"
                );
            }
        }
    }

    #[test]
    fn zero_or_oversized_bytes_are_refused() {
        for applet in ["cache-thrash", "mem-bw"] {
            let err = check(applet, &["--duration", "1", "--bytes", "0"]).unwrap_err();
            assert!(
                err.contains("--bytes") && err.contains("more than 0"),
                "{err}"
            );
            let err = check(applet, &["--duration", "1", "--bytes", "2GiB"]).unwrap_err();
            assert!(err.contains("most allowed"), "{err}");
        }
        let err = check(
            "io-hog",
            &["--duration", "1", "--dir", "/tmp", "--bytes", "5GiB"],
        )
        .unwrap_err();
        assert!(err.contains("--bytes"), "{err}");
    }

    #[test]
    fn io_hog_needs_a_dir_and_a_block_that_fits() {
        let err = check("io-hog", &["--duration", "1"]).unwrap_err();
        assert!(err.contains("--dir"), "{err}");
        let err = check(
            "io-hog",
            &[
                "--duration",
                "1",
                "--dir",
                "/tmp",
                "--bytes",
                "1MiB",
                "--block",
                "2MiB",
            ],
        )
        .unwrap_err();
        assert!(err.contains("--block") && err.contains("fit"), "{err}");
    }

    #[test]
    fn fork_storm_bounds_are_bounded() {
        let err = check("fork-storm", &["--duration", "1", "--max-forks", "2000000"]).unwrap_err();
        assert!(err.contains("--max-forks"), "{err}");
        let err = check("fork-storm", &["--duration", "1", "--max-children", "0"]).unwrap_err();
        assert!(err.contains("--max-children"), "{err}");
    }

    #[test]
    fn drive_service_flags_must_fit_the_protocol() {
        let window = ["--rate", "100", "--duration", "1"];
        let with = |extra: &[&'static str]| {
            let mut args = vec!["--port", "8080"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&window);
            args
        };
        check(
            "drive-service",
            &with(&["--protocol", "http", "--path", "/health"]),
        )
        .unwrap();
        check(
            "drive-service",
            &with(&[
                "--protocol",
                "tcp",
                "--send",
                "ping\n",
                "--reply-until",
                "\n",
            ]),
        )
        .unwrap();
        let err = check(
            "drive-service",
            &with(&["--protocol", "tcp", "--send", "x"]),
        )
        .unwrap_err();
        assert!(err.contains("--reply-bytes N or --reply-until"), "{err}");
        let err = check(
            "drive-service",
            &with(&["--protocol", "http", "--reply-bytes", "4"]),
        )
        .unwrap_err();
        assert!(
            err.contains("--reply-bytes is for --protocol tcp only"),
            "{err}"
        );
        let err = check(
            "drive-service",
            &with(&["--protocol", "http", "--reply-timeout", "0"]),
        )
        .unwrap_err();
        assert!(
            err.contains("--reply-timeout") && err.contains("more than 0"),
            "{err}"
        );
        let err = check("drive-service", &with(&["--protocol", "udp"])).unwrap_err();
        assert!(err.contains("udp"), "{err}");
        let err = check(
            "drive-service",
            &[
                "--port",
                "0",
                "--protocol",
                "http",
                "--rate",
                "1",
                "--duration",
                "1",
            ],
        )
        .unwrap_err();
        assert!(err.contains("--port"), "{err}");
    }

    #[test]
    fn unknown_applet_and_missing_argument_are_refused() {
        let err = check("gpu-hog", &[]).unwrap_err();
        assert!(err.contains("gpu-hog"), "{err}");
        let err = check("cpu-hog", &[]).unwrap_err();
        assert!(err.contains("--duration"), "{err}");
    }
}
