//! What the release benchmarks in `examples/` share: finding the release binaries and reading a process's RSS.

use std::path::PathBuf;

/// A release binary of this workspace, beside the running example (`target/release/examples/x` →
/// `target/release/<name>`).
///
/// # Panics
/// When it is missing: `cargo build --release --workspace --bins` first (`cargo xtask bench` does).
pub fn release_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: cargo build --release --workspace --bins", path.display());
    path
}

/// The resident set size of process `pid` in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Starts the release `pipette-mcp-test --http` on a free local port with its data in `data_dir`, and waits
/// until it accepts connections; answers the process (killed on drop) and its base URL.
///
/// # Panics
/// When the binary is missing or cannot be started.
pub async fn http_server(data_dir: &std::path::Path) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port");
    #[allow(clippy::disallowed_methods)] // a benchmark starts the real server
    let child = tokio::process::Command::new(release_bin("pipette-mcp-test"))
        .args(["--http", &format!("127.0.0.1:{port}")])
        .env("PIPETTE_DATA_DIR", data_dir)
        .env("PIPETTE_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("start pipette-mcp-test --http");
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (child, format!("http://127.0.0.1:{port}"))
}
