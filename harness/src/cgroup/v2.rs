//! The v2 backend: one unified hierarchy, controllers handed down through
//! `cgroup.subtree_control`.
//!
//! The no-internal-processes rule (Documentation/admin-guide/cgroup-v2.rst,
//! "No Internal Process Constraint") forbids enabling a controller for the
//! children of a non-root cgroup that holds processes. The harness normally sits
//! in such a cgroup (a service, a session scope), so before enabling anything it
//! moves itself into a leaf of its own, `<own>/isobench-harness-<pid>`, and moves
//! back when the last arena is gone (case C02, google/gvisor #8111).

use super::error::{CgroupError, Result};
use super::files;
use super::layout::{HARNESS_LEAF_PREFIX, Layout};
use super::limits::Limits;
use super::stat::CpuStat;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Controllers the harness hands down to its sandboxes, where the host offers them.
pub const WANTED: [&str; 4] = ["cpuset", "cpu", "memory", "pids"];
/// Controllers handed down too when that costs nothing else: only where the host
/// offers them, never at the price of a [`CgroupError::InternalProcesses`]
/// failure, and a refused write only leaves them out (a sandbox that asks for
/// their limits is then refused by name, runs that don't are unaffected).
pub const OPTIONAL: [&str; 1] = ["io"];

/// The process-wide move into the harness leaf, shared by every arena of this process.
struct Delegation {
    own: PathBuf,
    leaf: PathBuf,
    enabled: Vec<String>,
    arenas: usize,
}

static DELEGATION: Mutex<Option<Delegation>> = Mutex::new(None);

fn words(path: &Path) -> Result<Vec<String>> {
    Ok(files::read(path)?
        .split_whitespace()
        .map(String::from)
        .collect())
}

/// Makes the controllers of [`WANTED`] (and, where possible, [`OPTIONAL`])
/// available to children of `own`, moving the harness into its leaf if `own`
/// must not hold processes. Counted: call [`release`] once per successful call.
/// Returns the controllers children of `own` get.
///
/// # Errors
/// [`CgroupError::InternalProcesses`] when `own` holds processes isobench did not
/// start; read/write errors with the path.
pub fn acquire(own: &Path) -> Result<Vec<String>> {
    let mut guard = DELEGATION.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = guard.as_mut() {
        d.arenas += 1;
        return words(&own.join("cgroup.subtree_control"));
    }
    let available = words(&own.join("cgroup.controllers"))?;
    let active = words(&own.join("cgroup.subtree_control"))?;
    let missing = |list: &[&str]| -> Vec<String> {
        list.iter()
            .filter(|c| available.iter().any(|a| a == *c) && !active.iter().any(|a| a == *c))
            .map(|c| c.to_string())
            .collect()
    };
    let missing_wanted = missing(&WANTED);
    let mut missing_optional = missing(&OPTIONAL);
    let me = std::process::id() as i32;
    let leaf = own.join(format!("{HARNESS_LEAF_PREFIX}{me}"));
    let is_root = !own.join("cgroup.type").exists();
    let nothing_missing = missing_wanted.is_empty() && missing_optional.is_empty();
    let mut must_move = !nothing_missing && !is_root;
    if must_move {
        let others: Vec<i32> = files::procs(own)?
            .into_iter()
            .filter(|&p| p != me)
            .collect();
        if !others.is_empty() && !missing_wanted.is_empty() {
            return Err(CgroupError::InternalProcesses {
                path: own.into(),
                pids: others,
            });
        }
        if others.is_empty() {
            files::mkdir(&leaf)?;
            files::write(&leaf.join("cgroup.procs"), &me.to_string())?;
        } else {
            // Only optional controllers are missing: go without them.
            missing_optional.clear();
            must_move = false;
        }
    }
    let mut enabled = Vec::new();
    for c in &missing_wanted {
        if let Err(e) = enable(own, c, must_move.then_some(&leaf)) {
            undo(own, &leaf, &enabled, must_move);
            return Err(e);
        }
        enabled.push(c.clone());
    }
    for c in &missing_optional {
        if files::write(&own.join("cgroup.subtree_control"), &format!("+{c}")).is_ok() {
            enabled.push(c.clone());
        }
    }
    *guard = Some(Delegation {
        own: own.into(),
        leaf: if must_move { leaf } else { PathBuf::new() },
        enabled,
        arenas: 1,
    });
    words(&own.join("cgroup.subtree_control"))
}

/// How long [`enable`] retries a write refused with EBUSY after the harness moved out.
const SETTLE: Duration = Duration::from_secs(2);

/// Writes `+controller` to `own`'s `cgroup.subtree_control`. Where the harness
/// moved into `leaf`, an EBUSY ("no internal processes") is retried for up to
/// [`SETTLE`], the harness written into its leaf again each time: a thread that
/// was exiting when the harness moved is not migrated (the kernel skips
/// PF_EXITING tasks, kernel/cgroup/cgroup.c) and holds `own` busy until it is
/// gone, which a test binary whose previous test's thread is still ending shows.
///
/// # Errors
/// The write's error, after the retries for EBUSY.
fn enable(own: &Path, controller: &str, leaf: Option<&PathBuf>) -> Result<()> {
    let file = own.join("cgroup.subtree_control");
    let value = format!("+{controller}");
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match files::write(&file, &value) {
            Err(CgroupError::Write { error, .. })
                if error.raw_os_error() == Some(libc::EBUSY)
                    && start.elapsed() < SETTLE
                    && let Some(leaf) = leaf =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
                files::write(&leaf.join("cgroup.procs"), &std::process::id().to_string())?;
            }
            other => return other,
        }
    }
}

/// Ends one [`acquire`]; the last one disables what was enabled, moves the
/// harness back into its own cgroup and removes the leaf.
///
/// # Errors
/// Write errors with the path (the harness then stays in its leaf).
pub fn release() -> Result<()> {
    let mut guard = DELEGATION.lock().unwrap_or_else(|e| e.into_inner());
    let Some(d) = guard.as_mut() else {
        return Ok(());
    };
    d.arenas -= 1;
    if d.arenas > 0 {
        return Ok(());
    }
    let d = guard.take().expect("checked above");
    let moved = !d.leaf.as_os_str().is_empty();
    undo(&d.own, &d.leaf, &d.enabled, moved);
    Ok(())
}

/// Disables `enabled` in `own` (in reverse) and, if the harness moved, moves it back and removes the leaf.
fn undo(own: &Path, leaf: &Path, enabled: &[String], moved: bool) {
    for c in enabled.iter().rev() {
        if let Err(e) = files::write(&own.join("cgroup.subtree_control"), &format!("-{c}")) {
            eprintln!("warning: {e}");
        }
    }
    if moved {
        if let Err(e) = files::write(&own.join("cgroup.procs"), &std::process::id().to_string()) {
            eprintln!("warning: {e}");
        }
        if let Err(e) = std::fs::remove_dir(leaf) {
            eprintln!("warning: removing {}: {e}", leaf.display());
        }
    }
}

/// Hands `controllers` down from arena `dir` to its sandboxes.
///
/// # Errors
/// [`CgroupError::Write`] naming `cgroup.subtree_control` and the value.
pub fn prepare_arena(dir: &Path, controllers: &[String]) -> Result<()> {
    let value: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
    if value.is_empty() {
        return Ok(());
    }
    files::write(&dir.join("cgroup.subtree_control"), &value.join(" "))
}

/// Writes `limits` into sandbox cgroup `dir`: the files of [`Limits::files`]
/// for v2, in that order.
///
/// # Errors
/// [`CgroupError::Write`] naming the file and value; [`CgroupError::Refused`]
/// where isobench knows why the kernel refused it ([`Limits::refusal`]).
pub fn apply(dir: &Path, limits: &Limits) -> Result<()> {
    limits.files(Layout::V2).iter().try_for_each(|w| {
        files::write(&dir.join(&w.file), &w.value).map_err(|e| limits.explain(w, e))
    })
}

/// Why arena directory `dir` lacks `file` of `controller`, for
/// [`super::Unsupported`]: the controller not handed down to the arena, or a
/// kernel without the file.
pub fn missing_file(dir: &Path, controller: &str, file: &str) -> String {
    let enabled = files::read(&dir.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|c| c == controller));
    if !enabled {
        let parent = dir.parent().unwrap_or(dir);
        return format!(
            "the {controller} controller is not enabled for {}: {}/cgroup.subtree_control lacks it \
             (not offered by the host, or not delegated to isobench)",
            dir.display(),
            parent.display()
        );
    }
    let cause = match file {
        "io.weight" => "; io.weight needs the iocost controller (CONFIG_BLK_CGROUP_IOCOST)",
        "io.max" => "; io.max needs blk-throttle (CONFIG_BLK_DEV_THROTTLING)",
        "memory.swap.max" => "; swap accounting is off (CONFIG_MEMCG_SWAP, swapaccount=1)",
        "cpu.max.burst" => {
            "; CFS burst came in Linux 5.14: upgrade the kernel, or leave the burst out"
        }
        "cpu.idle" => "; cpu.idle came in Linux 5.15: upgrade the kernel, or leave it out",
        "memory.oom.group" => "; memory.oom.group came in Linux 4.19",
        _ => "",
    };
    format!("no {file} in {}{cause}", dir.display())
}

/// Reads `cpu.stat` of `dir`: usage always, throttling where the cpu controller is on.
///
/// # Errors
/// Read or parse errors with the path.
pub fn read_cpu(dir: &Path) -> Result<CpuStat> {
    let path = dir.join("cpu.stat");
    CpuStat::parse_v2(&path, &files::read(&path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::limits::{CpuMax, Limit};
    use crate::cgroup::weight::CpuWeight;

    /// [`acquire`] keeps process-wide state: tests that call it take turns.
    static ACQUIRE: Mutex<()> = Mutex::new(());

    #[test]
    fn weight_cpuset_and_pids_are_written_natively() {
        let t = tempfile::tempdir().unwrap();
        let fixture = Path::new("tests/fixtures/v2-debian-6.1");
        for f in ["cpu.weight", "cpuset.cpus", "pids.max"] {
            std::fs::copy(fixture.join(format!("new_child_{f}")), t.path().join(f)).unwrap();
        }
        let limits = Limits {
            cpu_weight: Some(CpuWeight::Shares(256)),
            cpuset_cpus: Some("1".parse().unwrap()),
            pids_max: Some(Limit::Value(64)),
            ..Limits::default()
        };
        apply(t.path(), &limits).unwrap();
        let read = |f: &str| std::fs::read_to_string(t.path().join(f)).unwrap();
        assert_eq!(
            read("cpu.weight"),
            "35",
            "256 shares by the runtimes' formula"
        );
        assert_eq!(read("cpuset.cpus"), "1");
        assert_eq!(read("pids.max"), "64");
    }

    /// A fake harness cgroup `own` (the runner's controllers from the v2 fixture,
    /// `subtree_control` as given) that this process shares with a foreign pid 4242.
    fn shared_own_cgroup(own: &Path, subtree_control: &str) {
        std::fs::copy(
            "tests/fixtures/v2-debian-6.1/runner_cgroup.controllers",
            own.join("cgroup.controllers"),
        )
        .unwrap();
        std::fs::write(own.join("cgroup.subtree_control"), subtree_control).unwrap();
        std::fs::write(own.join("cgroup.type"), "domain\n").unwrap();
        std::fs::write(
            own.join("cgroup.procs"),
            format!("{}\n4242\n", std::process::id()),
        )
        .unwrap();
    }

    #[test]
    fn io_is_left_out_rather_than_fail_when_only_it_is_missing_and_others_share_the_cgroup() {
        let _turn = ACQUIRE.lock().unwrap_or_else(|e| e.into_inner());
        let t = tempfile::tempdir().unwrap();
        let own = t.path();
        shared_own_cgroup(own, "cpuset cpu memory pids\n");
        let controllers = acquire(own).unwrap();
        release().unwrap();
        assert_eq!(controllers, ["cpuset", "cpu", "memory", "pids"]);
        assert!(
            !own.join(format!("{HARNESS_LEAF_PREFIX}{}", std::process::id()))
                .exists(),
            "the harness stays where it is"
        );
    }

    #[test]
    fn cpu_max_is_written_as_quota_and_period() {
        let t = tempfile::tempdir().unwrap();
        std::fs::copy(
            "tests/fixtures/v2-debian-6.1/new_child_cpu.max",
            t.path().join("cpu.max"),
        )
        .unwrap();
        let limits = Limits {
            cpu_max: Some(CpuMax {
                quota_us: Some(50_000),
                period_us: 100_000,
            }),
            ..Limits::default()
        };
        apply(t.path(), &limits).unwrap();
        let written = std::fs::read_to_string(t.path().join("cpu.max")).unwrap();
        assert_eq!(
            written,
            std::fs::read_to_string("tests/fixtures/v2-debian-6.1/bench_cpu.max")
                .unwrap()
                .trim()
        );
    }

    #[test]
    fn arena_hands_down_every_controller_in_one_write() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("cgroup.subtree_control"), "").unwrap();
        prepare_arena(t.path(), &["cpu".into(), "memory".into()]).unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join("cgroup.subtree_control")).unwrap(),
            "+cpu +memory"
        );
    }

    #[test]
    fn c02_foreign_process_in_own_cgroup_stops_with_the_rule_and_path() {
        let _turn = ACQUIRE.lock().unwrap_or_else(|e| e.into_inner());
        let t = tempfile::tempdir().unwrap();
        let own = t.path();
        let subtree_control =
            std::fs::read_to_string("tests/fixtures/v2-debian-6.1/runner_cgroup.subtree_control")
                .unwrap();
        shared_own_cgroup(own, &subtree_control);
        let err = acquire(own).unwrap_err().to_string();
        assert!(
            err.contains("no-internal-processes")
                && err.contains(&own.display().to_string())
                && err.contains("4242"),
            "{err}"
        );
        assert!(
            !own.join(format!("{HARNESS_LEAF_PREFIX}{}", std::process::id()))
                .exists(),
            "no leaf may be left behind"
        );
    }
}
