//! Aggressor `mem-hog`: grows to `bytes` of one kind of memory at `rate`
//! bytes/s in `step`-sized pieces, touching every page, then holds it (or,
//! with `keep`, keeps re-touching it so it stays hot) until its duration ends.
//!
//! Under a memory limit it is what gets throttled (memory.high), reclaimed or
//! OOM-killed (memory.max); the harness reads the outcome from the cgroup.
//!
//! With `press` it is a neighbour that lives beside its limit instead of dying
//! on it: it reads its own cgroup's limit ([`crate::memory_limit`]), grows its
//! anonymous memory only until the cgroup's charge is the limit less a
//! headroom, and then streams a file through the page cache
//! ([`crate::stream`]), so that the charge sits at the limit and reclaim runs
//! there for as long as it lives. Without a limit of its own it grows to
//! `bytes` as before (and streams all the same), pressing on whatever limit
//! lies above it.

use crate::memory::{self, Kind, touch_pages};
use crate::memory_limit::{self, MemoryLimit};
use crate::report::{MemHogReport, PressReport};
use crate::stream::Stream;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the hog does.
#[derive(Debug, Clone)]
pub struct HogPlan {
    /// Kind of memory.
    pub kind: Kind,
    /// Size to grow to, bytes.
    pub bytes: u64,
    /// Growth rate, bytes/s; `None` is as fast as it can.
    pub rate: Option<f64>,
    /// Bytes per step (allocation or write), > 0.
    pub step: u64,
    /// Keep re-touching every page once grown.
    pub keep: bool,
    /// Ask for transparent huge pages for anonymous memory (faster growth, fewer faults).
    pub huge_pages: bool,
    /// End as soon as `bytes` are reached instead of holding them to the end of `duration`.
    pub exit_when_grown: bool,
    /// Total run time, growth included.
    pub duration: Duration,
    /// Where a `file` hog writes (a disk-backed directory); `shmem` always uses /dev/shm.
    /// Also the directory of the pressing stream.
    pub dir: PathBuf,
    /// Fit below its own cgroup's memory limit and press on it; `None`: grow to `bytes` regardless.
    pub press: Option<PressPlan>,
}

/// How a hog presses on its own cgroup's memory limit.
#[derive(Debug, Clone, Default)]
pub struct PressPlan {
    /// Its memory cgroup's directory; `None`: found from `/proc/self/cgroup`.
    pub cgroup: Option<PathBuf>,
    /// Once grown, stream a file of twice the headroom through the page cache
    /// at this rate, bytes/s; `None`: no stream.
    pub stream_rate: Option<f64>,
}

/// What pressing starts from: the cgroup read, its limit, the charge to grow to.
struct Pressing {
    dir: Option<PathBuf>,
    report: PressReport,
    stream: Option<Stream>,
}

impl Pressing {
    /// Reads the limit and prepares the stream (before any growth, while there is room).
    fn start(plan: &PressPlan, bytes: u64, dir: &std::path::Path) -> std::io::Result<Pressing> {
        let found = match &plan.cgroup {
            Some(d) => Ok(d.clone()),
            None => memory_limit::own_dir(),
        };
        let (cg, limit, unknown) = match found {
            Ok(d) => match memory_limit::read_limit(&d) {
                Ok(l) => (Some(d), l, None),
                Err(e) => (None, None, Some(e.to_string())),
            },
            Err(why) => (None, None, Some(why)),
        };
        let bound = limit.as_ref().map(|l: &MemoryLimit| l.bytes);
        let file_bytes = 2 * memory_limit::headroom(bound.unwrap_or(bytes));
        let (stream, stream_off) = match plan.stream_rate {
            None => (None, Some("not asked for (no --stream-rate)".to_string())),
            Some(_) => match Stream::create(dir, file_bytes)? {
                Ok(s) => (Some(s), None),
                Err(why) => (None, Some(why)),
            },
        };
        Ok(Pressing {
            report: PressReport {
                cgroup: cg.as_ref().map(|d| d.display().to_string()),
                limit,
                limit_unknown: unknown,
                target_bytes: memory_limit::press_target(bytes, bound),
                charge_at_fill_bytes: None,
                stream_file_bytes: stream.as_ref().map(Stream::bytes),
                stream_rate_bytes_per_s: stream.as_ref().and(plan.stream_rate),
                streamed_bytes: 0,
                stream_passes: 0,
                stream_off,
            },
            dir: cg,
            stream,
        })
    }

    /// Bytes the hog may still add before its cgroup's charge reaches the
    /// target; `None` without a limit (then only `bytes` bounds it).
    fn room(&self) -> std::io::Result<Option<u64>> {
        match (&self.dir, &self.report.limit) {
            (Some(d), Some(_)) => {
                let charge = memory_limit::read_charge(d)?;
                Ok(Some(self.report.target_bytes.saturating_sub(charge)))
            }
            _ => Ok(None),
        }
    }
}

enum Held {
    Anon(Vec<memmap2::MmapMut>),
    File(File),
}

/// Runs the plan.
///
/// # Errors
/// A file that cannot be created or written, with its directory named.
pub fn run(plan: &HogPlan) -> std::io::Result<MemHogReport> {
    let start = Instant::now();
    let deadline = start + plan.duration;
    let mut held = match plan.kind {
        Kind::Anon => Held::Anon(Vec::new()),
        Kind::File => Held::File(memory::unnamed_file(&plan.dir)?),
        Kind::Shmem => Held::File(memory::unnamed_file(std::path::Path::new("/dev/shm"))?),
    };
    // With a rate, steps of a tenth of a second's growth, so the rate holds within a step.
    let step = match plan.rate {
        Some(rate) => (plan.step as f64).min((rate / 10.0).max(memory::PAGE as f64)) as usize,
        None => plan.step as usize,
    };
    // A pressing hog lives until the harness stops it: SIGTERM ends it with its report.
    let stopped = Arc::new(AtomicBool::new(false));
    let mut pressing = match &plan.press {
        Some(p) => {
            signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stopped))?;
            Some(Pressing::start(p, plan.bytes, &plan.dir)?)
        }
        None => None,
    };
    let ended = || Instant::now() >= deadline || stopped.load(Ordering::Relaxed);
    let mut reached = 0u64;
    let mut fill_s = None;
    let data = vec![0xA5u8; step];
    while !ended() {
        if reached >= plan.bytes {
            fill_s.get_or_insert(start.elapsed().as_secs_f64());
            break;
        }
        let mut n = step.min((plan.bytes - reached) as usize);
        if let Some(room) = pressing.as_ref().map(Pressing::room).transpose()?.flatten() {
            if room < memory::PAGE as u64 {
                fill_s.get_or_insert(start.elapsed().as_secs_f64());
                break;
            }
            n = n.min(room as usize / memory::PAGE * memory::PAGE);
        }
        match &mut held {
            Held::Anon(chunks) => {
                chunks.push(memory::anon(n, plan.huge_pages)?);
            }
            Held::File(f) => {
                memory::append(f, &data[..n])?;
            }
        }
        reached += n as u64;
        if reached >= plan.bytes {
            fill_s.get_or_insert(start.elapsed().as_secs_f64());
            break;
        }
        if let Some(rate) = plan.rate {
            let due = start + Duration::from_secs_f64(reached as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due.min(deadline) - now);
            }
        }
    }
    if reached >= plan.bytes {
        fill_s.get_or_insert(start.elapsed().as_secs_f64());
    }
    let mut passes = 0u64;
    if let Some(p) = pressing.as_mut() {
        if let Some(d) = &p.dir {
            p.report.charge_at_fill_bytes = memory_limit::read_charge(d).ok();
        }
        if let (Some(stream), Some(rate)) = (&p.stream, p.report.stream_rate_bytes_per_s)
            && !plan.exit_when_grown
        {
            let done = stream.run(rate, &ended)?;
            p.report.streamed_bytes = done.read_bytes;
            p.report.stream_passes = done.passes;
        }
    }
    let mut buf = vec![0u8; 1 << 20];
    let grown_and_done = plan.exit_when_grown && fill_s.is_some();
    while !grown_and_done && !ended() {
        if !plan.keep {
            // Short naps, so that a SIGTERM to a pressing hog ends it promptly.
            std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(20)));
            continue;
        }
        match &mut held {
            Held::Anon(chunks) => {
                for chunk in chunks.iter_mut() {
                    touch_pages(chunk, passes as u8);
                    if Instant::now() >= deadline {
                        break;
                    }
                }
            }
            Held::File(f) => {
                memory::read_through(f, &mut buf)?;
            }
        }
        passes += 1;
    }
    Ok(MemHogReport {
        kind: plan.kind,
        bytes_reached: reached,
        fill_s,
        ran_s: start.elapsed().as_secs_f64(),
        keep_passes: passes,
        press: pressing.map(|p| p.report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: Kind, dir: &std::path::Path) -> HogPlan {
        HogPlan {
            kind,
            bytes: 4 << 20,
            rate: None,
            step: 1 << 20,
            keep: true,
            huge_pages: false,
            exit_when_grown: false,
            duration: Duration::from_millis(150),
            dir: dir.into(),
            press: None,
        }
    }

    #[test]
    fn every_kind_grows_to_its_size_and_keeps_touching() {
        let t = tempfile::tempdir().unwrap();
        for kind in [Kind::Anon, Kind::File, Kind::Shmem] {
            let r = run(&plan(kind, t.path())).unwrap();
            assert_eq!(r.bytes_reached, 4 << 20, "{kind:?}");
            assert!(r.fill_s.is_some() && r.keep_passes > 0, "{kind:?}: {r:?}");
        }
    }

    #[test]
    fn a_pressing_hog_reports_its_limit_target_and_stream() {
        let cg = tempfile::tempdir().unwrap();
        std::fs::write(cg.path().join("memory.current"), "1048576\n").unwrap();
        std::fs::write(cg.path().join("memory.max"), "67108864\n").unwrap();
        std::fs::write(cg.path().join("memory.high"), "max\n").unwrap();
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let mut p = plan(Kind::Anon, dir.path());
        p.keep = false;
        p.duration = Duration::from_secs(1);
        p.press = Some(PressPlan {
            cgroup: Some(cg.path().into()),
            stream_rate: Some(64.0 * 1024.0 * 1024.0),
        });
        let r = run(&p).unwrap();
        let press = r.press.expect("a press report");
        let limit = press.limit.clone().expect("memory.max read");
        assert_eq!((limit.knob.as_str(), limit.bytes), ("memory.max", 64 << 20));
        assert_eq!(
            press.target_bytes,
            4 << 20,
            "--bytes is below the limit less its headroom"
        );
        assert_eq!(press.charge_at_fill_bytes, Some(1 << 20));
        match press.stream_off.clone() {
            None => {
                assert_eq!(
                    press.stream_file_bytes,
                    Some(8 << 20),
                    "twice the 4 MiB headroom"
                );
                assert!(press.streamed_bytes > 0, "{press:?}");
            }
            Some(why) => assert!(why.contains("tmpfs") || why.contains("ramfs"), "{why}"),
        }
    }

    #[test]
    fn rate_limits_growth() {
        let t = tempfile::tempdir().unwrap();
        let mut p = plan(Kind::Anon, t.path());
        p.rate = Some(8.0 * 1024.0 * 1024.0);
        p.keep = false;
        p.duration = Duration::from_millis(300);
        let r = run(&p).unwrap();
        // 4 MiB at 8 MiB/s takes about 0.5 s: not reached within 0.3 s, even
        // with steps (1 MiB) bigger than a tenth of a second's growth.
        assert!(r.bytes_reached < 4 << 20 && r.fill_s.is_none(), "{r:?}");
        assert!(r.bytes_reached >= 1 << 20, "it grew: {r:?}");
        p.duration = Duration::from_secs(2);
        let r = run(&p).unwrap();
        let fill = r.fill_s.expect("reached within 2 s");
        assert!(
            (0.4..1.5).contains(&fill),
            "filled when reached, not at the end: {r:?}"
        );
    }
}
