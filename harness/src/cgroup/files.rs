//! Reading and writing cgroup control files, with the path in every error.

use super::error::{CgroupError, Result};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Reads a whole control file.
///
/// # Errors
/// [`CgroupError::Read`] with the path.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.into(),
        error: source,
    })
}

/// Reads a control file that holds one unsigned integer (e.g. `cpuacct.usage`).
///
/// # Errors
/// [`CgroupError::Read`], or [`CgroupError::Parse`] when it is not one integer.
pub fn read_u64(path: &Path) -> Result<u64> {
    let text = read(path)?;
    text.trim().parse().map_err(|_| CgroupError::Parse {
        path: path.into(),
        line: text.trim().to_string(),
        expected: "one unsigned integer",
    })
}

/// Writes `value` to a control file in a single `write(2)`, as the kernel expects.
///
/// # Errors
/// [`CgroupError::Write`] with the path and the value.
pub fn write(path: &Path, value: &str) -> Result<()> {
    let wrap = |source| CgroupError::Write {
        path: path.into(),
        value: value.into(),
        error: source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(wrap)?;
    f.write_all(value.as_bytes()).map_err(wrap)
}

/// Pids listed in a cgroup directory's `cgroup.procs`.
///
/// # Errors
/// [`CgroupError::Read`] or [`CgroupError::Parse`] with the path.
pub fn procs(dir: &Path) -> Result<Vec<i32>> {
    let path = dir.join("cgroup.procs");
    read(&path)?
        .lines()
        .map(|l| {
            l.trim().parse().map_err(|_| CgroupError::Parse {
                path: path.clone(),
                line: l.to_string(),
                expected: "one pid per line",
            })
        })
        .collect()
}

/// A control file held open and re-read from offset 0 with `pread(2)`, for
/// sampling without an open and close per sample (kernfs regenerates the
/// content on every read from offset 0).
#[derive(Debug)]
pub struct KeptOpen {
    path: PathBuf,
    file: std::fs::File,
    buf: Vec<u8>,
}

impl KeptOpen {
    /// Opens `path` for reading.
    ///
    /// # Errors
    /// The open's error (the caller knows which file it concerns: [`KeptOpen::path`]).
    pub fn open(path: &Path) -> std::io::Result<KeptOpen> {
        Ok(KeptOpen {
            path: path.into(),
            file: std::fs::File::open(path)?,
            buf: vec![0; 8192],
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's whole current content.
    ///
    /// # Errors
    /// The read's error; `InvalidData` when it is not UTF-8.
    pub fn read(&mut self) -> std::io::Result<&str> {
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
            let n = self.file.read_at(&mut self.buf[len..], len as u64)?;
            if n == 0 {
                break;
            }
            len += n;
        }
        std::str::from_utf8(&self.buf[..len])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// Creates a cgroup directory.
///
/// # Errors
/// [`CgroupError::Dir`] with the path.
pub fn mkdir(path: &Path) -> Result<()> {
    std::fs::create_dir(path).map_err(|source| CgroupError::Dir {
        action: "creating",
        path: path.into(),
        error: source,
    })
}
