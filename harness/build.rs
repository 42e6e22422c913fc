//! Builds the static startup probe (`static-probe/probe.rs`) with the same
//! rustc for the same target, as a freestanding executable: `panic=abort`,
//! no libc, no start files, linked `-static` (no PT_INTERP, no PT_DYNAMIC).
//! `harness/src/startup/probe.rs` embeds it.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "static-probe/probe.rs";
    println!("cargo:rerun-if-changed={source}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").expect("cargo sets RUSTC");
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    if arch != "x86_64" && arch != "aarch64" {
        panic!(
            "isobench's static startup probe ({source}) has entry code for x86_64 and aarch64; the target {target} is {arch}"
        );
    }
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--crate-name",
            "isobench_probe",
        ])
        .args(["--target", &target])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=2",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "relocation-model=static"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
        .args(["-C", "link-arg=-static"])
        .arg("-o")
        .arg(out.join("isobench-probe"))
        .arg(source)
        .status()
        .expect("running rustc for the static startup probe");
    assert!(
        status.success(),
        "rustc failed to build the static startup probe {source}"
    );
}
