//! cargo xtask: ci, test, tidy, docs and benchmarks for the pipette workspace.

#![allow(clippy::disallowed_methods)] // xtask runs cargo and the benchmark binaries
#![allow(clippy::print_stdout, clippy::print_stderr)] // xtask's output is for people

mod bench;
mod conformance;
mod docs;
mod fuzz;
mod interface;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

const USAGE: &str = "usage: cargo xtask <command>

  ci                 fmt check, clippy -D warnings, tidy, docs --check, tests
  test               build the binaries, then run every test (nextest when installed)
  tidy               file-size, dependency-direction and doc-comment checks
  docs [--check]     write TOOLS.md from the registry (--check: fail when stale)
  bench [AREA...] [--debug]
                     benchmarks: router, memory, research, results, index, testing, interface (default: all);
                     interface: tools/list bytes and spawn → tools/list ms (--debug: the dev build)
  fuzz [--seconds N] [--target NAME]...
                     coverage-guided fuzzing (libFuzzer, stable toolchain) of the parsers that read the outside
                     world: pubmed, ctgov, test_outputs, tool_args (default: 60 s each); crashes are kept in
                     fuzz/regressions/ and become regression tests
  conformance [--release-plain]
                     the official MCP conformance suite against pipette-mcp --http with its fixtures
                     (--release-plain: against the release build without them, reporting only)";

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(),
        Some("tidy") => tidy::run(&root()),
        Some("docs") => docs::run(&root(), args.iter().any(|a| a == "--check")),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("fuzz") => fuzz::run(&root(), &args[1..]),
        Some("conformance") => conformance::run_suite(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in the workspace root, failing with its name when it fails.
pub(crate) fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn has_nextest() -> bool {
    Command::new("cargo").args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success())
}

/// Whether `program args…` runs and succeeds.
fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// Says in one line what the tests need that this machine lacks, before anything is built.
fn preflight() -> anyhow::Result<()> {
    let mut missing = Vec::new();
    if std::env::var_os("PIPETTE_TEST_REDIS_URL").is_none() && !works("redis-server", &["--version"]) {
        missing.push("redis-server (apt-get install redis-server, or set PIPETTE_TEST_REDIS_URL)");
    }
    for (module, name) in [
        ("pytest", "pytest"),
        ("pytest_cov", "pytest-cov"),
        ("mypy", "mypy"),
        ("ruff", "ruff"),
        ("flake8", "flake8"),
    ] {
        if !works("python3", &["-c", &format!("import {module}")]) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        bail!(
            "the tests need what this machine lacks: {}. `bash .ci/run` installs them all; or `python3 -m pip \
             install pytest pytest-cov mypy ruff flake8`",
            missing.join(", ")
        );
    }
    Ok(())
}

fn test() -> anyhow::Result<()> {
    preflight()?;
    // The end-to-end tests drive the real binaries: build them first.
    run("cargo", &["build", "--workspace", "--bins"])?;
    if has_nextest() {
        run("cargo", &["nextest", "run", "--workspace", "--no-fail-fast"])?;
        // nextest does not run doc tests.
        run("cargo", &["test", "--workspace", "--doc"])
    } else {
        run("cargo", &["test", "--workspace", "--no-fail-fast"])
    }
}

fn ci() -> anyhow::Result<()> {
    preflight()?;
    run("cargo", &["fmt", "--all", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    tidy::run(&root())?;
    docs::run(&root(), true)?;
    test()
}
