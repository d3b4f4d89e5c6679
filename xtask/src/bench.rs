//! `cargo xtask bench`: runs each area's benchmark in release mode and prints its table.

use std::path::Path;

use anyhow::bail;

/// (area, package, example)
const AREAS: &[(&str, &str, &str)] = &[
    ("router", "pipette-tests", "bench_server"),
    ("research", "core-scrapers", "bench_parse"),
    ("research", "core-scrapers", "bench_match"),
    ("trials-results", "core-scrapers", "bench_trials_results"),
    ("index", "core-indexing", "bench_index"),
    ("testing", "core-testing", "bench_testing"),
];

pub(crate) fn run(root: &Path, areas: &[String]) -> anyhow::Result<()> {
    let mut known: Vec<&str> = AREAS.iter().map(|a| a.0).collect();
    known.dedup();
    if let Some(bad) = areas.iter().find(|a| !known.contains(&a.as_str())) {
        bail!("unknown benchmark area `{bad}`; expected one of: {}", known.join(", "));
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
        crate::run("cargo", &["build", "--release", "--workspace", "--bins"])?;
        crate::run("cargo", &["run", "--release", "--quiet", "-p", package, "--example", example])?;
    }
    Ok(())
}
