//! What a workload tells the harness when it ends: one JSON object on stdout.
//!
//! Latencies travel as an HDR histogram in nanoseconds, flattened to
//! `[value_ns, count]` pairs of its recorded buckets, so the harness can merge
//! rounds without losing precision.

use crate::intensity::Intensity;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Highest latency a histogram tracks: 60 s, in ns.
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;
/// Significant decimal digits the histograms keep (0.1 % resolution).
pub const SIGFIG: u8 = 3;

/// A new, empty latency histogram in nanoseconds (1 ns .. [`MAX_LATENCY_NS`]).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, SIGFIG)
        .expect("static histogram bounds are valid")
}

/// The report of one workload process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "workload", rename_all = "kebab-case")]
pub enum WorkloadReport {
    /// `cpu-units`: open-loop CPU work units.
    CpuUnits(UnitsReport),
    /// `cpu-hog`: spinning threads.
    CpuHog(HogReport),
    /// `cpu-bursts`: bursts of CPU work between sleeps.
    CpuBursts(CpuBurstsReport),
    /// `calibrate`: the work-unit size for this host.
    Calibrate(Calibration),
    /// `mem-units`: open-loop units reading random cache lines of a working set.
    MemUnits(UnitsReport),
    /// `mem-hog`: memory grown and held.
    MemHog(MemHogReport),
    /// `wakeup-latency`: oversleep of timed sleeps, one per unit.
    WakeupLatency(UnitsReport),
    /// `tcp-echo`: round trips of requests over loopback TCP, one per unit.
    TcpEcho(UnitsReport),
    /// `cache-thrash`: a buffer twice the last-level cache, streamed over.
    CacheThrash(CacheThrashReport),
    /// `mem-bw`: STREAM-like copy or triad over arrays larger than the caches.
    MemBw(MemBwReport),
    /// `fork-storm`: short-lived children forked and reaped.
    ForkStorm(ForkStormReport),
    /// `io-hog`: blocks written to a file, with periodic fsync.
    IoHog(IoHogReport),
    /// `net-hog`: a loopback TCP flood.
    NetHog(NetHogReport),
    /// `command-runs`: a user's command run back to back, one unit per run.
    CommandRuns(UnitsReport),
    /// `command-reports`: the latencies a user's command reported itself.
    CommandReports(UnitsReport),
    /// `drive-service`: requests to a user's service, one per unit.
    DriveService(ServiceReport),
    /// `bench-victim`: a closure of a `cargo bench` binary (`isobench::bench`),
    /// one unit per call, open-loop.
    BenchVictim(UnitsReport),
}

/// The one figure that says how hard an aggressor pressed: a field of its report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    /// The report's field name (`mb_per_s`).
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// Unit for people (`MB/s`).
    pub unit: &'static str,
}

impl WorkloadReport {
    /// The aggressor's headline figure; `None` for victims, `calibrate`,
    /// `cpu-hog` (its CPU share says it all) and a mem-bw run too short to time.
    pub fn headline(&self) -> Option<Headline> {
        let (name, value, unit) = match self {
            WorkloadReport::CacheThrash(r) => ("lines_per_s", r.lines_per_s, "lines/s"),
            WorkloadReport::MemBw(r) => ("mb_per_s", r.mb_per_s?, "MB/s"),
            WorkloadReport::ForkStorm(r) => ("forks_per_s", r.forks_per_s, "forks/s"),
            WorkloadReport::CpuBursts(r) => {
                ("stretched_bursts", r.stretched_bursts as f64, "bursts")
            }
            WorkloadReport::IoHog(r) => ("mb_per_s", r.mb_per_s, "MB/s"),
            WorkloadReport::NetHog(r) => ("mb_per_s", r.mb_per_s, "MB/s"),
            WorkloadReport::MemHog(r) => ("bytes_reached", r.bytes_reached as f64, "bytes"),
            _ => return None,
        };
        Some(Headline { name, value, unit })
    }
}

/// Report of `cache-thrash`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CacheThrashReport {
    /// Size of the buffer streamed over (all threads together), bytes.
    pub buffer_bytes: u64,
    /// Size of the last-level cache, bytes; null where sysfs does not give it.
    pub llc_bytes: Option<u64>,
    /// Where `llc_bytes` came from (`L3 of /sys/.../index3`), or why it is null and what was assumed.
    pub llc_source: String,
    /// Threads, each streaming over its own share of the buffer.
    pub threads: usize,
    /// Full passes over its share made by the slowest thread.
    pub passes: u64,
    /// Cache lines read and written per second, all threads together, over `ran_s`.
    pub lines_per_s: f64,
    /// Seconds it ran.
    pub ran_s: f64,
    /// Duty cycle, percent of each 10 ms period spent working (1 to 100).
    pub intensity: Intensity,
}

/// Report of `mem-bw`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemBwReport {
    /// The STREAM kernel run.
    pub kernel: crate::mem_bw::Kernel,
    /// Size of all arrays of all threads together, bytes.
    pub array_bytes: u64,
    /// Threads, each with arrays of its own.
    pub threads: usize,
    /// Bandwidth in MB/s (10^6 bytes/s) by STREAM's count of bytes moved, over
    /// the time after the arrays were first written (see [`crate::mem_bw`]),
    /// summed over the threads; null when no thread had written its arrays by
    /// the deadline.
    pub mb_per_s: Option<f64>,
    /// Full passes of the kernel over its arrays made by the slowest thread.
    pub passes: u64,
    /// Seconds it ran, the first writing of the arrays included.
    pub ran_s: f64,
    /// Duty cycle, percent of each 10 ms period spent working (1 to 100).
    pub intensity: Intensity,
}

/// Report of `fork-storm`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ForkStormReport {
    /// Children forked (and reaped).
    pub forks: u64,
    /// Forks the kernel refused (EAGAIN at `pids.max` or `RLIMIT_NPROC`, ENOMEM).
    pub fork_failures: u64,
    /// The refusals by errno name, e.g. `{"EAGAIN": 12}`.
    pub fork_errnos: BTreeMap<String, u64>,
    /// Most children alive (forked, not yet reaped) at once.
    pub peak_children: u64,
    /// Forks tried: `forks` + `fork_failures`.
    #[serde(default)]
    pub attempts: u64,
    /// Forks per second over `ran_s`.
    pub forks_per_s: f64,
    /// Seconds it ran.
    pub ran_s: f64,
    /// Duty cycle, percent of each 10 ms period spent working (1 to 100).
    pub intensity: Intensity,
}

/// Report of `io-hog`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IoHogReport {
    /// Access pattern.
    pub pattern: crate::io_hog::Pattern,
    /// Size of each write, bytes.
    pub block_bytes: u64,
    /// Bytes written, rewrites included.
    pub bytes_written: u64,
    /// Size of the file when it ended, bytes (never more than `--bytes`).
    pub file_bytes: u64,
    /// `fdatasync` calls made.
    pub fsyncs: u64,
    /// Seconds until every block of the file had been written once (with
    /// `rand`, when random writes began); null if that was not reached.
    pub laid_out_s: Option<f64>,
    /// Write rate in MB/s (10^6 bytes/s) over `ran_s`.
    pub mb_per_s: f64,
    /// Seconds it ran.
    pub ran_s: f64,
    /// Duty cycle, percent of each 10 ms period spent working (1 to 100).
    pub intensity: Intensity,
}

/// Report of `net-hog`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NetHogReport {
    /// Bytes received by the reading end.
    pub bytes_moved: u64,
    /// Size of each write, bytes.
    pub message_bytes: u64,
    /// Throughput in MB/s (10^6 bytes/s) over `ran_s`.
    pub mb_per_s: f64,
    /// Seconds it ran.
    pub ran_s: f64,
    /// Duty cycle of the sender, percent of each 10 ms period spent working (1 to 100).
    pub intensity: Intensity,
}

/// Report of an aggressor that grows and holds memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemHogReport {
    /// Kind of memory held.
    pub kind: crate::memory::Kind,
    /// Bytes allocated or written and touched.
    pub bytes_reached: u64,
    /// Seconds it took to reach the planned size; null when it did not.
    pub fill_s: Option<f64>,
    /// Seconds it ran.
    pub ran_s: f64,
    /// Full passes re-touching the memory (`--keep`).
    pub keep_passes: u64,
    /// With `--press-limit`: the limit it found and how it pressed on it; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub press: Option<PressReport>,
}

/// How a `mem-hog --press-limit` pressed on its cgroup's memory limit
/// (see [`crate::mem_hog`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PressReport {
    /// The memory cgroup directory it read; null when it could not find it.
    pub cgroup: Option<String>,
    /// Its cgroup's lowest memory limit; null when it has none of its own (or it could not be read).
    pub limit: Option<crate::memory_limit::MemoryLimit>,
    /// Why the limit could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_unknown: Option<String>,
    /// The charge it grew to: `--bytes`, or the limit less its headroom when lower, bytes.
    pub target_bytes: u64,
    /// Its cgroup's charge when growth ended, bytes; null without a cgroup directory.
    pub charge_at_fill_bytes: Option<u64>,
    /// Size of the file streamed through the page cache (twice the headroom), bytes; null without a stream.
    pub stream_file_bytes: Option<u64>,
    /// Rate of the stream, bytes/s; null without a stream.
    pub stream_rate_bytes_per_s: Option<f64>,
    /// Bytes read from the stream once grown.
    pub streamed_bytes: u64,
    /// Full passes over the stream file.
    pub stream_passes: u64,
    /// Why there was no stream (not asked for, or a directory on tmpfs/ramfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_off: Option<String>,
}

/// Report of a victim that runs open-loop work units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnitsReport {
    /// Units whose intended start fell inside the measured window and that started before it closed.
    pub ops: u64,
    /// Units whose intended start fell inside the window but that had not started when it closed.
    pub missed: u64,
    /// Length of the measured window, seconds.
    pub window_s: f64,
    /// Intended rate, units/s.
    pub rate: f64,
    /// Latency of each unit from its intended start to its end, as `[value_ns, count]` pairs.
    pub latency_ns: Vec<(u64, u64)>,
    /// Why the victim measured nothing worth reading (a command that failed,
    /// printed a malformed line, never listened): the condition is then invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The window's latencies per slice, when asked for (`--slice-ms`) and
    /// every unit ended on the schedule's thread ([`crate::slices`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slices: Option<crate::slices::SliceReport>,
}

/// Report of `drive-service`: the window's requests to a service as units, and
/// what its replies were (see [`crate::service_driver`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceReport {
    /// The window's requests as units: ops, missed, latencies from their
    /// intended starts, and `failure` when the service could not be measured.
    pub units: UnitsReport,
    /// Seconds from the driver's start until the service accepted a
    /// connection; null when it never did.
    pub ready_s: Option<f64>,
    /// Requests of the window whose reply came whole, error statuses included.
    pub replies: u64,
    /// Of `replies`, HTTP replies with a 4xx or 5xx status.
    pub error_replies: u64,
    /// The first such status in the window, e.g. `404 Not Found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Connections opened to the service, warm-up included: the pool's growth
    /// and the replacements of connections the service closed.
    pub connections: u64,
}

/// Report of an aggressor that spins threads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HogReport {
    /// Threads that spun.
    pub threads: usize,
    /// Seconds they spun for.
    pub ran_s: f64,
}

/// Report of `cpu-bursts` (case C10).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuBurstsReport {
    /// Bursts run.
    pub bursts: u64,
    /// CPU time of each burst, ms.
    pub burst_cpu_ms: f64,
    /// Sleep after each burst, ms.
    pub sleep_ms: f64,
    /// Wall time of every burst, ms, in order: `burst_cpu_ms` when it ran
    /// through, longer when a quota throttled it (or other work preempted it).
    pub walls_ms: Vec<f64>,
    /// Median wall time of a burst, ms; null without bursts.
    pub wall_ms_p50: Option<f64>,
    /// Longest wall time of a burst, ms; null without bursts.
    pub wall_ms_max: Option<f64>,
    /// Bursts whose wall time was at least 4/3 of their CPU time
    /// ([`crate::cpu_bursts::STRETCHED`]).
    pub stretched_bursts: u64,
    /// CPU time the thread used, s.
    pub cpu_s: f64,
    /// Seconds it ran.
    pub ran_s: f64,
}

/// The calibrated size of one work unit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// Loop iterations of [`crate::work::unit`] that make one unit.
    pub iters_per_unit: u64,
    /// Measured duration of one unit on an idle CPU, ns (median of the samples).
    pub unit_ns: u64,
}

/// Flattens a histogram into `[value_ns, count]` pairs of its recorded buckets.
pub fn histogram_to_pairs(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// Records `[value_ns, count]` pairs into `into`.
///
/// # Errors
/// A value above [`MAX_LATENCY_NS`] is refused with the value it was.
pub fn add_pairs(into: &mut Histogram<u64>, pairs: &[(u64, u64)]) -> Result<(), ReportError> {
    for &(value, count) in pairs {
        into.record_n(value, count)
            .map_err(|_| ReportError::OutOfRange { value_ns: value })?;
    }
    Ok(())
}

/// A workload report that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A latency beyond what the histogram tracks.
    #[error("latency {value_ns} ns is beyond the histogram's range (max {MAX_LATENCY_NS} ns)")]
    OutOfRange {
        /// The value that did not fit, ns.
        value_ns: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_survives_the_round_trip_through_pairs() {
        let mut h = new_histogram();
        for v in [120_000u64, 130_000, 130_000, 5_000_000] {
            h.record(v).unwrap();
        }
        let mut back = new_histogram();
        add_pairs(&mut back, &histogram_to_pairs(&h)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn out_of_range_latency_is_refused_with_its_value() {
        let mut h = new_histogram();
        let err = add_pairs(&mut h, &[(MAX_LATENCY_NS * 10, 1)]).unwrap_err();
        assert!(err.to_string().contains("600000000000 ns"), "{err}");
    }

    #[test]
    fn report_json_is_tagged_with_the_workload_name() {
        let r = WorkloadReport::CpuHog(HogReport {
            threads: 2,
            ran_s: 1.0,
        });
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""workload":"cpu-hog""#), "{json}");
        assert_eq!(serde_json::from_str::<WorkloadReport>(&json).unwrap(), r);
    }
}
