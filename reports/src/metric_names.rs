//! Names of the metrics that the renderers look up by name (the contract is
//! `docs/results-schema.md`); every other metric is shown as found.

/// The aggressor's measured CPU share, CPUs.
pub(crate) const AGGRESSOR_CPU_SHARE: &str = "aggressor.cpu_share";
/// The aggressor's expected CPU share under its limits, CPUs.
pub(crate) const AGGRESSOR_CPU_SHARE_EXPECTED: &str = "aggressor.cpu_share_expected";
/// Victim throughput isolated (or contended) / solo, share 0..1.
pub(crate) const RETAINED_THROUGHPUT: &str = "victim.retained_throughput";
/// Victim p99 latency isolated (or contended) / solo − 1, ratio.
pub(crate) const LATENCY_IMPACT_P99: &str = "victim.latency_impact_p99";
/// Share of time all the victim's tasks stalled on memory, 0..1.
pub(crate) const VICTIM_PSI_MEMORY_FULL: &str = "victim.psi_memory_full";
/// OOM kills per sandbox (`aggressor.`, `victim.`, `outside.` prefixes), count.
pub(crate) const OOM_KILLS: [(&str, &str); 3] = [
    ("aggressor", "aggressor.oom_kills"),
    ("victim", "victim.oom_kills"),
    ("outside", "outside.oom_kills"),
];
