//! Running an applet: the dispatch of `isobench-workload`'s `main`, in the
//! library so that another binary (a `cargo bench` binary using
//! `isobench::bench`) can serve the same applets when it is re-executed in a sandbox.

use crate::cli::{Applet, Cli};
use crate::report::{Calibration, WorkloadReport};
use crate::{
    cache_thrash, command_reports, command_runs, cpu_bursts, cpu_hog, cpu_units, cpu_view,
    fork_storm, hold, init, inspect, io_hog, mem_bw, mem_hog, mem_units, net_hog, service_driver,
    tcp_echo, wakeup_latency, work,
};
use anyhow::{Context, Result};
use std::time::Duration;

/// Parses `argv` (program name first) and runs the applet it names; exits the
/// process with clap's status on a usage error, as the binary does.
///
/// # Errors
/// The applet's error.
pub fn main_with(argv: impl IntoIterator<Item = std::ffi::OsString>) -> Result<()> {
    let cli = Cli::parse_checked(argv).unwrap_or_else(|e| e.exit());
    run(cli)
}

/// Runs the applet of `cli`, printing its report as one JSON line on stdout.
///
/// # Errors
/// The applet's error; a closed stdout.
pub fn run(cli: Cli) -> Result<()> {
    if let Some(ramp) = cli.applet.ramp() {
        crate::intensity::set_ramp(ramp);
    }
    match cli.applet {
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
            press_limit,
            cgroup,
            stream_rate,
            duration,
        } => {
            let plan = mem_hog::HogPlan {
                press: press_limit.then(|| mem_hog::PressPlan {
                    cgroup,
                    stream_rate: stream_rate.filter(|&r| r > 0).map(|r| r as f64),
                }),
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
        Applet::CpuHog { threads, run } => {
            let threads = threads.map_or_else(cpu_hog::cpus_allowed, usize::from);
            print(&WorkloadReport::CpuHog(cpu_hog::run(
                threads,
                run.intensity,
                run.duration,
            )))
        }
        Applet::TcpEcho { payload, schedule } => print(&WorkloadReport::TcpEcho(tcp_echo::run(
            payload as usize,
            schedule.schedule(),
        )?)),
        Applet::CacheThrash {
            bytes,
            threads,
            run,
        } => print(&WorkloadReport::CacheThrash(cache_thrash::run(
            &cache_thrash::ThrashPlan {
                bytes,
                threads: threads.into(),
                intensity: run.intensity,
                duration: run.duration,
            },
        ))),
        Applet::MemBw {
            kernel,
            bytes,
            threads,
            run,
        } => print(&WorkloadReport::MemBw(mem_bw::run(&mem_bw::BwPlan {
            kernel,
            bytes,
            threads: threads.into(),
            intensity: run.intensity,
            duration: run.duration,
        }))),
        Applet::CpuBursts {
            burst_ms,
            sleep_ms,
            bursts,
            duration,
        } => print(&WorkloadReport::CpuBursts(cpu_bursts::run(
            &cpu_bursts::BurstPlan {
                burst: Duration::from_secs_f64(burst_ms / 1e3),
                sleep: Duration::from_secs_f64(sleep_ms / 1e3),
                bursts,
                duration,
            },
        ))),
        Applet::ForkStorm {
            rate,
            max_children,
            max_forks,
            max_attempts,
            child_life_ms,
            run,
        } => {
            let plan = fork_storm::StormPlan {
                rate,
                max_children: max_children.into(),
                max_forks,
                max_attempts,
                child_life: Duration::from_millis(child_life_ms),
                intensity: run.intensity,
                duration: run.duration,
            };
            let report = fork_storm::run(&plan).context("fork-storm")?;
            print(&WorkloadReport::ForkStorm(report))
        }
        Applet::IoHog {
            dir,
            pattern,
            block,
            bytes,
            fsync_every,
            run,
        } => {
            let plan = io_hog::IoPlan {
                dir,
                pattern,
                block,
                bytes,
                fsync_every,
                intensity: run.intensity,
                duration: run.duration,
            };
            print(&WorkloadReport::IoHog(io_hog::run(&plan)?))
        }
        Applet::NetHog { message, run } => {
            print(&WorkloadReport::NetHog(net_hog::run(&net_hog::NetPlan {
                message: message as usize,
                intensity: run.intensity,
                duration: run.duration,
            })?))
        }
        Applet::WakeupLatency { schedule } => print(&WorkloadReport::WakeupLatency(
            wakeup_latency::run(schedule.schedule()),
        )),
        Applet::Exec {
            stderr_to_stdout,
            command,
        } => {
            let err = if stderr_to_stdout {
                command.exec_with_stderr_on_stdout()
            } else {
                command.exec()
            };
            eprintln!(
                "isobench-workload exec: cannot run {}: {err}",
                command.program.display()
            );
            std::process::exit(127)
        }
        Applet::CommandRuns { window, command } => print(&WorkloadReport::CommandRuns(
            command_runs::run(&command_runs::RunsPlan {
                command,
                warmup: window.warmup,
                duration: window.duration,
            }),
        )),
        Applet::CommandReports {
            format,
            window,
            command,
        } => print(&WorkloadReport::CommandReports(command_reports::run(
            &command_reports::ReportsPlan {
                command,
                format,
                warmup: window.warmup,
                duration: window.duration,
            },
        ))),
        ref applet @ Applet::DriveService {
            port,
            connections,
            ready_timeout,
            reply_timeout,
            ref schedule,
            ..
        } => {
            let request = applet
                .service_request()
                .map_err(anyhow::Error::msg)?
                .context("drive-service without a request")?;
            let plan = service_driver::DrivePlan {
                port,
                request,
                connections: connections.into(),
                ready_timeout,
                reply_timeout,
                schedule: schedule.schedule(),
            };
            let report = service_driver::run(&plan, |after| {
                // The harness starts the neighbours on this line; a closed
                // stdout shows as a missing report instead.
                let _ = ready_line(port, after);
            });
            print(&WorkloadReport::DriveService(report))
        }
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
        Applet::CpuView { runtime_timeout_s } => print(&cpu_view::look(Some(
            Duration::try_from_secs_f64(runtime_timeout_s)
                .context("--runtime-timeout-s: expected a number of seconds ≥ 0")?,
        ))),
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

/// Prints [`service_driver::READY_PREFIX`]`127.0.0.1:PORT after T s` on its own line of stdout, flushed.
fn ready_line(port: u16, after: Duration) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}127.0.0.1:{port} after {:.3} s",
        service_driver::READY_PREFIX,
        after.as_secs_f64()
    )?;
    out.flush()
}

/// Exits 1 when a holder could not take its resource (it printed why on stdout).
fn held(outcome: Result<bool>) -> Result<()> {
    if !outcome? {
        std::process::exit(1);
    }
    Ok(())
}

/// Writes `report` as one JSON line on stdout; a closed or full stdout is an error, not a panic.
pub fn print(report: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(report)?)
        .and_then(|()| out.flush())
        .context("writing the report to stdout")?;
    Ok(())
}
