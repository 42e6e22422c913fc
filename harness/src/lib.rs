//! isobench: benchmarks resource isolation on Linux.
//!
//! It starts noisy-neighbour workloads in cgroup-limited namespace sandboxes
//! and measures, against the unconfined baseline, the CPU share each sandbox
//! really gets and what the protected victim feels (DESIGN.md).
//!
//! - [`cgroup`]: one interface over v1, hybrid and v2 cgroup hosts;
//! - [`vocabulary`]: limits in the user's words (kernel, Docker, Kubernetes) mapped to the host's files;
//! - [`sandbox`]: namespaces, attach before the first instruction, the init;
//! - [`workload`]: finding and talking to the `isobench-workload` binary;
//! - [`suite`]: suites as TOML files, checked before anything starts;
//! - [`plan`]: a suite with the command line's overrides, and its expected duration;
//! - [`scenario`]: what is run (conditions × rounds) and the metrics derived;
//! - [`measure`]: perf counters, the memory/PSI sampler, OOM kills from the kernel log;
//! - [`startup`]: starting the startup probe by each method, with a stamp at every step;
//! - [`stats`]: statistics over rounds (bootstrap CIs);
//! - [`disturbance`]: which conditions other work on the host disturbed, and `--accept-disturbed`;
//! - [`verdict`]: each scenario's answer: protected, partly, not, no interference, invalid;
//! - [`probe`]: the host fingerprint and `isobench doctor`;
//! - [`output`]: results.json, report.html and summary.md on disk;
//! - [`bench`]: a crate's own closure as the victim in its `cargo bench` (`harness = false`).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod bench;
pub mod cgroup;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod disturbance;
pub mod export;
pub mod fleet;
pub mod interrupt;
pub mod measure;
pub mod output;
pub mod plan;
pub mod probe;
mod progress;
pub mod run;
pub mod sandbox;
pub mod scenario;
pub mod startup;
pub mod stats;
pub mod suite;
pub mod sweep;
pub mod terminal;
pub mod verdict;
pub mod vocabulary;
pub mod workload;
