//! Parameters of the ClinicalTrials.gov calls, their validation, and the pure request building
//! (`query.*`, `filter.*`, `filter.advanced`, `fields`), so that every request is testable without a network.
//!
//! Sizes: API v2 takes a search only by GET, so everything travels in the URL, which pipette keeps under
//! `http::MAX_GET_URL_BYTES` (8 KiB). Each free-text parameter has a length in characters (1,000; 8,000 for
//! `term`) and together, once URL-encoded, they may take at most [`MAX_TEXT_BYTES`] bytes (the rest of the
//! URL, fields and filters, stays under 2 KiB). Past either, the call is an `InvalidArgument` naming the
//! parameter, before any request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ScrapeError, quote};
use crate::render::ResponseFormat;

/// The fields asked for in searches (the summary of each study).
pub(crate) const SEARCH_FIELDS: &str = "NCTId,BriefTitle,OverallStatus,Phase,StudyType,Condition,InterventionName,\
LeadSponsorName,EnrollmentCount,BriefSummary,StartDate,CompletionDate,MinimumAge,MaximumAge";

/// The site fields a search also asks for when it has a place (`location` or `geo`), to list the sites
/// near it without fetching each study.
pub(crate) const LOCATION_FIELDS: &str =
    "LocationFacility,LocationStatus,LocationCity,LocationState,LocationZip,LocationCountry,LocationGeoPoint";

/// The fields of a single-study fetch that every section needs.
const BASE_FIELDS: &[&str] = &[
    "NCTId",
    "BriefTitle",
    "OfficialTitle",
    "OverallStatus",
    "Phase",
    "StudyType",
    "Condition",
    "Keyword",
    "InterventionName",
    "InterventionType",
    "InterventionOtherName",
    "LeadSponsorName",
    "EnrollmentCount",
    "BriefSummary",
    "StartDate",
    "CompletionDate",
];

/// The largest `pageSize` the API honours (larger ones are silently lowered).
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The most studies one `trials_search` call collects (over several pages).
pub const MAX_RESULTS: u32 = 1000;
/// `max_results` when not given.
pub const DEFAULT_MAX_RESULTS: u32 = 50;
/// `page_size` when not given is `min(max_results, DEFAULT_PAGE_SIZE)`.
const DEFAULT_PAGE_SIZE: u32 = 100;

const MAX_TEXT_CHARS: usize = 1000;
const MAX_TERM_CHARS: usize = 8000;
/// The most bytes the free-text parameters of one search take together, once URL-encoded.
pub(crate) const MAX_TEXT_BYTES: usize = 6 * 1024;
const MAX_RADIUS: f64 = 25_000.0;

/// A recruitment status of ClinicalTrials.gov (`filter.overallStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialStatus {
    /// Recruiting participants.
    Recruiting,
    /// Not yet recruiting.
    NotYetRecruiting,
    /// Enrolling by invitation only.
    EnrollingByInvitation,
    /// Active, no longer recruiting.
    ActiveNotRecruiting,
    /// Stopped temporarily.
    Suspended,
    /// Stopped early for good.
    Terminated,
    /// Ended normally.
    Completed,
    /// Stopped before enrolling anyone.
    Withdrawn,
    /// Status not verified for a long time.
    Unknown,
    /// Expanded access: available.
    Available,
    /// Expanded access: no longer available.
    NoLongerAvailable,
    /// Expanded access: temporarily not available.
    TemporarilyNotAvailable,
    /// Expanded access: approved for marketing.
    ApprovedForMarketing,
    /// Expanded access: withheld.
    Withheld,
}

impl TrialStatus {
    /// Every status, in the API's spelling order.
    pub const ALL: [TrialStatus; 14] = [
        TrialStatus::Recruiting,
        TrialStatus::NotYetRecruiting,
        TrialStatus::EnrollingByInvitation,
        TrialStatus::ActiveNotRecruiting,
        TrialStatus::Suspended,
        TrialStatus::Terminated,
        TrialStatus::Completed,
        TrialStatus::Withdrawn,
        TrialStatus::Unknown,
        TrialStatus::Available,
        TrialStatus::NoLongerAvailable,
        TrialStatus::TemporarilyNotAvailable,
        TrialStatus::ApprovedForMarketing,
        TrialStatus::Withheld,
    ];

    /// The API's spelling, e.g. `NOT_YET_RECRUITING`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Recruiting => "RECRUITING",
            TrialStatus::NotYetRecruiting => "NOT_YET_RECRUITING",
            TrialStatus::EnrollingByInvitation => "ENROLLING_BY_INVITATION",
            TrialStatus::ActiveNotRecruiting => "ACTIVE_NOT_RECRUITING",
            TrialStatus::Suspended => "SUSPENDED",
            TrialStatus::Terminated => "TERMINATED",
            TrialStatus::Completed => "COMPLETED",
            TrialStatus::Withdrawn => "WITHDRAWN",
            TrialStatus::Unknown => "UNKNOWN",
            TrialStatus::Available => "AVAILABLE",
            TrialStatus::NoLongerAvailable => "NO_LONGER_AVAILABLE",
            TrialStatus::TemporarilyNotAvailable => "TEMPORARILY_NOT_AVAILABLE",
            TrialStatus::ApprovedForMarketing => "APPROVED_FOR_MARKETING",
            TrialStatus::Withheld => "WITHHELD",
        }
    }

    /// Reads a status leniently: any case, spaces or hyphens for underscores (`not yet recruiting`).
    pub fn parse(text: &str) -> Option<TrialStatus> {
        let key: String = text
            .trim()
            .chars()
            .map(|c| if c == ' ' || c == '-' || c == ',' { '_' } else { c.to_ascii_uppercase() })
            .collect();
        let key = key.replace("__", "_");
        TrialStatus::ALL.into_iter().find(|s| s.as_str() == key)
    }

    /// How soon a participant could join: recruiting first, finished last (for sorting).
    pub(crate) fn rank(status: Option<&str>) -> u8 {
        match status.and_then(TrialStatus::parse) {
            Some(TrialStatus::Recruiting) => 0,
            Some(TrialStatus::NotYetRecruiting) => 1,
            Some(TrialStatus::EnrollingByInvitation) => 2,
            Some(TrialStatus::Available) => 3,
            Some(TrialStatus::ActiveNotRecruiting) => 4,
            _ => 5,
        }
    }
}

/// A study phase of ClinicalTrials.gov (filtered through `filter.advanced=AREA[Phase](…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    /// Early phase 1 (formerly phase 0).
    #[serde(rename = "EARLY_PHASE1")]
    EarlyPhase1,
    /// Phase 1.
    #[serde(rename = "PHASE1")]
    Phase1,
    /// Phase 2.
    #[serde(rename = "PHASE2")]
    Phase2,
    /// Phase 3.
    #[serde(rename = "PHASE3")]
    Phase3,
    /// Phase 4.
    #[serde(rename = "PHASE4")]
    Phase4,
    /// Not applicable (e.g. device or behavioural studies).
    #[serde(rename = "NA")]
    NotApplicable,
}

impl Phase {
    /// Every phase.
    pub const ALL: [Phase; 6] = [
        Phase::EarlyPhase1,
        Phase::Phase1,
        Phase::Phase2,
        Phase::Phase3,
        Phase::Phase4,
        Phase::NotApplicable,
    ];

    /// The API's spelling, e.g. `PHASE2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::EarlyPhase1 => "EARLY_PHASE1",
            Phase::Phase1 => "PHASE1",
            Phase::Phase2 => "PHASE2",
            Phase::Phase3 => "PHASE3",
            Phase::Phase4 => "PHASE4",
            Phase::NotApplicable => "NA",
        }
    }

    /// Reads one phase or a combined one leniently: `PHASE2`, `phase 2`, `2`, `II`, `Phase II`,
    /// `early phase 1`, `0`, `NA`, `N/A`; `1/2` or `PHASE1/PHASE2` gives both phases.
    pub fn parse_many(text: &str) -> Option<Vec<Phase>> {
        if let Some(phase) = Phase::parse_one(text) {
            return Some(vec![phase]);
        }
        let parts: Vec<&str> = text.split(['/', '|', ',', '+', '&']).collect();
        let mut phases = Vec::new();
        for part in parts {
            let phase = Phase::parse_one(part)?;
            if !phases.contains(&phase) {
                phases.push(phase);
            }
        }
        (!phases.is_empty()).then_some(phases)
    }

    fn parse_one(text: &str) -> Option<Phase> {
        let key: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
            .collect::<String>()
            .to_ascii_uppercase();
        let key = key.strip_prefix("PHASE").unwrap_or(&key);
        Some(match key {
            "EARLY1" | "EARLYPHASE1" | "EARLYI" | "0" => Phase::EarlyPhase1,
            "1" | "I" => Phase::Phase1,
            "2" | "II" => Phase::Phase2,
            "3" | "III" => Phase::Phase3,
            "4" | "IV" => Phase::Phase4,
            "NA" | "N/A" | "NOTAPPLICABLE" => Phase::NotApplicable,
            _ => return None,
        })
    }
}

/// A unit of distance for the geographic filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistanceUnit {
    /// Miles (the default).
    #[default]
    Mi,
    /// Kilometres.
    Km,
}

/// Studies with a site within `radius` of a point (`filter.geo=distance(lat,lon,radius)`).
///
/// Given as a compact string `lat,lon,radius` with an optional `mi` (default) or `km` suffix, e.g.
/// `42.36,-71.06,25km` (what the schema shows: one short string costs a model less than an object), or as
/// the object `{lat, lon, radius, unit}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GeoInput")]
pub struct GeoFilter {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lon: f64,
    /// The radius, greater than 0.
    pub radius: f64,
    /// `mi` (default) or `km`.
    #[serde(default)]
    pub unit: DistanceUnit,
}

/// What a `geo` argument may be: the compact string or the object.
#[derive(Deserialize)]
#[serde(untagged)]
enum GeoInput {
    Text(String),
    Object {
        lat: f64,
        lon: f64,
        radius: f64,
        #[serde(default)]
        unit: DistanceUnit,
    },
}

impl TryFrom<GeoInput> for GeoFilter {
    type Error = String;

    fn try_from(input: GeoInput) -> Result<GeoFilter, String> {
        let geo = match input {
            GeoInput::Object { lat, lon, radius, unit } => GeoFilter { lat, lon, radius, unit },
            GeoInput::Text(text) => parse_geo(&text)?,
        };
        if !(-90.0..=90.0).contains(&geo.lat) || !(-180.0..=180.0).contains(&geo.lon) {
            return Err(format!("lat must be -90..90 and lon -180..180, got {},{}", geo.lat, geo.lon));
        }
        if !(geo.radius > 0.0 && geo.radius.is_finite()) {
            return Err(format!("the radius must be greater than 0, got {}", geo.radius));
        }
        Ok(geo)
    }
}

/// Parses `lat,lon,radius[mi|km]`.
fn parse_geo(text: &str) -> Result<GeoFilter, String> {
    let bad = || {
        format!(
            "expected `lat,lon,radius` with an optional mi or km, e.g. `42.36,-71.06,25km`; got `{}`",
            quote(text)
        )
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [lat, lon, radius] = parts.as_slice() else { return Err(bad()) };
    let (radius, unit) = match radius.to_ascii_lowercase() {
        r if r.ends_with("km") => (r.trim_end_matches("km").trim().to_owned(), DistanceUnit::Km),
        r if r.ends_with("mi") => (r.trim_end_matches("mi").trim().to_owned(), DistanceUnit::Mi),
        r => (r, DistanceUnit::Mi),
    };
    Ok(GeoFilter {
        lat: lat.parse().map_err(|_| bad())?,
        lon: lon.parse().map_err(|_| bad())?,
        radius: radius.parse().map_err(|_| bad())?,
        unit,
    })
}

impl JsonSchema for GeoFilter {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GeoFilter".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod geo_tests {
    use super::*;

    #[test]
    fn geo_is_a_compact_string_or_an_object() {
        let g: GeoFilter = serde_json::from_value(serde_json::json!("42.36, -71.06, 25km")).unwrap();
        assert_eq!((g.lat, g.lon, g.radius, g.unit), (42.36, -71.06, 25.0, DistanceUnit::Km));
        let g: GeoFilter = serde_json::from_value(serde_json::json!("1,2,3")).unwrap();
        assert_eq!(g.unit, DistanceUnit::Mi);
        let g: GeoFilter =
            serde_json::from_value(serde_json::json!({"lat": 1.0, "lon": 2.0, "radius": 3.0, "unit": "km"}))
                .unwrap();
        assert_eq!(g.unit, DistanceUnit::Km);
        for bad in [
            serde_json::json!("1,2"),
            serde_json::json!("91,0,5"),
            serde_json::json!("1,2,0km"),
            serde_json::json!("a,b,c"),
        ] {
            assert!(serde_json::from_value::<GeoFilter>(bad.clone()).is_err(), "{bad}");
        }
    }
}

/// Parameters of `trials_search`. At least one of the query or filter fields is needed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialSearchParams {
    /// Condition, e.g. `melanoma`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Terms anywhere (Essie syntax), e.g. `BRAF V600E`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Intervention, e.g. `pembrolizumab`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervention: Option<String>,
    /// Sponsor or collaborator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    /// City, state, country or site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Sites near `lat,lon,radius[km]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoFilter>,
    /// Statuses, e.g. `RECRUITING`, `COMPLETED`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<String>,
    /// Phases, e.g. `PHASE2`, `2`, `phase II`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phase: Vec<String>,
    /// Studies per upstream request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<u32>,
    /// A `next_page_token` to continue from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// Studies to return (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_results: Option<u32>,
    /// Text: `concise` or `detailed`.
    #[serde(default, skip_serializing_if = "is_concise")]
    pub response_format: ResponseFormat,
}

fn is_concise(format: &ResponseFormat) -> bool {
    !format.is_detailed()
}

/// A validated search: the query pairs of the first page, and how to page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchRequest {
    /// Every pair but `pageSize` and `pageToken`, in a fixed order (cache keys are stable).
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) page_size: u32,
    pub(crate) max_results: u32,
    pub(crate) page_token: Option<String>,
}

impl SearchRequest {
    /// The pairs of one page request.
    pub(crate) fn page(&self, page_size: u32, token: Option<&str>) -> Vec<(&'static str, String)> {
        let mut query = self.query.clone();
        query.push(("pageSize", page_size.to_string()));
        if let Some(token) = token {
            query.push(("pageToken", token.to_owned()));
        }
        query
    }
}

/// Validates `params` and builds the request.
#[cfg(test)]
pub(crate) fn search_request(params: &TrialSearchParams) -> Result<SearchRequest, ScrapeError> {
    search_request_with(params, &[])
}

/// Validates `params` and builds the request, asking for `extra_fields` besides the summary's (and the
/// sites', when a place is given).
pub(crate) fn search_request_with(
    params: &TrialSearchParams,
    extra_fields: &[&str],
) -> Result<SearchRequest, ScrapeError> {
    let condition = text_param("condition", params.condition.as_deref(), MAX_TEXT_CHARS)?;
    let term = text_param("term", params.term.as_deref(), MAX_TERM_CHARS)?;
    let intervention = text_param("intervention", params.intervention.as_deref(), MAX_TEXT_CHARS)?;
    let sponsor = text_param("sponsor", params.sponsor.as_deref(), MAX_TEXT_CHARS)?;
    let location = text_param("location", params.location.as_deref(), MAX_TEXT_CHARS)?;
    let geo = params.geo.map(geo_param).transpose()?;
    let status = statuses(&params.status)?;
    let phases = phases(&params.phase)?;

    let max_results = bounded("max_results", params.max_results, DEFAULT_MAX_RESULTS, MAX_RESULTS)?;
    let page_size =
        bounded("page_size", params.page_size, max_results.min(DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)?;
    let page_token = match params.page_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => Some(page_token(token)?),
    };

    let nothing = condition.is_none()
        && term.is_none()
        && intervention.is_none()
        && sponsor.is_none()
        && location.is_none()
        && geo.is_none()
        && status.is_empty()
        && phases.is_empty();
    if nothing {
        return Err(ScrapeError::invalid(
            "condition",
            "nothing to search for: give at least one of condition, term, intervention, sponsor, location, \
             geo, status or phase",
        ));
    }

    let texts = [
        ("condition", "query.cond", condition),
        ("term", "query.term", term),
        ("intervention", "query.intr", intervention),
        ("sponsor", "query.spons", sponsor),
        ("location", "query.locn", location),
    ];
    let sizes: Vec<(&str, usize)> =
        texts.iter().filter_map(|(param, _, value)| value.map(|v| (*param, encoded_len(v)))).collect();
    let total: usize = sizes.iter().map(|(_, size)| size).sum();
    if total > MAX_TEXT_BYTES
        && let Some((largest, size)) = sizes.iter().max_by_key(|(_, size)| *size)
    {
        return Err(ScrapeError::invalid(
            *largest,
            format!(
                "{size} bytes once URL-encoded; the text parameters of one search may take {MAX_TEXT_BYTES} \
                 together (they take {total}), as ClinicalTrials.gov reads them from the URL: shorten it"
            ),
        ));
    }

    let mut query: Vec<(&'static str, String)> = Vec::new();
    for (_, name, value) in texts {
        if let Some(value) = value {
            query.push((name, value.to_owned()));
        }
    }
    if !status.is_empty() {
        query.push(("filter.overallStatus", status.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")));
    }
    if let Some(geo) = geo {
        query.push(("filter.geo", geo));
    }
    if let Some(advanced) = phase_filter(&phases) {
        query.push(("filter.advanced", advanced));
    }
    let mut fields = vec![SEARCH_FIELDS];
    fields.extend_from_slice(extra_fields);
    if location.is_some() || params.geo.is_some() {
        fields.push(LOCATION_FIELDS);
    }
    query.push(("fields", fields.join(",")));
    query.push(("countTotal", "true".to_owned()));
    Ok(SearchRequest { query, page_size, max_results, page_token })
}

/// `AREA[Phase](PHASE2 OR PHASE3)`; there is no `filter.phase` in API v2.
pub(crate) fn phase_filter(phases: &[Phase]) -> Option<String> {
    (!phases.is_empty()).then(|| {
        format!("AREA[Phase]({})", phases.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" OR "))
    })
}

/// Reads the `status` list (duplicates dropped, order kept); an unknown value lists the accepted ones.
pub(crate) fn statuses(values: &[String]) -> Result<Vec<TrialStatus>, ScrapeError> {
    let mut out = Vec::new();
    for value in values {
        let status = TrialStatus::parse(value).ok_or_else(|| {
            ScrapeError::invalid(
                "status",
                format!(
                    "unknown status {}; accepted: {}",
                    quote(value),
                    TrialStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !out.contains(&status) {
            out.push(status);
        }
    }
    Ok(out)
}

/// Reads the `phase` list (duplicates dropped, order kept); an unknown value lists the accepted ones.
pub(crate) fn phases(values: &[String]) -> Result<Vec<Phase>, ScrapeError> {
    let mut out = Vec::new();
    for value in values {
        let parsed = Phase::parse_many(value).ok_or_else(|| {
            ScrapeError::invalid(
                "phase",
                format!(
                    "unknown phase {}; accepted: {} (also `2`, `phase II`, `1/2`)",
                    quote(value),
                    Phase::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        for phase in parsed {
            if !out.contains(&phase) {
                out.push(phase);
            }
        }
    }
    Ok(out)
}

/// `distance(lat,lon,radius{mi|km})`, after range checks.
pub(crate) fn geo_param(geo: GeoFilter) -> Result<String, ScrapeError> {
    if !geo.lat.is_finite() || !(-90.0..=90.0).contains(&geo.lat) {
        return Err(ScrapeError::invalid("geo.lat", format!("{} is not a latitude (-90 to 90)", geo.lat)));
    }
    if !geo.lon.is_finite() || !(-180.0..=180.0).contains(&geo.lon) {
        return Err(ScrapeError::invalid("geo.lon", format!("{} is not a longitude (-180 to 180)", geo.lon)));
    }
    if !geo.radius.is_finite() || geo.radius <= 0.0 || geo.radius > MAX_RADIUS {
        return Err(ScrapeError::invalid(
            "geo.radius",
            format!("{} must be greater than 0 and at most {MAX_RADIUS}", geo.radius),
        ));
    }
    let unit = match geo.unit {
        DistanceUnit::Mi => "mi",
        DistanceUnit::Km => "km",
    };
    // Display of f64 never uses an exponent, as the API's pattern requires.
    Ok(format!("distance({},{},{}{unit})", geo.lat, geo.lon, geo.radius))
}

/// A free-text parameter: absent when empty; no control characters; balanced quotes and brackets
/// (an unbalanced Essie expression is a 400 upstream, better caught here with a clear message).
pub(crate) fn text_param<'a>(
    name: &str,
    value: Option<&'a str>,
    max_chars: usize,
) -> Result<Option<&'a str>, ScrapeError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max_chars {
        return Err(ScrapeError::invalid(
            name,
            format!("{} characters, longer than the {max_chars} allowed", value.chars().count()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ScrapeError::invalid(name, "contains control characters"));
    }
    if value.chars().filter(|c| *c == '"').count() % 2 == 1 {
        return Err(ScrapeError::invalid(name, format!("unbalanced double quote in {}", quote(value))));
    }
    let mut depth: Vec<char> = Vec::new();
    let mut in_quotes = false;
    for c in value.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '(' | '[' if !in_quotes => depth.push(c),
            ')' | ']' if !in_quotes => {
                let open = if c == ')' { '(' } else { '[' };
                if depth.pop() != Some(open) {
                    return Err(ScrapeError::invalid(name, format!("unbalanced {c:?} in {}", quote(value))));
                }
            }
            _ => {}
        }
    }
    if let Some(open) = depth.pop() {
        return Err(ScrapeError::invalid(name, format!("unclosed {open:?} in {}", quote(value))));
    }
    Ok(Some(value))
}

/// The length of `value` once form-URL-encoded.
fn encoded_len(value: &str) -> usize {
    url::form_urlencoded::byte_serialize(value.as_bytes()).map(str::len).sum()
}

fn bounded(name: &str, value: Option<u32>, default: u32, max: u32) -> Result<u32, ScrapeError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=max).contains(&v) => Ok(v),
        Some(v) => Err(ScrapeError::invalid(name, format!("{v} is out of range: give 1 to {max}"))),
    }
}

fn page_token(token: &str) -> Result<String, ScrapeError> {
    let ok = token.len() <= 512 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(ScrapeError::invalid(
            "page_token",
            "not a ClinicalTrials.gov page token: pass the `next_page_token` of an earlier call unchanged",
        ));
    }
    Ok(token.to_owned())
}

/// Checks and normalises an NCT number: `nct06604689` → `NCT06604689` (`NCT` + 8 digits).
pub fn normalize_nct(id: &str) -> Result<String, ScrapeError> {
    let trimmed = id.trim();
    let upper = trimmed.to_ascii_uppercase();
    let ok = upper.len() == 11 && upper.starts_with("NCT") && upper[3..].bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(ScrapeError::invalid(
            "nct_id",
            format!(
                "{} is not an NCT number: expected `NCT` followed by 8 digits, e.g. NCT06604689",
                quote(trimmed)
            ),
        ));
    }
    Ok(upper)
}

/// Parts of a study that `trial_get` can return besides its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrialSection {
    /// Eligibility criteria (split into inclusion and exclusion), sex, ages.
    Eligibility,
    /// Study sites.
    Locations,
    /// Arms and interventions with their descriptions.
    Arms,
    /// Primary, secondary and other outcome measures.
    Outcomes,
    /// Lead sponsor class and collaborators.
    Sponsor,
    /// Primary completion, first posted and last update dates.
    Dates,
}

impl TrialSection {
    /// Every section.
    pub const ALL: [TrialSection; 6] = [
        TrialSection::Eligibility,
        TrialSection::Locations,
        TrialSection::Arms,
        TrialSection::Outcomes,
        TrialSection::Sponsor,
        TrialSection::Dates,
    ];

    fn fields(self) -> &'static str {
        match self {
            TrialSection::Eligibility => "EligibilityModule",
            TrialSection::Locations => "ContactsLocationsModule",
            TrialSection::Arms => "ArmsInterventionsModule",
            TrialSection::Outcomes => "OutcomesModule",
            TrialSection::Sponsor => "SponsorCollaboratorsModule",
            TrialSection::Dates => "StatusModule",
        }
    }
}

/// The `fields` of a single-study fetch for these sections (sorted, so equal requests share a cache key).
pub(crate) fn study_fields(sections: &[TrialSection]) -> String {
    let mut fields: Vec<&str> = BASE_FIELDS.to_vec();
    let mut sections = sections.to_vec();
    sections.sort();
    sections.dedup();
    fields.extend(sections.iter().map(|s| s.fields()));
    fields.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the request for `params` and compares its pairs (one `name=value` per line, `fields`
    /// left out) with `expected`, or the error text with `expected` when it starts with `error:`.
    fn check(params: TrialSearchParams, expected: &str) {
        let got = match search_request(&params) {
            Ok(request) => {
                let mut lines: Vec<String> = request
                    .page(request.page_size, request.page_token.as_deref())
                    .into_iter()
                    .filter(|(k, _)| *k != "fields")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                lines.push(format!("max_results={}", request.max_results));
                lines.join("\n")
            }
            Err(err) => format!("error: {err}"),
        };
        assert_eq!(got.trim(), expected.trim(), "\nparams: {params:?}");
    }

    fn p() -> TrialSearchParams {
        TrialSearchParams::default()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn builds_queries_and_filters() {
        check(
            TrialSearchParams {
                condition: Some("melanoma".into()),
                status: strings(&["RECRUITING"]),
                page_size: Some(3),
                ..p()
            },
            "query.cond=melanoma\nfilter.overallStatus=RECRUITING\ncountTotal=true\npageSize=3\nmax_results=50",
        );
        check(
            TrialSearchParams { intervention: Some("\"Keytruda\"".into()), max_results: Some(3), ..p() },
            "query.intr=\"Keytruda\"\ncountTotal=true\npageSize=3\nmax_results=3",
        );
        check(
            TrialSearchParams {
                condition: Some("  non-small cell lung cancer ".into()),
                term: Some("EGFR".into()),
                intervention: Some("osimertinib".into()),
                sponsor: Some("AstraZeneca".into()),
                location: Some("Boston".into()),
                geo: Some(GeoFilter { lat: 42.36, lon: -71.06, radius: 50.0, unit: DistanceUnit::Mi }),
                status: strings(&["recruiting", "Not yet recruiting", "RECRUITING"]),
                phase: strings(&["phase 2", "3", "II"]),
                page_size: Some(20),
                max_results: Some(200),
                page_token: Some("ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw".into()),
                response_format: ResponseFormat::Detailed,
            },
            "query.cond=non-small cell lung cancer
query.term=EGFR
query.intr=osimertinib
query.spons=AstraZeneca
query.locn=Boston
filter.overallStatus=RECRUITING,NOT_YET_RECRUITING
filter.geo=distance(42.36,-71.06,50mi)
filter.advanced=AREA[Phase](PHASE2 OR PHASE3)
countTotal=true
pageSize=20
pageToken=ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw
max_results=200",
        );
        check(
            TrialSearchParams {
                phase: strings(&["1/2", "early phase 1", "N/A"]),
                geo: Some(GeoFilter { lat: -33.5, lon: 151.0, radius: 100.0, unit: DistanceUnit::Km }),
                condition: Some(String::new()),
                ..p()
            },
            "filter.geo=distance(-33.5,151,100km)
filter.advanced=AREA[Phase](PHASE1 OR PHASE2 OR EARLY_PHASE1 OR NA)
countTotal=true
pageSize=50
max_results=50",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), max_results: Some(1000), ..p() },
            "query.cond=x\ncountTotal=true\npageSize=100\nmax_results=1000",
        );
    }

    #[test]
    fn a_place_asks_for_the_sites_and_extra_fields_are_added() {
        let fields = |params: &TrialSearchParams, extra: &[&str]| {
            let request = search_request_with(params, extra).unwrap_or_else(|err| panic!("{err}"));
            request.query.iter().find(|(k, _)| *k == "fields").map(|(_, v)| v.clone()).unwrap_or_default()
        };
        let plain = TrialSearchParams { condition: Some("melanoma".into()), ..p() };
        assert_eq!(fields(&plain, &[]), SEARCH_FIELDS);
        assert_eq!(fields(&plain, &["EligibilityCriteria"]), format!("{SEARCH_FIELDS},EligibilityCriteria"));
        let boston = TrialSearchParams { location: Some("Boston".into()), ..plain.clone() };
        assert_eq!(fields(&boston, &[]), format!("{SEARCH_FIELDS},{LOCATION_FIELDS}"));
        let geo = GeoFilter { lat: 42.36, lon: -71.06, radius: 50.0, unit: DistanceUnit::Mi };
        let around = TrialSearchParams { geo: Some(geo), ..plain };
        assert!(fields(&around, &[]).ends_with(",LocationGeoPoint"));
    }

    #[test]
    fn rejects_bad_parameters_by_name() {
        check(
            p(),
            "error: invalid argument `condition`: nothing to search for: give at least one of condition, term, intervention, sponsor, location, geo, status or phase",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), status: strings(&["open"]), ..p() },
            "error: invalid argument `status`: unknown status \"open\"; accepted: RECRUITING, NOT_YET_RECRUITING, ENROLLING_BY_INVITATION, ACTIVE_NOT_RECRUITING, SUSPENDED, TERMINATED, COMPLETED, WITHDRAWN, UNKNOWN, AVAILABLE, NO_LONGER_AVAILABLE, TEMPORARILY_NOT_AVAILABLE, APPROVED_FOR_MARKETING, WITHHELD",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), phase: strings(&["phase 5"]), ..p() },
            "error: invalid argument `phase`: unknown phase \"phase 5\"; accepted: EARLY_PHASE1, PHASE1, PHASE2, PHASE3, PHASE4, NA (also `2`, `phase II`, `1/2`)",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), page_size: Some(0), ..p() },
            "error: invalid argument `page_size`: 0 is out of range: give 1 to 1000",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), page_size: Some(1001), ..p() },
            "error: invalid argument `page_size`: 1001 is out of range: give 1 to 1000",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), max_results: Some(5000), ..p() },
            "error: invalid argument `max_results`: 5000 is out of range: give 1 to 1000",
        );
        check(
            TrialSearchParams { condition: Some("x".into()), page_token: Some("a b".into()), ..p() },
            "error: invalid argument `page_token`: not a ClinicalTrials.gov page token: pass the `next_page_token` of an earlier call unchanged",
        );
        check(
            TrialSearchParams { term: Some("AREA[Phase](PHASE2".into()), ..p() },
            "error: invalid argument `term`: unclosed '(' in \"AREA[Phase](PHASE2\"",
        );
        check(
            TrialSearchParams { condition: Some("\"lung cancer".into()), ..p() },
            "error: invalid argument `condition`: unbalanced double quote in \"\\\"lung cancer\"",
        );
        check(
            TrialSearchParams {
                geo: Some(GeoFilter { lat: 91.0, lon: 0.0, radius: 1.0, unit: DistanceUnit::Mi }),
                ..p()
            },
            "error: invalid argument `geo.lat`: 91 is not a latitude (-90 to 90)",
        );
        check(
            TrialSearchParams {
                geo: Some(GeoFilter { lat: 0.0, lon: 0.0, radius: f64::NAN, unit: DistanceUnit::Mi }),
                ..p()
            },
            "error: invalid argument `geo.radius`: NaN must be greater than 0 and at most 25000",
        );
        check(
            TrialSearchParams { condition: Some("x".repeat(1001)), ..p() },
            "error: invalid argument `condition`: 1001 characters, longer than the 1000 allowed",
        );
        // 3,000 characters of `é` take 18,000 bytes in the URL: refused, naming the largest.
        check(
            TrialSearchParams { condition: Some("melanoma".into()), term: Some("é".repeat(3000)), ..p() },
            "error: invalid argument `term`: 18000 bytes once URL-encoded; the text parameters of one search \
             may take 6144 together (they take 18008), as ClinicalTrials.gov reads them from the URL: shorten it",
        );
        let long = TrialSearchParams { term: Some("a ".repeat(3000).trim().to_owned()), ..p() };
        assert!(search_request(&long).is_ok(), "5,999 encoded bytes fit");
    }

    #[test]
    fn bad_values_are_quoted_briefly() {
        let huge = "(".repeat(200_000);
        for err in [
            search_request(&TrialSearchParams { sponsor: Some(huge[..999].to_owned()), ..p() }),
            search_request(&TrialSearchParams { status: vec![huge.clone()], ..p() }),
            search_request(&TrialSearchParams { phase: vec![huge.clone()], ..p() }),
        ] {
            let text = err.expect_err("invalid").to_string();
            assert!(text.len() < 600, "{text}");
        }
        assert!(normalize_nct(&huge).expect_err("invalid").to_string().len() < 400);
    }

    #[test]
    fn nct_ids_are_checked_and_normalised() {
        assert_eq!(normalize_nct(" nct06604689 ").ok().as_deref(), Some("NCT06604689"));
        for bad in ["NCT0660468", "NCT066046890", "06604689", "NCTABCDEFGH", "", "NCT 06604689"] {
            let err = normalize_nct(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("`nct_id`") && err.contains("8 digits"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn study_fields_are_stable() {
        let a = study_fields(&[TrialSection::Locations, TrialSection::Eligibility]);
        let b =
            study_fields(&[TrialSection::Eligibility, TrialSection::Locations, TrialSection::Eligibility]);
        assert_eq!(a, b);
        assert!(a.ends_with(",EligibilityModule,ContactsLocationsModule"), "{a}");
        assert!(a.starts_with("NCTId,BriefTitle,OfficialTitle"), "{a}");
    }
}
