//! Cargo's JSON lines: `--message-format=json` compiler messages (clippy) and
//! `cargo nextest list --message-format json`.

use std::collections::HashSet;

use serde::Deserialize;

use super::lines_of;
use crate::{Diagnostic, Severity, TestCase, TestStatus, TestingError};

/// Diagnostics from `cargo clippy --message-format=json` (or any cargo build).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CargoMessages {
    /// Unique diagnostics, in the order first seen.
    pub diagnostics: Vec<Diagnostic>,
    /// `build-finished.success`, when cargo got that far.
    pub build_success: Option<bool>,
}

/// Parses a whole stream of cargo JSON messages (non-JSON lines are skipped).
pub fn parse_cargo_messages(output: &[u8]) -> Result<CargoMessages, TestingError> {
    let mut parser = CargoMessageParser::default();
    for line in lines_of(output) {
        parser.push_line(&line);
    }
    Ok(parser.finish())
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    message: Option<CompilerMessage>,
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize)]
struct CompilerMessage {
    message: String,
    #[serde(default)]
    code: Option<Code>,
    level: String,
    #[serde(default)]
    spans: Vec<Span>,
    #[serde(default)]
    children: Vec<CompilerMessage>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: u32,
    column_start: u32,
    is_primary: bool,
}

/// Incremental parser over cargo's JSON lines.
#[derive(Debug, Default)]
pub struct CargoMessageParser {
    out: CargoMessages,
    seen: HashSet<Diagnostic>,
}

impl CargoMessageParser {
    /// Feeds one line; returns the diagnostic it added, if any.
    pub fn push_line(&mut self, line: &str) -> Option<&Diagnostic> {
        if !line.starts_with('{') {
            return None;
        }
        let msg: Message = serde_json::from_str(line).ok()?;
        match msg.reason.as_str() {
            "build-finished" => {
                self.out.build_success = msg.success;
                None
            }
            "compiler-message" => {
                let diagnostic = diagnostic_of(msg.message?)?;
                if self.seen.insert(diagnostic.clone()) {
                    self.out.diagnostics.push(diagnostic);
                    self.out.diagnostics.last()
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Ends the parse.
    pub fn finish(self) -> CargoMessages {
        self.out
    }
}

fn diagnostic_of(m: CompilerMessage) -> Option<Diagnostic> {
    let severity = match m.level.as_str() {
        l if l.starts_with("error") => Severity::Error,
        "warning" => Severity::Warning,
        _ => Severity::Note,
    };
    let primary = m.spans.iter().find(|s| s.is_primary).or(m.spans.first());
    // Summaries ("aborting due to ...", "3 warnings emitted") carry no span and no code.
    if primary.is_none() && m.code.is_none() {
        let text = m.message.as_str();
        if text.starts_with("aborting due to") || text.ends_with("emitted") {
            return None;
        }
    }
    // A suggestion (a help with spans) says most; else the first help (often a docs link).
    let hint = m
        .children
        .iter()
        .find(|c| c.level == "help" && !c.spans.is_empty())
        .or_else(|| m.children.iter().find(|c| c.level == "help"))
        .map(|c| c.message.clone());
    Some(Diagnostic {
        severity,
        code: m.code.map(|c| c.code),
        message: m.message,
        file: primary.map(|s| s.file_name.clone()),
        line: primary.map(|s| s.line_start),
        column: primary.map(|s| s.column_start),
        hint,
    })
}

#[derive(Deserialize)]
struct NextestList {
    #[serde(rename = "rust-suites", default)]
    rust_suites: std::collections::BTreeMap<String, NextestSuite>,
}

#[derive(Deserialize)]
struct NextestSuite {
    #[serde(rename = "binary-id")]
    binary_id: String,
    #[serde(default)]
    testcases: std::collections::BTreeMap<String, NextestListCase>,
}

#[derive(Deserialize)]
struct NextestListCase {
    #[serde(default)]
    ignored: bool,
    #[serde(rename = "filter-match")]
    filter_match: Option<FilterMatch>,
}

#[derive(Deserialize)]
struct FilterMatch {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// The tests `cargo nextest list --message-format json` says are skipped because they are
/// ignored (`#[ignore]`), as skipped test cases named like nextest's JUnit report does.
pub fn parse_nextest_list(output: &[u8]) -> Result<Vec<TestCase>, TestingError> {
    let start = output
        .iter()
        .position(|b| *b == b'{')
        .ok_or_else(|| TestingError::parse("nextest test list", "no JSON object in the output"))?;
    let list: NextestList = serde_json::from_slice(&output[start..])
        .map_err(|e| TestingError::parse("nextest test list", e.to_string()))?;
    let mut skipped = Vec::new();
    for suite in list.rust_suites.into_values() {
        for (name, case) in suite.testcases {
            let ignored = case
                .filter_match
                .as_ref()
                .is_some_and(|f| f.status == "mismatch" && f.reason.as_deref() == Some("ignored"));
            if ignored || (case.ignored && case.filter_match.is_none()) {
                let mut test = TestCase::new(name, TestStatus::Skipped);
                test.suite = Some(suite.binary_id.clone());
                test.message = Some("ignored".into());
                skipped.push(test);
            }
        }
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_deduplicates_real_clippy_output() {
        let out = parse_cargo_messages(include_bytes!("../../testdata/clippy.json")).expect("parse");
        assert_eq!(out.build_success, Some(true));
        assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
        let d = &out.diagnostics[0];
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.code.as_deref(), Some("clippy::needless_return"));
        assert_eq!(d.message, "unneeded `return` statement");
        assert_eq!((d.file.as_deref(), d.line, d.column), (Some("src/lib.rs"), Some(10), Some(5)));
        assert_eq!(d.hint.as_deref(), Some("remove `return`"));
    }

    #[test]
    fn skips_summaries_and_reads_errors() {
        let lines = [
            r#"{"reason":"compiler-message","message":{"message":"cannot find value `y` in this scope","code":{"code":"E0425"},"level":"error","spans":[{"file_name":"src/lib.rs","line_start":3,"column_start":5,"is_primary":true}],"children":[]}}"#,
            r#"{"reason":"compiler-message","message":{"message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"children":[]}}"#,
            "   Compiling x v0.1.0",
            r#"{"reason":"build-finished","success":false}"#,
        ]
        .join("\n");
        let out = parse_cargo_messages(lines.as_bytes()).expect("parse");
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].severity, Severity::Error);
        assert_eq!(out.build_success, Some(false));
    }

    #[test]
    fn lists_ignored_nextest_tests() {
        let skipped = parse_nextest_list(include_bytes!("../../testdata/nextest-list.json")).expect("parse");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].name, "tests::ignored");
        assert_eq!(skipped[0].suite.as_deref(), Some("pipette-fixture"));
    }
}
