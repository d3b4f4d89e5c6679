//! Lines that streaming runners print as each test ends: pytest's `-v` lines and nextest's
//! status lines, for progress (and pytest's xfail / xpass, which its JUnit report blurs).

use std::sync::LazyLock;

use regex::Regex;

use crate::TestStatus;

/// One `pytest -v` result line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PytestLine {
    /// The node id.
    pub node: String,
    /// The outcome word it printed.
    pub status: TestStatus,
}

static PYTEST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<node>\S.*?::\S.*?) (?P<st>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)(?: \(.*\))?\s*(?:\[\s*\d+%\])?\s*$",
    )
    .expect("static regex")
});
static PYTEST_XDIST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\[gw\d+\] (?:\[\s*\d+%\] )?(?P<st>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS) (?P<node>\S.*?::\S.*?)(?: - .*)?\s*$",
    )
    .expect("static regex")
});
static PYTEST_COLLECTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"collected (?P<n>\d+) items?(?: / \d+ deselected / (?P<sel>\d+) selected)?")
        .expect("static regex")
});

/// Parses a `pytest -v` result line (`tests/t.py::test_a PASSED [ 50%]`, or xdist's
/// `[gw0] PASSED tests/t.py::test_a`).
pub fn parse_pytest_line(line: &str) -> Option<PytestLine> {
    if !line.contains("::") {
        return None;
    }
    let caps = PYTEST_LINE.captures(line).or_else(|| PYTEST_XDIST_LINE.captures(line))?;
    let status = match &caps["st"] {
        "PASSED" => TestStatus::Passed,
        "FAILED" => TestStatus::Failed,
        "SKIPPED" => TestStatus::Skipped,
        "ERROR" => TestStatus::Error,
        "XFAIL" => TestStatus::Xfail,
        _ => TestStatus::Xpass,
    };
    Some(PytestLine { node: caps["node"].to_string(), status })
}

/// The number of tests pytest will run, from its `collected N items` line.
pub fn pytest_collected(line: &str) -> Option<u64> {
    if !line.contains("collected ") {
        return None;
    }
    let caps = PYTEST_COLLECTED.captures(line)?;
    caps.name("sel").unwrap_or_else(|| caps.name("n").expect("group n always matches")).as_str().parse().ok()
}

/// A line of nextest's stderr worth knowing about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextestLine {
    /// `Starting N tests across M binaries (K tests skipped)`.
    Starting {
        /// Tests that will run.
        tests: u64,
        /// Tests skipped (ignored or filtered out).
        skipped: u64,
    },
    /// `PASS [ 0.005s] (2/6) binary test::name` (and FAIL, SIGSEGV, TIMEOUT, ...).
    Finished {
        /// The status word (`PASS`, `FAIL`, ...).
        word: String,
        /// The binary id.
        binary: String,
        /// The test name.
        name: String,
    },
    /// `Summary [ 0.014s] 6 tests run: 3 passed, 3 failed, 1 skipped`.
    Summary {
        /// Tests run.
        run: u64,
        /// Tests that passed.
        passed: u64,
    },
}

static NEXTEST_STARTING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*Starting (?P<n>\d+) tests? across \d+ binar(?:y|ies)(?: \((?P<skipped>\d+) tests? skipped\))?",
    )
    .expect("static regex")
});
static NEXTEST_FINISHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?P<word>PASS|FAIL|SIG[A-Z]+|TIMEOUT|ABORT|LEAK|LEAK-FAIL|FLAKY|TRY \d+ [A-Z]+|SKIP)\s+\[\s*[\d.]+s\]\s+(?:\(\s*\d+/\d+\)\s+)?(?P<binary>\S+)\s+(?P<name>.+?)\s*$",
    )
    .expect("static regex")
});
static NEXTEST_SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Summary \[\s*[\d.]+s\]\s+(?P<run>\d+) tests? run: (?P<passed>\d+) passed")
        .expect("static regex")
});

/// Parses one line of nextest's stderr.
pub fn parse_nextest_line(line: &str) -> Option<NextestLine> {
    if let Some(c) = NEXTEST_FINISHED.captures(line) {
        return Some(NextestLine::Finished {
            word: c["word"].to_string(),
            binary: c["binary"].to_string(),
            name: c["name"].to_string(),
        });
    }
    if let Some(c) = NEXTEST_STARTING.captures(line) {
        return Some(NextestLine::Starting {
            tests: c["n"].parse().unwrap_or(0),
            skipped: c.name("skipped").and_then(|s| s.as_str().parse().ok()).unwrap_or(0),
        });
    }
    if let Some(c) = NEXTEST_SUMMARY.captures(line) {
        return Some(NextestLine::Summary {
            run: c["run"].parse().unwrap_or(0),
            passed: c["passed"].parse().unwrap_or(0),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lines_of;

    #[test]
    fn pytest_verbose_lines_of_a_real_run() {
        let text = include_bytes!("../../testdata/pytest-verbose.txt");
        let lines: Vec<PytestLine> = lines_of(text).filter_map(|l| parse_pytest_line(&l)).collect();
        assert_eq!(lines.len(), 15);
        assert_eq!(
            lines.iter().find(|l| l.node == "tests/test_calc.py::test_unexpectedly_passes").map(|l| l.status),
            Some(TestStatus::Xpass)
        );
        assert_eq!(
            lines.iter().find(|l| l.node == "tests/test_calc.py::test_add_param[1-1-2]").map(|l| l.status),
            Some(TestStatus::Passed)
        );
        let collected: Vec<u64> = lines_of(text).filter_map(|l| pytest_collected(&l)).collect();
        assert_eq!(collected, [15]);
    }

    #[test]
    fn pytest_xdist_and_deselected() {
        assert_eq!(
            parse_pytest_line("[gw1] [ 50%] FAILED tests/t.py::test_b"),
            Some(PytestLine { node: "tests/t.py::test_b".into(), status: TestStatus::Failed })
        );
        assert_eq!(pytest_collected("collected 10 items / 7 deselected / 3 selected"), Some(3));
        assert_eq!(parse_pytest_line("E   assert 1 == 2"), None);
    }

    #[test]
    fn nextest_lines_of_a_real_run() {
        let text = include_bytes!("../../testdata/nextest-stderr.txt");
        let parsed: Vec<NextestLine> = lines_of(text).filter_map(|l| parse_nextest_line(&l)).collect();
        assert_eq!(parsed.first(), Some(&NextestLine::Starting { tests: 6, skipped: 1 }));
        assert!(parsed.contains(&NextestLine::Summary { run: 6, passed: 3 }));
        let finished_before_summary = parsed
            .iter()
            .take_while(|l| !matches!(l, NextestLine::Summary { .. }))
            .filter(|l| matches!(l, NextestLine::Finished { .. }))
            .count();
        assert_eq!(finished_before_summary, 6);
        assert!(parsed.contains(&NextestLine::Finished {
            word: "FAIL".into(),
            binary: "pipette-fixture::integration".into(),
            name: "integration_fails".into()
        }));
    }
}
