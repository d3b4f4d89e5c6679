//! Recorded ClinicalTrials.gov studies reshaped the way the live API answers other requests: a search page
//! that carries each study's eligibility text (`fields=…,EligibilityCriteria`) and sites with coordinates
//! (the recorded studies list none). Built from the fixtures at run time; nothing is copied.

use serde_json::{Value, json};

use crate::fixtures::fixture;

/// A recorded study (`clinicaltrials/get_{nct}_20260811.json`, `nct` in any case) as JSON.
///
/// # Panics
/// When the fixture is missing or not JSON.
pub fn study(nct: &str) -> Value {
    let rel = format!("clinicaltrials/get_{}_20260811.json", nct.to_ascii_lowercase());
    serde_json::from_slice(&fixture(&rel)).unwrap_or_else(|err| panic!("{rel}: {err}"))
}

/// A search page of these studies, whole (eligibility text included), with `totalCount`.
pub fn search_page(studies: &[Value]) -> Value {
    json!({ "studies": studies, "totalCount": studies.len() })
}

/// One site as API v2 spells it: facility, status, city, state (empty: none), country, and its
/// `geoPoint` when given.
pub fn site(
    facility: &str,
    status: &str,
    city: &str,
    state: &str,
    country: &str,
    at: Option<(f64, f64)>,
) -> Value {
    let mut site = json!({ "facility": facility, "status": status, "city": city, "country": country });
    if !state.is_empty() {
        site["state"] = json!(state);
    }
    if let Some((lat, lon)) = at {
        site["geoPoint"] = json!({ "lat": lat, "lon": lon });
    }
    site
}

/// Three sites in and around Boston (one without coordinates), one in New York, one in Shanghai.
pub fn boston_sites() -> Vec<Value> {
    vec![
        site(
            "Fudan University Cancer Hospital",
            "RECRUITING",
            "Shanghai",
            "Shanghai",
            "China",
            Some((31.19, 121.44)),
        ),
        site(
            "Lahey Hospital",
            "NOT_YET_RECRUITING",
            "Burlington",
            "Massachusetts",
            "United States",
            Some((42.4850, -71.2006)),
        ),
        site(
            "Dana-Farber Cancer Institute",
            "RECRUITING",
            "Boston",
            "Massachusetts",
            "United States",
            Some((42.3376, -71.1076)),
        ),
        site("Boston Medical Center", "RECRUITING", "Boston", "Massachusetts", "United States", None),
        site(
            "Memorial Sloan Kettering",
            "RECRUITING",
            "New York",
            "New York",
            "United States",
            Some((40.7644, -73.9561)),
        ),
    ]
}

/// `study` with `sites` as its `contactsLocationsModule.locations`.
pub fn with_sites(mut study: Value, sites: Vec<Value>) -> Value {
    if let Some(protocol) = study.get_mut("protocolSection").and_then(Value::as_object_mut) {
        protocol.insert("contactsLocationsModule".to_owned(), json!({ "locations": sites }));
    }
    study
}
