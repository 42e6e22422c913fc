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
