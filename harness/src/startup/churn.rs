//! Churn: sandboxes started and torn down per second. Each starter thread
//! starts sandboxes back to back up to their probe's first instruction and
//! hands each to a reaper thread of its own, which reaps the probe and
//! removes the cgroup, as a container manager's reaper does; a bounded queue
//! between them ([`QUEUE`]) keeps the starter from running ahead of the
//! teardown, so the rate is that of the whole pipeline.

use super::launch::{self, Begun, Probe, START_PHASES, Stamps};
use super::variant::Variant;
use crate::cgroup::Arena;
use crate::interrupt;
use crate::sandbox::monotonic_ns;
use anyhow::{Result, anyhow};
use isobench_reports::schema::{Churn, ChurnPhase};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

/// Sandboxes a starter may have started and not yet handed to its reaper.
pub const QUEUE: usize = 16;

/// One finished sandbox: its stamps and when its reaper took it up (ns).
struct Done {
    stamps: Stamps,
    teardown_from: u64,
}

/// Churns `v` in `arena` with `starters` starter threads (each with its
/// reaper) for `seconds`; the rate counts every sandbox started, over the time
/// until the last of them was torn down.
pub fn churn(v: Variant, starters: usize, seconds: f64, arena: &Arena) -> Churn {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let outcomes: Vec<Result<Vec<Done>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..starters)
            .map(|t| scope.spawn(move || starter(v, t, deadline, arena)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a churn thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let done: Result<Vec<Done>> = if interrupt::requested() {
        Err(anyhow!("interrupted before the churn window ended"))
    } else {
        outcomes.into_iter().try_fold(Vec::new(), |mut all, one| {
            all.extend(one?);
            Ok(all)
        })
    };
    match done {
        Ok(done) => Churn {
            variant: v.name.into(),
            starters,
            per_s: Some(done.len() as f64 / elapsed),
            phases: phases(&done),
            unavailable: None,
        },
        Err(e) => Churn {
            variant: v.name.into(),
            starters,
            per_s: None,
            phases: Vec::new(),
            unavailable: Some(format!("{e:#}")),
        },
    }
}

/// Starter `t`: starts until `deadline`, its reaper tearing down behind it.
fn starter(v: Variant, t: usize, deadline: Instant, arena: &Arena) -> Result<Vec<Done>> {
    let mut probe = Probe::embedded(false)?;
    let (tx, rx) = sync_channel::<Begun>(QUEUE);
    std::thread::scope(|scope| {
        let reaper = scope.spawn(move || -> Result<Vec<Done>> {
            let mut done = Vec::new();
            for begun in rx {
                let teardown_from = monotonic_ns();
                done.push(Done {
                    stamps: begun.finish()?.stamps,
                    teardown_from,
                });
            }
            Ok(done)
        });
        let mut failed = None;
        let mut n = 0usize;
        while Instant::now() < deadline && !interrupt::requested() {
            let name = format!("churn{t}-{n}-{}", v.name);
            match launch::begin(&mut probe, v.method, Some(arena), &name) {
                Ok(begun) => {
                    if tx.send(begun).is_err() {
                        break; // the reaper failed: its error is the one to report
                    }
                    n += 1;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let done = reaper
            .join()
            .unwrap_or_else(|_| Err(anyhow!("a churn reaper panicked")))?;
        failed.map_or(Ok(done), Err)
    })
}

/// Mean µs of each start phase, then of the reaper's reap and cgroup removal.
fn phases(done: &[Done]) -> Vec<ChurnPhase> {
    let mean = |f: &dyn Fn(&Done) -> Option<f64>| {
        let xs: Vec<f64> = done.iter().filter_map(f).collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    let us = |later: u64, earlier: u64| later.saturating_sub(earlier) as f64 / 1000.0;
    let mut out: Vec<ChurnPhase> = START_PHASES
        .iter()
        .filter_map(|&name| {
            let mean_us = mean(&|d| {
                d.stamps
                    .phases()
                    .into_iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, us)| us)
            })?;
            Some(ChurnPhase {
                name: name.into(),
                mean_us,
            })
        })
        .collect();
    let reap = mean(&|d| Some(us(d.stamps.reaped, d.teardown_from)));
    let remove = mean(&|d| Some(us(d.stamps.removed, d.stamps.reaped)));
    for (name, value) in [("reap", reap), ("cgroup_remove", remove)] {
        if let Some(mean_us) = value {
            out.push(ChurnPhase {
                name: name.into(),
                mean_us,
            });
        }
    }
    out
}
