//! Warming from the trending mutations and seen ids shared through Redis: real `pipette-mcp` processes, a
//! real redis-server, the local upstream on 127.0.0.1.

#![allow(clippy::disallowed_methods)] // tests start the real binaries

use std::time::{Duration, Instant};

use pipette_test_support::{RedisServer, Reply};
use rmcp::ServiceExt as _;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use crate::research::{Lab, PMID};
use crate::support::*;

fn namespace(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("warm-{what}-{}-{nanos}", std::process::id())
}

/// Every call answers inline; queued jobs are not claimed (each test's processes stay on its own calls).
const INLINE: (&str, &str) =
    ("PIPETTE_INLINE_OVERRIDES", "warm_cache=600000,trials_match=600000,trials_match_batch=600000");

#[tokio::test]
async fn the_mutations_most_asked_across_processes_are_warmed_first() {
    let redis = RedisServer::start();
    let ns = namespace("trend");
    // No ClinicalTrials.gov route: every match fails at the upstream, and is counted all the same.
    let lab = Lab::start().await;
    let env = [
        ("REDIS_URL", redis.url()),
        ("PIPETTE_CACHE_NAMESPACE", ns.as_str()),
        ("PIPETTE_CLAIM_JOBS", "0"),
        ("PIPETTE_WARM_MUTATIONS", "ALK fusion, KRAS G12C"),
        INLINE,
    ];
    let (a, _) = lab.connect(&env).await;
    let (b, _) = lab.connect(&env).await;
    // BRAF V600E: 2 on A + 1 on B; EGFR T790M: 2 on B; KRAS G12C: 1 on A.
    for (conn, args) in [
        (&a, json!({ "mutation": "BRAF V600E" })),
        (&a, json!({ "mutation": "BRAF V600E" })),
        (&a, json!({ "mutation": "KRAS G12C" })),
        (&b, json!({ "mutations": ["EGFR T790M", "BRAF V600E"] })),
        (&b, json!({ "mutation": "EGFR T790M" })),
    ] {
        let tool = if args.get("mutations").is_some() { "trials_match_batch" } else { "trials_match" };
        call(conn, tool, args).await;
    }

    // Counting runs beside the calls: ask until all six are in.
    let expected = [
        ("BRAF V600E", "trending", Some(3)),
        ("EGFR T790M", "trending", Some(2)),
        ("KRAS G12C", "trending", Some(1)),
        ("ALK fusion", "configured", None),
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = call_ok(&a, "warm_cache", json!({})).await;
        let got: Vec<(String, String, Option<u64>)> = report["mutations"]
            .as_array()
            .expect("mutations")
            .iter()
            .map(|e| {
                (
                    e["mutation"].as_str().unwrap().to_owned(),
                    e["reason"].as_str().unwrap().to_owned(),
                    e["asked_24h"].as_u64(),
                )
            })
            .collect();
        let want: Vec<(String, String, Option<u64>)> =
            expected.iter().map(|(m, r, n)| ((*m).to_owned(), (*r).to_owned(), *n)).collect();
        if got == want {
            break report;
        }
        assert!(Instant::now() < deadline, "warm order {got:?}, expected {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let summary = report["summary_markdown"].as_str().unwrap();
    assert!(summary.contains("| BRAF V600E | trending (3 asks in 24 h) |"), "{summary}");
    assert!(summary.contains("| ALK fusion | configured |"), "{summary}");
    // Warming itself is not an ask: B sees the same tally.
    let again = call_ok(&b, "warm_cache", json!({})).await;
    assert_eq!(again["mutations"][0]["asked_24h"], 3, "{again}");
    // A list given in the call is warmed as given, and says so.
    let given = call_ok(&b, "warm_cache", json!({ "mutations": ["ROS1 fusion"] })).await;
    assert_eq!(given["mutations"].as_array().unwrap().len(), 1, "{given}");
    assert_eq!(given["mutations"][0]["reason"], "requested", "{given}");
    a.cancel().await.ok();
    b.cancel().await.ok();
}

#[tokio::test]
async fn warming_on_start_runs_in_the_background_and_reports_what_it_warmed() {
    let lab = Lab::start().await;
    // ClinicalTrials.gov never answers: warming cannot finish while the server starts and serves.
    lab.server.route("GET", "/ctgov/studies", Reply::hang());
    let log = lab.dir.path().join("stderr.log");
    let url = lab.server.url();
    let ctgov = format!("{url}/ctgov");
    let mut cmd = command("pipette-mcp", lab.dir.path());
    cmd.envs([
        ("PIPETTE_CTGOV_BASE", ctgov.as_str()),
        ("PIPETTE_CTGOV_RATE", "0"),
        ("PIPETTE_CLAIM_JOBS", "0"),
        ("PIPETTE_WARM_ON_START", "1"),
        ("PIPETTE_WARM_MUTATIONS", "EGFR L858R"),
    ]);
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn pipette-mcp");
    let conn = Client::default().serve(transport).await.expect("initialize while warming");
    let health = call_ok(&conn, "health", json!({})).await;
    assert!(health["status"].is_string(), "{health}");
    // Warming has started and asked ClinicalTrials.gov, which holds it: it cannot be done.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lab.server.requests().iter().any(|r| r.path.starts_with("/ctgov/studies")) {
        assert!(Instant::now() < deadline, "warming never asked ClinicalTrials.gov");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("start-up warming: started in the background"), "{text}");
    assert!(!text.contains("start-up warming: done"), "its upstream hangs, warming cannot be done: {text}");
    conn.cancel().await.ok();

    // With an upstream that answers (an error), warming ends and reports what it warmed and why.
    let lab2 = Lab::start().await;
    lab2.server.route("GET", "/ctgov/studies", Reply::json(404, json!({ "error": "none" })));
    let log2 = lab2.dir.path().join("stderr.log");
    let ctgov2 = format!("{}/ctgov", lab2.server.url());
    let mut cmd = command("pipette-mcp", lab2.dir.path());
    cmd.envs([
        ("PIPETTE_CTGOV_BASE", ctgov2.as_str()),
        ("PIPETTE_CTGOV_RATE", "0"),
        ("PIPETTE_CLAIM_JOBS", "0"),
        ("PIPETTE_WARM_ON_START", "1"),
        ("PIPETTE_WARM_MUTATIONS", "EGFR L858R, BRAF V600E"),
    ]);
    let (transport, _) =
        TokioChildProcess::builder(cmd).stderr(std::fs::File::create(&log2).unwrap()).spawn().unwrap();
    let conn2 = Client::default().serve(transport).await.expect("initialize");
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let text = std::fs::read_to_string(&log2).unwrap();
        if let Some(line) = text.lines().find(|l| l.contains("start-up warming: done")) {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no warming report: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(done.contains("EGFR L858R (configured); BRAF V600E (configured)"), "{done}");
    assert!(done.contains("failed=2"), "{done}");
    // The report is a job's result: any session (on Redis, any instance) reads it.
    let jobs = call_ok(&conn2, "job_list", json!({ "tool": "warm_cache" })).await;
    let job = &jobs["jobs"][0];
    assert_eq!(job["status"], "completed", "{jobs}");
    let warmed: Vec<&str> = job["result"]["mutations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mutation"].as_str().unwrap())
        .collect();
    assert_eq!(warmed, ["EGFR L858R", "BRAF V600E"], "{job}");
    assert_eq!(job["result"]["mutations"][0]["reason"], "configured", "{job}");
    conn2.cancel().await.ok();
}

#[tokio::test]
async fn ids_seen_on_one_instance_complete_on_another() {
    let redis = RedisServer::start();
    let ns = namespace("seen");
    let lab = Lab::start().await;
    lab.route_pubmed();
    let env =
        [("REDIS_URL", redis.url()), ("PIPETTE_CACHE_NAMESPACE", ns.as_str()), ("PIPETTE_CLAIM_JOBS", "0")];
    let (a, _) = lab.connect(&env).await;
    let (b, _) = lab.connect(&env).await;
    let complete = |conn: &Conn| {
        let peer = conn.peer().clone();
        async move {
            peer.complete_resource_argument("pubmed://{pmid}", "pmid", "", None)
                .await
                .expect("completion/complete")
                .values
        }
    };
    assert!(complete(&b).await.is_empty(), "nothing seen yet");
    let fetched: Value = call_ok(&a, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    assert_eq!(fetched["articles"][0]["pmid"], PMID, "{fetched}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let values = complete(&b).await;
        if values == [PMID] {
            break;
        }
        assert!(Instant::now() < deadline, "B offers {values:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.cancel().await.ok();
    b.cancel().await.ok();
}
