//! `cargo xtask bench`: runs each area's benchmark in release mode and prints its table; `interface` measures
//! tools/list itself (see `interface.rs`).

use std::path::Path;

use anyhow::bail;

/// (area, package, example)
const AREAS: &[(&str, &str, &str)] = &[
    ("router", "pipette-tests", "bench_server"),
    ("api", "pipette-tests", "bench_api"),
    ("memory", "pipette-tests", "bench_memory"),
    ("queue", "pipette-tests", "bench_queue"),
    ("queue", "core-scrapers", "bench_limits"),
    ("reliability", "pipette-tests", "bench_reliability"),
    ("workflow", "pipette-tests", "bench_workflow"),
    ("research", "core-scrapers", "bench_parse"),
    ("research", "core-scrapers", "bench_match"),
    ("fulltext", "core-scrapers", "bench_fulltext"),
    ("results", "core-scrapers", "bench_results"),
    ("trials-results", "core-scrapers", "bench_trials_results"),
    ("index", "core-indexing", "bench_index"),
    ("testing", "core-testing", "bench_testing"),
];

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let debug = args.iter().any(|a| a == "--debug");
    let areas: Vec<&String> = args.iter().filter(|a| a.as_str() != "--debug").collect();
    let known: Vec<&str> = AREAS.iter().map(|a| a.0).chain(["interface"]).collect();
    if let Some(bad) = areas.iter().find(|a| !known.contains(&a.as_str())) {
        bail!(
            "unknown benchmark area `{bad}`; expected one of: router, api, memory, queue, reliability, workflow, research, fulltext, results, trials-results, index, testing, interface"
        );
    }
    if areas.is_empty() || areas.iter().any(|a| a.as_str() == "interface") {
        eprintln!("\n## bench interface: pipette-mcp tools/list");
        crate::interface::run(root, !debug)?;
    }
    for (area, package, example) in AREAS {
        if !areas.is_empty() && !areas.iter().any(|a| a.as_str() == *area) {
            continue;
        }
        let manifest = root.join(match *package {
            "pipette-tests" => "tests/examples",
            "core-scrapers" => "crates/core-scrapers/examples",
            "core-indexing" => "crates/core-indexing/examples",
            _ => "crates/core-testing/examples",
        });
        if !manifest.join(format!("{example}.rs")).exists() {
            eprintln!("bench {area}: {example} not present yet; skipped");
            continue;
        }
        eprintln!("\n## bench {area}: {package} {example}");
        if *area == "fulltext" {
            // Parsers only: no release build of the workspace's binaries needed.
            crate::run("cargo", &["run", "--release", "--quiet", "-p", package, "--example", example])?;
            continue;
        }
        if *area == "results" {
            // Byte counts: no release build of the workspace needed.
            crate::run("cargo", &["run", "--quiet", "-p", package, "--example", example])?;
            continue;
        }
        crate::run("cargo", &["build", "--release", "--workspace", "--bins"])?;
        crate::run("cargo", &["run", "--release", "--quiet", "-p", package, "--example", example])?;
    }
    Ok(())
}
