//! Test support: fixture projects copied into temporary directories, a `Testing` confined to
//! them, and a way to run the tools directly (to compare with what they report themselves).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use core_testing::process::ChildSpec;
use core_testing::{AllowedRoots, Config, TestRunReport, Testing};

/// A fixture copied to `<tmp>/project`, with the state directory at `<tmp>/state`.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) project: PathBuf,
    pub(crate) testing: Testing,
}

impl Fixture {
    /// Copies `fixtures/<name>` and builds a `Testing` whose only allowed root is the temp dir.
    pub(crate) fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path().join("project");
        copy_dir(&fixtures().join(name), &project);
        let project = project.canonicalize().expect("canonical");
        let testing = testing_for(dir.path(), &dir.path().join("state"));
        Self { dir, project, testing }
    }

    /// The fixture's own cargo target directory, beside the project (not in it). Each test has
    /// its own: concurrent builds of the same crate in one target directory replace each
    /// other's artefacts while the tests of another run still need them.
    pub(crate) fn cargo_target_dir(&self) -> PathBuf {
        self.dir.path().join("target")
    }

    /// Another `Testing` over the same roots and state, as after a restart.
    pub(crate) fn restarted(&self) -> Testing {
        testing_for(self.dir.path(), &self.dir.path().join("state"))
    }

    /// Runs a program in the project directly (not through a runner) and returns its output.
    pub(crate) async fn direct(&self, program: &str, args: &[&str]) -> core_testing::process::ChildOutput {
        let roots = AllowedRoots::new([self.dir.path()]).expect("roots");
        ChildSpec::new(program, &self.project, &roots)
            .expect("spec")
            .args(args.iter().copied())
            .env("CARGO_TARGET_DIR", self.cargo_target_dir().display().to_string())
            .run(&mut |_, _| {})
            .await
            .expect("direct run")
    }
}

pub(crate) fn testing_for(root: &Path, state: &Path) -> Testing {
    Testing::new(Config {
        allowed_roots: AllowedRoots::new([root]).expect("roots"),
        state_dir: state.to_path_buf(),
        max_parallel: 4,
        ..Config::default()
    })
}

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    const SKIP: &[&str] =
        &["target", "Cargo.lock", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".pipette"];
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A progress callback that records every call.
#[derive(Default)]
pub(crate) struct Recorder(pub(crate) Mutex<Vec<(u64, Option<u64>, String)>>);

impl Recorder {
    pub(crate) fn callback(&self) -> impl Fn(u64, Option<u64>, &str) + Send + Sync + '_ {
        |done, total, message| {
            self.0.lock().expect("lock").push((done, total, message.to_string()));
        }
    }

    pub(crate) fn calls(&self) -> Vec<(u64, Option<u64>, String)> {
        self.0.lock().expect("lock").clone()
    }
}

/// The one result of a report for `runner`.
pub(crate) fn only(report: &TestRunReport, runner: core_testing::RunnerKind) -> &core_testing::RunResult {
    let matching: Vec<_> = report.results.iter().filter(|r| r.runner == runner).collect();
    assert_eq!(matching.len(), 1, "one {runner} result in {report:#?}");
    matching[0]
}

/// Whether `pid` is gone (or a zombie waiting for its reaper) within a few seconds.
pub(crate) async fn gone(pid: i32) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) => {
                let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
                if matches!(state, Some('Z' | 'X')) {
                    return true;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
