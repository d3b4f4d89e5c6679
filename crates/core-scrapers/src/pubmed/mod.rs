//! PubMed through NCBI E-utilities: esearch (JSON) and efetch (XML, parsed as a stream).

mod efetch;
mod esearch;
mod markdown;
mod model;
mod search;

pub use efetch::parse_efetch;
pub use esearch::{EsearchResult, parse_esearch};
pub use model::{AbstractSection, Article, Author, Journal, MeshHeading, PubDate};
pub use search::{
    FetchResult, MAX_FETCH, MAX_QUERY_CHARS, MAX_RESULTS, SearchRequest, SearchResult, Sort, fetch,
    normalize_pmid, search,
};
