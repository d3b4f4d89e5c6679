//! Identifier resolution, PMID ↔ PMCID ↔ DOI: Europe PMC search (`EXT_ID:<pmid> AND SRC:MED`, `PMCID:…`,
//! `DOI:"…"`, lite results: no NCBI rate spent), then NCBI's ID converter (`/tools/idconv/api/v1/articles/`,
//! JSON), then the PubMed record itself (efetch: its own `ArticleIdList`, never its references'; a record
//! `pubmed_fetch` already fetched is a cache hit). Answers are cached by the HTTP layer like every other
//! upstream answer; an id already known is never looked up.

use serde::Deserialize;

use crate::error::ScrapeError;
use crate::fulltext::europepmc::search_raw;
use crate::fulltext::jats::{normalize_doi, normalize_pmcid};
use crate::fulltext::model::ArticleIds;
use crate::http::{Service, Upstreams};

#[derive(Deserialize)]
struct IdconvWire {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    records: Vec<IdconvRecord>,
}

#[derive(Deserialize)]
struct IdconvRecord {
    #[serde(default)]
    pmcid: Option<String>,
    #[serde(default)]
    pmid: Option<serde_json::Value>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// Parses an ID converter answer (`format=json`) into the ids of its first record.
pub fn parse_idconv(json: &[u8]) -> Result<ArticleIds, ScrapeError> {
    let wire: IdconvWire = serde_json::from_slice(json)
        .map_err(|e| ScrapeError::parse(Service::Pmc, format!("ID converter JSON: {e}")))?;
    if wire.status.as_deref() == Some("error") {
        return Err(ScrapeError::NotFound {
            service: Service::Pmc,
            what: format!("id in the ID converter ({})", wire.message.unwrap_or_default()),
        });
    }
    let Some(r) = wire.records.into_iter().next() else {
        return Err(ScrapeError::NotFound { service: Service::Pmc, what: "id in the ID converter".into() });
    };
    if r.status.as_deref() == Some("error") {
        return Err(ScrapeError::NotFound {
            service: Service::Pmc,
            what: format!("id in the ID converter ({})", r.errmsg.unwrap_or_default()),
        });
    }
    let pmid = match r.pmid {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(ArticleIds {
        pmid: pmid.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        pmcid: r.pmcid.as_deref().and_then(normalize_pmcid),
        doi: r.doi.as_deref().and_then(normalize_doi),
        pmc_version: None,
    })
}

/// Fills in the ids `known` lacks (PMCID first: it opens the full-text sources). Returns the notes of the
/// look-ups that failed; the ids found are merged into `known`.
pub async fn resolve_ids(upstreams: &Upstreams, known: &mut ArticleIds) -> Vec<String> {
    let mut notes = Vec::new();
    if known.pmcid.is_some() && known.pmid.is_some() && known.doi.is_some() {
        return notes;
    }
    let query = if let Some(pmid) = &known.pmid {
        format!("EXT_ID:{pmid} AND SRC:MED")
    } else if let Some(pmcid) = &known.pmcid {
        format!("PMCID:{pmcid}")
    } else if let Some(doi) = &known.doi {
        format!("DOI:\"{doi}\"")
    } else {
        return notes;
    };
    match search_raw(upstreams, &query, 1, None, "lite").await {
        Ok(found) => match found.articles.into_iter().next() {
            Some(a) => {
                known.merge(&ArticleIds { pmid: a.pmid, pmcid: a.pmcid, doi: a.doi, pmc_version: None })
            }
            None => notes.push(format!("Europe PMC has no record for {query}")),
        },
        Err(err) => notes.push(format!("Europe PMC id look-up failed: {err}")),
    }
    if known.pmcid.is_some() && (known.pmid.is_some() || known.doi.is_some()) {
        return notes;
    }
    let id =
        known.pmid.clone().or_else(|| known.pmcid.clone()).or_else(|| known.doi.clone()).unwrap_or_default();
    let params = [("ids", id), ("format", "json".to_owned()), ("tool", "pipette".to_owned())];
    match upstreams.pmc.get("/tools/idconv/api/v1/articles/", &params).await.and_then(|b| parse_idconv(&b)) {
        Ok(ids) => known.merge(&ids),
        Err(err) => notes.push(format!("NCBI ID converter look-up failed: {err}")),
    }
    if known.pmcid.is_none()
        && let Some(pmid) = known.pmid.clone()
    {
        match crate::pubmed::fetch(upstreams, std::slice::from_ref(&pmid)).await {
            Ok(found) => match found.articles.into_iter().find(|a| a.pmid == pmid) {
                Some(a) => known.merge(&ArticleIds {
                    pmid: None,
                    pmcid: a.pmcid.as_deref().and_then(normalize_pmcid),
                    doi: a.doi.as_deref().and_then(normalize_doi),
                    pmc_version: None,
                }),
                None => notes.push(format!("PubMed has no record {pmid}")),
            },
            Err(err) => notes.push(format!("PubMed record look-up failed: {err}")),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idconv_answers() {
        let ok = br#"{"status":"ok","records":[{"pmcid":"PMC3040717","pmid":20516115,"doi":"10.1158/0008-5472.CAN-09-4563","requested-id":"20516115"}]}"#;
        let ids = parse_idconv(ok).expect("record");
        assert_eq!(ids.pmcid.as_deref(), Some("PMC3040717"));
        assert_eq!(ids.pmid.as_deref(), Some("20516115"));
        let bad = br#"{"status":"ok","records":[{"requested-id":"1","status":"error","errmsg":"invalid article id"}]}"#;
        assert!(matches!(parse_idconv(bad), Err(ScrapeError::NotFound { .. })));
    }
}
