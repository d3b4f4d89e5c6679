//! Toolsets and the size of tools/list: each set lists exactly its tools, a disabled tool's error names its
//! set, `toolset_enable` makes one callable in the session with `tools/list_changed`, unknown arguments are
//! refused, tools/list uses only standard JSON Schema, and the output schemas hold for real results.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const DYNAMIC: [&str; 2] = ["toolsets_list", "toolset_enable"];

/// Each toolset and exactly the tools it lists (besides the two dynamic ones): a change is made on purpose.
const SETS: &[(&str, &[&str])] = &[
    (
        "research",
        &[
            "discover_biomolecules",
            "index_search",
            "job_status",
            "protein_get",
            "pubmed_fetch",
            "pubmed_search",
            "trial_get",
            "trials_match",
            "trials_match_batch",
            "trials_search",
        ],
    ),
    (
        "index",
        &[
            "index_add",
            "index_config_get",
            "index_config_update",
            "index_create",
            "index_delete",
            "index_drop",
            "index_get",
            "index_list",
            "index_load",
            "index_metrics",
            "index_optimize",
            "index_reshard",
            "index_search",
            "index_status",
            "index_unload",
        ],
    ),
    ("testing", &["job_status", "lint_run", "test_detect", "test_rerun_failed", "test_run"]),
    ("jobs", &["job_cancel", "job_list", "job_prune", "job_resume", "job_status"]),
    ("cache", &["cache_analytics", "cache_report", "invalidate_cache", "warm_cache"]),
    ("ops", &["alerts", "circuit_status", "health", "metrics", "metrics_prometheus"]),
    (
        "workflows",
        &["workflow_cancel", "workflow_list", "workflow_run", "workflow_status", "workflow_validate"],
    ),
    ("fulltext", &["article_citations", "article_fulltext", "europepmc_search"]),
];

async fn listed(conn: &Conn) -> Vec<String> {
    conn.list_all_tools().await.expect("tools/list").iter().map(|t| t.name.to_string()).collect()
}

fn expected(sets: &[&str]) -> Vec<String> {
    let mut tools: Vec<String> = SETS
        .iter()
        .filter(|(name, _)| sets.contains(name))
        .flat_map(|(_, tools)| tools.iter().map(|t| t.to_string()))
        .collect();
    tools.sort();
    tools.dedup();
    DYNAMIC.iter().map(|t| t.to_string()).chain(tools).collect()
}

#[tokio::test]
async fn each_toolset_lists_exactly_its_tools() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = SETS
        .iter()
        .map(|(name, _)| (*name, vec![*name]))
        .chain([("default", vec!["research"]), ("research,testing", vec!["research", "testing"])])
        .collect();
    for (selection, sets) in cases {
        let (conn, _) = stdio_with("pipette-mcp", dir.path(), &[("PIPETTE_TOOLSETS", selection)]).await;
        assert_eq!(listed(&conn).await, expected(&sets), "PIPETTE_TOOLSETS={selection}");
        conn.cancel().await.unwrap();
    }
    // The flag, and `all`.
    let mut cmd = command("pipette-mcp", dir.path());
    cmd.env_remove("PIPETTE_TOOLSETS").args(["--toolsets", "all"]);
    let (conn, _, _) = stdio_pid(cmd).await;
    let all: Vec<&str> = SETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(listed(&conn).await, expected(&all));
    conn.cancel().await.unwrap();
    // No selection at all: the default.
    let mut cmd = command("pipette-mcp", dir.path());
    cmd.env_remove("PIPETTE_TOOLSETS");
    let (conn, _, _) = stdio_pid(cmd).await;
    assert_eq!(listed(&conn).await, expected(&["research"]));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn a_disabled_tool_names_its_set_and_toolset_enable_makes_it_callable() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, client) = stdio_with("pipette-mcp", dir.path(), &[("PIPETTE_TOOLSETS", "research")]).await;
    let caps = conn.peer_info().unwrap().capabilities.tools.clone().unwrap();
    assert_eq!(caps.list_changed, Some(true));

    let refused = call(&conn, "index_list", json!({})).await;
    assert_eq!(refused.is_error, Some(true));
    let why = text(&refused);
    for part in ["`index` toolset", "toolset_enable", "--toolsets research,index", "PIPETTE_TOOLSETS"] {
        assert!(why.contains(part), "{part} missing from: {why}");
    }

    let sets = call_ok(&conn, "toolsets_list", json!({})).await;
    let index = sets["toolsets"].as_array().unwrap().iter().find(|s| s["toolset"] == "index").unwrap();
    assert_eq!(index["enabled"], false);
    assert!(index["tools"].as_array().unwrap().contains(&json!("index_list")));
    assert!(text(&call(&conn, "toolsets_list", json!({})).await).contains("**research** (enabled)"));

    let bad = call(&conn, "toolset_enable", json!({"toolset": "indexes"})).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("unknown toolset `indexes`"), "{}", text(&bad));

    let enabled = call_ok(&conn, "toolset_enable", json!({"toolset": "index"})).await;
    assert_eq!(enabled["newly_enabled"], true);
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.tools_changed.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no notifications/tools/list_changed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listed(&conn).await, expected(&["research", "index"]));
    let list = call_ok(&conn, "index_list", json!({})).await;
    assert!(list["indexes"].is_array(), "{list}");

    // Enabling it again changes nothing and notifies no one.
    let again = call_ok(&conn, "toolset_enable", json!({"toolset": "index"})).await;
    assert_eq!(again["newly_enabled"], false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.tools_changed.load(Ordering::SeqCst), 1);

    // The selection is this session's: a new session starts from the server's toolsets.
    let (other, _) = stdio_with("pipette-mcp", dir.path(), &[("PIPETTE_TOOLSETS", "research")]).await;
    assert_eq!(listed(&other).await, expected(&["research"]));
    other.cancel().await.unwrap();
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn unknown_arguments_are_refused_naming_them_and_the_accepted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio("pipette-mcp", dir.path()).await;
    let r = call(&conn, "trials_match", json!({"gene": "EGFR", "mutation": "L858R"})).await;
    assert_eq!(r.is_error, Some(true));
    let why = text(&r);
    assert!(why.contains("unknown argument `gene` for `trials_match`"), "{why}");
    assert!(why.contains("`mutation`") && why.contains("`async_mode`"), "{why}");
    let two = text(&call(&conn, "health", json!({"verbose": true, "x": 1})).await);
    assert!(two.contains("unknown arguments `verbose`, `x` for `health`"), "{two}");
    // async_mode stays accepted everywhere, and flattened parameters (`Confirmed<T>`) still work.
    assert_eq!(call_ok(&conn, "health", json!({"async_mode": false})).await["status"], "ok");
    let drop = call(&conn, "index_drop", json!({"id": "absent", "confirm": true, "force": 1})).await;
    assert!(text(&drop).contains("unknown argument `force` for `index_drop`"), "{}", text(&drop));
    let drop = call(&conn, "index_drop", json!({"id": "absent", "confirm": true})).await;
    assert!(!text(&drop).contains("unknown argument"), "{}", text(&drop));
    conn.cancel().await.unwrap();
}

/// Every `format` in `v`, with where it is.
fn formats(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                if k == "format" {
                    out.push(format!("{at}: {v}"));
                }
                formats(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| formats(v, &format!("{at}/{i}"), out)),
        _ => {}
    }
}

#[tokio::test]
async fn tools_list_is_small_and_uses_only_standard_json_schema() {
    const STANDARD: &[&str] = &["date-time", "date", "time", "duration", "email", "uri", "uuid", "regex"];
    let dir = tempfile::tempdir().unwrap();
    for (selection, budget) in [("default", 12_000), ("all", 60_000)] {
        let (conn, _) = stdio_with("pipette-mcp", dir.path(), &[("PIPETTE_TOOLSETS", selection)]).await;
        let tools = serde_json::to_value(conn.list_all_tools().await.unwrap()).unwrap();
        let bytes = tools.to_string().len();
        assert!(bytes <= budget, "tools/list with {selection}: {bytes} bytes > {budget}");
        let mut found = Vec::new();
        formats(&tools, "", &mut found);
        found.retain(|f| !STANDARD.iter().any(|s| f.ends_with(&format!("\"{s}\""))));
        assert!(found.is_empty(), "non-standard formats: {found:?}");
        assert!(!tools.to_string().contains("\"$schema\""), "no $schema repeated per tool");
        for t in tools.as_array().unwrap() {
            jsonschema::validator_for(&t["inputSchema"]).expect("a valid input schema");
            if let Some(out) = t.get("outputSchema") {
                jsonschema::validator_for(out).expect("a valid output schema");
            }
        }
        conn.cancel().await.unwrap();
    }
}

/// Calls `tool` and checks its structured result against the output schema tools/list gave it.
pub(crate) async fn check_output(conn: &Conn, tool: &str, args: Value) -> Value {
    let tools = conn.list_all_tools().await.unwrap();
    let schema = tools.iter().find(|t| t.name == tool).and_then(|t| t.output_schema.clone());
    let schema = Value::Object(schema.expect("an output schema").as_ref().clone());
    let value = call_ok(conn, tool, args).await;
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{tool}: {errors:?}\nschema {schema}\nresult {value}");
    value
}

#[tokio::test]
async fn output_schemas_hold_for_real_results_and_job_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio("pipette-mcp-test", dir.path()).await;
    check_output(&conn, "health", json!({})).await;
    check_output(&conn, "cache_analytics", json!({})).await;
    check_output(&conn, "metrics", json!({})).await;
    check_output(&conn, "index_create", json!({"id": "docs", "schema": {"builtin": "pubmed"}})).await;
    check_output(&conn, "index_search", json!({"id": "docs", "query": "*"})).await;
    check_output(&conn, "index_list", json!({})).await;
    let ticket = check_output(&conn, "fixture_slow", json!({"ms": 50, "async_mode": true})).await;
    let job = ticket["job_id"].as_str().unwrap().to_owned();
    wait_job(&conn, &job).await;
    check_output(&conn, "job_status", json!({"job_id": job})).await;
    check_output(&conn, "job_list", json!({})).await;
    // A job ticket is a valid answer of any tool.
    check_output(&conn, "index_list", json!({"async_mode": true})).await;
    conn.cancel().await.unwrap();
}
