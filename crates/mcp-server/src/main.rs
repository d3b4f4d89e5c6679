//! pipette-mcp: the MCP server binary (stdio by default, streamable HTTP with `--http`).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = mcp_server::ServerArgs::parse();
    match mcp_server::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            #[allow(clippy::print_stderr)] // the logger may not be up yet
            {
                eprintln!("pipette-mcp: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
