//! Which phase owns a variant's start tail: the slowest 1 % of starts set
//! against the medians of all, phase by phase, from each start's own stamps
//! (issue 16: "attribute the p99 to phases").

use super::launch::{START_PHASES, Stamps};
use isobench_reports::schema::{TailAttribution, TailPhase};

/// The tail of `starts`: the slowest ⌈1 %⌉ by start latency (request → the
/// probe's first instruction), each phase's mean there against its median
/// over all starts. `None` with fewer than [`TailAttribution::MIN_STARTS`]
/// starts, or when no start took a phase of [`START_PHASES`].
pub fn attribute(starts: &[Stamps]) -> Option<TailAttribution> {
    if (starts.len() as u64) < TailAttribution::MIN_STARTS {
        return None;
    }
    let mut order: Vec<&Stamps> = starts.iter().collect();
    order.sort_by(|a, b| a.start_us().total_cmp(&b.start_us()));
    let k = starts.len().div_ceil(100);
    let tail = &order[order.len() - k..];
    let mean = |xs: &mut dyn Iterator<Item = f64>| {
        let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
        (n > 0).then(|| sum / n as f64)
    };
    let phase = |s: &Stamps, name: &str| {
        s.phases()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, us)| us)
    };
    let phases: Vec<TailPhase> = START_PHASES
        .iter()
        .filter_map(|&name| {
            let mut all: Vec<f64> = order.iter().filter_map(|s| phase(s, name)).collect();
            let p50_us = median(&mut all)?;
            let tail_mean_us = mean(&mut tail.iter().filter_map(|s| phase(s, name)))?;
            Some(TailPhase {
                name: name.into(),
                p50_us,
                tail_mean_us,
                excess_us: tail_mean_us - p50_us,
            })
        })
        .collect();
    let owner = phases
        .iter()
        .max_by(|a, b| a.excess_us.total_cmp(&b.excess_us))?
        .name
        .clone();
    let mut all: Vec<f64> = order.iter().map(|s| s.start_us()).collect();
    Some(TailAttribution {
        starts: k as u64,
        of_starts: starts.len() as u64,
        from_us: tail[0].start_us(),
        mean_us: mean(&mut tail.iter().map(|s| s.start_us()))?,
        p50_us: median(&mut all)?,
        phases,
        owner,
    })
}

/// The median of `xs` (sorted in place); `None` when empty.
fn median(xs: &mut [f64]) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(xs[n / 2]),
        _ => Some((xs[n / 2 - 1] + xs[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A start whose phases take `create`, `exec` µs (clone/attach/release 10 µs each).
    fn start(at: u64, create: u64, exec: u64) -> Stamps {
        let created = at + create * 1000;
        let cloned = created + 10_000;
        let attached = cloned + 10_000;
        let released = attached + 10_000;
        let first = released + exec * 1000;
        Stamps {
            request: at,
            created,
            cloned,
            attached,
            released,
            first,
            reaped: first + 50_000,
            removed: first + 90_000,
        }
    }

    #[test]
    fn the_phase_that_grows_in_the_slowest_starts_owns_the_tail() {
        let mut starts: Vec<Stamps> = (0..300u64)
            .map(|i| start(i * 10_000_000, 200 + i % 7, 300 + i % 5))
            .collect();
        // Three slow starts, all from exec_to_main; one slow cgroup_create that
        // stays out of the slowest 1 %.
        for (i, s) in starts.iter_mut().enumerate().take(3) {
            *s = start(i as u64 * 10_000_000, 200, 5_000);
        }
        starts[10] = start(100_000_000, 1_500, 300);
        let tail = attribute(&starts).unwrap();
        assert_eq!((tail.starts, tail.of_starts), (3, 300));
        assert_eq!(tail.owner, "exec_to_main");
        let exec = tail
            .phases
            .iter()
            .find(|p| p.name == "exec_to_main")
            .unwrap();
        assert_eq!(exec.tail_mean_us, 5_000.0);
        assert!((exec.excess_us - (5_000.0 - exec.p50_us)).abs() < 1e-9);
        let create = tail
            .phases
            .iter()
            .find(|p| p.name == "cgroup_create")
            .unwrap();
        assert_eq!(create.tail_mean_us, 200.0);
        assert!(tail.from_us > 5_000.0 && tail.p50_us < 600.0, "{tail:?}");
        let names: Vec<&str> = tail.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, START_PHASES, "the start's phases, in order");
    }

    #[test]
    fn too_few_starts_attribute_nothing() {
        let starts: Vec<Stamps> = (0..99u64).map(|i| start(i, 200, 300)).collect();
        assert!(attribute(&starts).is_none());
    }
}
