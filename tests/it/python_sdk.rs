//! pipette-mcp driven by another real client: the official MCP Python SDK (`mcp` 2.x, installed by
//! `cargo xtask test|ci` into target/python-tools), in both protocol eras — `mode="auto"` probes
//! `server/discover` and speaks 2026-07-28 (stateless requests, input-required rounds), `mode="legacy"` the
//! 2025-11-25 initialize handshake (a session, elicitation requests) — over stdio and streamable HTTP.
//! The client script is tests/python/sdk_client.py; it prints one JSON object per step.
#![allow(clippy::disallowed_methods)] // the test runs the real Python client

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{bin, http_server};

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python-tools/bin/python3");
    if venv.is_file() { venv } else { PathBuf::from("python3") }
}

/// Runs the SDK client in `mode` against `server` (a binary path for stdio, or a URL); its steps by name.
async fn run_client(mode: &str, server: &str, data_dir: &Path) -> std::collections::BTreeMap<String, Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/sdk_client.py");
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(python())
            .arg(&script)
            .args([mode, server])
            .env("PIPETTE_DATA_DIR", data_dir)
            .env("HOME", data_dir)
            .env("PIPETTE_TOOLSETS", "all")
            .env("PIPETTE_LOG", "warn")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the Python client finished within 2 minutes")
    .unwrap_or_else(|e| {
        panic!("cannot run {} ({e}): `cargo xtask test` installs the Python tools", python().display())
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python SDK client ({mode}, {server}) failed: {}\nstdout:\n{stdout}\nstderr (end):\n{}",
        out.status,
        &stderr[stderr.len().saturating_sub(3000)..]
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .map(|v| (v["step"].as_str().unwrap_or_default().to_owned(), v))
        .collect()
}

fn check(steps: &std::collections::BTreeMap<String, Value>, era: &str) {
    let step = |name: &str| steps.get(name).unwrap_or_else(|| panic!("no step {name}: {steps:?}"));
    assert_eq!(step("connected")["protocol_version"], era, "{steps:?}");
    assert_eq!(step("connected")["server"], "pipette");
    let names = step("tools")["names"].as_array().expect("names");
    for tool in ["pubmed_search", "trials_match", "index_drop", "article_fulltext", "alerts"] {
        assert!(names.contains(&Value::from(tool)), "{tool} not listed: {names:?}");
    }
    for ok in ["index_create", "index_add", "index_search", "index_drop"] {
        assert_eq!(step(ok)["is_error"], false, "{}", step(ok));
    }
    assert!(step("index_search")["text"].as_str().unwrap().contains("**1 hit**"), "{}", step("index_search"));
    // The person was asked once, through the client's elicitation callback, and the index is gone.
    let asked = step("index_drop")["asked"].as_array().expect("asked");
    assert_eq!(asked.len(), 1, "{}", step("index_drop"));
    assert!(asked[0].as_str().unwrap().contains("delete the index `sdk`"), "{asked:?}");
    assert!(step("index_drop")["text"].as_str().unwrap().contains("bytes_freed"), "{}", step("index_drop"));
    assert_eq!(step("after_drop")["is_error"], true);
    assert!(
        step("after_drop")["text"].as_str().unwrap().starts_with("not_found error"),
        "{}",
        step("after_drop")
    );
    // Bad input: a clear error naming the parameter, and the server keeps serving.
    assert_eq!(step("bad_arguments")["is_error"], true);
    assert!(step("bad_arguments")["text"].as_str().unwrap().contains("`query`"), "{}", step("bad_arguments"));
}

#[tokio::test]
async fn the_python_sdk_speaks_both_eras_over_stdio() {
    let server = bin("pipette-mcp").display().to_string();
    for (mode, era) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let dir = tempfile::tempdir().unwrap();
        check(&run_client(mode, &server, dir.path()).await, era);
    }
}

#[tokio::test]
async fn the_python_sdk_speaks_both_eras_over_http() {
    for (mode, era) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let dir = tempfile::tempdir().unwrap();
        let server = http_server("pipette-mcp", dir.path(), &[]).await;
        check(&run_client(mode, &server.url, dir.path()).await, era);
    }
}
