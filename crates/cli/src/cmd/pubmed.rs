//! `pipette pubmed …`: PubMed search and fetch, calling core-scrapers directly.

use core_scrapers::pubmed::{self, Article, SearchRequest, SearchResult, Sort};
use core_scrapers::{ScrapersConfig, http::Upstreams};

use crate::output::Output;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum PubmedCmd {
    /// Search PubMed (esearch, then efetch of the page's articles).
    Search {
        /// PubMed query syntax, e.g. `BRAF V600E melanoma` or `"EGFR"[tiab] AND osimertinib`.
        query: String,
        /// How many articles (0–1000; 0 = count only).
        #[arg(long, short = 'n', default_value_t = 20)]
        max_results: u32,
        /// Results to skip (paging).
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
        sort: SortArg,
        /// Earliest publication date: YYYY, YYYY/MM or YYYY/MM/DD.
        #[arg(long = "from", value_name = "DATE")]
        date_from: Option<String>,
        /// Latest publication date: YYYY, YYYY/MM or YYYY/MM/DD.
        #[arg(long = "to", value_name = "DATE")]
        date_to: Option<String>,
        /// Keep only this publication type (repeatable), e.g. `--type Review`.
        #[arg(long = "type", value_name = "TYPE")]
        publication_types: Vec<String>,
    },
    /// Fetch articles by PMID (at most 200).
    Fetch {
        /// PMIDs, e.g. `22663011 9997`.
        #[arg(required = true, num_args = 1..)]
        pmids: Vec<String>,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum SortArg {
    Relevance,
    PubDate,
    FirstAuthor,
    Journal,
}

impl From<SortArg> for Sort {
    fn from(s: SortArg) -> Sort {
        match s {
            SortArg::Relevance => Sort::Relevance,
            SortArg::PubDate => Sort::PubDate,
            SortArg::FirstAuthor => Sort::FirstAuthor,
            SortArg::Journal => Sort::Journal,
        }
    }
}

/// The upstreams from the environment (`PIPETTE_*`, `NCBI_*`) and the cache (`REDIS_URL` or in-process).
async fn upstreams() -> anyhow::Result<Upstreams> {
    let config = ScrapersConfig::from_env()?;
    let cache = core_cache::Cache::from_env().await?;
    Ok(Upstreams::new(&config, cache)?)
}

pub(crate) async fn run(cmd: PubmedCmd, out: &Output) -> anyhow::Result<()> {
    let upstreams = upstreams().await?;
    match cmd {
        PubmedCmd::Search { query, max_results, offset, sort, date_from, date_to, publication_types } => {
            let request = SearchRequest {
                query,
                max_results,
                offset,
                sort: sort.into(),
                date_from,
                date_to,
                publication_types,
            };
            let bar = out.progress(None, "pubmed");
            let result = pubmed::search(&upstreams, &request, &bar.callback()).await;
            bar.finish();
            let result = result?;
            out.emit(&result, || render_search(&result))
        }
        PubmedCmd::Fetch { pmids } => {
            let result = pubmed::fetch(&upstreams, &pmids).await?;
            out.emit(&result, || {
                let mut text: String = result.articles.iter().map(render_full).collect::<Vec<_>>().join("\n");
                if !result.not_found.is_empty() {
                    text.push_str(&format!("\nNot found: {}\n", result.not_found.join(", ")));
                }
                text
            })
        }
    }
}

fn render_search(r: &SearchResult) -> String {
    let mut text = format!(
        "{} of {} articles (offset {}){}\n",
        r.articles.len(),
        r.total,
        r.offset,
        r.next_offset.map(|n| format!("; more with --offset {n}")).unwrap_or_default()
    );
    if !r.phrases_not_found.is_empty() {
        text.push_str(&format!("Not found in PubMed (dropped): {}\n", r.phrases_not_found.join(", ")));
    }
    for a in &r.articles {
        text.push('\n');
        text.push_str(&render_short(a));
    }
    text
}

fn byline(a: &Article) -> String {
    let mut names: Vec<&str> = a.authors.iter().take(3).map(|x| x.name.as_str()).collect();
    if a.authors.len() > 3 {
        names.push("et al.");
    }
    let journal = a.journal.as_ref().and_then(|j| j.iso_abbreviation.clone().or_else(|| j.title.clone()));
    let date = a.pub_date.as_ref().map(|d| d.text.clone());
    let doi = a.doi.as_ref().map(|d| format!("doi:{d}"));
    let parts: Vec<String> = [Some(names.join(", ")).filter(|n| !n.is_empty()), journal, date, doi]
        .into_iter()
        .flatten()
        .collect();
    parts.join(" · ")
}

fn render_short(a: &Article) -> String {
    format!("PMID {}  {}\n  {}\n", a.pmid, a.title, byline(a))
}

fn render_full(a: &Article) -> String {
    let mut text = render_short(a);
    text.push_str(&format!("  {}\n", a.url()));
    if let Some(abstract_text) = &a.abstract_text {
        text.push('\n');
        for paragraph in abstract_text.split("\n\n") {
            text.push_str(&format!("  {paragraph}\n"));
        }
    }
    let major: Vec<&str> = a.mesh.iter().filter(|m| m.major_topic).map(|m| m.descriptor.as_str()).collect();
    if !major.is_empty() {
        text.push_str(&format!("\n  MeSH (major): {}\n", major.join("; ")));
    }
    if !a.publication_types.is_empty() {
        text.push_str(&format!("  Types: {}\n", a.publication_types.join("; ")));
    }
    text
}
