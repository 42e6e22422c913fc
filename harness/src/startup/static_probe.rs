//! The startup probe, embedded: a static executable of a few KiB built from
//! `harness/static-probe/probe.rs` by the build script (no dynamic loader, no
//! libc, no runtime set-up before its CLOCK_MONOTONIC stamp), put at start-up
//! into a sealed memfd(2) and executed through `/proc/self/fd/N`, so it needs
//! no file on disk and works where /tmp is `noexec`.

use anyhow::{Context, Result};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// The probe's ELF image (x86_64 or aarch64, statically linked, stripped).
pub static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/isobench-probe"));

/// The probe in an anonymous file: keep it alive as long as its path is used.
pub struct Materialized {
    fd: OwnedFd,
}

impl Materialized {
    /// Writes [`IMAGE`] into a close-on-exec memfd and seals it against change.
    ///
    /// # Errors
    /// memfd_create(2), write(2) or the seals failing (a kernel before 3.17,
    /// or `vm.memfd_noexec = 2`, which forbids executable memfds), with the errno.
    pub fn new() -> Result<Materialized> {
        use nix::fcntl::{FcntlArg, SealFlag, fcntl};
        use nix::sys::memfd::{MFdFlags, memfd_create};
        let fd = memfd_create(
            c"isobench-probe",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )
        .context("memfd_create for the startup probe")?;
        let mut file = std::fs::File::from(fd);
        file.write_all(IMAGE)
            .context("writing the startup probe into its memfd")?;
        let fd = OwnedFd::from(file);
        let seals = SealFlag::F_SEAL_WRITE
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_SEAL;
        fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).context("sealing the startup probe's memfd")?;
        Ok(Materialized { fd })
    }

    /// The path execve(2) takes: `/proc/self/fd/N`. Close-on-exec does not
    /// stop the exec of an ELF file through it (fexecve(3)).
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program header types of a 64-bit little-endian ELF image.
    fn segment_types(elf: &[u8]) -> Vec<u32> {
        assert_eq!(&elf[..4], b"\x7fELF", "not an ELF image");
        assert_eq!(elf[4], 2, "not a 64-bit ELF");
        let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
        let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
        let (size, count) = (u16_at(0x36), u16_at(0x38));
        (0..count)
            .map(|i| {
                let at = phoff + i * size;
                u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
            })
            .collect()
    }

    #[test]
    fn the_probe_is_static_with_no_interpreter_and_no_dynamic_section() {
        const PT_LOAD: u32 = 1;
        const PT_DYNAMIC: u32 = 2;
        const PT_INTERP: u32 = 3;
        let types = segment_types(IMAGE);
        assert!(types.contains(&PT_LOAD), "{types:?}");
        assert!(
            !types.contains(&PT_INTERP),
            "the probe asks for a dynamic loader: {types:?}"
        );
        assert!(
            !types.contains(&PT_DYNAMIC),
            "the probe has a dynamic section: {types:?}"
        );
        // ET_EXEC (2): linked at a fixed address, nothing to relocate at start.
        assert_eq!(u16::from_le_bytes([IMAGE[16], IMAGE[17]]), 2);
        assert!(IMAGE.len() < 64 * 1024, "{} bytes", IMAGE.len());
    }

    #[test]
    fn the_materialized_probe_runs_stamps_the_clock_and_inspects() {
        let probe = Materialized::new().unwrap();
        let before = crate::sandbox::monotonic_ns();
        let out = std::process::Command::new(probe.path()).output().unwrap();
        let after = crate::sandbox::monotonic_ns();
        assert!(out.status.success(), "{:?}", out.status);
        assert_eq!(out.stdout.len(), 16, "{:?}", out.stdout);
        let sec = i64::from_ne_bytes(out.stdout[..8].try_into().unwrap()) as u64;
        let nsec = i64::from_ne_bytes(out.stdout[8..].try_into().unwrap()) as u64;
        let stamp = sec * 1_000_000_000 + nsec;
        assert!(
            (before..=after).contains(&stamp),
            "{before} ≤ {stamp} ≤ {after}"
        );

        let inspect = std::process::Command::new(probe.path())
            .arg("--inspect")
            .output()
            .unwrap();
        assert!(inspect.status.success(), "{:?}", inspect.status);
        let text = String::from_utf8_lossy(&inspect.stdout[16..]);
        let (first, rest) = text.split_once('\n').unwrap();
        let pid: u32 = first.strip_prefix("pid ").unwrap().parse().unwrap();
        assert!(pid > 1, "{first}");
        // A child of this test sits in the test's cgroups.
        assert_eq!(rest, std::fs::read_to_string("/proc/self/cgroup").unwrap());
    }
}
