//! Aggressor `cache-thrash`: streams over a buffer twice the size of the
//! last-level cache, reading and writing one byte of every 64-byte line, so
//! that the lines of its neighbours sharing that cache are evicted.
//!
//! The last-level cache is read from sysfs (Documentation/ABI/testing/
//! sysfs-devices-system-cpu, `cpu/cpuX/cache/indexY/{level,type,size}`): the
//! highest level of type `Unified` or `Data` seen by cpu0. Where sysfs does not
//! say (some VMs and containers), 32 MiB is assumed and the report says why.

use crate::intensity::{Intensity, Pacer};
use crate::memory::LINE;
use crate::report::CacheThrashReport;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the caches of cpu0 are described.
pub const SYSFS_CACHE: &str = "/sys/devices/system/cpu/cpu0/cache";

/// Last-level cache size assumed when sysfs does not give one, bytes (32 MiB).
pub const ASSUMED_LLC_BYTES: u64 = 32 << 20;

/// Largest buffer, bytes (1 GiB): the bound of `--bytes` and of the default.
pub const MAX_BYTES: u64 = 1 << 30;

/// Lines each thread touches between two looks at its pacer (256 KiB).
const LINES_PER_STEP: usize = 4096;

/// The last-level cache as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Llc {
    /// Size, bytes.
    pub bytes: u64,
    /// Its level (2, 3, …).
    pub level: u32,
    /// The `indexN` directory it was read from.
    pub dir: PathBuf,
}

/// Finds the last-level cache under `root` (normally [`SYSFS_CACHE`]): the
/// highest `level` among the `index*` directories whose `type` is `Unified` or
/// `Data`.
///
/// # Errors
/// Why there is none: `root` unreadable, no data or unified cache listed, or a
/// `size` that does not parse (the file and its text are named).
pub fn read_llc(root: &Path) -> Result<Llc, String> {
    let entries =
        std::fs::read_dir(root).map_err(|e| format!("reading {}: {e}", root.display()))?;
    let mut best: Option<Llc> = None;
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_index = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("index"));
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
        let (Some(level), Some(kind)) = (read("level"), read("type")) else {
            continue;
        };
        let Ok(level) = level.trim().parse::<u32>() else {
            continue;
        };
        if !is_index || !matches!(kind.trim(), "Unified" | "Data") {
            continue;
        }
        if best.as_ref().is_some_and(|b| b.level >= level) {
            continue;
        }
        let size_file = dir.join("size");
        let text = std::fs::read_to_string(&size_file)
            .map_err(|e| format!("reading {}: {e}", size_file.display()))?;
        let bytes = parse_cache_size(&text)
            .ok_or_else(|| format!("{}: cannot parse {:?}", size_file.display(), text.trim()))?;
        best = Some(Llc { bytes, level, dir });
    }
    best.ok_or_else(|| format!("{} lists no data or unified cache", root.display()))
}

/// Parses a sysfs cache size such as `32768K`, `1M` or `512`, bytes.
fn parse_cache_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// What `cache-thrash` does.
#[derive(Debug, Clone)]
pub struct ThrashPlan {
    /// Buffer size, bytes; `None` is twice the last-level cache (at most [`MAX_BYTES`]).
    pub bytes: Option<u64>,
    /// Threads, each streaming over its own share of the buffer.
    pub threads: usize,
    /// Duty cycle.
    pub intensity: Intensity,
    /// Run time.
    pub duration: Duration,
}

/// Runs the plan, reading the last-level cache from [`SYSFS_CACHE`].
pub fn run(plan: &ThrashPlan) -> CacheThrashReport {
    run_with_llc(plan, read_llc(Path::new(SYSFS_CACHE)))
}

/// Runs the plan with `llc` as the last-level cache (or why it is unknown).
pub fn run_with_llc(plan: &ThrashPlan, llc: Result<Llc, String>) -> CacheThrashReport {
    let start = Instant::now();
    let deadline = start + plan.duration;
    let (llc_bytes, llc_source) = match llc {
        Ok(llc) => (
            Some(llc.bytes),
            format!("L{} of {}", llc.level, llc.dir.display()),
        ),
        Err(why) => (
            None,
            format!("{why}; assumed {} MiB", ASSUMED_LLC_BYTES >> 20),
        ),
    };
    let threads = plan.threads.max(1);
    let bytes = plan
        .bytes
        .unwrap_or(2 * llc_bytes.unwrap_or(ASSUMED_LLC_BYTES))
        .min(MAX_BYTES);
    // Every thread gets at least one line.
    let share = (bytes as usize / threads).max(LINE).next_multiple_of(LINE);
    let mut buffer = vec![0u8; share * threads];
    let counts: Vec<(u64, u64)> = std::thread::scope(|s| {
        let workers: Vec<_> = buffer
            .chunks_mut(share)
            .map(|part| s.spawn(move || stream(part, Pacer::new(plan.intensity, deadline))))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a cache-thrash thread panicked"))
            .collect()
    });
    let ran_s = start.elapsed().as_secs_f64();
    let lines: u64 = counts.iter().map(|c| c.0).sum();
    CacheThrashReport {
        buffer_bytes: buffer.len() as u64,
        llc_bytes,
        llc_source,
        threads,
        passes: counts.iter().map(|c| c.1).min().unwrap_or(0),
        lines_per_s: lines as f64 / ran_s,
        ran_s,
        intensity: plan.intensity,
    }
}

/// Reads and writes one byte of every line of `part`, over and over, paced;
/// returns the lines touched and the full passes made.
fn stream(part: &mut [u8], mut pacer: Pacer) -> (u64, u64) {
    let n_lines = part.len() / LINE;
    let (mut lines, mut passes, mut at) = (0u64, 0u64, 0usize);
    while pacer.go() {
        let end = (at + LINES_PER_STEP).min(n_lines);
        for line in at..end {
            let byte = &mut part[line * LINE];
            *byte = byte.wrapping_add(1);
        }
        lines += (end - at) as u64;
        at = end;
        if at == n_lines {
            at = 0;
            passes += 1;
        }
    }
    black_box(part);
    (lines, passes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_cache(indexes: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (i, (level, kind, size)) in indexes.iter().enumerate() {
            let d = t.path().join(format!("index{i}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("level"), format!("{level}\n")).unwrap();
            std::fs::write(d.join("type"), format!("{kind}\n")).unwrap();
            std::fs::write(d.join("size"), format!("{size}\n")).unwrap();
        }
        t
    }

    #[test]
    fn llc_is_the_highest_data_or_unified_level() {
        let t = fake_cache(&[
            ("1", "Data", "32K"),
            ("1", "Instruction", "32K"),
            ("2", "Unified", "512K"),
            ("3", "Unified", "32768K"),
        ]);
        let llc = read_llc(t.path()).unwrap();
        assert_eq!((llc.bytes, llc.level), (32 << 20, 3));
        assert!(llc.dir.ends_with("index3"));
    }

    #[test]
    fn instruction_caches_alone_are_no_llc() {
        let t = fake_cache(&[("1", "Instruction", "32K")]);
        let err = read_llc(t.path()).unwrap_err();
        assert!(err.contains("no data or unified cache"), "{err}");
        let err = read_llc(Path::new("/nonexistent-isobench")).unwrap_err();
        assert!(err.contains("/nonexistent-isobench"), "{err}");
    }

    #[test]
    fn unparsable_size_names_the_file_and_text() {
        let t = fake_cache(&[("2", "Unified", "lots")]);
        let err = read_llc(t.path()).unwrap_err();
        assert!(err.contains("index0/size") && err.contains("lots"), "{err}");
    }

    #[test]
    fn missing_llc_assumes_32_mib_and_says_so() {
        let plan = ThrashPlan {
            bytes: None,
            threads: 1,
            intensity: Intensity::FULL,
            duration: Duration::from_millis(50),
        };
        let r = run_with_llc(&plan, Err("no sysfs".into()));
        assert_eq!(r.llc_bytes, None);
        assert!(r.llc_source.contains("no sysfs") && r.llc_source.contains("32 MiB"));
        assert_eq!(r.buffer_bytes, 64 << 20);
    }

    #[test]
    fn streams_over_its_buffer_until_the_deadline() {
        let plan = ThrashPlan {
            bytes: Some(1 << 20),
            threads: 2,
            intensity: Intensity::FULL,
            duration: Duration::from_millis(300),
        };
        let r = run(&plan);
        assert_eq!((r.buffer_bytes, r.threads), (1 << 20, 2));
        assert!(r.ran_s >= 0.3 && r.ran_s < 0.8, "{r:?}");
        assert!(r.passes > 0 && r.lines_per_s > 0.0, "{r:?}");
    }
}
