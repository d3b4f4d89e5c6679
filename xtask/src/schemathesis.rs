//! `cargo xtask schemathesis`: Schemathesis (PyPI) against the HTTP API's OpenAPI document, served by
//! `pipette-mcp --http` whose upstreams are a local server answering with the recorded responses of
//! /work/shared/fixtures (no internet). Every operation, a bounded number of examples each, a fixed seed
//! (`PIPETTE_SCHEMATHESIS_SEED` to vary it): no 5xx, every status, content type, header and body as
//! documented. The server has a data dir of its own, so destructive tools (`index_drop`, `job_prune`, …)
//! touch only what the run itself made, and every answer they can give is documented.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pipette_test_support::{Reply, UpstreamServer};

use crate::conformance::{Server, free_port, healthy};

/// Examples per operation and phase (`--max-examples`): about a minute on 2 cores.
const EXAMPLES: &str = "10";
/// What every response is checked for.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// The recorded answers: a PubMed search and article, the ClinicalTrials.gov EGFR L858R search and its two
/// studies, UniProt's BRAF, a Europe PMC search; anything else the upstream answers 404 (which tools report as
/// not found). Every base URL points at it: nothing leaves the machine.
fn route(upstream: &UpstreamServer) {
    upstream.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    upstream.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    upstream.route(
        "GET",
        "/ctgov/studies",
        Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"),
    );
    for id in ["NCT06604689", "NCT06382129"] {
        let file = format!("clinicaltrials/get_{}_20260811.json", id.to_ascii_lowercase());
        upstream.route("GET", &format!("/ctgov/studies/{id}"), Reply::fixture(&file));
    }
    upstream.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::fixture("uniprot/get_P15056_BRAF_20260812.json"),
    );
    upstream.route(
        "GET",
        "/uniprot/uniprotkb/search",
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
    upstream.route(
        "GET",
        "/europepmc/search",
        Reply::fixture("fulltext/europepmc_search/search_core__query-cancer__pyEuropePMC.json"),
    );
}

fn start(binary: &Path, root: &Path, upstream: &str) -> anyhow::Result<(Server, u16)> {
    let port = free_port()?;
    let data_dir = std::env::temp_dir().join(format!("pipette-schemathesis-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let log = std::fs::File::create(root.join("target/schemathesis/server.log"))?;
    let mut cmd = Command::new(binary);
    cmd.args(["--http", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&data_dir)
        .current_dir(&data_dir)
        .env("PIPETTE_LOG", "info")
        .env("PIPETTE_PUBMED_BASE", format!("{upstream}/eutils"))
        .env("PIPETTE_CTGOV_BASE", format!("{upstream}/ctgov"))
        .env("PIPETTE_UNIPROT_BASE", format!("{upstream}/uniprot"))
        .env("PIPETTE_CHEMBL_BASE", format!("{upstream}/chembl"))
        .env("PIPETTE_EUROPEPMC_BASE", format!("{upstream}/europepmc"))
        .env("PIPETTE_PMC_BASE", format!("{upstream}/pmc"))
        .env("PIPETTE_PMC_OAI_BASE", format!("{upstream}/pmc-oai"))
        .env("PIPETTE_PMC_OA_BASE", format!("{upstream}/pmc-oa"))
        .env("PIPETTE_PMC_S3_BASE", format!("{upstream}/pmc-s3"))
        .env("PIPETTE_DOI_BASE", format!("{upstream}/doi"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for service in ["PUBMED", "CTGOV", "UNIPROT", "CHEMBL", "EUROPEPMC", "PMC_S3", "DOI"] {
        cmd.env(format!("PIPETTE_{service}_RATE"), "0");
    }
    let child = cmd.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
    let mut server = Server { child, data_dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(port) {
        if let Some(status) = server.child.try_wait()? {
            bail!("pipette-mcp exited at start ({status}); see target/schemathesis/server.log");
        }
        if Instant::now() > deadline {
            bail!("pipette-mcp did not answer /health within 60 s; see target/schemathesis/server.log");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((server, port))
}

/// Runs Schemathesis against a fresh `pipette-mcp --http` (the debug build, built here).
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    crate::python_tools()?;
    crate::run("cargo", &["build", "-p", "mcp-server", "--bin", "pipette-mcp"])?;
    let out = root.join("target/schemathesis");
    std::fs::create_dir_all(&out)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start a tokio runtime")?;
    let upstream = runtime.block_on(UpstreamServer::start());
    route(&upstream);
    let (server, port) = start(&root.join("target/debug/pipette-mcp"), root, &upstream.url())?;
    let base = format!("http://127.0.0.1:{port}");
    let seed = std::env::var("PIPETTE_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());
    let schema = format!("{base}/api/v1/openapi.json");
    let report = out.join("junit.xml").to_string_lossy().into_owned();
    let har = out.join("requests.har");
    let har_arg = har.to_string_lossy().into_owned();
    let args = [
        "run",
        &schema,
        "--url",
        &base,
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        &seed,
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--report",
        "junit,har",
        "--report-junit-path",
        &report,
        "--report-har-path",
        &har_arg,
        "--output-truncate",
        "true",
    ];
    eprintln!("$ st {}", args.join(" "));
    let mut st = Command::new("st");
    if let Some(path) = crate::TOOLS_PATH.get() {
        st.env("PATH", path);
    }
    let status = st
        .args(args)
        .current_dir(&out)
        .stdin(Stdio::null())
        .status()
        .context("cannot run Schemathesis (st)")?;
    drop(server);
    drop(upstream);
    print_statuses(&har);
    if !status.success() {
        bail!(
            "Schemathesis found failures ({status}); server log: target/schemathesis/server.log, \
             replay one with `target/python-tools/bin/st replay ID` against a server started alike"
        );
    }
    Ok(())
}

/// Prints how many answers of each status the run saw, per operation and in all (from the HAR report).
fn print_statuses(har: &Path) {
    let Ok(text) = std::fs::read_to_string(har) else { return };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return };
    let mut all = std::collections::BTreeMap::<u64, usize>::new();
    let mut by_op = std::collections::BTreeMap::<String, std::collections::BTreeMap<u64, usize>>::new();
    for e in v["log"]["entries"].as_array().into_iter().flatten() {
        let status = e["response"]["status"].as_u64().unwrap_or(0);
        let url = e["request"]["url"].as_str().unwrap_or_default();
        let path = url.splitn(4, '/').nth(3).unwrap_or_default().split('?').next().unwrap_or_default();
        let op = format!("{} /{path}", e["request"]["method"].as_str().unwrap_or_default());
        *all.entry(status).or_default() += 1;
        // Undocumented methods (405) and the jobs the run made are left out of the per-operation lines.
        if status != 405 && !path.contains("/jobs/") {
            *by_op.entry(op).or_default().entry(status).or_default() += 1;
        }
    }
    let line = |m: &std::collections::BTreeMap<u64, usize>| {
        m.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")
    };
    println!("\nanswers by operation (status: count):");
    for (op, m) in &by_op {
        println!("  {op}  {}", line(m));
    }
    println!("answers in all: {} ({} requests)", line(&all), all.values().sum::<usize>());
}
