//! `cpu-view`: what a workload believes it has, read from inside its sandbox
//! (cases C14, C15).
//!
//! A runtime sizes its thread pools from a CPU count it reads itself, and most
//! read it from the affinity mask or from what `/proc` and sysfs say about the
//! whole machine, not from the CPU quota of their cgroup. This applet reports:
//!
//! - the counts runtimes pick: the affinity mask (sched_getaffinity(2), what
//!   `nproc` and libuv's `uv_available_parallelism` count), Rust's
//!   `std::thread::available_parallelism()` (affinity, capped by the cgroup
//!   quota of the process's own cgroup: library/std/src/sys/pal/unix/thread.rs),
//!   and Java's `Runtime.availableProcessors()`, Node's `os.availableParallelism()`
//!   and Go's `runtime.GOMAXPROCS(0)`, each run in the same sandbox when
//!   installed (bounded by a timeout, killed by pid when it passes);
//! - the host figures `/proc`, sysfs and sysinfo(2) show to anyone: processors
//!   in /proc/cpuinfo, `cpuN` lines of /proc/stat, /sys/devices/system/cpu/online,
//!   sysconf(_SC_NPROCESSORS_ONLN), `MemTotal`, sysinfo() `totalram` and
//!   `procs`, /proc/loadavg. Without lxcfs (lxc/lxcfs) they are the host's.
//!
//! A figure that could not be read is `Err(reason)`, never 0.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the process saw. Every figure is `Ok(value)` or `Err(why it is unavailable)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CpuSeen {
    /// CPUs in its affinity mask (sched_getaffinity(2)).
    pub affinity: Result<u64, String>,
    /// Rust's `std::thread::available_parallelism()`.
    pub available_parallelism: Result<u64, String>,
    /// `processor` lines of /proc/cpuinfo.
    pub cpuinfo_processors: Result<u64, String>,
    /// `cpuN` lines of /proc/stat.
    pub proc_stat_cpus: Result<u64, String>,
    /// CPUs in /sys/devices/system/cpu/online (a CPU list such as `0-1`).
    pub online_cpus: Result<u64, String>,
    /// sysconf(_SC_NPROCESSORS_ONLN) (sysconf(3)).
    pub sysconf_nprocessors_onln: Result<u64, String>,
    /// `MemTotal` of /proc/meminfo, bytes.
    pub memtotal_bytes: Result<u64, String>,
    /// sysinfo(2) `totalram` × `mem_unit`, bytes.
    pub sysinfo_totalram_bytes: Result<u64, String>,
    /// sysinfo(2) `procs`: processes (threads) on the whole host.
    pub sysinfo_procs: Result<u64, String>,
    /// /proc/loadavg, verbatim without its newline.
    pub loadavg: Result<String, String>,
    /// What each external runtime reported, in the order of [`RUNTIMES`].
    pub runtimes: Vec<RuntimeSeen>,
}

/// One external runtime's CPU count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeSeen {
    /// `go`, `java` or `node`.
    pub name: String,
    /// What was asked, e.g. `node -e console.log(os.availableParallelism())`.
    pub asked: String,
    /// The count it printed, or why there is none (not installed, failed, timed out).
    pub cpus: Result<u64, String>,
}

/// The external runtimes asked: `(name, what it is asked)`.
pub const RUNTIMES: [(&str, &str); 3] = [
    ("go", "GOMAXPROCS: `go run` of runtime.GOMAXPROCS(0)"),
    (
        "java",
        "Runtime.getRuntime().availableProcessors(), a source-file program",
    ),
    ("node", "node -e os.availableParallelism()"),
];

/// Reads every figure; with `timeout`, also asks each runtime of [`RUNTIMES`],
/// allowing each at most that long (without, `runtimes` is empty: the harness
/// reads the host's figures this way).
pub fn look(timeout: Option<Duration>) -> CpuSeen {
    let sys = nix::sys::sysinfo::sysinfo().map_err(|e| format!("sysinfo(2): {e}"));
    CpuSeen {
        affinity: affinity(),
        available_parallelism: std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .map_err(|e| format!("available_parallelism: {e}")),
        cpuinfo_processors: read("/proc/cpuinfo").map(|t| cpuinfo_processors(&t)),
        proc_stat_cpus: read("/proc/stat").map(|t| stat_cpus(&t)),
        online_cpus: read("/sys/devices/system/cpu/online").and_then(|t| cpu_list_len(&t)),
        sysconf_nprocessors_onln: match nix::unistd::sysconf(
            nix::unistd::SysconfVar::_NPROCESSORS_ONLN,
        ) {
            Ok(Some(n)) if n > 0 => Ok(n as u64),
            Ok(other) => Err(format!("sysconf(_SC_NPROCESSORS_ONLN) gave {other:?}")),
            Err(e) => Err(format!("sysconf(_SC_NPROCESSORS_ONLN): {e}")),
        },
        memtotal_bytes: read("/proc/meminfo").and_then(|t| memtotal_bytes(&t)),
        sysinfo_totalram_bytes: sys.clone().map(|s| s.ram_total()),
        sysinfo_procs: sys.map(|s| u64::from(s.process_count())),
        loadavg: read("/proc/loadavg").map(|t| t.trim().to_string()),
        runtimes: timeout.map_or_else(Vec::new, |timeout| {
            RUNTIMES
                .iter()
                .map(|(name, asked)| RuntimeSeen {
                    name: name.to_string(),
                    asked: asked.to_string(),
                    cpus: ask(name, timeout),
                })
                .collect()
        }),
    }
}

fn read(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn affinity() -> Result<u64, String> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map_err(|e| format!("sched_getaffinity: {e}"))?;
    Ok((0..nix::sched::CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .count() as u64)
}

/// `processor` lines of /proc/cpuinfo text.
pub fn cpuinfo_processors(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
        .count() as u64
}

/// `cpuN` lines of /proc/stat text (the aggregate `cpu` line excluded).
pub fn stat_cpus(text: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .and_then(|key| key.strip_prefix("cpu"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64
}

/// CPUs in a kernel CPU list (`0-1,4`, cpuset(7) "List format").
///
/// # Errors
/// A range that is not `N` or `N-M` with N ≤ M.
pub fn cpu_list_len(text: &str) -> Result<u64, String> {
    let mut n = 0;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("CPU list {:?}: expected N or N-M ranges", text.trim());
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        if b < a {
            return Err(bad());
        }
        n += b - a + 1;
    }
    Ok(n)
}

/// `MemTotal` of /proc/meminfo text, bytes.
///
/// # Errors
/// No `MemTotal:` line in kB.
pub fn memtotal_bytes(text: &str) -> Result<u64, String> {
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix("MemTotal:")?;
            let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kb * 1024)
        })
        .ok_or_else(|| "/proc/meminfo: no `MemTotal: N kB` line".to_string())
}

/// The first executable file named `name` in `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| {
                fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    })
}

const JAVA_SOURCE: &str = "public class Cpus { public static void main(String[] a) { System.out.println(Runtime.getRuntime().availableProcessors()); } }\n";
const GO_SOURCE: &str = "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() { fmt.Println(runtime.GOMAXPROCS(0)) }\n";

/// Asks runtime `name` for its CPU count, within `timeout`.
fn ask(name: &str, timeout: Duration) -> Result<u64, String> {
    let program = on_path(name).ok_or_else(|| format!("{name} not installed (not on PATH)"))?;
    let dir = tempfile::Builder::new()
        .prefix("isobench-cpu-view-")
        .tempdir()
        .map_err(|e| format!("a temporary directory for {name}: {e}"))?;
    let mut cmd = Command::new(&program);
    match name {
        "java" => {
            let src = write(dir.path(), "Cpus.java", JAVA_SOURCE)?;
            cmd.arg(src);
        }
        "go" => {
            let src = write(dir.path(), "main.go", GO_SOURCE)?;
            cmd.arg("run").arg(src);
            cmd.env("GOCACHE", dir.path().join("cache"))
                .env("GOPATH", dir.path().join("gopath"))
                .env("GOTOOLCHAIN", "local");
        }
        _ => {
            cmd.args(["-e", "console.log(require('os').availableParallelism())"]);
        }
    }
    let out = bounded(cmd.current_dir(dir.path()), timeout)
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let line = out.trim();
    line.parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{} printed {line:?}, not a CPU count", program.display()))
}

fn write(dir: &Path, file: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(file);
    fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// Runs `cmd` to its end with stdout captured; kills it (by its pid) when it
/// runs past `timeout`.
///
/// # Errors
/// Not started, killed at the timeout, or a non-zero exit (with its stderr's last line).
pub fn bounded(cmd: &mut Command, timeout: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no answer within {:.0} s: killed (pid {})",
                    timeout.as_secs_f64(),
                    child.id()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting: {e}")),
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    if status.success() {
        Ok(out)
    } else {
        Err(format!(
            "exited with {status}: {}",
            err.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_processors_cpu_lines_and_cpu_lists() {
        let cpuinfo = "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n";
        assert_eq!(cpuinfo_processors(cpuinfo), 2);
        let stat = "cpu  10 0 5 100\ncpu0 5 0 2 50\ncpu1 5 0 3 50\nintr 1 2\nctxt 5\n";
        assert_eq!(stat_cpus(stat), 2);
        assert_eq!(cpu_list_len("0-1\n"), Ok(2));
        assert_eq!(cpu_list_len("0,2-4"), Ok(4));
        assert!(cpu_list_len("3-1").unwrap_err().contains("3-1"));
        assert_eq!(memtotal_bytes("MemTotal:        2000 kB\n"), Ok(2_048_000));
        assert!(memtotal_bytes("MemFree: 1 kB\n").is_err());
    }

    #[test]
    fn a_runtime_past_its_timeout_is_killed_and_said_so() {
        let e = bounded(Command::new("sleep").arg("5"), Duration::from_millis(100)).unwrap_err();
        assert!(e.contains("killed"), "{e}");
        let e = bounded(Command::new("false").arg("x"), Duration::from_secs(5)).unwrap_err();
        assert!(e.contains("exited"), "{e}");
    }

    #[test]
    fn a_runtime_not_installed_reads_as_unavailable_not_zero() {
        assert!(
            ask("isobench-no-such-runtime", Duration::from_secs(1))
                .unwrap_err()
                .contains("not installed")
        );
    }
}
