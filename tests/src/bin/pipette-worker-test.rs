//! pipette-worker-test: the real `pipette worker` loop plus the test-only fixture tools, on the data dir of
//! `PIPETTE_DATA_DIR`, until SIGTERM.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    pipette_tests::link();
    let config = mcp_tools::RouterConfig::from_env();
    let router = match mcp_tools::build_router(config, None).await {
        Ok(r) => r,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("pipette-worker-test: {}", e.message);
            }
            return std::process::ExitCode::FAILURE;
        }
    };
    let concurrency =
        std::env::var("PIPETTE_WORKER_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let filter = mcp_tools::QueueFilter { concurrency, ..Default::default() };
    let stop = tokio_util::sync::CancellationToken::new();
    let signals = stop.clone();
    tokio::spawn(async move {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
        }
        signals.cancel();
    });
    tracing::info!(pid = std::process::id(), "pipette-worker-test ready");
    router.serve_queue(filter, stop).await;
    std::process::ExitCode::SUCCESS
}
