//! Tidy checks: wrapper files stay small, core crates know nothing of MCP, every file says what it is for, no
//! crate declares a dependency it does not use.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

const WRAPPER_MAX_LINES: usize = 150;
const CORES: &[&str] = &["core-cache", "core-scrapers", "core-indexing", "core-testing"];
const FORBIDDEN_FOR_CORES: &[&str] = &["rmcp", "mcp-tools", "mcp-server", "tool-metadata"];

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    wrappers_are_small(root, &mut problems)?;
    cores_know_nothing_of_mcp(root, &mut problems)?;
    faces_stay_faces(root, &mut problems)?;
    files_open_with_a_doc_line(root, &mut problems)?;
    no_unused_dependencies(root, &mut problems)?;
    if problems.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    for p in &problems {
        eprintln!("tidy: {p}");
    }
    bail!("{} tidy problem(s)", problems.len())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // Build output, fixture projects and trybuild cases are not pipette's own modules.
            if !matches!(name.as_str(), "target" | "fixtures" | "ui" | ".git" | "node_modules")
                && !name.starts_with('.')
            {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn wrappers_are_small(root: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    let mut files = Vec::new();
    rust_files(&root.join("crates/mcp-tools/src/tools"), &mut files);
    if files.is_empty() {
        bail!("no tool files under crates/mcp-tools/src/tools");
    }
    for f in files {
        let lines = std::fs::read_to_string(&f)?.lines().count();
        if lines >= WRAPPER_MAX_LINES {
            problems.push(format!(
                "{} has {lines} lines; a wrapper file stays under {WRAPPER_MAX_LINES} (move logic into a core crate)",
                f.display()
            ));
        }
    }
    Ok(())
}

/// The packages `krate` depends on (normal and build edges, transitively).
fn deps_of(root: &Path, krate: &str) -> anyhow::Result<Vec<String>> {
    let out = Command::new("cargo")
        .args([
            "tree",
            "--quiet",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "-p",
            krate,
        ])
        .current_dir(root)
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    Ok(tree.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect())
}

fn cores_know_nothing_of_mcp(root: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    for core in CORES {
        for dep in deps_of(root, core)? {
            if FORBIDDEN_FOR_CORES.contains(&dep.as_str()) {
                problems.push(format!(
                    "{core} depends on {dep}: core crates know nothing of MCP or the tools layer"
                ));
            }
        }
    }
    Ok(())
}

/// The HTTP API is a face over the tools layer: it speaks no MCP, and the tools layer never depends on it.
fn faces_stay_faces(root: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    for (krate, forbidden, why) in [
        ("pipette-api", "rmcp", "the HTTP API speaks HTTP, not MCP"),
        ("mcp-tools", "pipette-api", "the tools layer knows nothing of its faces"),
    ] {
        if deps_of(root, krate)?.iter().any(|d| d == forbidden) {
            problems.push(format!("{krate} depends on {forbidden}: {why}"));
        }
    }
    Ok(())
}

fn files_open_with_a_doc_line(root: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{} does not open with a `//!` line saying what it is for", f.display()));
        }
    }
    Ok(())
}

/// `cargo machete` finds no declared dependency that a crate does not use (a dependency only generated code
/// names is listed under `[package.metadata.cargo-machete] ignored` in its manifest, with the reason).
fn no_unused_dependencies(root: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    // Run as `cargo-machete` itself: with `CARGO` set (as under `cargo xtask`) it would expect `cargo machete`'s
    // extra first argument.
    let machete = || {
        let mut cmd = Command::new("cargo-machete");
        cmd.env_remove("CARGO").current_dir(root);
        cmd
    };
    let installed = machete().arg("--version").output();
    if !installed.is_ok_and(|o| o.status.success()) {
        bail!("cargo-machete is not installed: `cargo install cargo-machete --locked` (.ci/run installs it)");
    }
    let out = machete().arg("--skip-target-dir").output().context("running cargo-machete")?;
    if !out.status.success() {
        let report = String::from_utf8_lossy(&out.stdout);
        // The crates and their unused dependencies: the lines after the heading, up to the advice.
        let unused: Vec<&str> = report
            .lines()
            .skip_while(|l| !l.contains("unused dependencies"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        problems.push(format!(
            "unused dependencies (remove them, or list one only generated code names under \
             [package.metadata.cargo-machete] ignored):\n{}",
            unused.join("\n")
        ));
    }
    Ok(())
}
