//! The cgroup layer: one interface over v1, hybrid and v2 hosts.
//!
//! [`CgroupHost::discover`] detects the layout once and finds the harness's own
//! cgroup in every hierarchy. [`CgroupHost::arena`] creates the run's parent,
//! `isobench-<run id>`, beneath it — never anywhere else (DESIGN §5) — and
//! [`Arena::sandbox`] one child per sandbox with its [`Limits`]. Code above this
//! module never asks which layout it runs on; the quirks (cpuacct in ns, empty v1
//! cpusets, v2's no-internal-processes rule, hybrid tracking in the cgroup2 tree)
//! stay in [`v1`] and [`v2`].
//!
//! Everything created is removed by `remove` or, failing that, on drop (also
//! while a panic unwinds); `isobench cleanup` removes what a killed run left.

pub mod cpu_budget;
pub mod cpulist;
pub mod error;
pub mod files;
pub mod freezer;
pub mod host_cpu;
pub mod layout;
pub mod limits;
pub mod memory;
pub mod pids;
pub mod protection;
pub mod psi;
pub mod stat;
pub(crate) mod teardown;
mod v1;
mod v2;
pub mod weight;

pub use cpu_budget::CpuBudget;
pub use cpulist::CpuList;
pub use error::{CgroupError, Result};
pub use freezer::Freezer;
pub use host_cpu::{HostCpuSnapshot, HostCpuSource};
pub use layout::{Hierarchy, Layout};
pub use limits::{
    CpuMax, DeviceNumber, FileWrite, IoMax, Limit, Limits, MemoryKnob, MemorySetting, Unsupported,
};
pub use memory::{MemoryEvents, MemoryStat, MemoryUsage};
pub use psi::{PsiShare, PsiTotals, PsiUnavailable, Resource};
pub use stat::CpuStat;
pub use weight::{CpuWeight, IoWeight, SharesFormula};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prefix of every cgroup isobench creates beneath its own.
pub const PREFIX: &str = "isobench-";

/// The host's cgroup layout and the harness's own cgroup in each hierarchy it uses.
#[derive(Debug, Clone)]
pub struct CgroupHost {
    /// How the host mounts cgroups.
    pub layout: Layout,
    /// Hierarchies in use, v1 controllers first, the cgroup2 tree last.
    pub hierarchies: Vec<Hierarchy>,
}

impl CgroupHost {
    /// Reads the layout from /sys/fs/cgroup and the hierarchies from /proc/self.
    ///
    /// # Errors
    /// [`CgroupError::Layout`] when the layout cannot be told or a required controller is missing.
    pub fn discover() -> Result<CgroupHost> {
        let layout = Layout::detect(Path::new("/sys/fs/cgroup"))?;
        let mountinfo = files::read(Path::new("/proc/self/mountinfo"))?;
        let self_cgroup = files::read(Path::new("/proc/self/cgroup"))?;
        let hierarchies = layout::hierarchies(layout, &mountinfo, &self_cgroup)?;
        Ok(CgroupHost {
            layout,
            hierarchies,
        })
    }

    /// Creates the run's parent cgroup `isobench-<run_id>` beneath the harness's own, in every hierarchy.
    ///
    /// # Errors
    /// Creation errors with the path (EACCES without root or delegation);
    /// [`CgroupError::InternalProcesses`] on v2 (case C02). Whatever was created is removed.
    pub fn arena(&self, run_id: &str) -> Result<Arena> {
        let mut arena = Arena {
            host: self.clone(),
            hierarchies: Vec::new(),
            dirs: Vec::new(),
            missing: Vec::new(),
            delegated: false,
        };
        let name = format!("{PREFIX}{run_id}");
        for h in &self.hierarchies {
            let dir = h.own_dir.join(&name);
            if self.layout == Layout::V2 {
                let controllers = v2::acquire(&h.own_dir)?;
                arena.delegated = true;
                files::mkdir(&dir)?;
                arena.push(h, &dir);
                v2::prepare_arena(&dir, &controllers)?;
            } else {
                match files::mkdir(&dir) {
                    Err(e) if h.on_demand() => {
                        arena.missing.push((h.controllers.join(","), e.to_string()));
                        continue;
                    }
                    other => other?,
                }
                arena.push(h, &dir);
                v1::prepare(h, &dir)?;
            }
        }
        Ok(arena)
    }

    /// Cgroups named `isobench-*` directly beneath the harness's own, in every
    /// cgroup mount: what runs that were killed left behind.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let mut own: Vec<PathBuf> = self.hierarchies.iter().map(|h| h.own_dir.clone()).collect();
        // The hierarchies the harness does not work in (name=systemd, devices,
        // freezer on a hybrid host) hold the arena's twins that the startup's
        // OCI runtimes are confined to (startup/runtime.rs).
        let read = |p: &str| std::fs::read_to_string(p).ok();
        if let (Some(mountinfo), Some(self_cgroup)) =
            (read("/proc/self/mountinfo"), read("/proc/self/cgroup"))
            && let Ok(mounts) = layout::every_mount_own_dir(&mountinfo, &self_cgroup)
        {
            for (_, dir) in mounts {
                if !own.contains(&dir) {
                    own.push(dir);
                }
            }
        }
        own.iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flat_map(|dir| dir.flatten())
            .filter(|e| {
                e.file_type().is_ok_and(|t| t.is_dir())
                    && e.file_name().to_string_lossy().starts_with(PREFIX)
            })
            .map(|e| e.path())
            .collect()
    }

    /// Removes `dir` (one of [`CgroupHost::leftovers`]) and everything beneath it, killing its processes first.
    ///
    /// # Errors
    /// [`CgroupError::NotEmpty`] or [`CgroupError::Dir`] with the path.
    pub fn remove_leftover(&self, dir: &Path) -> Result<()> {
        teardown::remove_tree(dir)
    }

    /// Thaws every frozen cgroup in `dir` (one of [`CgroupHost::leftovers`]) and
    /// beneath it, and returns them: a v1 task frozen by a killed run's phased
    /// neighbour does not die of SIGKILL until thawed, so cleanup thaws every
    /// leftover, in every hierarchy, before it removes any ([`freezer::thaw_tree`]).
    pub fn thaw_leftover(&self, dir: &Path) -> Vec<PathBuf> {
        freezer::thaw_tree(dir)
    }

    /// Knobs of this layout that this kernel lacks: their file is missing from
    /// the harness's own cgroup while another file of their controller is there
    /// (`cpu.max.burst` / `cpu.cfs_burst_us` before Linux 5.14, `cpu.idle` before
    /// 5.15, `memory.oom.group` before 4.19), each with the reason. Where the
    /// harness's cgroup shows no file of the controller (the v2 root) nothing is
    /// known, and a sandbox asking for the knob is refused when it is created.
    pub fn missing_knobs(&self) -> Vec<Unsupported> {
        let v2 = self.layout == Layout::V2;
        let knobs: &[(&str, &str, &str)] = if v2 {
            &[
                ("cpu", "cpu.weight", limits::CPU_MAX_BURST),
                ("cpu", "cpu.weight", limits::CPU_IDLE),
                ("memory", "memory.max", limits::MEMORY_OOM_GROUP),
            ]
        } else {
            &[
                ("cpu", "cpu.shares", limits::CFS_BURST),
                ("cpu", "cpu.shares", limits::CPU_IDLE),
            ]
        };
        let mut out = Vec::new();
        for (controller, witness, knob) in knobs {
            let Some(h) = self
                .hierarchies
                .iter()
                .find(|h| v2 || (!h.unified && h.has(controller)))
            else {
                continue;
            };
            let dir = &h.own_dir;
            if dir.join(witness).exists() && !dir.join(knob).exists() {
                out.push(Unsupported {
                    knob: knob.to_string(),
                    layout: self.layout,
                    why: if v2 {
                        v2::missing_file(dir, controller, knob)
                    } else {
                        v1::missing_file(dir, knob)
                    },
                });
            }
        }
        out
    }

    /// The limits on the harness's own cgroup, file name → content, for the host fingerprint.
    pub fn own_limits(&self) -> BTreeMap<String, String> {
        const FILES: [&str; 7] = [
            "cpu.max",
            "cpu.cfs_quota_us",
            "cpu.cfs_period_us",
            "cpuset.cpus",
            "memory.max",
            "memory.limit_in_bytes",
            "pids.max",
        ];
        let mut out = BTreeMap::new();
        for h in &self.hierarchies {
            for f in FILES {
                if let Ok(v) = files::read(&h.own_dir.join(f)) {
                    out.insert(f.to_string(), v.trim().to_string());
                }
            }
        }
        out
    }
}

/// The run's parent cgroup in every hierarchy. Removed by [`Arena::remove`] or on drop.
#[derive(Debug)]
pub struct Arena {
    host: CgroupHost,
    /// The hierarchies the arena exists in, one per entry of `dirs`.
    hierarchies: Vec<Hierarchy>,
    dirs: Vec<PathBuf>,
    /// On-demand v1 hierarchies (controllers, reason) the arena could not be created in.
    missing: Vec<(String, String)>,
    delegated: bool,
}

impl Arena {
    fn push(&mut self, h: &Hierarchy, dir: &Path) {
        self.hierarchies.push(h.clone());
        self.dirs.push(dir.into());
    }

    /// The arena's directories, one per hierarchy (for messages and tests).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The host's cgroup layout.
    pub fn layout(&self) -> Layout {
        self.host.layout
    }

    /// The host this arena was created on: its layout and the harness's own cgroups.
    pub fn host(&self) -> &CgroupHost {
        &self.host
    }

    /// Writes `value` to the arena's own file `file` in its cgroup2 directory
    /// (e.g. `memory.low`: the arena passing on its children's protection).
    ///
    /// # Errors
    /// [`CgroupError::Layout`] when the arena has no cgroup2 directory; the
    /// write's error with the path and value.
    pub fn write_v2(&self, file: &str, value: &str) -> Result<()> {
        let dir = self
            .hierarchies
            .iter()
            .zip(&self.dirs)
            .find(|(h, _)| h.unified)
            .map(|(_, d)| d)
            .ok_or_else(|| {
                CgroupError::Layout(format!("the arena has no cgroup2 directory for {file}"))
            })?;
        files::write(&dir.join(file), value)
    }

    /// The arena's memory cgroup as the kernel names it in its log (`oom_memcg=`).
    pub fn memory_path(&self) -> Option<String> {
        memory_path(
            self.host.layout,
            self.hierarchies
                .iter()
                .zip(self.dirs.iter().map(PathBuf::as_path)),
        )
    }

    /// Where the CPU time of every task on the host is read (see [`host_cpu`]).
    ///
    /// # Errors
    /// As [`HostCpuSource::discover`].
    pub fn host_cpu_source(&self) -> Result<HostCpuSource> {
        HostCpuSource::discover(&self.host)
    }

    /// CPU accounting of the whole arena: `usage_us` is the CPU time of every
    /// task in it or beneath it (every sandbox of the run), µs (v2 `cpu.stat`
    /// `usage_usec`, v1 `cpuacct.usage` / 1000).
    ///
    /// # Errors
    /// Read or parse errors with the path.
    pub fn cpu_stat(&self) -> Result<CpuStat> {
        cpu_stat_of(
            self.host.layout,
            self.hierarchies
                .iter()
                .zip(self.dirs.iter().map(PathBuf::as_path)),
        )
    }

    /// Creates the sandbox cgroup `name` in every hierarchy and writes its
    /// limits: exactly the files of [`Limits::files`] for the host's layout.
    /// A hierarchy of [`layout::V1_ON_DEMAND`] controllers (v1 `blkio`) gets a
    /// directory only when the limits write into it.
    ///
    /// Knobs the kernel refused but the sandbox can do without (a kmem limit,
    /// case C05) end up in [`Cgroup::warnings`].
    ///
    /// # Errors
    /// Before anything is created: [`CgroupError::Unsupported`] for a knob the
    /// layout lacks or whose file the arena does not have (a controller that is
    /// not mounted or not delegated, `blkio.weight` without CFQ, `io.weight`
    /// without iocost), naming the file; [`CgroupError::CpusNotOnline`] for a
    /// cpuset naming CPUs the host lacks. Then creation or write errors naming
    /// the path and value — [`CgroupError::Refused`] with the reason where
    /// isobench knows why the kernel refused a write (a burst above the quota, a
    /// weight for an idle group) — and what was created is removed.
    pub fn sandbox(&self, name: &str, limits: &Limits) -> Result<Cgroup> {
        self.create(name, limits, false, false)
    }

    /// [`Arena::sandbox`], also in the v1 freezer hierarchy, so that
    /// [`Cgroup::freezer`] can stop and resume it (every v2 cgroup has
    /// `cgroup.freeze`). Its teardown thaws it first.
    ///
    /// # Errors
    /// As [`Arena::sandbox`].
    pub fn freezable_sandbox(&self, name: &str, limits: &Limits) -> Result<Cgroup> {
        self.create(name, limits, false, true)
    }

    /// [`Arena::sandbox`]; `every_hierarchy` also creates it where no limit is
    /// written, `freezable` in the freezer hierarchy.
    fn create(
        &self,
        name: &str,
        limits: &Limits,
        every_hierarchy: bool,
        freezable: bool,
    ) -> Result<Cgroup> {
        let layout = self.host.layout;
        if let Some(u) = limits.unsupported_on(layout) {
            return Err(CgroupError::Unsupported(u));
        }
        let writes = limits.files(layout);
        self.check(limits, &writes)?;
        let mut cg = Cgroup {
            layout,
            parts: Vec::new(),
            warnings: Vec::new(),
            freezable,
        };
        for (h, arena_dir) in self.hierarchies.iter().zip(&self.dirs) {
            let wanted = every_hierarchy
                || (freezable && h.has("freezer"))
                || writes.iter().any(|w| h.has(&w.controller));
            if h.on_demand() && !wanted {
                continue;
            }
            let dir = arena_dir.join(name);
            files::mkdir(&dir)?;
            cg.parts.push((h.clone(), dir.clone()));
            match self.host.layout {
                Layout::V2 => v2::apply(&dir, limits)?,
                _ if h.unified => {}
                _ => {
                    v1::prepare(h, &dir)?;
                    cg.warnings.extend(v1::apply(h, &dir, limits)?);
                }
            }
        }
        Ok(cg)
    }

    /// Checks that the host has a file for every write in `writes` (the files of
    /// `limits`) in the arena, so that a sandbox's cgroup will have it too, and
    /// that a cpuset names only online CPUs.
    fn check(&self, limits: &Limits, writes: &[FileWrite]) -> Result<()> {
        let layout = self.host.layout;
        if let Some(cpus) = &limits.cpuset_cpus {
            let online = CpuList::online().map_err(|error| CgroupError::Read {
                path: cpulist::ONLINE_CPUS.into(),
                error,
            })?;
            if let Some(missing) = cpus.missing_from(&online) {
                return Err(CgroupError::CpusNotOnline {
                    requested: cpus.clone(),
                    missing,
                    online,
                });
            }
        }
        for w in writes {
            if w.file == MemoryKnob::KmemLimitInBytes.as_str() {
                continue; // refused at write time with a warning (case C05)
            }
            let dir = self
                .hierarchies
                .iter()
                .zip(&self.dirs)
                .find(|(h, _)| layout == Layout::V2 || (!h.unified && h.has(&w.controller)))
                .map(|(_, d)| d);
            let why = match dir {
                Some(d) if d.join(&w.file).exists() => continue,
                Some(d) if layout == Layout::V2 => v2::missing_file(d, &w.controller, &w.file),
                Some(d) => v1::missing_file(d, &w.file),
                None => v1::no_hierarchy(&w.controller, &self.missing),
            };
            return Err(CgroupError::Unsupported(Unsupported {
                knob: w.file.clone(),
                layout,
                why,
            }));
        }
        Ok(())
    }

    /// Creates `name` beneath this arena as an arena of its own, with `limits`
    /// on the whole of it (e.g. a memory limit standing for "the machine" that
    /// its sandboxes share), and hands the controllers down to its children.
    ///
    /// # Errors
    /// As [`Arena::sandbox`]; on v2 also a failed write to its `cgroup.subtree_control`.
    pub fn nested(&self, name: &str, limits: &Limits) -> Result<Arena> {
        let mut cg = self.create(name, limits, true, false)?;
        if self.host.layout == Layout::V2
            && let Some(parent) = self.dirs.first()
        {
            let controllers = files::read(&parent.join("cgroup.subtree_control"))?;
            let controllers: Vec<String> =
                controllers.split_whitespace().map(String::from).collect();
            v2::prepare_arena(cg.path(), &controllers)?;
        }
        let (hierarchies, dirs) = cg.parts.drain(..).unzip();
        Ok(Arena {
            host: self.host.clone(),
            hierarchies,
            dirs,
            missing: self.missing.clone(),
            delegated: false,
        })
    }

    /// Removes every sandbox left in the arena, then the arena itself.
    ///
    /// # Errors
    /// The first teardown error; the other hierarchies are still cleaned.
    pub fn remove(mut self) -> Result<()> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<()> {
        // A sandbox left frozen beneath (its Cgroup never dropped) would not die of SIGKILL on v1.
        for (h, dir) in self.hierarchies.iter().zip(&self.dirs) {
            if h.unified || h.has("freezer") {
                freezer::thaw_tree(dir);
            }
        }
        let mut first = teardown::remove_all(self.dirs.drain(..).rev()).err();
        if std::mem::take(&mut self.delegated)
            && let Err(e) = v2::release()
        {
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("warning: cleaning up the arena: {e}; run `isobench cleanup`");
        }
    }
}

/// CPU accounting of one cgroup from its directories `parts` (hierarchy, directory):
/// usage (µs) and throttling counters.
fn cpu_stat_of<'a>(
    layout: Layout,
    parts: impl Iterator<Item = (&'a Hierarchy, &'a Path)>,
) -> Result<CpuStat> {
    let mut stat = CpuStat::default();
    for (h, dir) in parts {
        match layout {
            Layout::V2 => stat = v2::read_cpu(dir)?,
            _ if h.unified => {}
            _ => v1::read_cpu(h, dir, &mut stat)?,
        }
    }
    Ok(stat)
}

/// The memory controller's directory among `parts` (hierarchy, directory),
/// relative to its hierarchy's root and starting with `/`, as the kernel names
/// cgroups in its log.
fn memory_path<'a>(
    layout: Layout,
    mut parts: impl Iterator<Item = (&'a Hierarchy, &'a Path)>,
) -> Option<String> {
    let (h, dir) = parts.find(|(h, _)| layout == Layout::V2 || h.has("memory"))?;
    let rel = dir.strip_prefix(&h.mount_point).ok()?;
    Some(format!("/{}", rel.display()))
}

/// One sandbox's cgroup, in every hierarchy. Removed by [`Cgroup::remove`] or on drop.
#[derive(Debug)]
pub struct Cgroup {
    layout: Layout,
    parts: Vec<(Hierarchy, PathBuf)>,
    warnings: Vec<String>,
    /// Made by [`Arena::freezable_sandbox`]: thawed before teardown.
    freezable: bool,
}

impl Cgroup {
    /// The cgroup's directory in its first hierarchy (the cpu one on v1), for messages.
    pub fn path(&self) -> &Path {
        self.parts.first().map_or(Path::new(""), |(_, p)| p)
    }

    /// Moves process `pid` (all its threads) into this cgroup in every hierarchy.
    ///
    /// # Errors
    /// [`CgroupError::Write`] naming the `cgroup.procs` file and the pid.
    pub fn attach(&self, pid: i32) -> Result<()> {
        self.parts
            .iter()
            .try_for_each(|(_, dir)| files::write(&dir.join("cgroup.procs"), &pid.to_string()))
    }

    /// `cgroup.procs` of every hierarchy, opened for writing (close-on-exec), for a
    /// child that moves itself in by writing `0` before it execs.
    ///
    /// # Errors
    /// [`CgroupError::Write`] naming the file that could not be opened.
    pub fn open_procs(&self) -> Result<Vec<std::fs::File>> {
        self.parts
            .iter()
            .map(|(_, dir)| {
                let path = dir.join("cgroup.procs");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|error| CgroupError::Write {
                        path,
                        value: "0".into(),
                        error,
                    })
            })
            .collect()
    }

    /// Current CPU accounting: usage (µs) and throttling counters.
    ///
    /// # Errors
    /// Read or parse errors with the path.
    pub fn cpu_stat(&self) -> Result<CpuStat> {
        cpu_stat_of(
            self.layout,
            self.parts.iter().map(|(h, d)| (h, d.as_path())),
        )
    }

    /// The host's layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The cgroup's directory on a v2 layout (the one clone3 `CLONE_INTO_CGROUP`
    /// can start a child in); `None` on v1 and hybrid.
    pub fn v2_dir(&self) -> Option<&Path> {
        (self.layout == Layout::V2).then(|| self.path())
    }

    /// The cgroup's memory directory as the kernel names it in its log
    /// (`task_memcg=`): relative to its hierarchy's root, starting with `/`.
    pub fn memory_path(&self) -> Option<String> {
        memory_path(
            self.layout,
            self.parts.iter().map(|(h, d)| (h, d.as_path())),
        )
    }

    /// What the kernel refused when the limits were written, and what the sandbox runs without.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The directory holding the memory controller's files: the v2 cgroup, or
    /// the one in the v1 memory hierarchy.
    pub fn memory_dir(&self) -> Option<&Path> {
        self.controller_dir("memory")
    }

    /// The directory holding `controller`'s files (`cpu`, `cpuset`, `pids`,
    /// v1 `blkio`, …): the v2 cgroup, or the one in the v1 hierarchy that carries
    /// the controller; `None` where this cgroup has none.
    pub fn controller_dir(&self, controller: &str) -> Option<&Path> {
        self.parts
            .iter()
            .find(|(h, _)| self.layout == Layout::V2 || (!h.unified && h.has(controller)))
            .map(|(_, dir)| dir.as_path())
    }

    /// The directory holding the per-cgroup PSI files: the v2 cgroup, or its
    /// tracking twin in the cgroup2 tree of a hybrid host; `None` on pure v1.
    pub fn psi_dir(&self) -> Option<&Path> {
        self.parts
            .iter()
            .find(|(h, _)| h.unified)
            .map(|(_, dir)| dir.as_path())
    }

    /// Current memory use, its breakdown and the limit event counters.
    ///
    /// # Errors
    /// Read or parse errors with the path; [`CgroupError::Layout`] when no
    /// hierarchy has the memory controller.
    pub fn memory(&self) -> Result<(MemoryUsage, MemoryStat, MemoryEvents)> {
        let dir = self.memory_dir().ok_or_else(|| {
            CgroupError::Layout(format!(
                "no memory controller for {}",
                self.path().display()
            ))
        })?;
        match self.layout {
            Layout::V2 => memory::read_v2(dir),
            _ => memory::read_v1(dir),
        }
    }

    /// The memory limit counters of this cgroup alone (v2 `memory.events.local`,
    /// Linux ≥ 5.2: events of its own limits, not its descendants'); `Ok(None)` on
    /// v1 and hybrid, which have no such file, or a kernel without it.
    ///
    /// # Errors
    /// Read or parse errors with the path.
    pub fn memory_events_local(&self) -> Result<Option<MemoryEvents>> {
        match (self.layout, self.memory_dir()) {
            (Layout::V2, Some(dir)) => memory::read_events_local(dir),
            _ => Ok(None),
        }
    }

    /// The pids controller's directory of this cgroup and of each ancestor up
    /// to the run's arena (every cgroup beneath the harness's own), sandbox first,
    /// each with the kernel's name for it; and how the kernel counts refused
    /// forks there. `None` where no hierarchy carries the pids controller.
    pub fn pids_ancestry(&self) -> Option<(Vec<(PathBuf, String)>, pids::EventCounting)> {
        let (h, dir) = self
            .parts
            .iter()
            .find(|(h, _)| self.layout == Layout::V2 || (!h.unified && h.has("pids")))?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let counting = pids::EventCounting::of(
            self.layout,
            dir.join("pids.events.local").exists(),
            pids::mount_line(&mountinfo, &h.mount_point),
        );
        Some((pids::ancestry(dir, &h.mount_point, &h.own_dir), counting))
    }

    /// The CPU budget of this cgroup: the tightest quota over it and its
    /// ancestors up to the cpu hierarchy's root, capped by its effective cpuset
    /// and the CPUs online ([`cpu_budget`], case C14). Reads only.
    ///
    /// # Errors
    /// No hierarchy with the cpu controller; a quota or cpuset file that cannot
    /// be read or parsed, naming it; /sys/devices/system/cpu/online unreadable.
    pub fn cpu_budget(&self) -> Result<CpuBudget> {
        let (h, dir) = self
            .parts
            .iter()
            .find(|(h, _)| self.layout == Layout::V2 || (!h.unified && h.has("cpu")))
            .ok_or_else(|| {
                CgroupError::Layout(format!("no cpu controller for {}", self.path().display()))
            })?;
        let online = CpuList::online().map_err(|error| CgroupError::Read {
            path: cpulist::ONLINE_CPUS.into(),
            error,
        })?;
        cpu_budget::derive(
            self.layout,
            dir,
            &h.mount_point,
            self.controller_dir("cpuset"),
            online.len(),
        )
    }

    /// Pids in the cgroup (from its first hierarchy).
    ///
    /// # Errors
    /// Read or parse errors with the path.
    pub fn procs(&self) -> Result<Vec<i32>> {
        files::procs(self.path())
    }

    /// Kills what is left inside and removes the cgroup from every hierarchy.
    ///
    /// # Errors
    /// The first teardown error; the other hierarchies are still cleaned.
    pub fn remove(mut self) -> Result<()> {
        self.teardown()
    }

    /// The freezer of a cgroup made by [`Arena::freezable_sandbox`]: v2
    /// `cgroup.freeze`, else `freezer.state` in the v1 freezer hierarchy;
    /// `None` for another cgroup, or where the host has no freezer hierarchy
    /// (or the arena could not be created in it).
    pub fn freezer(&self) -> Option<Freezer> {
        if !self.freezable {
            return None;
        }
        self.parts.iter().find_map(|(h, dir)| match self.layout {
            Layout::V2 => Some(Freezer::v2(dir)),
            _ if h.has("freezer") => Some(Freezer::v1(dir)),
            _ => None,
        })
    }

    fn teardown(&mut self) -> Result<()> {
        if self.freezable {
            // A v1 task that is frozen does not die of SIGKILL until thawed.
            for (_, dir) in &self.parts {
                freezer::thaw_tree(dir);
            }
        }
        teardown::remove_all(self.parts.drain(..).rev().map(|(_, dir)| dir))
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("warning: cleaning up a sandbox cgroup: {e}; run `isobench cleanup`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arena over fake hierarchies in a tempdir: `(controllers, unified, files in the arena dir)`.
    fn fake_arena(
        layout: Layout,
        parts: &[(&[&str], bool, &[&str])],
    ) -> (tempfile::TempDir, Arena) {
        let t = tempfile::tempdir().unwrap();
        let mut hierarchies = Vec::new();
        let mut dirs = Vec::new();
        for (i, (controllers, unified, files)) in parts.iter().enumerate() {
            let own = t.path().join(format!("h{i}"));
            let dir = own.join("isobench-test");
            std::fs::create_dir_all(&dir).unwrap();
            for f in *files {
                std::fs::write(dir.join(f), "").unwrap();
            }
            let h = Hierarchy {
                controllers: controllers.iter().map(|c| c.to_string()).collect(),
                unified: *unified,
                mount_point: own.clone(),
                own_dir: own,
            };
            hierarchies.push(h);
            dirs.push(dir);
        }
        let arena = Arena {
            host: CgroupHost {
                layout,
                hierarchies: hierarchies.clone(),
            },
            hierarchies,
            dirs,
            missing: Vec::new(),
            delegated: false,
        };
        (t, arena)
    }

    /// Checks `limits` against the fake arena, then lets the arena go without tearing down the tempdir's files.
    fn check(mut arena: Arena, limits: &Limits) -> Result<()> {
        let r = arena.check(limits, &limits.files(arena.host.layout));
        arena.dirs.clear();
        r
    }

    fn blkio_files() -> Vec<String> {
        std::fs::read_to_string("tests/fixtures/hybrid-6.18/cgroup/v1_blkio.files")
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn io_weight() -> Limits {
        Limits {
            io_weight: Some(IoWeight::Weight(100)),
            ..Limits::default()
        }
    }

    #[test]
    fn hybrid_io_weight_without_cfq_is_refused_naming_blkio_weight() {
        let files = blkio_files();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let parts: &[(&[&str], bool, &[&str])] = &[
            (&["cpu"], false, &["cpu.shares"]),
            (&["blkio"], false, &files),
        ];
        let (_t, arena) = fake_arena(Layout::Hybrid, parts);
        let err = check(arena, &io_weight()).unwrap_err().to_string();
        assert!(
            err.starts_with("blkio.weight is not supported on hybrid (no blkio.weight in ")
                && err.contains("CFQ"),
            "{err}"
        );
        let (_t, arena) = fake_arena(Layout::Hybrid, parts);
        let throttle = Limits {
            io_max: vec![IoMax {
                rbps: Some(Limit::Value(1 << 20)),
                ..IoMax::device(DeviceNumber {
                    major: 254,
                    minor: 0,
                })
            }],
            cpu_weight: Some(CpuWeight::Weight(50)),
            ..Limits::default()
        };
        check(arena, &throttle).unwrap();
    }

    #[test]
    fn v2_io_limits_without_the_io_controller_say_it_is_not_enabled() {
        let parts: &[(&[&str], bool, &[&str])] = &[(&[], true, &["cpu.weight"])];
        let (_t, arena) = fake_arena(Layout::V2, parts);
        std::fs::write(
            arena.dirs[0].join("cgroup.controllers"),
            "cpuset cpu memory pids\n",
        )
        .unwrap();
        let err = check(arena, &io_weight()).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "io.weight is not supported on v2 (the io controller is not enabled for "
            ),
            "{err}"
        );
    }

    #[test]
    fn a_controller_no_hierarchy_carries_is_named() {
        let parts: &[(&[&str], bool, &[&str])] = &[(&["cpu"], false, &[])];
        let (_t, arena) = fake_arena(Layout::V1, parts);
        let pids = Limits {
            pids_max: Some(Limit::Value(10)),
            ..Limits::default()
        };
        let err = check(arena, &pids).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "pids.max is not supported on v1 (no v1 hierarchy carries the pids controller"
            ),
            "{err}"
        );
        let (_t, mut arena) = fake_arena(Layout::V1, parts);
        arena
            .missing
            .push(("blkio".into(), "creating x: Permission denied".into()));
        let err = check(arena, &io_weight()).unwrap_err().to_string();
        assert!(
            err.contains("the arena could not be created in the blkio hierarchy: creating x: Permission denied"),
            "{err}"
        );
    }

    #[test]
    fn a_cpuset_beyond_the_online_cpus_is_refused_before_anything_is_created() {
        let parts: &[(&[&str], bool, &[&str])] = &[(&["cpuset"], false, &["cpuset.cpus"])];
        let (_t, arena) = fake_arena(Layout::Hybrid, parts);
        let limits = Limits {
            cpuset_cpus: Some("8000".parse().unwrap()),
            ..Limits::default()
        };
        let err = check(arena, &limits).unwrap_err().to_string();
        assert!(
            err.starts_with("cpuset.cpus 8000 names CPUs 8000 that this host does not have online"),
            "{err}"
        );
    }

    #[test]
    fn knobs_of_a_kernel_older_than_them_are_named_with_the_version() {
        let (_t, arena) = fake_arena(Layout::Hybrid, &[(&["cpu"], false, &[])]);
        let own = &arena.host.hierarchies[0].own_dir;
        std::fs::write(own.join("cpu.shares"), "1024\n").unwrap();
        std::fs::write(own.join("cpu.cfs_burst_us"), "0\n").unwrap();
        let missing: Vec<String> = arena
            .host
            .missing_knobs()
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(
            missing[0].starts_with("cpu.idle is not supported on hybrid (no cpu.idle in ")
                && missing[0].contains("Linux 5.15"),
            "{missing:?}"
        );
        std::fs::write(own.join("cpu.idle"), "0\n").unwrap();
        assert!(arena.host.missing_knobs().is_empty());
        let (_t, root) = fake_arena(Layout::V2, &[(&[], true, &[])]);
        assert!(
            root.host.missing_knobs().is_empty(),
            "a cgroup without the controller's files tells nothing"
        );
        let mut arena = arena;
        arena.dirs.clear();
        let mut root = root;
        root.dirs.clear();
    }

    #[test]
    fn c05_kmem_is_left_to_the_write_and_its_warning() {
        let parts: &[(&[&str], bool, &[&str])] = &[(&["memory"], false, &[])];
        let (_t, arena) = fake_arena(Layout::V1, parts);
        let kmem = Limits {
            memory: vec![MemorySetting {
                knob: MemoryKnob::KmemLimitInBytes,
                bytes: Some(1 << 20),
            }],
            ..Limits::default()
        };
        check(arena, &kmem).unwrap();
    }
}
