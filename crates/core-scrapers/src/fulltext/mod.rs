//! Full text and citations: identifiers (PMID ↔ PMCID ↔ DOI), full text from every open source (PMC JATS,
//! the PMC Article Datasets copy, Europe PMC, OAI-PMH, the PMC and publisher web pages) parsed into one
//! model, citations through elink, and Europe PMC search.
//!
//! Fetching and parsing are separate: `parse_jats`, `parse_article_html`, `parse_elink`,
//! `parse_europepmc_search` and `parse_idconv` are pure functions over recorded answers.

mod citations;
mod europepmc;
mod html;
mod ids;
mod jats;
mod markdown;
mod model;
mod sources;

pub use citations::{
    Citations, CitationsRequest, CitedArticle, Direction, MAX_CITATIONS, citations, parse_elink,
};
pub use europepmc::{
    EuropePmcArticle, EuropePmcRequest, EuropePmcSearch, MAX_EUROPEPMC_RESULTS, europepmc_search,
    parse_europepmc_search,
};
pub use html::parse_article_html;
pub use ids::{parse_idconv, resolve_ids};
pub use jats::{JatsAnswer, normalize_doi, normalize_pmcid, parse_jats};
pub use markdown::DETAILED_MAX_CHARS;
pub use model::{
    ArticleDate, ArticleIds, Caption, CaptionKind, FullText, FullTextAuthor, Reference, Section, Source,
};
pub use sources::{Attempt, FullTextRequest, FullTextResult, fulltext, request_ids};
