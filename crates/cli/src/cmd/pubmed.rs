//! `pipette pubmed …`: PubMed search and fetch, calling core-scrapers directly.

use core_scrapers::pubmed::{self, SearchRequest, Sort};
use core_scrapers::{ResponseFormat, ScrapersConfig, http::Upstreams};

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
            out.emit(&result, || result.markdown(ResponseFormat::Concise))
        }
        PubmedCmd::Fetch { pmids } => {
            let result = pubmed::fetch(&upstreams, &pmids).await?;
            out.emit(&result, || result.markdown(ResponseFormat::Detailed))
        }
    }
}
