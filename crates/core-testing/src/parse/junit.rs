//! JUnit XML reports (pytest's `--junitxml`, nextest's `[profile.*.junit]`) into a plain model.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::TestingError;

/// A whole JUnit report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JunitReport {
    /// Every `<testsuite>`, nested ones flattened, in document order.
    pub suites: Vec<JunitSuite>,
}

/// One `<testsuite>` and the counts it claims about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JunitSuite {
    /// `name`.
    pub name: String,
    /// `tests`.
    pub tests: Option<u64>,
    /// `failures`.
    pub failures: Option<u64>,
    /// `errors`.
    pub errors: Option<u64>,
    /// `skipped`.
    pub skipped: Option<u64>,
    /// `time`, in seconds.
    pub time: Option<f64>,
    /// Its test cases.
    pub cases: Vec<JunitCase>,
}

/// How a `<testcase>` ended, from its child elements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JunitOutcome {
    /// No failure, error or skipped child.
    #[default]
    Passed,
    /// A `<failure>` child.
    Failure,
    /// An `<error>` child (and no `<failure>`).
    Error,
    /// A `<skipped>` child.
    Skipped,
}

/// One `<testcase>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JunitCase {
    /// `name`.
    pub name: String,
    /// `classname`.
    pub classname: Option<String>,
    /// `file` (pytest's xunit1 family).
    pub file: Option<String>,
    /// `line` as written (pytest writes it 0-based).
    pub line: Option<u32>,
    /// `time`, in seconds.
    pub time: Option<f64>,
    /// The outcome.
    pub outcome: JunitOutcome,
    /// `message` of the failure / error / skipped element.
    pub message: Option<String>,
    /// `type` of the failure / error / skipped element (pytest: `pytest.skip`, `pytest.xfail`).
    pub kind: Option<String>,
    /// Text of the failure / error / skipped element.
    pub text: Option<String>,
    /// `<system-out>`.
    pub system_out: Option<String>,
    /// `<system-err>`.
    pub system_err: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Outcome,
    SystemOut,
    SystemErr,
    /// Text of an element we do not keep (properties, flaky runs).
    Ignored,
}

const WHAT: &str = "JUnit XML report";

/// Parses a JUnit XML document.
pub fn parse_junit(xml: &[u8]) -> Result<JunitReport, TestingError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut report = JunitReport::default();
    let mut open_suites: Vec<JunitSuite> = Vec::new();
    let mut case: Option<JunitCase> = None;
    let mut capture: Option<(Capture, String)> = None;
    let mut saw_root = false;

    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| TestingError::parse(WHAT, format!("{e} at byte {}", reader.error_position())))?;
        match event {
            Event::Start(e) => {
                saw_root = true;
                match e.local_name().as_ref() {
                    b"testsuite" => open_suites.push(suite_from(&reader, &e)?),
                    b"testcase" => case = Some(case_from(&reader, &e)?),
                    name => {
                        if let Some(c) = case.as_mut() {
                            capture = Some((start_child(&reader, c, name, &e)?, String::new()));
                        }
                    }
                }
            }
            Event::Empty(e) => {
                saw_root = true;
                match e.local_name().as_ref() {
                    b"testsuite" => report.suites.push(suite_from(&reader, &e)?),
                    b"testcase" => {
                        let c = case_from(&reader, &e)?;
                        push_case(&mut open_suites, &mut report, c);
                    }
                    name => {
                        if let Some(c) = case.as_mut() {
                            start_child(&reader, c, name, &e)?;
                        }
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"testsuite" => {
                    if let Some(suite) = open_suites.pop() {
                        report.suites.push(suite);
                    }
                }
                b"testcase" => {
                    if let Some(c) = case.take() {
                        push_case(&mut open_suites, &mut report, c);
                    }
                }
                _ => {
                    if let (Some((what, text)), Some(c)) = (capture.take(), case.as_mut()) {
                        let text = (!text.trim().is_empty()).then_some(text);
                        match what {
                            Capture::Outcome => c.text = text,
                            Capture::SystemOut => c.system_out = text,
                            Capture::SystemErr => c.system_err = text,
                            Capture::Ignored => {}
                        }
                    }
                }
            },
            Event::Text(t) => {
                if let Some((_, text)) = capture.as_mut() {
                    let decoded = t.xml10_content().map_err(|e| TestingError::parse(WHAT, e.to_string()))?;
                    text.push_str(&decoded);
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = capture.as_mut() {
                    let decoded = t.xml10_content().map_err(|e| TestingError::parse(WHAT, e.to_string()))?;
                    text.push_str(&decoded);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, text)) = capture.as_mut() {
                    if let Ok(Some(ch)) = r.resolve_char_ref() {
                        text.push(ch);
                    } else {
                        let name = r.decode().map_err(|e| TestingError::parse(WHAT, e.to_string()))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => text.push_str(s),
                            None => {
                                text.push('&');
                                text.push_str(&name);
                                text.push(';');
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(TestingError::parse(WHAT, "the document is empty"));
    }
    // Unclosed suites (a truncated report): keep what was read.
    while let Some(suite) = open_suites.pop() {
        report.suites.push(suite);
    }
    Ok(report)
}

fn push_case(open: &mut [JunitSuite], report: &mut JunitReport, case: JunitCase) {
    if let Some(suite) = open.last_mut() {
        suite.cases.push(case);
    } else {
        // A bare <testcase> outside any suite: give it one.
        if report.suites.is_empty() || !report.suites[0].name.is_empty() {
            report.suites.insert(0, JunitSuite::default());
        }
        report.suites[0].cases.push(case);
    }
}

fn start_child(
    reader: &Reader<&[u8]>,
    case: &mut JunitCase,
    name: &[u8],
    e: &BytesStart<'_>,
) -> Result<Capture, TestingError> {
    let outcome = match name {
        b"failure" => Some(JunitOutcome::Failure),
        b"error" => Some(JunitOutcome::Error),
        b"skipped" => Some(JunitOutcome::Skipped),
        b"system-out" => return Ok(Capture::SystemOut),
        b"system-err" => return Ok(Capture::SystemErr),
        _ => None,
    };
    let Some(outcome) = outcome else {
        return Ok(Capture::Ignored);
    };
    // A failure outranks an error (pytest writes both when a failing test also breaks in
    // teardown); either outranks a skip.
    let rank = |o: JunitOutcome| match o {
        JunitOutcome::Passed => 0,
        JunitOutcome::Skipped => 1,
        JunitOutcome::Error => 2,
        JunitOutcome::Failure => 3,
    };
    if rank(outcome) <= rank(case.outcome) {
        return Ok(Capture::Ignored);
    }
    case.outcome = outcome;
    case.message = attr(reader, e, b"message")?;
    case.kind = attr(reader, e, b"type")?;
    case.text = None;
    Ok(Capture::Outcome)
}

fn suite_from(reader: &Reader<&[u8]>, e: &BytesStart<'_>) -> Result<JunitSuite, TestingError> {
    Ok(JunitSuite {
        name: attr(reader, e, b"name")?.unwrap_or_default(),
        tests: attr(reader, e, b"tests")?.and_then(|v| v.parse().ok()),
        failures: attr(reader, e, b"failures")?.and_then(|v| v.parse().ok()),
        errors: attr(reader, e, b"errors")?.and_then(|v| v.parse().ok()),
        skipped: attr(reader, e, b"skipped")?.and_then(|v| v.parse().ok()),
        time: attr(reader, e, b"time")?.and_then(|v| v.parse().ok()),
        cases: Vec::new(),
    })
}

fn case_from(reader: &Reader<&[u8]>, e: &BytesStart<'_>) -> Result<JunitCase, TestingError> {
    Ok(JunitCase {
        name: attr(reader, e, b"name")?.unwrap_or_default(),
        classname: attr(reader, e, b"classname")?.filter(|c| !c.is_empty()),
        file: attr(reader, e, b"file")?,
        line: attr(reader, e, b"line")?.and_then(|v| v.parse().ok()),
        time: attr(reader, e, b"time")?.and_then(|v| v.parse().ok()),
        ..JunitCase::default()
    })
}

fn attr(reader: &Reader<&[u8]>, e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, TestingError> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|err| TestingError::parse(WHAT, err.to_string()))?;
        if a.key.local_name().as_ref() == name {
            let value = a
                .decode_and_unescape_value(reader.decoder())
                .map_err(|err| TestingError::parse(WHAT, err.to_string()))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_pytest_report() {
        let report = parse_junit(include_bytes!("../../testdata/pytest-junit.xml")).expect("parse");
        assert_eq!(report.suites.len(), 1);
        let suite = &report.suites[0];
        assert_eq!(suite.tests, Some(15));
        assert_eq!(suite.cases.len(), 15);
        let failed = suite.cases.iter().find(|c| c.name == "test_add_wrong").expect("case");
        assert_eq!(failed.outcome, JunitOutcome::Failure);
        assert_eq!(failed.message.as_deref(), Some("assert 4 == 5\n +  where 4 = add(2, 2)"));
        assert!(
            failed.text.as_deref().is_some_and(|t| t.contains("> ") && t.contains("assert add(2, 2) == 5"))
        );
        assert_eq!(failed.file.as_deref(), Some("tests/test_calc.py"));
        let xfail = suite.cases.iter().find(|c| c.name == "test_divide_by_zero").expect("case");
        assert_eq!(xfail.outcome, JunitOutcome::Skipped);
        assert_eq!(xfail.kind.as_deref(), Some("pytest.xfail"));
        let error = suite.cases.iter().find(|c| c.name == "test_uses_broken_fixture").expect("case");
        assert_eq!(error.outcome, JunitOutcome::Error);
    }

    #[test]
    fn parses_a_real_nextest_report() {
        let report = parse_junit(include_bytes!("../../testdata/nextest-junit.xml")).expect("parse");
        assert_eq!(report.suites.len(), 2);
        let cases: usize = report.suites.iter().map(|s| s.cases.len()).sum();
        assert_eq!(cases, 6);
        let failures = report
            .suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| c.outcome == JunitOutcome::Failure)
            .count();
        assert_eq!(failures, 3);
        assert!(
            report
                .suites
                .iter()
                .flat_map(|s| &s.cases)
                .all(|c| c.system_out.is_none() || c.outcome == JunitOutcome::Failure)
        );
    }

    #[test]
    fn resolves_entities_and_cdata() {
        let xml = br#"<testsuite name="s"><testcase name="a&lt;b" classname="c"><failure message="x &amp; y">line&#10;two <![CDATA[<raw>]]></failure></testcase></testsuite>"#;
        let report = parse_junit(xml).expect("parse");
        let case = &report.suites[0].cases[0];
        assert_eq!(case.name, "a<b");
        assert_eq!(case.message.as_deref(), Some("x & y"));
        assert_eq!(case.text.as_deref(), Some("line\ntwo <raw>"));
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse_junit(b"").is_err());
        assert!(parse_junit(b"<testsuite><testcase name='a'></testsuite>").is_err());
    }
}
