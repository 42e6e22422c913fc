//! How busy the whole host is: CPU time spent outside idle, from the aggregate
//! `cpu` line of /proc/stat (proc(5): user, nice, system, idle, iowait, irq,
//! softirq, steal, guest, guest_nice, in USER_HZ ticks). Used to tell when other
//! load on the host disturbed a measurement.

use std::path::Path;

/// Busy CPU time of the host since boot, seconds: user + nice + system + irq +
/// softirq + steal (guest time is already inside user and nice).
///
/// # Errors
/// The path and the reason when /proc/stat cannot be read or parsed.
pub fn busy_cpu_s() -> Result<f64, String> {
    let path = Path::new("/proc/stat");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    parse_busy_ticks(&text)
        .map(|t| t as f64 / ticks)
        .ok_or_else(|| format!("{}: no aggregate `cpu` line", path.display()))
}

/// Busy ticks from the text of /proc/stat, or `None` if its first `cpu ` line is malformed.
pub fn parse_busy_ticks(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    (f.len() >= 4).then(|| at(0) + at(1) + at(2) + at(5) + at(6) + at(7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_leaves_out_idle_and_iowait() {
        let text = "cpu  100 5 50 9000 40 3 2 7 0 0\ncpu0 50 2 25 4500 20 1 1 3 0 0\n";
        assert_eq!(parse_busy_ticks(text), Some(100 + 5 + 50 + 3 + 2 + 7));
    }

    #[test]
    fn malformed_stat_is_refused() {
        assert_eq!(parse_busy_ticks("cpu  a b c d\n"), None);
        assert_eq!(parse_busy_ticks("intr 1 2\n"), None);
    }

    #[test]
    fn this_host_reports_busy_time() {
        assert!(busy_cpu_s().unwrap() > 0.0);
    }
}
