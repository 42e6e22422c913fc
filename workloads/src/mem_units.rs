//! Victim `mem-units`: open-loop work units (see [`crate::open_loop`]) that
//! each read `lines` random cache lines across a working set.
//!
//! With `--kind file` the working set is a file on disk, written once, flushed
//! (so its pages are clean and reclaimable) and mapped: when a neighbour's
//! pressure reclaims it, the units pay major faults, which shows in their
//! latency and in the cgroup's `pgmajfault` and memory PSI. With `--kind anon`
//! it is heap memory, which a host without swap cannot reclaim.

use crate::memory::{self, Kind, LINE, XorShift};
use crate::open_loop::{self, Schedule};
use crate::report::UnitsReport;
use std::hint::black_box;
use std::path::Path;

/// The working set the units touch.
enum WorkingSet {
    Anon(memmap2::MmapMut),
    File(memmap2::Mmap),
}

impl WorkingSet {
    fn bytes(&self) -> &[u8] {
        match self {
            WorkingSet::Anon(v) => v,
            WorkingSet::File(m) => m,
        }
    }
}

/// Builds a working set of `bytes` of `kind` (files in `dir`), every page touched once.
fn working_set(kind: Kind, bytes: usize, dir: &Path) -> std::io::Result<WorkingSet> {
    match kind {
        Kind::Anon => Ok(WorkingSet::Anon(memory::anon(bytes, false)?)),
        Kind::File | Kind::Shmem => {
            let dir = if kind == Kind::Shmem {
                Path::new("/dev/shm")
            } else {
                dir
            };
            let mut f = memory::unnamed_file(dir)?;
            let chunk = vec![0x5Au8; 1 << 20];
            let mut written = 0;
            while written < bytes {
                written += memory::append(&mut f, &chunk[..chunk.len().min(bytes - written)])?;
            }
            f.sync_all()?;
            // SAFETY: the file is unnamed and private to this process (O_TMPFILE),
            // so nothing else can truncate or change it while it is mapped.
            #[allow(unsafe_code)]
            let map = unsafe { memmap2::Mmap::map(&f)? };
            Ok(WorkingSet::File(map))
        }
    }
}

/// Builds the working set, then runs units of `lines` random cache-line reads on `schedule`.
///
/// # Errors
/// The working set's file cannot be created, written or mapped (the directory is named).
pub fn run(
    kind: Kind,
    working_set_bytes: usize,
    lines: usize,
    dir: &Path,
    schedule: Schedule,
) -> std::io::Result<UnitsReport> {
    let set = working_set(kind, working_set_bytes.max(LINE), dir)?;
    let data = set.bytes();
    let n_lines = data.len() / LINE;
    let mut rng = XorShift::new(u64::from(std::process::id()));
    Ok(open_loop::run(schedule, || {
        let mut sum = 0u8;
        for _ in 0..lines {
            sum = sum.wrapping_add(data[rng.below(n_lines) * LINE]);
        }
        black_box(sum);
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn both_kinds_run_their_units() {
        let t = tempfile::tempdir().unwrap();
        for kind in [Kind::Anon, Kind::File] {
            let r = run(
                kind,
                2 << 20,
                16,
                t.path(),
                Schedule {
                    rate: 1000.0,
                    warmup: Duration::ZERO,
                    duration: Duration::from_millis(100),
                    slice: None,
                },
            )
            .unwrap();
            assert!(r.ops > 50, "{kind:?}: {} ops", r.ops);
        }
    }
}
