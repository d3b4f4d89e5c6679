//! What a model reads: every tool's text content is markdown (never raw JSON), research results are concise by
//! default and detailed on request with their identifiers either way, every text is bounded, multi-source
//! results stay partial when a source fails, and a search names the PMIDs whose records did not come back.

use pipette_test_support::Reply;
use serde_json::{Value, json};

use crate::research::{Lab, PMID};
use crate::support::*;

const DOI: &str = "10.1056/NEJMoa1203421";

/// Panics when `text` is a JSON object or array: text content is for a model, structured content for programs.
fn assert_not_json(tool: &str, text: &str) {
    let parsed = serde_json::from_str::<Value>(text.trim());
    assert!(
        !matches!(parsed, Ok(Value::Object(_) | Value::Array(_))),
        "{tool} answered raw JSON as its text:\n{text}"
    );
    assert!(!text.trim().is_empty(), "{tool} answered no text");
}

#[tokio::test]
async fn pubmed_results_are_concise_by_default_detailed_on_request_and_keep_their_ids() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    let (conn, _) = lab.connect(&[]).await;

    let concise = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    let md = text(&concise);
    for id in [
        format!("PMID {PMID}"),
        format!("DOI {DOI}"),
        "PMCID".into(),
        "NCT01245062".into(),
        "Flaherty".into(),
    ] {
        assert!(md.contains(&id), "{id} missing from the concise text:\n{md}");
    }
    assert!(
        md.contains("Conclusions: Trametinib") && md.contains("\"response_format\": \"detailed\""),
        "{md}"
    );
    assert!(md.len() <= 3_000, "{} bytes:\n{md}", md.len());
    assert_not_json("pubmed_fetch", &md);
    let structured = concise.structured_content.unwrap();
    assert_eq!(structured["articles"][0]["authors"].as_array().map(Vec::len), Some(26), "full data");
    assert!(structured.get("markdown").is_none(), "the text is not repeated in the structured content");

    let detailed =
        text(&call(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "response_format": "detailed" })).await);
    for id in [format!("PMID {PMID}"), format!("DOI {DOI}"), "PMCID".into(), "METRIC Study Group".into()] {
        assert!(detailed.contains(&id), "{id} missing from the detailed text:\n{detailed}");
    }
    assert!(detailed.len() > md.len());

    let bad = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "response_format": "short" })).await;
    assert!(text(&bad).contains("`response_format`"), "{}", text(&bad));

    // The recorded esearch lists 100 PMIDs; the recorded efetch holds another article: all 100 are named.
    let query = "APC p.E1317Q NOT retracted publication[pt]";
    for format in ["concise", "detailed"] {
        let r = call(
            &conn,
            "pubmed_search",
            json!({ "query": query, "max_results": 100, "response_format": format }),
        )
        .await;
        let md = text(&r);
        assert_not_json("pubmed_search", &md);
        assert!(md.contains("**100 PMIDs listed by the search came back without a record**"), "{md}");
        assert!(md.contains("42555032") && md.contains("42506116"), "first and last PMIDs: {md}");
        assert!(md.contains("PubMed found nothing for `p.E1317Q` and searched without it"), "{md}");
        assert!(!md.contains("dropped"), "{md}");
        let s = r.structured_content.unwrap();
        assert_eq!(s["not_fetched"].as_array().map(Vec::len), Some(100));
    }
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn discover_with_chembl_failing_returns_uniprot_and_names_chembl() {
    let lab = Lab::start().await;
    lab.server.route(
        "GET",
        "/uniprot/uniprotkb/search",
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
    // No ChEMBL route: the local upstream answers 404 on /chembl/target.json.
    let (conn, _) = lab.connect(&[]).await;
    for format in ["concise", "detailed"] {
        let r = call(&conn, "discover_biomolecules", json!({ "target": "BRAF", "response_format": format }))
            .await;
        assert_ne!(r.is_error, Some(true), "a partial answer, not a failure: {}", text(&r));
        let md = text(&r);
        assert_not_json("discover_biomolecules", &md);
        assert!(md.contains("UniProt P15056") && md.contains("**Sources that failed**"), "{md}");
        assert!(md.contains("ChEMBL") && md.contains("not a problem with the target"), "{md}");
        let s = r.structured_content.unwrap();
        assert_eq!(s["proteins"][0]["ids"]["uniprot"], "P15056");
        assert_eq!(
            (s["source_errors"][0]["service"].as_str(), s["source_errors"][0]["kind"].as_str()),
            (Some("chembl"), Some("not_found"))
        );
    }
    assert!(lab.server.requests().iter().any(|r| r.path == "/chembl/target.json"));

    // The CLI calls the same core: the same partial answer.
    let url = lab.server.url();
    let out = command("pipette", lab.dir.path())
        .args(["molecules", "discover", "BRAF"])
        .env("PIPETTE_UNIPROT_BASE", format!("{url}/uniprot"))
        .env("PIPETTE_CHEMBL_BASE", format!("{url}/chembl"))
        .env("PIPETTE_UNIPROT_RATE", "0")
        .env("PIPETTE_CHEMBL_RATE", "0")
        .output()
        .await
        .expect("pipette runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("P15056") && stdout.contains("Sources that failed"), "{stdout}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn no_tool_answers_raw_json_as_text() {
    let lab = Lab::start().await;
    let (conn, _) = lab.connect(&[]).await;
    call_ok(&conn, "index_create", json!({ "id": "lit", "schema": { "builtin": "pubmed" } })).await;
    let calls = [
        ("health", json!({})),
        ("circuit_status", json!({})),
        ("alerts", json!({})),
        ("metrics", json!({})),
        ("cache_analytics", json!({})),
        ("cache_report", json!({})),
        ("invalidate_cache", json!({ "pattern": "pubmed:*" })),
        ("index_list", json!({})),
        ("index_status", json!({ "id": "lit" })),
        ("index_search", json!({ "id": "lit", "query": "melanoma" })),
        ("job_list", json!({})),
        ("job_prune", json!({})),
    ];
    for (tool, args) in calls {
        let r = call(&conn, tool, args).await;
        assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
        assert_not_json(tool, &text(&r));
    }
    // A call that became a job answers its ticket as text too, and the finished job's status shows the
    // result's own text.
    let ticket = call(&conn, "health", json!({ "async_mode": true })).await;
    assert_not_json("health (ticket)", &text(&ticket));
    let job_id = ticket.structured_content.unwrap()["job_id"].as_str().unwrap().to_owned();
    wait_job(&conn, &job_id).await;
    let status = call(&conn, "job_status", json!({ "job_id": job_id })).await;
    let md = text(&status);
    assert_not_json("job_status", &md);
    assert!(
        md.contains(&format!("## Job `{job_id}` — `health`: completed")) && md.contains("### Result"),
        "{md}"
    );
    let list = text(&call(&conn, "job_list", json!({})).await);
    assert!(list.contains(&format!("| `{job_id}` | `health` | completed |")), "{list}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn an_oversized_text_is_cut_with_what_was_left_out_and_how_to_get_it() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    let (conn, _) = lab.connect(&[("PIPETTE_MAX_RESULT_BYTES", "1000")]).await;
    let r = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "response_format": "detailed" })).await;
    let md = text(&r);
    assert!(md.len() < 1_600, "{} bytes:\n{md}", md.len());
    assert!(md.contains(&format!("PMID {PMID}")), "the start is kept: {md}");
    assert!(md.contains("**Cut here to stay under 1 KB** (`PIPETTE_MAX_RESULT_BYTES`)"), "{md}");
    assert!(md.contains("left out of this text") && md.contains("call `pubmed_fetch` again"), "{md}");
    assert!(
        md.contains(&format!("`pubmed_fetch {{\"pmids\":[\"{PMID}\"],\"response_format\":\"detailed\"}}`")),
        "{md}"
    );
    let s = r.structured_content.unwrap();
    assert_eq!(s["articles"][0]["authors"].as_array().map(Vec::len), Some(26), "the data is whole");
    conn.cancel().await.unwrap();
}
