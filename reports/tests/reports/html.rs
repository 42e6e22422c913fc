use crate::dom::{self, Dom};
use crate::fixture::{self, PSI_REASON};
use html5ever::tree_builder::QuirksMode;
use isobench_reports::render_html;
use isobench_reports::schema::{Condition, Results};

/// Namespace URIs that may appear in a report; nothing else with a scheme.
const NAMESPACES: [&str; 3] = [
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/XML/1998/namespace",
];

fn rendered(results: &Results) -> (String, Dom) {
    let html = render_html(results);
    let dom = dom::parse(&html);
    (html, dom)
}

/// The SVG texts of a page, from `<svg` to `</svg>`.
fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg")
        .map(|(start, _)| {
            let end = html[start..].find("</svg>").expect("every <svg> is closed") + start;
            &html[start..end + "</svg>".len()]
        })
        .collect()
}

/// Checks that every start tag in `xml` has its end tag, in order.
fn assert_tags_balanced(xml: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag ends") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes the wrong element");
        } else {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "never closed: {open:?}");
}

#[test]
fn report_is_html5_without_parse_errors() {
    let (_, dom) = rendered(&fixture::results());
    assert!(dom.errors.is_empty(), "parse errors: {:#?}", dom.errors);
    assert!(
        dom.quirks == QuirksMode::NoQuirks,
        "page renders in quirks mode"
    );
    assert_eq!(dom.elements("html").len(), 1);
}

#[test]
fn report_references_nothing_on_the_network() {
    let (html, dom) = rendered(&fixture::results());
    let without_namespaces = NAMESPACES
        .iter()
        .fold(html, |page, ns| page.replace(ns, ""));
    for scheme in ["http://", "https://", "//cdn", "url("] {
        assert!(
            !without_namespaces.contains(scheme),
            "report contains {scheme}"
        );
    }
    for tag in ["script", "link", "img", "iframe", "object"] {
        assert!(dom.elements(tag).is_empty(), "report has a <{tag}>");
    }
    for a in dom.elements("a") {
        let href = dom.attr(a, "href").unwrap_or("");
        assert!(href.starts_with('#'), "link leaves the page: {href}");
    }
}

#[test]
fn every_svg_is_well_formed_titled_and_captioned() {
    let (html, dom) = rendered(&fixture::results());
    let texts = svgs(&html);
    // cpu-share: latency CDF, CPU share and throughput; memory-high: latency CDF and throughput.
    assert_eq!(texts.len(), 5);
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for svg in &texts {
        assert_tags_balanced(svg);
    }
    let svg_elements = dom.elements("svg");
    assert_eq!(svg_elements.len(), texts.len());
    for svg in svg_elements {
        let first = dom.child_elements(svg)[0];
        assert_eq!(
            dom.name(first),
            Some("title"),
            "<title> is the first child of <svg>"
        );
        assert!(!dom.text(first).trim().is_empty(), "empty <title>");
        let figure = dom.nodes[svg].parent.expect("svg has a parent");
        assert_eq!(dom.name(figure), Some("figure"));
        let caption = dom
            .child_elements(figure)
            .into_iter()
            .find(|&c| dom.name(c) == Some("figcaption"))
            .expect("figure has a figcaption");
        let caption = dom.text(caption);
        assert!(
            caption.contains("better"),
            "caption says what is good: {caption}"
        );
        assert!(
            caption.contains("Unit:"),
            "caption gives the unit: {caption}"
        );
    }
}

#[test]
fn latency_chart_has_percentile_ticks_and_latency_units() {
    let (_, dom) = rendered(&fixture::results());
    let cdf = dom.elements("svg")[0];
    let labels: Vec<String> = dom
        .elements("text")
        .into_iter()
        .filter(|&t| dom.ancestors(t).contains(&cdf))
        .map(|t| dom.text(t).trim().to_owned())
        .collect();
    for label in [
        "percentile",
        "victim latency",
        "50",
        "90",
        "99",
        "99.9",
        "100 µs",
        "1 ms",
    ] {
        assert!(
            labels.iter().any(|l| l == label),
            "latency CDF lacks {label:?}: {labels:?}"
        );
    }
}

#[test]
fn each_condition_keeps_its_colour_on_every_chart() {
    let (html, _) = rendered(&fixture::results());
    let texts = svgs(&html);
    let (cdf, cpu) = (texts[0], texts[1]);
    for (condition, colour) in [
        (Condition::Solo, "#0072B2"),
        (Condition::Contended, "#D55E00"),
        (Condition::Isolated, "#009E73"),
    ] {
        assert!(cdf.contains(colour), "{condition} line is not {colour}");
        assert!(html.contains(&format!(".cond-{condition} {{ --c: {colour}; }}")));
        if condition != Condition::Solo {
            assert!(cpu.contains(colour), "{condition} bar is not {colour}");
        }
    }
}

#[test]
fn verdict_strip_opens_the_page_with_one_line_per_scenario() {
    let results = fixture::results();
    let (_, dom) = rendered(&results);
    let strip = dom.elements("ol")[0];
    let items: Vec<String> = dom
        .child_elements(strip)
        .into_iter()
        .map(|li| dom.text(li))
        .collect();
    // Each item is the verdict's badge, then the line without its verdict word.
    let badged: Vec<String> = isobench_reports::verdict_lines(&results)
        .iter()
        .zip(&results.scenarios)
        .map(|(line, s)| match &s.verdict {
            Some(v) => {
                let word = v.kind.words().to_uppercase();
                format!("{word}{}", line.replacen(&format!("{word} — "), "", 1))
            }
            None => format!("NO VERDICT{line}"),
        })
        .collect();
    assert_eq!(items, badged);
    let first_section = dom.elements("section")[0];
    assert!(strip < first_section, "verdict comes before the scenarios");
}

#[test]
fn each_scenario_has_its_section() {
    let (_, dom) = rendered(&fixture::results());
    let ids: Vec<&str> = dom
        .elements("section")
        .into_iter()
        .filter_map(|s| dom.attr(s, "id"))
        .collect();
    assert!(ids.contains(&"scenario-cpu-share"), "{ids:?}");
    assert!(ids.contains(&"scenario-memory-high"), "{ids:?}");
    assert!(ids.contains(&"host"), "{ids:?}");
}

#[test]
fn null_metric_reads_unavailable_with_its_reason_in_a_note_never_zero() {
    let (_, dom) = rendered(&fixture::results());
    let row = dom
        .elements("tr")
        .into_iter()
        .find(|&tr| dom.text(tr).contains("victim.cpu_pressure_some_us"))
        .expect("row of the null metric");
    let cells: Vec<String> = dom
        .child_elements(row)
        .into_iter()
        .map(|c| dom.text(c))
        .collect();
    assert_eq!(cells[2], "unavailable [1]");
    assert!(
        cells.iter().all(|c| !c.starts_with('0')),
        "null metric shown as a number: {cells:?}"
    );
    let notes: Vec<String> = dom
        .elements("ul")
        .into_iter()
        .filter(|&ul| dom.attr(ul, "class") == Some("notes"))
        .flat_map(|ul| dom.child_elements(ul))
        .map(|li| dom.text(li))
        .collect();
    assert_eq!(notes, [format!("[1] {PSI_REASON}")]);
}

#[test]
fn metric_values_are_scaled_for_reading() {
    let (_, dom) = rendered(&fixture::results());
    let row = dom
        .elements("tr")
        .into_iter()
        .map(|tr| {
            dom.child_elements(tr)
                .into_iter()
                .map(|c| dom.text(c))
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[0] == "victim.latency_p99_us" && cells[1] == "contended")
        .expect("row of contended p99");
    assert_eq!(&row[2..], ["1.20 ms", "[1.19, 1.21] ms"]);
}

#[test]
fn text_from_results_is_escaped() {
    let mut results = fixture::results();
    let warning = "<script>alert('owned')</script> & \"more\"";
    results.scenarios[0].warnings.push(warning.into());
    results.scenarios[0].description = "\"><img src=x onerror=alert(1)>".into();
    results.host.kernel = "6.8<b>".into();
    let (html, dom) = rendered(&results);
    assert!(dom.elements("script").is_empty());
    assert!(dom.elements("img").is_empty());
    assert!(dom.elements("b").is_empty());
    assert!(
        html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; &quot;more&quot;")
    );
    let shown = dom
        .elements("li")
        .into_iter()
        .any(|li| dom.text(li) == warning);
    assert!(shown, "warning not shown as written");
    assert!(dom.errors.is_empty(), "{:#?}", dom.errors);
}

#[test]
fn failed_scenario_shows_its_status_and_reason() {
    let (_, dom) = rendered(&fixture::results());
    let section = dom
        .elements("section")
        .into_iter()
        .find(|&s| dom.attr(s, "id") == Some("scenario-memory-high"))
        .expect("memory-high section");
    let text = dom.text(section);
    assert!(
        text.contains("failed after 1 round: writing \"64M\" to isobench-r1/aggressor/memory.high: Permission denied"),
        "{text}"
    );
}

#[test]
fn host_panel_has_fingerprint_doctor_version_and_command_line() {
    let (_, dom) = rendered(&fixture::results());
    let host = dom
        .elements("section")
        .into_iter()
        .find(|&s| dom.attr(s, "id") == Some("host"))
        .expect("host section");
    let text = dom.text(host);
    for expected in [
        "6.8.0-51-generic",
        "AMD EPYC 7443P 24-Core Processor",
        "48 online, 4 allowed",
        "unavailable (/sys/devices/system/cpu/cpu0/cpufreq: No such file or directory)",
        "max 100000",
        "container (podman 4.3.1)",
        "/run/.containerenv exists (engine=\"podman-4.3.1\")",
        "/proc/pressure/cpu: EOPNOTSUPP",
        "0.1.0",
        "isobench run --suite suites/cpu.toml --rounds 3",
    ] {
        assert!(text.contains(expected), "host panel lacks {expected:?}");
    }
}

/// Writes the fixture's report and summary to `$ISOBENCH_SAMPLE_DIR` (default
/// `/tmp`) for looking at, e.g. with a headless browser screenshot.
#[test]
#[ignore = "writes sample-report.html and summary.md for a person to look at"]
fn write_sample_report() {
    let dir = std::env::var("ISOBENCH_SAMPLE_DIR").unwrap_or_else(|_| "/tmp".into());
    let results = fixture::results();
    std::fs::write(format!("{dir}/sample-report.html"), render_html(&results)).unwrap();
    let summary = isobench_reports::render_markdown(&results);
    std::fs::write(format!("{dir}/summary.md"), summary).unwrap();
}

#[test]
fn a_scenario_with_groups_charts_every_sandbox_and_group_and_no_group_is_an_aggressor() {
    let mut results = fixture::results();
    let iso = Some(Condition::Isolated);
    results.scenarios[0].metrics.extend([
        fixture::metric("group.kube.cpu_share", iso, "CPUs", [0.75, 0.76, 0.755]),
        fixture::metric("group.kube.cpu_share_expected", iso, "CPUs", [0.758; 3]),
        fixture::metric("group.kube.cpu_share_error_pp", iso, "pp", [0.8, 0.2, 0.3]),
    ]);
    let (html, dom) = rendered(&results);
    let texts = svgs(&html);
    assert_eq!(texts.len(), 6, "one chart more: the cgroups' shares");
    let chart = texts
        .iter()
        .find(|t| t.contains("CPU share of each sandbox and [group], isolated"))
        .expect("the cgroups' chart");
    assert!(
        chart.contains("[kube]") && chart.contains("aggressor"),
        "{chart}"
    );
    // The group's colour, not a condition's.
    assert!(chart.contains("#CC79A7"), "{chart}");
    let strip = dom.elements("ol")[0];
    let line = dom.text(strip);
    assert!(
        !line.contains("group.kube got"),
        "a group is no aggressor: {line}"
    );
    assert!(line.contains("aggressor got"), "{line}");
}

#[test]
fn refused_forks_are_shown_with_the_limit_that_refused_them() {
    use isobench_reports::schema::{PidsAccount, PidsLevel, PidsRefusal};
    let mut results = fixture::results();
    let run = results.scenarios[0].rounds[0]
        .conditions
        .iter_mut()
        .find(|c| c.condition == Condition::Isolated)
        .unwrap();
    run.pids = vec![PidsAccount {
        sandbox: "aggressor".into(),
        sampled_peak: Some(16),
        peak: None,
        forks_refused: Some(25),
        refused_by: vec![PidsRefusal {
            forks: 25,
            cgroup: "/isobench-r1/p".into(),
            limit: 16,
            how: "inferred".into(),
        }],
        levels: vec![PidsLevel {
            cgroup: "/isobench-r1/p/aggressor".into(),
            max: "max".into(),
            current: 0,
            peak: None,
            events_max: 25,
            events_local_max: None,
        }],
        unavailable: vec!["pids.peak unsupported: this kernel has no pids.peak".into()],
    }];
    let (_, dom) = rendered(&results);
    assert!(dom.errors.is_empty(), "{:#?}", dom.errors);
    let table = dom
        .elements("table")
        .into_iter()
        .find(|&t| dom.attr(t, "class") == Some("pids"))
        .expect("a pids table");
    let text = dom.text(table);
    for expected in [
        "×25 (limit of /isobench-r1/p: pids.max 16)",
        "16 (sampled every 10 ms)",
        "pids.peak unsupported",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}
