//! `isobench-workload`: the multi-call binary of victims, aggressors and the sandbox init.
#![deny(unsafe_code)]

use anyhow::Result;
use clap::Parser;
use isobench_workloads::cli::{Applet, Cli};
use isobench_workloads::report::{Calibration, WorkloadReport};
use isobench_workloads::{
    cpu_hog, cpu_units, hold, init, inspect, mem_hog, mem_units, wakeup_latency, work,
};
use std::time::Duration;

/// Exits 1 when a holder could not take its resource (it printed why on stdout).
fn held(outcome: Result<bool>) -> Result<()> {
    if !outcome? {
        std::process::exit(1);
    }
    Ok(())
}

fn print(report: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(report)?);
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().applet {
        Applet::CpuUnits {
            iters_per_unit,
            schedule,
        } => print(&WorkloadReport::CpuUnits(cpu_units::run(
            iters_per_unit,
            schedule.schedule(),
        ))),
        Applet::MemUnits {
            working_set,
            kind,
            lines,
            dir,
            schedule,
        } => {
            let report = mem_units::run(
                kind,
                working_set as usize,
                lines as usize,
                &dir,
                schedule.schedule(),
            )?;
            print(&WorkloadReport::MemUnits(report))
        }
        Applet::MemHog {
            bytes,
            rate,
            step,
            kind,
            keep,
            huge_pages,
            exit_when_grown,
            dir,
            duration,
        } => {
            let plan = mem_hog::HogPlan {
                huge_pages,
                exit_when_grown,
                kind,
                bytes,
                rate: rate.map(|r| r as f64),
                step,
                keep,
                duration,
                dir,
            };
            print(&WorkloadReport::MemHog(mem_hog::run(&plan)?))
        }
        Applet::CpuHog { threads, duration } => {
            let threads = threads.unwrap_or_else(cpu_hog::cpus_allowed);
            print(&WorkloadReport::CpuHog(cpu_hog::run(threads, duration)))
        }
        Applet::WakeupLatency { schedule } => print(&WorkloadReport::WakeupLatency(
            wakeup_latency::run(schedule.schedule()),
        )),
        Applet::Calibrate { unit_us } => {
            let (iters_per_unit, unit_ns) = work::calibrate(Duration::from_micros(unit_us));
            print(&WorkloadReport::Calibrate(Calibration {
                iters_per_unit,
                unit_ns,
            }))
        }
        Applet::SandboxInit {
            private_mounts,
            fresh_proc,
            hostname,
            workload,
        } => {
            let code = init::run(&init::InitPlan {
                private_mounts,
                fresh_proc,
                hostname,
                workload,
            })?;
            std::process::exit(code)
        }
        Applet::Inspect { host_pid } => print(&inspect::look(host_pid)),
        Applet::HoldPort { port, tag, hold_ms } => {
            held(hold::port(port, &tag, Duration::from_millis(hold_ms)))
        }
        Applet::HoldMount {
            dir,
            host_mnt_ns,
            hold_ms,
        } => held(hold::mount(
            &dir,
            &host_mnt_ns,
            Duration::from_millis(hold_ms),
        )),
        Applet::HoldMqueue { name, hold_ms } => {
            held(hold::mqueue(&name, Duration::from_millis(hold_ms)))
        }
    }
}
