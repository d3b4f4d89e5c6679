//! Detection of what a project uses: Cargo, pytest or unittest, mypy, ruff, flake8 — from its
//! files (Cargo.toml, pyproject.toml, pytest.ini, setup.cfg, tox.ini, tool configs), and, for
//! `test_detect`, which of those tools are installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::RunnerKind;
use crate::process::{ChildSpec, find_on_path};

/// What `test_detect` found in a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Detection {
    /// The canonical project directory.
    pub project: String,
    /// The Rust side, when there is a Cargo.toml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustProject>,
    /// The Python side, when there are Python project files or tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonProject>,
    /// The test runners `test_run` with `runners = "auto"` uses.
    pub test_runners: Vec<RunnerKind>,
    /// The linters `lint_run` uses when no tools are named.
    pub linters: Vec<RunnerKind>,
    /// Whether each relevant tool is installed (and its version).
    pub tools: Vec<ToolStatus>,
    /// Why each choice was made (which file said what).
    pub evidence: Vec<String>,
}

/// The Rust side of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RustProject {
    /// The manifest, relative to the project (`Cargo.toml`).
    pub manifest: String,
    /// Whether the manifest declares a `[workspace]`.
    pub workspace: bool,
    /// `[package].name`, when the manifest has a package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// The Python side of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PythonProject {
    /// Configuration files found (pyproject.toml, setup.cfg, tox.ini, pytest.ini, ...).
    pub config_files: Vec<String>,
    /// The interpreter the runners use (the project's virtualenv when it has one).
    pub interpreter: String,
    /// The project's virtualenv, when it has one (`.venv` or `venv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualenv: Option<String>,
    /// Test files found (`test_*.py`, `*_test.py`; the search stops at 1,000).
    pub test_files: u64,
}

/// Whether a tool is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolStatus {
    /// The runner.
    pub runner: RunnerKind,
    /// Whether it can run.
    pub available: bool,
    /// Its version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// How to install it, when it is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the runners need to know about a project (no processes started to learn it).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProjectInfo {
    pub(crate) rust: Option<RustProject>,
    pub(crate) python: Option<PythonProject>,
    /// Absolute path of the project's virtualenv directory.
    pub(crate) venv: Option<PathBuf>,
    pub(crate) nextest_installed: bool,
    pub(crate) pytest_configured: bool,
    pub(crate) mentions_pytest: bool,
    /// Test files that only pytest runs: plain `def test_*` functions or `Test*` classes outside
    /// `unittest.TestCase` (bare `assert`), or `*_test.py` files, which unittest's discovery skips.
    pub(crate) pytest_style: bool,
    pub(crate) mypy_configured: bool,
    /// mypy's configuration names the files to check (`files = ...`).
    pub(crate) mypy_has_files: bool,
    pub(crate) ruff_configured: bool,
    pub(crate) flake8_configured: bool,
    pub(crate) evidence: Vec<String>,
}

impl ProjectInfo {
    /// The test runners `auto` picks.
    pub(crate) fn test_runners(&self) -> Vec<RunnerKind> {
        let mut out = Vec::new();
        if self.rust.is_some() {
            out.push(if self.nextest_installed { RunnerKind::CargoNextest } else { RunnerKind::CargoTest });
        }
        if let Some(py) = &self.python {
            if self.pytest_configured || self.mentions_pytest || self.pytest_style {
                out.push(RunnerKind::Pytest);
            } else if py.test_files > 0 {
                out.push(RunnerKind::Unittest);
            }
        }
        out
    }

    /// The linters `lint_run` picks when none are named.
    pub(crate) fn linters(&self) -> Vec<RunnerKind> {
        let mut out = Vec::new();
        if self.rust.is_some() {
            out.push(RunnerKind::Clippy);
        }
        if self.python.is_some() {
            if self.mypy_configured {
                out.push(RunnerKind::Mypy);
            }
            if self.ruff_configured {
                out.push(RunnerKind::Ruff);
            }
            if self.flake8_configured {
                out.push(RunnerKind::Flake8);
            }
            if !(self.mypy_configured || self.ruff_configured || self.flake8_configured) {
                out.push(RunnerKind::Ruff);
            }
        }
        out
    }
}

/// Reads the project's files (no processes). `python` is the configured interpreter.
pub(crate) fn inspect(project: &Path, python: Option<&Path>) -> ProjectInfo {
    let mut info = ProjectInfo::default();
    inspect_rust(project, &mut info);
    inspect_python(project, python, &mut info);
    info
}

fn read(project: &Path, name: &str) -> Option<String> {
    let path = project.join(name);
    let meta = path.metadata().ok()?;
    if !meta.is_file() || meta.len() > 4 * 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn inspect_rust(project: &Path, info: &mut ProjectInfo) {
    let Some(text) = read(project, "Cargo.toml") else {
        return;
    };
    let manifest: Option<toml::Table> = toml::from_str(&text).ok();
    let workspace = manifest.as_ref().is_some_and(|m| m.contains_key("workspace"));
    let package = manifest
        .as_ref()
        .and_then(|m| m.get("package"))
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    info.evidence.push(format!(
        "Cargo.toml{}{}",
        package.as_ref().map_or_else(String::new, |p| format!(": package `{p}`")),
        if workspace { " (workspace)" } else { "" }
    ));
    info.nextest_installed = nextest_installed();
    info.evidence.push(if info.nextest_installed {
        "cargo-nextest is installed: Rust tests run with nextest".into()
    } else {
        "cargo-nextest is not installed: Rust tests run with cargo test".into()
    });
    info.rust = Some(RustProject { manifest: "Cargo.toml".into(), workspace, package });
}

fn nextest_installed() -> bool {
    if find_on_path("cargo-nextest", None).is_some() {
        return true;
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")));
    cargo_home
        .is_some_and(|h| find_on_path("cargo-nextest", Some(&h.join("bin").to_string_lossy())).is_some())
}

/// Section headers (`[name]`) of an INI-style file.
fn ini_sections(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix('[').and_then(|r| r.strip_suffix(']')).map(|s| s.trim().to_string())
        })
        .collect()
}

fn inspect_python(project: &Path, python: Option<&Path>, info: &mut ProjectInfo) {
    let mut config_files = Vec::new();
    let mut is_python = false;

    if let Some(text) = read(project, "pyproject.toml") {
        is_python = true;
        config_files.push("pyproject.toml".to_string());
        let doc: Option<toml::Table> = toml::from_str(&text).ok();
        let tool = doc.as_ref().and_then(|d| d.get("tool")).and_then(|t| t.as_table());
        if let Some(tool) = tool {
            if tool.get("pytest").and_then(|p| p.get("ini_options")).is_some() {
                info.pytest_configured = true;
                info.evidence.push("pyproject.toml has [tool.pytest.ini_options]".into());
            }
            if let Some(mypy) = tool.get("mypy") {
                info.mypy_configured = true;
                info.mypy_has_files |= mypy.get("files").is_some();
                info.evidence.push("pyproject.toml has [tool.mypy]".into());
            }
            if tool.contains_key("ruff") {
                info.ruff_configured = true;
                info.evidence.push("pyproject.toml has [tool.ruff]".into());
            }
            if tool.contains_key("flake8") {
                info.flake8_configured = true;
                info.evidence.push("pyproject.toml has [tool.flake8]".into());
            }
        }
        if text.contains("pytest") && !info.pytest_configured {
            info.mentions_pytest = true;
            info.evidence.push("pyproject.toml mentions pytest".into());
        }
    }
    if read(project, "pytest.ini").is_some() {
        is_python = true;
        info.pytest_configured = true;
        config_files.push("pytest.ini".into());
        info.evidence.push("pytest.ini".into());
    }
    if let Some(text) = read(project, "setup.cfg") {
        is_python = true;
        config_files.push("setup.cfg".into());
        let sections = ini_sections(&text);
        if sections.iter().any(|s| s == "tool:pytest") {
            info.pytest_configured = true;
            info.evidence.push("setup.cfg has [tool:pytest]".into());
        }
        if sections.iter().any(|s| s == "mypy") {
            info.mypy_configured = true;
            info.mypy_has_files |= text.lines().any(|l| l.trim_start().starts_with("files"));
            info.evidence.push("setup.cfg has [mypy]".into());
        }
        if sections.iter().any(|s| s == "flake8") {
            info.flake8_configured = true;
            info.evidence.push("setup.cfg has [flake8]".into());
        }
    }
    if let Some(text) = read(project, "tox.ini") {
        is_python = true;
        config_files.push("tox.ini".into());
        let sections = ini_sections(&text);
        if sections.iter().any(|s| s == "pytest") {
            info.pytest_configured = true;
            info.evidence.push("tox.ini has [pytest]".into());
        }
        if sections.iter().any(|s| s == "flake8") {
            info.flake8_configured = true;
            info.evidence.push("tox.ini has [flake8]".into());
        }
    }
    for name in ["mypy.ini", ".mypy.ini"] {
        if let Some(text) = read(project, name) {
            is_python = true;
            info.mypy_configured = true;
            info.mypy_has_files |= text.lines().any(|l| l.trim_start().starts_with("files"));
            config_files.push(name.into());
            info.evidence.push(name.into());
        }
    }
    for name in ["ruff.toml", ".ruff.toml"] {
        if read(project, name).is_some() {
            is_python = true;
            info.ruff_configured = true;
            config_files.push(name.into());
            info.evidence.push(name.into());
        }
    }
    if read(project, ".flake8").is_some() {
        is_python = true;
        info.flake8_configured = true;
        config_files.push(".flake8".into());
        info.evidence.push(".flake8".into());
    }
    for name in ["conftest.py", "tests/conftest.py", "test/conftest.py"] {
        if project.join(name).is_file() {
            is_python = true;
            info.mentions_pytest = true;
            info.evidence.push(format!("{name} (pytest)"));
        }
    }
    for name in ["requirements.txt", "requirements-dev.txt", "requirements-test.txt"] {
        if let Some(text) = read(project, name) {
            is_python = true;
            if text.contains("pytest") {
                info.mentions_pytest = true;
                info.evidence.push(format!("{name} mentions pytest"));
            }
        }
    }
    if project.join("setup.py").is_file() {
        is_python = true;
        config_files.push("setup.py".into());
    }

    let found = find_test_files(project);
    let test_files = found.count;
    if test_files > 0 {
        is_python = true;
        info.evidence.push(format!("{test_files} Python test file(s)"));
    }
    if found.imports_pytest && !info.pytest_configured && !info.mentions_pytest {
        info.mentions_pytest = true;
        info.evidence.push("test files import pytest".into());
    }
    if let Some(why) = found.pytest_style {
        info.pytest_style = true;
        if !info.pytest_configured && !info.mentions_pytest {
            info.evidence.push(format!("{why}: pytest style, which unittest does not run"));
        }
    }
    if !is_python {
        is_python = has_top_level_python(project);
    }
    if !is_python {
        return;
    }

    let venv = [".venv", "venv"].iter().map(|d| project.join(d)).find(|d| d.join("bin/python").is_file());
    let interpreter = match (&venv, python) {
        (Some(v), _) => v.join("bin/python").display().to_string(),
        (None, Some(p)) => p.display().to_string(),
        (None, None) => "python3".to_string(),
    };
    info.python = Some(PythonProject {
        config_files,
        interpreter,
        virtualenv: venv.as_ref().map(|v| v.display().to_string()),
        test_files,
    });
    info.venv = venv;
}

fn has_top_level_python(project: &Path) -> bool {
    std::fs::read_dir(project).is_ok_and(|entries| {
        entries.flatten().take(1000).any(|e| e.path().extension().is_some_and(|x| x == "py"))
    })
}

/// What the search for test files found.
#[derive(Debug, Default)]
struct TestFiles {
    /// Test files (`test_*.py`, `*_test.py`).
    count: u64,
    /// One of the files read imports pytest.
    imports_pytest: bool,
    /// Why the tests need pytest (the first file that shows it), when they do.
    pytest_style: Option<String>,
}

/// The most test files read to tell their style, and the most bytes read of each.
const STYLE_FILES: usize = 50;
const STYLE_BYTES: u64 = 256 * 1024;

/// Whether a test file's contents are pytest style: a top-level `def test*` function, or a top-level
/// `class Test*` that derives from nothing (unittest only runs `TestCase` subclasses).
fn pytest_style(text: &str) -> bool {
    text.lines().any(|line| {
        let def = line.strip_prefix("async ").unwrap_or(line);
        if def.strip_prefix("def ").is_some_and(|rest| rest.starts_with("test")) {
            return true;
        }
        let Some(class) = line.strip_prefix("class ").filter(|c| c.starts_with("Test")) else {
            return false;
        };
        match class.split_once('(') {
            None => true,
            Some((_, bases)) => {
                let bases = bases.split(')').next().unwrap_or("").trim();
                bases.is_empty() || bases == "object"
            }
        }
    })
}

/// Reads the start of a test file (at most [`STYLE_BYTES`]).
fn read_head(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    let file = std::fs::File::open(path).ok()?;
    file.take(STYLE_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Counts test files in the project root, `tests/`, `test/` and packages, to depth 4; reads the
/// first few to tell whether they import pytest or are written for it.
fn find_test_files(project: &Path) -> TestFiles {
    const SKIP: &[&str] = &[
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "target",
        "build",
        "dist",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
    ];
    let mut found = TestFiles::default();
    let mut inspected = 0;
    let mut stack = vec![(project.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        visited += 1;
        if visited > 2000 || found.count >= 1000 {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                if depth < 4 && !SKIP.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push((entry.path(), depth + 1));
                }
            } else if kind.is_file()
                && name.ends_with(".py")
                && (name.starts_with("test_") || name.ends_with("_test.py"))
            {
                found.count += 1;
                let relative = relative_name(project, &entry.path());
                if found.pytest_style.is_none() && !name.starts_with("test") {
                    found.pytest_style =
                        Some(format!("{relative} is named *_test.py, which unittest's discovery skips"));
                }
                if (found.imports_pytest && found.pytest_style.is_some()) || inspected >= STYLE_FILES {
                    continue;
                }
                inspected += 1;
                let Some(text) = read_head(&entry.path()) else { continue };
                found.imports_pytest |= text.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("import pytest") || l.starts_with("from pytest")
                });
                if found.pytest_style.is_none() && pytest_style(&text) {
                    found.pytest_style =
                        Some(format!("{relative} has test functions or classes outside unittest.TestCase"));
                }
            }
        }
    }
    found
}

fn relative_name(project: &Path, path: &Path) -> String {
    path.strip_prefix(project).unwrap_or(path).display().to_string()
}

/// Checks which of the tools the project needs are installed (runs `--version` probes and one
/// Python import probe, in parallel, each limited to 30 seconds).
pub(crate) async fn probe_tools(
    project: &Path,
    info: &ProjectInfo,
    roots: &crate::AllowedRoots,
) -> Vec<ToolStatus> {
    let mut tools = Vec::new();
    let spec = |program: &str| -> Option<ChildSpec> {
        let mut spec = ChildSpec::new(program, project, roots).ok()?.timeout(Duration::from_secs(30));
        if let Some(venv) = &info.venv {
            let path = std::env::var("PATH").unwrap_or_default();
            spec = spec
                .env("VIRTUAL_ENV", venv.display().to_string())
                .env("PATH", format!("{}/bin:{path}", venv.display()));
        }
        Some(spec)
    };
    async fn version(spec: Option<ChildSpec>) -> Option<String> {
        let out = spec?.run(&mut |_, _| {}).await.ok()?;
        (out.exit_code == Some(0)).then(|| out.stdout.text.lines().next().unwrap_or("").trim().to_string())
    }

    if info.rust.is_some() {
        let (cargo, nextest, clippy) = futures::join!(
            version(spec("cargo").map(|s| s.arg("--version"))),
            version(spec("cargo").map(|s| s.args(["nextest", "--version"]))),
            version(spec("cargo").map(|s| s.args(["clippy", "--version"]))),
        );
        tools.push(status(RunnerKind::CargoTest, cargo, "install Rust with rustup (https://rustup.rs)"));
        tools.push(status(
            RunnerKind::CargoNextest,
            nextest,
            "install it with `cargo install cargo-nextest --locked`",
        ));
        tools.push(status(RunnerKind::Clippy, clippy, "install it with `rustup component add clippy`"));
    }
    if let Some(py) = &info.python {
        let python = py.interpreter.clone();
        let probe = version(spec(&python).map(|s| s.args(["-c", PYTHON_PROBE])));
        let ruff_binary = version(spec("ruff").map(|s| s.arg("--version")));
        let (probe, ruff_binary) = futures::join!(probe, ruff_binary);
        let found: serde_json::Map<String, serde_json::Value> =
            probe.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
        let get = |k: &str| found.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let pip = |pkg: &str| format!("install it with `{python} -m pip install {pkg}`");
        let mut pytest = status(RunnerKind::Pytest, get("pytest"), &pip("pytest"));
        if pytest.available {
            pytest.note = Some(match get("pytest-cov") {
                Some(v) => format!("pytest-cov {v}: coverage available"),
                None => format!(
                    "pytest-cov is not installed, so coverage cannot be measured; {}",
                    pip("pytest-cov")
                ),
            });
        }
        tools.push(pytest);
        tools.push(status(
            RunnerKind::Unittest,
            get("python").map(|v| format!("Python {v}")),
            "install Python 3, or set PIPETTE_PYTHON to an interpreter",
        ));
        tools.push(status(RunnerKind::Mypy, get("mypy"), &pip("mypy")));
        tools.push(status(RunnerKind::Ruff, ruff_binary.or_else(|| get("ruff")), &pip("ruff")));
        tools.push(status(RunnerKind::Flake8, get("flake8"), &pip("flake8")));
    }
    tools
}

/// Prints the versions of the Python tools (null when missing) as one JSON object.
const PYTHON_PROBE: &str = r#"import importlib.util, importlib.metadata, json, sys
out = {'python': sys.version.split()[0]}
for mod, dist in (('pytest', 'pytest'), ('pytest_cov', 'pytest-cov'), ('mypy', 'mypy'), ('flake8', 'flake8'), ('ruff', 'ruff')):
    try:
        out[dist] = importlib.metadata.version(dist) if importlib.util.find_spec(mod) else None
    except Exception:
        out[dist] = 'unknown'
print(json.dumps(out))
"#;

fn status(runner: RunnerKind, version: Option<String>, install: &str) -> ToolStatus {
    ToolStatus {
        runner,
        available: version.is_some(),
        note: version.is_none().then(|| install.to_string()),
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
    }

    #[test]
    fn the_python_fixture_uses_pytest_mypy_ruff_and_flake8() {
        let info = inspect(&fixture("python-project"), None);
        assert!(info.rust.is_none());
        let py = info.python.as_ref().expect("python");
        assert!(py.config_files.contains(&"pyproject.toml".to_string()));
        assert!(py.config_files.contains(&".flake8".to_string()));
        assert_eq!(py.test_files, 3);
        assert_eq!(info.test_runners(), [RunnerKind::Pytest]);
        assert_eq!(info.linters(), [RunnerKind::Mypy, RunnerKind::Ruff, RunnerKind::Flake8]);
        assert!(info.mypy_has_files);
    }

    #[test]
    fn the_rust_fixture_uses_cargo_and_clippy() {
        let info = inspect(&fixture("rust-project"), None);
        let rust = info.rust.as_ref().expect("rust");
        assert!(rust.workspace, "the fixture declares its own empty workspace");
        assert_eq!(rust.package.as_deref(), Some("pipette-fixture"));
        assert!(info.python.is_none());
        let runners = info.test_runners();
        assert_eq!(runners.len(), 1);
        assert!(matches!(runners[0], RunnerKind::CargoTest | RunnerKind::CargoNextest));
        assert_eq!(info.linters(), [RunnerKind::Clippy]);
    }

    #[test]
    fn plain_unittest_projects_and_ini_configs() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("tests")).expect("mkdir");
        std::fs::write(
            dir.path().join("tests/test_a.py"),
            "import unittest\nclass T(unittest.TestCase):\n    pass\n",
        )
        .expect("write");
        let info = inspect(dir.path(), Some(Path::new("/usr/bin/python3.12")));
        assert_eq!(info.test_runners(), [RunnerKind::Unittest]);
        assert_eq!(info.linters(), [RunnerKind::Ruff]);
        assert_eq!(info.python.as_ref().map(|p| p.interpreter.as_str()), Some("/usr/bin/python3.12"));

        std::fs::write(dir.path().join("setup.cfg"), "[tool:pytest]\n[mypy]\n[flake8]\n").expect("write");
        std::fs::write(dir.path().join("tox.ini"), "[tox]\n").expect("write");
        let info = inspect(dir.path(), None);
        assert_eq!(info.test_runners(), [RunnerKind::Pytest]);
        assert_eq!(info.linters(), [RunnerKind::Mypy, RunnerKind::Flake8]);
        assert!(!info.mypy_has_files);
    }

    #[test]
    fn pytest_style_tests_need_pytest() {
        let check = |text: &str, expected: bool| assert_eq!(pytest_style(text), expected, "{text}");
        check("def test_add():\n    assert 1 + 1 == 3\n", true);
        check("async def test_io():\n    assert True\n", true);
        check("class TestCalc:\n    def test_x(self):\n        assert 1\n", true);
        check("class TestCalc(object):\n    pass\n", true);
        check(
            "import unittest\nclass TestCalc(unittest.TestCase):\n    def test_x(self):\n        pass\n",
            false,
        );
        check("from unittest import TestCase\nclass TestCalc(TestCase):\n    pass\n", false);
        check("def helper():\n    def test_inner():\n        pass\n", false);
        check("# def test_commented()\nx = 1\n", false);

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("test_math.py"), "def test_add():\n    assert 1 + 1 == 3\n")
            .expect("write");
        let info = inspect(dir.path(), None);
        assert_eq!(info.test_runners(), [RunnerKind::Pytest], "{:?}", info.evidence);
        assert!(info.evidence.iter().any(|e| e.contains("test_math.py") && e.contains("pytest style")));

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("math_test.py"),
            "import unittest\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n",
        )
        .expect("write");
        assert_eq!(inspect(dir.path(), None).test_runners(), [RunnerKind::Pytest]);
    }

    #[test]
    fn an_empty_directory_uses_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let info = inspect(dir.path(), None);
        assert!(info.test_runners().is_empty());
        assert!(info.linters().is_empty());
    }
}
