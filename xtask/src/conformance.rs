//! `cargo xtask conformance`: the official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! every server scenario: `--suite all`, both protocol eras — 2025-11-25 sessions and 2026-07-28 stateless
//! requests — and the tasks extension) against `pipette-mcp --http` built with the `conformance` feature
//! (its fixture tools, resources and prompts). Fails on any failure not listed in
//! `.ci/conformance-expected-failures.yml`; warnings (SHOULDs) are printed.
//!
//! The 0.1.16 run it replaced is gone: 0.2.0-alpha.12 has all 32 of its server scenarios.
//!
//! `--release-plain` runs it against the release build without the feature instead, and only reports:
//! which scenarios stay meaningful without the fixtures.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{root, run};

/// The suite's version, pinned: its scenarios are the contract.
const SUITE: &str = "@modelcontextprotocol/conformance@0.2.0-alpha.12";
/// The suite needs Node ≥ 22, installed from the npm registry as a package.
const NODE: &str = "node@22";

/// Installs Node 22 and the suite into `.ci/node` unless they are there; returns the `.bin` directory.
fn install(root: &Path) -> anyhow::Result<PathBuf> {
    let prefix = root.join(".ci/node");
    let bin = prefix.join("node_modules/.bin");
    let manifest = prefix.join("node_modules/@modelcontextprotocol/conformance/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
        .and_then(|m| m["version"].as_str().map(str::to_owned));
    let pinned = SUITE.rsplit('@').next().unwrap_or_default();
    if installed.as_deref() == Some(pinned) && bin.join("conformance").exists() && bin.join("node").exists() {
        return Ok(bin);
    }
    let prefix_arg = prefix.to_string_lossy().into_owned();
    run("npm", &["install", "--no-audit", "--no-fund", "--prefix", &prefix_arg, NODE, SUITE])?;
    Ok(bin)
}

/// Kills the server when dropped, whatever happens in between.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) data_dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `GET /health` answered 200.
pub(crate) fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut reply = String::new();
    s.write_all(request.as_bytes()).is_ok()
        && s.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

fn start(binary: &Path, root: &Path) -> anyhow::Result<(Server, u16)> {
    let port = free_port()?;
    let data_dir = std::env::temp_dir().join(format!("pipette-conformance-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let log = std::fs::File::create(root.join("target/conformance/server.log"))?;
    let child = Command::new(binary)
        .args(["--http", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut server = Server { child, data_dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(port) {
        if let Some(status) = server.child.try_wait()? {
            bail!("pipette-mcp exited at start ({status}); see target/conformance/server.log");
        }
        if Instant::now() > deadline {
            bail!("pipette-mcp did not answer /health within 60 s; see target/conformance/server.log");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((server, port))
}

/// Prints every check that did not succeed, from the suite's per-scenario `checks.json`.
fn print_problems(results: &Path) {
    let Ok(dirs) = std::fs::read_dir(results) else { return };
    for dir in dirs.flatten() {
        let Ok(text) = std::fs::read_to_string(dir.path().join("checks.json")) else { continue };
        let Ok(serde_json::Value::Array(checks)) = serde_json::from_str(&text) else { continue };
        for c in checks.iter().filter(|c| matches!(c["status"].as_str(), Some("FAILURE" | "WARNING"))) {
            println!(
                "  {} {} [{}]: {}",
                c["status"].as_str().unwrap_or_default(),
                c["name"].as_str().unwrap_or_default(),
                dir.file_name().to_string_lossy(),
                c["errorMessage"].as_str().unwrap_or_default()
            );
        }
    }
}

/// Runs the whole suite (active and pending scenarios) against `binary`; Ok(true) when it passed.
fn suite(binary: &Path, root: &Path, bin: &Path, expected_failures: bool) -> anyhow::Result<bool> {
    let out = root.join("target/conformance");
    let results = out.join("results");
    let _ = std::fs::remove_dir_all(&results);
    std::fs::create_dir_all(&results)?;
    let (server, port) = start(binary, root)?;
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )?;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut args = vec!["server", "--url", &url, "--suite", "all", "-o"];
    let results_arg = results.to_string_lossy().into_owned();
    args.push(&results_arg);
    let expected = root.join(".ci/conformance-expected-failures.yml").to_string_lossy().into_owned();
    if expected_failures {
        args.extend(["--expected-failures", &expected]);
    }
    eprintln!("$ conformance {}", args.join(" "));
    let output = Command::new(bin.join("conformance"))
        .args(&args)
        .env("PATH", path)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .context("cannot run the conformance suite")?;
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout);
    std::fs::write(out.join("suite.log"), [output.stdout.as_slice(), output.stderr.as_slice()].concat())?;
    match stdout.find("=== SUMMARY ===") {
        Some(at) => println!("{}", &stdout[at..]),
        None => println!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr)),
    }
    print_problems(&results);
    println!("(full log: target/conformance/suite.log; server log: target/conformance/server.log)");
    Ok(output.status.success())
}

pub(crate) fn run_suite(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    let bin = install(&root)?;
    std::fs::create_dir_all(root.join("target/conformance"))?;
    if args.iter().any(|a| a == "--release-plain") {
        // The production build, without the fixtures: reported, never failing.
        run("cargo", &["build", "--release", "-p", "mcp-server", "--bin", "pipette-mcp"])?;
        let passed = suite(&root.join("target/release/pipette-mcp"), &root, &bin, false)?;
        println!("release build without fixtures: {}", if passed { "all passed" } else { "see above" });
        return Ok(());
    }
    // Built after the tests, into the same target directory; the copy runs while the plain binary is
    // put back at once (both builds stay cached, so switching is a re-link), so the tests never see
    // the fixtures.
    run("cargo", &["build", "-p", "mcp-server", "--bin", "pipette-mcp", "--features", "conformance"])?;
    let binary = root.join("target/conformance/pipette-mcp");
    std::fs::copy(root.join("target/debug/pipette-mcp"), &binary).context("copying the conformance build")?;
    run("cargo", &["build", "-p", "mcp-server", "--bin", "pipette-mcp"])?;
    if !suite(&binary, &root, &bin, true)? {
        bail!("the MCP conformance suite failed");
    }
    Ok(())
}
