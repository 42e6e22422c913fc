//! The command line (clap). Checked here for syntax and ranges only; nothing
//! below this module imports clap.

use crate::cgroup::{MemoryKnob, MemorySetting};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Benchmarks resource isolation on Linux: the CPU share cgroup-limited
/// namespace sandboxes really get, and what a victim beside a noisy neighbour feels.
#[derive(Debug, Parser)]
#[command(name = "isobench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite and write results.json, report.html and summary.md.
    Run(RunArgs),
    /// Say what this host supports for isobench, and why not.
    Doctor {
        /// Print the probe as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove cgroups (and kill their processes) that a killed run left behind.
    Cleanup,
    /// Judge CURRENT against BASELINE: PASS, FAIL or INCONCLUSIVE per gated metric.
    ///
    /// Exit status: 0 all pass, 1 a regression, 2 inconclusive or unfit host, 3 usage or runtime error.
    Compare(CompareArgs),
    /// Merge many hosts' results.json into one fleet report: fleet.html, fleet.md,
    /// fleet.json, fleet.prom and samples.jsonl in DIR.
    ///
    /// Hosts are grouped by fingerprint class (kernel, cgroup layout, CPU model,
    /// CPU count, virtualised) and their figures never pooled across classes
    /// unless --pool-classes. A file of another schema version, a duplicate run,
    /// a run with no scenario in common with the others or an unreadable file is
    /// left out with a line saying why; exit 3 when no file can be merged.
    Merge(MergeArgs),
    /// Run one isolation scenario at a list of values of one knob (an aggressor's
    /// intensity, a CPU quota, a memory limit): the victim's curves, one per
    /// condition, and their knees (docs/suite-format.md, "Sweeps").
    Sweep(SweepArgs),
    /// Run a suite twice on this build (A/A) and write margins at about 3× the spread seen.
    Calibrate(CalibrateArgs),
    /// Print an embedded suite, or check a suite file without running anything.
    #[command(subcommand)]
    Suite(SuiteCommand),
    /// Render report.html (and summary.md) again from a results.json, offline.
    ///
    /// The report keeps the comparison section (verdict, forest plot, table) that
    /// `isobench compare` adds: from --compare, or else from a compare.json beside
    /// RESULTS when that file judges the same run (as `isobench compare` leaves it).
    Report {
        /// The results file.
        results: PathBuf,
        /// The HTML file to write [default: report.html beside RESULTS]; summary.md goes beside it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// compare.json of `isobench compare` with RESULTS as CURRENT, shown as the comparison
        /// section [default: compare.json beside RESULTS, if it judges RESULTS' run].
        #[arg(long, value_name = "COMPARE_JSON")]
        compare: Option<PathBuf>,
    },
}

impl Command {
    /// Whether SIGINT and SIGTERM are noted and polled (see
    /// [`crate::interrupt`]) rather than ending the process at once: so for
    /// the commands that make cgroups, sandboxes or frozen neighbours, which
    /// they tear down on the way out (exit 130). The others (`compare`,
    /// `merge`, `report`, `suite`) only read files and write theirs atomically
    /// (each file is the old one or the new one, never half): a signal ends
    /// them at once.
    pub fn tears_down_on_interrupt(&self) -> bool {
        match self {
            Command::Run(_)
            | Command::Sweep(_)
            | Command::Calibrate(_)
            | Command::Doctor { .. }
            | Command::Cleanup => true,
            Command::Compare(_)
            | Command::Merge(_)
            | Command::Report { .. }
            | Command::Suite(_) => false,
        }
    }
}

/// `isobench suite ...`.
#[derive(Debug, Subcommand)]
pub enum SuiteCommand {
    /// Print an embedded suite's TOML, to start your own from a copy.
    Show {
        /// `default` or `quick`.
        name: String,
    },
    /// Check a suite file (or an embedded suite's name): every problem with its
    /// file:line:column and field; exit 3 when there is any.
    Check {
        /// The suite file.
        file: String,
    },
}

/// Arguments of `isobench compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// results.json of the run to compare against.
    pub baseline: PathBuf,
    /// results.json of the run to judge.
    pub current: PathBuf,
    /// Where compare.json, compare.md, compare.prom and report.html (with the comparison) go [default: CURRENT's directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// TOML file of margins that replace the defaults (see docs/compare.md).
    #[arg(long)]
    pub margins: Option<PathBuf>,
    /// Compare even when the two hosts' fingerprints differ (only those: see --accept-disturbed).
    #[arg(long)]
    pub force: bool,
    /// Also write the gate as JUnit XML to FILE: one test case per gated metric,
    /// FAIL as a failure (baseline, current, CI, margin), INCONCLUSIVE as skipped.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write compare.prom (OpenMetrics text, see docs/fleet.md) to FILE,
    /// e.g. into node_exporter's textfile collector directory.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// Judge runs that other work on the host disturbed (more than 0.1 CPU of it on
    /// average in a condition) instead of answering UNFIT; compare.json and compare.md
    /// list the disturbance as accepted.
    #[arg(long)]
    pub accept_disturbed: bool,
}

/// Arguments of `isobench merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// results.json of each host's run; a host is named after the file's
    /// directory (`nodes/node-a/results.json` is `node-a`) or else its stem.
    #[arg(required = true, value_name = "RESULTS.json")]
    pub results: Vec<PathBuf>,
    /// Directory for fleet.html, fleet.md, fleet.json, fleet.prom and samples.jsonl (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Pool each scenario's figures over every host, across fingerprint classes;
    /// the report says so at its top.
    #[arg(long)]
    pub pool_classes: bool,
    /// Also write fleet.prom (OpenMetrics text, see docs/fleet.md) to FILE.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
}

/// Arguments of `isobench calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Suite to run twice: an embedded suite's name or a suite file.
    #[arg(long, default_value = "quick", value_name = "NAME|FILE")]
    pub suite: String,
    /// The margins file to write (refused if it exists).
    #[arg(long, default_value = "isobench-margins.toml")]
    pub out: PathBuf,
    /// Directory for the two runs' results [default: isobench-results/calibrate-<UTC time>].
    #[arg(long)]
    pub results: Option<PathBuf>,
}

/// The timing flags of `run` and `sweep`; `None` keeps the suite's.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TimingArgs {
    /// Rounds per scenario (each runs every condition once, in random order) [default: the suite's:
    /// 5 (3 for memory-pressure) in default, 10 in quick].
    #[arg(long, value_parser = clap::value_parser!(u32).range(*crate::scenario::ROUNDS.start() as i64..=*crate::scenario::ROUNDS.end() as i64), allow_negative_numbers = true)]
    pub rounds: Option<u32>,
    /// Measured seconds per condition, 0.1 to 3600 [default: the suite's, 2 or 0.7].
    #[arg(long, value_parser = window_seconds, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Unrecorded warm-up seconds before each measured window [default: the suite's, 0.5 or 0.3].
    #[arg(long, value_parser = non_negative_seconds, allow_negative_numbers = true)]
    pub warmup: Option<f64>,
}

/// Arguments of `isobench run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Suite to run: an embedded suite's name (`default`, `quick`) or a suite file
    /// (TOML, see docs/suite-format.md; `isobench suite show default` prints one to start from).
    #[arg(long, default_value = "default", value_name = "NAME|FILE")]
    pub suite: String,
    /// Run only this scenario of the suite (repeatable), e.g. `cpu-share`.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Rounds, window and warm-up.
    #[command(flatten)]
    pub timing: TimingArgs,
    /// CPU quota, in CPUs, of every isolation scenario's aggressor that has one, in the
    /// isolated condition (cpu.max, or cpu.cfs_quota_us on v1, over its period)
    /// [default: the suite's; cpu-share: 0.5].
    #[arg(long, value_name = "CPUS", value_parser = quota_cpus)]
    pub aggressor_cpus: Option<f64>,
    /// Reuse the victim's work unit as calibrated by that run (its results.json)
    /// instead of calibrating anew, so that `isobench compare` against it also
    /// gates absolute latencies and rates (implied by --until-decided's --baseline).
    #[arg(long, value_name = "RESULTS.json")]
    pub calibration_from: Option<PathBuf>,
    /// Keep adding rounds while a gated metric is INCONCLUSIVE against --baseline, up to --max-rounds.
    #[arg(long, requires = "baseline")]
    pub until_decided: bool,
    /// results.json of the baseline for --until-decided.
    #[arg(long, value_name = "FILE", requires = "until_decided")]
    pub baseline: Option<PathBuf>,
    /// Rounds per scenario at most with --until-decided [default: 30].
    #[arg(long, value_name = "N", requires = "until_decided", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_rounds: Option<u32>,
    /// Margins file for --until-decided (see docs/compare.md).
    #[arg(long, value_name = "FILE", requires = "until_decided")]
    pub margins: Option<PathBuf>,
    /// Memory limit of each memory-pressure condition's arena, standing for
    /// "the machine" (e.g. 2GiB, 512MiB); at most MemAvailable − 1 GiB [default: 2GiB].
    #[arg(long, value_name = "SIZE", value_parser = size, allow_hyphen_values = true)]
    pub arena_memory: Option<u64>,
    /// The memory-pressure victim's working set, below --arena-memory [default: 256MiB].
    #[arg(long, value_name = "SIZE", value_parser = size, allow_hyphen_values = true)]
    pub working_set: Option<u64>,
    /// A memory knob of the memory-pressure aggressor in the isolated condition,
    /// KNOB=SIZE or KNOB=max (repeatable), e.g. memory.max=512MiB or memory.high=256MiB
    /// [default: memory.max=512MiB, written as memory.limit_in_bytes on v1].
    #[arg(long = "aggressor-memory", value_name = "KNOB=SIZE", value_parser = memory_setting)]
    pub aggressor_memory: Vec<MemorySetting>,
    /// Recorded starts per variant per round of startup-latency, 1 to 100000 [default: 50].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000), allow_negative_numbers = true)]
    pub startup_samples: Option<u32>,
    /// Seconds of each churn measurement of startup-latency, 0.1 to 3600 [default: 1].
    #[arg(long, value_name = "SECS", value_parser = window_seconds, allow_negative_numbers = true)]
    pub churn_seconds: Option<f64>,
    /// Namespaces of startup-latency's headline sandbox, comma-separated from
    /// pid, mnt, uts, ipc, net, cgroup, user [default: pid,mnt,uts,ipc,cgroup]; net is
    /// always measured apart (sandbox_all without it, sandbox_all_net with it).
    #[arg(long, value_name = "LIST", value_parser = crate::startup::variant::parse_namespaces)]
    pub namespaces: Option<crate::sandbox::NamespaceSet>,
    /// Output directory [default: isobench-results/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write isobench.prom (OpenMetrics text, see docs/fleet.md) to FILE at the
    /// end of the run, e.g. into node_exporter's textfile collector directory.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// Accept conditions that other work on the host disturbed (more than 0.1 CPU
    /// of it): results.json records the acceptance and the disturbed conditions,
    /// and --until-decided judges them anyway (`isobench compare` needs the flag too).
    #[arg(long)]
    pub accept_disturbed: bool,
}

/// Arguments of `isobench sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Suite holding the scenario: an embedded suite's name or a suite file.
    #[arg(long, default_value = "default", value_name = "NAME|FILE")]
    pub suite: String,
    /// The isolation scenario to sweep, e.g. `cpu-share`.
    #[arg(long, value_name = "NAME")]
    pub scenario: String,
    /// The knob: SANDBOX.KNOB, SANDBOX `victim`, `aggressor` (every aggressor) or an
    /// aggressor's name, KNOB `intensity` (percent, 0 leaves the aggressor out),
    /// `cpus` (CPU quota, isolated condition) or `memory` (memory.max, isolated condition)
    /// [default: the scenario's `[scenario.sweep]`].
    #[arg(long, value_name = "SANDBOX.KNOB", requires = "values")]
    pub over: Option<String>,
    /// The values, comma-separated, lowest first, 2 to 50 of them, e.g. 0,25,50,75,100
    /// (intensity), 0.25,0.5,1 (cpus) or 64MiB,256MiB (memory).
    #[arg(
        long,
        value_name = "LIST",
        allow_hyphen_values = true,
        requires = "over"
    )]
    pub values: Option<String>,
    /// Rounds (each runs every step once, the steps in random order), window and warm-up.
    #[command(flatten)]
    pub timing: TimingArgs,
    /// The knee is the first step whose p99, against the first step's, has a 95 % CI
    /// wholly above this ratio, 1 to 100 [default: 1.2].
    #[arg(long, value_name = "RATIO", value_parser = knee_margin, allow_negative_numbers = true)]
    pub knee_margin: Option<f64>,
    /// Output directory [default: isobench-results/sweep-<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Accept conditions that other work on the host disturbed (recorded in results.json).
    #[arg(long)]
    pub accept_disturbed: bool,
}

/// Parses a knee margin: a ratio from 1 to 100.
fn knee_margin(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a ratio (e.g. 1.2 for 20 %)"))?;
    if !v.is_finite() || !(1.0..=100.0).contains(&v) {
        return Err(format!(
            "{s:?} is out of range: expected a ratio from 1 to 100"
        ));
    }
    Ok(v)
}

/// Parses a size in bytes, e.g. `4096`, `256MiB`, `2G` (1000-based) or `2GiB`; refuses 0 and negatives.
fn size(s: &str) -> Result<u64, String> {
    let bytes = parse_size::parse_size(s.trim()).map_err(|e| {
        format!("{s:?} is not a size ({e}): expected bytes such as 4096, 256MiB or 2GiB")
    })?;
    if bytes == 0 {
        return Err(format!("{s:?} is zero: expected a size above 0 bytes"));
    }
    Ok(bytes)
}

/// Parses `KNOB=SIZE` or `KNOB=max` for a memory knob.
fn memory_setting(s: &str) -> Result<MemorySetting, String> {
    let (knob, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KNOB=SIZE (e.g. memory.max=512MiB)"))?;
    let knob = MemoryKnob::parse(knob.trim())?;
    let bytes = match value.trim() {
        "max" => None,
        v => Some(size(v)?),
    };
    Ok(MemorySetting { knob, bytes })
}

use crate::scenario::{MAX_SECONDS, MIN_WINDOW_S as MIN_WINDOW_SECONDS};

/// Parses seconds in `min..=MAX_SECONDS`.
fn seconds(s: &str, min: f64) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds (e.g. 2 or 0.5)"))?;
    if !v.is_finite() || v < min || v > MAX_SECONDS {
        return Err(format!(
            "{s:?} is out of range: expected at least {min} and at most {MAX_SECONDS} seconds"
        ));
    }
    Ok(v)
}

/// Parses a CPU quota in CPUs: 0.01 (1 ms per 100 ms period) to 1024.
fn quota_cpus(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of CPUs (e.g. 0.5 or 1.5)"))?;
    if !v.is_finite() || !(0.01..=1024.0).contains(&v) {
        return Err(format!("{s:?} is out of range: expected 0.01 to 1024 CPUs"));
    }
    Ok(v)
}

fn window_seconds(s: &str) -> Result<f64, String> {
    seconds(s, MIN_WINDOW_SECONDS)
}

fn non_negative_seconds(s: &str) -> Result<f64, String> {
    seconds(s, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_must_be_positive_finite_numbers() {
        assert_eq!(window_seconds("1.5"), Ok(1.5));
        assert!(window_seconds("0").unwrap_err().contains("at least 0.1"));
        assert!(window_seconds("1e-300").is_err());
        assert!(window_seconds("-1").is_err());
        assert!(window_seconds("NaN").is_err());
        assert!(window_seconds("2s").unwrap_err().contains("not a number"));
        assert_eq!(non_negative_seconds("0"), Ok(0.0));
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
