//! Victim `tcp-echo`: request/reply round trips over loopback TCP, sent
//! open-loop (see [`crate::open_loop`]).
//!
//! A server thread of the same process echoes fixed-size requests on one
//! connection (both ends `TCP_NODELAY`). The client sends a request at every due
//! time without waiting for earlier replies (pipelined, at most
//! [`MAX_IN_FLIGHT`] outstanding), and a reader thread takes the replies in
//! order: each request's latency runs from its intended start to the arrival
//! of its reply. When [`MAX_IN_FLIGHT`] requests are outstanding the client
//! holds the next one back until a reply frees a slot; a request held back
//! keeps its intended start, so the wait counts in its latency, and one still
//! held back when the window closes counts as missed (recorded with the time
//! it had waited). After the window, replies are awaited for at most [`GRACE`];
//! one that has not come by then is recorded with the time waited, a lower
//! bound.

use crate::loopback::{self, LoopbackError};
use crate::open_loop::{Due, Schedule, Ticks};
use crate::report::{UnitsReport, new_histogram};
use hdrhistogram::Histogram;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Most requests outstanding on the connection at once.
pub const MAX_IN_FLIGHT: usize = 1024;

/// How long replies are awaited after the window closes.
pub const GRACE: Duration = Duration::from_secs(1);

/// Largest `--payload`, bytes (1 MiB).
pub const MAX_PAYLOAD: u64 = 1 << 20;

/// How often a reader waiting for a reply checks whether it should give up.
const POLL: Duration = Duration::from_millis(10);

/// Sends `payload`-byte requests on `schedule` to an echo server on loopback and
/// reports each round trip from its intended start.
///
/// # Errors
/// The loopback connection cannot be made ([`LoopbackError::Down`] names `lo`
/// when it is down), or a request cannot be written.
pub fn run(payload: usize, schedule: Schedule) -> Result<UnitsReport, LoopbackError> {
    let (mut client, mut server) = loopback::pair()?;
    let mut reader = client
        .try_clone()
        .map_err(|e| LoopbackError::at("cloning the client socket", e))?;
    for (s, step) in [
        (&client, "TCP_NODELAY on the client"),
        (&server, "TCP_NODELAY on the server"),
    ] {
        s.set_nodelay(true)
            .map_err(|e| LoopbackError::at(step, e))?;
    }
    reader
        .set_read_timeout(Some(POLL))
        .map_err(|e| LoopbackError::at("setting the reader's timeout", e))?;
    let payload = payload.max(1);
    let in_flight = AtomicUsize::new(0);
    let give_up = OnceLock::new();
    let (tx, rx) = mpsc::channel::<Due>();
    let mut ticks = Ticks::start(schedule);
    let (sent, replies) = std::thread::scope(|s| {
        s.spawn(|| echo(&mut server, payload));
        let replies = s.spawn(|| receive(&mut reader, payload, rx, &in_flight, &give_up));
        let request = vec![0x42u8; payload];
        let sent = (|| {
            while let Some(due) = ticks.next_due() {
                if in_flight.load(Ordering::Acquire) >= MAX_IN_FLIGHT {
                    std::thread::sleep(Duration::from_micros(20));
                    continue;
                }
                in_flight.fetch_add(1, Ordering::AcqRel);
                // The reader outlives the sender, so the channel is open.
                let _ = tx.send(due);
                client.write_all(&request)?;
                ticks.started(due, None);
            }
            Ok(())
        })();
        let _ = give_up.set(Instant::now() + GRACE);
        drop(tx);
        let replies = replies.join().expect("the tcp-echo reader panicked");
        // Ends the echo server, whether or not it is blocked on a write.
        let _ = client.shutdown(Shutdown::Both);
        (sent, replies)
    });
    sent.map_err(|e| LoopbackError::at("writing a request", e))?;
    Ok(ticks.report(Some(&replies)))
}

/// The server: echoes every `payload`-byte request until the connection ends.
fn echo(stream: &mut TcpStream, payload: usize) {
    let mut buf = vec![0u8; payload];
    while stream.read_exact(&mut buf).is_ok() && stream.write_all(&buf).is_ok() {}
}

/// The reader: takes the replies in order and records the latency of each
/// measured request; gives up on the rest at `give_up`, recording them with
/// the time waited.
fn receive(
    stream: &mut TcpStream,
    payload: usize,
    sent: mpsc::Receiver<Due>,
    in_flight: &AtomicUsize,
    give_up: &OnceLock<Instant>,
) -> Histogram<u64> {
    let mut hist = new_histogram();
    let mut buf = vec![0u8; payload];
    while let Ok(due) = sent.recv() {
        if read_reply(stream, &mut buf, give_up).is_err() {
            let now = Instant::now();
            for due in std::iter::once(due).chain(sent.iter()) {
                if due.measured {
                    hist.saturating_record(due.latency_ns(now));
                }
            }
            break;
        }
        if due.measured {
            hist.saturating_record(due.latency_ns(Instant::now()));
        }
        in_flight.fetch_sub(1, Ordering::AcqRel);
    }
    hist
}

/// Reads one whole reply, polling so that it can give up once `give_up` is set and past.
fn read_reply(
    stream: &mut TcpStream,
    buf: &mut [u8],
    give_up: &OnceLock<Instant>,
) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if give_up.get().is_some_and(|&at| Instant::now() >= at) {
                    return Err(ErrorKind::TimedOut.into());
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_of_the_window_is_answered_and_recorded() {
        let r = run(
            64,
            Schedule {
                rate: 2000.0,
                warmup: Duration::from_millis(20),
                duration: Duration::from_millis(300),
                slice: None,
            },
        )
        .unwrap();
        // 600 due; a loaded host may miss a few at the end.
        assert!((450..=601).contains(&r.ops), "ops {}", r.ops);
        let recorded: u64 = r.latency_ns.iter().map(|&(_, c)| c).sum();
        assert_eq!(recorded, r.ops + r.missed);
        let max = r.latency_ns.iter().map(|&(v, _)| v).max().unwrap();
        assert!(max < 1_000_000_000, "max {max} ns");
    }
}
