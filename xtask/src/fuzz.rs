//! `cargo xtask fuzz`: coverage-guided fuzzing of the parsers that read the outside world with libFuzzer on
//! the stable toolchain. The targets (`pipette-fuzz`) are built with rustc's own SanitizerCoverage pass
//! (`-Cpasses=sancov-module`, stable) and libFuzzer from `libfuzzer-sys` — no nightly, no cargo-fuzz, no
//! AddressSanitizer (safe Rust: a crash is a panic, an abort, a hang or runaway memory). `--target` keeps
//! the instrumented build in `target/<host>/`, apart from the ordinary one. Seeds are read in place (the
//! recorded fixtures, core-testing's testdata, fuzz/seeds); a crash is copied to fuzz/regressions/<target>/,
//! where the pipette-fuzz tests run it from then on.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

const USAGE: &str =
    "usage: cargo xtask fuzz [--seconds N] [--target NAME]... (default: 60 s for each target)";

/// The instrumentation cargo-fuzz uses, minus its sanitizer (which needs nightly).
const RUSTFLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
                         -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
                         -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
                         --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut seconds = 60u64;
    let mut only: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let n = it.next().context(USAGE)?;
                seconds = n.parse().with_context(|| format!("--seconds: `{n}` is not a whole number"))?;
            }
            "--target" => only.push(it.next().context(USAGE)?.clone()),
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let targets: Vec<_> = pipette_fuzz::TARGETS
        .iter()
        .filter(|t| only.is_empty() || only.iter().any(|o| o == t.name))
        .collect();
    if targets.is_empty() {
        let names: Vec<_> = pipette_fuzz::TARGETS.iter().map(|t| t.name).collect();
        bail!("no such target: {}; the targets are {}", only.join(", "), names.join(", "));
    }
    let host = host_triple()?;
    eprintln!("fuzz: building the instrumented targets for {host} (the first build takes minutes)");
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            &host,
            "-p",
            "pipette-fuzz",
            "--features",
            "libfuzzer",
            "--bins",
        ])
        .current_dir(root)
        .env("RUSTFLAGS", RUSTFLAGS)
        // A fuzz build wants speed to build and checks on: no LTO, debug assertions.
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_STRIP", "none")
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building the fuzz targets failed ({status})");
    }
    let bins = root.join("target").join(&host).join("release");
    let fixtures = pipette_test_support::fixtures_dir();
    let work = root.join("target").join("fuzz");
    let mut crashes = Vec::new();
    for target in targets {
        let corpus = work.join("corpus").join(target.name);
        let artifacts = work.join("artifacts").join(target.name);
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&artifacts)?;
        let regressions = target.regressions(root);
        let mut dirs: Vec<PathBuf> = vec![corpus.clone()];
        dirs.extend(target.seed_dirs(root, &fixtures).into_iter().filter(|d| d.is_dir()));
        if regressions.is_dir() {
            dirs.push(regressions.clone());
        }
        let log = work.join(format!("{}.log", target.name));
        let before = files(&artifacts);
        let mut cmd = Command::new(bins.join(target.bin()));
        cmd.args(&dirs)
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args(["-max_len=262144", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"])
            .stderr(std::fs::File::create(&log)?)
            .stdout(std::process::Stdio::null());
        eprintln!("fuzz: {} for {seconds} s (log: {})", target.name, log.display());
        let status = cmd.status().with_context(|| format!("cannot run {}", target.bin()))?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        eprintln!("fuzz: {}: {}", target.name, summary(&text));
        let found: Vec<PathBuf> = files(&artifacts).into_iter().filter(|f| !before.contains(f)).collect();
        if !status.success() || !found.is_empty() {
            std::fs::create_dir_all(&regressions)?;
            for f in &found {
                let keep = regressions.join(f.file_name().unwrap_or_default());
                std::fs::copy(f, &keep)?;
                crashes.push(format!("{} ({})", keep.display(), target.name));
            }
            if found.is_empty() {
                crashes.push(format!("{} exited with {status}; see {}", target.name, log.display()));
            }
        }
    }
    if !crashes.is_empty() {
        bail!(
            "the fuzzer found {} crash(es), kept as regression inputs (commit them; `cargo nextest run -p \
             pipette-fuzz` runs them): {}",
            crashes.len(),
            crashes.join(", ")
        );
    }
    Ok(())
}

fn host_triple() -> anyhow::Result<String> {
    let out = Command::new("rustc").arg("-vV").output().context("cannot run rustc")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("rustc -vV names no host")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default()
}

/// The runs, coverage and corpus from libFuzzer's last status line (`#N DONE cov: … ft: … corp: …`).
fn summary(log: &str) -> String {
    let last = log.lines().rev().find(|l| l.starts_with('#') && l.contains("cov:"));
    let runs = log.lines().find_map(|l| l.strip_prefix("stat::number_of_executed_units:")).map(str::trim);
    match (last, runs) {
        (Some(line), Some(runs)) => {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let field = |name: &str| {
                fields.iter().position(|f| *f == name).and_then(|i| fields.get(i + 1)).copied().unwrap_or("?")
            };
            format!(
                "{runs} runs, coverage {} edges, {} features, corpus {}",
                field("cov:"),
                field("ft:"),
                field("corp:")
            )
        }
        _ => "no final statistics (see the log)".to_owned(),
    }
}
