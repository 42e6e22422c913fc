//! Whether the `memory.low` / `memory.min` an isolation scenario gives its
//! sandboxes and groups can work where they will sit (case C13): the chain of
//! cgroups above each protected one (its groups, the arena, the cgroup
//! isobench runs in and those above it, up to the root) checked by
//! [`crate::cgroup::protection::findings`]. Said at `suite check`, among the
//! run's warnings and so in the report.
//!
//! The arena is isobench's: in the isolated condition it carries the sum of
//! what its children claim ([`ArenaClaim`]), so that it never cancels their
//! protection itself. The groups are the suite's, and the cgroups above the
//! arena the user's (a service manager's `MemoryLow=`): a finding names which.

use crate::cgroup::protection::{self, Ancestor, Finding, Knob, Owner};
use crate::cgroup::{Arena, CgroupHost, Layout, MemoryKnob};
use crate::suite::IsolationDef;

/// A sandbox's or group's setting of `knob`, bytes; `None` where it sets none
/// (or `max`, which asks for no protection check: nothing above can be larger).
fn setting(limits: &crate::cgroup::Limits, knob: Knob) -> Option<u64> {
    let want = match knob {
        Knob::Low => MemoryKnob::Low,
        Knob::Min => MemoryKnob::Min,
    };
    limits
        .memory
        .iter()
        .find(|s| s.knob == want)
        .and_then(|s| s.bytes)
}

/// Each sandbox and group of `def` with its limits and its parent group
/// (`None`: a child of the arena), sandboxes first.
fn members(def: &IsolationDef) -> Vec<(&str, &crate::cgroup::Limits, Option<&str>)> {
    let mut out = vec![("victim", &def.victim.limits.limits, def.group_of("victim"))];
    for a in &def.aggressors {
        out.push((&a.name, &a.limits.limits, def.group_of(&a.name)));
    }
    for g in &def.groups {
        out.push((&g.name, &g.limits.limits, g.parent.as_deref()));
    }
    out
}

/// What the arena must carry of `knob` for its children's protection to
/// pass: the sum of the settings of its direct children, bytes; 0 when none
/// asks for protection.
pub fn arena_claim(def: &IsolationDef, knob: Knob) -> u64 {
    protection::arena_claim(
        members(def)
            .into_iter()
            .filter(|(_, _, parent)| parent.is_none())
            .filter_map(|(_, l, _)| setting(l, knob)),
    )
}

/// Every finding for `def` against the host's chain above the arena, read
/// from `host` (read only). Empty off v2: there memory.low and memory.min are
/// refused at `suite check` ("not supported on v1/hybrid").
pub fn findings(def: &IsolationDef, host: &CgroupHost) -> Vec<Finding> {
    if host.layout != Layout::V2 {
        return Vec::new();
    }
    let Some(h) = host.hierarchies.iter().find(|h| h.unified) else {
        return Vec::new();
    };
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let recursiveprot = protection::recursiveprot(&mountinfo, &h.mount_point);
    let mut out = Vec::new();
    for knob in [Knob::Low, Knob::Min] {
        let above = protection::host_chain(&h.own_dir, &h.mount_point, knob);
        for (name, limits, mut parent) in members(def) {
            let Some(wanted) = setting(limits, knob).filter(|&b| b > 0) else {
                continue;
            };
            let mut chain = Vec::new();
            while let Some(g) = parent.and_then(|p| def.groups.iter().find(|g| g.name == p)) {
                chain.push(Ancestor {
                    name: g.name.clone(),
                    bytes: Some(setting(&g.limits.limits, knob).unwrap_or(0)),
                    owner: Owner::Suite,
                });
                parent = g.parent.as_deref();
            }
            chain.push(Ancestor {
                name: "the arena".into(),
                bytes: Some(arena_claim(def, knob)),
                owner: Owner::Arena,
            });
            chain.extend(above.iter().cloned());
            // The arena carries what its children claim: where it reads 0, a
            // group of the suite below it claims nothing, and that finding says so.
            out.extend(
                protection::findings(name, knob, wanted, &chain, recursiveprot)
                    .into_iter()
                    .filter(|f| f.ancestor.owner != Owner::Arena),
            );
        }
    }
    out
}

/// The findings of every isolation scenario of `suite`, each as
/// `<scenario>: <finding>`: what `isobench run` says before it starts.
pub fn suite_warnings(suite: &crate::suite::Suite, host: &CgroupHost) -> Vec<String> {
    suite
        .scenarios
        .iter()
        .filter_map(|s| match &s.kind {
            crate::suite::Kind::Isolation(def) => Some((s, def)),
            _ => None,
        })
        .flat_map(|(s, def)| {
            findings(def, host)
                .into_iter()
                .map(move |f| format!("{}: {f}", s.name))
        })
        .collect()
}

/// The arena's protection while an isolated condition runs: written when the
/// condition starts, set back to 0 when it is dropped.
pub struct ArenaClaim<'a> {
    arena: &'a Arena,
    written: Vec<Knob>,
}

impl<'a> ArenaClaim<'a> {
    /// Writes [`arena_claim`] of each knob `def` asks for into `arena` (v2 only;
    /// elsewhere the knobs are refused before the run).
    ///
    /// # Errors
    /// A write the kernel refuses, with the path and value.
    pub fn set(arena: &'a Arena, def: &IsolationDef) -> crate::cgroup::Result<ArenaClaim<'a>> {
        let mut claim = ArenaClaim {
            arena,
            written: Vec::new(),
        };
        if arena.layout() != Layout::V2 {
            return Ok(claim);
        }
        for knob in [Knob::Low, Knob::Min] {
            let bytes = arena_claim(def, knob);
            if bytes > 0 {
                arena.write_v2(knob.file(), &bytes.to_string())?;
                claim.written.push(knob);
            }
        }
        Ok(claim)
    }
}

impl Drop for ArenaClaim<'_> {
    fn drop(&mut self) {
        for knob in &self.written {
            // The arena is removed at the run's end; a failed reset only
            // leaves protection on a cgroup that is going away.
            let _ = self.arena.write_v2(knob.file(), "0");
        }
    }
}
