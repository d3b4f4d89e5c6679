//! The HTTP JSON API end to end, with a real HTTP client against a real `pipette-mcp --http` (its upstreams the
//! local server of recorded responses): the tool list and the OpenAPI document, calls answered as JSON or
//! markdown exactly as MCP answers them, every class of error with its status, the same guard as `/mcp`
//! (token, Origin, Host), and jobs (202 + `Location`, their record, server-sent events, cancel).

use std::collections::BTreeSet;
use std::time::Duration;

use pipette_test_support::{Reply, UpstreamServer};
use serde_json::{Value, json};

use crate::support::{HttpServer, call, http_client, http_server, text};

/// A running server and a client for its API.
struct Api {
    server: HttpServer,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Api {
    /// `name --http` on a free port, with `env`.
    async fn start(name: &str, env: &[(&str, &str)]) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let server = http_server(name, dir.path(), env).await;
        Api { server, http: reqwest::Client::new(), _dir: dir }
    }

    /// `pipette-mcp --http` whose upstreams are `upstream` (no rate limits, quick retries), plus `extra`.
    async fn over(upstream: &UpstreamServer, extra: &[(&str, &str)]) -> Api {
        let url = upstream.url();
        let mut env: Vec<(String, String)> = ["PUBMED", "CTGOV", "UNIPROT", "CHEMBL"]
            .into_iter()
            .flat_map(|s| [(format!("PIPETTE_{s}_RATE"), "0".to_owned())])
            .collect();
        for (key, path) in [
            ("PIPETTE_PUBMED_BASE", "eutils"),
            ("PIPETTE_CTGOV_BASE", "ctgov"),
            ("PIPETTE_UNIPROT_BASE", "uniprot"),
            ("PIPETTE_CHEMBL_BASE", "chembl"),
        ] {
            env.push((key.to_owned(), format!("{url}/{path}")));
        }
        env.push(("PIPETTE_HTTP_RETRY_BASE_MS".into(), "10".into()));
        env.push(("PIPETTE_HTTP_RETRY_MAX_DELAY_MS".into(), "40".into()));
        let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.extend_from_slice(extra);
        Api::start("pipette-mcp", &pairs).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.server.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    async fn post(&self, tool: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.url(&format!("/tools/{tool}"))).json(body).send().await.unwrap()
    }
}

/// The status, the `error` object of a JSON error answer, and its `Retry-After`.
async fn error_of(r: reqwest::Response) -> (u16, Value, Option<String>) {
    let status = r.status().as_u16();
    let retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(r.headers()["content-type"], "application/json", "errors are JSON ({status})");
    let body: Value = r.json().await.unwrap();
    (status, body["error"].clone(), retry_after)
}

fn route_pubmed(upstream: &UpstreamServer) {
    upstream.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    upstream.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
}

/// Every `$ref` in `v`, each a pointer into `doc` that resolves.
fn check_refs(doc: &Value, v: &Value, seen: &mut usize) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let pointer =
                    r.strip_prefix('#').unwrap_or_else(|| panic!("a reference outside the document: {r}"));
                assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
                *seen += 1;
            }
            map.values().for_each(|v| check_refs(doc, v, seen));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v, seen)),
        _ => {}
    }
}

#[tokio::test]
async fn the_tools_and_the_openapi_document_are_the_registry_s() {
    let api = Api::start("pipette-mcp", &[]).await;
    let tools: Value = api.get("/tools").await.json().await.unwrap();
    let tools = tools["tools"].as_array().unwrap();
    let names: BTreeSet<String> = tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    for t in tools {
        for key in ["category", "runtime", "description"] {
            assert!(t[key].is_string(), "{key} of {t}");
        }
        assert_eq!(t["input_schema"]["type"], "object", "{}", t["name"]);
        assert!(t["output_schema"].is_object(), "{}", t["name"]);
    }
    let pubmed = tools.iter().find(|t| t["name"] == "pubmed_fetch").unwrap();
    assert_eq!(
        (pubmed["category"].as_str(), pubmed["toolset"].as_str()),
        (Some("research"), Some("research"))
    );

    // The same tools as MCP lists (less the two of dynamic toolset discovery, which only MCP sessions have).
    let (conn, _) = http_client(&api.server.url, None).await;
    let mcp: BTreeSet<String> = conn
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .filter(|n| n != "toolsets_list" && n != "toolset_enable")
        .collect();
    assert_eq!(names, mcp);
    conn.cancel().await.unwrap();

    let doc: Value = api.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for name in &names {
        let op = &paths[&format!("/api/v1/tools/{name}")]["post"];
        assert_eq!(op["operationId"], name.as_str());
        for status in ["200", "202", "400", "401", "403", "404", "422", "500", "502", "503", "504"] {
            assert!(op["responses"].get(status).is_some(), "{name} does not describe {status}");
        }
    }
    let tool_ops = paths.keys().filter(|p| p.starts_with("/api/v1/tools/")).count();
    assert_eq!(tool_ops, names.len(), "one operation per tool");
    for path in ["/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/events", "/api/v1/tools"] {
        assert!(paths.contains_key(path), "{path}");
    }
    let mut refs = 0;
    check_refs(&doc, &doc, &mut refs);
    assert!(refs > names.len() * 2, "the schemas are referenced: {refs}");
    // A tool's `$defs` live in the components, under its name.
    let input = &doc["components"]["schemas"]["pubmed_fetch.input"];
    assert_eq!(input["properties"]["async_mode"]["type"], "boolean", "{input}");

    let docs = api.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = docs.text().await.unwrap();
    assert!(page.contains("POST /api/v1/tools/pubmed_fetch") && !page.contains("<script"), "{page}");
}

#[tokio::test]
async fn a_call_answers_what_mcp_answers_as_json_or_as_markdown() {
    let upstream = UpstreamServer::start().await;
    route_pubmed(&upstream);
    let api = Api::over(&upstream, &[]).await;
    let args = json!({"pmids": ["22663011"]});

    let r = api.post("pubmed_fetch", &args).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let value: Value = r.json().await.unwrap();
    assert_eq!(value["articles"][0]["pmid"], "22663011", "{value}");
    assert!(value.get("markdown").is_none(), "the markdown is the text/markdown answer, not a key");

    let r = api
        .http
        .post(api.url("/tools/pubmed_fetch"))
        .header("accept", "text/markdown")
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let markdown = r.text().await.unwrap();
    assert!(markdown.contains("Improved survival with MEK inhibition"), "{markdown}");

    // MCP over the same server answers the same value and the same text.
    let (conn, _) = http_client(&api.server.url, None).await;
    let mcp = call(&conn, "pubmed_fetch", args.clone()).await;
    assert_eq!(mcp.structured_content.as_ref(), Some(&value));
    assert_eq!(text(&mcp), markdown);
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn errors_have_their_status_and_name_the_parameter_or_the_service() {
    let upstream = UpstreamServer::start().await;
    upstream.route(
        "GET",
        "/eutils/efetch.fcgi",
        Reply::text(500, "text/html", "<html>Internal error</html>"),
    );
    upstream.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::text(429, "text/plain", "Too Many Requests").header("Retry-After", "7"),
    );
    upstream.route("GET", "/ctgov/studies", Reply::hang());
    let extra = [
        ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1"),
        ("PIPETTE_BREAKER_THRESHOLD", "1"),
        ("PIPETTE_CTGOV_HEDGE_MS", "50"),
        ("PIPETTE_CTGOV_FIRST_BYTE_MS", "60000"),
        ("PIPETTE_HTTP_RETRY_DEADLINE_MS", "1500"),
    ];
    let api = Api::over(&upstream, &extra).await;

    // The caller's mistakes: 404 (unknown tool, with a suggestion; unknown path), 422 naming the parameter,
    // 400 for a body that is not JSON.
    let (status, e, _) = error_of(api.post("pubmed_fetc", &json!({})).await).await;
    assert_eq!((status, e["kind"].as_str()), (404, Some("unknown_tool")));
    assert!(e["message"].as_str().unwrap().contains("pubmed_fetch"), "{e}");
    let (status, e, _) = error_of(api.get("/nothing/here").await).await;
    assert_eq!((status, e["kind"].as_str()), (404, Some("not_found")), "{e}");
    let checks = [
        ("protein_get", json!({"accession": "not an accession"}), "accession"),
        ("pubmed_fetch", json!({}), "pmids"),
        ("pubmed_fetch", json!({"pmids": ["22663011"], "pmid": "1"}), "pmid"),
        ("pubmed_fetch", json!({"pmids": "22663011"}), "pmids"),
        ("pubmed_fetch", json!([1, 2]), "arguments"),
    ];
    for (tool, args, param) in checks {
        let (status, e, _) = error_of(api.post(tool, &args).await).await;
        assert_eq!(
            (status, e["kind"].as_str(), e["param"].as_str()),
            (422, Some("invalid_argument"), Some(param)),
            "{args}: {e}"
        );
        assert!(e["message"].as_str().unwrap().contains(param), "{e}");
    }
    let bad = api.http.post(api.url("/tools/pubmed_fetch")).body("{\"pmids\": [").send().await.unwrap();
    let (status, e, _) = error_of(bad).await;
    assert_eq!((status, e["param"].as_str()), (400, Some("body")), "{e}");

    // The upstream's failures: 502 naming the service; then its circuit is open: 503 with Retry-After.
    let (status, e, _) = error_of(api.post("pubmed_fetch", &json!({"pmids": ["22663011"]})).await).await;
    assert_eq!(
        (status, e["kind"].as_str(), e["service"].as_str()),
        (502, Some("upstream"), Some("pubmed")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("PubMed"), "{e}");
    let (status, e, retry_after) =
        error_of(api.post("pubmed_fetch", &json!({"pmids": ["22663011"]})).await).await;
    assert_eq!(
        (status, e["kind"].as_str(), e["service"].as_str()),
        (503, Some("circuit_open"), Some("pubmed")),
        "{e}"
    );
    let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert_eq!(Some(secs), e["retry_after_seconds"].as_u64());

    // Rate limited with the upstream's own Retry-After: 503 saying it.
    let (status, e, retry_after) =
        error_of(api.post("protein_get", &json!({"accession": "P15056"})).await).await;
    assert_eq!(
        (status, e["kind"].as_str(), e["service"].as_str()),
        (503, Some("rate_limited"), Some("uniprot")),
        "{e}"
    );
    assert_eq!(retry_after.as_deref(), Some("7"));

    // An upstream that never answers: 504 naming it.
    let (status, e, _) = error_of(api.post("trials_match", &json!({"mutation": "EGFR L858R"})).await).await;
    assert_eq!(
        (status, e["kind"].as_str(), e["service"].as_str()),
        (504, Some("timeout"), Some("ctgov")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("ClinicalTrials.gov"), "{e}");
}

#[tokio::test]
async fn the_api_has_the_guard_of_mcp() {
    let api = Api::start("pipette-mcp-test", &[("PIPETTE_TOKEN", "s3cret")]).await;
    let get = |token: Option<&str>| {
        let mut r = api.http.get(api.url("/tools"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let refused = get(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_eq!(get(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(get(Some("s3cret")).await.unwrap().status(), 200);

    let with = |name: &str, value: &str| {
        api.http.get(api.url("/tools")).bearer_auth("s3cret").header(name, value.to_owned()).send()
    };
    assert_eq!(with("origin", "http://evil.example").await.unwrap().status(), 403);
    assert_eq!(with("origin", "http://localhost:5173").await.unwrap().status(), 200);
    assert_eq!(with("host", "evil.example").await.unwrap().status(), 403);

    // The token's principal owns the jobs its calls become, and lists them.
    let r = api
        .http
        .post(api.url("/tools/fixture_echo"))
        .bearer_auth("s3cret")
        .json(&json!({"text": "x", "async_mode": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_owned();
    let jobs: Value =
        api.http.get(api.url("/jobs")).bearer_auth("s3cret").send().await.unwrap().json().await.unwrap();
    let record = jobs["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == id.as_str()).cloned();
    assert_eq!(record.expect("listed")["owner"], "token");
}

/// One server-sent event: its name and its data.
#[derive(Debug)]
struct Event {
    name: String,
    data: Value,
}

/// Reads the events of `resp` until its stream ends (or 20 s pass).
async fn events(mut resp: reqwest::Response) -> Vec<Event> {
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut out = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, resp.chunk()).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !name.is_empty() {
                out.push(Event { name, data: serde_json::from_str(&data).unwrap() });
            }
        }
    }
    out
}

#[tokio::test]
async fn a_long_call_is_a_job_to_follow_by_its_location_its_events_or_to_cancel() {
    let api = Api::start("pipette-mcp-test", &[]).await;

    // Past its inline budget (300 ms) the call answers 202 and where to follow it.
    let r = api.post("fixture_slow", &json!({"ms": 1500, "text": "done"})).await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let ticket: Value = r.json().await.unwrap();
    let id = ticket["job_id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{id}"));
    assert_eq!(ticket["status"], "running");

    let stream = api.http.get(format!("{}{location}/events", api.server.base)).send().await.unwrap();
    let seen = events(stream).await;
    let (last, progress) = seen.split_last().expect("events");
    assert_eq!(last.name, "result", "{seen:?}");
    assert_eq!(last.data["text"], "done");
    assert!(!progress.is_empty() && progress.iter().all(|e| e.name == "progress"), "{seen:?}");
    let steps: Vec<u64> = progress.iter().map(|e| e.data["progress"]["current"].as_u64().unwrap()).collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "progress moves forward: {steps:?}");

    let record: Value =
        api.http.get(format!("{}{location}", api.server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (record["status"].as_str(), record["result"]["text"].as_str()),
        (Some("completed"), Some("done"))
    );
    assert!(record["output"].as_str().unwrap().contains("line 9"), "{record}");
    let md =
        api.http.get(api.url(&format!("/jobs/{id}"))).header("accept", "text/markdown").send().await.unwrap();
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    assert!(md.text().await.unwrap().contains(&format!("## Job `{id}`")));

    // A job cancelled by DELETE: its record says so, and its events end with the error.
    let r = api.post("fixture_slow", &json!({"ms": 20000, "async_mode": true})).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_owned();
    let cancelled = api.http.delete(api.url(&format!("/jobs/{id}"))).send().await.unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "cancelled");
    let seen = events(api.get(&format!("/jobs/{id}/events")).await).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].name.as_str(), seen[0].data["kind"].as_str()), ("error", Some("cancelled")));

    // Unknown jobs are 404 everywhere; a caller without a token follows its jobs by id but lists none.
    for path in ["/jobs/job-nope", "/jobs/job-nope/events"] {
        let (status, e, _) = error_of(api.get(path).await).await;
        assert_eq!((status, e["param"].as_str()), (404, Some("job_id")), "{path}");
    }
    let listed: Value = api.get("/jobs").await.json().await.unwrap();
    assert_eq!(listed["jobs"], json!([]));
    let (status, e, _) = error_of(api.get("/jobs?status=bogus").await).await;
    assert_eq!((status, e["param"].as_str()), (422, Some("status")), "{e}");
}
