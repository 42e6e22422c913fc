//! CPU time of the kernel's own threads (kswapd, kworkers, ksoftirqd, rcu…):
//! children of `kthreadd` (pid 2) and kthreadd itself, each read from
//! `/proc/<pid>/schedstat` (its first field: time on a CPU, ns; exact, not
//! tick-sampled; Documentation/scheduler/sched-stats.rst).
//!
//! During a scenario they work mostly for the run's own workloads (reclaim
//! for a memory hog, writeback for a writer, netns and task teardown after a
//! fork storm), which the run's cgroups cannot be charged for, so the
//! disturbance figure reports them apart instead of as other work.

use std::collections::HashMap;
use std::path::Path;

/// pid of `kthreadd`, the parent of every kernel thread.
const KTHREADD: u32 = 2;

/// The CPU time of each kernel thread alive now, µs, by pid.
pub type KthreadTimes = HashMap<u32, u64>;

/// The parent pid from the text of `/proc/<pid>/stat` (the field after the
/// state, which follows the last `)` of the command name); `None` if malformed.
pub fn ppid_of_stat(text: &str) -> Option<u32> {
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The time on a CPU from the text of `/proc/<pid>/schedstat`, µs.
pub fn schedstat_us(text: &str) -> Option<u64> {
    text.split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()
        .map(|ns| ns / 1000)
}

/// Reads every kernel thread's CPU time below `proc` (normally `/proc`). A
/// thread that ends while it is read is skipped.
///
/// # Errors
/// `proc` cannot be listed, with its path.
pub fn read(proc: &Path) -> Result<KthreadTimes, String> {
    let entries = std::fs::read_dir(proc).map_err(|e| format!("{}: {e}", proc.display()))?;
    let mut times = KthreadTimes::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        let kernel = pid == KTHREADD
            || std::fs::read_to_string(dir.join("stat"))
                .ok()
                .and_then(|t| ppid_of_stat(&t))
                == Some(KTHREADD);
        if !kernel {
            continue;
        }
        if let Some(us) = std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|t| schedstat_us(&t))
        {
            times.insert(pid, us);
        }
    }
    Ok(times)
}

/// CPU time the kernel threads used between `before` and `after`, µs: a thread
/// that started in between counts whole, one that ended takes nothing away.
pub fn delta_us(before: &KthreadTimes, after: &KthreadTimes) -> u64 {
    after
        .iter()
        .map(|(pid, us)| us.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_time_are_read_from_their_files() {
        let stat =
            "41 (kworker/0:1-events (x)) I 2 0 0 0 -1 69238880 0 0 0 0 0 12 0 0 20 0 1 0 9 0 0";
        assert_eq!(ppid_of_stat(stat), Some(2));
        assert_eq!(ppid_of_stat("garbage"), None);
        assert_eq!(schedstat_us("1234567 890 12\n"), Some(1234));
        assert_eq!(schedstat_us(""), None);
    }

    #[test]
    fn a_new_thread_counts_whole_and_an_ended_one_takes_nothing() {
        let before = KthreadTimes::from([(10, 1000), (11, 500)]);
        let after = KthreadTimes::from([(10, 1600), (12, 300)]);
        assert_eq!(delta_us(&before, &after), 600 + 300);
    }

    #[test]
    fn this_host_has_kernel_threads() {
        let t = read(Path::new("/proc")).unwrap();
        assert!(t.contains_key(&KTHREADD), "{t:?}");
    }
}
