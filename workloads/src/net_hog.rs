//! Aggressor `net-hog`: a TCP flood over loopback inside the process's own
//! network namespace. A sender thread writes `message`-sized chunks as fast as
//! its duty cycle allows; the receiving end reads and discards them. It loads
//! the network stack's CPU path (softirq, socket buffers, `lo`), which is what a
//! neighbour on the same host shares.

use crate::intensity::{Intensity, Pacer};
use crate::loopback::{self, LoopbackError};
use crate::report::NetHogReport;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

/// Largest `--message`, bytes (64 MiB).
pub const MAX_MESSAGE: u64 = 64 << 20;

/// What `net-hog` does.
#[derive(Debug, Clone)]
pub struct NetPlan {
    /// Bytes per write.
    pub message: usize,
    /// Duty cycle of the sender.
    pub intensity: Intensity,
    /// Run time.
    pub duration: Duration,
}

/// Runs the plan.
///
/// # Errors
/// The loopback connection cannot be made ([`LoopbackError::Down`] names `lo`
/// when it is down), or a write or read fails.
pub fn run(plan: &NetPlan) -> Result<NetHogReport, LoopbackError> {
    let start = Instant::now();
    let deadline = start + plan.duration;
    let (mut client, mut server) = loopback::pair()?;
    let message = vec![0x6Eu8; plan.message.max(1)];
    let (sent, received) = std::thread::scope(|s| {
        let sender = s.spawn(move || -> std::io::Result<()> {
            let mut pacer = Pacer::new(plan.intensity, deadline);
            while pacer.go() {
                client.write_all(&message)?;
            }
            // Dropping `client` closes it: the reader sees the end.
            Ok(())
        });
        let mut buf = vec![0u8; (1 << 16).max(plan.message.min(1 << 20))];
        let mut received = 0u64;
        let read = loop {
            match server.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => received += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        // A reader that failed no longer drains the connection: close it so the sender ends too.
        let _ = server.shutdown(Shutdown::Both);
        (
            sender.join().expect("the net-hog sender panicked"),
            read.map(|()| received),
        )
    });
    sent.map_err(|e| LoopbackError::at("writing to the loopback connection", e))?;
    let bytes_moved =
        received.map_err(|e| LoopbackError::at("reading from the loopback connection", e))?;
    let ran_s = start.elapsed().as_secs_f64();
    Ok(NetHogReport {
        bytes_moved,
        message_bytes: plan.message as u64,
        mb_per_s: bytes_moved as f64 / 1e6 / ran_s,
        ran_s,
        intensity: plan.intensity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_loopback_until_the_deadline() {
        let r = run(&NetPlan {
            message: 64 << 10,
            intensity: Intensity::FULL,
            duration: Duration::from_millis(300),
        })
        .unwrap();
        assert!(r.bytes_moved > 0 && r.mb_per_s > 0.0, "{r:?}");
        assert!(r.ran_s >= 0.3 && r.ran_s < 0.8, "{r:?}");
    }
}
