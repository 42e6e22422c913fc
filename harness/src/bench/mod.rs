//! isobench inside a crate's own `cargo bench` (issue 14): a closure of the
//! crate is the victim, one call one unit of work, run open-loop beside noisy
//! neighbours, solo, contended and isolated, and each run is compared with the
//! previous one as criterion does.
//!
//! A bench target with `harness = false` builds a [`Bench`] in its `main` and
//! hands over to [`Bench::main`]:
//!
//! ```no_run
//! use isobench::bench::{Bench, Limits, Neighbour, Scenario};
//! use std::hint::black_box;
//! use std::time::Duration;
//!
//! fn main() {
//!     Bench::new()
//!         .scenario(
//!             Scenario::new("hash", || {
//!                 black_box((0..2_000u64).fold(0xcbf29ce484222325u64, |h, b| {
//!                     (h ^ b).wrapping_mul(0x100000001b3)
//!                 }));
//!             })
//!             .rate(2_000.0)
//!             .beside(Neighbour::catalogue("cpu-hog").limits(Limits::docker().set("cpus", 0.5)))
//!             .rounds(3)
//!             .window(Duration::from_millis(500)),
//!         )
//!         .main()
//! }
//! ```
//!
//! [`Bench::main`] serves three callers, told apart by the command line:
//! - isobench itself, which re-executes the bench binary inside each sandbox:
//!   `bench-victim --name hash …` runs that closure open-loop and prints its
//!   units as [`isobench_workloads::report::WorkloadReport::BenchVictim`], and
//!   every applet of `isobench-workload` (`sandbox-init`, `cpu-hog`,
//!   `calibrate`, …) is served as that binary serves it, so the closure never
//!   runs outside the sandbox isobench put it in;
//! - `cargo bench` (`--bench`, a filter, `--save-baseline NAME`, `--baseline
//!   NAME`, `--list`): the isobench run, its files under
//!   `target/isobench/<bench>/` and the comparison with the baseline;
//! - `cargo test --benches` (no `--bench`): each closure is called once, so a
//!   bench that panics fails the tests.
//!
//! docs/cargo-bench.md describes the API, the files and how to read the output.

mod args;
mod define;
mod entry;
mod files;
mod run;

pub use files::{BaselineError, BenchDir, DEFAULT_BASELINE, bench_name, target_dir};

use crate::vocabulary::Vocabulary;
use std::path::PathBuf;
use std::time::Duration;

/// A `cargo bench` target's scenarios, each a closure beside its neighbours.
#[must_use = "a Bench does nothing until its `main` runs"]
pub struct Bench {
    name: Option<String>,
    scenarios: Vec<Scenario>,
}

impl Default for Bench {
    fn default() -> Self {
        Bench::new()
    }
}

impl Bench {
    /// A bench without scenarios, named after its bench target (see [`bench_name`]).
    pub fn new() -> Bench {
        Bench {
            name: None,
            scenarios: Vec::new(),
        }
    }

    /// Names the bench: its files go to `target/isobench/<name>/`. By default
    /// the name of the bench target, taken from the executable's file name.
    pub fn name(mut self, name: &str) -> Bench {
        self.name = Some(name.to_string());
        self
    }

    /// Adds a scenario; scenarios run in the order added.
    pub fn scenario(mut self, scenario: Scenario) -> Bench {
        self.scenarios.push(scenario);
        self
    }

    /// Runs what the command line asks for (see the module docs) and exits:
    /// 0 when the bench ran (a regression is printed, not fatal, as with
    /// criterion; `isobench compare` on the files gates CI) or was skipped
    /// because the host cannot run it (not root, no cgroups: one line says why),
    /// 3 for a definition or command-line error or a runtime error, 130 when
    /// interrupted. Served applets exit as `isobench-workload` does.
    pub fn main(self) -> ! {
        let code = entry::dispatch(self, std::env::args_os().collect());
        std::process::exit(code)
    }
}

/// One victim closure beside its neighbours: an isolation scenario whose
/// victim is the closure, called once per unit of work on an open-loop
/// schedule (units are due at a fixed rate, and each one's latency runs from
/// when it was due, so a stalled victim cannot hide its delay).
#[must_use = "a Scenario runs only once added to a Bench"]
pub struct Scenario {
    name: String,
    unit: Box<dyn FnMut()>,
    rate: Option<f64>,
    neighbours: Vec<Neighbour>,
    limits: Option<Limits>,
    rounds: usize,
    window: Duration,
    warmup: Duration,
    late_after: Option<Duration>,
    slo_p99: Option<Duration>,
}

/// Rounds of a scenario unless it sets its own: enough for the comparison
/// ([`crate::compare::MIN_ROUNDS`] at least) and a CI narrower than three give.
pub const DEFAULT_ROUNDS: usize = 5;
/// Measured window of each condition unless a scenario sets its own.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(1);
/// Unrecorded warm-up before each window unless a scenario sets its own.
pub const DEFAULT_WARMUP: Duration = Duration::from_millis(200);

impl Scenario {
    /// A scenario named `name` (1 to 64 of `a-z`, `0-9` and `-`, starting with
    /// a letter: results and output lines use it) whose victim calls `unit`
    /// once per unit of work. The bench binary runs in every sandbox isobench
    /// starts, so whatever `unit` captures is built in each of them: keep that
    /// setup cheap, or lazy (`std::sync::LazyLock`).
    pub fn new(name: &str, unit: impl FnMut() + 'static) -> Scenario {
        Scenario {
            name: name.to_string(),
            unit: Box::new(unit),
            rate: None,
            neighbours: Vec::new(),
            limits: None,
            rounds: DEFAULT_ROUNDS,
            window: DEFAULT_WINDOW,
            warmup: DEFAULT_WARMUP,
            late_after: None,
            slo_p99: None,
        }
    }

    /// Units per second the victim is asked for (required; above 0, at most
    /// 1 000 000). Keep it below what one thread can serve alone (a unit of
    /// 20 µs serves at most 50 000/s): the victim then has room, and what the
    /// neighbours take from it shows in its latencies.
    pub fn rate(mut self, units_per_s: f64) -> Scenario {
        self.rate = Some(units_per_s);
        self
    }

    /// Adds a neighbour: an aggressor in its own sandbox beside the victim in
    /// the contended and isolated conditions. A scenario needs at least one.
    pub fn beside(mut self, neighbour: Neighbour) -> Scenario {
        self.neighbours.push(neighbour);
        self
    }

    /// Limits of the victim's own sandbox in the isolated condition (none by default).
    pub fn limits(mut self, limits: Limits) -> Scenario {
        self.limits = Some(limits);
        self
    }

    /// Rounds (1 to 1000; the comparison with a baseline needs at least 3).
    /// Default [`DEFAULT_ROUNDS`].
    pub fn rounds(mut self, rounds: usize) -> Scenario {
        self.rounds = rounds;
        self
    }

    /// Measured window of each condition (0.1 s to 1 h). Default [`DEFAULT_WINDOW`].
    pub fn window(mut self, window: Duration) -> Scenario {
        self.window = window;
        self
    }

    /// Unrecorded warm-up before each window (at most 1 h). Default [`DEFAULT_WARMUP`].
    pub fn warmup(mut self, warmup: Duration) -> Scenario {
        self.warmup = warmup;
        self
    }

    /// A unit is late when its latency passes `after` (1 µs to 60 s): the
    /// share of late units (`victim.late_share`) is then measured and gated.
    /// Without it the late share is not measured.
    pub fn late_after(mut self, after: Duration) -> Scenario {
        self.late_after = Some(after);
        self
    }

    /// The victim's latency objective, its p99 (1 µs to 60 s): the verdict
    /// then gives each condition's slack against it.
    pub fn slo_p99(mut self, p99: Duration) -> Scenario {
        self.slo_p99 = Some(p99);
        self
    }
}

/// A noisy neighbour: an aggressor of isobench's catalogue or a command of
/// yours, with its limits in the isolated condition.
#[must_use = "a Neighbour takes effect only through Scenario::beside"]
#[derive(Debug, Clone)]
pub struct Neighbour {
    what: NeighbourWork,
    name: Option<String>,
    count: usize,
    limits: Option<Limits>,
    /// Builder calls that do not fit what it runs, reported when the bench starts.
    misuse: Vec<String>,
}

/// What a neighbour runs.
#[derive(Debug, Clone)]
enum NeighbourWork {
    /// An aggressor applet and its extra arguments.
    Catalogue { applet: String, args: Vec<String> },
    /// A command: argv, added environment, working directory.
    Command {
        argv: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<PathBuf>,
    },
}

impl Neighbour {
    /// An aggressor of the catalogue: `cpu-hog`, `mem-hog`, `cache-thrash`,
    /// `mem-bw`, `fork-storm`, `io-hog` or `net-hog` (see
    /// [`crate::suite::AGGRESSORS`]). It runs until the window ends.
    pub fn catalogue(applet: &str) -> Neighbour {
        Neighbour {
            what: NeighbourWork::Catalogue {
                applet: applet.to_string(),
                args: Vec::new(),
            },
            name: None,
            count: 1,
            limits: None,
            misuse: Vec::new(),
        }
    }

    /// A command of yours (program, then its arguments; a program without `/`
    /// is looked up on PATH), stopped with its whole tree when the window ends
    /// (SIGTERM, then SIGKILL a second later).
    pub fn command<I, S>(argv: I) -> Neighbour
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Neighbour {
            what: NeighbourWork::Command {
                argv: argv.into_iter().map(Into::into).collect(),
                env: Vec::new(),
                cwd: None,
            },
            name: None,
            count: 1,
            limits: None,
            misuse: Vec::new(),
        }
    }

    /// Extra arguments of a catalogue aggressor, checked by its own command
    /// line (`["--intensity", "50"]`); `--duration` and `--dir` are isobench's.
    /// For a command, they are appended to its argv.
    pub fn args<I, S>(mut self, more: I) -> Neighbour
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let more = more.into_iter().map(Into::into);
        match &mut self.what {
            NeighbourWork::Catalogue { args, .. } => args.extend(more),
            NeighbourWork::Command { argv, .. } => argv.extend(more),
        }
        self
    }

    /// Adds an environment variable of a command neighbour (an error for a
    /// catalogue aggressor, reported when the bench starts).
    pub fn env(mut self, name: &str, value: &str) -> Neighbour {
        match &mut self.what {
            NeighbourWork::Command { env, .. } => env.push((name.into(), value.into())),
            NeighbourWork::Catalogue { applet, .. } => self.misuse.push(format!(
                "env({name:?}, …): {applet} is an applet of the catalogue, which takes no \
                 environment; Neighbour::command runs a program with one"
            )),
        }
        self
    }

    /// The working directory of a command neighbour (an error for a catalogue
    /// aggressor, reported when the bench starts).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Neighbour {
        match &mut self.what {
            NeighbourWork::Command { cwd, .. } => *cwd = Some(dir.into()),
            NeighbourWork::Catalogue { applet, .. } => self.misuse.push(format!(
                "cwd({}): {applet} is an applet of the catalogue, which takes no working \
                 directory; Neighbour::command runs a program in one",
                dir.into().display()
            )),
        }
        self
    }

    /// Processes of it in its sandbox (1 to 64). Default 1.
    pub fn count(mut self, count: usize) -> Neighbour {
        self.count = count;
        self
    }

    /// Limits of its sandbox in the isolated condition (none by default: then
    /// the isolated condition confines it in namespaces only).
    pub fn limits(mut self, limits: Limits) -> Neighbour {
        self.limits = Some(limits);
        self
    }

    /// Its sandbox's name, the prefix of its metrics. By default `aggressor`
    /// when it is the scenario's only neighbour (the name the gate judges the
    /// CPU share of), else its applet's or program's name.
    pub fn named(mut self, name: &str) -> Neighbour {
        self.name = Some(name.to_string());
        self
    }
}

/// Limits of one sandbox in one vocabulary's words, as a suite file's
/// `limits` table takes them (docs/suite-format.md lists every key): mapped
/// to this host's cgroup files when the bench starts, every refused entry
/// reported then with what is accepted.
///
/// ```
/// use isobench::bench::Limits;
/// let docker = Limits::docker().set("cpus", 0.5).set("memory", "512m");
/// let k8s = Limits::kubernetes().set("limits.cpu", "500m");
/// let kernel = Limits::cgroup().set("cpu.max", "50000 100000");
/// ```
#[must_use = "Limits take effect only through Scenario::limits or Neighbour::limits"]
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    vocabulary: Vocabulary,
    words: Vec<(String, toml::Value)>,
}

impl Limits {
    /// Limits in `docker run`'s words, flags in snake_case: `cpus`,
    /// `cpu_shares`, `cpuset_cpus`, `memory`, `memory_reservation`, `pids_limit`, …
    pub fn docker() -> Limits {
        Limits::of(Vocabulary::Docker)
    }

    /// Limits in a Kubernetes container's `resources` words: `limits.cpu`,
    /// `requests.cpu`, `limits.memory`, `requests.memory`.
    pub fn kubernetes() -> Limits {
        Limits::of(Vocabulary::Kubernetes)
    }

    /// Limits as the kernel's own file names and values (`cpu.max`,
    /// `cpu.weight`, `memory.max`, `cpu.cfs_quota_us`, …), on the layouts that have them.
    pub fn cgroup() -> Limits {
        Limits::of(Vocabulary::Native)
    }

    fn of(vocabulary: Vocabulary) -> Limits {
        Limits {
            vocabulary,
            words: Vec::new(),
        }
    }

    /// Sets `key` to `value`: a number (`0.5`, `100`), a string (`"512m"`,
    /// `"50000 100000"`) or a boolean, as the suite file's TOML would hold it.
    pub fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Limits {
        self.words.push((key.to_string(), value.into()));
        self
    }
}
