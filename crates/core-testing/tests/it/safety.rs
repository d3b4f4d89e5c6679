//! Paths outside the allowed roots — directly, through `..` or through a symlink — are refused
//! before anything runs.

use core_testing::{DetectRequest, LintRequest, RerunFailedRequest, TestRunRequest, TestingError};

use crate::support::Fixture;

fn assert_refused(result: Result<impl std::fmt::Debug, TestingError>, expect: &str) {
    match result {
        Err(TestingError::InvalidArgument { name, reason }) => {
            assert_eq!(name, "path");
            assert!(reason.contains(expect), "{reason}");
        }
        other => panic!("expected the path to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn paths_outside_the_allowed_roots_are_refused_by_every_operation() {
    let fixture = Fixture::new("python-project");
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("pyproject.toml"), "[tool.pytest.ini_options]\n").expect("write");
    let testing = &fixture.testing;
    let none = &|_: u64, _: Option<u64>, _: &str| {};

    assert_refused(
        testing.run(&TestRunRequest::new(outside.path()), none).await,
        "outside the allowed roots",
    );
    assert_refused(testing.lint(&LintRequest::new(outside.path()), none).await, "outside the allowed roots");
    assert_refused(
        testing.rerun_failed(&RerunFailedRequest::new(outside.path()), none).await,
        "outside the allowed roots",
    );
    assert_refused(
        testing.detect(&DetectRequest { path: outside.path().to_path_buf() }).await,
        "outside the allowed roots",
    );
}

#[tokio::test]
async fn dotdot_and_symlink_escapes_are_refused() {
    let fixture = Fixture::new("python-project");
    let outside = tempfile::tempdir().expect("tempdir");
    let none = &|_: u64, _: Option<u64>, _: &str| {};

    // <root>/project/../../<outside>
    let name = outside.path().file_name().expect("name");
    let dotdot = fixture.project.join("../..").join(name);
    assert_refused(
        fixture.testing.run(&TestRunRequest::new(&dotdot), none).await,
        "escapes the allowed roots with `..`",
    );

    // <root>/project/escape -> <outside>
    let link = fixture.project.join("escape");
    std::os::unix::fs::symlink(outside.path(), &link).expect("symlink");
    assert_refused(fixture.testing.run(&TestRunRequest::new(&link), none).await, "through a symlink");

    // A pytest filter that climbs out of the project is refused too.
    std::fs::write(outside.path().join("test_x.py"), "def test_x():\n    pass\n").expect("write");
    let mut req = TestRunRequest::new(&fixture.project);
    req.filter = Some("escape/test_x.py".into());
    req.runners = core_testing::RunnerSelection::List(vec![core_testing::RunnerKind::Pytest]);
    let report = fixture.testing.run(&req, none).await.expect("report");
    let error = report.results[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("invalid argument `filter`"), "{error}");
    assert!(error.contains("leads outside the project"), "{error}");
}
