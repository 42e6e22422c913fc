//! The fleet summary (`fleet.md`): the fleet report in GitHub-flavoured
//! Markdown, for a CI job summary.

use crate::escape::markdown as esc;
use crate::fleet::Fleet;

/// What a pooled report says at its top.
pub(crate) const POOLED_NOTE: &str = "--pool-classes was given: each scenario's \
     figures are pooled over every host, across fingerprint classes (kernel, cgroup layout, \
     CPU model, CPU count, virtualised), so one statistic mixes hosts that are not comparable.";

/// Renders `fleet` as Markdown: the classes, the files left out with why, and
/// per scenario and class the share of hosts protected, the worst hosts, the
/// spread of each headline figure and one row per host.
pub fn render_fleet_markdown(fleet: &Fleet) -> String {
    let mut md = format!(
        "## isobench fleet: {} run(s), {} fingerprint class(es)\n\n",
        fleet.hosts.len(),
        fleet.classes.len()
    );
    if fleet.pooled {
        md.push_str(&format!("> **Pooled:** {}\n\n", esc(POOLED_NOTE)));
    }
    for c in &fleet.classes {
        let hosts: Vec<String> = fleet.hosts_of(&c.id).map(|h| esc(&h.host)).collect();
        md.push_str(&format!(
            "- {}: {} — {}\n",
            esc(&c.id),
            esc(&c.describe()),
            hosts.join(", ")
        ));
    }
    for e in &fleet.excluded {
        md.push_str(&format!(
            "- left out {}: {}\n",
            esc(&e.path),
            esc(&e.reason)
        ));
    }
    for scenario in &fleet.scenarios {
        md.push_str(&format!("\n### {}\n", esc(&scenario.name)));
        for group in &scenario.groups {
            md.push_str(&format!(
                "\n**{}**: {}\n",
                esc(&fleet.group_title(group)),
                esc(&group.tally.summary())
            ));
            let worst: Vec<String> = Fleet::worst(group)
                .enumerate()
                .map(|(i, h)| format!("{}. {}: {}\n", i + 1, esc(&h.host), esc(&h.summary())))
                .collect();
            if !worst.is_empty() {
                md.push_str(&format!(
                    "\nWorst host(s), worst first:\n\n{}",
                    worst.concat()
                ));
            }
            if !group.spread.is_empty() {
                md.push('\n');
                for sp in &group.spread {
                    let label = match sp.condition {
                        Some(c) => format!("{} ({c})", sp.metric),
                        None => sp.metric.clone(),
                    };
                    md.push_str(&format!(
                        "- spread of {} over {} host(s): {}\n",
                        esc(&label),
                        sp.hosts,
                        esc(&sp.text)
                    ));
                }
            }
            md.push_str("\n| host | run id | verdict | figures |\n|---|---|---|---|\n");
            for h in &group.hosts {
                let figures: Vec<String> = h
                    .figures
                    .iter()
                    .map(|f| format!("{}: {}", esc(&f.label()), esc(&f.text)))
                    .collect();
                md.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    esc(&h.host),
                    esc(&h.run_id),
                    h.verdict
                        .map_or("NO VERDICT".to_owned(), |v| v.words().to_uppercase()),
                    figures.join("<br>")
                ));
            }
        }
    }
    md
}
