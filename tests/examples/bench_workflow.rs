//! Workflow benchmark, in-process through the router (fixture tools): validation of a 1,000-step DAG
//! (`workflow_validate`, target ≤ 10 ms), the engine's overhead per step beyond the tool (a 200-step chain of
//! a no-op tool against the same 200 calls one by one; inline, and as a durable job with every step's record
//! written to the job store; target ≤ 1 ms), and a 100-step fan-out with `max_parallel` 16 against the same
//! calls one by one (a no-op tool, and a tool that waits 20 ms).
//!
//! Run with `cargo xtask bench workflow`.

#![allow(clippy::print_stdout)] // the table is the output

use std::time::{Duration, Instant};

use mcp_tools::{CallOptions, CallOutcome, Principal, Router, RouterConfig};
use serde_json::{Value, json};

const RUNS: usize = 15;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// A 1,000-step DAG: each step needs up to three earlier ones (i-1, i/2, i/3), every tenth by reference.
fn dag(n: usize) -> Value {
    let steps: Vec<Value> = (0..n)
        .map(|i| {
            let mut needs: Vec<String> = [i.wrapping_sub(1), i / 2, i / 3]
                .iter()
                .filter(|&&d| d < i)
                .map(|d| format!("s{d}"))
                .collect();
            needs.dedup();
            if i % 10 == 5 {
                json!({"id": format!("s{i}"), "tool": "fixture_slow", "depends_on": needs,
                       "args": {"ms": 1, "text": {"$ref": format!("s{}", i - 1), "path": "$.attempts"}}})
            } else {
                json!({"id": format!("s{i}"), "tool": "fixture_noop", "depends_on": needs})
            }
        })
        .collect();
    json!({"name": "dag", "steps": steps, "max_parallel": 16})
}

fn chain(n: usize) -> Value {
    let steps: Vec<Value> = (0..n)
        .map(|i| match i {
            0 => json!({"id": "s0", "tool": "fixture_noop"}),
            _ => {
                json!({"id": format!("s{i}"), "tool": "fixture_noop", "depends_on": [format!("s{}", i - 1)]})
            }
        })
        .collect();
    json!({"name": "chain", "steps": steps, "max_parallel": 1})
}

fn fan_out(n: usize, tool: &str, args: &Value) -> Value {
    let steps: Vec<Value> =
        (0..n).map(|i| json!({"id": format!("s{i}"), "tool": tool, "args": args})).collect();
    json!({"name": "fan-out", "steps": steps, "max_parallel": 16})
}

async fn timed(router: &Router, tool: &str, args: Value) -> Duration {
    let t0 = Instant::now();
    let out = router.call_now(tool, args).await.expect("the call");
    if tool == "workflow_run" {
        assert_eq!(out["status"], "completed", "{}", out["failed"]);
    }
    t0.elapsed()
}

/// A workflow as a job (`async_mode`): every step's record goes to the job store as it changes.
async fn as_job(router: &Router, def: &Value) -> Duration {
    let t0 = Instant::now();
    let args = json!({"definition": def, "async_mode": true});
    let Ok(CallOutcome::Job(t)) = router.call("workflow_run", args, CallOptions::default()).await else {
        panic!("a job ticket")
    };
    loop {
        let rec = router.jobs().get(&Principal::local(), &t.job_id).expect("the job");
        if rec.status.is_terminal() {
            assert_eq!(rec.result.as_ref().map(|r| r["status"].clone()), Some(json!("completed")));
            return t0.elapsed();
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

async fn one_by_one(router: &Router, n: usize, tool: &str, args: &Value) -> Duration {
    let t0 = Instant::now();
    for _ in 0..n {
        router.call_now(tool, args.clone()).await.expect("the call");
    }
    t0.elapsed()
}

#[tokio::main]
async fn main() {
    pipette_tests::link();
    let dir = tempfile::tempdir().unwrap();
    let config = RouterConfig { data_dir: dir.path().to_path_buf(), ..RouterConfig::default() };
    let router = mcp_tools::build_router(config, None).await.expect("router");
    for _ in 0..3 {
        timed(&router, "workflow_run", json!({"definition": chain(20)})).await; // warm up
    }

    let def = dag(1000);
    let plan = router.call_now("workflow_validate", json!({"definition": def})).await.unwrap();
    assert_eq!(plan["valid"], true, "{}", plan["errors"]);
    let mut v = Vec::new();
    for _ in 0..RUNS {
        v.push(timed(&router, "workflow_validate", json!({"definition": def})).await);
    }
    let validate_ms = median(v);

    const CHAIN: usize = 200;
    let (mut wf, mut direct, mut job) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        wf.push(timed(&router, "workflow_run", json!({"definition": chain(CHAIN)})).await);
        direct.push(one_by_one(&router, CHAIN, "fixture_noop", &json!({})).await);
        job.push(as_job(&router, &chain(CHAIN)).await);
    }
    let (wf, direct, job) = (median(wf), median(direct), median(job));

    const FAN: usize = 100;
    let slow = json!({"ms": 20});
    let (mut fan, mut seq, mut fan_slow, mut seq_slow) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        fan.push(
            timed(&router, "workflow_run", json!({"definition": fan_out(FAN, "fixture_noop", &json!({}))}))
                .await,
        );
        seq.push(one_by_one(&router, FAN, "fixture_noop", &json!({})).await);
        fan_slow.push(
            timed(&router, "workflow_run", json!({"definition": fan_out(FAN, "fixture_slow", &slow)})).await,
        );
        seq_slow.push(one_by_one(&router, FAN, "fixture_slow", &slow).await);
    }
    let (fan, seq, fan_slow, seq_slow) = (median(fan), median(seq), median(fan_slow), median(seq_slow));

    println!("| measure | value | target / baseline |");
    println!("|---|---|---|");
    println!(
        "| validate a 1,000-step DAG (workflow_validate through the router) | {validate_ms:.2} ms | ≤ 10 ms |"
    );
    println!(
        "| {CHAIN}-step chain of fixture_noop, inline | {wf:.1} ms ({:.3} ms/step over the tool) | {direct:.1} ms one by one; ≤ 1 ms/step |",
        (wf - direct) / CHAIN as f64
    );
    println!(
        "| {CHAIN}-step chain as a durable job (records in SQLite) | {job:.1} ms ({:.3} ms/step over the tool) | ≤ 1 ms/step |",
        (job - direct) / CHAIN as f64
    );
    println!(
        "| {FAN}-step fan-out of fixture_noop, max_parallel 16 | {fan:.2} ms | {seq:.2} ms one by one ({:.2}×) |",
        seq / fan
    );
    println!(
        "| {FAN}-step fan-out of a 20 ms tool, max_parallel 16 | {fan_slow:.0} ms | {seq_slow:.0} ms one by one ({:.1}×) |",
        seq_slow / fan_slow
    );
}
