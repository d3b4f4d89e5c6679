//! The full-text chain: identifiers first, then each open source in order of preference until one gives a
//! body — (1) PMC efetch (JATS), (2) the PMC Article Datasets copy, (3) Europe PMC `fullTextXML`, (4) PMC
//! OAI-PMH, then the web pages: (5) the PMC article page and (6) the publisher's landing page from the DOI.
//! Each attempt is recorded with its outcome, so the answer says which source answered and why the others
//! did not. When none gives a body, PMC's OA service says whether the article is open access, and the
//! abstract (PubMed, else Europe PMC) comes back with the links.

use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::fulltext::europepmc::search_raw;
use crate::fulltext::html::parse_article_html;
use crate::fulltext::ids::resolve_ids;
use crate::fulltext::jats::{JatsAnswer, normalize_doi, normalize_pmcid, parse_jats};
use crate::fulltext::model::{ArticleIds, FullText, FullTextAuthor, Source};
use crate::http::{Upstream, Upstreams};
use crate::pubmed::{self, normalize_pmid};

/// A full-text request: at least one identifier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FullTextRequest {
    /// PMID, e.g. `20516115`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    /// PMCID, e.g. `PMC3040717`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    /// DOI, e.g. `10.1371/journal.pone.0213978`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// Keep only the sections whose titles contain one of these words, e.g. `["methods", "results"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
}

/// One source tried, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub source: Source,
    /// `full text`, `front matter only`, `not found`, `not open access: …`, an error, or why it was skipped.
    pub outcome: String,
}

/// An article's full text (or, when no source is open, its abstract) and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FullTextResult {
    /// Whether a body was found (false: abstract and links only).
    pub full_text: bool,
    /// PMC's OA service's answer, when it was asked: false = not in the open-access subset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_access: Option<bool>,
    /// A plain statement when no full text is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    pub article: FullText,
    /// Every source tried, in order.
    pub attempts: Vec<Attempt>,
    /// Where to read the article (PubMed, PMC, DOI, PDF).
    pub links: Vec<String>,
    /// Section titles of the whole body when `sections` filtered it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_sections: Vec<String>,
    /// Notes on identifier look-ups that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The identifiers of a request, checked (errors name the parameter).
pub fn request_ids(request: &FullTextRequest) -> Result<ArticleIds, ScrapeError> {
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let mut ids = ArticleIds::default();
    if let Some(p) = blank(&request.pmid) {
        ids.pmid = Some(normalize_pmid(&p, "pmid")?);
    }
    if let Some(p) = blank(&request.pmcid) {
        ids.pmcid = Some(normalize_pmcid(&p).ok_or_else(|| {
            ScrapeError::invalid(
                "pmcid",
                format!("{p:?} is not a PMCID: expected `PMC` and digits, e.g. PMC3040717"),
            )
        })?);
    }
    if let Some(d) = blank(&request.doi) {
        ids.doi = Some(normalize_doi(&d).ok_or_else(|| {
            ScrapeError::invalid("doi", format!("{d:?} is not a DOI: expected `10.<prefix>/<suffix>`"))
        })?);
    }
    if ids.is_empty() {
        return Err(ScrapeError::invalid("pmid", "give one of `pmid`, `pmcid` or `doi`"));
    }
    Ok(ids)
}

/// The whole chain (module docs).
pub async fn fulltext(
    upstreams: &Upstreams,
    request: &FullTextRequest,
) -> Result<FullTextResult, ScrapeError> {
    let mut ids = request_ids(request)?;
    let mut notes = Vec::new();
    if ids.pmcid.is_none() {
        notes = resolve_ids(upstreams, &mut ids).await;
    }
    let mut attempts: Vec<Attempt> = Vec::new();
    // The best document without a body (front matter, an abstract-only page), kept for the fallback.
    let mut partial: Option<FullText> = None;
    let mut found: Option<FullText> = None;
    let mut not_open: Option<String> = None;

    if let Some(pmcid) = ids.pmcid.clone() {
        let digits = pmcid.trim_start_matches("PMC").to_owned();
        let jats_sources = [Source::PmcEfetch, Source::PmcDatasets, Source::EuropePmc, Source::PmcOai];
        for source in jats_sources {
            let answer = match source {
                Source::PmcEfetch => {
                    let q = [("db", "pmc".to_owned()), ("id", digits.clone()), ("retmode", "xml".to_owned())];
                    upstreams.pubmed.get("/efetch.fcgi", &q).await
                }
                Source::PmcDatasets => {
                    let v = ids.pmc_version.unwrap_or(1);
                    upstreams.pmc_s3.get(&format!("/{pmcid}.{v}/{pmcid}.{v}.xml"), &[]).await
                }
                Source::EuropePmc => upstreams.europepmc.get(&format!("/{pmcid}/fullTextXML"), &[]).await,
                _ => {
                    let q = [
                        ("verb", "GetRecord".to_owned()),
                        ("identifier", format!("oai:pubmedcentral.nih.gov:{digits}")),
                        ("metadataPrefix", "pmc".to_owned()),
                    ];
                    get_endpoint(&upstreams.pmc_oai, "oai.cgi", &q).await
                }
            };
            let outcome = match answer.and_then(|body| parse_jats(&body, source)) {
                Ok(JatsAnswer::Article(article)) => {
                    let mut article = *article;
                    // The source's own ids are the article's; the request's win where both are given.
                    let mut merged = ids.clone();
                    merged.merge(&article.ids);
                    article.ids.merge(&merged);
                    ids.merge(&article.ids);
                    if article.has_body() {
                        found = Some(article);
                        attempts.push(Attempt { source, outcome: "full text".into() });
                        break;
                    }
                    keep_better(&mut partial, article);
                    "front matter only (no body in this copy)".to_owned()
                }
                Ok(JatsAnswer::NotFound(m)) => format!("not found ({m})"),
                Ok(JatsAnswer::NotOpen(m)) => {
                    not_open.get_or_insert(m.clone());
                    format!("not open access ({m})")
                }
                Err(err) => outcome_of(&err),
            };
            attempts.push(Attempt { source, outcome });
        }
    } else {
        for source in [Source::PmcEfetch, Source::PmcDatasets, Source::EuropePmc, Source::PmcOai] {
            attempts.push(Attempt { source, outcome: "skipped: no PMCID for this article".into() });
        }
    }

    let mut open_access = None;
    if found.is_none()
        && let Some(pmcid) = ids.pmcid.clone()
    {
        match get_endpoint(&upstreams.pmc_oa, "oa.fcgi", &[("id", pmcid.clone())]).await {
            Ok(body) => match oa_answer(&body) {
                OaAnswer::Open => open_access = Some(true),
                OaAnswer::NotOpen(m) => {
                    // PMC's own word on it comes first.
                    open_access = Some(false);
                    not_open = Some(m);
                }
                OaAnswer::Other(m) => notes.push(format!("PMC OA service: {m}")),
            },
            Err(err) => notes.push(format!("PMC OA service: {err}")),
        }
        let outcome = page(
            upstreams,
            Source::PmcWebPage,
            &format!("/articles/{pmcid}/"),
            &mut ids,
            &mut found,
            &mut partial,
        )
        .await;
        attempts.push(Attempt { source: Source::PmcWebPage, outcome });
    }
    if found.is_none() {
        let outcome = match ids.doi.clone() {
            Some(doi) => {
                let path = format!("/{}", encode_doi(&doi));
                page(upstreams, Source::PublisherPage, &path, &mut ids, &mut found, &mut partial).await
            }
            None => "skipped: no DOI for this article".into(),
        };
        attempts.push(Attempt { source: Source::PublisherPage, outcome });
    }

    let full = found.is_some();
    let mut article = match found {
        Some(a) => a,
        None => abstract_only(upstreams, &mut ids, partial, &mut notes).await,
    };
    article.ids.merge(&ids);
    let notice = (!full).then(|| match &not_open {
        Some(m) => format!(
            "No open full text: the article is not open access ({m}). The abstract and links are below."
        ),
        None => "No open full text was found in PMC, Europe PMC or on the publisher's page. The abstract and links are below.".to_owned(),
    });
    let all_sections = filter_sections(&mut article, &request.sections);
    let links = links(&article);
    Ok(FullTextResult { full_text: full, open_access, notice, article, attempts, links, all_sections, notes })
}

/// A request to a CGI endpoint whose base URL may name the endpoint itself (`…/oa.fcgi`, `…/api/oai/v1/mh`)
/// or the folder holding it (`…/pmc/utils/oa`): the likelier form first, the other when it is not found.
async fn get_endpoint(
    upstream: &Upstream,
    file: &str,
    query: &[(&str, String)],
) -> Result<bytes::Bytes, ScrapeError> {
    let base = upstream.base_url();
    let endpoint = base.ends_with(".cgi") || base.ends_with(".fcgi") || base.contains("/api/oai/");
    let with_file = format!("/{file}");
    let paths: [&str; 2] = if endpoint { ["", &with_file] } else { [&with_file, ""] };
    match upstream.get(paths[0], query).await {
        Err(ScrapeError::NotFound { .. }) => upstream.get(paths[1], query).await,
        other => other,
    }
}

fn outcome_of(err: &ScrapeError) -> String {
    match err {
        ScrapeError::NotFound { .. } => "not found (404)".into(),
        other => format!("failed: {other}"),
    }
}

/// Keeps the richer of two body-less documents (one with an abstract beats one without).
fn keep_better(slot: &mut Option<FullText>, candidate: FullText) {
    let score = |f: &FullText| (f.abstract_text.is_some() as u8) * 2 + (!f.title.is_empty()) as u8;
    match slot {
        Some(current) if score(current) >= score(&candidate) => {}
        _ => *slot = Some(candidate),
    }
}

async fn page(
    upstreams: &Upstreams,
    source: Source,
    path: &str,
    ids: &mut ArticleIds,
    found: &mut Option<FullText>,
    partial: &mut Option<FullText>,
) -> String {
    let upstream = if source == Source::PmcWebPage { &upstreams.pmc } else { &upstreams.doi };
    match upstream.get_page(path).await {
        Ok(body) => {
            let html = String::from_utf8_lossy(&body);
            let url = (source == Source::PmcWebPage).then(|| format!("{}{path}", upstream.base_url()));
            let mut article = parse_article_html(&html, source, url.as_deref());
            if source == Source::PublisherPage && article.ids.doi.is_none() {
                article.ids.doi.clone_from(&ids.doi);
            }
            // A page about another article (a DOI that redirected elsewhere) is not this one.
            if let (Some(a), Some(b)) = (&article.ids.doi, &ids.doi)
                && !a.eq_ignore_ascii_case(b)
            {
                return format!("a page about another article (DOI {a})");
            }
            let mut merged = ids.clone();
            merged.merge(&article.ids);
            article.ids.merge(&merged);
            ids.merge(&article.ids);
            if article.has_body() {
                *found = Some(article);
                return "full text".into();
            }
            let what = if article.abstract_text.is_some() { "abstract only" } else { "no article text" };
            keep_better(partial, article);
            what.into()
        }
        Err(err) => outcome_of(&err),
    }
}

/// Percent-encodes what a DOI may hold that a URL path may not (the `/` stays).
fn encode_doi(doi: &str) -> String {
    let mut out = String::with_capacity(doi.len());
    for b in doi.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'('
            | b')'
            | b':'
            | b';' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

enum OaAnswer {
    Open,
    NotOpen(String),
    Other(String),
}

/// The OA service's answer: `<OA><records><record id=…>` (open), or `<error code="idIsNotOpenAccess">`.
fn oa_answer(body: &[u8]) -> OaAnswer {
    let text = String::from_utf8_lossy(body);
    if let Some(at) = text.find("<error") {
        let code = text[at..].split("code=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
        let message = text[at..]
            .split_once('>')
            .map(|(_, rest)| rest.split("</error>").next().unwrap_or_default().trim().to_owned())
            .unwrap_or_default();
        return if code == "idIsNotOpenAccess" {
            OaAnswer::NotOpen(format!("PMC OA service: {code}: {message}"))
        } else {
            OaAnswer::Other(format!("{code}: {message}"))
        };
    }
    if text.contains("<record") {
        OaAnswer::Open
    } else {
        OaAnswer::Other("an answer without records".into())
    }
}

/// No body anywhere: the best front matter seen, completed with the abstract from PubMed (else Europe PMC).
async fn abstract_only(
    upstreams: &Upstreams,
    ids: &mut ArticleIds,
    partial: Option<FullText>,
    notes: &mut Vec<String>,
) -> FullText {
    let mut article = partial.unwrap_or_else(|| FullText::new(Source::AbstractOnly));
    article.source = Source::AbstractOnly;
    article.sections.clear();
    if article.abstract_text.is_some() && !article.title.is_empty() {
        return article;
    }
    if ids.pmid.is_none() {
        notes.extend(resolve_ids(upstreams, ids).await);
    }
    if let Some(pmid) = ids.pmid.clone() {
        match pubmed::fetch(upstreams, std::slice::from_ref(&pmid)).await {
            Ok(found) => {
                if let Some(a) = found.articles.into_iter().find(|a| a.pmid == pmid) {
                    if article.title.is_empty() {
                        article.title = a.title.clone();
                    }
                    if article.abstract_text.is_none() {
                        article.abstract_text = a.abstract_text.clone();
                    }
                    if article.authors.is_empty() {
                        article.authors = a
                            .authors
                            .iter()
                            .map(|au| FullTextAuthor {
                                name: au.name.clone(),
                                affiliations: au.affiliation.iter().cloned().collect(),
                                orcid: au.orcid.clone(),
                            })
                            .collect();
                    }
                    if article.journal.is_none() {
                        article.journal = a.journal.as_ref().and_then(|j| j.title.clone());
                    }
                    ids.merge(&ArticleIds {
                        pmid: Some(a.pmid),
                        pmcid: a.pmcid,
                        doi: a.doi,
                        pmc_version: None,
                    });
                    return article;
                }
            }
            Err(err) => notes.push(format!("PubMed abstract not fetched: {err}")),
        }
    }
    let query = match (&ids.pmid, &ids.pmcid, &ids.doi) {
        (Some(p), _, _) => format!("EXT_ID:{p} AND SRC:MED"),
        (_, Some(p), _) => format!("PMCID:{p}"),
        (_, _, Some(d)) => format!("DOI:\"{d}\""),
        _ => return article,
    };
    match search_raw(upstreams, &query, 1, None, "core").await {
        Ok(found) => {
            if let Some(a) = found.articles.into_iter().next() {
                if article.title.is_empty() {
                    article.title = a.title;
                }
                if article.abstract_text.is_none() {
                    article.abstract_text = a.abstract_text;
                }
                if article.journal.is_none() {
                    article.journal = a.journal;
                }
            }
        }
        Err(err) => notes.push(format!("Europe PMC abstract not fetched: {err}")),
    }
    article
}

/// Keeps the top-level sections matching `wanted` (case-insensitive, in the section's or a subsection's
/// title); answers every title when it filtered.
fn filter_sections(article: &mut FullText, wanted: &[String]) -> Vec<String> {
    let wanted: Vec<String> =
        wanted.iter().map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let all: Vec<String> = article.sections.iter().map(|s| s.title.clone()).collect();
    fn matches(s: &crate::fulltext::model::Section, wanted: &[String]) -> bool {
        let t = s.title.to_lowercase();
        wanted.iter().any(|w| t.contains(w.as_str())) || s.sections.iter().any(|c| matches(c, wanted))
    }
    article.sections.retain(|s| matches(s, &wanted));
    all
}

fn links(article: &FullText) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &article.ids.pmid {
        out.push(format!("https://pubmed.ncbi.nlm.nih.gov/{p}/"));
    }
    if let Some(p) = &article.ids.pmcid {
        out.push(format!("https://pmc.ncbi.nlm.nih.gov/articles/{p}/"));
        out.push(format!("https://europepmc.org/article/PMC/{p}"));
    }
    if let Some(d) = &article.ids.doi {
        out.push(format!("https://doi.org/{d}"));
    }
    if let Some(u) = &article.pdf_url
        && !out.contains(u)
    {
        out.push(u.clone());
    }
    out
}
