//! What failed in each project's most recent runs, remembered on disk across restarts so
//! `rerun_failed` can run only that.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{RunResult, RunStatus, RunnerKind, Severity, TestStatus, TestingError};

/// The remembered state of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProjectState {
    /// The canonical project path.
    pub(crate) project: String,
    pub(crate) updated_at: DateTime<Utc>,
    /// Per runner, what failed in its most recent run.
    pub(crate) runners: BTreeMap<RunnerKind, RunnerState>,
}

/// What failed in one runner's most recent run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunnerState {
    pub(crate) status: RunStatus,
    pub(crate) at: DateTime<Utc>,
    /// Tests that failed or errored, by the runner's own names.
    #[serde(default)]
    pub(crate) tests: Vec<String>,
    /// Files with diagnostics (linters).
    #[serde(default)]
    pub(crate) files: Vec<String>,
    /// The runner as a whole broke down (error, timeout): rerun all of it.
    #[serde(default)]
    pub(crate) whole: bool,
    /// The filter of that run, to rerun a broken-down runner over the same tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) filter: Option<String>,
}

impl RunnerState {
    /// Whether there is anything to rerun.
    pub(crate) fn has_failures(&self) -> bool {
        self.whole || !self.tests.is_empty() || !self.files.is_empty()
    }
}

/// How much of a runner's scope a run covered.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// Everything: the new state replaces the old.
    Full,
    /// Only part (a filter or a rerun): tests and files not covered keep their old state.
    Partial,
}

fn failures_of(result: &RunResult, filter: Option<&str>) -> RunnerState {
    let mut tests: Vec<String> = result
        .tests
        .iter()
        .filter(|t| matches!(t.status, TestStatus::Failed | TestStatus::Error))
        .map(|t| t.name.clone())
        .collect();
    tests.dedup();
    let files: BTreeSet<String> = result
        .diagnostics
        .iter()
        .filter(|d| d.severity <= Severity::Warning)
        .filter_map(|d| d.file.clone())
        .collect();
    RunnerState {
        status: result.status,
        at: Utc::now(),
        tests,
        files: files.into_iter().collect(),
        whole: matches!(result.status, RunStatus::Error | RunStatus::Timeout),
        filter: filter.map(str::to_string),
    }
}

/// Folds a run's results into the project's state.
/// `results` pairs each result with how much it covered and the filter it ran with.
pub(crate) fn record(state: &mut ProjectState, results: &[(RunResult, Scope, Option<String>)]) {
    state.updated_at = Utc::now();
    for (result, scope, filter) in results {
        let new = failures_of(result, filter.as_deref());
        let merged = match (scope, state.runners.get(&result.runner)) {
            (Scope::Partial, Some(old)) => {
                let seen: HashSet<&str> = result.tests.iter().map(|t| t.name.as_str()).collect();
                let checked: HashSet<&str> = result
                    .diagnostics
                    .iter()
                    .filter_map(|d| d.file.as_deref())
                    .chain(old.files.iter().map(String::as_str).filter(|_| {
                        // A partial linter run rechecked exactly the files it was given.
                        !result.runner.runs_tests()
                    }))
                    .collect();
                let mut tests: Vec<String> =
                    old.tests.iter().filter(|t| !seen.contains(t.as_str())).cloned().collect();
                tests.extend(new.tests.iter().cloned());
                tests.dedup();
                let mut files: BTreeSet<String> =
                    old.files.iter().filter(|f| !checked.contains(f.as_str())).cloned().collect();
                files.extend(new.files.iter().cloned());
                let status = if new.whole || !tests.is_empty() || !files.is_empty() {
                    new.status.max(RunStatus::Failed)
                } else {
                    new.status
                };
                RunnerState {
                    status,
                    at: new.at,
                    tests,
                    files: files.into_iter().collect(),
                    whole: new.whole,
                    filter: new.filter,
                }
            }
            _ => new,
        };
        state.runners.insert(result.runner, merged);
    }
}

/// Where a project's state lives: one small JSON file per project, named by a stable hash.
pub(crate) fn path_for(state_dir: &Path, project: &Path) -> PathBuf {
    state_dir.join("projects").join(format!("{:016x}.json", fnv1a(project.to_string_lossy().as_bytes())))
}

/// FNV-1a, 64 bits: stable across Rust versions (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Loads a project's state; a missing or unreadable file is no state (logged).
pub(crate) async fn load(state_dir: &Path, project: &Path) -> Option<ProjectState> {
    let path = path_for(state_dir, project);
    let bytes = tokio::fs::read(&path).await.ok()?;
    match serde_json::from_slice::<ProjectState>(&bytes) {
        Ok(state) if state.project == project.to_string_lossy() => Some(state),
        Ok(_) => None,
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "ignoring an unreadable test state file");
            None
        }
    }
}

/// Saves a project's state atomically (temporary file, then rename).
pub(crate) async fn save(state_dir: &Path, state: &ProjectState) -> Result<(), TestingError> {
    let path = path_for(state_dir, Path::new(&state.project));
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| TestingError::Internal(format!("serialising the test state: {e}")))?;
    write_atomically(&path, &json).await
}

/// Writes `bytes` to `path` through a temporary sibling and a rename, so a reader (or a
/// cancelled writer) never leaves a half-written file behind.
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TestingError> {
    let dir =
        path.parent().ok_or_else(|| TestingError::Internal(format!("{} has no parent", path.display())))?;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| TestingError::io(format!("creating {}", dir.display()), e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        std::process::id()
    ));
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| TestingError::io(format!("writing {}", tmp.display()), e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| TestingError::io(format!("renaming into {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, TestCase};

    fn result(runner: RunnerKind, status: RunStatus, tests: &[(&str, TestStatus)]) -> RunResult {
        let mut r = RunResult::new(runner, vec![]);
        r.status = status;
        r.tests = tests.iter().map(|(n, s)| TestCase::new(*n, *s)).collect();
        r
    }

    fn empty(project: &str) -> ProjectState {
        ProjectState { project: project.into(), updated_at: Utc::now(), runners: BTreeMap::new() }
    }

    #[test]
    fn a_full_run_replaces_and_a_partial_run_merges() {
        let mut state = empty("/p");
        record(
            &mut state,
            &[(
                result(
                    RunnerKind::Pytest,
                    RunStatus::Failed,
                    &[("a", TestStatus::Failed), ("b", TestStatus::Error), ("c", TestStatus::Passed)],
                ),
                Scope::Full,
                None,
            )],
        );
        assert_eq!(state.runners[&RunnerKind::Pytest].tests, ["a", "b"]);
        // A rerun of a and b: a now passes, b still errors.
        record(
            &mut state,
            &[(
                result(
                    RunnerKind::Pytest,
                    RunStatus::Failed,
                    &[("a", TestStatus::Passed), ("b", TestStatus::Error)],
                ),
                Scope::Partial,
                None,
            )],
        );
        assert_eq!(state.runners[&RunnerKind::Pytest].tests, ["b"]);
        // A filtered run that does not touch b keeps it.
        record(
            &mut state,
            &[(
                result(RunnerKind::Pytest, RunStatus::Passed, &[("c", TestStatus::Passed)]),
                Scope::Partial,
                None,
            )],
        );
        let pytest = &state.runners[&RunnerKind::Pytest];
        assert_eq!(pytest.tests, ["b"]);
        assert_eq!(pytest.status, RunStatus::Failed);
        // A full passing run clears it.
        record(
            &mut state,
            &[(
                result(RunnerKind::Pytest, RunStatus::Passed, &[("b", TestStatus::Passed)]),
                Scope::Full,
                None,
            )],
        );
        assert!(!state.runners[&RunnerKind::Pytest].has_failures());
    }

    #[test]
    fn linters_remember_files_and_errors_rerun_everything() {
        let mut state = empty("/p");
        let mut ruff = result(RunnerKind::Ruff, RunStatus::Failed, &[]);
        ruff.diagnostics = vec![Diagnostic {
            severity: Severity::Warning,
            code: Some("F401".into()),
            message: "unused".into(),
            file: Some("a.py".into()),
            line: Some(1),
            column: Some(1),
            hint: None,
        }];
        let broken = result(RunnerKind::CargoTest, RunStatus::Error, &[]);
        record(&mut state, &[(ruff, Scope::Full, None), (broken, Scope::Full, None)]);
        assert_eq!(state.runners[&RunnerKind::Ruff].files, ["a.py"]);
        assert!(state.runners[&RunnerKind::CargoTest].whole);
        // A rerun of ruff on a.py that comes back clean clears the file.
        record(&mut state, &[(result(RunnerKind::Ruff, RunStatus::Passed, &[]), Scope::Partial, None)]);
        assert!(!state.runners[&RunnerKind::Ruff].has_failures());
    }

    #[test]
    fn a_broken_down_filtered_run_remembers_its_filter() {
        let mut state = empty("/p");
        let timed_out = result(RunnerKind::Pytest, RunStatus::Timeout, &[]);
        record(&mut state, &[(timed_out, Scope::Partial, Some("slow/".into()))]);
        let pytest = &state.runners[&RunnerKind::Pytest];
        assert!(pytest.whole);
        assert!(pytest.has_failures());
        assert_eq!(pytest.filter.as_deref(), Some("slow/"));
    }

    #[tokio::test]
    async fn state_survives_a_round_trip_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = empty("/some/project");
        record(
            &mut state,
            &[(
                result(RunnerKind::CargoTest, RunStatus::Failed, &[("t::x", TestStatus::Failed)]),
                Scope::Full,
                None,
            )],
        );
        save(dir.path(), &state).await.expect("save");
        let loaded = load(dir.path(), Path::new("/some/project")).await.expect("loaded");
        assert_eq!(loaded, state);
        assert!(load(dir.path(), Path::new("/other")).await.is_none());
        // A corrupt file is no state, not an error.
        tokio::fs::write(path_for(dir.path(), Path::new("/some/project")), b"{").await.expect("write");
        assert!(load(dir.path(), Path::new("/some/project")).await.is_none());
    }

    #[test]
    fn state_file_names_are_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
