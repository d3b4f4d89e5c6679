//! The guard's rules, the hiding of paths, and the principal reaching a tools/call through rmcp.

use std::sync::Arc;

use clap::Parser as _;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

fn config(args: &[&str]) -> anyhow::Result<Config> {
    let mut argv = vec!["pipette-mcp"];
    argv.extend_from_slice(args);
    let args = ServerArgs::try_parse_from(argv)?;
    Config::from_args("127.0.0.1:0".parse()?, &args)
}

#[test]
fn hosts_are_loopback_or_listed() {
    let g = config(&["--allowed-hosts", "pipette.example,Other.Example:8443"]).unwrap().guard;
    for (host, port, ok) in [
        ("localhost", Some(1234), true),
        ("127.0.0.1", None, true),
        ("[::1]", Some(80), true),
        ("LOCALHOST", Some(1), true),
        ("pipette.example", Some(9), true),
        ("other.example", Some(8443), true),
        ("other.example", Some(8444), false),
        ("evil.example", Some(1234), false),
        ("127.0.0.2", None, false),
    ] {
        assert_eq!(g.host_allowed(host, port), ok, "{host}:{port:?}");
    }
}

#[test]
fn origins_follow_rmcps_rules() {
    let g = config(&["--allowed-origins", "https://app.example,http://tool.example:8080"]).unwrap().guard;
    for (origin, ok) in [
        ("http://localhost:3000", true),
        ("https://127.0.0.1", true),
        ("http://[::1]:9", true),
        ("https://app.example", true),
        ("https://app.example:444", true),
        ("http://app.example", false),
        ("http://tool.example:8080", true),
        ("http://tool.example", false),
        ("https://evil.example", false),
        ("http://localhost.evil.example", false),
        ("null", false),
        ("not an origin", false),
    ] {
        assert_eq!(g.origin_allowed(origin), ok, "{origin}");
    }
}

#[test]
fn bad_lists_and_bare_public_binds_are_refused_with_the_variable_named() {
    let err = config(&["--allowed-hosts", "a b"]).err().unwrap().to_string();
    assert!(err.contains("PIPETTE_ALLOWED_HOSTS"), "{err}");
    let err = config(&["--allowed-origins", "app.example"]).err().unwrap().to_string();
    assert!(err.contains("PIPETTE_ALLOWED_ORIGINS"), "{err}");
    let args = ServerArgs::try_parse_from(["pipette-mcp"]).unwrap();
    let err = Config::from_args("0.0.0.0:1".parse().unwrap(), &args).err().unwrap().to_string();
    assert!(err.contains("--allow-unauthenticated"), "{err}");
    let args = ServerArgs::try_parse_from(["pipette-mcp", "--allow-unauthenticated"]).unwrap();
    assert!(Config::from_args("0.0.0.0:1".parse().unwrap(), &args).is_ok());
    let args = ServerArgs::try_parse_from(["pipette-mcp", "--token", "t"]).unwrap();
    assert!(Config::from_args("[::]:1".parse().unwrap(), &args).is_ok());
}

#[test]
fn paths_are_hidden_and_the_rest_kept() {
    let mut v = json!({
        "status": "ok",
        "version": "0.1.0",
        "job_store": {"status": "ok", "detail": {"jobs": 3, "path": "/data/pipette/jobs.sqlite3"}},
        "cache": {"status": "error", "detail": {"error": "opening \"/data/pipette/cache\": permission denied"}},
        "data_dir": "/data/pipette",
        "indexes": {"root": "relative/dir", "names": ["pubmed", "/srv/x"]},
        "where": "C:\\Users\\me\\pipette",
        "url": "http://127.0.0.1:8765/mcp",
    });
    hide_paths(&mut v);
    assert_eq!(
        v,
        json!({
            "status": "ok",
            "version": "0.1.0",
            "job_store": {"status": "ok", "detail": {"jobs": 3}},
            "cache": {"status": "error", "detail": {"error": "opening \"<hidden>\": permission denied"}},
            "indexes": {"names": ["pubmed"]},
            "url": "http://127.0.0.1:8765/mcp",
        })
    );
}

/// A server with one tool that answers who called it.
#[derive(Clone)]
struct WhoAmI;

impl ServerHandler for WhoAmI {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        _request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let who = match authenticated(&context.extensions) {
            Some(a) => format!("principal={} operator={}", a.principal, a.operator),
            None => "anonymous".to_owned(),
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(who)]).into())
    }
}

/// Serves [`WhoAmI`] behind the guard of `args` through the real accept loop; answers its address.
async fn who_am_i_server(args: &[&str], stop: &CancellationToken) -> SocketAddr {
    let config = config(args).unwrap();
    let rmcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(stop.child_token());
    let service =
        StreamableHttpService::new(|| Ok(WhoAmI), Arc::new(NeverSessionManager::default()), rmcp_config);
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(config.guard.clone(), guard));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(listener::serve(listener, app, config.limits, stop.clone()));
    addr
}

/// One raw HTTP/1.1 tools/call; answers the whole response.
async fn tools_call(addr: SocketAddr, token: Option<&str>) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}})
    .to_string();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_string(&mut response)).await.unwrap().unwrap();
    response
}

#[tokio::test]
async fn a_tools_call_knows_its_principal() {
    let stop = CancellationToken::new();
    let addr = who_am_i_server(&["--token", "s3cret"], &stop).await;
    let answer = tools_call(addr, Some("s3cret")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("principal=token operator=false"), "{answer}");
    let refused = tools_call(addr, Some("wrong")).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");

    let open = who_am_i_server(&[], &stop).await;
    let answer = tools_call(open, None).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("anonymous"), "{answer}");
    stop.cancel();
}
