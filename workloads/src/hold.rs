//! Probes that take a resource inside a sandbox and hold it for a while, so the
//! harness can look from outside meanwhile: a TCP port, a tmpfs mount, a POSIX
//! message queue. Each prints one [`HoldEvent`] line when it holds the resource
//! (or [`HoldEvent::Failed`] when it could not take it, and exits 1), holds it for
//! `hold`, releases it and prints a [`HoldEvent::Released`] line.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

/// A line a holder prints on stdout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HoldEvent {
    /// It holds the resource now.
    Held(Held),
    /// It could not take the resource.
    Failed(Failed),
    /// It released the resource.
    Released(Released),
}

/// Why a holder could not take its resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Failed {
    /// The errno, by name (`EADDRINUSE`), where the failure was a system call's.
    pub errno: Option<String>,
    /// The whole error, e.g. `binding 127.0.0.1:3306: Address already in use (os error 98)`.
    pub error: String,
}

/// What a holder prints when it holds the resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Held {
    /// CLOCK_MONOTONIC when it took the resource, ns (the same clock inside and outside
    /// pid and net namespaces).
    pub at_ns: u64,
    /// Network interfaces it sees (for `hold-port`).
    pub interfaces: Vec<String>,
    /// What it did and what it saw, e.g. `bound 127.0.0.1:3306; sent "ping-a", got "pong-a"`.
    pub evidence: String,
}

/// What a holder prints when it released the resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Released {
    /// CLOCK_MONOTONIC when it released the resource, ns.
    pub at_ns: u64,
}

/// CLOCK_MONOTONIC now, ns.
pub fn monotonic_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

fn print_line(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(value)?)?;
    out.flush()?;
    Ok(())
}

/// The errno name of the first system-call error in `e`'s chain.
fn errno_of(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|cause| {
        let raw = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
            .or_else(|| cause.downcast_ref::<nix::errno::Errno>().map(|e| *e as i32))?;
        Some(format!("{:?}", nix::errno::Errno::from_raw(raw)))
    })
}

/// Holds `take()`'s resource for `hold`, reporting before and after. Returns
/// false when the resource could not be taken (reported as [`HoldEvent::Failed`]).
///
/// # Errors
/// Writing to stdout.
fn hold_with<R>(
    hold: Duration,
    take: impl FnOnce() -> Result<(R, Held)>,
    release: impl FnOnce(R),
) -> Result<bool> {
    let (resource, held) = match take() {
        Ok(taken) => taken,
        Err(e) => {
            print_line(&HoldEvent::Failed(Failed {
                errno: errno_of(&e),
                error: format!("{e:#}"),
            }))?;
            return Ok(false);
        }
    };
    print_line(&HoldEvent::Held(held))?;
    std::thread::sleep(hold);
    release(resource);
    print_line(&HoldEvent::Released(Released {
        at_ns: monotonic_ns(),
    }))?;
    Ok(true)
}

/// Binds TCP 127.0.0.1:`port`, serves one request from a client of its own
/// (`ping-<tag>` → `pong-<tag>`), then holds the port.
///
/// Returns false, having printed why, when the bind (EADDRINUSE when the port is
/// taken in this network namespace) or the exchange failed.
///
/// # Errors
/// Writing to stdout.
pub fn port(port: u16, tag: &str, hold: Duration) -> Result<bool> {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    hold_with(
        hold,
        || {
            let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
            let at_ns = monotonic_ns();
            let answer = std::thread::scope(|s| -> Result<String> {
                let server = s.spawn(|| -> Result<()> {
                    let (stream, _) = listener.accept()?;
                    let mut line = String::new();
                    BufReader::new(&stream).read_line(&mut line)?;
                    let reply = line.trim().replacen("ping-", "pong-", 1);
                    (&stream).write_all(format!("{reply}\n").as_bytes())?;
                    Ok(())
                });
                let client =
                    TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
                (&client).write_all(format!("ping-{tag}\n").as_bytes())?;
                let mut answer = String::new();
                BufReader::new(&client).read_line(&mut answer)?;
                server
                    .join()
                    .map_err(|_| anyhow::anyhow!("server thread panicked"))??;
                Ok(answer)
            })?;
            let evidence = format!("bound {addr}; sent \"ping-{tag}\", got {:?}", answer.trim());
            // The listener is the held resource: the port stays bound until release.
            Ok((
                listener,
                Held {
                    at_ns,
                    interfaces: crate::inspect::look(None).interfaces,
                    evidence,
                },
            ))
        },
        drop,
    )
}

/// Mounts a tmpfs on `dir` with a marker file in it, then holds it. Refuses when
/// this process shares `host_mnt_ns` (the mount would appear on the host).
///
/// Returns false, having printed why, on the refusal or a mount error.
///
/// # Errors
/// Writing to stdout.
pub fn mount(dir: &std::path::Path, host_mnt_ns: &str, hold: Duration) -> Result<bool> {
    let mine = crate::inspect::namespace_ids()
        .remove("mnt")
        .unwrap_or_default();
    hold_with(
        hold,
        || {
            if mine == host_mnt_ns {
                bail!(
                    "refusing to mount on {}: this process shares the host's mount namespace {mine}",
                    dir.display()
                );
            }
            nix::mount::mount(
                Some("tmpfs"),
                dir,
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some("size=64k"),
            )
            .with_context(|| format!("mounting a tmpfs on {}", dir.display()))?;
            std::fs::write(dir.join("marker"), "inside")?;
            let evidence = format!(
                "mounted a tmpfs on {} in {mine} and wrote {}/marker; root propagation {}",
                dir.display(),
                dir.display(),
                root_propagation()
            );
            Ok((
                (),
                Held {
                    at_ns: monotonic_ns(),
                    interfaces: Vec::new(),
                    evidence,
                },
            ))
        },
        |()| {
            let _ = nix::mount::umount(dir);
        },
    )
}

/// Propagation of the root mount as /proc/self/mountinfo states it: `private`, or
/// its optional fields (`shared:N`, `master:N`), see mount_namespaces(7).
fn root_propagation() -> String {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(root) = text
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("/"))
    else {
        return "unknown (no / in /proc/self/mountinfo)".into();
    };
    let optional: Vec<&str> = root
        .split(" - ")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(6)
        .collect();
    if optional.is_empty() {
        "private".into()
    } else {
        optional.join(" ")
    }
}

/// Creates the POSIX message queue `name` (mq_overview(7)), then holds it and unlinks it.
///
/// Returns false, having printed why, when mq_open fails.
///
/// # Errors
/// Writing to stdout.
pub fn mqueue(name: &str, hold: Duration) -> Result<bool> {
    use nix::mqueue::{MQ_OFlag, mq_open, mq_unlink};
    use nix::sys::stat::Mode;
    hold_with(
        hold,
        || {
            let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
            let attr = nix::mqueue::MqAttr::new(0, 1, 64, 0);
            let q = mq_open(name, flags, Mode::S_IRUSR | Mode::S_IWUSR, Some(&attr))
                .with_context(|| format!("mq_open({name}, O_CREAT)"))?;
            let ipc = crate::inspect::namespace_ids()
                .remove("ipc")
                .unwrap_or_default();
            Ok((
                q,
                Held {
                    at_ns: monotonic_ns(),
                    interfaces: Vec::new(),
                    evidence: format!("created message queue {name} in {ipc}"),
                },
            ))
        },
        |q| {
            let _ = nix::mqueue::mq_close(q);
            let _ = mq_unlink(name);
        },
    )
}
