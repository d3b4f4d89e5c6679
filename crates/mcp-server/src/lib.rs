//! pipette-mcp: the MCP server over stdio and streamable HTTP. The only crate that speaks the protocol.

mod bridge;
mod completion;
mod events;
mod guard;
mod handler;
mod http;
mod logging;
mod mrtr;
mod parked;
mod prompts;
mod resources;
mod status;
mod streams;
mod tasks;
mod toolsets;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use rmcp::ServiceExt as _;

pub use handler::PipetteServer;

/// The request guard's answers to one incoming message (a stdio line or an HTTP body): `None` when it goes on
/// to rmcp or is dropped, else the JSON-RPC errors sent back. For the fuzz harness (`pipette-fuzz`); not an API.
#[doc(hidden)]
pub fn guard_answers(message: &[u8]) -> Option<Vec<serde_json::Value>> {
    match guard::check(message) {
        guard::Checked::Refused(refusals) => Some(refusals.iter().map(guard::Refusal::to_json).collect()),
        guard::Checked::Message(_) | guard::Checked::Ignore => None,
    }
}

/// Command-line flags of `pipette-mcp`; each has an environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "pipette-mcp",
    version,
    about = "pipette's MCP server: stdio by default, streamable HTTP with --http"
)]
pub struct ServerArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (e.g. 127.0.0.1:8765).
    #[arg(long, env = "PIPETTE_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Where jobs and indexes live.
    #[arg(long, env = "PIPETTE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` on every HTTP request (principal `token`). A value given with
    /// --token is visible to every user of this machine in the process list (ps): prefer --token-file or the
    /// PIPETTE_TOKEN environment variable.
    #[arg(long, env = "PIPETTE_TOKEN", hide_env_values = true, conflicts_with = "token_file")]
    pub token: Option<String>,
    /// Read the bearer token from this file (its contents, trimmed); principal `token`.
    #[arg(long, env = "PIPETTE_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Named tokens, one per line: `NAME TOKEN`, or `NAME TOKEN operator` for an operator; `#` comments and
    /// blank lines are skipped. Each token is a principal; any of them (and --token) is accepted.
    #[arg(long, env = "PIPETTE_TOKENS_FILE", value_name = "PATH")]
    pub tokens_file: Option<PathBuf>,
    /// Serve HTTP beyond loopback without any token (only when something in front of pipette authenticates).
    /// Without it, such an address is refused.
    #[arg(long, env = "PIPETTE_ALLOW_UNAUTHENTICATED", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_unauthenticated: bool,
    /// Extra browser origins allowed over HTTP (comma-separated, e.g. https://app.example.com).
    #[arg(long, env = "PIPETTE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Extra Host names allowed over HTTP besides localhost, 127.0.0.1 and ::1 (`name` or `name:port`,
    /// comma-separated); requests for any other Host get 403 on every path (DNS rebinding).
    #[arg(long, env = "PIPETTE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Close an HTTP connection whose request header is not complete this many milliseconds after it started
    /// (or after the connection opened).
    #[arg(long, env = "PIPETTE_HTTP_HEADER_TIMEOUT_MS", value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub http_header_timeout_ms: u64,
    /// Close an HTTP connection with nothing in flight after this many milliseconds without a request (an open
    /// SSE stream or a call being answered is never cut).
    #[arg(long, env = "PIPETTE_HTTP_IDLE_TIMEOUT_MS", value_name = "MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub http_idle_timeout_ms: u64,
    /// Open HTTP connections at most; beyond it, new connections wait (unaccepted) until one closes.
    #[arg(long, env = "PIPETTE_HTTP_MAX_CONNECTIONS", value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub http_max_connections: u32,
    /// Live MCP sessions over HTTP at most; a new session beyond it closes the one idle longest.
    #[arg(long, env = "PIPETTE_HTTP_MAX_SESSIONS", value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub http_max_sessions: u32,
    /// Bytes of SSE events kept for clients that resume a stream with `Last-Event-ID` (at most 1 MiB per
    /// stream).
    #[arg(long, env = "PIPETTE_HTTP_EVENT_BUFFER_BYTES", value_name = "BYTES", default_value_t = 8 << 20,
          value_parser = clap::value_parser!(u64).range(4096..))]
    pub http_event_buffer_bytes: u64,
    /// The toolsets MCP sessions list and may call, comma-separated: research, index, testing, jobs, cache,
    /// ops; `all` for every set, `default` for research (which also holds job_status and index_search).
    /// Sessions may add sets with the `toolset_enable` tool.
    #[arg(long, env = "PIPETTE_TOOLSETS", default_value = "default", value_name = "SETS")]
    pub toolsets: mcp_tools::Toolsets,
    /// Log filter for stderr (tracing's EnvFilter syntax).
    #[arg(long, env = "PIPETTE_LOG", default_value = "info")]
    pub log: String,
}

/// Starts logging: to stderr (stdout belongs to the stdio transport) through `filter`, and to the MCP
/// clients that asked for it (`logging/setLevel`), each at its own level.
pub fn init_logging(filter: &str) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // rmcp logs whole requests (tool arguments, secrets included) at debug: keep it at info unless the
    // filter names rmcp itself.
    let verbose = filter.contains("debug") || filter.contains("trace");
    let filter =
        if verbose && !filter.contains("rmcp") { format!("{filter},rmcp=info") } else { filter.to_owned() };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=info"));
    let stderr =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_filter(filter);
    let clients = logging::McpLogLayer.with_filter(logging::filter());
    let _ = tracing_subscriber::registry().with(stderr).with(clients).try_init();
}

/// Runs the server until the client goes away (stdio) or the process is stopped (HTTP).
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    init_logging(&args.log);
    let metrics = mcp_tools::MetricsExporter::install().map_err(anyhow::Error::msg)?;
    let mut config = mcp_tools::RouterConfig::from_env();
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    // The HTTP settings (tokens, lists, bind address) are checked before anything starts.
    let http = args.http.map(|addr| http::Config::from_args(addr, &args)).transpose()?;
    let router = mcp_tools::build_router(config, Some(metrics)).await.context("starting the router")?;
    tracing::info!(tools = router.registry().tools().len(), toolsets = %args.toolsets, "pipette-mcp ready");
    // Queued jobs on this data dir (detached calls, resumed jobs, jobs whose process died) run here too,
    // unless `PIPETTE_CLAIM_JOBS=0`. The consumer opens the job store after start-up, not during it.
    let stop_consumer = tokio_util::sync::CancellationToken::new();
    if std::env::var("PIPETTE_CLAIM_JOBS").map_or(true, |v| v.trim() != "0") {
        let consumer = router.clone();
        let stop = stop_consumer.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                () = stop.cancelled() => return,
            }
            consumer.serve_queue(mcp_tools::QueueFilter::default(), stop).await;
        });
    }
    let server = PipetteServer::new(router.clone()).with_toolsets(args.toolsets);
    tracing::debug!("start-up: server ready");
    let served = match http {
        Some(config) => http::serve(server, config).await,
        None => serve_stdio(server).await,
    };
    // Stopping (the client went away, Ctrl-C or SIGTERM): the jobs this process still runs go back to the
    // queue, for the next `pipette-mcp` or a `pipette worker` on the same job store to run — not lost.
    stop_consumer.cancel();
    let released = router.jobs().release_all();
    if released > 0 {
        tracing::info!(released, "stopping: the jobs still running here went back to the queue");
    }
    served
}

/// Serves one client over stdin/stdout until it goes away or the process is asked to stop.
async fn serve_stdio(server: PipetteServer) -> anyhow::Result<()> {
    // Every line passes the request guard first: rmcp never sees what it would drop unanswered.
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let transport = guard::GuardedStdio::new(stdin, stdout);
    let running = server.serve(transport).await.context("starting stdio")?;
    let cancel = running.cancellation_token();
    tokio::spawn(async move {
        let signal = mcp_tools::shutdown::signalled().await;
        tracing::info!("stopping: {signal}");
        cancel.cancel();
    });
    running.waiting().await.context("serving stdio")?;
    Ok(())
}
