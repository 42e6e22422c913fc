//! Workloads for isobench: victims whose experience is measured, aggressors
//! that stress one resource, and the init that runs as a sandbox's pid 1.
//!
//! All of them are applets of one binary, `isobench-workload`. Each prints one
//! JSON [`report::WorkloadReport`] (or [`inspect::View`], [`cpu_view::CpuSeen`]) on stdout when it ends,
//! which the harness reads. Every workload is bounded by a `--duration`.
//!
//! Victims: `cpu-units`, `mem-units`, `wakeup-latency` and `tcp-echo`, all on
//! the open-loop schedule of [`open_loop`]; `drive-service` drives a user's
//! service on that schedule ([`service_driver`]). Aggressors, one per resource:
//! `cpu-hog`, `mem-hog`, `cpu-bursts` (bursts of CPU work between sleeps, for
//! CFS burst), and the catalogue paced by the [`intensity`] knob (1–100 %,
//! iBench's duty cycle): `cache-thrash`, `mem-bw`, `fork-storm`, `io-hog` and
//! `net-hog`, each bounded in size and count as well as in time.
//! The command line lives in [`cli`], so the harness can check a workload's
//! arguments ([`cli::check_args`]) before it starts anything.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod applets;
pub mod cache_thrash;
pub mod cli;
pub mod command;
pub mod command_reports;
pub mod command_runs;
pub mod cpu_bursts;
pub mod cpu_hog;
pub mod cpu_units;
pub mod cpu_view;
pub mod fork_storm;
pub mod hold;
pub mod http_reply;
pub mod init;
pub mod inspect;
pub mod intensity;
pub mod io_hog;
pub mod loopback;
pub mod mem_bw;
pub mod mem_hog;
pub mod mem_units;
pub mod memory;
pub mod memory_limit;
pub mod net_hog;
pub mod open_loop;
pub mod report;
pub mod service_driver;
pub mod slices;
pub mod stream;
pub mod tcp_echo;
pub mod wakeup_latency;
pub mod work;
