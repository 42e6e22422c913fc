//! JUnit XML of `isobench compare --junit FILE`, for CI systems that show test
//! results: one `<testsuite>` per scenario, one `<testcase>` per gated metric
//! (classname `isobench.<scenario>`, name `<metric> (<condition>)`).
//!
//! - FAIL: a `<failure type="regression">` whose message and text give the
//!   baseline, the current value, the change with its 95 % CI and the margin
//!   (as compare.md's table);
//! - INCONCLUSIVE: `<skipped>` with the reason (the row's note);
//! - PASS, NO CLEAR CHANGE, IMPROVED: a passing case, the same figures in `<system-out>`.
//!
//! Runs unfit for a verdict (differing fingerprints, disturbance) give one
//! skipped case `isobench.compare / host fit for comparison` with the reasons.
//! The shape is the one Jenkins, GitLab and junitparser read (the Ant JUnit
//! task's; <https://github.com/testmoapp/junitxml>).

use isobench_reports::comparison::{ComparedMetric, Comparison, Outcome};
use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::name::QName;
use std::borrow::Cow;
use std::io;

/// `s` with every character XML 1.0 does not allow (C0 controls other than
/// tab, newline and carriage return; U+FFFE, U+FFFF; XML 1.0 §2.2 `Char`)
/// replaced by U+FFFD: a scenario name or run id is the user's, and one such
/// character made the whole file unreadable.
fn clean(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.chars().any(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// The attribute `key="value"`, `value` cleaned ([`clean`]) and escaped in
/// full: markup characters, and tab, newline and carriage return as character
/// references, which a reader would otherwise turn into spaces (XML 1.0 §3.3.3).
fn attr<'a>(key: &'a str, value: &str) -> Attribute<'a> {
    let mut v = String::with_capacity(value.len());
    for c in clean(value).chars() {
        match c {
            '&' => v.push_str("&amp;"),
            '<' => v.push_str("&lt;"),
            '>' => v.push_str("&gt;"),
            '"' => v.push_str("&quot;"),
            '\'' => v.push_str("&apos;"),
            '\t' => v.push_str("&#9;"),
            '\n' => v.push_str("&#10;"),
            '\r' => v.push_str("&#13;"),
            c => v.push(c),
        }
    }
    Attribute {
        key: QName(key.as_bytes()),
        value: Cow::Owned(v.into_bytes()),
    }
}

/// The JUnit XML document of `c`, UTF-8 with an XML declaration.
pub fn junit(c: &Comparison) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, c).expect("writing XML into memory does not fail");
    let mut xml = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    xml.push('\n');
    xml
}

/// The gated rows, grouped by scenario in the order first met.
fn by_scenario(c: &Comparison) -> Vec<(&str, Vec<&ComparedMetric>)> {
    let mut groups: Vec<(&str, Vec<&ComparedMetric>)> = Vec::new();
    for r in c.rows.iter().filter(|r| r.outcome != Outcome::NotGated) {
        match groups.iter_mut().find(|(s, _)| *s == r.scenario) {
            Some((_, rows)) => rows.push(r),
            None => groups.push((&r.scenario, vec![r])),
        }
    }
    groups
}

/// Writes the document.
fn write(w: &mut Writer<Vec<u8>>, c: &Comparison) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let groups = by_scenario(c);
    let count = |o: Outcome| c.rows.iter().filter(|r| r.outcome == o).count();
    let unfit = usize::from(!c.unfit.is_empty());
    let tests = groups.iter().map(|(_, r)| r.len()).sum::<usize>() + unfit;
    let (failures, skipped) = (count(Outcome::Fail), count(Outcome::Inconclusive) + unfit);
    w.create_element("testsuites")
        .with_attribute(attr("name", "isobench compare"))
        .with_attribute(attr("tests", tests.to_string().as_str()))
        .with_attribute(attr("failures", failures.to_string().as_str()))
        .with_attribute(attr("errors", "0"))
        .with_attribute(attr("skipped", skipped.to_string().as_str()))
        .write_inner_content(|w| {
            if unfit == 1 {
                suite(w, c, "compare", &[], Some(&c.unfit.join("; ")))?;
            }
            for (scenario, rows) in &groups {
                suite(w, c, scenario, rows, None)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// One `<testsuite>`: the rows of one scenario, or the unfit case.
fn suite(
    w: &mut Writer<Vec<u8>>,
    c: &Comparison,
    scenario: &str,
    rows: &[&ComparedMetric],
    unfit: Option<&str>,
) -> io::Result<()> {
    let n = |o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let tests = rows.len() + usize::from(unfit.is_some());
    let skipped = n(Outcome::Inconclusive) + usize::from(unfit.is_some());
    w.create_element("testsuite")
        .with_attribute(attr("name", format!("isobench.{scenario}").as_str()))
        .with_attribute(attr("tests", tests.to_string().as_str()))
        .with_attribute(attr("failures", n(Outcome::Fail).to_string().as_str()))
        .with_attribute(attr("errors", "0"))
        .with_attribute(attr("skipped", skipped.to_string().as_str()))
        .write_inner_content(|w| {
            w.create_element("properties").write_inner_content(|w| {
                for (name, value) in [
                    ("baseline", c.baseline.path.as_str()),
                    ("baseline_run_id", c.baseline.run_id.as_str()),
                    ("current", c.current.path.as_str()),
                    ("current_run_id", c.current.run_id.as_str()),
                    ("verdict", c.verdict.as_str()),
                ] {
                    w.create_element("property")
                        .with_attribute(attr("name", name))
                        .with_attribute(attr("value", value))
                        .write_empty()?;
                }
                Ok(())
            })?;
            if let Some(reasons) = unfit {
                w.create_element("testcase")
                    .with_attribute(attr("classname", "isobench.compare"))
                    .with_attribute(attr("name", "host fit for comparison"))
                    .with_attribute(attr("time", "0"))
                    .write_inner_content(|w| {
                        w.create_element("skipped")
                            .with_attribute(attr("message", format!("UNFIT: {reasons}").as_str()))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            for r in rows {
                case(w, r)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// One `<testcase>` for a gated row.
fn case(w: &mut Writer<Vec<u8>>, r: &ComparedMetric) -> io::Result<()> {
    let name = match r.condition {
        Some(c) => format!("{} ({c})", r.name),
        None => r.name.clone(),
    };
    let outcome = isobench_reports::outcome_text(r.outcome);
    let text = format!(
        "{outcome}: {}: {}",
        isobench_reports::metric_label(r),
        isobench_reports::row_text(r)
    );
    w.create_element("testcase")
        .with_attribute(attr(
            "classname",
            format!("isobench.{}", r.scenario).as_str(),
        ))
        .with_attribute(attr("name", name.as_str()))
        .with_attribute(attr("time", "0"))
        .write_inner_content(|w| {
            match r.outcome {
                Outcome::Fail => {
                    w.create_element("failure")
                        .with_attribute(attr("type", "regression"))
                        .with_attribute(attr("message", text.as_str()))
                        .write_text_content(BytesText::new(&clean(&text)))?;
                }
                Outcome::Inconclusive => {
                    w.create_element("skipped")
                        .with_attribute(attr("message", text.as_str()))
                        .write_empty()?;
                }
                _ => {
                    w.create_element("system-out")
                        .write_text_content(BytesText::new(&clean(&text)))?;
                }
            }
            Ok(())
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::BytesStart;

    #[test]
    fn user_strings_round_trip_through_attributes_and_controls_become_replacement_characters() {
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Empty(BytesStart::new("property").with_attributes([
            attr("value", "B\n|x\t<\"]]>&'é"),
            attr("id", "A\u{2}z"),
        ])))
        .unwrap();
        let xml = String::from_utf8(w.into_inner()).unwrap();
        assert!(!xml.contains('\u{2}') && !xml.contains('\n'), "{xml:?}");
        let mut r = quick_xml::Reader::from_str(&xml);
        let Event::Empty(e) = r.read_event().unwrap() else {
            panic!("{xml}")
        };
        let read: Vec<String> = e
            .attributes()
            .map(|a| a.unwrap().unescape_value().unwrap().into_owned())
            .collect();
        assert_eq!(read, ["B\n|x\t<\"]]>&'é", "A\u{FFFD}z"]);
        assert_eq!(clean("fine"), Cow::Borrowed("fine"));
    }
}
