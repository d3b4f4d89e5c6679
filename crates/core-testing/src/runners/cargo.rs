//! Rust runners: `cargo test` (libtest output), `cargo nextest run` (JUnit report) and
//! `cargo clippy` (JSON messages).

use std::path::Path;

use super::{RunContext, Selection};
use crate::parse::{
    CargoMessageParser, JunitOutcome, LibtestEvent, LibtestParser, NextestLine, cap_details, panic_info,
    parse_junit, parse_nextest_line, parse_nextest_list,
};
use crate::process::Stream;
use crate::{
    Counts, CoverageOutcome, RunResult, RunStatus, RunnerKind, Severity, TestCase, TestStatus, TestingError,
};

const RUST_COVERAGE: &str = "coverage is not measured for Rust tests (it needs cargo-llvm-cov, \
                             which pipette does not run); only pytest reports coverage";

fn workspace_flag(ctx: &RunContext<'_>) -> Option<&'static str> {
    ctx.info.rust.as_ref().is_some_and(|r| r.workspace).then_some("--workspace")
}

fn selected_tests<'a>(ctx: &RunContext<'a>) -> Option<&'a [String]> {
    match ctx.selection {
        Some(Selection::Tests(names)) if !names.is_empty() => Some(names),
        _ => None,
    }
}

/// `cargo test --no-fail-fast`, reading libtest's per-test lines as they stream.
pub(super) async fn cargo_test(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let mut spec = ctx.spec("cargo")?.args(["test", "--no-fail-fast"]);
    if let Some(flag) = workspace_flag(ctx) {
        spec = spec.arg(flag);
    }
    if let Some(names) = selected_tests(ctx) {
        spec = spec.arg("--").arg("--exact").args(names.iter().cloned());
    } else if let Some(filter) = ctx.filter {
        spec = spec.arg("--").arg(filter);
    }

    let mut parser = LibtestParser::new();
    let output = spec
        .run(&mut |_stream, line| match parser.push_line(line) {
            Some(LibtestEvent::SuiteStarted { planned }) => ctx.progress.add_total(planned),
            Some(LibtestEvent::TestFinished { name, status }) => {
                ctx.progress.tick(&format!("{name} {}", status_word(status)));
            }
            None => {}
        })
        .await?;
    let parsed = parser.finish();

    let mut result = ctx.result(RunnerKind::CargoTest, &output);
    result.tests = parsed.tests;
    result.suites = parsed.suites;
    if ctx.coverage {
        result.coverage = Some(CoverageOutcome::Unavailable { reason: RUST_COVERAGE.into() });
    }
    for crash in &parsed.crashed {
        result.notes.push(format!("test binary did not finish: {crash}"));
    }
    if result.status == RunStatus::Timeout {
        return Ok(result);
    }
    let counts = Counts::of(&result.tests);
    result.status = if result.suites.is_empty() && output.exit_code != Some(0) {
        result.error = Some(if parsed.build_errors.is_empty() {
            format!(
                "cargo test exited with {} before running any test; see output_tail",
                exit_text(output.exit_code, output.signal)
            )
        } else {
            format!("the tests did not compile: {}", parsed.build_errors.join("; "))
        });
        RunStatus::Error
    } else if counts.failed + counts.errors > 0 || output.exit_code != Some(0) {
        RunStatus::Failed
    } else {
        RunStatus::Passed
    };
    Ok(result)
}

/// `cargo nextest run` with a generated tool config that writes the JUnit report into a
/// private temporary directory; nextest's status lines drive progress.
pub(super) async fn nextest(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let scratch = tempfile::Builder::new()
        .prefix("pipette-nextest-")
        .tempdir()
        .map_err(|e| TestingError::io("creating a temporary directory", e))?;
    let store = scratch.path().join("store");
    let config_path = scratch.path().join("nextest.toml");
    std::fs::write(&config_path, nextest_config(&store)?)
        .map_err(|e| TestingError::io("writing the nextest tool config", e))?;
    let tool_config = format!("pipette:{}", config_path.display());

    let mut args: Vec<String> =
        vec!["--tool-config-file".into(), tool_config, "--profile".into(), "pipette".into()];
    if let Some(flag) = workspace_flag(ctx) {
        args.push(flag.into());
    }
    if let Some(names) = selected_tests(ctx) {
        args.push("-E".into());
        args.push(names.iter().map(|n| format!("test(={n})")).collect::<Vec<_>>().join(" | "));
    } else if let Some(filter) = ctx.filter {
        args.push(filter.into());
    }

    let spec = ctx
        .spec("cargo")?
        .args(["nextest", "run", "--no-fail-fast", "--no-tests=warn"])
        .args(args.iter().cloned());
    let mut skipped = 0u64;
    let mut summary_seen = false;
    let output = spec
        .run(&mut |stream, line| {
            if stream != Stream::Stderr {
                return;
            }
            match parse_nextest_line(line) {
                Some(NextestLine::Starting { tests, skipped: s }) => {
                    ctx.progress.add_total(tests);
                    skipped = s;
                }
                // After the summary nextest repeats the failures: count each test once.
                Some(NextestLine::Finished { word, name, .. }) if !summary_seen => {
                    ctx.progress.tick(&format!("{name} {word}"));
                }
                Some(NextestLine::Summary { .. }) => summary_seen = true,
                Some(NextestLine::Finished { .. }) => {}
                None => {}
            }
        })
        .await?;

    let mut result = ctx.result(RunnerKind::CargoNextest, &output);
    if ctx.coverage {
        result.coverage = Some(CoverageOutcome::Unavailable { reason: RUST_COVERAGE.into() });
    }
    result.notes.push("nextest does not run doctests; use cargo_test for those".into());
    let junit_path = store.join("pipette").join("junit.xml");
    match std::fs::read(&junit_path) {
        Ok(xml) => {
            let report = parse_junit(&xml)?;
            for suite in report.suites {
                for case in suite.cases {
                    result.tests.push(nextest_case(&suite.name, case));
                }
            }
        }
        Err(_) => {
            if output.stderr.text.contains("no such command: `nextest`") {
                result.status = RunStatus::Error;
                result.error = Some(
                    "cargo-nextest is not installed; install it with `cargo install \
                     cargo-nextest --locked`, or use the cargo_test runner"
                        .into(),
                );
            } else if output.exit_code == Some(0) {
                // `--no-tests=warn` with nothing to run: no report, and no test (`no_tests` follows).
            } else if result.status != RunStatus::Timeout {
                result.status = RunStatus::Error;
                result.error = Some(format!(
                    "nextest exited with {} and wrote no JUnit report{}; see output_tail",
                    exit_text(output.exit_code, output.signal),
                    if output.exit_code == Some(101) { " (the build failed)" } else { "" }
                ));
            }
            return Ok(result);
        }
    }

    // Nextest's JUnit report leaves out skipped (ignored) tests; its list names them. With a
    // filter, "skipped" mixes ignored and filtered-out tests, and the list cannot tell which
    // ignored tests the filter matched: those are not counted.
    let filtered = ctx.filter.is_some() || selected_tests(ctx).is_some();
    if skipped > 0 && filtered {
        result
            .notes
            .push(format!("{skipped} tests were skipped (ignored or filtered out) and are not counted"));
    } else if skipped > 0 && result.status != RunStatus::Timeout {
        match list_ignored(ctx, &args).await {
            Ok(tests) => result.tests.extend(tests),
            Err(err) => {
                result.notes.push(format!("{skipped} test(s) were skipped but could not be listed: {err}"))
            }
        }
    }
    if result.status == RunStatus::Timeout {
        return Ok(result);
    }
    let counts = Counts::of(&result.tests);
    result.status = if counts.failed + counts.errors > 0 || output.exit_code != Some(0) {
        RunStatus::Failed
    } else {
        RunStatus::Passed
    };
    Ok(result)
}

async fn list_ignored(ctx: &RunContext<'_>, args: &[String]) -> Result<Vec<TestCase>, TestingError> {
    let spec =
        ctx.spec("cargo")?.args(["nextest", "list", "--message-format", "json"]).args(args.iter().cloned());
    let output = spec.run(&mut |_, _| {}).await?;
    if output.exit_code != Some(0) {
        return Err(TestingError::parse(
            "nextest test list",
            format!("cargo nextest list exited with {}", exit_text(output.exit_code, output.signal)),
        ));
    }
    parse_nextest_list(output.stdout.text.as_bytes())
}

/// A nextest tool config: our own profile, with the store (and so the JUnit report) in `store`.
fn nextest_config(store: &Path) -> Result<String, TestingError> {
    let store = store.to_string_lossy();
    if store.contains('\'') || store.contains('\n') {
        return Err(TestingError::Internal(format!(
            "the temporary directory {store} cannot be written into a TOML literal string"
        )));
    }
    Ok(format!(
        "# Written by pipette for one run.\n[store]\ndir = '{store}'\n\n\
         [profile.pipette]\nfail-fast = false\n\n[profile.pipette.junit]\npath = \"junit.xml\"\n"
    ))
}

fn nextest_case(suite: &str, case: crate::parse::JunitCase) -> TestCase {
    let status = match case.outcome {
        JunitOutcome::Passed => TestStatus::Passed,
        JunitOutcome::Failure => TestStatus::Failed,
        JunitOutcome::Error => TestStatus::Error,
        JunitOutcome::Skipped => TestStatus::Skipped,
    };
    let mut test = TestCase::new(case.name, status);
    test.suite = Some(case.classname.unwrap_or_else(|| suite.to_string()));
    test.duration_ms = case.time.map(|t| t * 1000.0);
    if status != TestStatus::Passed {
        let text = case.text.or(case.system_err).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if let Some(panic) = panic_info(&lines) {
            test.message = Some(panic.message);
            test.file = Some(panic.file);
            test.line = Some(panic.line);
        } else {
            test.message = case.message;
        }
        let text = text.trim();
        if !text.is_empty() {
            test.details = Some(cap_details(text));
        }
    }
    test
}

/// `cargo clippy --all-targets --message-format=json`, one diagnostic per unique finding.
pub(super) async fn clippy(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let mut spec = ctx.spec("cargo")?.args(["clippy", "--all-targets", "--message-format=json"]);
    if let Some(flag) = workspace_flag(ctx) {
        spec = spec.arg(flag);
    }
    let mut parser = CargoMessageParser::default();
    let output = spec
        .run(&mut |stream, line| {
            if stream == Stream::Stdout
                && let Some(d) = parser.push_line(line)
            {
                let location = format!("{}:{}", d.file.as_deref().unwrap_or("?"), d.line.unwrap_or(0));
                ctx.progress.tick(&location);
            }
        })
        .await?;
    let messages = parser.finish();
    let mut result = ctx.result(RunnerKind::Clippy, &output);
    result.diagnostics = messages.diagnostics;
    if result.status == RunStatus::Timeout {
        return Ok(result);
    }
    let findings = result.diagnostics.iter().any(|d| d.severity <= Severity::Warning);
    result.status = if findings {
        RunStatus::Failed
    } else if output.exit_code != Some(0) || messages.build_success == Some(false) {
        result.error = Some(if output.stderr.text.contains("no such command: `clippy`") {
            "clippy is not installed; install it with `rustup component add clippy`".into()
        } else {
            format!(
                "cargo clippy exited with {} without reporting a diagnostic; see output_tail",
                exit_text(output.exit_code, output.signal)
            )
        });
        RunStatus::Error
    } else {
        RunStatus::Passed
    };
    Ok(result)
}

pub(super) fn status_word(status: TestStatus) -> &'static str {
    match status {
        TestStatus::Passed => "ok",
        TestStatus::Failed => "FAILED",
        TestStatus::Skipped => "skipped",
        TestStatus::Error => "ERROR",
        TestStatus::Xfail => "xfail",
        TestStatus::Xpass => "XPASS",
    }
}

pub(super) fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("code {c}"),
        (None, Some(s)) => format!("signal {s}"),
        (None, None) => "an unknown status".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nextest_config_points_the_store_at_the_scratch_dir() {
        let text = nextest_config(Path::new("/tmp/x y")).expect("config");
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(parsed["store"]["dir"].as_str(), Some("/tmp/x y"));
        assert_eq!(parsed["profile"]["pipette"]["junit"]["path"].as_str(), Some("junit.xml"));
        assert!(nextest_config(Path::new("/tmp/it's")).is_err());
    }

    #[test]
    fn nextest_cases_carry_panic_locations() {
        let report = parse_junit(include_bytes!("../../testdata/nextest-junit.xml")).expect("parse");
        let tests: Vec<TestCase> = report
            .suites
            .iter()
            .flat_map(|s| s.cases.iter().map(|c| nextest_case(&s.name, c.clone())))
            .collect();
        let failed = tests.iter().find(|t| t.name == "tests::fails_assert").expect("test");
        assert_eq!(failed.status, TestStatus::Failed);
        assert_eq!(failed.file.as_deref(), Some("src/lib.rs"));
        assert_eq!(failed.line, Some(24));
        assert!(failed.message.as_deref().is_some_and(|m| m.starts_with("assertion `left == right` failed")));
        assert_eq!(failed.suite.as_deref(), Some("pipette-fixture"));
    }
}
