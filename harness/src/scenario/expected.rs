//! Expected CPU shares through a tree of cgroups: what each sandbox and each
//! group beneath the arena should get, in CPUs, from the weights, quotas and
//! cpusets written and the CPU each sandbox asks for (DESIGN §2 "CPU share").
//!
//! # Method
//!
//! The kernel's CPU controller is hierarchical (Documentation/admin-guide/
//! cgroup-v2.rst, "CPU" and "Weights"; Documentation/scheduler/
//! sched-design-CFS.rst, "Group scheduler extensions"): a cgroup's weight
//! splits what its *parent* gets among the parent's children that want CPU,
//! `weight_i / Σ weight` of the busy ones; a quota (`cpu.max`, v1
//! `cpu.cfs_quota_us`) caps a cgroup and so everything beneath it, so the
//! tightest quota over a cgroup's ancestors binds
//! (Documentation/scheduler/sched-bwc.rst, "Hierarchical considerations"); a
//! cpuset bounds how many CPUs a cgroup, and everything beneath it, can keep
//! busy. isobench models that as a fluid:
//!
//! 1. Each node's **capacity** (what it could use if nothing else ran) is, for
//!    a sandbox, the smallest of its demand (the CPUs its threads keep busy),
//!    its quota and the size of its effective cpuset (its own cpuset within
//!    its ancestors', or every CPU the run may use); for a group, the smallest
//!    of its quota, its cpuset's size and what its children together can use.
//! 2. From the top, each parent's share (the arena's: the CPUs the run may
//!    use) is split among its children by **weighted water-filling**
//!    (progressive filling): every child that still wants CPU grows in
//!    proportion to its weight until it reaches its capacity, the parent's
//!    share is used up, or a set of children confined to the same CPUs fills
//!    them (children pinned to one CPU share that CPU, however many there
//!    are). What a capped child leaves goes to its busy siblings, by weight.
//!    The result is the weighted max-min fair split, which is what the
//!    scheduler converges to over a window of many periods.
//! 3. A sandbox whose demand is **not known ahead** (a rate-driven victim, a
//!    user's command) is tried at both extremes, idle and as busy as it can
//!    be (its threads, else its cpuset), every combination of them. A node whose share is the
//!    same in all of them has that expectation; otherwise it is unknown, with
//!    the reason.
//!
//! The fluid model leaves out what a window cannot show: the scheduler's
//! time slices, the load balancer's delay between CPUs, and other work on the
//! host (the arena is assumed to have its CPUs to itself: `host.other_cpu_share`
//! says when it did not).

use std::collections::BTreeSet;

/// A CPU use below this counts as none, in CPUs (the fluid model's rounding).
const EPS: f64 = 1e-9;

/// Two results closer than this are the same expectation, in CPUs (0.001 pp).
const SAME: f64 = 1e-5;

/// Unknown demands tried in every combination up to this many; beyond, only
/// all idle and all busy together.
const MAX_CORNERS: usize = 8;

/// Distinct cpusets among siblings whose every union is a constraint, at most
/// (2^12 sets); beyond, each cpuset alone and all of them together.
const MAX_CPUSET_UNION: usize = 12;

/// One cgroup of the tree beneath the arena: a group or a sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// For messages: the group's or sandbox's name.
    pub name: String,
    /// Index of its parent group in the node list; `None` for a child of the arena.
    pub parent: Option<usize>,
    /// Scheduler weight on the v1 scale, 1024 for the default
    /// ([`crate::cgroup::weight::scheduler_weight`]).
    pub weight: f64,
    /// Its CPU quota, CPUs (`quota / period`); `None` without one.
    pub quota_cpus: Option<f64>,
    /// Its own cpuset; `None` for its parent's.
    pub cpuset: Option<BTreeSet<u32>>,
    /// What it asks for.
    pub demand: Demand,
}

/// The CPU a node asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Demand {
    /// A group: what its children ask for.
    Group,
    /// A sandbox that keeps this many CPUs busy when it can (threads × intensity,
    /// an open-loop victim's CPUs).
    Cpus(f64),
    /// A sandbox whose demand is not known ahead: at most `at_most` CPUs
    /// (its threads; infinite when not even they are known), and why.
    Unknown {
        /// The most CPUs it can keep busy.
        at_most: f64,
        /// Why its demand is not known.
        why: String,
    },
}

/// A node's expected CPU share.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// CPUs (CPU time / wall time).
    Cpus(f64),
    /// Not known, and why.
    Unknown(String),
}

impl Expected {
    /// The share in CPUs, if known.
    pub fn cpus(&self) -> Option<f64> {
        match self {
            Expected::Cpus(c) => Some(*c),
            Expected::Unknown(_) => None,
        }
    }

    /// Why it is not known; `None` when it is.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Expected::Cpus(_) => None,
            Expected::Unknown(why) => Some(why),
        }
    }
}

/// The expected share of every node of `nodes` (same order), in CPUs, when
/// the arena may use `cpus` CPUs. Parents must not form a cycle (the suite
/// check refuses one).
pub fn expected(nodes: &[Node], cpus: usize) -> Vec<Expected> {
    let unknown: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.demand, Demand::Unknown { .. }))
        .map(|(i, _)| i)
        .collect();
    let corners: Vec<Vec<bool>> = if unknown.len() <= MAX_CORNERS {
        (0..1u32 << unknown.len())
            .map(|bits| (0..unknown.len()).map(|k| bits & (1 << k) != 0).collect())
            .collect()
    } else {
        vec![vec![false; unknown.len()], vec![true; unknown.len()]]
    };
    let mut low = vec![f64::INFINITY; nodes.len()];
    let mut high = vec![f64::NEG_INFINITY; nodes.len()];
    for corner in &corners {
        let demands: Vec<f64> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.demand {
                Demand::Group => 0.0,
                Demand::Cpus(c) => c.max(0.0),
                Demand::Unknown { at_most, .. } => {
                    let k = unknown.iter().position(|&u| u == i).unwrap_or(0);
                    if corner[k] { at_most.max(0.0) } else { 0.0 }
                }
            })
            .collect();
        for (i, share) in solve(nodes, cpus, &demands).into_iter().enumerate() {
            low[i] = low[i].min(share);
            high[i] = high[i].max(share);
        }
    }
    let names = |list: &[usize]| {
        list.iter()
            .map(|&i| nodes[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if let Demand::Unknown { why, .. } = &n.demand {
                return Expected::Unknown(why.clone());
            }
            if high[i] - low[i] <= SAME {
                return Expected::Cpus(high[i].max(0.0));
            }
            Expected::Unknown(format!(
                "it depends on the CPU demand of {}, which is not known ahead: between {:.3} and {:.3} CPUs",
                names(&unknown),
                low[i].max(0.0),
                high[i]
            ))
        })
        .collect()
}

/// Each node's share, CPUs, with every demand known (`demands[i]`, ignored for groups).
fn solve(nodes: &[Node], cpus: usize, demands: &[f64]) -> Vec<f64> {
    let children: Vec<Vec<usize>> = (0..nodes.len())
        .map(|p| {
            (0..nodes.len())
                .filter(|&c| nodes[c].parent == Some(p))
                .collect()
        })
        .collect();
    let top: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].parent.is_none())
        .collect();
    let sets = effective_sets(nodes);
    let mut capacity = vec![None; nodes.len()];
    for &i in &top {
        fill_capacity(i, nodes, &children, &sets, demands, cpus, &mut capacity);
    }
    let capacity: Vec<f64> = capacity.into_iter().map(|c| c.unwrap_or(0.0)).collect();
    let mut share = vec![0.0; nodes.len()];
    let mut queue = vec![(top, cpus as f64)];
    while let Some((siblings, budget)) = queue.pop() {
        let claims: Vec<Claim> = siblings
            .iter()
            .map(|&i| Claim {
                weight: nodes[i].weight,
                capacity: capacity[i],
                cpus: sets[i].clone(),
            })
            .collect();
        for (&i, got) in siblings.iter().zip(water_fill(&claims, budget, cpus)) {
            share[i] = got;
            if !children[i].is_empty() {
                queue.push((children[i].clone(), got));
            }
        }
    }
    share
}

/// Each node's effective cpuset: its own within its ancestors'; `None` for
/// every CPU of the arena.
fn effective_sets(nodes: &[Node]) -> Vec<Option<BTreeSet<u32>>> {
    (0..nodes.len())
        .map(|i| {
            let mut set: Option<BTreeSet<u32>> = None;
            let mut at = Some(i);
            let mut steps = 0;
            while let Some(j) = at {
                if let Some(own) = &nodes[j].cpuset {
                    set = Some(match set {
                        None => own.clone(),
                        Some(s) => s.intersection(own).copied().collect(),
                    });
                }
                at = nodes[j].parent;
                steps += 1;
                if steps > nodes.len() {
                    break; // a cycle: refused by the suite check, never looped on here
                }
            }
            set
        })
        .collect()
}

/// How many CPUs `set` lets a node keep busy, of the arena's `cpus`.
fn set_size(set: &Option<BTreeSet<u32>>, cpus: usize) -> f64 {
    set.as_ref().map_or(cpus, |s| s.len().min(cpus)) as f64
}

/// Fills `capacity[i]`, and its descendants': what node `i` could use with
/// nothing else running (step 1 of the method).
fn fill_capacity(
    i: usize,
    nodes: &[Node],
    children: &[Vec<usize>],
    sets: &[Option<BTreeSet<u32>>],
    demands: &[f64],
    cpus: usize,
    capacity: &mut Vec<Option<f64>>,
) -> f64 {
    if let Some(c) = capacity[i] {
        return c;
    }
    capacity[i] = Some(0.0); // a cycle ends here
    let own = match nodes[i].demand {
        Demand::Group => {
            let claims: Vec<Claim> = children[i]
                .iter()
                .map(|&c| Claim {
                    weight: nodes[c].weight,
                    capacity: fill_capacity(c, nodes, children, sets, demands, cpus, capacity),
                    cpus: sets[c].clone(),
                })
                .collect();
            water_fill(&claims, f64::INFINITY, cpus).iter().sum()
        }
        _ => demands[i],
    };
    let c = own
        .min(nodes[i].quota_cpus.unwrap_or(f64::INFINITY))
        .min(set_size(&sets[i], cpus))
        .max(0.0);
    capacity[i] = Some(c);
    c
}

/// One sibling in a split: its weight, what it can use, and the CPUs it is confined to.
struct Claim {
    weight: f64,
    capacity: f64,
    cpus: Option<BTreeSet<u32>>,
}

/// Weighted max-min fair split of `budget` CPUs among `claims` (step 2 of the
/// method): progressive filling, each unfrozen claim growing at its weight
/// until it reaches its capacity, the budget is spent, or the claims confined
/// to some union of cpusets fill those CPUs.
fn water_fill(claims: &[Claim], budget: f64, cpus: usize) -> Vec<f64> {
    let mut got = vec![0.0; claims.len()];
    let mut active: Vec<bool> = claims
        .iter()
        .map(|c| c.capacity > EPS && c.weight > 0.0)
        .collect();
    let limits = cpuset_limits(claims, cpus);
    while active.iter().any(|&a| a) {
        let rate: f64 = (0..claims.len())
            .filter(|&i| active[i])
            .map(|i| claims[i].weight)
            .sum();
        let spent: f64 = got.iter().sum();
        let mut step = (budget - spent) / rate;
        for i in (0..claims.len()).filter(|&i| active[i]) {
            step = step.min((claims[i].capacity - got[i]) / claims[i].weight);
        }
        for (members, limit) in &limits {
            let r: f64 = members
                .iter()
                .filter(|&&i| active[i])
                .map(|&i| claims[i].weight)
                .sum();
            if r > 0.0 {
                let used: f64 = members.iter().map(|&i| got[i]).sum();
                step = step.min((limit - used) / r);
            }
        }
        let step = step.max(0.0);
        for i in (0..claims.len()).filter(|&i| active[i]) {
            got[i] += claims[i].weight * step;
        }
        let spent: f64 = got.iter().sum();
        if budget - spent <= EPS {
            break;
        }
        for i in 0..claims.len() {
            if active[i] && claims[i].capacity - got[i] <= EPS {
                active[i] = false;
            }
        }
        for (members, limit) in &limits {
            let used: f64 = members.iter().map(|&i| got[i]).sum();
            if limit - used <= EPS {
                for &i in members {
                    active[i] = false;
                }
            }
        }
    }
    got
}

/// The cpuset constraints of a split: for each union `U` of the claims'
/// distinct cpusets, the claims confined within `U` together get at most |U|
/// CPUs. Claims without a cpuset may use every CPU and join no constraint.
fn cpuset_limits(claims: &[Claim], cpus: usize) -> Vec<(Vec<usize>, f64)> {
    let mut distinct: Vec<&BTreeSet<u32>> = Vec::new();
    for set in claims.iter().filter_map(|c| c.cpus.as_ref()) {
        if !distinct.contains(&set) {
            distinct.push(set);
        }
    }
    let unions: Vec<BTreeSet<u32>> = if distinct.len() <= MAX_CPUSET_UNION {
        (1..1u32 << distinct.len())
            .map(|bits| {
                (0..distinct.len())
                    .filter(|k| bits & (1 << k) != 0)
                    .flat_map(|k| distinct[k].iter().copied())
                    .collect()
            })
            .collect()
    } else {
        let all = distinct.iter().flat_map(|s| s.iter().copied()).collect();
        distinct
            .iter()
            .map(|s| (*s).clone())
            .chain(std::iter::once(all))
            .collect()
    };
    unions
        .into_iter()
        .map(|u| {
            let members = (0..claims.len())
                .filter(|&i| claims[i].cpus.as_ref().is_some_and(|s| s.is_subset(&u)))
                .collect();
            (members, u.len().min(cpus) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, parent: Option<usize>, weight: f64) -> Node {
        Node {
            name: name.into(),
            parent,
            weight,
            quota_cpus: None,
            cpuset: None,
            demand: Demand::Group,
        }
    }

    fn hog(name: &str, parent: Option<usize>, weight: f64, threads: f64) -> Node {
        Node {
            demand: Demand::Cpus(threads),
            ..group(name, parent, weight)
        }
    }

    fn cpus(e: &[Expected]) -> Vec<f64> {
        e.iter()
            .map(|x| x.cpus().expect("known"))
            .map(|c| (c * 1e4).round() / 1e4)
            .collect()
    }

    fn pinned(mut n: Node, set: &[u32]) -> Node {
        n.cpuset = Some(set.iter().copied().collect());
        n
    }

    #[test]
    fn equal_weights_split_one_cpu_evenly() {
        let nodes = [hog("a", None, 1024.0, 1.0), hog("b", None, 1024.0, 1.0)];
        assert_eq!(cpus(&expected(&nodes, 1)), [0.5, 0.5]);
        // Two CPUs: each hog fills one, whatever the weights.
        let nodes = [hog("a", None, 4096.0, 1.0), hog("b", None, 1024.0, 1.0)];
        assert_eq!(cpus(&expected(&nodes, 2)), [1.0, 1.0]);
    }

    #[test]
    fn kubepods_313_against_system_100_on_one_cpu() {
        // cpu.weight 313 (8 allocatable CPUs, linear formula) against 100, v2 scale × 10.24.
        let nodes = [
            hog("kubepods", None, 313.0 * 10.24, 4.0),
            hog("system", None, 100.0 * 10.24, 4.0),
        ];
        let e = cpus(&expected(&nodes, 1));
        assert_eq!(e, [0.7579, 0.2421]);
        assert!((e[0] - 313.0 / 413.0).abs() < 1e-4);
    }

    #[test]
    fn three_levels_of_weights_split_what_the_parent_gets() {
        // arena → {kube 313, system 100}; kube → {pod}; pod → {a 2, b 1}: all on one CPU.
        let nodes = [
            pinned(group("kube", None, 313.0), &[0]),
            pinned(group("system", None, 100.0), &[0]),
            group("pod", Some(0), 1024.0),
            hog("a", Some(2), 2048.0, 1.0),
            hog("b", Some(2), 1024.0, 1.0),
            hog("s", Some(1), 1024.0, 1.0),
        ];
        let e = cpus(&expected(&nodes, 2));
        let kube = 313.0 / 413.0;
        assert_eq!(
            e,
            [0.7579, 0.2421, 0.7579, 0.5052, 0.2526, 0.2421],
            "kube {kube}"
        );
    }

    #[test]
    fn a_parent_quota_binds_an_unlimited_child() {
        let mut parent = group("pod", None, 1024.0);
        parent.quota_cpus = Some(0.5);
        let nodes = [parent, hog("c", Some(0), 1024.0, 2.0)];
        assert_eq!(cpus(&expected(&nodes, 2)), [0.5, 0.5]);
        // The smallest quota over the ancestors binds, however deep.
        let mut top = group("top", None, 1024.0);
        top.quota_cpus = Some(0.3);
        let mut mid = group("mid", Some(0), 1024.0);
        mid.quota_cpus = Some(1.5);
        let nodes = [top, mid, hog("c", Some(1), 1024.0, 4.0)];
        assert_eq!(cpus(&expected(&nodes, 4)), [0.3, 0.3, 0.3]);
    }

    #[test]
    fn a_capped_sibling_leaves_its_share_to_the_busy_ones() {
        // Equal weights on one CPU, but a's quota is 0.2: b and c split the other 0.8.
        let mut a = hog("a", None, 1024.0, 1.0);
        a.quota_cpus = Some(0.2);
        let nodes = [a, hog("b", None, 1024.0, 1.0), hog("c", None, 2048.0, 1.0)];
        assert_eq!(cpus(&expected(&nodes, 1)), [0.2, 0.2667, 0.5333]);
        // A victim asking for 0.1 CPU takes 0.1; the hog takes the rest.
        let nodes = [
            hog("victim", None, 1024.0, 0.1),
            hog("hog", None, 1024.0, 1.0),
        ];
        assert_eq!(cpus(&expected(&nodes, 1)), [0.1, 0.9]);
        // An idle group takes nothing.
        let nodes = [
            group("empty", None, 10_000.0),
            hog("hog", None, 1024.0, 1.0),
        ];
        assert_eq!(cpus(&expected(&nodes, 1)), [0.0, 1.0]);
    }

    #[test]
    fn siblings_pinned_to_one_cpu_share_it_while_others_use_the_rest() {
        let nodes = [
            pinned(hog("a", None, 1024.0, 1.0), &[0]),
            pinned(hog("b", None, 1024.0, 1.0), &[0]),
            hog("c", None, 1024.0, 1.0),
        ];
        assert_eq!(cpus(&expected(&nodes, 2)), [0.5, 0.5, 1.0]);
        // A group's cpuset confines its children: 3 threads get one CPU.
        let nodes = [
            pinned(group("g", None, 1024.0), &[1]),
            hog("x", Some(0), 1024.0, 3.0),
        ];
        assert_eq!(cpus(&expected(&nodes, 2)), [1.0, 1.0]);
    }

    #[test]
    fn the_default_cpu_share_scenario_keeps_its_expectation() {
        // cpu-units victim at 0.5 CPU beside a cpu-hog of 2 threads under cpu.max 0.5, 2 CPUs.
        let mut aggressor = hog("aggressor", None, 1024.0, 2.0);
        aggressor.quota_cpus = Some(0.5);
        let nodes = [hog("victim", None, 1024.0, 0.5), aggressor];
        assert_eq!(cpus(&expected(&nodes, 2)), [0.5, 0.5]);
    }

    #[test]
    fn an_unknown_demand_leaves_known_what_does_not_depend_on_it() {
        let mut aggressor = hog("aggressor", None, 1024.0, 1.0);
        aggressor.quota_cpus = Some(0.5);
        let victim = Node {
            demand: Demand::Unknown {
                at_most: f64::INFINITY,
                why: "a command".into(),
            },
            ..group("victim", None, 1024.0)
        };
        let e = expected(&[victim.clone(), aggressor.clone()], 2);
        assert_eq!(e[0], Expected::Unknown("a command".into()));
        assert_eq!(e[1], Expected::Cpus(0.5), "capped by its quota either way");
        // On one CPU the aggressor gets 0.5 only if the victim is busy: unknown.
        aggressor.quota_cpus = Some(0.8);
        let e = expected(&[victim, aggressor], 1);
        let why = e[1].reason().unwrap();
        assert!(
            why.starts_with("it depends on the CPU demand of victim")
                && why.ends_with("between 0.500 and 0.800 CPUs"),
            "{why}"
        );
        // A single-threaded victim takes at most one CPU: on two, a low-weight
        // aggressor still reaches its quota whatever the victim does.
        let victim = Node {
            demand: Demand::Unknown {
                at_most: 1.0,
                why: "a rate".into(),
            },
            ..group("victim", None, 1024.0)
        };
        let mut aggressor = hog("aggressor", None, 256.0, 1.0);
        aggressor.quota_cpus = Some(0.5);
        assert_eq!(expected(&[victim, aggressor], 2)[1], Expected::Cpus(0.5));
    }
}
