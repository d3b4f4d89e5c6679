//! Shared helpers: finding the binaries, starting servers, connecting rmcp clients.

#![allow(clippy::disallowed_methods)] // tests start the real binaries

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};

/// A binary of this workspace: `pipette-mcp-test` (with fixtures), `pipette-mcp` or `pipette`.
pub(crate) fn bin(name: &str) -> PathBuf {
    let test_bin = Path::new(env!("CARGO_BIN_EXE_pipette-mcp-test"));
    let path = test_bin.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (`cargo build --workspace --bins`, which `cargo xtask test` does)",
        path.display()
    );
    path
}

/// A command for `name` with a clean environment and its own data dir. Servers list every toolset
/// (`PIPETTE_TOOLSETS=all`) unless a test says otherwise.
pub(crate) fn command(name: &str, data_dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin(name));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", data_dir)
        .env("PIPETTE_DATA_DIR", data_dir)
        .env("PIPETTE_LOG", "info")
        .env("PIPETTE_TOOLSETS", "all")
        .kill_on_drop(true);
    cmd
}

/// Collects the progress notifications a client receives, and counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
pub(crate) struct Client {
    pub(crate) progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    pub(crate) tools_changed: Arc<std::sync::atomic::AtomicUsize>,
}

impl ClientHandler for Client {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

pub(crate) type Conn = RunningService<RoleClient, Client>;

/// Starts `name` over stdio in `data_dir` and connects a client.
pub(crate) async fn stdio(name: &str, data_dir: &Path) -> (Conn, Client) {
    stdio_with(name, data_dir, &[]).await
}

pub(crate) async fn stdio_with(name: &str, data_dir: &Path, env: &[(&str, &str)]) -> (Conn, Client) {
    let mut cmd = command(name, data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (conn, handler, _) = stdio_pid(cmd).await;
    (conn, handler)
}

/// Connects to a server started from `cmd` over stdio; also answers its pid.
pub(crate) async fn stdio_pid(mut cmd: tokio::process::Command) -> (Conn, Client, u32) {
    cmd.stderr(std::process::Stdio::null());
    let transport = TokioChildProcess::new(cmd).expect("spawn the server");
    let pid = transport.id().expect("pid");
    let handler = Client::default();
    let conn = handler.clone().serve(transport).await.expect("initialize over stdio");
    (conn, handler, pid)
}

/// Kills a process outright (SIGKILL), the way a crash or the OOM killer would.
pub(crate) fn sigkill(pid: u32) {
    let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
}

/// A `pipette-mcp-test --http` server on a free port.
pub(crate) struct HttpServer {
    pub(crate) url: String,
    pub(crate) base: String,
    _child: tokio::process::Child,
}

pub(crate) async fn http_server(name: &str, data_dir: &Path, env: &[(&str, &str)]) -> HttpServer {
    http_server_in(name, data_dir, env, None, None).await
}

/// As [`http_server`], started from `cwd` (default: the test's), its stderr kept in `log` (default: dropped).
pub(crate) async fn http_server_in(
    name: &str,
    data_dir: &Path,
    env: &[(&str, &str)],
    cwd: Option<&Path>,
    log: Option<&Path>,
) -> HttpServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = command(name, data_dir);
    let stderr = match log {
        Some(path) => std::process::Stdio::from(std::fs::File::create(path).unwrap()),
        None => std::process::Stdio::null(),
    };
    cmd.arg("--http").arg(format!("127.0.0.1:{port}")).stderr(stderr);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("spawn the HTTP server");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "the HTTP server did not start");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let base = format!("http://127.0.0.1:{port}");
    HttpServer { url: format!("{base}/mcp"), base, _child: child }
}

pub(crate) async fn http_client(url: &str, token: Option<&str>) -> (Conn, Client) {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(t) = token {
        config = config.auth_header(t.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let handler = Client::default();
    let conn = handler.clone().serve(transport).await.expect("initialize over HTTP");
    (conn, handler)
}

pub(crate) fn params(tool: &str, args: serde_json::Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(tool.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

/// Calls a tool and returns the result (which may be a tool error with `is_error`).
pub(crate) async fn call(conn: &Conn, tool: &str, args: serde_json::Value) -> CallToolResult {
    conn.call_tool(params(tool, args)).await.expect("tools/call answered")
}

/// The structured content of a successful call.
pub(crate) async fn call_ok(conn: &Conn, tool: &str, args: serde_json::Value) -> serde_json::Value {
    let r = call(conn, tool, args).await;
    assert_ne!(r.is_error, Some(true), "{tool} failed: {:?}", r.content);
    r.structured_content.expect("structured content")
}

/// The text of a result.
pub(crate) fn text(r: &CallToolResult) -> String {
    r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// Polls `job_status` until the job leaves `running` (or 20 s pass).
pub(crate) async fn wait_job(conn: &Conn, job_id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = call_ok(conn, "job_status", serde_json::json!({ "job_id": job_id })).await;
        if s["status"] != "running" {
            return s;
        }
        assert!(Instant::now() < deadline, "job {job_id} still running: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Calls a tool with a progress token and returns its result and the progress notifications received for it
/// (rmcp's client numbers the tokens itself, so the client's log is cleared before the call).
pub(crate) async fn call_with_progress(
    conn: &Conn,
    client: &Client,
    tool: &str,
    args: serde_json::Value,
) -> (CallToolResult, Vec<ProgressNotificationParam>) {
    use rmcp::model::{NumberOrString, ProgressToken, RequestMetaObject};
    client.progress.lock().unwrap().clear();
    let mut p = params(tool, args);
    p.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(NumberOrString::String(tool.into()))));
    let result = conn.call_tool(p).await.expect("tools/call answered");
    let seen = std::mem::take(&mut *client.progress.lock().unwrap());
    (result, seen)
}

/// A 2026-07-28 client spoken raw over stdio: no `initialize`; each request carries the protocol version,
/// the client's capabilities and its info in `_meta`. Notifications received meanwhile are kept.
pub(crate) struct Raw2026 {
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    pub(crate) notifications: Vec<serde_json::Value>,
}

impl Raw2026 {
    pub(crate) fn start(name: &str, data_dir: &Path) -> Raw2026 {
        Raw2026::start_with(name, data_dir, &[])
    }

    /// [`Raw2026::start`] with extra environment variables.
    pub(crate) fn start_with(name: &str, data_dir: &Path, env: &[(&str, String)]) -> Raw2026 {
        use tokio::io::AsyncBufReadExt;
        let mut child = command(name, data_dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the server");
        let stdin = child.stdin.take().expect("stdin");
        let lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        Raw2026 { _child: child, stdin, lines, notifications: Vec::new() }
    }

    /// Sends request `id` with `caps` as the client's capabilities.
    pub(crate) async fn send(
        &mut self,
        id: u64,
        method: &str,
        mut params: serde_json::Value,
        caps: &serde_json::Value,
    ) {
        use tokio::io::AsyncWriteExt;
        params["_meta"] = serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
            "io.modelcontextprotocol/clientInfo": {"name": "it", "version": "1"},
        });
        let req = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.stdin.write_all(format!("{req}\n").as_bytes()).await.expect("write a request");
    }

    /// The next message from the server (10 s at most).
    pub(crate) async fn next(&mut self) -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("the server answered in time")
            .expect("read stdout")
            .expect("the server is still there");
        serde_json::from_str(&line).expect("a JSON-RPC message")
    }

    /// Sends request `id` and waits for its answer, keeping the notifications that come first.
    pub(crate) async fn ask(
        &mut self,
        id: u64,
        method: &str,
        params: serde_json::Value,
        caps: &serde_json::Value,
    ) -> serde_json::Value {
        self.send(id, method, params, caps).await;
        loop {
            let m = self.next().await;
            if m["id"] == id {
                return m;
            }
            self.notifications.push(m);
        }
    }
}

/// Copies a directory tree (a fixture project into a test's temporary directory).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
