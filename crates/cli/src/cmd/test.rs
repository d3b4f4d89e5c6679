//! `pipette test …`: `test_run`, `test_rerun_failed`, `test_detect` and `lint_run` through the router, with
//! live progress; a run that did not pass (failures, errors, a timeout, no test executed) exits non-zero.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::face::{Face, Failed, args};

/// Run tests, rerun failures, detect runners, lint.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum TestCmd {
    /// Run the project's tests: the runners it uses, or those named with --runners.
    Run {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Runners, comma-separated: cargo_test, cargo_nextest, clippy, pytest, unittest, mypy,
        /// ruff, flake8 (default: detected).
        #[arg(long, value_delimiter = ',')]
        runners: Vec<String>,
        /// Narrow the tests: a name substring (cargo), a -k expression or node id (pytest).
        #[arg(long, short = 'k')]
        filter: Option<String>,
        /// Measure coverage (pytest with pytest-cov).
        #[arg(long)]
        coverage: bool,
        /// List passed tests too (with --json).
        #[arg(long)]
        include_passed: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Rerun only what failed in the project's last run.
    RerunFailed {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// List passed tests too (with --json).
        #[arg(long)]
        include_passed: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Show the test runners and linters the project uses, and which are installed.
    Detect {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Run linters and type checkers: the configured ones, or those named with --tools.
    Lint {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Tools, comma-separated: clippy, mypy, ruff, flake8 (default: configured).
        #[arg(long, value_delimiter = ',')]
        tools: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// Options shared by the running subcommands.
#[derive(clap::Args, Debug)]
pub(crate) struct Common {
    /// Wall-clock limit per runner, in seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// An extra environment variable for the tools (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Also write .pipette/test-results.json and .md into the project.
    #[arg(long)]
    save: bool,
}

impl Common {
    fn into_arguments(self, path: &Path) -> serde_json::Map<String, Value> {
        let env: serde_json::Map<String, Value> = self.env.into_iter().map(|(k, v)| (k, v.into())).collect();
        let mut map = serde_json::Map::new();
        map.insert("path".into(), absolute(path).into());
        map.insert("timeout_seconds".into(), json!(self.timeout));
        map.insert("env".into(), (!env.is_empty()).then_some(Value::Object(env)).into());
        map.insert("save".into(), self.save.into());
        map
    }
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// The project path as the tools take it: absolute (the CLI's working directory is not the router's).
fn absolute(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned()).display().to_string()
}

pub(crate) async fn run(face: &Face, cmd: TestCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        TestCmd::Run { path, runners, filter, coverage, include_passed, common } => {
            let mut map = common.into_arguments(&path);
            map.insert("runners".into(), (!runners.is_empty()).then_some(runners).into());
            map.insert("filter".into(), filter.into());
            map.insert("coverage".into(), coverage.into());
            map.insert("include_passed".into(), include_passed.into());
            ("test_run", Value::Object(map))
        }
        TestCmd::RerunFailed { path, include_passed, common } => {
            let mut map = common.into_arguments(&path);
            map.insert("include_passed".into(), include_passed.into());
            ("test_rerun_failed", Value::Object(map))
        }
        TestCmd::Detect { path } => ("test_detect", json!({ "path": absolute(&path) })),
        TestCmd::Lint { path, tools, common } => {
            let mut map = common.into_arguments(&path);
            map.insert("tools".into(), tools.into());
            ("lint_run", Value::Object(map))
        }
    };
    let Some(result) = face.run(tool, args(arguments)).await? else { return Ok(()) };
    // A report (not `detect`): anything but a pass fails the command, saying why once.
    if let Some(summary) = result.get("summary")
        && summary["status"] != "passed"
    {
        let message = summary["message"].as_str().unwrap_or("the run did not pass");
        return Err(Failed(message.to_owned()).into());
    }
    Ok(())
}
