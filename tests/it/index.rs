//! The index tools through the real `pipette-mcp` binary: the whole life cycle, restarts, SIGKILL mid-ingest.

use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

fn schema() -> serde_json::Value {
    json!({
        "id_field": "id",
        "fields": [
            {"name": "id", "type": "string", "stored": true, "indexed": true},
            {"name": "title", "type": "text", "stored": true, "indexed": true, "tokenizer": "en_stem"},
            {"name": "body", "type": "text", "stored": true, "indexed": true},
            {"name": "year", "type": "i64", "stored": true, "indexed": true, "fast": true}
        ]
    })
}

const TOPICS: &[&str] = &["melanoma", "lung", "colorectal", "breast", "glioma"];

fn write_jsonl(path: &std::path::Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let topic = TOPICS[i % TOPICS.len()];
        let doc = json!({"id": format!("d{i}"), "title": format!("{topic} study {i}"),
            "body": format!("BRAF V600E mutations in {topic} patients treated with inhibitor number {i}"),
            "year": 2000 + (i % 25) as i64});
        writeln!(f, "{doc}").unwrap();
    }
}

async fn server(dir: &std::path::Path) -> (Conn, u32) {
    let mut cmd = command("pipette-mcp", dir);
    cmd.env("PIPETTE_ALLOWED_ROOTS", dir);
    let (conn, _, pid) = stdio_pid(cmd).await;
    (conn, pid)
}

#[tokio::test]
async fn create_add_search_optimize_metrics_restart() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("docs.jsonl");
    write_jsonl(&jsonl, 1000);
    let (conn, _) = server(dir.path()).await;

    let created =
        call_ok(&conn, "index_create", json!({"id": "papers", "schema": schema(), "shards": 2})).await;
    assert_eq!(created["shards"], 2);
    let added = call_ok(&conn, "index_add", json!({"id": "papers", "jsonl_path": jsonl})).await;
    assert_eq!((added["added"].as_u64(), added["rejected"].as_u64()), (Some(1000), Some(0)), "{added}");
    let more = call_ok(
        &conn,
        "index_add",
        json!({"id": "papers", "documents": [
            {"id": "d1", "title": "melanoma study one, revised", "body": "updated", "year": 2024},
            {"id": "bad", "title": "no year", "year": "twenty"},
            {"title": "no id"}
        ]}),
    )
    .await;
    assert_eq!((more["updated"].as_u64(), more["rejected"].as_u64()), (Some(1), Some(2)), "{more}");
    let positions: Vec<u64> =
        more["rejections"].as_array().unwrap().iter().map(|r| r["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, [1, 2]);

    let hits = call_ok(
        &conn,
        "index_search",
        json!({"id": "papers", "query": "title:melanoma", "limit": 5, "highlight": true}),
    )
    .await;
    assert_eq!(hits["total_hits"], 201, "200 melanoma titles and the revised d1: {hits}");
    assert_eq!(hits["hits"].as_array().unwrap().len(), 5);
    let phrase =
        call_ok(&conn, "index_search", json!({"id": "papers", "query": "body:\"glioma patients\""})).await;
    assert_eq!(phrase["total_hits"], 200);
    let boolean =
        call_ok(&conn, "index_search", json!({"id": "papers", "query": "title:lung AND year:2001"})).await;
    assert_eq!(
        boolean["total_hits"], 39,
        "lung is i%5=1, year 2001 is i%25=1, minus the revised d1: {boolean}"
    );
    let got = call_ok(&conn, "index_get", json!({"id": "papers", "doc_id": "d1"})).await;
    assert_eq!(got["document"]["body"], "updated");

    let optimized = call_ok(&conn, "index_optimize", json!({"id": "papers"})).await;
    assert!(optimized["segments_after"].as_u64() <= optimized["segments_before"].as_u64(), "{optimized}");
    assert!(optimized["segments_after"].as_u64().unwrap() <= 2, "one segment per shard: {optimized}");
    let metrics = call_ok(&conn, "index_metrics", json!({"id": "papers", "window": "1h"})).await;
    assert!(metrics["queries"].as_u64().unwrap() >= 3, "{metrics}");
    assert_eq!(metrics["docs_ingested"], 1001);
    conn.cancel().await.unwrap();

    // Restart: the documents and the metrics are still there.
    let (conn, _) = server(dir.path()).await;
    let status = call_ok(&conn, "index_status", json!({"id": "papers"})).await;
    assert_eq!(status["docs"], 1000);
    let hits = call_ok(&conn, "index_search", json!({"id": "papers", "query": "title:melanoma"})).await;
    assert_eq!(hits["total_hits"], 201);
    let metrics = call_ok(&conn, "index_metrics", json!({"id": "papers", "window": "24h"})).await;
    assert!(metrics["queries"].as_u64().unwrap() >= 4, "metrics survived the restart: {metrics}");
    let list = call_ok(&conn, "index_list", json!({})).await;
    assert_eq!(list["indexes"].as_array().unwrap().len(), 1, "{list}");
    call_ok(&conn, "index_drop", json!({"id": "papers", "confirm": true})).await;
    let gone = call(&conn, "index_status", json!({"id": "papers"})).await;
    assert_eq!(gone.is_error, Some(true));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn sigkill_during_ingest_leaves_the_index_at_its_last_commit() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("big.jsonl");
    write_jsonl(&jsonl, 300_000);
    let (conn, pid) = server(dir.path()).await;
    call_ok(
        &conn,
        "index_create",
        json!({"id": "big", "schema": schema(), "options": {"commit_batch_size": 5000}}),
    )
    .await;
    let ticket =
        call_ok(&conn, "index_add", json!({"id": "big", "jsonl_path": jsonl, "async_mode": true})).await;
    let job_id = ticket["job_id"].as_str().unwrap().to_owned();
    // Wait for some commits, then kill the server in the middle of the ingest.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = call_ok(&conn, "job_status", json!({"job_id": job_id})).await;
        assert_eq!(s["status"], "running", "the ingest ended before the kill: {s}");
        if s["progress"]["current"].as_u64().unwrap_or(0) >= 20_000 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigkill(pid);
    drop(conn);

    let (conn, _) = server(dir.path()).await;
    let status = call_ok(&conn, "index_status", json!({"id": "big"})).await;
    let docs = status["docs"].as_u64().unwrap();
    assert!((5000..300_000).contains(&docs), "a committed prefix survived: {status}");
    assert_eq!(docs % 5000, 0, "exactly the committed batches: {status}");
    let hits = call_ok(&conn, "index_search", json!({"id": "big", "query": "title:glioma"})).await;
    assert_eq!(hits["total_hits"].as_u64().unwrap(), docs / 5, "searchable after the crash");
    let job = call_ok(&conn, "job_status", json!({"job_id": job_id})).await;
    assert_eq!(job["status"], "interrupted");
    // The writer lock died with the process: the index takes writes again.
    let more = call_ok(
        &conn,
        "index_add",
        json!({"id": "big", "documents": [{"id": "after", "title": "after the crash", "year": 2026}]}),
    )
    .await;
    assert_eq!(more["added"], 1, "{more}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_ids_and_schemas_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = server(dir.path()).await;
    for id in ["../escape", "a/b", "nul\u{0}id", ".."] {
        let r = call(&conn, "index_create", json!({"id": id, "schema": schema()})).await;
        assert_eq!(r.is_error, Some(true), "{id}");
        assert!(text(&r).contains("`id`"), "{id}: {}", text(&r));
    }
    let bad = json!({"id_field": "id", "fields": [{"name": "id", "type": "string"}, {"name": "x", "type": "blob"}]});
    let r = call(&conn, "index_create", json!({"id": "ok", "schema": bad})).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    for ty in ["text", "string", "i64", "u64", "f64", "bool", "date", "json"] {
        assert!(t.contains(ty), "the accepted types are listed: {t}");
    }
    let outside = call(&conn, "index_add", json!({"id": "ok", "jsonl_path": "/etc/passwd"})).await;
    assert_eq!(outside.is_error, Some(true));
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| e.unwrap().file_name() != "escape"));
    conn.cancel().await.unwrap();
}
