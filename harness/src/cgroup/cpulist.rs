//! CPU lists in the kernel's list format (`0-3,6`), as `cpuset.cpus` and
//! /sys/devices/system/cpu/online use it (Documentation/admin-guide/cgroup-v2.rst
//! "Cpuset Interface Files"; Documentation/ABI/testing/sysfs-devices-system-cpu).

use std::collections::BTreeSet;
use std::path::Path;

/// Where the kernel lists the CPUs that are online.
pub const ONLINE_CPUS: &str = "/sys/devices/system/cpu/online";

/// Highest CPU number accepted in a list (the kernel's `NR_CPUS` upper bound).
const MAX_CPU: u32 = 8191;

/// A non-empty set of CPU numbers, e.g. `0-3,6`.
///
/// Parsed from and written as the kernel's list format; serialised as that string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CpuList(BTreeSet<u32>);

impl CpuList {
    /// The CPUs the host has online, from [`ONLINE_CPUS`].
    ///
    /// # Errors
    /// The read error, or a parse error naming the file.
    pub fn online() -> std::io::Result<CpuList> {
        CpuList::read(Path::new(ONLINE_CPUS))
    }

    /// Reads a CPU list from a file such as [`ONLINE_CPUS`] or `cpuset.cpus.effective`.
    ///
    /// # Errors
    /// The read error, or `InvalidData` naming the file and what is wrong.
    pub fn read(path: &Path) -> std::io::Result<CpuList> {
        let text = std::fs::read_to_string(path)?;
        text.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// The CPUs of `self` that `host` lacks, or `None` when `host` has them all.
    pub fn missing_from(&self, host: &CpuList) -> Option<CpuList> {
        let missing: BTreeSet<u32> = self.0.difference(&host.0).copied().collect();
        (!missing.is_empty()).then_some(CpuList(missing))
    }

    /// The CPU numbers, ascending.
    pub fn cpus(&self) -> &BTreeSet<u32> {
        &self.0
    }

    /// How many CPUs the list holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `CpuList` holds at least one CPU.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::str::FromStr for CpuList {
    type Err = String;

    /// Parses `0-3,6` (ranges and single CPUs, comma-separated, surrounding
    /// whitespace ignored).
    fn from_str(s: &str) -> Result<CpuList, String> {
        const EXPECTED: &str = "expected CPU numbers and ranges such as 0-3,6";
        let s = s.trim();
        if s.is_empty() {
            return Err(format!(
                "an empty CPU list would leave the sandbox no CPU to run on: {EXPECTED}"
            ));
        }
        let num = |t: &str| -> Result<u32, String> {
            match t.trim().parse::<u32>() {
                Ok(n) if n <= MAX_CPU => Ok(n),
                Ok(n) => Err(format!("CPU {n} is above the kernel's limit of {MAX_CPU}")),
                Err(_) => Err(format!("{t:?} is not a CPU number: {EXPECTED}")),
            }
        };
        let mut cpus = BTreeSet::new();
        for part in s.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(format!("range {a}-{b} runs backwards: {EXPECTED}"));
                    }
                    cpus.extend(a..=b);
                }
                None => {
                    cpus.insert(num(part)?);
                }
            }
        }
        Ok(CpuList(cpus))
    }
}

impl std::fmt::Display for CpuList {
    /// The kernel's list format, ranges merged: `{0,1,2,3,6}` → `0-3,6`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        let mut it = self.0.iter().copied().peekable();
        while let Some(start) = it.next() {
            let mut end = start;
            while it.peek() == Some(&(end + 1)) {
                end = it.next().expect("peeked");
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for CpuList {
    type Error = String;
    fn try_from(s: String) -> Result<CpuList, String> {
        s.parse()
    }
}

impl From<CpuList> for String {
    fn from(c: CpuList) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> CpuList {
        s.parse().unwrap()
    }

    #[test]
    fn lists_parse_and_format_as_the_kernel_writes_them() {
        assert_eq!(list("0-3,6").to_string(), "0-3,6");
        assert_eq!(list(" 6,0,1,2,3\n").to_string(), "0-3,6");
        assert_eq!(list("5").to_string(), "5");
        assert_eq!(list("0-1,2-3").to_string(), "0-3");
        assert_eq!(list("0-3,6").len(), 5);
    }

    #[test]
    fn malformed_lists_say_what_is_expected() {
        for (bad, says) in [
            ("", "empty CPU list"),
            ("3-1", "runs backwards"),
            ("a", "\"a\" is not a CPU number"),
            ("0-", "\"\" is not a CPU number"),
            ("9000", "above the kernel's limit"),
        ] {
            let err = bad.parse::<CpuList>().unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn cpus_the_host_lacks_are_named() {
        let online = list("0-1");
        assert_eq!(list("0").missing_from(&online), None);
        assert_eq!(list("0-3,6").missing_from(&online), Some(list("2-3,6")));
    }

    #[test]
    fn online_list_of_the_development_host_parses() {
        let l = CpuList::read(Path::new("tests/fixtures/hybrid-6.18/sys/cpu_online")).unwrap();
        assert_eq!(l.to_string(), "0-1");
    }

    #[test]
    fn serialises_as_the_list_string() {
        let l = list("0-3,6");
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"0-3,6\"");
        assert_eq!(serde_json::from_str::<CpuList>("\"0-3,6\"").unwrap(), l);
        assert!(serde_json::from_str::<CpuList>("\"\"").is_err());
    }
}
