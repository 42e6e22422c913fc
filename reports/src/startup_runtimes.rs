//! The external runtimes of scenario startup-latency (issue 16 part 4) beside
//! isobench's headline sandbox: the clause of the verdict line, and the table
//! of the Markdown summary and the HTML report (the chart is drawn with the
//! others in [`crate::startup_html`]).

use crate::escape::html as esc;
use crate::format;
use crate::metric_names::{startup_runtime_ratio_exit, startup_runtime_ratio_first};
use crate::schema::{Percentiles, RuntimeInfo, ScenarioResult, StartupVariant};
use crate::units::Rule;
use crate::verdict::figure;

/// The variant the runtimes are set beside: every namespace but net, plus its cgroup.
pub(crate) const SANDBOX: &str = "sandbox_all";
/// The same with a new network namespace.
pub(crate) const SANDBOX_NET: &str = "sandbox_all_net";

/// True for a variant started by an external runtime (`"method": "runtime"`).
pub(crate) fn is_runtime(v: &StartupVariant) -> bool {
    v.method.get("method").and_then(|m| m.as_str()) == Some("runtime")
}

/// The runtimes that were timed, with their variant.
fn timed(
    scenario: &ScenarioResult,
) -> impl Iterator<Item = (&RuntimeInfo, Option<&StartupVariant>)> {
    let detail = scenario.startup.as_ref();
    detail.into_iter().flat_map(move |d| {
        d.runtimes
            .iter()
            .map(move |r| (r, d.variants.iter().find(|v| v.name == r.name)))
    })
}

/// `; sandbox start→exit p50 beside runtimes: ×1.12 [×0.63, ×2.05] unshare, …`
/// for the runtimes timed; nothing when none was.
pub(crate) fn clause(scenario: &ScenarioResult) -> String {
    let parts: Vec<String> = timed(scenario)
        .filter(|(r, _)| r.unavailable.is_none())
        .map(|(r, _)| {
            let ratio = figure(
                scenario,
                &startup_runtime_ratio_exit(&r.name),
                None,
                Rule::Factor,
            );
            format!("{ratio} {}", r.name)
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("; sandbox start→exit p50 ÷ runtimes': {}", parts.join(", "))
}

/// `p50 / p99` of a distribution, or `—`.
fn p50_p99(p: Option<&Percentiles>) -> String {
    p.map_or_else(
        || "—".to_string(),
        |p| {
            format!(
                "{} / {}",
                format::latency_us(p.p50_us),
                format::latency_us(p.p99_us)
            )
        },
    )
}

/// One row per runtime (and isobench's sandbox first): `[name, version,
/// namespaces, request→first, request→exit, ratio first, ratio exit]`, or the
/// reason it was not timed.
fn rows(scenario: &ScenarioResult) -> Vec<Result<[String; 7], (String, String)>> {
    let Some(d) = &scenario.startup else {
        return Vec::new();
    };
    if d.runtimes.is_empty() {
        return Vec::new();
    }
    let sandbox = d.variants.iter().find(|v| v.name == SANDBOX);
    let mut out = vec![Ok([
        format!("{SANDBOX} (isobench)"),
        "—".into(),
        "pid, mnt, uts, ipc, cgroup".into(),
        p50_p99(sandbox.and_then(|v| v.start.as_ref())),
        p50_p99(sandbox.and_then(|v| v.exit.as_ref())),
        "×1".into(),
        "×1".into(),
    ])];
    for (r, v) in timed(scenario) {
        if let Some(why) = &r.unavailable {
            out.push(Err((r.name.clone(), why.clone())));
            continue;
        }
        out.push(Ok([
            r.name.clone(),
            r.version.clone().unwrap_or_else(|| "—".into()),
            r.namespaces.join(", "),
            p50_p99(v.and_then(|v| v.start.as_ref())),
            p50_p99(v.and_then(|v| v.exit.as_ref())),
            figure(
                scenario,
                &startup_runtime_ratio_first(&r.name),
                None,
                Rule::Factor,
            ),
            figure(
                scenario,
                &startup_runtime_ratio_exit(&r.name),
                None,
                Rule::Factor,
            ),
        ]));
    }
    out
}

const HEADERS: [&str; 7] = [
    "runtime",
    "version",
    "namespaces",
    "request → first instruction p50 / p99",
    "request → exit p50 / p99",
    "sandbox ÷ it, first p50 [95 % CI]",
    "sandbox ÷ it, exit p50 [95 % CI]",
];

/// The runtimes table in Markdown, or nothing when no runtime was looked for.
pub(crate) fn markdown(scenario: &ScenarioResult) -> String {
    use crate::escape::markdown as esc_md;
    let rows = rows(scenario);
    if rows.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\nRuntimes beside isobench's sandbox (same probe; below ×1 isobench is faster):\n\n| {} |\n|---|---|---|--:|--:|--:|--:|\n",
        HEADERS.join(" | ")
    );
    for row in rows {
        match row {
            Ok(cells) => md.push_str(&format!("| {} |\n", cells.map(|c| esc_md(&c)).join(" | "))),
            Err((name, why)) => md.push_str(&format!(
                "| {} | {} | | | | | |\n",
                esc_md(&name),
                esc_md(&format::unavailable(Some(&why)))
            )),
        }
    }
    md
}

/// The runtimes table in HTML, with how each ran and its cgroup, or nothing.
pub(crate) fn html(scenario: &ScenarioResult) -> String {
    let rows = rows(scenario);
    if rows.is_empty() {
        return String::new();
    }
    let info = |name: &str| {
        timed(scenario)
            .find(|(r, _)| r.name == name)
            .map(|(r, _)| (r.how.clone(), r.cgroup.clone()))
    };
    let body: String = rows
        .into_iter()
        .map(|row| match row {
            Ok(cells) => {
                let (how, cgroup) = info(&cells[0]).unwrap_or_else(|| {
                    (
                        "clone(2) with the namespaces, its cgroup attached (cgroup.procs), exec".into(),
                        "its own, in the run's arena, removed after".into(),
                    )
                });
                format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
                     <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                     <td><small>{}</small></td><td><small>{}</small></td></tr>\n",
                    esc(&cells[0]),
                    esc(&cells[1]),
                    esc(&cells[2]),
                    esc(&cells[3]),
                    esc(&cells[4]),
                    esc(&cells[5]),
                    esc(&cells[6]),
                    esc(&cgroup),
                    esc(&how),
                )
            }
            Err((name, why)) => format!(
                "<tr><td><code>{}</code></td><td colspan=\"8\" class=\"unavailable\">{}</td></tr>\n",
                esc(&name),
                esc(&format::unavailable(Some(&why)))
            ),
        })
        .collect();
    let head: String = HEADERS
        .iter()
        .chain(&["cgroup", "how it ran"])
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    format!(
        "<table class=\"runtimes\">\n<caption>The runtimes people use, starting the same static probe in the \
         same run: from the request (before the runtime's process is spawned) to the probe's first instruction, \
         and to the runtime's exit (reaped; for isobench's sandbox, also its cgroup removed), as hyperfine times \
         a whole process. The ratios are isobench's {SANDBOX} ÷ the runtime, per round, mean and bootstrap 95 % \
         CI over rounds: below ×1 isobench's sandbox is faster.</caption>\n<thead><tr>{head}</tr></thead>\n\
         <tbody>\n{body}</tbody>\n</table>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Metric, StartupDetail};

    fn p(p50_us: f64) -> Percentiles {
        Percentiles {
            count: 10,
            p50_us,
            p90_us: p50_us * 1.5,
            p99_us: p50_us * 2.0,
            p999_us: p50_us * 2.0,
            max_us: p50_us * 2.0,
        }
    }

    fn variant(name: &str, method: &str, exit_us: f64) -> StartupVariant {
        StartupVariant {
            name: name.into(),
            method: serde_json::json!({ "method": method }),
            start: Some(p(exit_us / 2.0)),
            teardown: None,
            exit: Some(p(exit_us)),
            phases: Vec::new(),
            tail: None,
            unavailable: None,
        }
    }

    fn info(name: &str, unavailable: Option<&str>) -> RuntimeInfo {
        RuntimeInfo {
            name: name.into(),
            program: Some(format!("/usr/bin/{name}")),
            version: Some(format!("{name} 1.0")),
            namespaces: vec!["pid".into(), "mnt".into()],
            cgroup: "<arena>/crun".into(),
            how: format!("/usr/bin/{name} run"),
            unavailable: unavailable.map(String::from),
        }
    }

    fn scenario() -> ScenarioResult {
        let mut s = ScenarioResult::started("startup-latency", "", serde_json::Value::Null);
        s.startup = Some(StartupDetail {
            attach: String::new(),
            variants: vec![
                variant(SANDBOX, "sandbox", 1000.0),
                variant("crun", "runtime", 5000.0),
            ],
            churn: Vec::new(),
            flags: Vec::new(),
            runtimes: vec![info("crun", None), info("docker", Some("Cannot connect"))],
        });
        s.metrics.push(Metric {
            name: startup_runtime_ratio_exit("crun"),
            condition: None,
            unit: "ratio".into(),
            value: Some(0.2),
            lower: Some(0.18),
            upper: Some(0.23),
            per_round: vec![Some(0.2)],
            reason: None,
        });
        s
    }

    #[test]
    fn the_verdict_clause_names_each_timed_runtime_with_its_ratio() {
        let s = scenario();
        let clause = clause(&s);
        assert!(clause.contains("×0.20"), "{clause}");
        assert!(clause.ends_with("crun"), "{clause}");
        assert!(!clause.contains("docker"), "{clause}");
        let mut none = s.clone();
        none.startup.as_mut().unwrap().runtimes.clear();
        assert_eq!(super::clause(&none), "");
    }

    #[test]
    fn tables_put_the_sandbox_first_and_give_each_unavailable_runtime_its_reason() {
        let s = scenario();
        let md = markdown(&s);
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
        assert!(lines[1].starts_with("| sandbox_all (isobench)"), "{md}");
        assert!(lines[2].starts_with("| crun | crun 1.0 | pid, mnt"), "{md}");
        assert!(lines[3].contains("Cannot connect"), "{md}");
        let html = html(&s);
        assert!(
            html.contains("<code>docker</code></td><td colspan=\"8\""),
            "{html}"
        );
        assert!(html.contains("&lt;arena&gt;/crun"), "{html}");
        assert!(is_runtime(&s.startup.as_ref().unwrap().variants[1]));
        assert!(!is_runtime(&s.startup.as_ref().unwrap().variants[0]));
    }
}
