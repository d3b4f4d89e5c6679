//! libtest's human output from `cargo test` (stdout and stderr interleaved): per test binary,
//! per test (ok / FAILED / ignored), panic message and location.

use std::sync::LazyLock;

use regex::Regex;

use super::{cap_details, lines_of};
use crate::{Counts, SuiteResult, TestCase, TestStatus, TestingError};

/// What `cargo test` reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibtestOutput {
    /// Every test seen, in completion order.
    pub tests: Vec<TestCase>,
    /// One entry per test binary, with the counts of its own `test result:` line.
    pub suites: Vec<SuiteResult>,
    /// Compiler and cargo errors (a build that failed before tests ran).
    pub build_errors: Vec<String>,
    /// Test binaries that did not finish normally (crashed, killed).
    pub crashed: Vec<String>,
}

/// A step worth reporting as progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibtestEvent {
    /// A test binary started; `planned` tests will run.
    SuiteStarted {
        /// Tests it announced.
        planned: u64,
    },
    /// A test finished.
    TestFinished {
        /// Its name.
        name: String,
        /// Its outcome.
        status: TestStatus,
    },
}

/// Parses the whole output at once.
pub fn parse_libtest(output: &[u8]) -> Result<LibtestOutput, TestingError> {
    let mut parser = LibtestParser::new();
    for line in lines_of(output) {
        parser.push_line(&line);
    }
    Ok(parser.finish())
}

#[derive(Debug, Default, PartialEq)]
enum Section {
    #[default]
    Outside,
    /// Between `running N tests` and the first `failures:`.
    Running,
    /// The `---- name stdout ----` blocks.
    Details,
    /// The list of failed names, up to `test result:`.
    FailureList,
}

/// Incremental parser: feed lines as they arrive, read events for progress, then `finish`.
#[derive(Debug, Default)]
pub struct LibtestParser {
    out: LibtestOutput,
    section: Section,
    /// The name cargo gave the binary that is running (from `Running ...` / `Doc-tests ...`).
    /// Suite headers (cargo's `Running …` / `Doc-tests …`, on stderr) not yet matched with their
    /// `running N tests` line (on stdout): a queue, because the two pipes are read independently and a later
    /// header can arrive before an earlier binary's output.
    pending_suites: std::collections::VecDeque<String>,
    current_suite: Option<String>,
    suite_start: usize,
    detail_for: Option<String>,
    detail_lines: Vec<String>,
}

static RUNNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s+Running (?P<label>.+?)(?: \((?P<path>[^()]+)\))?$").expect("static regex")
});
static DOC_TESTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+Doc-tests (?P<krate>\S+)$").expect("static regex"));
static RUNNING_N: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^running (?P<n>\d+) tests?$").expect("static regex"));
static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^test result: (?P<verdict>\w+)\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) ignored; (?P<measured>\d+) measured; (?P<filtered>\d+) filtered out(?:; finished in (?P<secs>[\d.]+)s)?",
    )
    .expect("static regex")
});
static PANIC_NEW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^thread '(?P<thread>.*?)'(?: \(\d+\))? panicked at (?P<file>.+?):(?P<line>\d+):(?P<col>\d+):$",
    )
    .expect("static regex")
});
static PANIC_OLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^thread '(?P<thread>.*?)'(?: \(\d+\))? panicked at '(?P<msg>.*)', (?P<file>.+?):(?P<line>\d+):(?P<col>\d+)$")
        .expect("static regex")
});
static PROCESS_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"process didn't exit successfully: .*\((?P<why>signal: .+)\)$").expect("static regex")
});

impl LibtestParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (without its newline).
    pub fn push_line(&mut self, line: &str) -> Option<LibtestEvent> {
        if let Some(caps) = RUNNING.captures(line) {
            let label = caps["label"].trim().to_string();
            let binary = caps.name("path").and_then(|p| binary_stem(p.as_str()));
            self.pending_suites.push_back(match binary {
                Some(b) => format!("{label} ({b})"),
                None => label,
            });
            return None;
        }
        if let Some(caps) = DOC_TESTS.captures(line) {
            self.pending_suites.push_back(format!("doctests {}", &caps["krate"]));
            return None;
        }
        if let Some(caps) = RUNNING_N.captures(line) {
            self.flush_detail();
            let planned = caps["n"].parse().unwrap_or(0);
            let name = self
                .pending_suites
                .pop_front()
                .unwrap_or_else(|| format!("test binary {}", self.out.suites.len() + 1));
            self.current_suite = Some(name);
            self.suite_start = self.out.tests.len();
            self.section = Section::Running;
            return Some(LibtestEvent::SuiteStarted { planned });
        }
        if let Some(caps) = RESULT.captures(line) {
            self.flush_detail();
            self.finish_suite(&caps);
            self.section = Section::Outside;
            return None;
        }
        if let Some(caps) = PROCESS_FAILED.captures(line) {
            let suite = self.current_suite.clone().unwrap_or_else(|| "a test binary".into());
            self.out.crashed.push(format!("{suite}: {}", &caps["why"]));
            return None;
        }
        match self.section {
            Section::Running => {
                if line == "failures:" {
                    self.section = Section::Details;
                    return None;
                }
                if let Some((name, status, message)) = test_line(line) {
                    let mut test = TestCase::new(name.clone(), status);
                    test.suite.clone_from(&self.current_suite);
                    test.message = message;
                    self.out.tests.push(test);
                    return Some(LibtestEvent::TestFinished { name, status });
                }
            }
            Section::Details => {
                if let Some(name) =
                    line.strip_prefix("---- ").and_then(|rest| rest.strip_suffix(" stdout ----"))
                {
                    self.flush_detail();
                    self.detail_for = Some(name.to_string());
                } else if line == "failures:" {
                    self.flush_detail();
                    self.section = Section::FailureList;
                } else if self.detail_for.is_some() {
                    self.detail_lines.push(line.to_string());
                }
            }
            Section::FailureList => {}
            Section::Outside => {
                if is_build_error(line) && self.out.build_errors.len() < 20 {
                    self.out.build_errors.push(line.to_string());
                }
            }
        }
        None
    }

    /// Ends the parse.
    pub fn finish(mut self) -> LibtestOutput {
        self.flush_detail();
        self.out
    }

    fn finish_suite(&mut self, caps: &regex::Captures<'_>) {
        let num = |k: &str| caps[k].parse::<u64>().unwrap_or(0);
        let (passed, failed, ignored) = (num("passed"), num("failed"), num("ignored"));
        let counts = Counts {
            total: passed + failed + ignored,
            passed,
            failed,
            skipped: ignored,
            ..Counts::default()
        };
        self.out.suites.push(SuiteResult {
            name: self
                .current_suite
                .take()
                .unwrap_or_else(|| format!("test binary {}", self.out.suites.len() + 1)),
            counts,
            filtered_out: num("filtered"),
            duration_ms: caps.name("secs").and_then(|s| s.as_str().parse::<f64>().ok()).map(|s| s * 1000.0),
        });
    }

    fn flush_detail(&mut self) {
        let Some(name) = self.detail_for.take() else {
            return;
        };
        let lines = std::mem::take(&mut self.detail_lines);
        let start = self.suite_start.min(self.out.tests.len());
        let Some(test) = self.out.tests[start..].iter_mut().rev().find(|t| t.name == name) else {
            return;
        };
        let panic = panic_info(&lines);
        if let Some(p) = panic {
            test.message = Some(p.message);
            test.file = Some(p.file);
            test.line = Some(p.line);
        } else if let Some(first) = lines.iter().map(|l| l.trim()).find(|l| !l.is_empty()) {
            test.message = Some(first.to_string());
        }
        let text = lines.join("\n");
        let text = text.trim();
        if !text.is_empty() {
            test.details = Some(cap_details(text));
        }
    }
}

/// `test NAME ... RESULT` → name, status, optional message (the ignore reason).
fn test_line(line: &str) -> Option<(String, TestStatus, Option<String>)> {
    let rest = line.strip_prefix("test ")?;
    let (name, result) = rest.rsplit_once(" ... ")?;
    let name = name.strip_suffix(" - should panic").unwrap_or(name);
    let name = name.strip_suffix(" - compile fail").unwrap_or(name);
    let (status, message) = match result.trim_end() {
        "ok" => (TestStatus::Passed, None),
        "FAILED" => (TestStatus::Failed, None),
        "ignored" => (TestStatus::Skipped, None),
        r => {
            if let Some(reason) = r.strip_prefix("ignored, ") {
                (TestStatus::Skipped, Some(reason.to_string()))
            } else if r.starts_with("bench:") {
                (TestStatus::Passed, None)
            } else {
                return None;
            }
        }
    };
    Some((name.to_string(), status, message))
}

pub(crate) struct Panic {
    pub(crate) message: String,
    pub(crate) file: String,
    pub(crate) line: u32,
}

pub(crate) fn panic_info(lines: &[String]) -> Option<Panic> {
    for (i, line) in lines.iter().enumerate() {
        if let Some(caps) = PANIC_NEW.captures(line) {
            let message: Vec<&str> = lines[i + 1..]
                .iter()
                .map(String::as_str)
                .take_while(|l| {
                    !l.starts_with("note: ") && !l.starts_with("stack backtrace:") && !PANIC_NEW.is_match(l)
                })
                .collect();
            let message = message.join("\n").trim().to_string();
            let extra = lines[i + 1..]
                .iter()
                .find(|l| {
                    l.starts_with("note: test did not panic") || l.starts_with("note: panic did not contain")
                })
                .map(|l| l.trim_start_matches("note: ").to_string());
            let message = match (message.is_empty(), extra) {
                (_, Some(extra)) => extra,
                (true, None) => "panicked".to_string(),
                (false, None) => message,
            };
            return Some(Panic {
                message,
                file: caps["file"].to_string(),
                line: caps["line"].parse().unwrap_or(0),
            });
        }
        if let Some(caps) = PANIC_OLD.captures(line) {
            return Some(Panic {
                message: caps["msg"].to_string(),
                file: caps["file"].to_string(),
                line: caps["line"].parse().unwrap_or(0),
            });
        }
    }
    None
}

fn is_build_error(line: &str) -> bool {
    (line.starts_with("error[") || line.starts_with("error: "))
        && !line.starts_with("error: test failed")
        && !(line.starts_with("error: ") && line.contains(" target") && line.ends_with("failed:"))
}

/// `/x/target/debug/deps/pipette_fixture-98217b05df1333b5` → `pipette_fixture`.
fn binary_stem(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let stem = match file.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => stem,
        _ => file,
    };
    (!stem.is_empty()).then(|| stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../testdata/cargo-test.txt");

    fn find<'a>(out: &'a LibtestOutput, name: &str) -> &'a TestCase {
        out.tests.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no test {name}"))
    }

    #[test]
    fn parses_every_test_of_a_real_run() {
        let out = parse_libtest(FIXTURE.as_bytes()).expect("parse");
        let counts = Counts::of(&out.tests);
        assert_eq!((counts.total, counts.passed, counts.failed, counts.skipped), (8, 4, 3, 1));
        // Our per-test counts agree with each binary's own `test result:` line.
        let mut from_suites = Counts::default();
        for suite in &out.suites {
            from_suites.merge(&suite.counts);
        }
        assert_eq!(from_suites, counts);
        assert_eq!(
            out.suites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            vec![
                "unittests src/lib.rs (pipette_fixture)",
                "tests/integration.rs (integration)",
                "doctests pipette_fixture"
            ]
        );
        assert!(out.build_errors.is_empty(), "{:?}", out.build_errors);
    }

    #[test]
    fn reads_panic_messages_and_locations() {
        let out = parse_libtest(FIXTURE.as_bytes()).expect("parse");
        let fails = find(&out, "tests::fails_assert");
        assert_eq!(fails.status, TestStatus::Failed);
        assert_eq!(fails.message.as_deref(), Some("assertion `left == right` failed\n  left: 4\n right: 5"));
        assert_eq!(fails.file.as_deref(), Some("src/lib.rs"));
        assert_eq!(fails.line, Some(24));
        assert!(fails.details.as_deref().is_some_and(|d| d.contains("panicked")));
        let panics = find(&out, "tests::panics");
        assert_eq!(panics.message.as_deref(), Some("boom from the fixture"));
        let integration = find(&out, "integration_fails");
        assert_eq!(integration.suite.as_deref(), Some("tests/integration.rs (integration)"));
        assert_eq!(integration.file.as_deref(), Some("tests/integration.rs"));
        assert_eq!(integration.line, Some(10));
        let ignored = find(&out, "tests::ignored");
        assert_eq!(ignored.status, TestStatus::Skipped);
        assert_eq!(ignored.message.as_deref(), Some("slow on purpose"));
        assert_eq!(find(&out, "tests::should_panic_ok").status, TestStatus::Passed);
        assert_eq!(find(&out, "src/lib.rs - add (line 5)").status, TestStatus::Passed);
    }

    #[test]
    fn suites_are_named_in_order_when_stderr_headers_arrive_first() {
        // stdout and stderr are read independently: every header may come before any test output.
        let lines = [
            "     Running unittests src/lib.rs (target/debug/deps/fx-0123456789abcdef)",
            "   Doc-tests fx",
            "running 1 test",
            "test tests::a ... ok",
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "running 1 test",
            "test src/lib.rs - f (line 1) ... ok",
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ];
        let mut parser = LibtestParser::new();
        for line in lines {
            parser.push_line(line);
        }
        let out = parser.finish();
        assert_eq!(find(&out, "tests::a").suite.as_deref(), Some("unittests src/lib.rs (fx)"));
        assert_eq!(
            out.suites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["unittests src/lib.rs (fx)", "doctests fx"]
        );
    }

    #[test]
    fn reports_build_errors() {
        let out = parse_libtest(
            b"   Compiling x v0.1.0 (/p)\nerror[E0425]: cannot find value `y` in this scope\n --> src/lib.rs:1:1\nerror: could not compile `x` (lib test) due to 1 previous error\n",
        )
        .expect("parse");
        assert!(out.tests.is_empty());
        assert_eq!(out.build_errors.len(), 2);
    }

    #[test]
    fn reads_the_old_panic_format_and_crashes() {
        let text = "running 1 test\ntest t ... FAILED\n\nfailures:\n\n---- t stdout ----\nthread 't' panicked at 'boom', src/lib.rs:3:5\n\nfailures:\n    t\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n\nerror: test failed, to rerun pass `--lib`\n\nCaused by:\n  process didn't exit successfully: `/t/deps/x-0123456789abcdef` (signal: 11, SIGSEGV: invalid memory reference)\n";
        let out = parse_libtest(text.as_bytes()).expect("parse");
        assert_eq!(out.tests[0].message.as_deref(), Some("boom"));
        assert_eq!(out.tests[0].line, Some(3));
        assert_eq!(out.crashed.len(), 1);
        assert!(out.build_errors.is_empty());
    }

    #[test]
    fn emits_progress_events() {
        let mut parser = LibtestParser::new();
        assert_eq!(parser.push_line("running 2 tests"), Some(LibtestEvent::SuiteStarted { planned: 2 }));
        assert_eq!(
            parser.push_line("test a::b ... ok"),
            Some(LibtestEvent::TestFinished { name: "a::b".into(), status: TestStatus::Passed })
        );
        assert_eq!(parser.push_line("some noise"), None);
    }

    #[test]
    fn binary_stems_drop_the_hash() {
        assert_eq!(
            binary_stem("/t/debug/deps/pipette_fixture-98217b05df1333b5").as_deref(),
            Some("pipette_fixture")
        );
        assert_eq!(binary_stem("/t/x").as_deref(), Some("x"));
    }
}
