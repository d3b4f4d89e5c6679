//! Request types of the four operations; they double as the tools' parameters (serde + JSON Schema).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::RunnerKind;

/// The keyword `"auto"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Auto {
    /// Pick the runners from what the project uses.
    #[default]
    #[serde(rename = "auto")]
    Auto,
}

/// Which runners to use: `"auto"`, one runner's name, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RunnerSelection {
    /// `"auto"`: the test runners `test_detect` finds (cargo_nextest when installed, else
    /// cargo_test; pytest or unittest).
    Auto(Auto),
    /// One runner, by name (`"pytest"`).
    One(RunnerKind),
    /// An explicit list; linters may be included too.
    List(Vec<RunnerKind>),
}

/// What a `runners` value may be, for error messages.
const SELECTION_FORMS: &str = "\"auto\", a runner name, or a list of runner names (cargo_test, \
                               cargo_nextest, clippy, pytest, unittest, mypy, ruff, flake8)";

// By hand rather than untagged: serde's untagged error ("did not match any variant") names neither the
// field's forms nor the unknown runner.
impl<'de> Deserialize<'de> for RunnerSelection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        fn kind<E: serde::de::Error>(name: &str) -> Result<RunnerKind, E> {
            name.parse::<RunnerKind>().map_err(|e| E::custom(format!("{e}, or \"auto\"")))
        }

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RunnerSelection;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SELECTION_FORMS)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim().eq_ignore_ascii_case("auto") {
                    return Ok(RunnerSelection::Auto(Auto::Auto));
                }
                kind(v).map(RunnerSelection::One)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    if list.len() >= RunnerKind::ALL.len() * 4 {
                        return Err(serde::de::Error::custom("too many runners: name each at most once"));
                    }
                    list.push(kind(&name)?);
                }
                Ok(RunnerSelection::List(list))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

impl Default for RunnerSelection {
    fn default() -> Self {
        Self::Auto(Auto::Auto)
    }
}

/// Parameters of `test_run`: run a project's tests and return one structured result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestRunRequest {
    /// The project directory. It must lie under an allowed root (`PIPETTE_ALLOWED_ROOTS`);
    /// symlinks and `..` are resolved before the check.
    pub path: PathBuf,
    /// `"auto"` (default), one runner, or a list of runners: cargo_test, cargo_nextest, clippy,
    /// pytest, unittest, mypy, ruff, flake8.
    #[serde(default)]
    pub runners: RunnerSelection,
    /// Narrows the tests: a substring of test names for cargo and nextest; for pytest a `-k`
    /// expression, or a path / node id in the project (`tests/test_x.py::test_y`); for
    /// unittest a `-k` pattern. Linters ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Measure line coverage (pytest through pytest-cov; other runners say it is unavailable).
    #[serde(default)]
    pub coverage: bool,
    /// Wall-clock limit per runner, in seconds (default 600). On timeout the runner's whole
    /// process tree is killed and its partial results are returned with status `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Extra environment variables for the tools (the rest of the environment is reduced to a
    /// safe set: PATH, HOME, LANG, ...). Loader variables (`LD_*`, `DYLD_*`) are refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// List passed tests too (they are always counted). Default false: only tests that did
    /// not pass are listed.
    #[serde(default)]
    pub include_passed: bool,
    /// Also write the results into the project as `.pipette/test-results.json` and `.md`.
    #[serde(default)]
    pub save: bool,
}

impl TestRunRequest {
    /// A request with defaults for everything but the path.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            runners: RunnerSelection::default(),
            filter: None,
            coverage: false,
            timeout_seconds: None,
            env: BTreeMap::new(),
            include_passed: false,
            save: false,
        }
    }
}

/// A linter or type checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LintTool {
    /// `cargo clippy`.
    Clippy,
    /// `mypy`.
    Mypy,
    /// `ruff check`.
    Ruff,
    /// `flake8`.
    Flake8,
}

impl std::str::FromStr for LintTool {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "clippy" => Ok(Self::Clippy),
            "mypy" => Ok(Self::Mypy),
            "ruff" => Ok(Self::Ruff),
            "flake8" => Ok(Self::Flake8),
            _ => Err(format!("unknown lint tool `{s}`; expected one of clippy, mypy, ruff, flake8")),
        }
    }
}

impl From<LintTool> for RunnerKind {
    fn from(tool: LintTool) -> Self {
        match tool {
            LintTool::Clippy => Self::Clippy,
            LintTool::Mypy => Self::Mypy,
            LintTool::Ruff => Self::Ruff,
            LintTool::Flake8 => Self::Flake8,
        }
    }
}

/// Parameters of `lint_run`: run linters and type checkers and return their diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LintRequest {
    /// The project directory (under an allowed root).
    pub path: PathBuf,
    /// The tools to run: clippy, mypy, ruff, flake8. Empty (default): the ones the project is
    /// configured for (clippy for Cargo projects; ruff when a Python project configures none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<LintTool>,
    /// Wall-clock limit per tool, in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Extra environment variables for the tools.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Also write the results into the project as `.pipette/test-results.json` and `.md`.
    #[serde(default)]
    pub save: bool,
}

impl LintRequest {
    /// A request with defaults for everything but the path.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            tools: Vec::new(),
            timeout_seconds: None,
            env: BTreeMap::new(),
            save: false,
        }
    }
}

/// Parameters of `test_rerun_failed`: rerun only what failed in the project's last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RerunFailedRequest {
    /// The project directory (under an allowed root).
    pub path: PathBuf,
    /// Wall-clock limit per runner, in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Extra environment variables for the tools.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// List passed tests too.
    #[serde(default)]
    pub include_passed: bool,
    /// Also write the results into the project as `.pipette/test-results.json` and `.md`.
    #[serde(default)]
    pub save: bool,
}

impl RerunFailedRequest {
    /// A request with defaults for everything but the path.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            timeout_seconds: None,
            env: BTreeMap::new(),
            include_passed: false,
            save: false,
        }
    }
}

/// Parameters of `test_detect`: what test runners and linters a project uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DetectRequest {
    /// The project directory (under an allowed root).
    pub path: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runners_accept_auto_or_a_list() {
        let auto: TestRunRequest =
            serde_json::from_value(serde_json::json!({"path": "/p"})).expect("auto by default");
        assert_eq!(auto.runners, RunnerSelection::Auto(Auto::Auto));
        let explicit: TestRunRequest =
            serde_json::from_value(serde_json::json!({"path": "/p", "runners": "auto", "coverage": true}))
                .expect("auto");
        assert_eq!(explicit.runners, RunnerSelection::Auto(Auto::Auto));
        assert!(explicit.coverage);
        let list: TestRunRequest =
            serde_json::from_value(serde_json::json!({"path": "/p", "runners": ["pytest", "ruff"]}))
                .expect("list");
        assert_eq!(list.runners, RunnerSelection::List(vec![RunnerKind::Pytest, RunnerKind::Ruff]));
        let one: TestRunRequest =
            serde_json::from_value(serde_json::json!({"path": "/p", "runners": "pytest"})).expect("one");
        assert_eq!(one.runners, RunnerSelection::One(RunnerKind::Pytest));
        let check_error = |runners: serde_json::Value, expected: &str| {
            let err = serde_json::from_value::<TestRunRequest>(
                serde_json::json!({"path": "/p", "runners": runners}),
            )
            .expect_err("refused")
            .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("untagged"), "{err}");
        };
        check_error(
            serde_json::json!("everything"),
            "unknown runner `everything`; expected one of cargo_test",
        );
        check_error(serde_json::json!(["pytest", "jest"]), "unknown runner `jest`");
        check_error(serde_json::json!(3), "a runner name, or a list of runner names");
        check_error(serde_json::json!({"pytest": true}), "a runner name, or a list of runner names");
    }

    #[test]
    fn lint_tools_parse_and_map_to_runners() {
        for (name, kind) in [
            ("clippy", RunnerKind::Clippy),
            ("MYPY", RunnerKind::Mypy),
            ("ruff", RunnerKind::Ruff),
            ("flake8", RunnerKind::Flake8),
        ] {
            let tool: LintTool = name.parse().expect("tool");
            assert_eq!(RunnerKind::from(tool), kind);
        }
        assert!("pytest".parse::<LintTool>().is_err());
    }

    #[test]
    fn schemas_document_every_field() {
        let schema = serde_json::to_value(schemars::schema_for!(TestRunRequest)).expect("schema");
        let props = schema["properties"].as_object().expect("properties");
        for field in
            ["path", "runners", "filter", "coverage", "timeout_seconds", "env", "include_passed", "save"]
        {
            let description = props[field]["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{field} has no description");
        }
        assert_eq!(schema["required"], serde_json::json!(["path"]));
    }
}
