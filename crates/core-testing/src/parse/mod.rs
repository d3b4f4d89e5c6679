//! Pure parsers of each tool's output: bytes in, structured results out, no I/O.

mod cargo_json;
mod coverage;
mod junit;
mod libtest;
mod progress;
mod python_lint;
mod unittest;

pub use cargo_json::{CargoMessageParser, CargoMessages, parse_cargo_messages, parse_nextest_list};
pub use coverage::parse_coverage_json;
pub use junit::{JunitCase, JunitOutcome, JunitReport, JunitSuite, parse_junit};
pub(crate) use libtest::panic_info;
pub use libtest::{LibtestEvent, LibtestOutput, LibtestParser, parse_libtest};
pub use progress::{NextestLine, PytestLine, parse_nextest_line, parse_pytest_line, pytest_collected};
pub use python_lint::{parse_flake8, parse_flake8_line, parse_mypy, parse_mypy_line, parse_ruff};
pub use unittest::{UnittestOutput, UnittestParser, parse_unittest};

/// Longest failure detail kept per test (the tail is kept).
const MAX_DETAILS: usize = 8 * 1024;

/// Splits output into lines (lossy UTF-8, `\r` trimmed).
pub(crate) fn lines_of(output: &[u8]) -> impl Iterator<Item = String> + '_ {
    let output = output.strip_suffix(b"\n").unwrap_or(output);
    output.split(|b| *b == b'\n').map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        String::from_utf8_lossy(line).into_owned()
    })
}

/// Caps a failure detail, keeping its end (where the assertion usually is).
pub(crate) fn cap_details(text: &str) -> String {
    crate::process::tail_of(text, MAX_DETAILS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_a_pipe_reader() {
        let lines: Vec<String> = lines_of(b"a\r\nb\n\nc").collect();
        assert_eq!(lines, ["a", "b", "", "c"]);
        let lines: Vec<String> = lines_of(b"a\nb\n").collect();
        assert_eq!(lines, ["a", "b"]);
        assert_eq!(lines_of(b"").count(), 1);
    }
}
