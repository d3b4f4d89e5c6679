//! Citations through E-utilities `elink`: the articles citing a PMID (`pubmed_pubmed_citedin`) and those it
//! cites (`pubmed_pubmed_refs`). Both answer shapes parse: JSON (`retmode=json`) and XML (`eLinkResult`,
//! including a `cmd=neighbor` answer holding many link sets, of which only the one asked is read).

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::{Service, Upstreams};
use crate::pubmed::{self, normalize_pmid};

/// Which way to follow citations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Articles that cite this one.
    #[default]
    CitedBy,
    /// Articles this one cites (its reference list, as PubMed links it).
    References,
}

impl Direction {
    /// The elink link name.
    pub fn linkname(self) -> &'static str {
        match self {
            Direction::CitedBy => "pubmed_pubmed_citedin",
            Direction::References => "pubmed_pubmed_refs",
        }
    }
}

/// Largest `limit`.
pub const MAX_CITATIONS: u32 = 200;

/// A citations request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CitationsRequest {
    /// PMID, e.g. `20516115`.
    pub pmid: String,
    /// `cited_by` or `references`.
    #[serde(default)]
    pub direction: Direction,
    /// Linked PMIDs to return (all are counted); titles are fetched for the first 20.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    20
}

/// One linked article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CitedArticle {
    pub pmid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
}

/// The articles linked one way to a PMID, with the count of all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Citations {
    pub pmid: String,
    pub direction: Direction,
    /// How many PubMed links there are in all.
    pub count: usize,
    /// The first `limit` of them, in elink's order.
    pub articles: Vec<CitedArticle>,
    /// Set when the titles could not be fetched (the PMIDs are still right).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The PMIDs of link set `linkname` in an elink answer (JSON or XML).
pub fn parse_elink(body: &[u8], linkname: &str) -> Result<Vec<String>, ScrapeError> {
    let head = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if head == Some(b'{') {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| ScrapeError::parse(Service::PubMed, format!("elink JSON: {e}")))?;
        if let Some(err) = value.get("ERROR").or_else(|| value.get("error")).and_then(|e| e.as_str()) {
            return Err(ScrapeError::UnexpectedContent {
                service: Service::PubMed,
                detail: format!("elink answered an error: {err:?}"),
            });
        }
        let Some(sets) = value.get("linksets").and_then(|s| s.as_array()) else {
            return Err(ScrapeError::parse(Service::PubMed, "elink JSON without `linksets`"));
        };
        let mut out = Vec::new();
        for set in sets {
            for db in set.get("linksetdbs").and_then(|d| d.as_array()).into_iter().flatten() {
                if db.get("linkname").and_then(|n| n.as_str()) != Some(linkname) {
                    continue;
                }
                for link in db.get("links").and_then(|l| l.as_array()).into_iter().flatten() {
                    let id = match link {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        serde_json::Value::Object(o) => o.get("id").map(|i| match i {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        }),
                        _ => None,
                    };
                    if let Some(id) = id
                        && !out.contains(&id)
                    {
                        out.push(id);
                    }
                }
            }
        }
        return Ok(out);
    }
    parse_elink_xml(body, linkname)
}

fn parse_elink_xml(body: &[u8], linkname: &str) -> Result<Vec<String>, ScrapeError> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut current_name = String::new();
    let mut ids_in_set: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut saw_root = false;
    let mut error: Option<String> = None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Err(e) => {
                return Err(ScrapeError::parse(
                    Service::PubMed,
                    format!("elink XML near byte {}: {e}", reader.buffer_position()),
                ));
            }
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_vec();
                if name == b"eLinkResult" {
                    saw_root = true;
                }
                if name == b"LinkSetDb" {
                    current_name.clear();
                    ids_in_set.clear();
                }
                text.clear();
                path.push(name);
            }
            Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap_or_default()),
            Ok(Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                let parent = path.last().map(Vec::as_slice);
                match (name.as_slice(), parent) {
                    (b"LinkName", Some(b"LinkSetDb")) => current_name = text.trim().to_owned(),
                    (b"Id", Some(b"Link")) => ids_in_set.push(text.trim().to_owned()),
                    (b"ERROR", _) => error = Some(text.trim().to_owned()),
                    (b"LinkSetDb", _) if current_name == linkname => {
                        for id in ids_in_set.drain(..) {
                            if !out.contains(&id) {
                                out.push(id);
                            }
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
        }
    }
    if !saw_root {
        return Err(ScrapeError::parse(Service::PubMed, "not an elink eLinkResult document"));
    }
    if let Some(err) = error.filter(|e| !e.is_empty())
        && out.is_empty()
    {
        return Err(ScrapeError::UnexpectedContent {
            service: Service::PubMed,
            detail: format!("elink answered an error: {err:?}"),
        });
    }
    Ok(out)
}

/// How many of the linked articles get their titles fetched.
const TITLED: usize = 20;

/// elink (JSON) one way, then efetch of the first titles (best effort: the PMIDs stand without them).
pub async fn citations(upstreams: &Upstreams, request: &CitationsRequest) -> Result<Citations, ScrapeError> {
    let pmid = normalize_pmid(&request.pmid, "pmid")?;
    if request.limit == 0 || request.limit > MAX_CITATIONS {
        return Err(ScrapeError::invalid("limit", format!("must be 1–{MAX_CITATIONS}")));
    }
    let linkname = request.direction.linkname();
    let params = [
        ("dbfrom", "pubmed".to_owned()),
        ("db", "pubmed".to_owned()),
        ("id", pmid.clone()),
        ("linkname", linkname.to_owned()),
        ("retmode", "json".to_owned()),
    ];
    let body = upstreams.pubmed.get("/elink.fcgi", &params).await?;
    let ids = parse_elink(&body, linkname)?;
    let count = ids.len();
    let shown: Vec<String> = ids.into_iter().take(request.limit as usize).collect();
    let mut articles: Vec<CitedArticle> = shown
        .iter()
        .map(|p| CitedArticle { pmid: p.clone(), title: None, year: None, journal: None })
        .collect();
    let mut note = None;
    let titled: Vec<String> = shown.iter().take(TITLED).cloned().collect();
    if !titled.is_empty() {
        match pubmed::fetch(upstreams, &titled).await {
            Ok(found) => {
                for a in &mut articles {
                    if let Some(f) = found.articles.iter().find(|f| f.pmid == a.pmid) {
                        a.title = Some(f.title.clone()).filter(|t| !t.is_empty());
                        a.year = f.pub_date.as_ref().and_then(|d| d.year);
                        a.journal = f
                            .journal
                            .as_ref()
                            .and_then(|j| j.iso_abbreviation.clone().or_else(|| j.title.clone()));
                    }
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "citation titles not fetched");
                note = Some(format!("titles not fetched ({}); pubmed_fetch the PMIDs for them", err.kind()));
            }
        }
    }
    Ok(Citations { pmid, direction: request.direction, count, articles, note })
}
