//! The router in-process: priority admission, deadlines, retries, and Blocking work kept off the I/O runtime.

use std::time::{Duration, Instant};

use mcp_tools::{CallOptions, CallOutcome, ErrorKind, Router, RouterConfig};
use pipette_tests::fixture_tools::recorded;
use serde_json::json;

async fn router(dir: &std::path::Path, tweak: impl FnOnce(&mut RouterConfig)) -> Router {
    pipette_tests::link();
    let mut config = RouterConfig { data_dir: dir.to_path_buf(), ..RouterConfig::default() };
    tweak(&mut config);
    mcp_tools::build_router(config, None).await.expect("router")
}

async fn done(
    router: &Router,
    tool: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, mcp_tools::ToolError> {
    let options = CallOptions { inline_ms: Some(60_000), ..CallOptions::default() };
    router.call(tool, args, options).await.map(|o| match o {
        CallOutcome::Done(v) => v,
        CallOutcome::Job(t) => panic!("unexpected job {t:?}"),
    })
}

#[tokio::test]
async fn saturated_runtime_admits_by_priority_then_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let r = router(dir.path(), |c| c.process_limit = 1).await;
    let key = "priority";
    let hold = {
        let r = r.clone();
        tokio::spawn(async move {
            done(&r, "fixture_hold_low", json!({"key": key, "label": "holder", "ms": 300})).await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut waiting = Vec::new();
    for (tool, label) in [
        ("fixture_hold_low", "low-1"),
        ("fixture_hold_high", "high-1"),
        ("fixture_hold_low", "low-2"),
        ("fixture_hold_high", "high-2"),
    ] {
        let r = r.clone();
        waiting.push(tokio::spawn(async move {
            done(&r, tool, json!({"key": key, "label": label, "ms": 10})).await
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hold.await.unwrap().unwrap();
    for w in waiting {
        w.await.unwrap().unwrap();
    }
    assert_eq!(recorded(key), ["holder", "high-1", "high-2", "low-1", "low-2"]);
}

#[tokio::test]
async fn deadlines_end_calls_and_stop_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let r = router(dir.path(), |_| {}).await;
    let t0 = Instant::now();
    let err = done(&r, "fixture_overrun", json!({"ms": 30000, "key": "overrun"})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert!(err.message.contains("1 s deadline"), "{}", err.message);
    assert!(t0.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(recorded("overrun"), ["dropped"], "the work was stopped, not left running");
}

#[tokio::test]
async fn retries_only_what_is_retryable_and_only_as_often_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let r = router(dir.path(), |_| {}).await;
    let ok = done(&r, "fixture_flaky", json!({"key": "flaky-2", "fail_times": 2})).await.unwrap();
    assert_eq!(ok["attempts"], 3, "two failures, then success");
    let err = done(&r, "fixture_flaky", json!({"key": "flaky-9", "fail_times": 9})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert_eq!(recorded("flaky-9").len(), 4, "one attempt and the 3 declared retries");
    let err = done(&r, "fixture_flaky", json!({"key": "flaky-p", "fail_times": 0, "permanent": true})).await;
    assert_eq!(err.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(recorded("flaky-p").len(), 1, "a non-retryable error is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_blocking_calls_do_not_delay_async_calls() {
    let dir = tempfile::tempdir().unwrap();
    let r = router(dir.path(), |c| c.blocking_threads = 2).await;
    // Saturate the Blocking pool (and queue more) with calls that block their threads for 1.5 s.
    let mut blockers = Vec::new();
    for i in 0..4 {
        let r = r.clone();
        blockers.push(tokio::spawn(async move {
            done(&r, "fixture_block", json!({"ms": 2000, "key": format!("block-{i}")})).await
        }));
    }
    // Wait until both pool threads are blocked (whichever two calls were admitted first).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let started = (0..4).filter(|i| recorded(&format!("block-{i}")) == ["started"]).count();
        if started == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the blocking calls did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t0 = Instant::now();
    for _ in 0..20 {
        done(&r, "health", json!({})).await.unwrap();
    }
    let elapsed = t0.elapsed();
    assert!(elapsed < Duration::from_millis(750), "Async calls waited for Blocking work: {elapsed:?}");
    for b in blockers {
        b.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn arguments_are_validated_before_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let r = router(dir.path(), |_| {}).await;
    let err = done(&r, "fixture_slow", json!({"ms": "soon"})).await.unwrap_err();
    assert_eq!((err.kind, err.param.as_deref()), (ErrorKind::InvalidArgument, Some("ms")));
    assert!(err.message.contains("integer"), "{}", err.message);
    let err = done(&r, "fixture_slow", json!([1, 2])).await.unwrap_err();
    assert_eq!(err.param.as_deref(), Some("arguments"));
    let err = done(&r, "fixture_slow", json!({"ms": 1, "async_mode": "yes"})).await.unwrap_err();
    assert_eq!(err.param.as_deref(), Some("async_mode"));
    let err = done(&r, "helth", json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownTool);
    assert!(err.message.contains("did you mean health"), "{}", err.message);
}
