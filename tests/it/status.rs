//! `GET /status` in a real browser: headless Chromium driven over WebDriver (chromedriver, spoken here over
//! plain HTTP) opens the page of a real `pipette-mcp --http` that has run calls, has an upstream failing
//! (a local ClinicalTrials.gov answering 500 until the circuit opens) and a running job. DOM assertions; the
//! page follows the job's progress without a reload; keyboard and phone-width checks; screenshots under
//! `target/status-screenshots/`. Without Chromium or chromedriver the test fails (CI installs the Debian
//! packages `chromium` and `chromium-driver`).

#![allow(clippy::disallowed_methods)] // the test starts chromedriver

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pipette_test_support::{Reply, UpstreamServer};
use serde_json::{Value, json};

use crate::support::*;

/// A program named by `var`, else the first of `names` on PATH (or at an absolute path).
fn program(var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        let candidate = Path::new(name);
        if candidate.is_absolute() && candidate.exists() {
            return candidate.to_owned();
        }
        if let Some(found) = std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()) {
            return found;
        }
    }
    panic!(
        "{names:?} not found on PATH (or set {var}): the status page test needs a headless Chromium and its \
         driver — on Debian `apt-get install chromium chromium-driver`"
    );
}

/// A WebDriver session on a chromedriver this test started.
struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: tokio::process::Child,
}

impl Browser {
    async fn start() -> Browser {
        let driver = program("PIPETTE_CHROMEDRIVER", &["chromedriver"]);
        let chromium = program("PIPETTE_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,800", "--hide-scrollbars"],
            },
        } } });
        let created: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused a session: {created}"))
            .to_owned();
        Browser { http, session: format!("{base}/session/{session}"), _driver: child }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let answer: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(answer["value"].get("error").is_none(), "WebDriver {path}: {answer}");
        answer["value"].clone()
    }

    /// Ends the session (and its browser); chromedriver itself is killed on drop.
    async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }

    async fn goto(&self, url: &str) {
        self.send(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    /// Runs `script` (a function body) in the page and answers its return value.
    async fn eval(&self, script: &str) -> Value {
        self.send(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] }))).await
    }

    async fn window(&self, width: u32, height: u32) {
        let rect = json!({ "width": width, "height": height });
        self.send(reqwest::Method::POST, "/window/rect", Some(rect)).await;
    }

    async fn press_tab(&self) {
        let tab = "\u{E004}";
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": tab }, { "type": "keyUp", "value": tab } ] }] });
        self.send(reqwest::Method::POST, "/actions", Some(actions)).await;
    }

    /// A PNG of the viewport, saved at `path`.
    async fn screenshot(&self, path: &Path) {
        let b64 = self.send(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(b64.as_str().expect("a base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Polls `script` until it answers `true` (15 s at most).
    async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.eval(script).await == json!(true) {
                return;
            }
            let html = self.eval("return document.getElementById('live').innerText;").await;
            assert!(
                Instant::now() < deadline,
                "waited for {what}; the page shows:\n{}",
                html.as_str().unwrap_or("")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|c| !matches!(c, b'=' | b'\n' | b'\r')).map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

/// Where screenshots go: `target/status-screenshots/`.
fn screenshots() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_pipette-mcp-test"));
    bin.parent().and_then(Path::parent).expect("target dir").join("status-screenshots")
}

#[tokio::test]
async fn the_status_page_shows_calls_a_failing_upstream_and_a_running_job_and_follows_it_live() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = UpstreamServer::start().await;
    upstream.route("GET", "/ctgov/studies/NCT06604689", Reply::text(500, "text/plain", "internal error"));
    let ctgov = format!("{}/ctgov", upstream.url());
    let env = [
        ("PIPETTE_CTGOV_BASE", ctgov.as_str()),
        ("PIPETTE_CTGOV_CACHE_TTL_SECS", "0"),
        ("PIPETTE_CTGOV_RATE", "0"),
        ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1"),
        ("PIPETTE_BREAKER_THRESHOLD", "1"),
        ("PIPETTE_BREAKER_COOLDOWN_MS", "600000"),
        ("PIPETTE_ALERT_INTERVAL_MS", "200"),
    ];
    let server = http_server("pipette-mcp-test", dir.path(), &env).await;
    let (conn, _) = http_client(&server.url, None).await;
    for text in ["one", "two", "three"] {
        call_ok(&conn, "fixture_echo", json!({ "text": text })).await;
    }
    call_ok(&conn, "index_create", json!({ "id": "lit", "schema": { "builtin": "pubmed" } })).await;
    call_ok(&conn, "index_search", json!({ "id": "lit", "query": "melanoma" })).await;
    let failed = call(&conn, "trial_get", json!({ "nct_id": "NCT06604689" })).await;
    assert_eq!(failed.is_error, Some(true), "{:?}", failed.content);
    // A job of 10 items, one every 1.2 s: running while the page is looked at.
    let ticket =
        call_ok(&conn, "fixture_batch", json!({ "items": 10, "ms": 1200, "async_mode": true })).await;
    let job = ticket["job_id"].as_str().unwrap_or_else(|| panic!("a job ticket: {ticket}")).to_owned();

    let browser = Browser::start().await;
    browser.goto(&format!("{}/status", server.base)).await;
    assert_eq!(browser.eval("return document.title;").await, "pipette status");

    // The failing upstream: its circuit open, its last error, and the critical alert.
    browser
        .until(
            "the open circuit and its alert",
            "return document.querySelector('tr[data-upstream=\"ctgov\"] [data-field=\"circuit\"]')?.textContent === 'open' \
             && !!document.querySelector('#alerts li[data-alert=\"PipetteCircuitOpen\"][data-labels=\"upstream ctgov\"]');",
        )
        .await;
    let last_error = browser
        .eval("return document.querySelector('tr[data-upstream=\"ctgov\"] [data-field=\"last-error\"]').textContent;")
        .await;
    assert!(last_error.as_str().unwrap().starts_with("500 at "), "{last_error}");
    let summary = browser.eval("return document.getElementById('summary').className;").await;
    assert_eq!(summary, "summary critical");
    // The calls: three echoes, one failed trial_get, with their charts.
    let echo = browser
        .eval(
            "const r = document.querySelector('tr[data-tool=\"fixture_echo\"]'); \
             return [r.querySelector('[data-field=\"calls\"]').textContent, r.querySelector('[data-field=\"errors\"]').textContent, \
                     r.querySelectorAll('svg.spark polyline').length];",
        )
        .await;
    assert_eq!(echo, json!(["3", "0", 2]));
    let trial = browser
        .eval("return document.querySelector('tr[data-tool=\"trial_get\"] [data-field=\"errors\"]').textContent;")
        .await;
    assert_eq!(trial, "1");

    // The index, its documents and the query.
    let index = browser
        .eval("return Array.from(document.querySelectorAll('tr[data-index=\"lit\"] td'), td => td.textContent);")
        .await;
    assert_eq!(index[0], "0", "no documents: {index}");
    assert_eq!(index[2], "1", "one query: {index}");

    // The running job, with a progress bar that moves without a reload.
    let row = format!("tr[data-job-id=\"{job}\"]");
    browser
        .until(
            "the running job",
            &format!("return document.querySelector('{row}')?.dataset.status === 'running';"),
        )
        .await;
    browser.eval("window.__sameDocument = true; return null;").await;
    browser
        .until("a progress bar", &format!("return !!document.querySelector('{row} progress[max=\"10\"]');"))
        .await;
    let first = browser.eval(&format!("return document.querySelector('{row} progress').value;")).await;
    browser.screenshot(&screenshots().join("status-1280x800.png")).await;
    browser
        .until(
            "the progress to move",
            &format!("return document.querySelector('{row} progress')?.value > {first} && window.__sameDocument === true;"),
        )
        .await;

    // The whole page, for people to look at.
    let height = browser.eval("return document.documentElement.scrollHeight;").await.as_u64().unwrap();
    browser.window(1280, u32::try_from(height.clamp(800, 4000)).unwrap() + 120).await;
    browser.screenshot(&screenshots().join("status-full-page.png")).await;
    browser.window(1280, 800).await;

    // Keyboard: the first Tab reaches the skip link, which leads to the status.
    browser.press_tab().await;
    assert_eq!(browser.eval("return document.activeElement.className;").await, "skip");
    let focusable = browser
        .eval("return Array.from(document.querySelectorAll('.scroll[tabindex=\"0\"][aria-label]')).length;")
        .await;
    assert!(focusable.as_u64().unwrap() >= 3, "the tables are keyboard-scrollable regions: {focusable}");

    // Phone width: nothing wider than the screen but the tables' own scrolling regions.
    browser.window(390, 844).await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await;
    assert_eq!(overflow, json!(0), "the page scrolls sideways at phone width");
    browser.screenshot(&screenshots().join("status-phone.png")).await;

    // The same data for programs.
    let board: Value =
        reqwest::get(format!("{}/status.json", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(board["upstreams"][1]["circuit"], "open", "{board}");
    assert!(board["jobs"].as_array().unwrap().iter().any(|j| j["job_id"] == job.as_str()), "{board}");
    browser.close().await;
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn the_status_page_is_behind_the_token_and_origin_checks_and_allows_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[("PIPETTE_TOKEN", "s3cret")]).await;
    let http = reqwest::Client::new();
    for path in ["/status", "/status/live", "/status.json", "/status/app.js"] {
        let url = format!("{}{path}", server.base);
        assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "{path} without the token");
        let foreign = http.get(&url).bearer_auth("s3cret").header("Origin", "https://evil.example").send();
        assert_eq!(foreign.await.unwrap().status(), 403, "{path} from a foreign origin");
        assert_eq!(http.get(&url).bearer_auth("s3cret").send().await.unwrap().status(), 200, "{path}");
    }
    let page = http.get(format!("{}/status", server.base)).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.starts_with("default-src 'none'; script-src 'self';"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing fetched from elsewhere");
    assert!(html.contains("<a class=\"skip\" href=\"#live\">"), "{html}");
    // What the Prometheus rules compare with: each tool's latency budget (half of `health`'s 10 s timeout).
    let metrics = http.get(format!("{}/metrics", server.base)).bearer_auth("s3cret").send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("pipette_tool_latency_budget_seconds{tool=\"health\"} 5\n"), "{metrics}");
}
