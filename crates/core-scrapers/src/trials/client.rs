//! The fetching layer of ClinicalTrials.gov: a thin loop over the pure request builders and parsers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::{Upstream, Upstreams};
use crate::render::ResponseFormat;
use crate::trials::caps::{self, TrialCaps};
use crate::trials::model::{Trial, TrialSearchResult};
use crate::trials::near::{self, Place};
use crate::trials::parse::{parse_search, parse_study};
use crate::trials::query::{self, GeoFilter, TrialSearchParams, TrialSection, normalize_nct};

/// The most sites near the place listed per study of a search (all of them: `trial_get` with the place).
pub(crate) const MAX_NEAR_SITES: usize = 10;

/// Parameters of `trial_get`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialGetParams {
    /// NCT number, e.g. `NCT06604689`.
    pub nct_id: String,
    /// Parts besides the summary (default: all).
    #[serde(default)]
    pub sections: Vec<TrialSection>,
    /// Only sites in this place, e.g. `Boston, MA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Sites near `lat,lon,radius[km]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoFilter>,
    /// Output caps.
    #[serde(flatten)]
    pub caps: TrialCaps,
    /// Text: `concise` or `detailed`.
    #[serde(default)]
    pub response_format: ResponseFormat,
}

impl TrialGetParams {
    /// Every section, sites anywhere, default caps, concise text.
    pub fn new(nct_id: impl Into<String>) -> Self {
        Self {
            nct_id: nct_id.into(),
            sections: Vec::new(),
            location: None,
            geo: None,
            caps: TrialCaps::default(),
            response_format: ResponseFormat::default(),
        }
    }
}

type SharedGet = Shared<BoxFuture<'static, Result<Bytes, ScrapeError>>>;

/// Where ClinicalTrials.gov answers come from: the upstream itself, or (in a batch) through a memo that
/// shares identical requests, in flight or done, for as long as the batch runs. The upstream already
/// caches and shares in-flight requests; the memo keeps a batch consistent and cheap even with caching off.
#[derive(Clone)]
pub(crate) struct Source {
    ctgov: Upstream,
    memo: Option<Arc<Mutex<HashMap<String, SharedGet>>>>,
}

impl Source {
    /// Straight to the upstream.
    pub(crate) fn direct(ctgov: &Upstream) -> Self {
        Self { ctgov: ctgov.clone(), memo: None }
    }

    /// Through a memo shared by every clone of this source.
    pub(crate) fn memoised(ctgov: &Upstream) -> Self {
        Self { ctgov: ctgov.clone(), memo: Some(Arc::new(Mutex::new(HashMap::new()))) }
    }

    /// How many distinct requests went through the memo (0 without one).
    pub(crate) fn distinct_requests(&self) -> usize {
        self.memo.as_ref().map_or(0, |memo| memo.lock().unwrap_or_else(PoisonError::into_inner).len())
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Bytes, ScrapeError> {
        let Some(memo) = &self.memo else {
            return self.ctgov.get(path, query).await;
        };
        let key = format!(
            "{path}?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
                .finish()
        );
        let fetch = {
            let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
            memo.entry(key)
                .or_insert_with(|| {
                    let ctgov = self.ctgov.clone();
                    let path = path.to_owned();
                    let query: Vec<(String, String)> =
                        query.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
                    async move {
                        let pairs: Vec<(&str, String)> =
                            query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                        ctgov.get(&path, &pairs).await
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        fetch.await
    }
}

/// Searches studies, following `nextPageToken` up to `max_results`.
///
/// Stops at the last page, on an empty page, or on a token already seen (the API hands out a token when a
/// page is exactly full and nothing follows). Studies seen twice are kept once. `total_count` comes from
/// the first page; `next_page_token` is set only when more may follow. With a place (`location`, `geo`),
/// each study lists its sites near it, nearest first (at most 10).
pub async fn trials_search(
    upstreams: &Upstreams,
    params: &TrialSearchParams,
) -> Result<TrialSearchResult, ScrapeError> {
    let mut result = search_with(&Source::direct(&upstreams.ctgov), params, &[]).await?;
    if let Some(place) = Place::new(params.location.as_deref(), params.geo) {
        for trial in &mut result.trials {
            let how = format!("call trial_get with nct_id {} and the same location or geo", trial.nct_id);
            near::keep_near(trial, &place, Some(MAX_NEAR_SITES), &how);
        }
    }
    Ok(result)
}

/// `trials_search` through `source`, asking for `extra_fields` too (sites left as sent).
pub(crate) async fn search_with(
    source: &Source,
    params: &TrialSearchParams,
    extra_fields: &[&str],
) -> Result<TrialSearchResult, ScrapeError> {
    let request = query::search_request_with(params, extra_fields)?;
    let max = request.max_results as usize;
    let mut seen_tokens: HashSet<String> = request.page_token.iter().cloned().collect();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut token = request.page_token.clone();
    let mut result = TrialSearchResult::default();
    loop {
        let want = max - result.trials.len();
        let size = request.page_size.min(want as u32);
        let bytes = source.get("/studies", &request.page(size, token.as_deref())).await?;
        let page = parse_search(&bytes)?;
        result.pages += 1;
        if result.pages == 1 {
            result.total_count = page.total_count;
        }
        let empty = page.trials.is_empty();
        for trial in page.trials {
            if result.trials.len() < max && seen_ids.insert(trial.nct_id.clone()) {
                result.trials.push(trial);
            }
        }
        token = match page.next_page_token {
            Some(next) if !empty && seen_tokens.insert(next.clone()) => Some(next),
            Some(next) => {
                tracing::debug!(token = %next, empty, "ctgov: paging stopped (empty page or repeated token)");
                None
            }
            None => None,
        };
        if token.is_none() || result.trials.len() >= max {
            break;
        }
    }
    metrics::counter!("pipette_ctgov_search_pages_total").increment(u64::from(result.pages));
    result.next_page_token = token;
    Ok(result)
}

/// Fetches one study with the requested sections, criteria split, lists capped. With a place
/// (`location`, `geo`), only the sites near it, nearest first (the locations section is implied).
pub async fn trial_get(upstreams: &Upstreams, params: &TrialGetParams) -> Result<Trial, ScrapeError> {
    params.caps.validate()?;
    query::text_param("location", params.location.as_deref(), 1000)?;
    if let Some(geo) = params.geo {
        query::geo_param(geo)?;
    }
    let place = Place::new(params.location.as_deref(), params.geo);
    let mut sections: Vec<TrialSection> =
        if params.sections.is_empty() { TrialSection::ALL.to_vec() } else { params.sections.clone() };
    if place.is_some() && !sections.contains(&TrialSection::Locations) {
        sections.push(TrialSection::Locations);
    }
    let mut trial = fetch_study(&Source::direct(&upstreams.ctgov), &params.nct_id, &sections).await?;
    if let Some(place) = &place {
        let how = format!("call trial_get with nct_id {} without location and geo", trial.nct_id);
        near::keep_near(&mut trial, place, None, &how);
    }
    caps::apply(&mut trial, &params.caps);
    Ok(trial)
}

/// Fetches and parses one study (uncapped), restricted to `sections`.
pub(crate) async fn fetch_study(
    source: &Source,
    nct_id: &str,
    sections: &[TrialSection],
) -> Result<Trial, ScrapeError> {
    let nct = normalize_nct(nct_id)?;
    let fields = query::study_fields(sections);
    let bytes =
        source.get(&format!("/studies/{nct}"), &[("fields", fields)]).await.map_err(|err| match err {
            ScrapeError::NotFound { service, .. } => {
                ScrapeError::NotFound { service, what: format!("study {nct}") }
            }
            other => other,
        })?;
    let mut trial = parse_study(&bytes)?;
    caps::retain_sections(&mut trial, sections);
    if trial.nct_id != nct {
        // An alias NCT number redirects to the study's current one: say so rather than hide it.
        tracing::debug!(asked = %nct, got = %trial.nct_id, "ctgov: NCT alias resolved");
    }
    Ok(trial)
}
