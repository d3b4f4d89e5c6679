//! `search` (esearch then efetch in batches) and `fetch` (efetch by PMIDs), with argument checks that
//! reject empty or malformed dates instead of answering silently empty results.
//!
//! Sizes: a `query` holds at most [`MAX_QUERY_CHARS`] characters (longer than any hand-written or
//! systematic-review search strategy; anything past it is pasted data, refused as `InvalidArgument`
//! before a request is made). E-utilities take any request by POST as well as GET, and NCBI asks for POST
//! when a URL grows long or lists many ids: an esearch or efetch whose encoded parameters pass
//! `GET_MAX_QUERY_BYTES` (2,000 bytes, the length NCBI and common proxies handle by GET), or an efetch of
//! more than `GET_MAX_IDS` ids, goes by POST.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{ScrapeError, quote};
use crate::http::{Upstream, Upstreams};
use crate::pubmed::efetch::parse_efetch;
use crate::pubmed::esearch::parse_esearch;
use crate::pubmed::model::Article;

/// Largest `max_results` of one search.
pub const MAX_RESULTS: u32 = 1000;
/// Largest number of PMIDs of one `fetch`.
pub const MAX_FETCH: usize = 200;
/// PMIDs per efetch request.
const EFETCH_BATCH: usize = 200;
/// Above this many ids, efetch is a POST (a long GET URL is refused by NCBI's front end).
const GET_MAX_IDS: usize = 100;
/// Above this many bytes of encoded parameters, an E-utilities request is a POST.
const GET_MAX_QUERY_BYTES: usize = 2000;
/// The longest `query`, in characters.
pub const MAX_QUERY_CHARS: usize = 10_000;
/// The most `publication_types` of one search, and the longest name of one.
const MAX_PUBLICATION_TYPES: usize = 20;
const MAX_PUBLICATION_TYPE_CHARS: usize = 100;
/// esearch cannot start past this record.
const MAX_RETSTART: u32 = 9998;

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (PubMed's relevance ranking).
    #[default]
    Relevance,
    /// Most recent publication date first.
    PubDate,
    /// By first author.
    FirstAuthor,
    /// By journal name.
    Journal,
}

impl Sort {
    fn as_esearch(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::PubDate => "pub_date",
            Sort::FirstAuthor => "Author",
            Sort::Journal => "JournalName",
        }
    }
}

fn default_max_results() -> u32 {
    20
}

/// A PubMed search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchRequest {
    /// PubMed syntax, e.g. `BRAF V600E melanoma`, `"EGFR"[tiab] AND osimertinib`.
    pub query: String,
    /// Articles to return; 0 = count only.
    #[serde(default = "default_max_results")]
    #[schemars(range(max = 1000))]
    pub max_results: u32,
    /// Results to skip.
    #[serde(default)]
    #[schemars(range(max = 9998))]
    pub offset: u32,
    /// Order.
    #[serde(default)]
    pub sort: Sort,
    /// From date: `YYYY`, `YYYY/MM` or `YYYY/MM/DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    /// To date, same forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<String>,
    /// Publication types, e.g. `Review`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publication_types: Vec<String>,
}

impl SearchRequest {
    /// A search for `query` with the defaults (20 results, relevance order).
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            max_results: default_max_results(),
            offset: 0,
            sort: Sort::Relevance,
            date_from: None,
            date_to: None,
            publication_types: Vec::new(),
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchResult {
    /// The term sent to esearch (query plus publication-type filters).
    pub term: String,
    /// Total number of matching articles.
    pub total: u64,
    pub offset: u64,
    /// The offset to continue from, while there are more results PubMed can page to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_translation: Option<String>,
    /// Phrases of the query PubMed found nothing for and searched without: the results match the rest of
    /// the query only (these are words of the query, not PMIDs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases_not_found: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub articles: Vec<Article>,
    /// PMIDs esearch listed on this page whose records efetch did not return (withdrawn, not yet indexed, or
    /// lost upstream); `pubmed_fetch` them to try again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_fetched: Vec<String>,
}

/// Articles fetched by PMID, in the order asked, and the PMIDs PubMed had no record for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FetchResult {
    pub articles: Vec<Article>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_found: Vec<String>,
}

/// esearch (JSON) for the request, then efetch (XML) of the page's PMIDs in batches of 200 (POST above 100
/// ids), concurrently within the NCBI rate limit. Progress: (step, steps, message), one step per request.
pub async fn search(
    upstreams: &Upstreams,
    request: &SearchRequest,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
) -> Result<SearchResult, ScrapeError> {
    let (term, params) = esearch_params(request)?;
    let pubmed = &upstreams.pubmed;
    let batches = (request.max_results as u64).div_ceil(EFETCH_BATCH as u64);
    progress(0, Some(1 + batches), "searching PubMed");
    let page = parse_esearch(&eutils(pubmed, "/esearch.fcgi", &params, false).await?)?;
    let steps = 1 + (page.ids.len() as u64).div_ceil(EFETCH_BATCH as u64);
    progress(1, Some(steps), &format!("{} matches; fetching {} articles", page.count, page.ids.len()));

    let done = AtomicU64::new(1);
    let (articles, not_fetched) = efetch_all(pubmed, &page.ids, &|| {
        let step = done.fetch_add(1, Ordering::SeqCst) + 1;
        progress(step, Some(steps), "fetched a batch of articles");
    })
    .await?;

    let offset = u64::from(request.offset);
    let next = offset + page.ids.len() as u64;
    let next_offset =
        (!page.ids.is_empty() && next < page.count && next <= u64::from(MAX_RETSTART)).then_some(next);
    Ok(SearchResult {
        term,
        total: page.count,
        offset,
        next_offset,
        query_translation: page.query_translation,
        phrases_not_found: page.phrases_not_found,
        warnings: page.warnings,
        articles,
        not_fetched,
    })
}

/// efetch of up to 200 PMIDs (digits only), in the order given; duplicates are fetched once.
pub async fn fetch(upstreams: &Upstreams, pmids: &[String]) -> Result<FetchResult, ScrapeError> {
    if pmids.is_empty() {
        return Err(ScrapeError::invalid("pmids", "give at least one PMID"));
    }
    if pmids.len() > MAX_FETCH {
        return Err(ScrapeError::invalid(
            "pmids",
            format!("{} PMIDs asked; at most {MAX_FETCH} per call: split the list", pmids.len()),
        ));
    }
    let mut ids: Vec<String> = Vec::with_capacity(pmids.len());
    for raw in pmids {
        let id = normalize_pmid(raw, "pmids")?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let (articles, not_found) = efetch_all(&upstreams.pubmed, &ids, &|| {}).await?;
    Ok(FetchResult { articles, not_found })
}

/// Checks and normalises a PMID (` PMID:22663011` → `22663011`: 1 to 10 digits); errors name `param`.
pub fn normalize_pmid(raw: &str, param: &str) -> Result<String, ScrapeError> {
    let id = raw.trim().trim_start_matches("PMID:").trim();
    if id.is_empty() || id.len() > 10 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScrapeError::invalid(
            param,
            format!("{} is not a PMID (digits only, e.g. 22663011)", quote(raw)),
        ));
    }
    Ok(id.to_owned())
}

/// Fetches `ids` in batches, concurrently, and returns the articles in `ids` order plus the ids not found.
async fn efetch_all(
    pubmed: &Upstream,
    ids: &[String],
    on_batch: &(dyn Fn() + Send + Sync),
) -> Result<(Vec<Article>, Vec<String>), ScrapeError> {
    let batches = ids.chunks(EFETCH_BATCH).map(|chunk| async move {
        let form = [("db", "pubmed".to_owned()), ("retmode", "xml".to_owned()), ("id", chunk.join(","))];
        let body = eutils(pubmed, "/efetch.fcgi", &form, chunk.len() > GET_MAX_IDS).await?;
        let articles = parse_efetch(&body)?;
        on_batch();
        Ok::<_, ScrapeError>(articles)
    });
    let fetched: Vec<Article> = futures::future::try_join_all(batches).await?.into_iter().flatten().collect();
    let mut by_id: std::collections::HashMap<String, Article> =
        fetched.into_iter().map(|a| (a.pmid.clone(), a)).collect();
    let mut articles = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match by_id.remove(id) {
            Some(article) => articles.push(article),
            None => missing.push(id.clone()),
        }
    }
    Ok((articles, missing))
}

/// One E-utilities request: GET while short, POST when `post` or when the encoded parameters pass
/// `GET_MAX_QUERY_BYTES` (E-utilities answer both alike).
async fn eutils(
    pubmed: &Upstream,
    path: &str,
    params: &[(&str, String)],
    post: bool,
) -> Result<bytes::Bytes, ScrapeError> {
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish().len();
    if post || encoded > GET_MAX_QUERY_BYTES {
        pubmed.post_form(path, params).await
    } else {
        pubmed.get(path, params).await
    }
}

type Params = Vec<(&'static str, String)>;

/// Checks the request and builds the esearch term and parameters.
fn esearch_params(request: &SearchRequest) -> Result<(String, Params), ScrapeError> {
    let query = request.query.trim();
    if query.is_empty() {
        return Err(ScrapeError::invalid(
            "query",
            "is empty: give PubMed search terms, e.g. \"BRAF V600E melanoma\"",
        ));
    }
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(ScrapeError::invalid(
            "query",
            format!(
                "{chars} characters, over the {MAX_QUERY_CHARS} a PubMed query may hold: shorten it, or split \
                 it into several searches"
            ),
        ));
    }
    if request.max_results > MAX_RESULTS {
        return Err(ScrapeError::invalid(
            "max_results",
            format!("{} is more than {MAX_RESULTS}: page with `offset` instead", request.max_results),
        ));
    }
    if request.offset > MAX_RETSTART {
        return Err(ScrapeError::invalid(
            "offset",
            format!(
                "{} is past {MAX_RETSTART}, the last record PubMed can page to: narrow the query (dates, types)",
                request.offset
            ),
        ));
    }
    let mut term = query.to_owned();
    let mut types = Vec::new();
    if request.publication_types.len() > MAX_PUBLICATION_TYPES {
        return Err(ScrapeError::invalid(
            "publication_types",
            format!(
                "{} types given; at most {MAX_PUBLICATION_TYPES}: keep the ones that matter",
                request.publication_types.len()
            ),
        ));
    }
    for t in &request.publication_types {
        let t = t.trim();
        let bad =
            t.is_empty() || t.chars().count() > MAX_PUBLICATION_TYPE_CHARS || t.contains(['"', '[', ']']);
        if bad {
            return Err(ScrapeError::invalid(
                "publication_types",
                format!(
                    "{} is not a publication type name such as \"Review\" or \"Clinical Trial\"",
                    quote(t)
                ),
            ));
        }
        types.push(format!("\"{t}\"[pt]"));
    }
    if !types.is_empty() {
        term = format!("({term}) AND ({})", types.join(" OR "));
    }

    let from = request.date_from.as_deref().map(|d| parse_date("date_from", d)).transpose()?;
    let to = request.date_to.as_deref().map(|d| parse_date("date_to", d)).transpose()?;
    if let (Some(from), Some(to)) = (&from, &to)
        && from.first_day > to.last_day
    {
        return Err(ScrapeError::invalid(
            "date_to",
            format!("{} is before date_from {}: swap them", to.text, from.text),
        ));
    }

    let mut params = vec![
        ("db", "pubmed".to_owned()),
        ("term", term.clone()),
        ("retmode", "json".to_owned()),
        ("retstart", request.offset.to_string()),
        ("retmax", request.max_results.to_string()),
        ("sort", request.sort.as_esearch().to_owned()),
    ];
    if from.is_some() || to.is_some() {
        params.push(("datetype", "pdat".to_owned()));
        params.push(("mindate", from.map_or_else(|| "1000".to_owned(), |d| d.text)));
        params.push(("maxdate", to.map_or_else(|| "3000".to_owned(), |d| d.text)));
    }
    Ok((term, params))
}

struct DateArg {
    /// As NCBI wants it: `YYYY`, `YYYY/MM` or `YYYY/MM/DD`.
    text: String,
    first_day: chrono::NaiveDate,
    last_day: chrono::NaiveDate,
}

/// `YYYY`, `YYYY/MM`, `YYYY/MM/DD` (or with `-`): anything else, empty included, names the argument.
fn parse_date(name: &str, raw: &str) -> Result<DateArg, ScrapeError> {
    let bad = |why: &str| {
        ScrapeError::invalid(
            name,
            format!("{} {why}; use YYYY, YYYY/MM or YYYY/MM/DD (e.g. 2020/06/30)", quote(raw)),
        )
    };
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad("is empty (leave the argument out for no limit)"));
    }
    let parts: Vec<&str> = value.split(['/', '-']).collect();
    let numbers: Vec<u32> = parts
        .iter()
        .map(|p| if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) { None } else { p.parse().ok() })
        .collect::<Option<_>>()
        .ok_or_else(|| bad("is not a date"))?;
    if parts[0].len() != 4 || parts.len() > 3 || parts[1..].iter().any(|p| p.len() > 2) {
        return Err(bad("is not a date"));
    }
    let year = numbers[0] as i32;
    if !(1000..=2999).contains(&year) {
        return Err(bad("has an implausible year"));
    }
    let month = numbers.get(1).copied();
    let day = numbers.get(2).copied();
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(bad("has no such month"));
    }
    let first_day = chrono::NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1))
        .ok_or_else(|| bad("has no such day"))?;
    let last_day = match (month, day) {
        (_, Some(_)) => first_day,
        (Some(m), None) => {
            let (ny, nm) = if m == 12 { (year + 1, 1) } else { (year, m + 1) };
            chrono::NaiveDate::from_ymd_opt(ny, nm, 1)
                .and_then(|d| d.pred_opt())
                .ok_or_else(|| bad("is not a date"))?
        }
        (None, None) => chrono::NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| bad("is not a date"))?,
    };
    let text = match (month, day) {
        (Some(m), Some(d)) => format!("{year:04}/{m:02}/{d:02}"),
        (Some(m), None) => format!("{year:04}/{m:02}"),
        _ => format!("{year:04}"),
    };
    Ok(DateArg { text, first_day, last_day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_date(name: &str, raw: &str) -> Result<String, String> {
        parse_date(name, raw).map(|d| d.text).map_err(|e| match e {
            ScrapeError::InvalidArgument { name, .. } => name,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn dates_are_checked_and_normalised() {
        let cases = [
            ("2020", Ok("2020")),
            ("2020-6", Ok("2020/06")),
            (" 2020/06/30 ", Ok("2020/06/30")),
            ("2024/02/29", Ok("2024/02/29")),
            ("", Err("date_from")),
            ("   ", Err("date_from")),
            ("2023/02/29", Err("date_from")),
            ("2020/13", Err("date_from")),
            ("20/06/2020", Err("date_from")),
            ("June 2020", Err("date_from")),
            ("2020//01", Err("date_from")),
            ("2020/01/01/01", Err("date_from")),
        ];
        for (raw, expected) in cases {
            let got = check_date("date_from", raw);
            assert_eq!(got.as_deref().map_err(String::as_str), expected, "{raw:?}");
        }
    }

    fn params(req: &SearchRequest) -> Result<Params, ScrapeError> {
        esearch_params(req).map(|(_, p)| p)
    }

    #[test]
    fn requests_are_checked() {
        let mut req = SearchRequest::new("braf");
        req.max_results = 1001;
        assert!(
            matches!(params(&req), Err(ScrapeError::InvalidArgument { name, .. }) if name == "max_results")
        );
        let mut req = SearchRequest::new("  ");
        req.max_results = 5;
        assert!(matches!(params(&req), Err(ScrapeError::InvalidArgument { name, .. }) if name == "query"));
        let mut req = SearchRequest::new("braf");
        req.date_from = Some("2021".into());
        req.date_to = Some("2020/12".into());
        assert!(matches!(params(&req), Err(ScrapeError::InvalidArgument { name, .. }) if name == "date_to"));
        req.date_to = Some(String::new());
        assert!(matches!(params(&req), Err(ScrapeError::InvalidArgument { name, .. }) if name == "date_to"));
        req.date_to = None;
        let p = params(&req).expect("ok");
        assert!(p.contains(&("mindate", "2021".to_owned())) && p.contains(&("maxdate", "3000".to_owned())));
        let mut req = SearchRequest::new("braf");
        req.publication_types = vec!["Review".into(), "Clinical Trial".into()];
        let (term, _) = esearch_params(&req).expect("ok");
        assert_eq!(term, "(braf) AND (\"Review\"[pt] OR \"Clinical Trial\"[pt])");
        req.publication_types = vec!["Review\"[pt] OR x".into()];
        assert!(esearch_params(&req).is_err());
        req.publication_types = vec!["Review".into(); MAX_PUBLICATION_TYPES + 1];
        assert!(esearch_params(&req).is_err());
    }

    #[test]
    fn queries_are_bounded_and_bad_values_quoted_briefly() {
        let req = SearchRequest::new("a".repeat(MAX_QUERY_CHARS));
        assert!(params(&req).is_ok(), "the limit itself is accepted");
        let req = SearchRequest::new("é".repeat(MAX_QUERY_CHARS + 1));
        match params(&req) {
            Err(ScrapeError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "query");
                assert!(reason.contains(&MAX_QUERY_CHARS.to_string()), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let long = "x".repeat(200_000);
        let err = normalize_pmid(&long, "pmids").expect_err("not a PMID");
        assert!(err.to_string().len() < 400, "{err}");
        let mut req = SearchRequest::new("braf");
        req.date_from = Some(long);
        let err = params(&req).expect_err("not a date");
        assert!(err.to_string().len() < 400, "{err}");
    }
}
