//! Startup latency (DESIGN §2): how long a sandbox takes to start and to be
//! torn down, phase by phase, against plain fork+exec and posix_spawn of the
//! same probe, and how many sandboxes per second can churn.

pub mod churn;
pub mod launch;
pub mod runtime;
pub mod static_probe;
pub mod tail;
pub mod variant;
