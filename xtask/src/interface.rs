//! `cargo xtask bench interface`: what a client pays to learn pipette's tools. Spawns `pipette-mcp` over
//! stdio with a raw JSON-RPC client (initialize, then tools/list) for the default toolsets and for `all`,
//! and prints the bytes of each tools/list answer, the time from spawn to that answer and the idle RSS after
//! it. With `PIPETTE_BENCH_BIOMCP=<path to the biomcp binary>` (`pip download --no-deps biomcp-cli`; the wheel
//! holds it) BioMCP is measured the same way in the same run. Then, when the official Python MCP client is
//! installed (`pip install mcp`), `bench/client.py` measures a warm `trials_match` through it.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

const RUNS: usize = 11;

/// One spawn: the tools/list answer's size in bytes, its tool count, spawn → answer, and RSS (KiB) once idle.
fn measure(mut cmd: Command) -> anyhow::Result<(usize, usize, Duration, u64)> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the server")?;
    let result = (|| {
        let mut stdin = child.stdin.take().context("stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "xtask", "version": "1"}}});
        writeln!(stdin, "{init}")?;
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#)?;
        writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#)?;
        line.clear();
        stdout.read_line(&mut line)?;
        let elapsed = started.elapsed();
        let answer: serde_json::Value = serde_json::from_str(&line).context("tools/list answer")?;
        let Some(tools) = answer.pointer("/result/tools").and_then(|t| t.as_array()) else {
            bail!("tools/list failed: {line}");
        };
        std::thread::sleep(Duration::from_millis(300));
        let rss = rss_kib(child.id()).unwrap_or(0);
        Ok((line.trim_end().len(), tools.len(), elapsed, rss))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Median time and RSS of `RUNS` spawns, and the last answer's size and tool count.
fn row(name: &str, make: impl Fn() -> Command) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(RUNS);
    let mut rss = Vec::with_capacity(RUNS);
    let mut last = (0, 0);
    for _ in 0..RUNS {
        let (bytes, tools, elapsed, kib) = measure(make()).with_context(|| name.to_owned())?;
        last = (bytes, tools);
        times.push(elapsed);
        rss.push(kib);
    }
    times.sort();
    rss.sort();
    let median = times[RUNS / 2].as_secs_f64() * 1000.0;
    let mib = rss[RUNS / 2] as f64 / 1024.0;
    println!("| {name} | {} | {} | {median:.1} | {mib:.1} |", last.1, last.0);
    Ok(())
}

fn fixtures_dir(root: &Path) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PIPETTE_FIXTURES_DIR") {
        return Some(PathBuf::from(dir));
    }
    root.ancestors().map(|d| d.join("shared").join("fixtures")).find(|d| d.is_dir())
}

pub(crate) fn run(root: &Path, release: bool) -> anyhow::Result<()> {
    let mut build = vec!["build", "-p", "mcp-server", "--bin", "pipette-mcp"];
    if release {
        build.push("--release");
    }
    crate::run("cargo", &build)?;
    let bin = root.join("target").join(if release { "release" } else { "debug" }).join("pipette-mcp");
    let data_dir = std::env::temp_dir().join(format!("pipette-bench-interface-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    println!("| server | tools | tools/list bytes | spawn → tools/list ms (median of {RUNS}) | idle RSS MiB |");
    println!("|---|---|---|---|---|");
    for toolsets in ["default", "all"] {
        row(&format!("pipette ({toolsets})"), || {
            let mut c = Command::new(&bin);
            c.env("PIPETTE_TOOLSETS", toolsets).env("PIPETTE_DATA_DIR", &data_dir).env("PIPETTE_LOG", "error");
            c
        })?;
    }
    if let Some(biomcp) = std::env::var_os("PIPETTE_BENCH_BIOMCP") {
        let cache = data_dir.join("biomcp");
        row("BioMCP", || {
            let mut c = Command::new(&biomcp);
            c.arg("mcp").env("BIOMCP_CACHE_DIR", &cache);
            c
        })?;
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    client(root, &bin)
}

/// A warm `trials_match` through the official Python MCP client, when it is installed.
fn client(root: &Path, bin: &Path) -> anyhow::Result<()> {
    let has_client = Command::new("python3")
        .args(["-c", "import mcp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let Some(fixtures) = fixtures_dir(root) else {
        eprintln!("bench interface: recorded fixtures not found (PIPETTE_FIXTURES_DIR); Python client skipped");
        return Ok(());
    };
    if !has_client {
        eprintln!("bench interface: the Python MCP client is not installed (`pip install mcp`); skipped");
        return Ok(());
    }
    let script = root.join("xtask").join("bench").join("client.py");
    let mut args = vec![script.to_string_lossy().into_owned(), bin.to_string_lossy().into_owned()];
    if let Ok(biomcp) = std::env::var("PIPETTE_BENCH_BIOMCP") {
        args.push(biomcp);
    }
    let status = Command::new("python3").args(&args).env("PIPETTE_FIXTURES_DIR", fixtures).status()?;
    if !status.success() {
        bail!("the Python client benchmark failed");
    }
    Ok(())
}
