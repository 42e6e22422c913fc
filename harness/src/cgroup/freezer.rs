//! Freezing and thawing a sandbox's cgroup, for neighbours that come and go
//! (issue 17, [`crate::scenario::phases`]).
//!
//! - v2: `cgroup.freeze`, 1 to freeze and 0 to thaw; a cgroup is frozen when
//!   it or an ancestor asks for it, and a frozen task still dies of SIGKILL
//!   (Documentation/admin-guide/cgroup-v2.rst, "Core Interface Files").
//! - v1 and hybrid: the freezer controller's `freezer.state`, FROZEN or
//!   THAWED, in its own hierarchy (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst).
//!   A frozen task does not die of SIGKILL until it is thawed, so every
//!   teardown thaws first ([`thaw_tree`]), and `isobench cleanup` does too.
//!   Each cgroup's own FROZEN stays (`freezer.self_freezing`) when its parent
//!   is thawed, so a tree is thawed cgroup by cgroup.

use super::error::Result;
use super::files;
use isobench_reports::schema_phases::PhaseMechanism;
use std::path::{Path, PathBuf};

/// The v2 file.
pub const CGROUP_FREEZE: &str = "cgroup.freeze";
/// The v1 file.
pub const FREEZER_STATE: &str = "freezer.state";

/// The freezer of one sandbox cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freezer {
    file: PathBuf,
    mechanism: PhaseMechanism,
}

impl Freezer {
    /// The v2 freezer of cgroup directory `dir`: its `cgroup.freeze`.
    pub fn v2(dir: &Path) -> Freezer {
        Freezer {
            file: dir.join(CGROUP_FREEZE),
            mechanism: PhaseMechanism::CgroupFreeze,
        }
    }

    /// The v1 freezer of cgroup directory `dir` (in the freezer hierarchy): its `freezer.state`.
    pub fn v1(dir: &Path) -> Freezer {
        Freezer {
            file: dir.join(FREEZER_STATE),
            mechanism: PhaseMechanism::FreezerState,
        }
    }

    /// Which kernel interface it writes.
    pub fn mechanism(&self) -> PhaseMechanism {
        self.mechanism
    }

    /// The file it writes.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Stops every task of the cgroup (and beneath it).
    ///
    /// # Errors
    /// The write's error, naming the file and the value.
    pub fn freeze(&self) -> Result<()> {
        files::write(&self.file, self.value(true))
    }

    /// Lets the cgroup's tasks run again.
    ///
    /// # Errors
    /// The write's error, naming the file and the value.
    pub fn thaw(&self) -> Result<()> {
        files::write(&self.file, self.value(false))
    }

    /// Whether the cgroup itself asks to be frozen (v2 `cgroup.freeze` 1; v1
    /// `freezer.state` FROZEN or FREEZING).
    ///
    /// # Errors
    /// The read's error with the path.
    pub fn is_frozen(&self) -> Result<bool> {
        Ok(frozen_text(&files::read(&self.file)?))
    }

    fn value(&self, frozen: bool) -> &'static str {
        match (self.mechanism, frozen) {
            (PhaseMechanism::FreezerState, true) => "FROZEN",
            (PhaseMechanism::FreezerState, false) => "THAWED",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

/// True for the text of a `cgroup.freeze` or `freezer.state` that asks for freezing.
fn frozen_text(text: &str) -> bool {
    matches!(text.trim(), "1" | "FROZEN" | "FREEZING")
}

/// Thaws `dir` and every cgroup beneath it that is frozen (by either file),
/// and returns those it thawed. Directories without a freezer file (other
/// hierarchies, a v2 root) are passed over; errors are skipped, since the
/// teardown that follows names any cgroup that stays busy.
pub fn thaw_tree(dir: &Path) -> Vec<PathBuf> {
    let mut thawed = Vec::new();
    for f in [Freezer::v2(dir), Freezer::v1(dir)] {
        if f.file.exists() && f.is_frozen().unwrap_or(false) && f.thaw().is_ok() {
            thawed.push(dir.to_path_buf());
        }
    }
    if let Ok(children) = std::fs::read_dir(dir) {
        for entry in children.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                thawed.extend(thaw_tree(&entry.path()));
            }
        }
    }
    thawed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_tree_is_thawed_cgroup_by_cgroup_and_named() {
        let t = tempfile::tempdir().unwrap();
        let child = t.path().join("a");
        std::fs::create_dir(&child).unwrap();
        std::fs::write(t.path().join(FREEZER_STATE), "THAWED\n").unwrap();
        std::fs::write(child.join(FREEZER_STATE), "FROZEN\n").unwrap();
        assert_eq!(thaw_tree(t.path()), vec![child.clone()]);
        assert_eq!(
            std::fs::read_to_string(child.join(FREEZER_STATE)).unwrap(),
            "THAWED"
        );
    }

    #[test]
    fn v2_freeze_writes_one_and_thaw_zero() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(CGROUP_FREEZE), "0\n").unwrap();
        let f = Freezer::v2(t.path());
        f.freeze().unwrap();
        assert!(f.is_frozen().unwrap());
        assert_eq!(thaw_tree(t.path()), vec![t.path().to_path_buf()]);
        assert!(!f.is_frozen().unwrap());
    }
}
