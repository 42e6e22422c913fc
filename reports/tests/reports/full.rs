//! The report of a real run of the full default suite (`isobench run`, hybrid
//! host, 2 CPUs: tests/fixtures/full-default.json): memory timelines with PSI
//! some and full, OOM kills marked, legends outside the plots, captions, the
//! comparison section, and the size and render time the issue allows.

use crate::dom::{self, Dom};
use isobench_reports::comparison::{
    Better, ChangeKind, ComparedMetric, Comparison, Outcome, RunRef,
};
use isobench_reports::schema::{Condition, Results};
use isobench_reports::{render_html, render_html_with_comparison};
use std::time::{Duration, Instant};

/// results.json of `isobench run --out DIR` (the default suite): visibility,
/// cpu-share, memory-pressure (the isolated aggressor OOM-killed in every
/// round), memory-high-stall (skipped on hybrid) and startup-latency.
const FULL: &str = include_str!("../fixtures/full-default.json");

const ISOLATED: &str = "#009E73";
const CONTENDED: &str = "#D55E00";

fn full() -> Results {
    Results::from_json(FULL).expect("fixture reads")
}

fn rendered() -> (String, Dom) {
    let html = render_html(&full());
    let dom = dom::parse(&html);
    (html, dom)
}

/// The `<svg>` whose `<title>` starts with `title`.
fn chart(dom: &Dom, title: &str) -> usize {
    dom.elements("svg")
        .into_iter()
        .find(|&svg| dom.text(dom.child_elements(svg)[0]).starts_with(title))
        .unwrap_or_else(|| panic!("no chart titled {title:?}"))
}

/// Elements named `tag` inside `root`.
fn inside(dom: &Dom, root: usize, tag: &str) -> Vec<usize> {
    dom.elements(tag)
        .into_iter()
        .filter(|&e| dom.ancestors(e).contains(&root))
        .collect()
}

/// The texts of a chart with their baseline (`y`).
fn texts(dom: &Dom, svg: usize) -> Vec<(String, f64)> {
    inside(dom, svg, "text")
        .into_iter()
        .map(|t| {
            let y = dom.attr(t, "y").and_then(|y| y.parse().ok()).unwrap_or(0.0);
            (dom.text(t).trim().to_owned(), y)
        })
        .collect()
}

/// The caption of the figure that holds `svg`.
fn caption(dom: &Dom, svg: usize) -> String {
    let figure = dom.nodes[svg].parent.expect("svg has a parent");
    assert_eq!(dom.name(figure), Some("figure"));
    dom.child_elements(figure)
        .into_iter()
        .find(|&c| dom.name(c) == Some("figcaption"))
        .map(|c| dom.text(c))
        .expect("figure has a figcaption")
}

fn y_of(dom: &Dom, svg: usize, text: &str) -> f64 {
    texts(dom, svg)
        .into_iter()
        .find(|(t, _)| t == text)
        .unwrap_or_else(|| panic!("no text {text:?}"))
        .1
}

/// `<line>`s of `svg` stroked `colour` at `width` px: the arms of its crosses.
fn cross_arms(dom: &Dom, svg: usize, colour: &str, width: &str) -> Vec<usize> {
    inside(dom, svg, "line")
        .into_iter()
        .filter(|&l| dom.attr(l, "stroke") == Some(colour))
        .filter(|&l| dom.attr(l, "stroke-width") == Some(width))
        .collect()
}

/// `<polyline>`s of `svg` stroked `colour` at `width` px with more than two points (data, not legend).
fn data_lines(dom: &Dom, svg: usize, colour: &str, width: &str) -> usize {
    inside(dom, svg, "polyline")
        .into_iter()
        .filter(|&p| dom.attr(p, "stroke") == Some(colour))
        .filter(|&p| dom.attr(p, "stroke-width") == Some(width))
        .filter(|&p| {
            dom.attr(p, "points")
                .unwrap_or("")
                .split_whitespace()
                .count()
                > 2
        })
        .count()
}

#[test]
fn memory_section_shows_psi_some_and_full_for_each_sandbox() {
    let (_, dom) = rendered();
    let section = dom
        .elements("section")
        .into_iter()
        .find(|&s| dom.attr(s, "id") == Some("scenario-memory-pressure"))
        .expect("memory-pressure section");
    for sandbox in ["victim", "aggressor"] {
        let svg = chart(&dom, &format!("Memory PSI some and full of the {sandbox}"));
        assert!(dom.ancestors(svg).contains(&section));
        let labels: Vec<String> = texts(&dom, svg).into_iter().map(|t| t.0).collect();
        for label in [
            sandbox,
            "full: all tasks stalled",
            "some: at least one stalled",
            "contended",
            "isolated",
        ] {
            assert!(
                labels.iter().any(|l| l == label),
                "{sandbox} PSI lacks {label:?}: {labels:?}"
            );
        }
        for colour in [CONTENDED, ISOLATED] {
            // some: a pale band (8 px, 30 % opaque) under full: a 2 px line.
            assert_eq!(data_lines(&dom, svg, colour, "8"), 1, "{sandbox} some");
            assert_eq!(data_lines(&dom, svg, colour, "2"), 1, "{sandbox} full");
        }
        let caption = caption(&dom, svg);
        assert!(
            caption.contains("full (thin line)") && caption.contains("some (pale band)"),
            "{caption}"
        );
    }
    // Solo has no aggressor.
    let aggressor = chart(&dom, "Memory PSI some and full of the aggressor");
    assert!(!texts(&dom, aggressor).iter().any(|t| t.0 == "solo"));
}

#[test]
fn oom_kills_are_marked_on_the_by_kind_charts_as_on_the_memory_chart() {
    let results = full();
    let memory = results
        .scenarios
        .iter()
        .find(|s| s.name == "memory-pressure")
        .unwrap();
    let last = memory.rounds.last().unwrap();
    let kills = |c: Condition| {
        last.conditions
            .iter()
            .find(|r| r.condition == c)
            .and_then(|r| r.memory.as_ref())
            .map_or(0, |m| {
                m.oom_kills.iter().filter(|k| k.t_s.is_some()).count()
            })
    };
    assert_eq!(
        kills(Condition::Isolated),
        1,
        "the fixture has a timed kill"
    );
    let (_, dom) = rendered();
    let charged = chart(&dom, "Memory charged per sandbox");
    let isolated = chart(&dom, "Memory by kind, isolated condition");
    // One cross each: two 3 px arms in the isolated colour, the same size on both charts.
    let arms = |svg| cross_arms(&dom, svg, ISOLATED, "3");
    let size = |line: usize| {
        let n = |a| dom.attr(line, a).unwrap().parse::<i32>().unwrap();
        ((n("x2") - n("x1")).abs(), (n("y2") - n("y1")).abs())
    };
    assert_eq!(arms(charged).len(), 2);
    assert_eq!(arms(isolated).len(), 2);
    assert_eq!(size(arms(charged)[0]), size(arms(isolated)[0]));
    assert!(texts(&dom, isolated).iter().any(|t| t.0 == "OOM kill"));
    for condition in ["solo", "contended"] {
        let svg = chart(&dom, &format!("Memory by kind, {condition} condition"));
        assert!(
            !texts(&dom, svg).iter().any(|t| t.0 == "OOM kill"),
            "{condition} had no kill"
        );
        for colour in [ISOLATED, CONTENDED, "#0072B2"] {
            assert!(cross_arms(&dom, svg, colour, "3").is_empty(), "{condition}");
        }
    }
}

#[test]
fn legends_sit_below_the_x_axis_never_over_the_data() {
    let (_, dom) = rendered();
    let cdf = chart(&dom, "Victim latency CDF per condition, scenario cpu-share");
    let axis = y_of(&dom, cdf, "percentile");
    for label in ["solo", "contended", "isolated"] {
        assert!(y_of(&dom, cdf, label) > axis, "{label} is inside the CDF");
    }
    let time = "time since the victim started (s)";
    for (title, label) in [
        ("Memory charged per sandbox", "OOM kill"),
        ("Memory charged per sandbox", "contended aggressor"),
        ("Memory by kind, contended condition", "aggressor anon"),
        (
            "Memory PSI some and full of the victim",
            "some: at least one stalled",
        ),
    ] {
        let svg = chart(&dom, title);
        assert!(
            y_of(&dom, svg, label) > y_of(&dom, svg, time),
            "{label} is inside {title}"
        );
    }
    let share = chart(&dom, "Aggressor CPU share");
    assert!(y_of(&dom, share, "expected") > y_of(&dom, share, "condition"));
}

#[test]
fn every_figure_says_what_is_better_and_its_unit() {
    let (html, dom) = rendered();
    let svgs = dom.elements("svg");
    assert!(svgs.len() >= 13, "{} charts", svgs.len());
    for svg in svgs {
        let caption = caption(&dom, svg);
        assert!(caption.to_lowercase().contains("better"), "{caption}");
        assert!(caption.contains("Unit:"), "{caption}");
    }
    assert!(dom.errors.is_empty(), "{:#?}", dom.errors);
    // The skipped scenario has no chart to miss.
    let skipped = html.find("id=\"scenario-memory-high-stall\"").unwrap();
    let end = html[skipped..].find("</section>").unwrap() + skipped;
    assert!(!html[skipped..end].contains("Chart not drawn"));
}

#[test]
fn perf_counters_read_unavailable_with_the_reason_once_per_event() {
    let (_, dom) = rendered();
    let table = dom
        .elements("table")
        .into_iter()
        .find(|&t| dom.attr(t, "class") == Some("perf"))
        .expect("perf table");
    let row = |event: &str| {
        inside(&dom, table, "tr")
            .into_iter()
            .find(|&r| dom.text(dom.child_elements(r)[0]) == event)
            .map(|r| dom.child_elements(r))
            .unwrap_or_else(|| panic!("no {event} row"))
    };
    let cycles = row("cycles");
    assert_eq!(cycles.len(), 2, "one cell across the sandboxes");
    assert_eq!(dom.attr(cycles[1], "colspan"), Some("5"));
    assert!(
        dom.text(cycles[1])
            .starts_with("unavailable (No such file or directory"),
        "{}",
        dom.text(cycles[1])
    );
    let clock = row("task-clock");
    assert_eq!(clock.len(), 6);
    assert!(clock[1..].iter().all(|&c| dom.text(c).ends_with(" ms")));
}

#[test]
fn comparison_section_comes_with_a_comparison() {
    let results = full();
    let run = |r: &Results| RunRef {
        path: "results.json".into(),
        run_id: r.run_id.clone(),
        started_at: r.started_at.clone(),
    };
    let row = |name: &str, change: f64, outcome| ComparedMetric {
        scenario: "cpu-share".into(),
        name: name.into(),
        condition: Some(Condition::Isolated),
        unit: "us".into(),
        kind: ChangeKind::Ratio,
        better: Better::Lower,
        baseline: Some(100.0),
        current: Some(100.0 * change),
        change: Some(change),
        lower: Some(change * 0.95),
        upper: Some(change * 1.05),
        margin: Some(1.1),
        detectable: Some(1.2),
        outcome,
        note: None,
    };
    let comparison = Comparison {
        schema_version: isobench_reports::comparison::COMPARISON_VERSION,
        baseline: run(&results),
        current: run(&results),
        fingerprint_differences: Vec::new(),
        forced: false,
        unfit: Vec::new(),
        accept_disturbed: false,
        accepted_disturbance: Vec::new(),
        rows: vec![
            row("victim.latency_p99_us", 1.02, Outcome::Pass),
            row("victim.latency_p50_us", 1.3, Outcome::Fail),
        ],
        not_compared: Vec::new(),
        exit_code: 1,
        verdict: "FAIL: 1 of 2 gated metrics regressed".into(),
    };
    let dom = dom::parse(&render_html_with_comparison(&results, Some(&comparison)));
    let section = dom
        .elements("section")
        .into_iter()
        .find(|&s| dom.attr(s, "id") == Some("comparison"))
        .expect("comparison section");
    assert!(
        dom.text(section)
            .contains("FAIL: 1 of 2 gated metrics regressed")
    );
    let forest = chart(&dom, "Change of each gated metric");
    assert!(dom.ancestors(forest).contains(&section));
    assert!(dom.errors.is_empty(), "{:#?}", dom.errors);
    let plain = dom::parse(&render_html(&results));
    assert!(
        plain
            .elements("section")
            .into_iter()
            .all(|s| plain.attr(s, "id") != Some("comparison"))
    );
}

/// The budget: a report of the full default suite renders, from the
/// results text, in at most 1 s and weighs at most 2 MB (about 35 ms and 270 kB
/// in a debug build when written).
#[test]
fn full_suite_report_renders_within_a_second_and_two_megabytes() {
    let started = Instant::now();
    let html = render_html(&Results::from_json(FULL).unwrap());
    let took = started.elapsed();
    eprintln!(
        "full-suite report: {} bytes in {:.0} ms",
        html.len(),
        took.as_secs_f64() * 1000.0
    );
    assert!(html.len() <= 2_000_000, "{} bytes", html.len());
    assert!(took <= Duration::from_secs(1), "took {took:?}");
}
