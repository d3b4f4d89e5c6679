//! Benchmark of core-testing: overhead over running the tool directly (pytest and cargo test on
//! the fixture projects) and parse throughput on synthetic outputs of 10,000 tests.
//!
//! Run with `cargo run --release -p core-testing --example bench_testing`.
//! Targets: at most 5 % overhead; at least 100,000 parsed tests per second.
#![allow(clippy::print_stdout, reason = "the benchmark's report is its output")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use core_testing::parse::{parse_junit, parse_libtest};
use core_testing::process::ChildSpec;
use core_testing::{AllowedRoots, Config, RunnerKind, RunnerSelection, TestRunRequest, Testing};

const ROUNDS: usize = 20;
const SYNTHETIC_TESTS: usize = 10_000;

#[tokio::main]
async fn main() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let root = scratch.path().canonicalize()?;
    let testing = Testing::new(Config {
        allowed_roots: AllowedRoots::new([&root])?,
        state_dir: root.join("state"),
        ..Config::default()
    });
    let target = root.join("cargo-target");

    println!("core-testing benchmark ({ROUNDS} rounds each, wall time)\n");

    // pytest: the runner's own command run directly, and a plain `pytest -q`, vs the runner.
    let py = copy_fixture("python-project", &root.join("python-project"))?;
    let junit = root.join("direct-junit.xml");
    let same_argv: Vec<String> =
        ["python3", "-m", "pytest", "-v", "--continue-on-collection-errors", "-o", "junit_family=xunit1"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("--junitxml={}", junit.display())])
            .collect();
    let plain: Vec<String> = ["python3", "-m", "pytest", "-q"].iter().map(|s| s.to_string()).collect();
    let mut request = TestRunRequest::new(&py);
    request.runners = RunnerSelection::List(vec![RunnerKind::Pytest]);
    let pytest = compare(&testing, &request, &py, &same_argv, &[]).await?;
    report("pytest (same argv)", &pytest);
    let plain_time = median_direct(&py, &plain, &[])?;
    println!(
        "{:<22} median: direct {:>6.1} ms (for reference: pytest without -v and JUnit)",
        "pytest (plain -q)",
        plain_time.as_secs_f64() * 1000.0
    );

    // cargo test on a prebuilt fixture.
    let rs = copy_fixture("rust-project", &root.join("rust-project"))?;
    let env = [("CARGO_TARGET_DIR".to_string(), target.display().to_string())];
    let argv: Vec<String> =
        ["cargo", "test", "--no-fail-fast", "--workspace"].iter().map(|s| s.to_string()).collect();
    run_direct(&rs, &argv, &env)?; // build once
    let mut request = TestRunRequest::new(&rs);
    request.runners = RunnerSelection::List(vec![RunnerKind::CargoTest]);
    request.env = env.iter().cloned().collect();
    let cargo = compare(&testing, &request, &rs, &argv, &env).await?;
    report("cargo test (prebuilt)", &cargo);

    // Parse throughput.
    println!();
    let libtest = synthetic_libtest(SYNTHETIC_TESTS);
    let rate = throughput(|| {
        let out = parse_libtest(libtest.as_bytes())?;
        anyhow::ensure!(out.tests.len() == SYNTHETIC_TESTS, "parsed {}", out.tests.len());
        Ok(())
    })?;
    println!(
        "parse libtest output, {SYNTHETIC_TESTS} tests ({} KiB): {rate:>12.0} tests/s  {}",
        libtest.len() / 1024,
        verdict(rate >= 100_000.0)
    );
    let junit = synthetic_junit(SYNTHETIC_TESTS);
    let rate = throughput(|| {
        let report = parse_junit(junit.as_bytes())?;
        let n: usize = report.suites.iter().map(|s| s.cases.len()).sum();
        anyhow::ensure!(n == SYNTHETIC_TESTS, "parsed {n}");
        Ok(())
    })?;
    println!(
        "parse JUnit XML,       {SYNTHETIC_TESTS} tests ({} KiB): {rate:>12.0} tests/s  {}",
        junit.len() / 1024,
        verdict(rate >= 100_000.0)
    );
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "BELOW TARGET" }
}

/// Timings of one comparison.
struct Comparison {
    direct: Duration,
    runner: Duration,
    direct_best: Duration,
    runner_best: Duration,
    /// The child's own wall time, as the runner measured it.
    child: Duration,
    /// Median over rounds of runner / direct − 1 (each round runs both, back to back).
    paired: f64,
}

/// Prints one comparison. The headline overhead compares the best runs (the least disturbed by
/// other load on the machine); the medians and the paired ratio follow. The runner's own work
/// outside the child (detection, report parsing, state) is printed too, as time and as a share
/// of the child's time: that is the part the runner adds by construction.
fn report(label: &str, c: &Comparison) {
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64() - 1.0;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let best = ratio(c.runner_best, c.direct_best);
    let own = c.runner.saturating_sub(c.child);
    println!(
        "{label:<22} best: direct {:>6.1} ms, runner {:>6.1} ms, overhead {:>+5.1} %  {}",
        ms(c.direct_best),
        ms(c.runner_best),
        best * 100.0,
        verdict(best <= 0.05),
    );
    println!(
        "{:<22} median: direct {:>6.1} ms, runner {:>6.1} ms, {:>+5.1} % (paired {:>+5.1} %); \
         runner's own work outside the child {:.1} ms = {:.1} % of the child's time",
        "",
        ms(c.direct),
        ms(c.runner),
        ratio(c.runner, c.direct) * 100.0,
        c.paired * 100.0,
        ms(own),
        own.as_secs_f64() / c.child.as_secs_f64() * 100.0
    );
}

/// Alternates direct runs and runner runs (after one warm-up each).
async fn compare(
    testing: &Testing,
    request: &TestRunRequest,
    dir: &Path,
    argv: &[String],
    env: &[(String, String)],
) -> Result<Comparison> {
    run_direct(dir, argv, env)?;
    testing.run(request, &|_, _, _| {}).await?;
    let mut direct = Vec::new();
    let mut runner = Vec::new();
    let mut child = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..ROUNDS {
        let d = run_direct(dir, argv, env)?;
        let started = Instant::now();
        let report = testing.run(request, &|_, _, _| {}).await?;
        let r = started.elapsed();
        if report.summary.counts.total == 0 {
            bail!("the runner ran no tests: {report:#?}");
        }
        direct.push(d);
        runner.push(r);
        child.push(Duration::from_millis(report.results[0].duration_ms));
        ratios.push(r.as_secs_f64() / d.as_secs_f64() - 1.0);
    }
    ratios.sort_by(f64::total_cmp);
    Ok(Comparison {
        direct_best: direct.iter().copied().min().unwrap_or_default(),
        runner_best: runner.iter().copied().min().unwrap_or_default(),
        direct: median(direct),
        runner: median(runner),
        child: median(child),
        paired: ratios[ratios.len() / 2],
    })
}

fn median_direct(dir: &Path, argv: &[String], env: &[(String, String)]) -> Result<Duration> {
    run_direct(dir, argv, env)?;
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        times.push(run_direct(dir, argv, env)?);
    }
    Ok(median(times))
}

/// The baseline: the tool started directly with std, output captured, nothing parsed. It gets
/// the same environment the runner gives its children (the safe set plus `env`), so only the
/// runner's own work differs.
#[allow(
    clippy::disallowed_methods,
    reason = "the benchmark's baseline runs the tool without core-testing's process constructor"
)]
fn run_direct(dir: &Path, argv: &[String], env: &[(String, String)]) -> Result<Duration> {
    let roots = AllowedRoots::new([dir])?;
    let environment =
        ChildSpec::new(argv[0].clone(), dir, &roots)?.envs(env.iter().cloned()).environment()?;
    let started = Instant::now();
    let output = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(environment)
        .output()
        .with_context(|| format!("running {argv:?}"))?;
    let elapsed = started.elapsed();
    if output.stdout.is_empty() && output.stderr.is_empty() {
        bail!("{argv:?} printed nothing");
    }
    Ok(elapsed)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Tests per second over repeated parses (at least 20 runs or one second).
fn throughput(mut parse: impl FnMut() -> Result<()>) -> Result<f64> {
    parse()?;
    let started = Instant::now();
    let mut runs = 0u32;
    while runs < 20 || started.elapsed() < Duration::from_secs(1) {
        parse()?;
        runs += 1;
    }
    Ok(f64::from(runs) * SYNTHETIC_TESTS as f64 / started.elapsed().as_secs_f64())
}

/// libtest output of `n` tests over ten binaries; one in 100 fails with a panic.
fn synthetic_libtest(n: usize) -> String {
    let mut out = String::new();
    let binaries = 10;
    let per = n / binaries;
    for b in 0..binaries {
        let _ =
            writeln!(out, "     Running tests/suite_{b}.rs (target/debug/deps/suite_{b}-0123456789abcdef)\n");
        let _ = writeln!(out, "running {per} tests");
        let mut failed = Vec::new();
        for t in 0..per {
            let name = format!("module_{}::tests::case_{t}", t % 17);
            if t % 100 == 99 {
                let _ = writeln!(out, "test {name} ... FAILED");
                failed.push(name);
            } else if t % 50 == 7 {
                let _ = writeln!(out, "test {name} ... ignored, slow");
            } else {
                let _ = writeln!(out, "test {name} ... ok");
            }
        }
        let _ = writeln!(out, "\nfailures:\n");
        for name in &failed {
            let _ = writeln!(
                out,
                "---- {name} stdout ----\n\nthread '{name}' (4242) panicked at src/lib.rs:{}:9:\nassertion `left == right` failed\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
                b + 10
            );
        }
        let _ = writeln!(out, "\nfailures:");
        for name in &failed {
            let _ = writeln!(out, "    {name}");
        }
        let ignored = (0..per).filter(|t| t % 50 == 7 && t % 100 != 99).count();
        let _ = writeln!(
            out,
            "\ntest result: FAILED. {} passed; {} failed; {ignored} ignored; 0 measured; 0 filtered out; finished in 0.50s\n",
            per - failed.len() - ignored,
            failed.len()
        );
    }
    out
}

/// A pytest-style JUnit report of `n` tests; one in 100 fails with a traceback.
fn synthetic_junit(n: usize) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites name=\"pytest tests\">");
    let _ = write!(
        out,
        "<testsuite name=\"pytest\" errors=\"0\" failures=\"{}\" skipped=\"0\" tests=\"{n}\" time=\"12.5\">",
        n / 100
    );
    for t in 0..n {
        let module = t % 40;
        let _ = write!(
            out,
            "<testcase classname=\"tests.test_mod_{module}\" name=\"test_case_{t}[param-{t}]\" file=\"tests/test_mod_{module}.py\" line=\"{}\" time=\"0.001\"",
            t % 300
        );
        if t % 100 == 99 {
            let _ = write!(
                out,
                "><failure message=\"assert 1 == 2&#10; +  where 1 = f()\">def test_case():\n&gt;       assert f() == 2\nE       assert 1 == 2\n\ntests/test_mod_{module}.py:{}: AssertionError</failure></testcase>",
                t % 300 + 2
            );
        } else {
            out.push_str(" />");
        }
    }
    out.push_str("</testsuite></testsuites>");
    out
}

fn copy_fixture(name: &str, to: &Path) -> Result<PathBuf> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    copy_dir(&from, to)?;
    Ok(to.canonicalize()?)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if ["target", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"].iter().any(|s| name == *s)
        {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}
