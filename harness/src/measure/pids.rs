//! Process counts of a sandbox over a condition (case C17): its pids files and
//! its ancestors' up to the arena, read when the sandbox is created and at the
//! end, `pids.current` sampled in between, and the refused forks attributed
//! to the limit that refused them ([`crate::cgroup::pids`]).

use crate::cgroup::files::KeptOpen;
use crate::cgroup::pids::{self, EventCounting, Level, PidsFiles};
use crate::cgroup::{Cgroup, Limit};
use isobench_reports::schema::{PidsAccount, PidsLevel, PidsRefusal};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Interval between samples of `pids.current`: short, because the tasks of a
/// fork storm live for microseconds to milliseconds.
pub const INTERVAL: Duration = Duration::from_millis(10);

/// One sandbox's pids files as read when it was created.
#[derive(Debug)]
pub struct PidsWatch {
    sandbox: String,
    dirs: Vec<(PathBuf, String)>,
    counting: EventCounting,
    start: Result<Vec<PidsFiles>, String>,
}

impl PidsWatch {
    /// Reads the pids files of `cg` (sandbox `name`) and of its ancestors up
    /// to the arena; `None` where no hierarchy carries the pids controller.
    pub fn start(name: &str, cg: &Cgroup) -> Option<PidsWatch> {
        let (dirs, counting) = cg.pids_ancestry()?;
        let start = read_all(&dirs);
        Some(PidsWatch {
            sandbox: name.into(),
            dirs,
            counting,
            start,
        })
    }

    /// The `pids.current` files to sample, the sandbox's first.
    pub fn current_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|(d, _)| d.join("pids.current"))
            .collect()
    }

    /// Reads the files again and builds the account; `sampled` holds the
    /// highest sample of each of [`PidsWatch::current_files`].
    pub fn finish(self, sampled: &[Option<u64>]) -> PidsAccount {
        let end = read_all(&self.dirs);
        let (start, end) = match (self.start, end) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(why), _) | (_, Err(why)) => {
                return PidsAccount {
                    sandbox: self.sandbox,
                    sampled_peak: sampled.first().copied().flatten(),
                    peak: None,
                    forks_refused: None,
                    refused_by: Vec::new(),
                    levels: Vec::new(),
                    unavailable: vec![why],
                };
            }
        };
        let levels: Vec<Level> = self
            .dirs
            .iter()
            .zip(start.into_iter().zip(end))
            .enumerate()
            .map(|(i, ((_, name), (start, end)))| Level {
                cgroup: name.clone(),
                start,
                end,
                sampled_peak: sampled.get(i).copied().flatten(),
            })
            .collect();
        let (forks, refused, unexplained) = pids::refusals(&levels, self.counting);
        let mut unavailable: Vec<String> = unexplained.into_iter().collect();
        let peak = true_peak(&levels);
        if peak.is_none() {
            unavailable.push(
                "pids.peak unsupported: this kernel has no pids.peak; \
                 sampled_peak is the highest pids.current seen every 10 ms"
                    .into(),
            );
        }
        PidsAccount {
            sandbox: self.sandbox,
            sampled_peak: levels.first().and_then(|l| l.sampled_peak),
            peak,
            forks_refused: Some(forks),
            refused_by: refused
                .into_iter()
                .map(|r| PidsRefusal {
                    forks: r.forks,
                    cgroup: r.cgroup,
                    limit: r.limit,
                    how: r.how,
                })
                .collect(),
            levels: levels
                .iter()
                .map(|l| PidsLevel {
                    cgroup: l.cgroup.clone(),
                    max: match l.end.max {
                        Limit::Max => "max".into(),
                        Limit::Value(v) => v.to_string(),
                    },
                    current: l.end.current,
                    peak: l.end.peak,
                    events_max: l.events(),
                    events_local_max: l.events_local(),
                })
                .collect(),
            unavailable,
        }
    }
}

/// The sandbox's peak from `pids.peak`: the lowest of its own and its
/// ancestors' files. The kernel raises a cgroup's watermark when it charges a
/// fork that an ancestor's limit then refuses (kernel/cgroup/pids.c
/// `pids_try_charge`: "Not technically accurate if we go over limit somewhere up
/// the hierarchy"), so the sandbox's own file can read one above what it held;
/// its tasks count in every ancestor, whose file holds no such charge below
/// its own limit. `None` where the kernel has no `pids.peak`.
fn true_peak(levels: &[Level]) -> Option<u64> {
    levels.iter().map(|l| l.end.peak).min().flatten()
}

/// The pids files of every directory, or the first error in words.
fn read_all(dirs: &[(PathBuf, String)]) -> Result<Vec<PidsFiles>, String> {
    dirs.iter()
        .map(|(d, _)| PidsFiles::read(d).map_err(|e| e.to_string()))
        .collect()
}

/// The watched sandboxes of one condition and the sampler of their counts.
#[derive(Default)]
pub struct PidsWatches {
    watches: Vec<PidsWatch>,
    sampler: Option<PeakSampler>,
}

impl PidsWatches {
    /// Watches sandbox `name`'s cgroup `cg` from now on (nothing where it has no
    /// pids controller); call it before its processes start.
    pub fn add(&mut self, name: &str, cg: &Cgroup) {
        self.watches.extend(PidsWatch::start(name, cg));
    }

    /// Starts sampling `pids.current` of every watched cgroup and its ancestors.
    pub fn sample(&mut self) {
        let files = self
            .watches
            .iter()
            .flat_map(|w| w.current_files())
            .collect();
        self.sampler = Some(PeakSampler::start(files));
    }

    /// Stops the sampler and builds each sandbox's account, in the order added.
    pub fn finish(self) -> Vec<PidsAccount> {
        let peaks = self.sampler.map(PeakSampler::finish).unwrap_or_default();
        let mut at = 0;
        self.watches
            .into_iter()
            .map(|w| {
                let n = w.dirs.len();
                let mine: Vec<Option<u64>> = (at..at + n)
                    .map(|i| peaks.get(i).copied().flatten())
                    .collect();
                at += n;
                w.finish(&mine)
            })
            .collect()
    }
}

/// A thread that reads files holding one count (`pids.current`) every
/// [`INTERVAL`] and keeps the highest value of each.
pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Option<u64>>>,
}

impl PeakSampler {
    /// Starts sampling `paths`; a file that cannot be opened or read stays `None`.
    pub fn start(paths: Vec<PathBuf>) -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("isobench-pids".into())
            .spawn(move || {
                let mut files: Vec<Option<KeptOpen>> =
                    paths.iter().map(|p| KeptOpen::open(p).ok()).collect();
                let mut peaks = vec![None; files.len()];
                loop {
                    // Once more after the stop, so that a short run has a sample.
                    let last = flag.load(Ordering::Relaxed);
                    for (file, peak) in files.iter_mut().zip(&mut peaks) {
                        let value = file
                            .as_mut()
                            .and_then(|f| f.read().ok()?.trim().parse::<u64>().ok());
                        if let Some(v) = value {
                            *peak = Some(peak.map_or(v, |p: u64| p.max(v)));
                        }
                    }
                    if last {
                        break;
                    }
                    std::thread::sleep(INTERVAL);
                }
                peaks
            })
            .expect("spawning the pids sampler thread");
        PeakSampler { stop, handle }
    }

    /// Stops the thread; the highest value of each file, in the order given.
    pub fn finish(self) -> Vec<Option<u64>> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_keeps_each_files_highest_value_and_none_for_a_missing_one() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::write(&a, "3\n").unwrap();
        let s = PeakSampler::start(vec![a.clone(), t.path().join("missing")]);
        std::thread::sleep(INTERVAL * 3);
        std::fs::write(&a, "16\n").unwrap();
        std::thread::sleep(INTERVAL * 3);
        std::fs::write(&a, "2\n").unwrap();
        assert_eq!(s.finish(), [Some(16), None]);
    }
}
