//! The HTTP face's defences, on the real binary: the Host check on every path, `/health` without paths unless
//! a token came, no public bind without a token, token files and named tokens, the header and idle timeouts,
//! and the connection cap.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::support::{call_ok, command, http_client, http_server};

/// A generous bound for anything that should happen "soon".
const SOON: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port()
}

/// Starts `pipette-mcp-test --http ADDR ARGS…` and waits until 127.0.0.1:port accepts connections.
async fn start(
    dir: &Path,
    port: u16,
    addr: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> tokio::process::Child {
    let mut cmd = command("pipette-mcp-test", dir);
    cmd.arg("--http").arg(addr).args(args).stderr(std::process::Stdio::null());
    cmd.envs(env.iter().copied());
    let child = cmd.spawn().expect("spawn the HTTP server");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "the HTTP server did not start on {addr}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child
}

/// Runs `pipette-mcp-test --http 127.0.0.1:free ARGS…`, expects it to exit with an error, and answers its stderr.
async fn refused_start(dir: &Path, addr: &str, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = command("pipette-mcp-test", dir);
    cmd.arg("--http").arg(addr).args(args).envs(env.iter().copied());
    let out = timeout(SOON, cmd.output()).await.expect("the server should exit").expect("run the server");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "started although it should not: {stderr}");
    stderr
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends one HTTP/1.1 GET on `tcp` and reads its response (head and `Content-Length` body).
async fn raw_get(tcp: &mut TcpStream, path: &str, port: u16) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    read_response(tcp).await
}

async fn read_response(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-response: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the server closes `tcp` within `limit`, while the client keeps sending `trickle` bytes (if any)
/// every 100 ms.
async fn closed_within(tcp: &mut TcpStream, limit: Duration, trickle: Option<&[u8]>) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        // End of stream or reset: closed. Bytes or nothing yet: still open.
        if let Ok(Ok(0) | Err(_)) = timeout(Duration::from_millis(100), tcp.read(&mut buf)).await {
            return true;
        }
        if let Some(bytes) = trickle
            && tcp.write_all(bytes).await.is_err()
        {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn a_rebinding_host_is_refused_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let port = port_of(&server.base);
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    for host in
        [format!("evil.example:{port}"), "evil.example".to_owned(), format!("127.0.0.1.evil.example:{port}")]
    {
        for path in ["/health", "/metrics", "/nowhere"] {
            let resp = http.get(format!("{}{path}", server.base)).header("host", &host).send().await.unwrap();
            assert_eq!(resp.status(), 403, "{host} {path}");
            let body = resp.text().await.unwrap();
            assert!(body.contains("PIPETTE_ALLOWED_HOSTS"), "{host} {path}: {body}");
        }
        let resp = http
            .post(&server.url)
            .header("host", &host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{host} /mcp");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        for path in ["/health", "/metrics"] {
            let resp = http.get(format!("{}{path}", server.base)).header("host", &host).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{host} {path}");
        }
    }
}

#[tokio::test]
async fn health_shows_paths_only_to_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let resp = reqwest::get(format!("{}/health", server.base)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(!body.contains(&data_dir), "the data dir leaked: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "ok", "{v}");
    assert!(v["job_store"]["detail"]["jobs"].is_u64(), "the rest is kept: {v}");
    assert!(v["registry"]["tools"].as_u64().unwrap_or(0) > 0, "{v}");

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let server = http_server("pipette-mcp-test", dir.path(), &[("PIPETTE_TOKEN", "s3cret")]).await;
    let http = reqwest::Client::new();
    let health = format!("{}/health", server.base);
    assert_eq!(http.get(&health).send().await.unwrap().status(), 401);
    let body = http.get(&health).bearer_auth("s3cret").send().await.unwrap().text().await.unwrap();
    assert!(body.contains(&data_dir), "a token sees the paths: {body}");
}

#[tokio::test]
async fn a_public_bind_needs_a_token_or_allow_unauthenticated() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let stderr = refused_start(dir.path(), &addr, &[], &[]).await;
    assert!(stderr.contains("--allow-unauthenticated") && stderr.contains("PIPETTE_TOKEN_FILE"), "{stderr}");

    let _server = start(dir.path(), port, &addr, &[], &["--allow-unauthenticated"]).await;
    let resp = reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap();
    assert_eq!(resp.status(), 200);
    drop(_server);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let _server = start(dir.path(), port, &addr, &[("PIPETTE_ALLOW_UNAUTHENTICATED", "true")], &[]).await;
    assert_eq!(reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn token_files_and_named_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "  from-a-file\n\n").unwrap();
    let tokens_file = dir.path().join("tokens");
    std::fs::write(&tokens_file, "# who may call\n\nalice alice-token\n  bob   bob-token operator\n")
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = http_server(
        "pipette-mcp-test",
        data.path(),
        &[
            ("PIPETTE_TOKEN_FILE", token_file.to_str().unwrap()),
            ("PIPETTE_TOKENS_FILE", tokens_file.to_str().unwrap()),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let metrics = format!("{}/metrics", server.base);
    for (token, status) in [
        (Some("from-a-file"), 200),
        (Some("alice-token"), 200),
        (Some("bob-token"), 200),
        (Some("carol-token"), 401),
        (Some("alice"), 401),
        (Some("bob-token operator"), 401),
        (None, 401),
    ] {
        let mut req = http.get(&metrics);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), status, "{token:?}");
    }
    let (conn, _) = http_client(&server.url, Some("bob-token")).await;
    assert_eq!(call_ok(&conn, "health", json!({})).await["status"], "ok");
    conn.cancel().await.unwrap();

    // A malformed line is named by its number, and its token never echoed.
    std::fs::write(&tokens_file, "# c\nalice alice-token\ncarol s3cr3t-word admin\n").unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let stderr =
        refused_start(data.path(), &addr, &[], &["--tokens-file", tokens_file.to_str().unwrap()]).await;
    assert!(stderr.contains("line 3") && stderr.contains("PIPETTE_TOKENS_FILE"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t-word") && !stderr.contains("alice-token"),
        "a token was echoed: {stderr}"
    );
    // So is an empty token file.
    std::fs::write(&token_file, " \n").unwrap();
    let stderr =
        refused_start(data.path(), &addr, &[("PIPETTE_TOKEN_FILE", token_file.to_str().unwrap())], &[]).await;
    assert!(stderr.contains("PIPETTE_TOKEN_FILE") && stderr.contains("empty"), "{stderr}");
}

#[tokio::test]
async fn help_says_where_to_put_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = command("pipette-mcp", dir.path()).arg("--help").output().await.unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    for needle in [
        "process list",
        "--token-file",
        "PIPETTE_TOKENS_FILE",
        "--allow-unauthenticated",
        "PIPETTE_HTTP_HEADER_TIMEOUT_MS",
        "PIPETTE_HTTP_IDLE_TIMEOUT_MS",
        "PIPETTE_HTTP_MAX_CONNECTIONS",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
}

#[tokio::test]
async fn a_slow_header_is_cut_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        http_server("pipette-mcp-test", dir.path(), &[("PIPETTE_HTTP_HEADER_TIMEOUT_MS", "600")]).await;
    let port = port_of(&server.base);
    let slow_clients = (0..5).map(|_| async {
        let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        slow.write_all(format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        closed_within(&mut slow, SOON, Some(b"a")).await
    });
    let served = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        reqwest::get(format!("{}/health", server.base)).await.unwrap().status()
    };
    let (closed, status) = tokio::join!(futures::future::join_all(slow_clients), served);
    assert_eq!(status, 200, "another client is served meanwhile");
    assert_eq!(closed, [true; 5], "each slow header was cut although it kept sending");
    // A client that connects and sends nothing is cut as well.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(closed_within(&mut silent, SOON, None).await);
}

#[tokio::test]
async fn an_idle_connection_is_closed_but_a_busy_stream_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("PIPETTE_HTTP_IDLE_TIMEOUT_MS", "500"), ("PIPETTE_HTTP_HEADER_TIMEOUT_MS", "60000")];
    let server = http_server("pipette-mcp-test", dir.path(), &env).await;
    let port = port_of(&server.base);

    // A call answered over SSE for 2 s, four times the idle timeout, is not cut.
    let (conn, _) = http_client(&server.url, None).await;
    let answer = call_ok(&conn, "fixture_block", json!({"ms": 2000, "text": "still here"})).await;
    assert_eq!(answer["text"], "still here");
    conn.cancel().await.unwrap();

    // A kept-alive connection with nothing asked is closed.
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(raw_get(&mut tcp, "/health", port).await.starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut tcp, SOON, None).await, "an idle keep-alive connection stays open");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PIPETTE_HTTP_MAX_CONNECTIONS", "2"),
        ("PIPETTE_HTTP_HEADER_TIMEOUT_MS", "60000"),
        ("PIPETTE_HTTP_IDLE_TIMEOUT_MS", "60000"),
    ];
    let server = http_server("pipette-mcp-test", dir.path(), &env).await;
    let port = port_of(&server.base);
    // http_server's readiness probe took a slot for a moment; wait until two connections are served.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let first = timeout(SOON, raw_get(&mut tcp, "/health", port)).await.expect("served within the cap");
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        held.push(tcp);
    }

    let mut third = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let waiting = timeout(Duration::from_secs(1), raw_get(&mut third, "/health", port)).await;
    assert!(waiting.is_err(), "a third connection was served beyond a cap of 2: {waiting:?}");

    drop(held.pop());
    let answer = timeout(SOON, read_response(&mut third)).await.expect("served once a slot is free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
