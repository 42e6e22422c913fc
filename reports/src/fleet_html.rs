//! The fleet report (`fleet.html`): one self-contained page for a merged fleet,
//! in the single-host report's styles. No network, no script; every text taken
//! from the results is escaped.

use crate::escape::html as esc;
use crate::fleet::{Fleet, ScenarioGroup};
use crate::html::{STYLE, anchor, badge_class};

/// Styles of the fleet page beyond the single-host report's.
const FLEET_STYLE: &str = r#"
.pooled { border-left: 6px solid #D55E00; background: #fdf1ea; padding: .45rem .8rem; }
.excluded li { color: #8a4b00; }
.tally { font-weight: 600; }
section.class { margin-left: .4rem; padding-left: .8rem; border-left: 3px solid #ddd; }
table.hosts td { vertical-align: top; }
td.line { font-size: .85rem; color: #333; max-width: 36rem; }
"#;

/// Renders `fleet` as one self-contained HTML5 page: the classes, the files
/// left out (with why), then per scenario one block per fingerprint class (or
/// one pooled block, flagged as such) with the share of hosts protected, the
/// worst hosts, the spread of each headline figure and every host's verdict
/// and figures with their 95 % CIs.
pub fn render_fleet_html(fleet: &Fleet) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>isobench fleet report: {} host run(s)</title>\n<style>{STYLE}{FLEET_STYLE}</style>\n\
         </head>\n<body>\n<main>\n<header>\n<h1>isobench fleet report</h1>\n\
         <p class=\"meta\">{} run(s) merged · {} fingerprint class(es) · {} scenario(s) · {} file(s) left out</p>\n</header>\n",
        fleet.hosts.len(),
        fleet.hosts.len(),
        fleet.classes.len(),
        fleet.scenarios.len(),
        fleet.excluded.len()
    );
    if fleet.pooled {
        page.push_str(&format!(
            "<p class=\"pooled\"><strong>Pooled:</strong> {}</p>\n",
            esc(crate::fleet_markdown::POOLED_NOTE)
        ));
    }
    page.push_str(&classes(fleet));
    if !fleet.excluded.is_empty() {
        let items: String = fleet
            .excluded
            .iter()
            .map(|e| {
                format!(
                    "<li><code>{}</code>: {}</li>\n",
                    esc(&e.path),
                    esc(&e.reason)
                )
            })
            .collect();
        page.push_str(&format!(
            "<h2>Left out</h2>\n<ul class=\"excluded\">\n{items}</ul>\n"
        ));
    }
    for scenario in &fleet.scenarios {
        page.push_str(&format!(
            "<section class=\"scenario\" id=\"{}\">\n<h2>Scenario {}</h2>\n",
            anchor(&scenario.name),
            esc(&scenario.name)
        ));
        for group in &scenario.groups {
            page.push_str(&group_section(fleet, group));
        }
        page.push_str("</section>\n");
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// The classes and their hosts, as a table.
fn classes(fleet: &Fleet) -> String {
    let rows: String = fleet
        .classes
        .iter()
        .map(|c| {
            let hosts: Vec<String> = fleet
                .hosts_of(&c.id)
                .map(|h| format!("{} (<code>{}</code>)", esc(&h.host), esc(&h.run_id)))
                .collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&c.id),
                esc(&c.describe()),
                hosts.join("<br>")
            )
        })
        .collect();
    format!(
        "<h2>Fingerprint classes</h2>\n<table>\n<caption>Hosts that agree on kernel, cgroup layout, \
         CPU model, CPU count and virtualisation; figures are compared within a class</caption>\n\
         <thead><tr><th>class</th><th>fingerprint</th><th>host (run id)</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n"
    )
}

/// One scenario's group: tally, worst hosts, spread, hosts.
fn group_section(fleet: &Fleet, group: &ScenarioGroup) -> String {
    let mut s = format!(
        "<section class=\"class\">\n<h3>{}</h3>\n<p class=\"tally\">{}</p>\n",
        esc(&fleet.group_title(group)),
        esc(&group.tally.summary())
    );
    let worst: String = Fleet::worst(group)
        .map(|h| {
            format!(
                "<li><strong>{}</strong>: {}</li>\n",
                esc(&h.host),
                esc(&h.summary())
            )
        })
        .collect();
    if !worst.is_empty() {
        s.push_str(&format!(
            "<p>Worst host(s), worst first:</p>\n<ol>\n{worst}</ol>\n"
        ));
    }
    if !group.spread.is_empty() {
        let rows: String = group
            .spread
            .iter()
            .map(|sp| {
                let label = match sp.condition {
                    Some(c) => format!("{} ({c})", sp.metric),
                    None => sp.metric.clone(),
                };
                let missing = if sp.unavailable > 0 {
                    format!("; unavailable on {}", sp.unavailable)
                } else {
                    String::new()
                };
                format!(
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}{}</td></tr>\n",
                    esc(&label),
                    sp.hosts,
                    esc(&sp.text),
                    esc(&missing)
                )
            })
            .collect();
        s.push_str(&format!(
            "<table>\n<caption>Spread across hosts: each host's mean over its rounds \
             (a description of the hosts, not a confidence interval)</caption>\n\
             <thead><tr><th>figure</th><th class=\"num\">hosts</th><th>median; smallest to largest</th></tr></thead>\n\
             <tbody>\n{rows}</tbody>\n</table>\n"
        ));
    }
    let rows: String = group
        .hosts
        .iter()
        .map(|h| {
            let (class, word) = match h.verdict {
                Some(v) => (badge_class(v), v.words().to_uppercase()),
                None => ("invalid", "NO VERDICT".to_owned()),
            };
            let figures: Vec<String> = h
                .figures
                .iter()
                .map(|f| {
                    let cls = if f.value.is_some() { "" } else { " class=\"unavailable\"" };
                    format!(
                        "<span{cls}><code>{}</code>: {}</span>",
                        esc(&f.label()),
                        esc(&f.text)
                    )
                })
                .collect();
            format!(
                "<tr><td>{}<br><code>{}</code></td><td><span class=\"badge {class}\">{word}</span></td>\
                 <td>{}</td><td class=\"line\">{}</td></tr>\n",
                esc(&h.host),
                esc(&h.run_id),
                figures.join("<br>"),
                esc(&h.line)
            )
        })
        .collect();
    s.push_str(&format!(
        "<table class=\"hosts\">\n<caption>Each host: verdict, headline figures (mean over rounds \
         [bootstrap 95 % CI]) and the single-host report's verdict line</caption>\n\
         <thead><tr><th>host</th><th>verdict</th><th>figures</th><th>verdict line</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n</section>\n"
    ));
    s
}
