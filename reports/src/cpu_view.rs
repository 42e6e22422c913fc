//! The `cpu-view` check of scenario `visibility` as people read it (cases C14,
//! C15): a table of the CPU count each runtime picks against the budget, and
//! a table of the host figures a sandbox sees ("host information visible,
//! expected without lxcfs": informational, never a failure).

use crate::escape::html as esc;
use crate::schema::{CpuView, Reading};

/// The header line under which every output lists the host figures.
pub const HOST_FIGURES: &str = "host information visible (expected without lxcfs)";

fn reading<T: std::fmt::Display>(r: &Reading<T>) -> String {
    match r {
        Reading::Value(v) => v.to_string(),
        Reading::Unavailable(why) => format!("unavailable: {why}"),
    }
}

/// A host figure's value; byte counts also in MiB or GiB.
fn figure(name: &str, r: &Reading<String>) -> String {
    match r {
        Reading::Value(v) if name.ends_with("bytes") => match v.parse::<f64>() {
            Ok(b) if b >= (1u64 << 30) as f64 => format!("{:.1} GiB", b / (1u64 << 30) as f64),
            Ok(b) => format!("{:.0} MiB", b / (1u64 << 20) as f64),
            Err(_) => v.clone(),
        },
        other => reading(other),
    }
}

fn budget(view: &CpuView) -> String {
    match &view.budget_cpus {
        Reading::Value(b) => format!("{b:.2} CPUs"),
        Reading::Unavailable(why) => format!("unavailable: {why}"),
    }
}

/// The verdict line's clause: `cpu-view: java, node see more CPUs than the
/// budget 1.00 (findings, not breaches)`, or that every runtime kept within it.
pub fn clause(view: &CpuView) -> String {
    let over: Vec<&str> = view
        .runtimes
        .iter()
        .filter(|r| r.over_budget)
        .map(|r| r.runtime.as_str())
        .collect();
    match (&view.budget_cpus, over.is_empty()) {
        (Reading::Unavailable(why), _) => format!("cpu-view: budget unavailable ({why})"),
        (Reading::Value(b), true) => {
            format!("cpu-view: every runtime measured counts at most ⌈budget {b:.2}⌉ CPUs")
        }
        (Reading::Value(b), false) => format!(
            "cpu-view: {} {} more CPUs than the budget {b:.2} ({})",
            over.join(", "),
            if over.len() == 1 { "sees" } else { "see" },
            if over.len() == 1 {
                "a finding, not a breach"
            } else {
                "findings, not breaches"
            }
        ),
    }
}

/// Plain-text lines for the terminal table and summary.md: the sandbox, the
/// budget, one line per runtime (flagged "runtime sees N CPUs, budget B" where
/// it counts more than ⌈budget⌉), then the host figures.
pub fn lines(view: &CpuView) -> Vec<String> {
    let mut out = vec![
        format!("cpu-view sandbox: {}", view.sandbox),
        format!("budget {} ({})", budget(view), view.budget_bound_by),
    ];
    for r in &view.runtimes {
        let flag = match (&r.cpus, &view.budget_cpus) {
            (Reading::Value(n), Reading::Value(b)) if r.over_budget => {
                format!(" — FINDING: {} sees {n} CPUs, budget {b:.2}", r.runtime)
            }
            _ => String::new(),
        };
        out.push(format!(
            "  {:<9} {} ({}){flag}",
            r.runtime,
            reading(&r.cpus),
            r.asked
        ));
    }
    out.push(format!("{HOST_FIGURES}:"));
    for f in &view.host_visible {
        out.push(format!(
            "  {}: {} inside, {} on the host{}",
            f.name,
            figure(&f.name, &f.inside),
            figure(&f.name, &f.host),
            if f.host_value_shown {
                " (the host's)"
            } else {
                ""
            }
        ));
    }
    out
}

/// The two tables of the HTML report.
pub(crate) fn html(view: &CpuView) -> String {
    let runtimes: String = view
        .runtimes
        .iter()
        .map(|r| {
            let (class, verdict) = match (&r.cpus, &view.budget_cpus) {
                (Reading::Value(n), Reading::Value(b)) if r.over_budget => (
                    "fail",
                    format!("finding: {} sees {n} CPUs, budget {b:.2}", r.runtime),
                ),
                (Reading::Value(_), _) => ("pass", "within ⌈budget⌉".to_string()),
                (Reading::Unavailable(_), _) => ("", "not measured".to_string()),
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"{class}\">{}</td></tr>\n",
                esc(&r.runtime),
                esc(&r.asked),
                esc(&reading(&r.cpus)),
                esc(&verdict)
            )
        })
        .collect();
    let hosts: String = view
        .host_visible
        .iter()
        .map(|f| {
            format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                esc(&f.name),
                esc(&figure(&f.name, &f.inside)),
                esc(&figure(&f.name, &f.host)),
                if f.host_value_shown {
                    "the host's (informational)"
                } else {
                    "differs from the host's"
                }
            )
        })
        .collect();
    format!(
        "<h3>cpu-view: what a workload believes it has</h3>\n<p>Sandbox: {}. Budget: <strong>{}</strong>, \
         {}; read from {}.</p>\n<table class=\"checks\">\n<caption>The CPU count each runtime sizes its \
         thread pools by. A count above ⌈budget⌉ is a finding (the runtime plans for CPUs it cannot get), \
         not an isolation breach.</caption>\n<thead><tr><th>runtime</th><th>asked</th><th class=\"num\">\
         CPUs</th><th>against the budget</th></tr></thead>\n<tbody>\n{runtimes}</tbody>\n</table>\n\
         <table class=\"checks\">\n<caption>{}: what /proc, sysfs and sysinfo(2) show inside the sandbox; \
         never a failure and never the source of the budget.</caption>\n<thead><tr><th>figure</th>\
         <th class=\"num\">inside</th><th class=\"num\">host</th><th></th></tr></thead>\n<tbody>\n{hosts}\
         </tbody>\n</table>\n",
        esc(&view.sandbox),
        esc(&budget(view)),
        esc(&view.budget_bound_by),
        esc(&view.budget_read.join("; ")),
        esc(HOST_FIGURES)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{HostFigure, RuntimeCpus};

    fn view() -> CpuView {
        let runtime = |name: &str, cpus: Reading<u64>, over_budget| RuntimeCpus {
            runtime: name.into(),
            asked: format!("{name}'s count"),
            cpus,
            over_budget,
        };
        CpuView {
            sandbox: "cpu.max 50000 100000".into(),
            budget_cpus: Reading::Value(0.5),
            budget_bound_by: "the quota of 0.50 CPUs in /sys/fs/cgroup/a".into(),
            budget_read: vec!["/sys/fs/cgroup/a: cpu.max 50000 100000".into()],
            runtimes: vec![
                runtime("rust", Reading::Value(1), false),
                runtime("node", Reading::Value(2), true),
                runtime(
                    "go",
                    Reading::Unavailable("go not installed (not on PATH)".into()),
                    false,
                ),
            ],
            host_visible: vec![HostFigure {
                name: "/proc/meminfo MemTotal, bytes".into(),
                inside: Reading::Value("25276194816".into()),
                host: Reading::Value("25276194816".into()),
                host_value_shown: true,
            }],
        }
    }

    #[test]
    fn an_over_counting_runtime_is_a_finding_and_host_figures_are_informational() {
        let text = lines(&view()).join("\n");
        assert!(
            text.contains("FINDING: node sees 2 CPUs, budget 0.50"),
            "{text}"
        );
        assert!(!text.contains("FINDING: rust"), "{text}");
        assert!(
            text.contains("go        unavailable: go not installed"),
            "{text}"
        );
        assert!(text.contains(&format!("{HOST_FIGURES}:")), "{text}");
        assert!(
            text.contains("MemTotal, bytes: 23.5 GiB inside, 23.5 GiB on the host (the host's)"),
            "{text}"
        );
        assert_eq!(
            clause(&view()),
            "cpu-view: node sees more CPUs than the budget 0.50 (a finding, not a breach)"
        );
        let page = html(&view());
        assert!(
            page.contains("finding: node sees 2 CPUs, budget 0.50"),
            "{page}"
        );
        assert!(
            page.contains("the host&#39;s (informational)")
                || page.contains("the host's (informational)"),
            "{page}"
        );
    }
}
