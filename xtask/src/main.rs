//! cargo xtask: ci, test, tidy, docs and benchmarks for the pipette workspace.

#![allow(clippy::disallowed_methods)] // xtask runs cargo and the benchmark binaries
#![allow(clippy::print_stdout, clippy::print_stderr)] // xtask's output is for people

mod bench;
mod conformance;
mod docs;
mod fuzz;
mod interface;
mod schemathesis;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

const USAGE: &str = "usage: cargo xtask <command>

  ci                 fmt check, clippy -D warnings, tidy, docs --check, tests, schemathesis
  test               build the binaries, then run every test (nextest when installed)
  tidy               file-size, dependency-direction and doc-comment checks
  docs [--check]     write TOOLS.md from the registry (--check: fail when stale)
  bench [AREA...] [--debug]
                     benchmarks: router, api, memory, queue, research, results, index, testing, interface (default: all);
                     interface: tools/list bytes and spawn → tools/list ms (--debug: the dev build)
  fuzz [--seconds N] [--target NAME]...
                     coverage-guided fuzzing (libFuzzer, stable toolchain) of the parsers that read the outside
                     world: pubmed, ctgov, test_outputs, tool_args (default: 60 s each); crashes are kept in
                     fuzz/regressions/ and become regression tests
  schemathesis       Schemathesis against the HTTP API's OpenAPI document (pipette-mcp --http over the
                     recorded upstream): no 5xx, every response as documented
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
        Some("schemathesis") => schemathesis::run(&root()),
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
    let mut cmd = Command::new(program);
    if let Some(path) = TOOLS_PATH.get() {
        cmd.env("PATH", path);
    }
    let status =
        cmd.args(args).current_dir(root()).status().with_context(|| format!("cannot run {program}"))?;
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

/// The PATH of the commands `run` starts once the Python tools are installed: their virtualenv first.
static TOOLS_PATH: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();

/// The Python tools the test runner's tests drive (pytest with pytest-cov, mypy, ruff, flake8), at the
/// versions the parsers are tested against, Schemathesis (`cargo xtask schemathesis`) and the MCP Python SDK
/// (a second real client, tests/it/python_sdk.rs); with the modules that show they are there.
const PYTHON_TOOLS: [(&str, &str); 7] = [
    ("pytest>=9,<10", "pytest"),
    ("pytest-cov>=7,<8", "pytest_cov"),
    ("mypy>=2,<3", "mypy"),
    ("ruff>=0.17,<0.18", "ruff"),
    ("flake8>=7,<8", "flake8"),
    ("schemathesis>=4.32,<5", "schemathesis"),
    ("mcp>=2.3,<3", "mcp"),
];

/// Says in one line what the tests need that this machine lacks, before anything is built. (The Python
/// tools themselves are not needed: [`python_tools`] installs them.)
fn preflight() -> anyhow::Result<()> {
    let mut missing = Vec::new();
    if std::env::var_os("PIPETTE_TEST_REDIS_URL").is_none() && !works("redis-server", &["--version"]) {
        missing.push("redis-server (apt-get install redis-server, or set PIPETTE_TEST_REDIS_URL)");
    }
    if !works("python3", &["--version"]) {
        missing.push("python3 (apt-get install python3 python3-venv)");
    } else if !python_venv().join("bin/python3").is_file()
        && !works("python3", &["-c", "import venv, ensurepip"])
    {
        missing.push("python3's venv module (apt-get install python3-venv)");
    }
    if !missing.is_empty() {
        bail!(
            "the tests need what this machine lacks: {}. `bash .ci/run` installs them all",
            missing.join(", ")
        );
    }
    Ok(())
}

/// The virtualenv of the Python tools.
fn python_venv() -> PathBuf {
    root().join("target").join("python-tools")
}

/// Makes the Python tools' virtualenv under target/ (once), installs into it what is missing, and puts its
/// `bin` first on the PATH of every command run from here on: the tests find `python3 -m pytest`, `ruff`
/// and the rest there, whatever the machine's own Python has.
pub(crate) fn python_tools() -> anyhow::Result<()> {
    let venv = python_venv();
    let bin = venv.join("bin");
    let python = bin.join("python3");
    if !python.is_file() {
        run("python3", &["-m", "venv", &venv.display().to_string()])?;
    }
    let python = python.display().to_string();
    let imports = format!("import {}", PYTHON_TOOLS.map(|(_, module)| module).join(", "));
    if !works(&python, &["-c", &imports]) {
        let mut args = vec!["-m", "pip", "install", "--quiet", "--disable-pip-version-check"];
        args.extend(PYTHON_TOOLS.map(|(spec, _)| spec));
        run(&python, &args).context("installing the Python tools into target/python-tools")?;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
        .context("the PATH cannot hold the virtualenv's bin")?;
    let _ = TOOLS_PATH.set(path);
    eprintln!("python tools: {} (first on PATH)", venv.display());
    Ok(())
}

fn test() -> anyhow::Result<()> {
    preflight()?;
    python_tools()?;
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
    test()?;
    schemathesis::run(&root())
}
