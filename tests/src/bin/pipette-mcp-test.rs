//! pipette-mcp-test: the real `pipette-mcp` server plus the test-only fixture tools.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    pipette_tests::link();
    match mcp_server::run(mcp_server::ServerArgs::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("pipette-mcp-test: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
