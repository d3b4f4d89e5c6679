//! Full-text parsing: JATS throughput (MB/s) per recorded dialect, and the HTML extraction time of each
//! recorded article page (the PMC page, a publisher's landing page).
//!
//! Run: `cargo run --release -p core-scrapers --example bench_fulltext [-- <seconds per case>]` (default 1.5).
//! Each case is parsed repeatedly for its time budget; JATS reports MB/s over the bytes parsed, HTML the
//! median and p95 time of one page. Target: JATS ≥ 100 MB/s.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::{Duration, Instant};

use core_scrapers::fulltext::{JatsAnswer, Source, parse_article_html, parse_jats};
use pipette_test_support::fixture;

const JATS: [(&str, Source); 5] = [
    ("fulltext/jats/efetch_pmc__PMC3040717__biomcp.xml", Source::PmcEfetch),
    ("fulltext/jats/pmc_oa_s3__PMC3040717.1__biomcp.xml", Source::PmcDatasets),
    ("fulltext/jats/europepmc_fullTextXML__PMC3258128__pyEuropePMC.xml", Source::EuropePmc),
    ("fulltext/jats/oai_getrecord__PMC4500000__pubmed-client.xml", Source::PmcOai),
    ("fulltext/jats/efetch_pmc__PMC8435807_correction__biopython.xml", Source::PmcEfetch),
];
const HTML: [(&str, Source); 2] = [
    ("fulltext/html/pmc_article_page__PMC3040717__biomcp.html", Source::PmcWebPage),
    ("fulltext/html/journal_landing__plos_one_pone.0213978__sandcrawler.html", Source::PublisherPage),
];

fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path).split("__").take(2).collect::<Vec<_>>().join("__").leak()
}

fn main() {
    let budget = Duration::from_secs_f64(std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1.5));
    println!("| JATS answer | bytes | parses | MB/s |");
    println!("|---|---:|---:|---:|");
    let (mut all_bytes, mut all_time) = (0usize, Duration::ZERO);
    for (path, source) in JATS {
        let xml = fixture(path);
        let started = Instant::now();
        let mut n = 0usize;
        while started.elapsed() < budget || n < 3 {
            let parsed = parse_jats(std::hint::black_box(&xml), source).expect("parses");
            assert!(matches!(parsed, JatsAnswer::Article(_)));
            n += 1;
        }
        let took = started.elapsed();
        all_bytes += xml.len() * n;
        all_time += took;
        let mbps = (xml.len() * n) as f64 / 1e6 / took.as_secs_f64();
        println!("| {} | {} | {n} | {mbps:.0} |", short(path), xml.len());
    }
    println!("| **all** | | | **{:.0}** |\n", all_bytes as f64 / 1e6 / all_time.as_secs_f64());

    println!("| article page | bytes | runs | median ms | p95 ms | sections | captions | references |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (path, source) in HTML {
        let html = String::from_utf8(fixture(path)).expect("UTF-8");
        let started = Instant::now();
        let mut times = Vec::new();
        let mut last = None;
        while started.elapsed() < budget || times.len() < 5 {
            let t = Instant::now();
            last = Some(parse_article_html(std::hint::black_box(&html), source, None));
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let median = times[times.len() / 2];
        let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
        let a = last.expect("parsed");
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {} | {} | {} |",
            short(path),
            html.len(),
            times.len(),
            ms(median),
            ms(p95),
            a.sections.len(),
            a.captions.len(),
            a.references.len()
        );
    }
}
