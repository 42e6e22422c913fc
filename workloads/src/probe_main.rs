//! `isobench-probe`: the startup probe of scenario `startup-latency`.
//!
//! The first thing its `main` does, before any allocation, is read
//! CLOCK_MONOTONIC and write it to stdout as 16 bytes (seconds, then
//! nanoseconds, each a native-endian i64): the harness compares it with the
//! stamp it took when it asked for the sandbox. With `--inspect` it then prints
//! its pid as its pid namespace numbers it and its /proc/self/cgroup, so a test
//! can check that it really ran inside its namespaces and cgroup.
#![deny(unsafe_code)]

fn main() {
    let stamp = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map_or([-1i64, -1], |t| [t.tv_sec(), t.tv_nsec()]);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&stamp[0].to_ne_bytes());
    bytes[8..].copy_from_slice(&stamp[1].to_ne_bytes());
    let stdout = std::io::stdout();
    if nix::unistd::write(&stdout, &bytes) != Ok(16) {
        std::process::exit(1);
    }
    if std::env::args_os().nth(1).is_some_and(|a| a == "--inspect") {
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        println!("pid {}", std::process::id());
        print!("{cgroup}");
    }
}
