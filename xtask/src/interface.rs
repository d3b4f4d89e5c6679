//! `cargo xtask bench interface`: what a client pays to learn pipette's tools. Spawns `pipette-mcp` over
//! stdio with a raw JSON-RPC client (initialize, then tools/list) for the default toolsets and for `all`,
//! and prints the bytes of each tools/list answer and the time from spawn to that answer.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

const RUNS: usize = 7;
const SELECTIONS: [&str; 2] = ["default", "all"];

/// One spawn: the tools/list answer's size in bytes, its tool count, and spawn → answer.
fn measure(bin: &Path, toolsets: &str, data_dir: &Path) -> anyhow::Result<(usize, usize, Duration)> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("PIPETTE_TOOLSETS", toolsets)
        .env("PIPETTE_DATA_DIR", data_dir)
        .env("PIPETTE_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
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
        Ok((line.trim_end().len(), tools.len(), elapsed))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
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
    println!("| toolsets | tools | tools/list bytes | spawn → tools/list ms (median of {RUNS}) |");
    println!("|---|---|---|---|");
    for toolsets in SELECTIONS {
        let mut times = Vec::with_capacity(RUNS);
        let mut last = (0, 0);
        for _ in 0..RUNS {
            let (bytes, tools, elapsed) = measure(&bin, toolsets, &data_dir)?;
            last = (bytes, tools);
            times.push(elapsed);
        }
        times.sort();
        let median = times[RUNS / 2].as_secs_f64() * 1000.0;
        println!("| {toolsets} | {} | {} | {median:.0} |", last.1, last.0);
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
