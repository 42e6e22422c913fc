//! Aggressor `io-hog`: writes `block`-sized pieces to an unnamed file
//! (`O_TMPFILE`, as `mem-hog --kind file`: nothing is left behind, even after
//! SIGKILL), sequentially or at random block offsets, wrapping around within
//! `bytes`, and calls `fdatasync` every `fsync_every` blocks so that the writes
//! reach the device and the cgroup's `io.stat` and `io.max`/`io.weight`
//! (Documentation/admin-guide/cgroup-v2.rst, "IO") see them, not only the
//! page cache.
//!
//! The file never grows past `bytes`: every write lies within its first
//! `bytes / block` blocks. With `rand`, the file is first laid out, written
//! once from start to end, as fio does, and only then rewritten at random
//! blocks: random writes into holes would leave a file of thousands of extents,
//! whose release when the process exits (the last close of the unnamed file)
//! took 0.35 s after a 0.3 s run on ext4, and grows with the run; overwrites in
//! place leave the layout's few extents, released in milliseconds.
//!
//! A write or fsync can block for long on a slow or throttled device; that
//! blocking is the point, and it is what may delay the end past the deadline.

use crate::intensity::{Intensity, Pacer};
use crate::memory::{self, XorShift};
use crate::report::IoHogReport;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Largest `--bytes`, bytes (4 GiB).
pub const MAX_BYTES: u64 = 4 << 30;

/// Largest `--block`, bytes (64 MiB).
pub const MAX_BLOCK: u64 = 64 << 20;

/// Where in the file the blocks go.
///
/// With `rand`, the file is laid out first (see the module's docs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// One block after the other, back to the start at the end of the file.
    Seq,
    /// A random block of the file each time, once the file is laid out.
    Rand,
}

/// What `io-hog` does.
#[derive(Debug, Clone)]
pub struct IoPlan {
    /// Directory of the file (on the device to load, not tmpfs).
    pub dir: PathBuf,
    /// Where the blocks go.
    pub pattern: Pattern,
    /// Bytes per write, at most `bytes`.
    pub block: u64,
    /// Bound of the file's size, bytes.
    pub bytes: u64,
    /// Blocks between two `fdatasync`s; 0 never syncs.
    pub fsync_every: u64,
    /// Duty cycle.
    pub intensity: Intensity,
    /// Run time.
    pub duration: Duration,
}

/// Runs the plan.
///
/// # Errors
/// A block larger than the file (`InvalidInput`), or the file cannot be
/// created (its directory named), written or synced.
pub fn run(plan: &IoPlan) -> std::io::Result<IoHogReport> {
    let start = Instant::now();
    if plan.block == 0 || plan.block > plan.bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "--block {} is larger than --bytes {}: expected a block of at most the file's size",
                plan.block, plan.bytes
            ),
        ));
    }
    let file = memory::unnamed_file(&plan.dir)?;
    let blocks = plan.bytes / plan.block;
    // Random contents, so that a compressing or deduplicating filesystem writes them all.
    let mut rng = XorShift::new(u64::from(std::process::id()));
    let data: Vec<u8> = (0..plan.block).map(|_| rng.below(256) as u8).collect();
    let mut pacer = Pacer::new(plan.intensity, start + plan.duration);
    let (mut writes, mut fsyncs) = (0u64, 0u64);
    let mut laid_out_s = None;
    while pacer.go() {
        let block = match plan.pattern {
            Pattern::Rand if writes >= blocks => rng.below(blocks as usize) as u64,
            _ => writes % blocks,
        };
        file.write_all_at(&data, block * plan.block)?;
        writes += 1;
        if writes == blocks {
            laid_out_s = Some(start.elapsed().as_secs_f64());
        }
        if plan.fsync_every > 0 && writes % plan.fsync_every == 0 {
            file.sync_data()?;
            fsyncs += 1;
        }
    }
    let ran_s = start.elapsed().as_secs_f64();
    let bytes_written = writes * plan.block;
    Ok(IoHogReport {
        pattern: plan.pattern,
        block_bytes: plan.block,
        bytes_written,
        file_bytes: file.metadata()?.len(),
        fsyncs,
        laid_out_s,
        mb_per_s: bytes_written as f64 / 1e6 / ran_s,
        ran_s,
        intensity: plan.intensity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dir: &std::path::Path, pattern: Pattern) -> IoPlan {
        IoPlan {
            dir: dir.into(),
            pattern,
            block: 64 << 10,
            bytes: 1 << 20,
            fsync_every: 4,
            intensity: Intensity::FULL,
            duration: Duration::from_millis(300),
        }
    }

    #[test]
    fn writes_wrap_around_within_the_file_size() {
        let t = tempfile::tempdir().unwrap();
        for pattern in [Pattern::Seq, Pattern::Rand] {
            let r = run(&plan(t.path(), pattern)).unwrap();
            assert!(r.bytes_written > 1 << 20, "it wrapped around: {r:?}");
            assert!(r.laid_out_s.is_some_and(|s| s < r.ran_s), "{r:?}");
            assert!(r.file_bytes <= 1 << 20, "{r:?}");
            assert!(
                r.fsyncs >= r.bytes_written / (4 * (64 << 10)) && r.fsyncs > 0,
                "{r:?}"
            );
            assert!(r.ran_s >= 0.3 && r.ran_s < 0.8, "{r:?}");
        }
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            0,
            "nothing left"
        );
    }

    #[test]
    fn block_larger_than_the_file_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let mut p = plan(t.path(), Pattern::Seq);
        p.block = 2 << 20;
        let err = run(&p).unwrap_err();
        assert!(err.to_string().contains("--block"), "{err}");
    }
}
