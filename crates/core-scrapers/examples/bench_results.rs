//! Result sizes a model pays for: the text (markdown) of the recorded PubMed article 22663011, concise and
//! detailed, next to its structured JSON, and of a 20-article page built from the recorded articles.
//!
//! Run: `cargo xtask bench results` (or `cargo run -p core-scrapers --example bench_results`). Byte counts do
//! not depend on the build profile.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use core_scrapers::ResponseFormat;
use core_scrapers::pubmed::{FetchResult, parse_efetch};
use pipette_test_support::fixture;

fn row(what: &str, result: &FetchResult) {
    let json = serde_json::to_string(result).map(|j| j.len()).unwrap_or_default();
    let concise = result.markdown(ResponseFormat::Concise).len();
    let detailed = result.markdown(ResponseFormat::Detailed).len();
    println!("| {what} | {concise} | {detailed} | {json} |");
}

fn main() {
    let one =
        parse_efetch(&fixture("pubmed/efetch_pubmed_22663011.xml")).expect("the recorded article parses");
    let two = parse_efetch(&fixture("pubmed/efetch_pubmed_12091962_9997_abstract.xml")).expect("parses");
    let page: Vec<_> = one.iter().chain(&two).cycle().take(20).cloned().collect();
    println!("| result | concise text bytes | detailed text bytes | structured JSON bytes |");
    println!("|---|---|---|---|");
    row("PMID 22663011 (pubmed_fetch)", &FetchResult { articles: one, not_found: Vec::new() });
    row("20 recorded articles", &FetchResult { articles: page, not_found: Vec::new() });
}
