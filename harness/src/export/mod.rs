//! Exports for the tools a fleet already reads (issue 18):
//!
//! - [`openmetrics`]: a text exposition for node_exporter's textfile collector
//!   (`isobench.prom` of `run`, `compare.prom` of `compare`, `fleet.prom` of
//!   `merge`), valid both as the Prometheus text format 0.0.4 and as OpenMetrics 1.0;
//! - [`samples`]: `samples.jsonl`, one JSON row per metric per round with the
//!   host's fingerprint as labels, for a warehouse (like PerfKitBenchmarker's samples);
//! - [`junit`]: JUnit XML of `compare` (`--junit FILE`), one test case per gated metric.
//!
//! Every file is written with [`crate::output::write_atomic`] (a temp file in the
//! same directory, then a rename), so a scrape or a CI upload never reads half a file.

pub mod junit;
pub mod openmetrics;
pub mod samples;
