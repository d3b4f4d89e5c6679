//! The runners: for each tool, the command to run, what to read from it, and how to turn that
//! into a [`RunResult`]. Shared plumbing (context, progress, result skeleton) lives here.

mod cargo;
mod python;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::detect::ProjectInfo;
use crate::process::{ChildOutput, ChildSpec, tail_of};
use crate::{Config, Counts, DiagnosticCounts, Progress, RunResult, RunStatus, RunnerKind, TestingError};

/// What a rerun narrows a runner to (`None` in the context: everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// These tests, by the runner's own names (node ids, libtest names, unittest ids).
    Tests(Vec<String>),
    /// These files (linters).
    Files(Vec<String>),
}

/// Everything a runner needs for one run.
pub(crate) struct RunContext<'a> {
    pub(crate) project: &'a Path,
    pub(crate) info: &'a ProjectInfo,
    pub(crate) config: &'a Config,
    /// Where the project may be (the roots it was resolved against).
    pub(crate) roots: &'a crate::AllowedRoots,
    pub(crate) timeout: Duration,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) filter: Option<&'a str>,
    pub(crate) selection: Option<&'a Selection>,
    pub(crate) coverage: bool,
    pub(crate) progress: RunnerProgress<'a>,
}

impl RunContext<'_> {
    /// A child in the project directory with the request's timeout, output cap and environment
    /// (and the project's virtualenv, when it has one).
    pub(crate) fn spec(&self, program: &str) -> Result<ChildSpec, TestingError> {
        let mut spec = ChildSpec::new(program, self.project, self.roots)?
            .timeout(self.timeout)
            .output_cap(self.config.output_cap_bytes);
        if let Some(venv) = &self.info.venv {
            let path = std::env::var("PATH").unwrap_or_default();
            spec = spec
                .env("VIRTUAL_ENV", venv.display().to_string())
                .env("PATH", format!("{}/bin:{path}", venv.display()));
        }
        Ok(spec.envs(self.env.clone()))
    }

    /// The Python interpreter: the project's virtualenv, else the configured one, else python3.
    pub(crate) fn python(&self) -> String {
        if let Some(py) = &self.info.python {
            return py.interpreter.clone();
        }
        self.config.python.as_ref().map_or_else(|| "python3".to_string(), |p| p.display().to_string())
    }

    /// A result skeleton from a finished child: command, exit code, duration, output tail.
    pub(crate) fn result(&self, runner: RunnerKind, output: &ChildOutput) -> RunResult {
        let mut result = RunResult::new(runner, output.argv.clone());
        result.exit_code = output.exit_code;
        result.duration_ms = u64::try_from(output.duration.as_millis()).unwrap_or(u64::MAX);
        result.output_tail = tail_of(&output.combined.text, self.config.output_tail_bytes);
        if output.timed_out {
            result.status = RunStatus::Timeout;
            result.error = Some(format!(
                "timed out after {} s; the whole process tree was killed. Partial results are \
                 shown; raise timeout_seconds or narrow the run with a filter",
                self.timeout.as_secs()
            ));
        }
        result
    }
}

/// Runs one runner to a result; a runner that cannot start becomes a result with status `error`.
pub(crate) async fn run(kind: RunnerKind, ctx: &RunContext<'_>) -> RunResult {
    let started = Instant::now();
    ctx.progress.start();
    let outcome = match kind {
        RunnerKind::CargoTest => cargo::cargo_test(ctx).await,
        RunnerKind::CargoNextest => cargo::nextest(ctx).await,
        RunnerKind::Clippy => cargo::clippy(ctx).await,
        RunnerKind::Pytest => python::pytest(ctx).await,
        RunnerKind::Unittest => python::unittest(ctx).await,
        RunnerKind::Mypy => python::mypy(ctx).await,
        RunnerKind::Ruff => python::ruff(ctx).await,
        RunnerKind::Flake8 => python::flake8(ctx).await,
    };
    let mut result = match outcome {
        Ok(result) => result,
        Err(err) => {
            let mut r = RunResult::new(kind, Vec::new());
            r.status = RunStatus::Error;
            r.error = Some(err.to_string());
            r.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            r
        }
    };
    result.counts = Counts::of(&result.tests);
    result.diagnostic_counts = DiagnosticCounts::of(&result.diagnostics);
    if kind.runs_tests() {
        nothing_executed_is_no_pass(&mut result, ctx.filter);
    }
    metrics::counter!(
        "pipette_testing_runs_total",
        "runner" => kind.as_str(),
        "status" => result.status.as_str()
    )
    .increment(1);
    metrics::histogram!("pipette_testing_run_seconds", "runner" => kind.as_str())
        .record(started.elapsed().as_secs_f64());
    ctx.progress.finish(&format!("{kind}: {}", result.status));
    result
}

/// A test runner that passed without executing a single test did not pass: it says `no_tests`,
/// with a note on why (the runner may already have set that status and its own note).
fn nothing_executed_is_no_pass(result: &mut RunResult, filter: Option<&str>) {
    let c = &result.counts;
    let executed = c.passed + c.failed + c.errors + c.xfailed + c.xpassed;
    if result.status != RunStatus::Passed || executed > 0 {
        return;
    }
    result.status = RunStatus::NoTests;
    result.notes.push(if c.skipped > 0 {
        format!("no test was executed: all {} were skipped", c.skipped)
    } else {
        match filter {
            Some(f) => format!("{} ran no tests: none matched the filter `{f}`", result.runner),
            None => format!("{} found no tests to run", result.runner),
        }
    });
}

/// The stderr of a `python -m <module>` run says the module is missing.
pub(crate) fn module_missing(output: &ChildOutput, module: &str) -> bool {
    output.exit_code != Some(0) && output.stderr.text.contains(&format!("No module named {module}"))
}

/// Makes an absolute path inside the project relative to it; leaves anything else alone.
pub(crate) fn relative_to(project: &Path, file: &str) -> String {
    Path::new(file).strip_prefix(project).map_or_else(|_| file.to_string(), |p| p.display().to_string())
}

/// Progress of all runners of one call, folded into one (current, total, message) stream and
/// throttled so thousands of tests do not flood the caller.
pub(crate) struct ProgressHub<'a> {
    callback: Progress<'a>,
    state: Mutex<HubState>,
}

struct HubState {
    /// Per runner: tests done, tests expected (None until known).
    slots: Vec<(u64, Option<u64>)>,
    last_emit: Option<Instant>,
}

const MIN_INTERVAL: Duration = Duration::from_millis(100);

impl<'a> ProgressHub<'a> {
    pub(crate) fn new(callback: Progress<'a>, runners: usize) -> Self {
        Self { callback, state: Mutex::new(HubState { slots: vec![(0, None); runners], last_emit: None }) }
    }

    pub(crate) fn runner(&'a self, slot: usize, kind: RunnerKind) -> RunnerProgress<'a> {
        RunnerProgress { hub: Some(self), slot, kind }
    }

    fn update(&self, slot: usize, f: impl FnOnce(&mut (u64, Option<u64>)), message: &str, force: bool) {
        let emit = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            if let Some(s) = state.slots.get_mut(slot) {
                f(s);
            }
            let now = Instant::now();
            let due = state.last_emit.is_none_or(|t| now.duration_since(t) >= MIN_INTERVAL);
            if !(force || due) {
                return;
            }
            state.last_emit = Some(now);
            let done: u64 = state.slots.iter().map(|s| s.0).sum();
            let total: Option<u64> =
                state.slots.iter().map(|s| s.1).sum::<Option<u64>>().map(|t| t.max(done));
            (done, total)
        };
        (self.callback)(emit.0, emit.1, message);
    }
}

/// One runner's handle on the hub.
pub(crate) struct RunnerProgress<'a> {
    hub: Option<&'a ProgressHub<'a>>,
    slot: usize,
    kind: RunnerKind,
}

impl RunnerProgress<'_> {
    fn start(&self) {
        if let Some(hub) = self.hub {
            let msg = format!("{}: started", self.kind);
            // Linters count as one unit of work.
            let unit = (!self.kind.runs_tests()).then_some(1);
            hub.update(self.slot, |s| *s = (0, unit), &msg, true);
        }
    }

    /// Adds to the number of tests expected.
    pub(crate) fn add_total(&self, n: u64) {
        if let Some(hub) = self.hub {
            hub.update(self.slot, |s| s.1 = Some(s.1.unwrap_or(0) + n), "", false);
        }
    }

    /// One test done.
    pub(crate) fn tick(&self, message: &str) {
        if let Some(hub) = self.hub {
            let msg = format!("{}: {message}", self.kind);
            hub.update(self.slot, |s| s.0 += 1, &msg, false);
        }
    }

    fn finish(&self, message: &str) {
        if let Some(hub) = self.hub {
            hub.update(
                self.slot,
                |s| {
                    let total = s.1.unwrap_or(0).max(s.0).max(1);
                    *s = (total, Some(total));
                },
                message,
                true,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_folds_runners_and_throttles() {
        let seen = Mutex::new(Vec::new());
        let callback = |done: u64, total: Option<u64>, msg: &str| {
            seen.lock().expect("lock").push((done, total, msg.to_string()));
        };
        let hub = ProgressHub::new(&callback, 2);
        let a = hub.runner(0, RunnerKind::Pytest);
        let b = hub.runner(1, RunnerKind::Ruff);
        a.start();
        b.start();
        a.add_total(3);
        for _ in 0..3 {
            a.tick("t PASSED");
        }
        a.finish("pytest: passed");
        b.finish("ruff: passed");
        let seen = seen.into_inner().expect("lock");
        // start, start, (throttled ticks), finish, finish
        assert!(seen.len() >= 4, "{seen:?}");
        assert!(seen.len() < 4 + 4, "{seen:?}");
        assert_eq!(seen.last().map(|s| (s.0, s.1)), Some((4, Some(4))));
        assert_eq!(seen[0].1, None, "pytest's total is unknown at first");
    }

    #[test]
    fn relative_paths_inside_the_project_only() {
        let project = Path::new("/p/proj");
        assert_eq!(relative_to(project, "/p/proj/a/b.py"), "a/b.py");
        assert_eq!(relative_to(project, "/elsewhere/b.py"), "/elsewhere/b.py");
        assert_eq!(relative_to(project, "a.py"), "a.py");
    }
}
