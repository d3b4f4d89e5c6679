//! The one way a pipette process learns it is asked to stop: Ctrl-C (SIGINT) or SIGTERM (what a service
//! manager, a container runtime or `kill` sends). `pipette-mcp` (stdio and HTTP) and `pipette worker` wait on
//! it, then give the jobs they still run back to the queue.

/// Waits until the process is asked to stop; answers which signal it was.
pub async fn signalled() -> &'static str {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term => "SIGTERM",
    }
}
