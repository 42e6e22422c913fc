//! Aggressor `mem-hog`: grows to `bytes` of one kind of memory at `rate`
//! bytes/s in `step`-sized pieces, touching every page, then holds it (or,
//! with `keep`, keeps re-touching it so it stays hot) until its duration ends.
//!
//! Under a memory limit it is what gets throttled (memory.high), reclaimed or
//! OOM-killed (memory.max); the harness reads the outcome from the cgroup.

use crate::memory::{self, Kind, touch_pages};
use crate::report::MemHogReport;
use std::fs::File;
use std::path::PathBuf;
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
    pub dir: PathBuf,
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
    let mut reached = 0u64;
    let mut fill_s = None;
    let data = vec![0xA5u8; step];
    while Instant::now() < deadline {
        if reached >= plan.bytes {
            fill_s.get_or_insert(start.elapsed().as_secs_f64());
            break;
        }
        let n = step.min((plan.bytes - reached) as usize);
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
    let mut buf = vec![0u8; 1 << 20];
    while Instant::now() < deadline && !(plan.exit_when_grown && fill_s.is_some()) {
        if !plan.keep {
            std::thread::sleep(deadline - Instant::now());
            break;
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
