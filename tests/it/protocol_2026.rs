//! The 2026-07-28 protocol where the conformance suite's fixtures stop: a real tool's question (index_drop
//! asks the person before deleting) reaches a client without a session as an input-required result answered
//! by retrying, with a signed request state; as a task it parks the task until `tasks/update` answers. Driven
//! raw over stdio by the real binary (no `initialize`; capabilities in each request's `_meta`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use pipette_test_support::Reply;

use crate::support::Raw2026;

fn created(answer: &Value) {
    assert!(answer["error"].is_null() && answer["result"]["isError"] != true, "{answer}");
}

async fn exists(raw: &mut Raw2026, id: u64) -> bool {
    let list = raw.ask(id, "tools/call", json!({"name": "index_list", "arguments": {}}), &json!({})).await;
    list["result"]["structuredContent"].to_string().contains("\"keep\"")
}

fn drop_call(responses: Option<Value>, state: Option<&str>) -> Value {
    let mut call = json!({"name": "index_drop", "arguments": {"id": "keep"}});
    if let Some(r) = responses {
        call["inputResponses"] = r;
    }
    if let Some(s) = state {
        call["requestState"] = s.into();
    }
    call
}

/// The one question of an input-required result: its key, and the request.
fn question(answer: &Value) -> (String, Value) {
    assert_eq!(answer["result"]["resultType"], "input_required", "{answer}");
    let requests = answer["result"]["inputRequests"].as_object().expect("inputRequests");
    assert_eq!(requests.len(), 1, "{answer}");
    let (key, request) = requests.iter().next().unwrap();
    (key.clone(), request.clone())
}

#[tokio::test]
async fn a_stateless_client_confirms_a_deletion_by_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Raw2026::start("pipette-mcp", dir.path());
    let person = json!({"elicitation": {}});
    let create =
        json!({"name": "index_create", "arguments": {"id": "keep", "schema": {"builtin": "pubmed"}}});
    created(&raw.ask(1, "tools/call", create, &person).await);

    let first = raw.ask(2, "tools/call", drop_call(None, None), &person).await;
    let (key, request) = question(&first);
    assert_eq!(request["method"], "elicitation/create", "{request}");
    assert!(request["params"]["message"].as_str().unwrap().contains("delete the index `keep`"), "{request}");
    assert_eq!(request["params"]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
    let state = first["result"]["requestState"].as_str().expect("a requestState").to_owned();
    assert!(raw.notifications.iter().all(|n| n.get("id").is_none()), "never a request to this client");

    // A changed state is refused (-32602) and deletes nothing; so is the state with other arguments.
    let accept = json!({ key.clone(): {"action": "accept", "content": {"confirm": true}} });
    let tampered =
        raw.ask(3, "tools/call", drop_call(Some(accept.clone()), Some(&format!("{state}x"))), &person).await;
    assert_eq!(tampered["error"]["code"], -32602, "{tampered}");
    let mut elsewhere = drop_call(Some(accept.clone()), Some(&state));
    elsewhere["arguments"]["id"] = "other".into();
    let replayed = raw.ask(4, "tools/call", elsewhere, &person).await;
    assert_eq!(replayed["error"]["code"], -32602, "{replayed}");
    assert!(exists(&mut raw, 5).await);

    // A malformed answer is asked again; a declined one deletes nothing.
    let malformed =
        raw.ask(6, "tools/call", drop_call(Some(json!({ key.clone(): 12345 })), Some(&state)), &person).await;
    assert_eq!(question(&malformed).0, key, "{malformed}");
    let decline = json!({ key.clone(): {"action": "decline"} });
    let declined = raw.ask(7, "tools/call", drop_call(Some(decline), Some(&state)), &person).await;
    assert_eq!(declined["result"]["isError"], true, "{declined}");
    assert_eq!(declined["result"]["_meta"]["pipette/error"]["kind"], "cancelled", "{declined}");
    assert!(exists(&mut raw, 8).await, "declined: the index is still there");

    // Accepted with the state it was given: deleted.
    let done = raw.ask(9, "tools/call", drop_call(Some(accept), Some(&state)), &person).await;
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_ne!(done["result"]["isError"], true, "{done}");
    assert!(!exists(&mut raw, 10).await);

    // A client that cannot ask is never asked: the tool wants `confirm: true` instead.
    let create =
        json!({"name": "index_create", "arguments": {"id": "keep", "schema": {"builtin": "pubmed"}}});
    created(&raw.ask(11, "tools/call", create, &json!({})).await);
    let refused = raw.ask(12, "tools/call", drop_call(None, None), &json!({})).await;
    assert_eq!(refused["result"]["_meta"]["pipette/error"]["kind"], "invalid_argument", "{refused}");
    assert!(exists(&mut raw, 13).await);
}

#[tokio::test]
async fn a_task_waits_for_the_person_until_tasks_update_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Raw2026::start("pipette-mcp", dir.path());
    let caps = json!({"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}});
    let create =
        json!({"name": "index_create", "arguments": {"id": "keep", "schema": {"builtin": "pubmed"}}});
    created(&raw.ask(1, "tools/call", create, &caps).await);

    let call = json!({"name": "index_drop", "arguments": {"id": "keep", "async_mode": true}});
    let task = raw.ask(2, "tools/call", call, &caps).await;
    assert_eq!(task["result"]["resultType"], "task", "{task}");
    let id = task["result"]["taskId"].as_str().unwrap().to_owned();
    let mut n = 3;
    let mut poll = async |raw: &mut Raw2026, until: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = raw.ask(n, "tasks/get", json!({"taskId": id}), &caps).await;
            n += 1;
            if t["result"]["status"] == until || Instant::now() > deadline {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let waiting = poll(&mut raw, "input_required").await;
    assert_eq!(waiting["result"]["status"], "input_required", "{waiting}");
    let requests = waiting["result"]["inputRequests"].as_object().expect("inputRequests").clone();
    assert_eq!(requests.len(), 1, "{waiting}");
    let key = requests.keys().next().unwrap().clone();
    assert_eq!(requests[&key]["method"], "elicitation/create");
    assert!(exists(&mut raw, 100).await, "nothing is deleted while the task waits");

    let answer =
        json!({"taskId": id, "inputResponses": { key: {"action": "accept", "content": {"confirm": true}} }});
    let ack = raw.ask(101, "tasks/update", answer, &caps).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let done = poll(&mut raw, "completed").await;
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_ne!(done["result"]["result"]["isError"], true, "{done}");
    assert!(!exists(&mut raw, 102).await);
}

#[tokio::test]
async fn a_stateless_clients_model_writes_the_summary_after_one_round() {
    let upstream = pipette_test_support::UpstreamServer::start().await;
    upstream.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    upstream.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let env =
        [("PIPETTE_PUBMED_BASE", format!("{}/eutils", upstream.url())), ("PIPETTE_PUBMED_RATE", "0".into())];
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Raw2026::start_with("pipette-mcp", dir.path(), &env);
    let model = json!({"sampling": {}});
    let call = json!({"name": "pubmed_search", "arguments": {"query": "APC p.E1317Q", "summarize": true}});

    // Asked twice: the first round's fallback was never kept as the answer (the result cache included).
    for id in [1, 2] {
        let first = raw.ask(id, "tools/call", call.clone(), &model).await;
        let (_, request) = question(&first);
        assert_eq!(request["method"], "sampling/createMessage", "{request}");
        assert_eq!(request["params"]["maxTokens"], 600, "{request}");
    }
    let first = raw.ask(3, "tools/call", call.clone(), &model).await;
    let (key, request) = question(&first);
    let prompt = request["params"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        prompt.contains("PubMed") && prompt.contains("APC p.E1317Q"),
        "the model sees the results: {prompt}"
    );

    let mut retry = call.clone();
    retry["inputResponses"] = json!({ key: {
        "role": "assistant", "model": "test-model", "stopReason": "endTurn",
        "content": {"type": "text", "text": "MODEL SUMMARY: one article."},
    }});
    retry["requestState"] = first["result"]["requestState"].clone();
    let done = raw.ask(4, "tools/call", retry, &model).await;
    let summary = &done["result"]["structuredContent"]["summary"];
    assert_eq!(summary["source"], "client_model", "{done}");
    assert_eq!(summary["text"], "MODEL SUMMARY: one article.");
    assert_eq!(summary["model"], "test-model");

    // Another search, from a client without sampling: the deterministic summary at once, saying why.
    let mut other = call;
    other["arguments"]["query"] = "APC".into();
    let plain = raw.ask(5, "tools/call", other, &json!({})).await;
    let summary = &plain["result"]["structuredContent"]["summary"];
    assert_eq!(summary["source"], "deterministic", "{plain}");
    assert!(summary["fallback_reason"].as_str().unwrap().contains("sampling"), "{plain}");
}
