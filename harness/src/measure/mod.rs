//! Measurements taken around a sandbox while it runs: perf counters, the
//! memory/PSI sampler, window snapshots of memory and PSI, and OOM kills from
//! the kernel log.

pub mod kmsg;
pub mod oom;
pub mod perf;
pub mod pids;
pub mod sampler;
pub mod slices;
pub mod window;
