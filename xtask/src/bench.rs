//! `cargo xtask bench`: runs each area's benchmark in release mode and prints its table.

use std::path::Path;

use anyhow::bail;

/// (area, package, example)
const AREAS: &[(&str, &str, &str)] = &[
    ("router", "pipette-tests", "bench_server"),
    ("research", "core-scrapers", "bench_parse"),
    ("research", "core-scrapers", "bench_match"),
    ("results", "core-scrapers", "bench_results"),
    ("index", "core-indexing", "bench_index"),
    ("testing", "core-testing", "bench_testing"),
];

pub(crate) fn run(root: &Path, areas: &[String]) -> anyhow::Result<()> {
    let known: Vec<&str> = AREAS.iter().map(|a| a.0).collect();
    if let Some(bad) = areas.iter().find(|a| !known.contains(&a.as_str())) {
        bail!("unknown benchmark area `{bad}`; expected one of: router, research, results, index, testing");
    }
    let _ = root;
    for (area, package, example) in AREAS {
        if !areas.is_empty() && !areas.iter().any(|a| a == area) {
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
