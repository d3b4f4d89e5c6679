//! `pipette worker`: runs the queued jobs of the data dir (detached calls, resumed jobs, jobs whose process
//! died) through the same router as the server, until stopped.

use mcp_tools::{QueueFilter, Router};
use tokio_util::sync::CancellationToken;

/// What a worker takes.
#[derive(clap::Args, Debug)]
pub(crate) struct WorkerArgs {
    /// Only tools of these runtimes (async, blocking, process); repeat or separate with `,`. Default: all.
    /// A worker node for test runs: `--runtime process`.
    #[arg(long = "runtime", value_delimiter = ',', value_name = "RUNTIME")]
    runtimes: Vec<String>,
    /// Only tools of these categories (research, indexing, testing, jobs, cache, …); repeat or separate
    /// with `,`. Default: all.
    #[arg(long = "category", value_delimiter = ',', value_name = "CATEGORY")]
    categories: Vec<String>,
    /// Jobs run at once.
    #[arg(long, default_value_t = 4, env = "PIPETTE_WORKER_CONCURRENCY")]
    concurrency: usize,
}

/// Runs the worker until Ctrl-C or SIGTERM; the jobs still running then go back to the queue for another
/// consumer.
pub(crate) async fn run(router: &Router, args: WorkerArgs) -> anyhow::Result<()> {
    let filter = QueueFilter::parse(&args.runtimes, &args.categories, args.concurrency)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let stop = CancellationToken::new();
    let signals = stop.clone();
    tokio::spawn(async move {
        let signal = mcp_tools::shutdown::signalled().await;
        tracing::info!("stopping: {signal}");
        signals.cancel();
    });
    tracing::info!(pid = std::process::id(), "pipette worker ready");
    router.serve_queue(filter, stop).await;
    Ok(())
}
