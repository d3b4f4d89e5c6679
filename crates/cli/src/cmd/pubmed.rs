//! `pipette pubmed …`: `pubmed_search` and `pubmed_fetch` through the router.

use serde_json::json;

use crate::face::{Face, args};

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
        /// relevance | pub-date | first-author | journal.
        #[arg(long, default_value = "relevance")]
        sort: String,
        /// Earliest publication date: YYYY, YYYY/MM or YYYY/MM/DD.
        #[arg(long = "from", value_name = "DATE")]
        date_from: Option<String>,
        /// Latest publication date: YYYY, YYYY/MM or YYYY/MM/DD.
        #[arg(long = "to", value_name = "DATE")]
        date_to: Option<String>,
        /// Keep only this publication type (repeatable), e.g. `--type Review`.
        #[arg(long = "type", value_name = "TYPE")]
        publication_types: Vec<String>,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "concise")]
        format: String,
        /// Also keep the articles in this local index (see `pipette index search`).
        #[arg(long, value_name = "INDEX")]
        index: Option<String>,
    },
    /// Fetch articles by PMID (at most 200).
    Fetch {
        /// PMIDs, e.g. `22663011 9997`.
        #[arg(required = true, num_args = 1..)]
        pmids: Vec<String>,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "detailed")]
        format: String,
        /// Also keep the articles in this local index (see `pipette index search`).
        #[arg(long, value_name = "INDEX")]
        index: Option<String>,
    },
}

pub(crate) async fn run(face: &Face, cmd: PubmedCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        PubmedCmd::Search {
            query,
            max_results,
            offset,
            sort,
            date_from,
            date_to,
            publication_types,
            format,
            index,
        } => (
            "pubmed_search",
            json!({ "query": query, "max_results": max_results, "offset": offset,
                    "sort": sort.replace('-', "_"), "date_from": date_from, "date_to": date_to,
                    "publication_types": publication_types, "response_format": format, "index": index }),
        ),
        PubmedCmd::Fetch { pmids, format, index } => {
            ("pubmed_fetch", json!({ "pmids": pmids, "response_format": format, "index": index }))
        }
    };
    face.run(tool, args(arguments)).await?;
    Ok(())
}
