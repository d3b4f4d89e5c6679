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
