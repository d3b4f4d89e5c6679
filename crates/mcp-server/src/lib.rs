//! pipette-mcp: the MCP server over stdio and streamable HTTP. The only crate that speaks the protocol.

mod bridge;
mod completion;
mod events;
mod handler;
mod http;
mod logging;
mod prompts;
mod resources;
mod streams;
mod tasks;
mod toolsets;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use rmcp::ServiceExt as _;

pub use handler::PipetteServer;

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
    /// Require `Authorization: Bearer TOKEN` on every HTTP request.
    #[arg(long, env = "PIPETTE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Extra browser origins allowed over HTTP (comma-separated, e.g. https://app.example.com).
    #[arg(long, env = "PIPETTE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Extra Host names allowed over HTTP when binding beyond loopback (comma-separated).
    #[arg(long, env = "PIPETTE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// The toolsets MCP sessions list and may call, comma-separated: research, index, testing, jobs, cache,
    /// ops; `all` for every set, `default` for research (which also holds job_status and index_search). Sessions may add sets with the `toolset_enable` tool.
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
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
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
    let router = mcp_tools::build_router(config, Some(metrics)).await.context("starting the router")?;
    tracing::info!(tools = router.registry().tools().len(), toolsets = %args.toolsets, "pipette-mcp ready");
    let server = PipetteServer::new(router).with_toolsets(args.toolsets);
    match args.http {
        Some(addr) => http::serve(server, addr, &args).await,
        None => {
            let running = server.serve(rmcp::transport::stdio()).await.context("starting stdio")?;
            running.waiting().await.context("serving stdio")?;
            Ok(())
        }
    }
}
