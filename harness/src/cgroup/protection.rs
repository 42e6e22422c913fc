//! `memory.low` / `memory.min` that an ancestor cancels (case C13,
//! kubernetes/kubernetes PR #140267: burstable pods' memory.low was inert
//! because `kubepods.slice` had memory.low 0).
//!
//! Documentation/admin-guide/cgroup-v2.rst, memory.low: "effective protection
//! is limited by the ancestors'" — the kernel computes it top down
//! (mm/memcontrol.c, `mem_cgroup_calculate_protection` and
//! `effective_protection`): a child of the hierarchy's root gets its own
//! setting; every cgroup below gets at most its parent's *effective*
//! protection (shared among the siblings that claim some, in proportion). So
//! one ancestor between the root's child and the protected cgroup with
//! `memory.low = 0` makes the protection of everything beneath it 0 against
//! reclaim from above, whatever they set.
//!
//! `memory_recursiveprot` (a cgroup2 mount option, Linux ≥ 5.7; systemd mounts
//! with it) changes one thing: a cgroup's effective protection also gets a
//! share of its parent's protection that no sibling claimed, split by usage.
//! An ancestor with `memory.low = 0` then passes protection on from above it
//! (diluted among its children by usage: a big neighbour beside the protected
//! group takes most), and only a zero at the top of the chain (the root's
//! child, or every ancestor from there down to it) cancels it.
//!
//! [`findings`] applies these rules to a chain of settings: planned ones (the
//! groups and the arena isobench creates, from the suite) and read ones (the
//! real ancestors, read only: isobench never writes outside its own cgroup).

use std::fmt;
use std::path::{Path, PathBuf};

/// Which protection knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// `memory.low`: best-effort protection.
    Low,
    /// `memory.min`: hard protection.
    Min,
}

impl Knob {
    /// The kernel file: `memory.low` or `memory.min`.
    pub fn file(self) -> &'static str {
        match self {
            Knob::Low => "memory.low",
            Knob::Min => "memory.min",
        }
    }

    /// The systemd unit setting a user writes for it (systemd.resource-control(5)).
    fn systemd(self) -> &'static str {
        match self {
            Knob::Low => "MemoryLow=",
            Knob::Min => "MemoryMin=",
        }
    }
}

/// Who can change one cgroup of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A group of the suite (`[[scenario.group]]`): the suite sets its limits.
    Suite,
    /// The run's arena: isobench writes what its children claim (see
    /// [`arena_claim`]).
    Arena,
    /// The cgroup isobench runs in or one above it: only the user (its service
    /// manager) can change it.
    Host,
}

/// One ancestor of a protected cgroup: its name, its setting of the knob
/// (bytes; `None` for `max`) and who can change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// The cgroup as the kernel names it (`/ci.slice`), or a suite group's name.
    pub name: String,
    /// Its setting, bytes; `None` is `max`.
    pub bytes: Option<u64>,
    /// Who can change it.
    pub owner: Owner,
}

/// An ancestor that cancels or cuts a protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The protected sandbox or group.
    pub protected: String,
    /// The knob.
    pub knob: Knob,
    /// The protected cgroup's own setting, bytes.
    pub wanted_bytes: u64,
    /// The ancestor.
    pub ancestor: Ancestor,
    /// What it does to the protection.
    pub effect: Effect,
}

/// What an ancestor does to a protection beneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Its setting is 0 and nothing above passes protection through it: the
    /// protection beneath is 0.
    Ineffective,
    /// Its setting is 0 but `memory_recursiveprot` passes on a share of the
    /// protection above it, split among its children by usage.
    Diluted,
    /// Its setting is below the protected cgroup's: the protection is at most it.
    Capped,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.ancestor;
        let knob = self.knob.file();
        let size = crate::scenario::memory_pressure::size;
        let setting = a.bytes.map_or("max".to_string(), size);
        let wanted = size(self.wanted_bytes);
        match self.effect {
            Effect::Ineffective => write!(
                f,
                "{}: protection ineffective: ancestor {knob} = 0 ({}): the kernel caps a cgroup's effective \
                 protection by its ancestors' (cgroup-v2.rst), so {}'s {knob} {wanted} protects nothing against \
                 reclaim from above {}",
                self.protected, a.name, self.protected, a.name
            )?,
            Effect::Diluted => write!(
                f,
                "{}: protection diluted: ancestor {knob} = 0 ({}): with memory_recursiveprot it gets only a share \
                 of the protection above it that no sibling claims, split by usage (a large neighbour beside {} \
                 takes most)",
                self.protected, a.name, a.name
            )?,
            Effect::Capped => write!(
                f,
                "{}: protection capped: ancestor {knob} = {setting} ({}) is below {}'s {wanted}",
                self.protected, a.name, self.protected
            )?,
        }
        match a.owner {
            Owner::Suite => write!(f, "; set {knob} on group {} in the suite", a.name),
            Owner::Arena => write!(f, "; the arena takes the sum its children claim"),
            Owner::Host => write!(
                f,
                "; isobench does not change the cgroup it runs in or those above it: give {} at least {wanted} \
                 through its manager (systemd: {}{} on its unit; or write {knob} there as root)",
                a.name,
                self.knob.systemd(),
                self.wanted_bytes
            ),
        }
    }
}

/// The ancestors of `protected` (its own setting `wanted_bytes` of `knob`)
/// that cancel, dilute or cap its protection. `chain` runs from its parent up
/// to the root's child (the root itself, which has no such files, left out);
/// `recursiveprot` says whether cgroup2 is mounted with `memory_recursiveprot`.
pub fn findings(
    protected: &str,
    knob: Knob,
    wanted_bytes: u64,
    chain: &[Ancestor],
    recursiveprot: bool,
) -> Vec<Finding> {
    let finding = |a: &Ancestor, effect| Finding {
        protected: protected.to_string(),
        knob,
        wanted_bytes,
        ancestor: a.clone(),
        effect,
    };
    let mut out = Vec::new();
    for (i, a) in chain.iter().enumerate() {
        match a.bytes {
            Some(0) => {
                // With recursiveprot a zero passes on what is above it: only a
                // chain of zeros up to the root's child cancels the protection.
                let nothing_above = chain[i + 1..].iter().all(|b| b.bytes == Some(0));
                let effect = if recursiveprot && !nothing_above {
                    Effect::Diluted
                } else {
                    Effect::Ineffective
                };
                out.push(finding(a, effect));
            }
            Some(b) if b < wanted_bytes => out.push(finding(a, Effect::Capped)),
            _ => {}
        }
    }
    out
}

/// What the arena must carry for its children's protection to pass through
/// it: the sum of the settings of its direct children (bytes).
pub fn arena_claim(children: impl IntoIterator<Item = u64>) -> u64 {
    children.into_iter().fold(0, u64::saturating_add)
}

/// Reads the knob of `own_dir` (the cgroup isobench runs in) and of every
/// ancestor below the hierarchy's root `mount_point`, nearest first. Read only.
/// A file that cannot be read (a cgroup without the memory controller) counts
/// as 0: the kernel gives such a cgroup no protection.
pub fn host_chain(own_dir: &Path, mount_point: &Path, knob: Knob) -> Vec<Ancestor> {
    let mut out = Vec::new();
    let mut at: Option<PathBuf> = Some(own_dir.to_path_buf());
    while let Some(dir) = at.filter(|d| d.starts_with(mount_point) && d != mount_point) {
        let bytes = match std::fs::read_to_string(dir.join(knob.file())) {
            Ok(text) => match text.trim() {
                "max" => None,
                v => Some(v.parse().unwrap_or(0)),
            },
            Err(_) => Some(0),
        };
        let name = dir.strip_prefix(mount_point).map_or_else(
            |_| dir.display().to_string(),
            |r| format!("/{}", r.display()),
        );
        out.push(Ancestor {
            name,
            bytes,
            owner: Owner::Host,
        });
        at = dir.parent().map(Path::to_path_buf);
    }
    out
}

/// Whether the cgroup2 mount at `mount_point` has `memory_recursiveprot`, from
/// /proc/self/mountinfo's text (its super options, after ` - cgroup2 `).
pub fn recursiveprot(mountinfo: &str, mount_point: &Path) -> bool {
    let point = mount_point.to_string_lossy();
    mountinfo
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some(point.as_ref()))
        .filter_map(|l| l.split_once(" - cgroup2 "))
        .any(|(_, rest)| {
            rest.split(' ')
                .nth(1)
                .is_some_and(|opts| opts.split(',').any(|o| o == "memory_recursiveprot"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(name: &str, bytes: u64, owner: Owner) -> Ancestor {
        Ancestor {
            name: name.into(),
            bytes: Some(bytes),
            owner,
        }
    }

    const M: u64 = 1 << 20;

    #[test]
    fn c13_a_parent_without_memory_low_makes_the_childs_ineffective() {
        let chain = [
            at("P", 0, Owner::Suite),
            at("arena", 400 * M, Owner::Arena),
            at("/ci.slice/runner.service", 512 * M, Owner::Host),
            at("/ci.slice", 512 * M, Owner::Host),
        ];
        let f = findings("victim", Knob::Low, 400 * M, &chain, false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].effect, Effect::Ineffective);
        assert!(
            f[0].to_string()
                .starts_with("victim: protection ineffective: ancestor memory.low = 0 (P)"),
            "{}",
            f[0]
        );
        assert!(
            f[0].to_string()
                .ends_with("set memory.low on group P in the suite")
        );
    }

    #[test]
    fn c13_recursiveprot_passes_protection_through_a_zero_below_a_protected_ancestor() {
        let chain = [
            at("P", 0, Owner::Suite),
            at("/ci.slice", 512 * M, Owner::Host),
        ];
        let f = findings("victim", Knob::Low, 400 * M, &chain, true);
        assert_eq!(f[0].effect, Effect::Diluted);
        // ... but not when everything above it is 0 too.
        let chain = [at("P", 0, Owner::Suite), at("/ci.slice", 0, Owner::Host)];
        let f = findings("victim", Knob::Low, 400 * M, &chain, true);
        assert_eq!(
            f.iter().map(|f| f.effect).collect::<Vec<_>>(),
            [Effect::Ineffective, Effect::Ineffective]
        );
        let text = f[1].to_string();
        assert!(
            text.contains("ancestor memory.low = 0 (/ci.slice)")
                && text.contains("systemd: MemoryLow=419430400 on its unit"),
            "{text}"
        );
    }

    #[test]
    fn a_smaller_ancestor_caps_and_max_or_larger_do_nothing() {
        let chain = [
            at("P", 100 * M, Owner::Suite),
            Ancestor {
                name: "/x".into(),
                bytes: None,
                owner: Owner::Host,
            },
            at("/y", 1024 * M, Owner::Host),
        ];
        let f = findings("victim", Knob::Min, 400 * M, &chain, false);
        assert_eq!(f.len(), 1);
        let arena = [at("the arena", 100 * M, Owner::Arena)];
        let a = findings("victim", Knob::Low, 400 * M, &arena, false);
        assert!(
            a[0].to_string()
                .ends_with("; the arena takes the sum its children claim"),
            "{}",
            a[0]
        );
        assert_eq!(f[0].effect, Effect::Capped);
        assert!(
            f[0].to_string()
                .contains("ancestor memory.min = 100 MiB (P) is below victim's 400 MiB")
        );
    }

    #[test]
    fn the_host_chain_is_read_up_to_below_the_root() {
        let t = tempfile::tempdir().unwrap();
        let own = t.path().join("ci.slice/runner.service");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(own.join("memory.low"), "536870912\n").unwrap();
        std::fs::write(t.path().join("ci.slice/memory.low"), "max\n").unwrap();
        std::fs::write(t.path().join("memory.low"), "7\n").unwrap();
        let chain = host_chain(&own, t.path(), Knob::Low);
        assert_eq!(
            chain,
            [
                Ancestor {
                    name: "/ci.slice/runner.service".into(),
                    bytes: Some(512 * M),
                    owner: Owner::Host
                },
                Ancestor {
                    name: "/ci.slice".into(),
                    bytes: None,
                    owner: Owner::Host
                },
            ]
        );
    }

    #[test]
    fn recursiveprot_is_read_from_the_super_options() {
        let line = |opts: &str| {
            format!(
                "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 {opts}\n\
                 36 24 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
            )
        };
        let root = Path::new("/sys/fs/cgroup");
        assert!(recursiveprot(
            &line("rw,nsdelegate,memory_recursiveprot"),
            root
        ));
        assert!(!recursiveprot(&line("rw,nsdelegate"), root));
        assert!(!recursiveprot(
            &line("rw,memory_recursiveprot"),
            Path::new("/sys/fs/cgroup/unified")
        ));
    }
}
