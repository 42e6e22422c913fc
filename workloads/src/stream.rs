//! A file streamed through the page cache at a steady rate: the part of a
//! memory neighbour that keeps reclaim going at its limit.
//!
//! The file is written and synced once, its cache dropped, then read over and
//! over from start to end. Its clean pages are charged to the reader's cgroup
//! (Documentation/admin-guide/cgroup-v2.rst, "Memory Ownership"); with the
//! anonymous memory held just below the cgroup's limit, every read of a page
//! not in the cache charges past the limit, the charge fails (v2
//! `memory.events` `max`/`high`, v1 `memory.failcnt`) and reclaim takes the
//! oldest of these pages back. Clean page cache can always be reclaimed, so
//! this presses on the limit without an OOM kill even on a host without swap.
//! On tmpfs or ramfs the pages would be shmem or unevictable, which only swap
//! (or nothing) can reclaim: there the stream is refused, with the reason.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes per read or write.
const CHUNK: usize = 1 << 20;

/// A file ready to be streamed.
#[derive(Debug)]
pub struct Stream {
    file: File,
    bytes: u64,
}

/// What streaming did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Streamed {
    /// Bytes read, bytes.
    pub read_bytes: u64,
    /// Full passes over the file.
    pub passes: u64,
}

/// Why `dir` cannot hold a stream that reclaim can take back, if it cannot.
///
/// # Errors
/// statfs(2)'s error, with the directory named.
pub fn unfit(dir: &Path) -> std::io::Result<Option<String>> {
    use nix::sys::statfs::{TMPFS_MAGIC, statfs};
    // RAMFS_MAGIC of include/uapi/linux/magic.h (the root of an initramfs); nix lacks it.
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let kind = statfs(dir)
        .map_err(|e| std::io::Error::other(format!("statfs {}: {e}", dir.display())))?
        .filesystem_type();
    let name = if kind == TMPFS_MAGIC {
        "tmpfs (its pages are shmem, which only swap can reclaim)"
    } else if kind.0 as i64 == RAMFS_MAGIC {
        "ramfs (its pages cannot be reclaimed)"
    } else {
        return Ok(None);
    };
    Ok(Some(format!("{} is on {name}", dir.display())))
}

impl Stream {
    /// Writes an unnamed file of `bytes` (rounded up to whole MiB) in `dir`,
    /// syncs it and drops its pages from the cache, so that it starts charging
    /// nothing. `Ok(Err(reason))` where `dir` is on tmpfs or ramfs.
    ///
    /// # Errors
    /// A file that cannot be created, written or synced, with `dir` named.
    pub fn create(dir: &Path, bytes: u64) -> std::io::Result<Result<Stream, String>> {
        if let Some(why) = unfit(dir)? {
            return Ok(Err(why));
        }
        let file = crate::memory::unnamed_file(dir)?;
        let data = vec![0x5Au8; CHUNK];
        let chunks = bytes.div_ceil(CHUNK as u64).max(1);
        for i in 0..chunks {
            file.write_all_at(&data, i * CHUNK as u64)?;
        }
        file.sync_data()?;
        let _ = nix::fcntl::posix_fadvise(
            &file,
            0,
            0,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        );
        Ok(Ok(Stream {
            file,
            bytes: chunks * CHUNK as u64,
        }))
    }

    /// The file's size, bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the file round and round at `rate` bytes/s until `ended` says so
    /// (asked between reads and at least every 20 ms).
    ///
    /// # Errors
    /// A read's error.
    pub fn run(&self, rate: f64, ended: &dyn Fn() -> bool) -> std::io::Result<Streamed> {
        let mut buf = vec![0u8; CHUNK];
        let start = Instant::now();
        let mut done = Streamed::default();
        let mut pos = 0u64;
        while !ended() {
            let n = self.file.read_at(&mut buf, pos)?;
            std::hint::black_box(&buf[..n]);
            done.read_bytes += n as u64;
            pos += n as u64;
            if n == 0 || pos >= self.bytes {
                pos = 0;
                done.passes += 1;
            }
            let due = start + Duration::from_secs_f64(done.read_bytes as f64 / rate);
            while !ended() && Instant::now() < due {
                std::thread::sleep((due - Instant::now()).min(Duration::from_millis(20)));
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_reads_round_and_round_at_its_rate() {
        let t = tempfile::tempdir_in("/var/tmp").unwrap();
        let s = match Stream::create(t.path(), 3 * CHUNK as u64 - 10).unwrap() {
            Ok(s) => s,
            Err(why) => return eprintln!("skipped: {why}"),
        };
        assert_eq!(s.bytes(), 3 * CHUNK as u64);
        let deadline = Instant::now() + Duration::from_millis(300);
        let done = s
            .run(40.0 * CHUNK as f64, &|| Instant::now() >= deadline)
            .unwrap();
        // 40 MiB/s for 0.3 s: about 12 MiB, 4 passes.
        assert!(
            (8 * CHUNK as u64..=14 * CHUNK as u64).contains(&done.read_bytes),
            "{done:?}"
        );
        assert!(done.passes >= 2, "{done:?}");
    }

    #[test]
    fn tmpfs_is_refused_with_the_reason() {
        if let Ok(Some(why)) = unfit(Path::new("/dev/shm")) {
            assert!(why.contains("tmpfs"), "{why}");
        }
    }
}
