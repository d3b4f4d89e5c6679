//! Europe PMC search (`rest/search`, `resultType=core` or `lite`, JSON): a second literature source with
//! abstracts, the open-access flag, PMCIDs and citation counts — useful when NCBI rate limits bite.

use serde::{Deserialize, Serialize};

use crate::error::{ScrapeError, quote};
use crate::fulltext::jats::{normalize_doi, normalize_pmcid};
use crate::http::{Service, Upstreams};

/// Largest page of one search.
pub const MAX_EUROPEPMC_RESULTS: u32 = 100;
const MAX_QUERY_CHARS: usize = 2000;

/// One Europe PMC record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EuropePmcArticle {
    /// Europe PMC's id within `source` (the PMID for `MED`).
    pub id: String,
    /// `MED` (PubMed), `PMC`, `PPR` (preprints), `AGR`, …
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    #[serde(rename = "abstract", default, skip_serializing_if = "Option::is_none")]
    pub abstract_text: Option<String>,
    /// Open access (Europe PMC's `isOpenAccess`).
    pub open_access: bool,
    /// Whether Europe PMC holds the full text.
    pub in_europepmc: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cited_by_count: Option<u64>,
    /// Full-text links Europe PMC lists (DOI, PMC, publisher), with their availability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_text_urls: Vec<String>,
}

/// A page of Europe PMC results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EuropePmcSearch {
    pub query: String,
    /// Total matches.
    pub total: u64,
    /// The `cursor` of the next page, while there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub articles: Vec<EuropePmcArticle>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default)]
    hit_count: u64,
    #[serde(default)]
    next_cursor_mark: Option<String>,
    #[serde(default)]
    request: Option<WireRequest>,
    #[serde(default)]
    result_list: Option<WireList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    #[serde(default)]
    cursor_mark: Option<String>,
}

#[derive(Deserialize)]
struct WireList {
    #[serde(default)]
    result: Vec<WireResult>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WireResult {
    id: Option<String>,
    source: Option<String>,
    pmid: Option<String>,
    pmcid: Option<String>,
    doi: Option<String>,
    title: Option<String>,
    author_string: Option<String>,
    journal_title: Option<String>,
    journal_info: Option<WireJournalInfo>,
    pub_year: Option<String>,
    abstract_text: Option<String>,
    is_open_access: Option<String>,
    #[serde(rename = "inEPMC")]
    in_epmc: Option<String>,
    cited_by_count: Option<u64>,
    full_text_url_list: Option<WireUrls>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireJournalInfo {
    journal: Option<WireJournal>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireJournal {
    title: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WireUrls {
    full_text_url: Vec<WireUrl>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireUrl {
    availability: Option<String>,
    #[serde(rename = "documentStyle")]
    document_style: Option<String>,
    url: Option<String>,
}

/// Strips the HTML markup Europe PMC leaves in titles and abstracts (`<i>`, `<sup>`, `<h4>`).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    crate::fulltext::jats::collapse(&out).replace(" ,", ",").replace("( ", "(")
}

/// Parses a search answer (`format=json`, core or lite).
pub fn parse_europepmc_search(json: &[u8], query: &str) -> Result<EuropePmcSearch, ScrapeError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let wire: Wire = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        ScrapeError::parse(Service::EuropePmc, format!("search: at `{}`: {}", e.path(), e.inner()))
    })?;
    let articles: Vec<EuropePmcArticle> = wire
        .result_list
        .map(|l| l.result)
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let yes = |v: &Option<String>| v.as_deref() == Some("Y");
            EuropePmcArticle {
                id: r.id.clone().unwrap_or_default(),
                source: r.source.unwrap_or_default(),
                pmid: r.pmid.filter(|p| !p.is_empty()),
                pmcid: r.pmcid.as_deref().and_then(normalize_pmcid),
                doi: r.doi.as_deref().and_then(normalize_doi),
                title: r.title.as_deref().map(plain).unwrap_or_default(),
                authors: r.author_string.filter(|a| !a.is_empty()),
                journal: r.journal_info.and_then(|j| j.journal).and_then(|j| j.title).or(r.journal_title),
                year: r.pub_year,
                abstract_text: r.abstract_text.as_deref().map(plain).filter(|a| !a.is_empty()),
                open_access: yes(&r.is_open_access),
                in_europepmc: yes(&r.in_epmc),
                cited_by_count: r.cited_by_count,
                full_text_urls: r
                    .full_text_url_list
                    .map(|u| u.full_text_url)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|u| {
                        let url = u.url?;
                        let what =
                            [u.document_style, u.availability].into_iter().flatten().collect::<Vec<_>>();
                        Some(if what.is_empty() { url } else { format!("{url} ({})", what.join(", ")) })
                    })
                    .collect(),
            }
        })
        .collect();
    let same_cursor = wire.request.and_then(|r| r.cursor_mark) == wire.next_cursor_mark;
    let next_cursor = wire.next_cursor_mark.filter(|c| !c.is_empty() && !same_cursor && !articles.is_empty());
    Ok(EuropePmcSearch { query: query.to_owned(), total: wire.hit_count, next_cursor, articles })
}

/// A Europe PMC search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EuropePmcRequest {
    /// Europe PMC syntax, e.g. `BRCA1 AND OPEN_ACCESS:y`, `EXT_ID:20516115 AND SRC:MED`.
    pub query: String,
    /// Results per page.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn default_limit() -> u32 {
    20
}

/// `rest/search?query=…&resultType=core&format=json`.
pub async fn europepmc_search(
    upstreams: &Upstreams,
    request: &EuropePmcRequest,
) -> Result<EuropePmcSearch, ScrapeError> {
    let query = request.query.trim();
    if query.is_empty() {
        return Err(ScrapeError::invalid("query", "give a Europe PMC query, e.g. `BRCA1 AND OPEN_ACCESS:y`"));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ScrapeError::invalid(
            "query",
            format!("{} is longer than {MAX_QUERY_CHARS} characters", quote(query)),
        ));
    }
    if request.limit == 0 || request.limit > MAX_EUROPEPMC_RESULTS {
        return Err(ScrapeError::invalid("limit", format!("must be 1–{MAX_EUROPEPMC_RESULTS}")));
    }
    search_raw(upstreams, query, request.limit, request.cursor.as_deref(), "core").await
}

pub(crate) async fn search_raw(
    upstreams: &Upstreams,
    query: &str,
    limit: u32,
    cursor: Option<&str>,
    result_type: &str,
) -> Result<EuropePmcSearch, ScrapeError> {
    let params = [
        ("query", query.to_owned()),
        ("resultType", result_type.to_owned()),
        ("format", "json".to_owned()),
        ("pageSize", limit.to_string()),
        ("cursorMark", cursor.unwrap_or("*").to_owned()),
    ];
    let body = upstreams.europepmc.get("/search", &params).await?;
    parse_europepmc_search(&body, query)
}
