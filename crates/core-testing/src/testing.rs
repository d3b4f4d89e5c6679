//! The four operations — run, lint, rerun what failed, detect — over the runners, with the
//! shared concurrency limit, the remembered failures and the optional saved report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

use crate::detect::{ProjectInfo, inspect, probe_tools};
use crate::process::validate_env;
use crate::report::{summarize, to_markdown};
use crate::runners::{self, ProgressHub, RunContext, Selection};
use crate::state::{self, ProjectState, Scope};
use crate::{
    Config, DetectRequest, Detection, LintRequest, RerunFailedRequest, RunResult, RunStatus, RunnerKind,
    RunnerSelection, TestRunReport, TestRunRequest, TestStatus, TestingError,
};

/// The progress callback: (current, total when known, message).
pub type Progress<'a> = &'a (dyn Fn(u64, Option<u64>, &str) + Send + Sync);

/// Where `save` writes inside the project.
pub const RESULTS_DIR: &str = ".pipette";

/// The test runner service. Cheap to clone; clones share the concurrency limit.
#[derive(Clone)]
pub struct Testing {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    /// Where projects may be now (starts as `config.allowed_roots`; see `set_allowed_roots`).
    roots: std::sync::RwLock<crate::AllowedRoots>,
    limit: Semaphore,
    state_lock: Mutex<()>,
}

impl std::fmt::Debug for Testing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testing").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// One runner of a call.
struct Planned {
    kind: RunnerKind,
    selection: Option<Selection>,
    scope: Scope,
    filter: Option<String>,
}

/// Options shared by every runner of a call.
struct Options<'a> {
    env: &'a BTreeMap<String, String>,
    timeout: Duration,
    coverage: bool,
    include_passed: bool,
    save: bool,
    /// A rerun with nothing to rerun: nothing failed last time, which is a pass (not `no_tests`).
    nothing_failed: bool,
}

impl Testing {
    /// A service with this configuration.
    pub fn new(config: Config) -> Self {
        let limit = Semaphore::new(config.max_parallel.max(1));
        let roots = std::sync::RwLock::new(config.allowed_roots.clone());
        Self { inner: Arc::new(Inner { config, roots, limit, state_lock: Mutex::new(()) }) }
    }

    /// A service configured from the environment ([`Config::from_env`]).
    pub fn from_env() -> Self {
        Self::new(Config::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Replaces the directories projects may be in (e.g. with the roots an MCP client declared).
    pub fn set_allowed_roots(&self, roots: crate::AllowedRoots) {
        *self.inner.roots.write().unwrap_or_else(|p| p.into_inner()) = roots;
    }

    /// The directories projects may be in now.
    pub fn allowed_roots(&self) -> crate::AllowedRoots {
        self.inner.roots.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `test_detect`: what the project uses, and which of those tools are installed.
    pub async fn detect(&self, request: &DetectRequest) -> Result<Detection, TestingError> {
        let project = self.project(&request.path)?;
        let info = self.inspect(&project).await?;
        let tools = probe_tools(&project, &info, &self.allowed_roots()).await;
        Ok(Detection {
            project: project.display().to_string(),
            test_runners: info.test_runners(),
            linters: info.linters(),
            rust: info.rust,
            python: info.python,
            tools,
            evidence: info.evidence,
        })
    }

    /// `test_run`: runs the project's tests (and any linters named) and returns one report.
    pub async fn run(
        &self,
        request: &TestRunRequest,
        progress: Progress<'_>,
    ) -> Result<TestRunReport, TestingError> {
        let project = self.project(&request.path)?;
        let filter = validate_filter(request.filter.as_deref())?;
        let options = Options {
            env: &request.env,
            timeout: self.timeout(request.timeout_seconds)?,
            coverage: request.coverage,
            include_passed: request.include_passed,
            save: request.save,
            nothing_failed: false,
        };
        validate_envs(&request.env)?;
        let info = self.inspect(&project).await?;
        let mut notes = Vec::new();
        let kinds = match &request.runners {
            RunnerSelection::Auto(_) => {
                let kinds = info.test_runners();
                if kinds.is_empty() {
                    notes.push(format!(
                        "no tests found in {}: no Cargo.toml, no pytest configuration and no \
                         test_*.py files; name the runners explicitly to run them anyway",
                        project.display()
                    ));
                }
                kinds
            }
            RunnerSelection::One(kind) => vec![*kind],
            RunnerSelection::List(list) => dedup(list.iter().copied()),
        };
        let scope = || {
            if filter.is_some() { Scope::Partial } else { Scope::Full }
        };
        let plan = kinds
            .into_iter()
            .map(|kind| Planned {
                kind,
                selection: None,
                scope: if kind.runs_tests() { scope() } else { Scope::Full },
                filter: filter.filter(|_| kind.runs_tests()).map(str::to_string),
            })
            .collect();
        self.execute(&project, &info, plan, &options, notes, progress).await
    }

    /// `lint_run`: runs linters and type checkers and returns their diagnostics.
    pub async fn lint(
        &self,
        request: &LintRequest,
        progress: Progress<'_>,
    ) -> Result<TestRunReport, TestingError> {
        let project = self.project(&request.path)?;
        let options = Options {
            env: &request.env,
            timeout: self.timeout(request.timeout_seconds)?,
            coverage: false,
            include_passed: false,
            save: request.save,
            nothing_failed: false,
        };
        validate_envs(&request.env)?;
        let info = self.inspect(&project).await?;
        let mut notes = Vec::new();
        let kinds = if request.tools.is_empty() {
            let kinds = info.linters();
            if kinds.is_empty() {
                notes.push(format!(
                    "no Rust or Python project found in {}; name the tools explicitly",
                    project.display()
                ));
            }
            kinds
        } else {
            dedup(request.tools.iter().map(|t| RunnerKind::from(*t)))
        };
        let plan = kinds
            .into_iter()
            .map(|kind| Planned { kind, selection: None, scope: Scope::Full, filter: None })
            .collect();
        self.execute(&project, &info, plan, &options, notes, progress).await
    }

    /// `test_rerun_failed`: reruns only what failed in the project's most recent runs (per
    /// runner: the failed tests, the files with diagnostics, or the whole runner when it broke
    /// down). Remembered across restarts in the state directory.
    pub async fn rerun_failed(
        &self,
        request: &RerunFailedRequest,
        progress: Progress<'_>,
    ) -> Result<TestRunReport, TestingError> {
        let project = self.project(&request.path)?;
        let options = Options {
            env: &request.env,
            timeout: self.timeout(request.timeout_seconds)?,
            coverage: false,
            include_passed: request.include_passed,
            save: request.save,
            nothing_failed: false,
        };
        validate_envs(&request.env)?;
        let previous = state::load(&self.config().state_dir, &project)
            .await
            .ok_or_else(|| TestingError::NoPreviousRun { project: project.clone() })?;
        // cargo test and nextest run the same tests: rerun only the one that ran last.
        let cargo_runs: Vec<(RunnerKind, chrono::DateTime<chrono::Utc>)> =
            [RunnerKind::CargoTest, RunnerKind::CargoNextest]
                .into_iter()
                .filter_map(|k| previous.runners.get(&k).filter(|s| s.has_failures()).map(|s| (k, s.at)))
                .collect();
        let superseded = match cargo_runs.as_slice() {
            [(a, at_a), (b, at_b)] => Some(if at_a < at_b { *a } else { *b }),
            _ => None,
        };
        let plan: Vec<Planned> = previous
            .runners
            .iter()
            .filter(|(kind, s)| s.has_failures() && Some(**kind) != superseded)
            .map(|(kind, s)| {
                let selection = if s.whole {
                    None
                } else if !s.tests.is_empty() {
                    Some(Selection::Tests(s.tests.clone()))
                } else {
                    Some(Selection::Files(s.files.clone()))
                };
                Planned {
                    kind: *kind,
                    scope: if selection.is_some() || s.filter.is_some() {
                        Scope::Partial
                    } else {
                        Scope::Full
                    },
                    filter: if s.whole { s.filter.clone() } else { None },
                    selection,
                }
            })
            .collect();
        let mut notes = Vec::new();
        if plan.is_empty() {
            notes.push(format!("nothing failed in the last run of {}; nothing to rerun", project.display()));
        }
        let options = Options { nothing_failed: plan.is_empty(), ..options };
        let info = self.inspect(&project).await?;
        self.execute(&project, &info, plan, &options, notes, progress).await
    }

    fn project(&self, path: &Path) -> Result<PathBuf, TestingError> {
        let project = self.allowed_roots().resolve("path", path)?;
        if !project.is_dir() {
            return Err(TestingError::invalid("path", format!("{} is not a directory", project.display())));
        }
        Ok(project)
    }

    fn timeout(&self, seconds: Option<u64>) -> Result<Duration, TestingError> {
        let max = self.config().max_timeout;
        match seconds {
            None => Ok(self.config().default_timeout),
            Some(0) => Err(TestingError::invalid("timeout_seconds", "must be at least 1 second")),
            Some(s) if Duration::from_secs(s) > max => Err(TestingError::invalid(
                "timeout_seconds",
                format!("must be at most {} seconds", max.as_secs()),
            )),
            Some(s) => Ok(Duration::from_secs(s)),
        }
    }

    async fn inspect(&self, project: &Path) -> Result<ProjectInfo, TestingError> {
        let project = project.to_path_buf();
        let python = self.config().python.clone();
        tokio::task::spawn_blocking(move || inspect(&project, python.as_deref()))
            .await
            .map_err(|e| TestingError::Internal(format!("project inspection failed: {e}")))
    }

    async fn execute(
        &self,
        project: &Path,
        info: &ProjectInfo,
        plan: Vec<Planned>,
        options: &Options<'_>,
        mut notes: Vec<String>,
        progress: Progress<'_>,
    ) -> Result<TestRunReport, TestingError> {
        let started = Instant::now();
        let hub = ProgressHub::new(progress, plan.len());
        let config = self.config();
        let roots = self.allowed_roots();
        let roots = &roots;
        let runs = plan.iter().enumerate().map(|(i, planned)| {
            let hub = &hub;
            async move {
                let _permit = self
                    .inner
                    .limit
                    .acquire()
                    .await
                    .map_err(|_| TestingError::Internal("the runner limit was closed".into()))?;
                let ctx = RunContext {
                    project,
                    info,
                    config,
                    roots,
                    timeout: options.timeout,
                    env: options.env,
                    filter: planned.filter.as_deref(),
                    selection: planned.selection.as_ref(),
                    coverage: options.coverage,
                    progress: hub.runner(i, planned.kind),
                };
                Ok::<RunResult, TestingError>(runners::run(planned.kind, &ctx).await)
            }
        });
        let results: Vec<RunResult> = futures::future::try_join_all(runs).await?;

        if !plan.is_empty()
            && let Err(err) = self.remember(project, &plan, &results).await
        {
            tracing::warn!(%err, "could not remember the failures of this run");
            notes.push(format!("the failures of this run could not be remembered for rerun_failed: {err}"));
        }

        let mut results = results;
        if !options.include_passed {
            let mut hidden = 0;
            for r in &mut results {
                let before = r.tests.len();
                r.tests.retain(|t| t.status != TestStatus::Passed);
                hidden += before - r.tests.len();
            }
            if hidden > 0 {
                let (what, verb) = if hidden == 1 { ("test is", "it") } else { ("tests are", "them") };
                notes.push(format!(
                    "{hidden} passed {what} counted but not listed; set include_passed to list {verb}"
                ));
            }
        }
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut report = TestRunReport {
            project: project.display().to_string(),
            summary: summarize(&results, duration_ms),
            results,
            saved: Vec::new(),
            notes,
        };
        if options.nothing_failed && report.results.is_empty() {
            report.summary.status = RunStatus::Passed;
            report.summary.message = "passed: nothing failed in the last run".into();
        }
        if options.save {
            self.save(project, &mut report).await?;
        }
        Ok(report)
    }

    async fn remember(
        &self,
        project: &Path,
        plan: &[Planned],
        results: &[RunResult],
    ) -> Result<(), TestingError> {
        let state_dir = &self.config().state_dir;
        let _guard = self.inner.state_lock.lock().await;
        let mut project_state = state::load(state_dir, project).await.unwrap_or_else(|| ProjectState {
            project: project.display().to_string(),
            updated_at: chrono::Utc::now(),
            runners: BTreeMap::new(),
        });
        let scoped: Vec<(RunResult, Scope, Option<String>)> =
            results.iter().zip(plan).map(|(r, p)| (r.clone(), p.scope.clone(), p.filter.clone())).collect();
        state::record(&mut project_state, &scoped);
        state::save(state_dir, &project_state).await
    }

    async fn save(&self, project: &Path, report: &mut TestRunReport) -> Result<(), TestingError> {
        let dir = project.join(RESULTS_DIR);
        let json_path = dir.join("test-results.json");
        let md_path = dir.join("test-results.md");
        report.saved = vec![json_path.display().to_string(), md_path.display().to_string()];
        let json = serde_json::to_vec_pretty(report)
            .map_err(|e| TestingError::Internal(format!("serialising the report: {e}")))?;
        state::write_atomically(&json_path, &json).await?;
        state::write_atomically(&md_path, to_markdown(report).as_bytes()).await?;
        Ok(())
    }
}

fn dedup(kinds: impl Iterator<Item = RunnerKind>) -> Vec<RunnerKind> {
    let mut out: Vec<RunnerKind> = Vec::new();
    for kind in kinds {
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    out
}

fn validate_filter(filter: Option<&str>) -> Result<Option<&str>, TestingError> {
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    if filter.starts_with('-') {
        return Err(TestingError::invalid(
            "filter",
            "must not start with `-` (it would be read as an option)",
        ));
    }
    if filter.contains('\0') || filter.len() > 1000 {
        return Err(TestingError::invalid("filter", "must be at most 1000 characters, without NUL"));
    }
    Ok(Some(filter))
}

fn validate_envs(env: &BTreeMap<String, String>) -> Result<(), TestingError> {
    env.iter().try_for_each(|(k, v)| validate_env(k, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_that_look_like_options_are_refused() {
        assert_eq!(validate_filter(None).expect("none"), None);
        assert_eq!(validate_filter(Some("  ")).expect("blank"), None);
        assert_eq!(validate_filter(Some(" add ")).expect("ok"), Some("add"));
        for bad in ["--help", "-k x", "a\0b"] {
            let err = validate_filter(Some(bad)).expect_err(bad);
            assert!(matches!(err, TestingError::InvalidArgument { name: "filter", .. }));
        }
    }

    #[test]
    fn duplicate_runners_run_once() {
        assert_eq!(
            dedup([RunnerKind::Pytest, RunnerKind::Ruff, RunnerKind::Pytest].into_iter()),
            [RunnerKind::Pytest, RunnerKind::Ruff]
        );
    }

    #[tokio::test]
    async fn timeouts_and_paths_are_validated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config {
            allowed_roots: crate::AllowedRoots::new([dir.path()]).expect("roots"),
            state_dir: dir.path().join("state"),
            ..Config::default()
        };
        let testing = Testing::new(config);
        let mut request = TestRunRequest::new(dir.path());
        request.timeout_seconds = Some(0);
        let err = testing.run(&request, &|_, _, _| {}).await.expect_err("zero");
        assert!(matches!(err, TestingError::InvalidArgument { name: "timeout_seconds", .. }));
        request.timeout_seconds = Some(100_000);
        assert!(testing.run(&request, &|_, _, _| {}).await.is_err());
        let err = testing.run(&TestRunRequest::new("/"), &|_, _, _| {}).await.expect_err("outside");
        assert!(matches!(err, TestingError::InvalidArgument { name: "path", .. }));
        let mut request = TestRunRequest::new(dir.path());
        request.env.insert("LD_PRELOAD".into(), "/x.so".into());
        let err = testing.run(&request, &|_, _, _| {}).await.expect_err("env");
        assert!(matches!(err, TestingError::InvalidArgument { name: "env", .. }));
    }

    #[tokio::test]
    async fn an_empty_project_runs_nothing_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config {
            allowed_roots: crate::AllowedRoots::new([dir.path()]).expect("roots"),
            state_dir: dir.path().join("state"),
            ..Config::default()
        };
        let testing = Testing::new(config);
        let report = testing.run(&TestRunRequest::new(dir.path()), &|_, _, _| {}).await.expect("report");
        assert!(report.results.is_empty());
        assert_eq!(report.summary.status, RunStatus::NoTests);
        assert_eq!(report.summary.message, "no tests: nothing ran");
        assert!(report.notes.iter().any(|n| n.contains("no tests found")));
        let err = testing
            .rerun_failed(&RerunFailedRequest::new(dir.path()), &|_, _, _| {})
            .await
            .expect_err("no previous run");
        assert!(matches!(err, TestingError::NoPreviousRun { .. }));
    }
}
