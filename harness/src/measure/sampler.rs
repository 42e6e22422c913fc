//! The timeline sampler: one thread that reads each sandbox's memory use and
//! memory PSI every interval (default 100 ms) from files it keeps open, for the
//! report's timeline charts. Its own CPU time is measured
//! (`CLOCK_THREAD_CPUTIME_ID`) and reported as `harness.sampler_cpu_share`.

use crate::cgroup::files::KeptOpen;
use crate::cgroup::psi::{PsiFile, PsiTotals};
use crate::cgroup::{Cgroup, Layout, MemoryStat, MemoryUsage};
use crate::measure::window::breakdown;
use isobench_reports::schema::{MemoryBreakdown, TimelinePoint, TimelineSample};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Default interval between samples.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The open files of one sandbox.
struct Target {
    v2: bool,
    current: Option<KeptOpen>,
    stat: Option<KeptOpen>,
    psi: Option<(PsiFile, PsiTotals)>,
}

impl Target {
    fn open(cg: &Cgroup) -> Target {
        let v2 = cg.layout() == Layout::V2;
        let file = |name: &str| {
            cg.memory_dir()
                .and_then(|d| KeptOpen::open(&d.join(name)).ok())
        };
        Target {
            v2,
            current: file(if v2 {
                "memory.current"
            } else {
                "memory.usage_in_bytes"
            }),
            stat: file("memory.stat"),
            psi: cg
                .psi_dir()
                .and_then(|d| PsiFile::open(&d.join("memory.pressure")).ok()),
        }
    }

    fn sample(&mut self, since_s: f64) -> TimelinePoint {
        let memory = self.memory().unwrap_or_default();
        let (some, full) = match &mut self.psi {
            Some((file, last)) => match file.read() {
                Ok(now) => {
                    let share = now.share_since(last, since_s);
                    *last = now;
                    (Some(share.some), share.full)
                }
                Err(_) => (None, None),
            },
            None => (None, None),
        };
        TimelinePoint {
            memory,
            psi_memory_some: some,
            psi_memory_full: full,
        }
    }

    fn memory(&mut self) -> Option<MemoryBreakdown> {
        let current_bytes = self.current.as_mut()?.read().ok()?.trim().parse().ok()?;
        let stat = self.stat.as_mut()?;
        let text = stat.read().ok()?;
        let path = Path::new("memory.stat");
        let stat = if self.v2 {
            MemoryStat::parse_v2(path, text)
        } else {
            MemoryStat::parse_v1(path, text)
        }
        .ok()?;
        Some(breakdown(
            &MemoryUsage {
                current_bytes,
                peak_bytes: None,
            },
            &stat,
        ))
    }
}

/// A running sampler; [`Sampler::finish`] stops it and hands back the timeline.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(Vec<TimelineSample>, f64)>,
    started: Instant,
    started_monotonic_s: f64,
}

impl Sampler {
    /// Starts sampling `cgroups` (in this order in every sample) every `interval`.
    pub fn start(cgroups: &[&Cgroup], interval: Duration) -> Sampler {
        let mut targets: Vec<Target> = cgroups.iter().map(|cg| Target::open(cg)).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let started = Instant::now();
        let started_monotonic_s = monotonic_s();
        let handle = std::thread::Builder::new()
            .name("isobench-sampler".into())
            .spawn(move || {
                let mut samples = Vec::new();
                let mut last = started;
                let mut next = started + interval;
                while !flag.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                        continue;
                    }
                    let since = (now - last).as_secs_f64();
                    last = now;
                    samples.push(TimelineSample {
                        t_s: ((now - started).as_secs_f64() * 1e6).round() / 1e6,
                        sandboxes: targets.iter_mut().map(|t| t.sample(since)).collect(),
                    });
                    next += interval;
                }
                (samples, thread_cpu_s())
            })
            .expect("spawning the sampler thread");
        Sampler {
            stop,
            handle,
            started,
            started_monotonic_s,
        }
    }

    /// When the timeline started: CLOCK_MONOTONIC, seconds (the clock of kernel log stamps).
    pub fn started_monotonic_s(&self) -> f64 {
        self.started_monotonic_s
    }

    /// Stops the thread; returns the timeline and the sampler's CPU time over
    /// its wall time, in CPUs.
    pub fn finish(self) -> (Vec<TimelineSample>, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let wall = self.started.elapsed().as_secs_f64();
        let (samples, cpu_s) = self.handle.join().unwrap_or_default();
        (samples, cpu_s / wall.max(1e-9))
    }
}

/// CPU time of the calling thread, seconds.
fn thread_cpu_s() -> f64 {
    clock_s(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
}

/// CLOCK_MONOTONIC now, seconds.
fn monotonic_s() -> f64 {
    clock_s(nix::time::ClockId::CLOCK_MONOTONIC)
}

fn clock_s(clock: nix::time::ClockId) -> f64 {
    nix::time::clock_gettime(clock)
        .map(|t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
        .unwrap_or(f64::NAN)
}
