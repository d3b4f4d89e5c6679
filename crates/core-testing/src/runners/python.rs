//! Python runners: pytest (JUnit XML + `-v` lines, coverage through pytest-cov), unittest
//! (verbose output), mypy (`-O json`, else its line format), ruff (JSON) and flake8.

use std::collections::HashMap;
use std::path::Path;

use super::cargo::{exit_text, status_word};
use super::{RunContext, Selection, module_missing, relative_to};
use crate::parse::{
    JunitCase, JunitOutcome, UnittestParser, cap_details, parse_coverage_json, parse_flake8, parse_junit,
    parse_mypy, parse_pytest_line, parse_ruff, pytest_collected,
};
use crate::process::{ChildOutput, Stream, find_on_path};
use crate::{
    Counts, CoverageOutcome, Diagnostic, RunResult, RunStatus, RunnerKind, Severity, TestCase, TestStatus,
    TestingError,
};

fn scratch_dir(prefix: &str) -> Result<tempfile::TempDir, TestingError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| TestingError::io("creating a temporary directory", e))
}

fn not_installed(module: &str, package: &str, python: &str) -> String {
    format!(
        "{module} is not installed for {python}; install it with `{python} -m pip install {package}` \
         (or add it to the project's virtualenv)"
    )
}

/// Turns a pytest filter into arguments: a path or node id inside the project is passed as is;
/// anything else becomes a `-k` expression.
fn pytest_filter_args(project: &Path, filter: &str) -> Result<Vec<String>, TestingError> {
    let path_part = filter.split("::").next().unwrap_or(filter);
    let looks_like_path = filter.contains("::")
        || path_part.ends_with(".py")
        || (!path_part.is_empty() && project.join(path_part).exists());
    if !looks_like_path {
        return Ok(vec!["-k".into(), filter.into()]);
    }
    let candidate = project.join(path_part);
    let canonical = candidate.canonicalize().map_err(|_| {
        TestingError::invalid(
            "filter",
            format!("`{path_part}` does not exist in the project; pass an existing test path, a node id or a -k expression"),
        )
    })?;
    if !canonical.starts_with(project) {
        return Err(TestingError::invalid(
            "filter",
            format!("`{path_part}` leads outside the project; pass a path inside it"),
        ));
    }
    Ok(vec![filter.into()])
}

/// pytest with `-v` (progress, xfail/xpass) and a JUnit XML report (everything else).
pub(super) async fn pytest(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let python = ctx.python();
    let scratch = scratch_dir("pipette-pytest-")?;
    let junit = scratch.path().join("junit.xml");
    let coverage_json = scratch.path().join("coverage.json");

    let mut coverage_unavailable = None;
    let mut measure = false;
    if ctx.coverage {
        match pytest_cov_probe(ctx, &python).await {
            CovProbe::Ready => measure = true,
            CovProbe::Missing => {
                coverage_unavailable = Some(format!(
                    "pytest-cov is not installed for {python}, so coverage was not measured; \
                     install it with `{python} -m pip install pytest-cov`"
                ));
            }
            CovProbe::NotLoaded => {
                coverage_unavailable = Some(
                    "pytest-cov is installed but PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps pytest from \
                     loading it, so coverage was not measured; unset that variable"
                        .into(),
                );
            }
        }
    }

    let mut spec = ctx.spec(&python)?.args([
        "-m".to_string(),
        "pytest".into(),
        "-v".into(),
        "--continue-on-collection-errors".into(),
        "-o".into(),
        "junit_family=xunit1".into(),
        format!("--junitxml={}", junit.display()),
    ]);
    if measure {
        spec = spec.args(["--cov".to_string(), format!("--cov-report=json:{}", coverage_json.display())]);
    }
    match ctx.selection {
        Some(Selection::Tests(nodes)) if !nodes.is_empty() => {
            spec = spec.args(nodes.iter().cloned());
        }
        _ => {
            if let Some(filter) = ctx.filter {
                spec = spec.args(pytest_filter_args(ctx.project, filter)?);
            }
        }
    }

    let mut verbose: Vec<(String, TestStatus)> = Vec::new();
    let output = spec
        .run(&mut |stream, line| {
            if stream != Stream::Stdout {
                return;
            }
            if let Some(n) = pytest_collected(line) {
                ctx.progress.add_total(n);
            } else if let Some(l) = parse_pytest_line(line) {
                ctx.progress.tick(&format!("{} {}", l.node, status_word(l.status)));
                verbose.push((l.node, l.status));
            }
        })
        .await?;

    let mut result = ctx.result(RunnerKind::Pytest, &output);
    if module_missing(&output, "pytest") {
        result.status = RunStatus::Error;
        result.error = Some(not_installed("pytest", "pytest", &python));
        return Ok(result);
    }

    match std::fs::read(&junit) {
        Ok(xml) => {
            let report = parse_junit(&xml)?;
            let said: HashMap<&str, TestStatus> = verbose.iter().map(|(n, s)| (n.as_str(), *s)).collect();
            for suite in &report.suites {
                for case in &suite.cases {
                    result.tests.push(pytest_case(case, &said));
                }
            }
        }
        Err(_) => {
            // No report (killed, or pytest broke down early): fall back to the `-v` lines.
            for (node, status) in &verbose {
                let mut test = TestCase::new(node.clone(), *status);
                test.file = node.split("::").next().map(str::to_string);
                result.tests.push(test);
            }
            if !verbose.is_empty() {
                result
                    .notes
                    .push("no JUnit report was written; tests were read from pytest's -v lines".into());
            }
        }
    }

    if ctx.coverage {
        result.coverage = Some(match coverage_unavailable {
            Some(reason) => CoverageOutcome::Unavailable { reason },
            None => match std::fs::read(&coverage_json) {
                Ok(json) => CoverageOutcome::Measured(parse_coverage_json(&json)?),
                Err(_) => CoverageOutcome::Unavailable {
                    reason: "pytest-cov ran but wrote no coverage report; see output_tail".into(),
                },
            },
        });
    }

    if result.status == RunStatus::Timeout {
        return Ok(result);
    }
    let counts = Counts::of(&result.tests);
    result.status = match output.exit_code {
        Some(0) => RunStatus::Passed,
        Some(1) => RunStatus::Failed,
        Some(5) => {
            result.notes.push(match ctx.filter {
                Some(f) => format!("pytest ran no tests: none matched the filter `{f}`"),
                None => "pytest collected no tests (it looks for test_*.py and *_test.py files with \
                         test_* functions and Test* classes)"
                    .into(),
            });
            RunStatus::NoTests
        }
        Some(2) if counts.total > 0 => {
            result.notes.push("pytest was interrupted".into());
            RunStatus::Failed
        }
        code => {
            result.error = Some(format!(
                "pytest exited with {} ({}); see output_tail",
                exit_text(code, output.signal),
                match code {
                    Some(2) => "interrupted",
                    Some(3) => "internal error",
                    Some(4) => "usage error: bad arguments or configuration",
                    _ => "unexpected",
                }
            ));
            RunStatus::Error
        }
    };
    if result.status == RunStatus::Passed && counts.failed + counts.errors > 0 {
        result.status = RunStatus::Failed;
    }
    Ok(result)
}

/// A JUnit test case as a pytest test (node id, xfail/xpass, 1-based line).
fn pytest_case(case: &JunitCase, said: &HashMap<&str, TestStatus>) -> TestCase {
    let node = pytest_node_id(case);
    let status = match case.outcome {
        JunitOutcome::Failure => TestStatus::Failed,
        JunitOutcome::Error => TestStatus::Error,
        JunitOutcome::Skipped if case.kind.as_deref() == Some("pytest.xfail") => TestStatus::Xfail,
        JunitOutcome::Skipped => TestStatus::Skipped,
        JunitOutcome::Passed => match said.get(node.as_str()) {
            Some(TestStatus::Xpass) => TestStatus::Xpass,
            _ => TestStatus::Passed,
        },
    };
    let mut test = TestCase::new(node, status);
    test.duration_ms = case.time.map(|t| t * 1000.0);
    test.file.clone_from(&case.file);
    test.line = case.line.map(|l| l + 1);
    if status != TestStatus::Passed {
        let message = case.message.clone().filter(|m| !m.is_empty());
        test.message = match message.as_deref() {
            // Collection failures say only that: the cause is the last `E` line.
            Some("collection failure") | None => case
                .text
                .as_deref()
                .and_then(|t| {
                    t.lines().rev().find_map(|l| l.strip_prefix("E ")).map(|l| l.trim().to_string())
                })
                .or(message),
            Some(_) => message,
        };
        if let Some(text) = case.text.as_deref().filter(|t| !t.trim().is_empty()) {
            if let Some(line) = failure_line(text, case.file.as_deref()) {
                test.line = Some(line);
            }
            test.details = Some(cap_details(text.trim()));
        }
    }
    test
}

/// The line a failure happened on, from the traceback's last `file:line: Error` line, when it
/// is in the test's own file.
fn failure_line(text: &str, file: Option<&str>) -> Option<u32> {
    let file = file?;
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let rest = last.strip_prefix(file)?.strip_prefix(':')?;
    let (line, _) = rest.split_once(':')?;
    line.parse().ok()
}

/// Rebuilds pytest's node id from the JUnit `file`, `classname` and `name`.
fn pytest_node_id(case: &JunitCase) -> String {
    let name = &case.name;
    let Some(file) = case.file.as_deref() else {
        return match case.classname.as_deref() {
            Some(class) => format!("{}::{name}", class.replace('.', "::")),
            None => name.clone(),
        };
    };
    let module = file.trim_end_matches(".py").replace(['/', '\\'], ".");
    match case.classname.as_deref() {
        None if *name == module => file.to_string(),
        Some(class) => match class.strip_prefix(module.as_str()) {
            Some("") => format!("{file}::{name}"),
            Some(rest) if rest.starts_with('.') => {
                format!("{file}::{}::{name}", rest[1..].replace('.', "::"))
            }
            _ => format!("{file}::{name}"),
        },
        None => format!("{file}::{name}"),
    }
}

enum CovProbe {
    Ready,
    Missing,
    NotLoaded,
}

/// Whether pytest will load pytest-cov under the run's environment.
async fn pytest_cov_probe(ctx: &RunContext<'_>, python: &str) -> CovProbe {
    const PROBE: &str = "import importlib.util, os, sys\n\
                         if importlib.util.find_spec('pytest_cov') is None: sys.exit(3)\n\
                         sys.exit(4 if os.environ.get('PYTEST_DISABLE_PLUGIN_AUTOLOAD') else 0)\n";
    let Ok(spec) = ctx.spec(python) else {
        return CovProbe::Missing;
    };
    match spec.args(["-c", PROBE]).run(&mut |_, _| {}).await {
        Ok(o) if o.exit_code == Some(0) => CovProbe::Ready,
        Ok(o) if o.exit_code == Some(4) => CovProbe::NotLoaded,
        _ => CovProbe::Missing,
    }
}

/// `python -m unittest discover -v` (or the named tests), parsed from its verbose lines.
pub(super) async fn unittest(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let python = ctx.python();
    let mut spec = ctx.spec(&python)?.args(["-m", "unittest"]);
    match ctx.selection {
        Some(Selection::Tests(ids)) if !ids.is_empty() => {
            spec = spec.arg("-v").args(ids.iter().cloned());
        }
        _ => {
            spec = spec.args(["discover", "-v"]);
            if let Some(filter) = ctx.filter {
                spec = spec.args(["-k", filter]);
            }
        }
    }
    let mut parser = UnittestParser::default();
    let output = spec
        .run(&mut |_stream, line| {
            if let Some(test) = parser.push_line(line) {
                ctx.progress.tick(&format!("{} {}", test.name, status_word(test.status)));
            }
        })
        .await?;
    let parsed = parser.finish();
    let mut result = ctx.result(RunnerKind::Unittest, &output);
    result.tests = parsed.tests;
    for test in &mut result.tests {
        if let Some(file) = test.file.take() {
            test.file = Some(relative_to(ctx.project, &file));
        }
    }
    if ctx.coverage {
        result.coverage = Some(CoverageOutcome::Unavailable {
            reason: "coverage is measured through pytest-cov; run the tests with the pytest \
                     runner to measure it"
                .into(),
        });
    }
    if let (Some(ran), n) = (parsed.ran, result.tests.len() as u64)
        && ran != n
    {
        result.notes.push(format!("unittest ran {ran} tests but {n} could be read from its output"));
    }
    if result.status == RunStatus::Timeout {
        return Ok(result);
    }
    let counts = Counts::of(&result.tests);
    let none_found = || {
        if let Some(f) = ctx.filter {
            return format!("unittest ran no tests: none matched the filter `{f}`");
        }
        format!(
            "unittest found no tests: it runs unittest.TestCase classes in files named test*.py{}",
            if ctx.info.pytest_style {
                "; this project's tests are plain pytest functions (bare assert): run them with the \
                 pytest runner"
            } else {
                ""
            }
        )
    };
    result.status = match output.exit_code {
        Some(0) if parsed.ran == Some(0) || (parsed.ran.is_none() && counts.total == 0) => {
            result.notes.push(none_found());
            RunStatus::NoTests
        }
        Some(0) => RunStatus::Passed,
        Some(5) => {
            result.notes.push(none_found());
            RunStatus::NoTests
        }
        Some(1) if parsed.ran.is_some() || counts.total > 0 => RunStatus::Failed,
        code => {
            result.error = Some(format!(
                "python -m unittest exited with {} without a test report; see output_tail",
                exit_text(code, output.signal)
            ));
            RunStatus::Error
        }
    };
    Ok(result)
}

/// The files a linter checks: those of a rerun, else `default` (when given).
fn lint_targets(ctx: &RunContext<'_>, default: Option<&str>) -> Vec<String> {
    match ctx.selection {
        Some(Selection::Files(files)) if !files.is_empty() => files.clone(),
        _ => default.map(|d| vec![d.to_string()]).unwrap_or_default(),
    }
}

/// Status of a linter run: failed on findings, error when the tool itself broke down.
fn lint_status(
    result: &mut RunResult,
    output: &ChildOutput,
    tool: &str,
    ok_codes: &[i32],
    findings_code: i32,
) {
    if result.status == RunStatus::Timeout {
        return;
    }
    let findings = result.diagnostics.iter().any(|d| d.severity <= Severity::Warning);
    result.status = match output.exit_code {
        Some(c) if findings && (c == findings_code || ok_codes.contains(&c)) => RunStatus::Failed,
        Some(c) if ok_codes.contains(&c) => RunStatus::Passed,
        code => {
            let first_line =
                output.stderr.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").to_string();
            result.error = Some(format!(
                "{tool} exited with {}{}; see output_tail",
                exit_text(code, output.signal),
                if first_line.is_empty() { String::new() } else { format!(": {first_line}") }
            ));
            RunStatus::Error
        }
    };
}

fn relative_diagnostics(ctx: &RunContext<'_>, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        if let Some(file) = d.file.take() {
            d.file = Some(relative_to(ctx.project, &file));
        }
    }
}

/// mypy with `-O json`; versions without it get the line format instead.
pub(super) async fn mypy(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let python = ctx.python();
    let targets = lint_targets(ctx, (!ctx.info.mypy_has_files).then_some("."));
    let json = ctx.spec(&python)?.args(["-m", "mypy", "-O", "json"]).args(targets.iter().cloned());
    let mut output = json.run(&mut |_, _| {}).await?;
    let unsupported = output.exit_code == Some(2)
        && output.stderr.text.contains("unrecognized arguments")
        && (output.stderr.text.contains("-O") || output.stderr.text.contains("json"));
    let mut note = None;
    if unsupported {
        let text = ctx
            .spec(&python)?
            .args([
                "-m",
                "mypy",
                "--show-column-numbers",
                "--show-error-codes",
                "--no-pretty",
                "--no-color-output",
                "--no-error-summary",
            ])
            .args(targets.iter().cloned());
        output = text.run(&mut |_, _| {}).await?;
        note = Some("this mypy has no JSON output; its line format was read instead".to_string());
    }
    let mut result = ctx.result(RunnerKind::Mypy, &output);
    result.notes.extend(note);
    if module_missing(&output, "mypy") {
        result.status = RunStatus::Error;
        result.error = Some(not_installed("mypy", "mypy", &python));
        return Ok(result);
    }
    result.diagnostics = parse_mypy(output.stdout.text.as_bytes())?;
    relative_diagnostics(ctx, &mut result.diagnostics);
    lint_status(&mut result, &output, "mypy", &[0], 1);
    Ok(result)
}

/// `ruff check --output-format json`, written to a private file.
pub(super) async fn ruff(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let scratch = scratch_dir("pipette-ruff-")?;
    let report = scratch.path().join("ruff.json");
    let path_var = match &ctx.info.venv {
        Some(v) => format!("{}/bin:{}", v.display(), std::env::var("PATH").unwrap_or_default()),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    let python = ctx.python();
    let (spec, via_python) = if find_on_path("ruff", Some(&path_var)).is_some() {
        (ctx.spec("ruff")?, false)
    } else {
        (ctx.spec(&python)?.args(["-m", "ruff"]), true)
    };
    let spec = spec
        .args(["check", "--output-format", "json", "--output-file"])
        .arg(report.display().to_string())
        .args(lint_targets(ctx, Some(".")));
    let output = spec.run(&mut |_, _| {}).await?;
    let mut result = ctx.result(RunnerKind::Ruff, &output);
    if via_python && module_missing(&output, "ruff") {
        result.status = RunStatus::Error;
        result.error = Some(not_installed("ruff", "ruff", &python));
        return Ok(result);
    }
    if let Ok(json) = std::fs::read(&report) {
        result.diagnostics = parse_ruff(&json)?;
        relative_diagnostics(ctx, &mut result.diagnostics);
    }
    lint_status(&mut result, &output, "ruff", &[0], 1);
    Ok(result)
}

/// flake8 in its default format, skipping virtualenvs and build output.
pub(super) async fn flake8(ctx: &RunContext<'_>) -> Result<RunResult, TestingError> {
    let python = ctx.python();
    let spec = ctx
        .spec(&python)?
        .args([
            "-m",
            "flake8",
            "--format=default",
            "--extend-exclude=.venv,venv,.tox,.nox,build,dist,.mypy_cache,.pytest_cache,.ruff_cache,node_modules,target",
        ])
        .args(lint_targets(ctx, None));
    let output = spec.run(&mut |_, _| {}).await?;
    let mut result = ctx.result(RunnerKind::Flake8, &output);
    if module_missing(&output, "flake8") {
        result.status = RunStatus::Error;
        result.error = Some(not_installed("flake8", "flake8", &python));
        return Ok(result);
    }
    result.diagnostics = parse_flake8(output.stdout.text.as_bytes())?;
    relative_diagnostics(ctx, &mut result.diagnostics);
    lint_status(&mut result, &output, "flake8", &[0], 1);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(file: Option<&str>, class: Option<&str>, name: &str) -> JunitCase {
        JunitCase {
            name: name.into(),
            classname: class.map(str::to_string),
            file: file.map(str::to_string),
            ..JunitCase::default()
        }
    }

    #[test]
    fn node_ids_from_junit_fields() {
        let check = |c: JunitCase, expected: &str| assert_eq!(pytest_node_id(&c), expected);
        check(
            case(Some("tests/test_calc.py"), Some("tests.test_calc"), "test_add"),
            "tests/test_calc.py::test_add",
        );
        check(
            case(Some("tests/test_calc.py"), Some("tests.test_calc.TestGroup"), "test_in_class[1-2]"),
            "tests/test_calc.py::TestGroup::test_in_class[1-2]",
        );
        check(case(Some("tests/test_broken.py"), None, "tests.test_broken"), "tests/test_broken.py");
        check(case(Some("t.py"), Some("elsewhere.t"), "x"), "t.py::x");
        check(case(None, None, "bare"), "bare");
    }

    #[test]
    fn real_junit_cases_become_pytest_tests() {
        let report = parse_junit(include_bytes!("../../testdata/pytest-junit.xml")).expect("parse");
        let mut said = HashMap::new();
        said.insert("tests/test_calc.py::test_unexpectedly_passes", TestStatus::Xpass);
        let tests: Vec<TestCase> = report.suites[0].cases.iter().map(|c| pytest_case(c, &said)).collect();
        let get = |n: &str| tests.iter().find(|t| t.name == n).unwrap_or_else(|| panic!("no {n}"));
        assert_eq!(get("tests/test_calc.py::test_unexpectedly_passes").status, TestStatus::Xpass);
        assert_eq!(get("tests/test_calc.py::test_divide_by_zero").status, TestStatus::Xfail);
        assert_eq!(get("tests/test_calc.py::test_skipped").status, TestStatus::Skipped);
        let wrong = get("tests/test_calc.py::test_add_wrong");
        assert_eq!(wrong.status, TestStatus::Failed);
        assert_eq!(wrong.line, Some(17), "the failing line, not the def");
        assert_eq!(get("tests/test_calc.py::test_skipped").line, Some(20), "a skip keeps the def line");
        let broken = get("tests/test_calc.py::test_uses_broken_fixture");
        assert_eq!(broken.status, TestStatus::Error);
        assert!(broken.message.as_deref().is_some_and(|m| m.contains("fixture setup failed")));
        assert_eq!(get("tests/test_unit.py::TestCalc::test_ok").status, TestStatus::Passed);
    }

    #[test]
    fn pytest_filters_are_paths_inside_the_project_or_keywords() {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/python-project")
            .canonicalize()
            .expect("fixture");
        assert_eq!(
            pytest_filter_args(&project, "add and not wrong").expect("k"),
            ["-k", "add and not wrong"]
        );
        assert_eq!(
            pytest_filter_args(&project, "slow/test_sleepy.py").expect("path"),
            ["slow/test_sleepy.py"]
        );
        assert_eq!(
            pytest_filter_args(&project, "tests/test_calc.py::test_add").expect("node"),
            ["tests/test_calc.py::test_add"]
        );
        let err = pytest_filter_args(&project, "../rust-project/src/lib.rs::x").expect_err("outside");
        assert!(matches!(err, TestingError::InvalidArgument { name: "filter", .. }));
        let err = pytest_filter_args(&project, "nope.py").expect_err("missing");
        assert_eq!(err.kind(), "invalid_argument");
    }
}
