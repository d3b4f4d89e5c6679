//! `python -m unittest -v` output: one line per test, then a block per failure or error, then
//! `Ran N tests` and the verdict.

use std::sync::LazyLock;

use regex::Regex;

use super::{cap_details, lines_of};
use crate::{TestCase, TestStatus, TestingError};

/// What unittest reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnittestOutput {
    /// Every test, in run order.
    pub tests: Vec<TestCase>,
    /// N of `Ran N tests`.
    pub ran: Option<u64>,
    /// The verdict line (`OK`, `FAILED (failures=1, errors=1)`).
    pub verdict: Option<String>,
}

/// Parses the whole output at once.
pub fn parse_unittest(output: &[u8]) -> Result<UnittestOutput, TestingError> {
    let mut parser = UnittestParser::default();
    for line in lines_of(output) {
        parser.push_line(&line);
    }
    Ok(parser.finish())
}

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<name>\S+) \((?P<id>[^()]*)\)").expect("static regex"));
static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<kind>ERROR|FAIL|UNEXPECTED SUCCESS): (?P<name>\S+) \((?P<id>[^()]*)\)")
        .expect("static regex")
});
static RAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Ran (?P<n>\d+) tests? in ").expect("static regex"));
static FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s+File "(?P<file>[^"]+)", line (?P<line>\d+)"#).expect("static regex"));

/// Incremental parser: feed lines, `finish` at the end.
#[derive(Debug, Default)]
pub struct UnittestParser {
    out: UnittestOutput,
    /// A `name (id)` line whose result comes on a later line (docstring or output in between).
    pending: Option<String>,
    block: Option<(usize, Vec<String>)>,
}

impl UnittestParser {
    /// Feeds one line; returns the test it completed, if any.
    pub fn push_line(&mut self, line: &str) -> Option<&TestCase> {
        if line.starts_with("=====") {
            self.flush_block();
            return None;
        }
        if let Some(caps) = BLOCK.captures(line) {
            self.flush_block();
            let id = test_id(&caps["name"], &caps["id"]);
            if let Some(i) = self.out.tests.iter().rposition(|t| t.name == id) {
                self.block = Some((i, Vec::new()));
            }
            return None;
        }
        if let Some(caps) = RAN.captures(line) {
            self.flush_block();
            self.out.ran = caps["n"].parse().ok();
            return None;
        }
        if self.out.ran.is_some() {
            let trimmed = line.trim();
            if self.out.verdict.is_none() && (trimmed.starts_with("OK") || trimmed.starts_with("FAILED")) {
                self.out.verdict = Some(trimmed.to_string());
            }
            return None;
        }
        if let Some((_, lines)) = self.block.as_mut() {
            if line.starts_with("----------") {
                return None;
            }
            lines.push(line.to_string());
            return None;
        }
        if let Some((head, result)) = line.rsplit_once(" ... ") {
            let header = if HEADER.is_match(head) { Some(head.to_string()) } else { self.pending.take() };
            if let Some(header) = header
                && let Some(caps) = HEADER.captures(&header)
                && let Some((status, message)) = result_of(result)
            {
                let mut test = TestCase::new(test_id(&caps["name"], &caps["id"]), status);
                test.message = message;
                self.pending = None;
                self.out.tests.push(test);
                return self.out.tests.last();
            }
            return None;
        }
        if HEADER.is_match(line) {
            self.pending = Some(line.to_string());
        }
        None
    }

    /// Ends the parse.
    pub fn finish(mut self) -> UnittestOutput {
        self.flush_block();
        self.out
    }

    fn flush_block(&mut self) {
        let Some((i, lines)) = self.block.take() else {
            return;
        };
        let Some(test) = self.out.tests.get_mut(i) else {
            return;
        };
        let text = lines.join("\n");
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if let Some(last) = lines.iter().rev().map(|l| l.trim()).find(|l| !l.is_empty()) {
            test.message = Some(last.to_string());
        }
        if let Some(caps) = lines.iter().rev().find_map(|l| FRAME.captures(l)) {
            test.file = Some(caps["file"].to_string());
            test.line = caps["line"].parse().ok();
        }
        test.details = Some(cap_details(text));
    }
}

/// unittest ids: Python ≥ 3.11 prints `name (module.Class.name)`, older `name (module.Class)`.
/// Import failures (`unittest.loader._FailedTest.<module>`) become the module name.
fn test_id(name: &str, id: &str) -> String {
    let id = id.strip_prefix("unittest.loader._FailedTest.").unwrap_or(id);
    if id == name || id.ends_with(&format!(".{name}")) { id.to_string() } else { format!("{id}.{name}") }
}

fn result_of(result: &str) -> Option<(TestStatus, Option<String>)> {
    let result = result.trim();
    Some(match result {
        "ok" => (TestStatus::Passed, None),
        "FAIL" => (TestStatus::Failed, None),
        "ERROR" => (TestStatus::Error, None),
        "expected failure" => (TestStatus::Xfail, None),
        "unexpected success" => (TestStatus::Xpass, None),
        r if r.starts_with("skipped") => {
            let reason = r.trim_start_matches("skipped").trim().trim_matches(|c| c == '\'' || c == '"');
            (TestStatus::Skipped, (!reason.is_empty()).then(|| reason.to_string()))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counts;

    #[test]
    fn parses_a_real_verbose_run() {
        let out = parse_unittest(include_bytes!("../../testdata/unittest-verbose.txt")).expect("parse");
        let counts = Counts::of(&out.tests);
        assert_eq!(out.ran, Some(counts.total));
        assert_eq!(
            (counts.passed, counts.failed, counts.errors, counts.skipped, counts.xfailed, counts.xpassed),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!(
            out.verdict.as_deref(),
            Some("FAILED (failures=1, errors=1, skipped=1, expected failures=1, unexpected successes=1)")
        );
        let error = out.tests.iter().find(|t| t.name == "tests.test_unit.TestCalc.test_error").expect("test");
        assert_eq!(error.status, TestStatus::Error);
        assert_eq!(error.message.as_deref(), Some("ValueError: boom from unittest"));
        assert!(error.file.as_deref().is_some_and(|f| f.ends_with("tests/test_unit.py")));
        assert_eq!(error.line, Some(19));
        let skip = out.tests.iter().find(|t| t.status == TestStatus::Skipped).expect("skip");
        assert_eq!(skip.message.as_deref(), Some("skipped on purpose"));
    }

    #[test]
    fn old_ids_docstrings_and_import_failures() {
        let eq = "=".repeat(70);
        let dash = "-".repeat(70);
        let text = format!(
            "test_a (pkg.test_m.T)\nDoes a thing. ... ok\nmod_b (unittest.loader._FailedTest.mod_b) ... ERROR\n\n{eq}\nERROR: mod_b (unittest.loader._FailedTest.mod_b)\n{dash}\nImportError: Failed to import test module: mod_b\n\n{dash}\nRan 2 tests in 0.001s\n\nFAILED (errors=1)\n"
        );
        let out = parse_unittest(text.as_bytes()).expect("parse");
        let names: Vec<_> = out.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["pkg.test_m.T.test_a", "mod_b"]);
        assert_eq!(out.tests[1].message.as_deref(), Some("ImportError: Failed to import test module: mod_b"));
        assert_eq!(out.ran, Some(2));
    }
}
