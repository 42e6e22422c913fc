//! SIGINT and SIGTERM: noted in a flag that every wait of the harness polls, so a
//! run stops between steps and tears its sandboxes and cgroups down on the way out.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the handlers (once per process).
///
/// # Errors
/// The error of sigaction(2).
pub fn install() -> std::io::Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(flag))?;
    }
    Ok(())
}

/// True once SIGINT or SIGTERM has arrived.
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Sleeps for `d` in short slices; returns false if interrupted meanwhile.
pub fn sleep(d: std::time::Duration) -> bool {
    let end = std::time::Instant::now() + d;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        if requested() {
            return false;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
    }
    !requested()
}
