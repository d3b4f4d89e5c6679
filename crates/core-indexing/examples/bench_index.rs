//! Benchmark of core-indexing: ingest rate, search latency, optimize time and peak RSS on a
//! corpus of abstract-sized documents made by varying the recorded PubMed and
//! ClinicalTrials.gov fixtures.
//!
//! `cargo run --release -p core-indexing --example bench_index -- --docs 200000 [--shards 1]`
//! Fixtures: `$PIPETTE_FIXTURES_DIR`, else the first `shared/fixtures` found walking up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use core_indexing::{
    AddRequest, BuiltinSchema, CreateRequest, IndexConfig, IndexManager, IndexOptions, IndexRef,
    OptimizeRequest, SchemaSpec, SearchRequest, no_progress,
};
use serde_json::{Value, json};

struct Args {
    docs: usize,
    shards: usize,
    queries: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args { docs: 200_000, shards: 1, queries: 300 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || -> anyhow::Result<usize> {
            Ok(it.next().ok_or_else(|| anyhow::anyhow!("{a} needs a value"))?.parse()?)
        };
        match a.as_str() {
            "--docs" => out.docs = value()?,
            "--shards" => out.shards = value()?,
            "--queries" => out.queries = value()?,
            other => {
                anyhow::bail!("unknown argument {other} (use --docs N --shards N --queries N)")
            }
        }
    }
    Ok(out)
}

fn fixtures_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PIPETTE_FIXTURES_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let starts = [PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::env::current_dir()?];
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join("shared/fixtures");
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
    }
    anyhow::bail!("no shared/fixtures found; set PIPETTE_FIXTURES_DIR")
}

/// The text inside every `<tag ...>...</tag>` of `xml`, inner tags removed.
fn xml_texts(xml: &str, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let Some(gt) = after.find('>') else { break };
        let Some(end) = after.find(&close) else { break };
        if end > gt {
            let inner = &after[gt + 1..end];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            out.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        rest = &after[end + close.len()..];
    }
    out
}

fn collect_strings(v: &Value, keys: &[&str], out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if keys.contains(&k.as_str()) {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        Value::Array(items) => {
                            out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                        }
                        _ => {}
                    }
                }
                collect_strings(v, keys, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, keys, out)),
        _ => {}
    }
}

struct Pools {
    sentences: Vec<String>,
    vocabulary: Vec<String>,
    titles: Vec<String>,
    terms: Vec<String>,
    names: Vec<String>,
}

fn pools(fixtures: &Path) -> anyhow::Result<Pools> {
    let mut texts = Vec::new();
    let mut titles = Vec::new();
    let mut terms = Vec::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixtures.join("pubmed"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "xml") {
            let xml = std::fs::read_to_string(&path)?;
            texts.extend(xml_texts(&xml, "AbstractText"));
            titles.extend(xml_texts(&xml, "ArticleTitle"));
            terms.extend(xml_texts(&xml, "DescriptorName"));
            names.extend(xml_texts(&xml, "LastName"));
        }
    }
    for entry in std::fs::read_dir(fixtures.join("clinicaltrials"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
            collect_strings(&v, &["briefSummary", "eligibilityCriteria", "detailedDescription"], &mut texts);
            collect_strings(&v, &["briefTitle", "officialTitle"], &mut titles);
            collect_strings(&v, &["conditions", "name"], &mut terms);
        }
    }
    let sentences: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            t.split(['.', '\n', '*'])
                .map(str::trim)
                .filter(|s| s.len() > 30)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    anyhow::ensure!(sentences.len() > 20 && !titles.is_empty(), "fixtures yielded too little text");
    if names.is_empty() {
        names.push("Smith".into());
    }
    let mut pools = Pools { sentences, vocabulary: Vec::new(), titles, terms, names };
    pools.vocabulary = words(&pools);
    Ok(pools)
}

/// splitmix64: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[self.below(items.len())]
    }
}

fn document(i: usize, p: &Pools, rng: &mut Rng) -> Value {
    let mut abstract_text = String::new();
    while abstract_text.len() < 900 + rng.below(900) {
        if !abstract_text.is_empty() {
            abstract_text.push_str(". ");
        }
        // vary each recorded sentence: about one word in five is swapped for another word of
        // the corpus vocabulary, so that phrases and term statistics are not all alike
        for (n, word) in rng.pick(&p.sentences).split(' ').enumerate() {
            if n > 0 {
                abstract_text.push(' ');
            }
            if rng.below(5) == 0 {
                abstract_text.push_str(rng.pick(&p.vocabulary));
            } else {
                abstract_text.push_str(word);
            }
        }
    }
    // vary: a study number and a rare token make documents distinct
    abstract_text.push_str(&format!(
        ". Cohort {} enrolled {} patients",
        rng.below(5000),
        rng.below(900) + 10
    ));
    let title = format!("{} ({})", rng.pick(&p.titles), rng.pick(&p.terms));
    let year = 1990 + rng.below(36) as i64;
    let journal = ["N Engl J Med", "Lancet Oncol", "J Clin Oncol", "Nature", "Cancer Cell"][rng.below(5)];
    json!({
        "pmid": (10_000_000 + i).to_string(),
        "title": title,
        "abstract": abstract_text,
        "authors": [format!("{} {}", rng.pick(&p.names), (b'A' + rng.below(26) as u8) as char), rng.pick(&p.names)],
        "journal": journal,
        "year": year,
        "pub_date": format!("{year}-{:02}-{:02}", rng.below(12) + 1, rng.below(28) + 1),
        "mesh": [rng.pick(&p.terms), rng.pick(&p.terms)],
        "publication_types": ["Journal Article"],
    })
}

fn words(p: &Pools) -> Vec<String> {
    let mut w: Vec<String> = p
        .sentences
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    w.sort();
    w.dedup();
    w
}

fn phrases(p: &Pools) -> Vec<String> {
    p.sentences
        .iter()
        .filter_map(|s| {
            let ws: Vec<&str> =
                s.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_alphabetic())).collect();
            ws.windows(2).find(|w| w[0].len() > 3 && w[1].len() > 3).map(|w| format!("\"{} {}\"", w[0], w[1]))
        })
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn run_queries(mgr: &IndexManager, queries: &[String]) -> anyhow::Result<(f64, f64, u64)> {
    let mut times = Vec::with_capacity(queries.len());
    let mut hits = 0;
    for q in queries {
        let started = Instant::now();
        let r = mgr.search(&SearchRequest::new("bench", q.clone()))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        hits += r.total_hits;
    }
    times.sort_by(f64::total_cmp);
    Ok((percentile(&times, 0.5), percentile(&times, 0.99), hits / queries.len().max(1) as u64))
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let load_before = load_average();
    let fixtures = fixtures_dir()?;
    let pools = pools(&fixtures)?;
    let work = tempfile::tempdir()?;
    let mut config = IndexConfig::with_dirs(work.path().join("data"), work.path());
    config.default_options = IndexOptions::default();
    let mgr = IndexManager::open(config)?;
    mgr.create(&CreateRequest {
        id: "bench".into(),
        schema: SchemaSpec::builtin(BuiltinSchema::Pubmed),
        shards: Some(args.shards),
        options: None,
    })?;

    // corpus → JSONL (generation is not timed)
    let mut rng = Rng(42);
    let jsonl = work.path().join("corpus.jsonl");
    let mut bytes = 0u64;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&jsonl)?);
        for i in 0..args.docs {
            let line = serde_json::to_string(&document(i, &pools, &mut rng))?;
            bytes += line.len() as u64 + 1;
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }

    let started = Instant::now();
    let added = mgr.add(
        &AddRequest {
            id: "bench".into(),
            jsonl_path: Some(jsonl.display().to_string()),
            ..AddRequest::default()
        },
        &no_progress,
    )?;
    let ingest_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        added.added as usize == args.docs,
        "only {} of {} documents added: {:?}",
        added.added,
        args.docs,
        added.rejections.first()
    );
    let status = mgr.status(&IndexRef::new("bench"))?;

    let vocabulary = pools.vocabulary.clone();
    let phrase_pool = phrases(&pools);
    let mut qrng = Rng(7);
    let term: Vec<String> = (0..args.queries).map(|_| qrng.pick(&vocabulary).to_string()).collect();
    let phrase: Vec<String> = (0..args.queries).map(|_| qrng.pick(&phrase_pool).to_string()).collect();
    let boolean: Vec<String> = (0..args.queries)
        .map(|i| {
            let (a, b, c) = (qrng.pick(&vocabulary), qrng.pick(&vocabulary), qrng.pick(&vocabulary));
            if i % 2 == 0 { format!("{a} AND {b}") } else { format!("({a} OR {b}) AND -{c}") }
        })
        .collect();
    // warm up
    run_queries(&mgr, &term[..term.len().min(20)])?;
    let before = [run_queries(&mgr, &term)?, run_queries(&mgr, &phrase)?, run_queries(&mgr, &boolean)?];

    let started = Instant::now();
    let optimized =
        mgr.optimize(&OptimizeRequest { id: "bench".into(), target_segments: None }, &no_progress)?;
    let optimize_secs = started.elapsed().as_secs_f64();
    run_queries(&mgr, &term[..term.len().min(20)])?;
    let after = [run_queries(&mgr, &term)?, run_queries(&mgr, &phrase)?, run_queries(&mgr, &boolean)?];

    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = std::io::stdout().lock();
    writeln!(out, "## core-indexing benchmark\n")?;
    writeln!(
        out,
        "{} documents ({:.0} MiB of JSONL, {:.0} bytes/doc), {} shard(s), {} CPUs, commit batch {}\n",
        args.docs,
        bytes as f64 / 1048576.0,
        bytes as f64 / args.docs.max(1) as f64,
        args.shards,
        cpus,
        IndexOptions::default().commit_batch_size
    )?;
    writeln!(out, "| measure | value |")?;
    writeln!(out, "|---|---|")?;
    writeln!(
        out,
        "| ingest (JSONL, validated, committed) | {:.0} docs/s ({:.1} s, {} commits) |",
        args.docs as f64 / ingest_secs,
        ingest_secs,
        added.commits
    )?;
    writeln!(out, "| segments after ingest | {} |", status.segments)?;
    for (label, stats) in [("before optimize", &before), ("after optimize", &after)] {
        for (kind, (p50, p99, avg_hits)) in ["term", "phrase", "boolean"].iter().zip(stats.iter()) {
            writeln!(
                out,
                "| search {kind}, {label} (top 10, avg {avg_hits} hits) | p50 {p50:.2} ms, p99 {p99:.2} ms |"
            )?;
        }
    }
    writeln!(
        out,
        "| optimize to 1 segment/shard | {:.1} s ({} → {} segments, {:.0} → {:.0} MiB) |",
        optimize_secs,
        optimized.segments_before,
        optimized.segments_after,
        optimized.bytes_before as f64 / 1048576.0,
        optimized.bytes_after as f64 / 1048576.0
    )?;
    writeln!(out, "| peak RSS (VmHWM) | {:.0} MiB |", peak_rss_mib())?;
    writeln!(out, "| machine load average (start → end) | {load_before} → {} |", load_average())?;
    Ok(())
}
