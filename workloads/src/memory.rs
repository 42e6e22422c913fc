//! Memory of the kinds the memory workloads use: anonymous, page cache of a
//! file on disk, and shared memory (tmpfs). Files are created unnamed
//! (`O_TMPFILE`), so nothing is left behind even when the OOM killer ends the
//! process: the kernel frees them with the last descriptor.

use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Page size the workloads touch memory by, bytes.
pub const PAGE: usize = 4096;

/// Cache line the victim's units touch, bytes.
pub const LINE: usize = 64;

/// Which kind of memory a workload uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Anonymous memory (heap): only swap can reclaim it.
    Anon,
    /// Page cache of a file on disk: reclaimable, re-read with major faults.
    File,
    /// Shared memory in /dev/shm (tmpfs): counted as `shmem`, reclaimable only to swap.
    Shmem,
}

/// Writes `data` at the end of an unnamed file and returns how many bytes were written.
///
/// # Errors
/// The write's error.
pub fn append(file: &mut File, data: &[u8]) -> std::io::Result<usize> {
    file.seek(SeekFrom::End(0))?;
    file.write_all(data)?;
    Ok(data.len())
}

/// Reads a whole file from the start in `buf`-sized pieces (touching its page cache).
///
/// # Errors
/// The read's error.
pub fn read_through(file: &mut File, buf: &mut [u8]) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut total = 0u64;
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(total);
        }
        black_box(&buf[..n]);
        total += n as u64;
    }
}

/// An unnamed file in `dir` (`O_TMPFILE`).
///
/// # Errors
/// The creation's error, with `dir` named.
pub fn unnamed_file(dir: &Path) -> std::io::Result<File> {
    tempfile::tempfile_in(dir).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("creating a file in {}: {e}", dir.display()),
        )
    })
}

/// Anonymous memory of `bytes`, every page touched once. With `huge`, asks for
/// transparent huge pages (`MADV_HUGEPAGE`), which a host with THP in `madvise`
/// mode then faults in 2 MiB at a time: far fewer faults, so a hog grows at the
/// speed of memory rather than of the page-fault path (several times faster in a
/// VM). Without, it refuses them (`MADV_NOHUGEPAGE`, also where THP is `always`),
/// so every 4 KiB page is one fault, as the fault counters expect.
///
/// # Errors
/// The mapping's error (ENOMEM).
pub fn anon(bytes: usize, huge: bool) -> std::io::Result<memmap2::MmapMut> {
    let mut map = memmap2::MmapMut::map_anon(bytes)?;
    // Advice only: a kernel without THP has 4 KiB pages either way.
    let _ = map.advise(if huge {
        memmap2::Advice::HugePage
    } else {
        memmap2::Advice::NoHugePage
    });
    touch_pages(&mut map, 1);
    Ok(map)
}

/// Writes one byte in every page of `chunk`, so each page is really allocated.
pub fn touch_pages(chunk: &mut [u8], value: u8) {
    for i in (0..chunk.len()).step_by(PAGE) {
        chunk[i] = value;
    }
    black_box(chunk);
}

/// A tiny xorshift64 generator: cheap enough not to blur a unit of memory work.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (0 is replaced: xorshift must not start at 0).
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_file_grows_and_reads_back() {
        let t = tempfile::tempdir().unwrap();
        let mut f = unnamed_file(t.path()).unwrap();
        append(&mut f, &[7u8; 10_000]).unwrap();
        append(&mut f, &[7u8; 10_000]).unwrap();
        assert_eq!(read_through(&mut f, &mut [0u8; 4096]).unwrap(), 20_000);
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            0,
            "nothing named is left"
        );
    }

    #[test]
    fn missing_dir_is_named() {
        let err = unnamed_file(Path::new("/nonexistent-isobench")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-isobench"), "{err}");
    }

    #[test]
    fn xorshift_stays_in_range() {
        let mut r = XorShift::new(0);
        assert!((0..10_000).all(|_| r.below(7) < 7));
    }
}
