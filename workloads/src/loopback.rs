//! A TCP connection over loopback inside the process's own network namespace,
//! for the workloads that load the network stack (`net-hog`, `tcp-echo`).

use nix::net::if_::InterfaceFlags;
use std::net::{Ipv4Addr, TcpListener, TcpStream};

/// Why the loopback connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// `lo` is down, as in a fresh network namespace.
    #[error(
        "{step}: {error}; the loopback interface lo is down in this network namespace \
         (a new one starts with lo down): bring it up first (`ip link set lo up`)"
    )]
    Down {
        /// What was being done.
        step: &'static str,
        /// The error it met (in the message, so not repeated as a cause).
        error: std::io::Error,
    },
    /// Another failure, with what was being done.
    #[error("{step}: {error}")]
    Io {
        /// What was being done.
        step: &'static str,
        /// The error it met (in the message, so not repeated as a cause).
        error: std::io::Error,
    },
}

impl LoopbackError {
    /// Wraps `error`, met while doing `step`, naming `lo` if it is down.
    pub fn at(step: &'static str, error: std::io::Error) -> LoopbackError {
        if lo_is_up() == Some(false) {
            LoopbackError::Down { step, error }
        } else {
            LoopbackError::Io { step, error }
        }
    }
}

/// Whether `lo` is up in this network namespace: `Some(false)` when it is down
/// or missing, `None` when the interfaces cannot be listed.
pub fn lo_is_up() -> Option<bool> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    let mut up = false;
    for a in addrs.filter(|a| a.interface_name == "lo") {
        up |= a.flags.contains(InterfaceFlags::IFF_UP);
    }
    Some(up)
}

/// A connected pair `(client, server)` over 127.0.0.1, on a port the kernel picks.
///
/// # Errors
/// The listen, connect or accept that failed; [`LoopbackError::Down`] when `lo` is down.
pub fn pair() -> Result<(TcpStream, TcpStream), LoopbackError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| LoopbackError::at("listening on 127.0.0.1", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| LoopbackError::at("reading the listener's address", e))?;
    // The connection completes in the backlog, before the accept.
    let client =
        TcpStream::connect(addr).map_err(|e| LoopbackError::at("connecting to 127.0.0.1", e))?;
    let (server, _) = listener
        .accept()
        .map_err(|e| LoopbackError::at("accepting on 127.0.0.1", e))?;
    Ok((client, server))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn pair_carries_bytes_both_ways() {
        let (mut c, mut s) = pair().unwrap();
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"pong").unwrap();
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
        assert_eq!(lo_is_up(), Some(true));
    }
}
