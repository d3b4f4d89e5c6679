//! Pure parsers of ClinicalTrials.gov API v2 answers: a search page (`/studies`) and one study
//! (`/studies/{nctId}`), into `Trial`s. Unknown fields are ignored; missing ones stay empty.

use serde::Deserialize;

use crate::error::ScrapeError;
use crate::http::Service;
use crate::trials::criteria;
use crate::trials::model::{
    Arm, Eligibility, Intervention, Location, Outcome, OutcomeKind, SearchPage, Trial, study_url,
};

/// Parses one page of `/studies` (JSON).
pub fn parse_search(body: &[u8]) -> Result<SearchPage, ScrapeError> {
    let raw: RawPage = from_slice(body, "search page")?;
    let trials = raw.studies.into_iter().map(RawStudy::into_trial).collect::<Result<Vec<_>, _>>()?;
    Ok(SearchPage {
        trials,
        total_count: raw.total_count,
        next_page_token: raw.next_page_token.filter(|t| !t.is_empty()),
    })
}

/// Parses one study of `/studies/{nctId}` (JSON), every module present, criteria split.
pub fn parse_study(body: &[u8]) -> Result<Trial, ScrapeError> {
    let raw: RawStudy = from_slice(body, "study")?;
    raw.into_trial()
}

fn from_slice<'de, T: Deserialize<'de>>(body: &'de [u8], what: &str) -> Result<T, ScrapeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        ScrapeError::parse(Service::ClinicalTrials, format!("{what}: at `{}`: {}", err.path(), err.inner()))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    studies: Vec<RawStudy>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStudy {
    protocol_section: Protocol,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Protocol {
    identification_module: Identification,
    status_module: Status,
    sponsor_collaborators_module: Sponsors,
    description_module: Description,
    conditions_module: Conditions,
    design_module: Design,
    arms_interventions_module: ArmsInterventions,
    outcomes_module: Outcomes,
    eligibility_module: RawEligibility,
    contacts_locations_module: ContactsLocations,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Identification {
    nct_id: Option<String>,
    brief_title: Option<String>,
    official_title: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Status {
    overall_status: Option<String>,
    start_date_struct: Option<DateStruct>,
    primary_completion_date_struct: Option<DateStruct>,
    completion_date_struct: Option<DateStruct>,
    study_first_post_date_struct: Option<DateStruct>,
    last_update_post_date_struct: Option<DateStruct>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DateStruct {
    date: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Sponsors {
    lead_sponsor: Option<Organisation>,
    collaborators: Vec<Organisation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Organisation {
    name: Option<String>,
    class: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Description {
    brief_summary: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Conditions {
    conditions: Vec<String>,
    keywords: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Design {
    study_type: Option<String>,
    phases: Vec<String>,
    enrollment_info: Option<EnrollmentInfo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrollmentInfo {
    count: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ArmsInterventions {
    arm_groups: Vec<RawArm>,
    interventions: Vec<RawIntervention>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawArm {
    label: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    intervention_names: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawIntervention {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    description: Option<String>,
    other_names: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Outcomes {
    primary_outcomes: Vec<RawOutcome>,
    secondary_outcomes: Vec<RawOutcome>,
    other_outcomes: Vec<RawOutcome>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawOutcome {
    measure: Option<String>,
    description: Option<String>,
    time_frame: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawEligibility {
    eligibility_criteria: Option<String>,
    healthy_volunteers: Option<bool>,
    sex: Option<String>,
    minimum_age: Option<String>,
    maximum_age: Option<String>,
    std_ages: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactsLocations {
    locations: Vec<RawLocation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawLocation {
    facility: Option<String>,
    status: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zip: Option<String>,
    country: Option<String>,
    geo_point: Option<GeoPoint>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GeoPoint {
    lat: Option<f64>,
    lon: Option<f64>,
}

/// Trims, and turns an empty text into `None`.
fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn texts(values: Vec<String>) -> Vec<String> {
    values.into_iter().filter_map(|v| text(Some(v))).collect()
}

fn date(value: Option<DateStruct>) -> Option<String> {
    text(value.and_then(|d| d.date))
}

impl RawStudy {
    fn into_trial(self) -> Result<Trial, ScrapeError> {
        let p = self.protocol_section;
        let nct_id = text(p.identification_module.nct_id).ok_or_else(|| {
            ScrapeError::parse(Service::ClinicalTrials, "a study without `identificationModule.nctId`")
        })?;
        let (sponsor, sponsor_class) = match p.sponsor_collaborators_module.lead_sponsor {
            Some(lead) => (text(lead.name), text(lead.class)),
            None => (None, None),
        };
        let outcomes = p.outcomes_module;
        let outcomes = [
            (OutcomeKind::Primary, outcomes.primary_outcomes),
            (OutcomeKind::Secondary, outcomes.secondary_outcomes),
            (OutcomeKind::Other, outcomes.other_outcomes),
        ]
        .into_iter()
        .flat_map(|(kind, list)| {
            list.into_iter().filter_map(move |o| {
                Some(Outcome {
                    kind,
                    measure: text(o.measure)?,
                    time_frame: text(o.time_frame),
                    description: text(o.description),
                })
            })
        })
        .collect();
        let e = p.eligibility_module;
        let criteria = text(e.eligibility_criteria);
        let split = criteria.as_deref().map(criteria::split).unwrap_or_default();
        let eligibility = Eligibility {
            inclusion: split.inclusion,
            exclusion: split.exclusion,
            unlabelled: split.unlabelled,
            criteria,
            sex: text(e.sex),
            minimum_age: text(e.minimum_age),
            maximum_age: text(e.maximum_age),
            healthy_volunteers: e.healthy_volunteers,
            std_ages: texts(e.std_ages),
        };
        let eligibility = (eligibility != Eligibility::default()).then_some(eligibility);
        Ok(Trial {
            url: study_url(&nct_id),
            nct_id,
            brief_title: text(p.identification_module.brief_title),
            official_title: text(p.identification_module.official_title),
            overall_status: text(p.status_module.overall_status),
            phases: texts(p.design_module.phases),
            study_type: text(p.design_module.study_type),
            conditions: texts(p.conditions_module.conditions),
            keywords: texts(p.conditions_module.keywords),
            interventions: p
                .arms_interventions_module
                .interventions
                .into_iter()
                .filter_map(|i| {
                    Some(Intervention {
                        name: text(i.name)?,
                        kind: text(i.kind),
                        other_names: texts(i.other_names),
                        description: text(i.description),
                    })
                })
                .collect(),
            arms: p
                .arms_interventions_module
                .arm_groups
                .into_iter()
                .filter_map(|a| {
                    Some(Arm {
                        label: text(a.label)?,
                        kind: text(a.kind),
                        description: text(a.description),
                        interventions: texts(a.intervention_names),
                    })
                })
                .collect(),
            outcomes,
            sponsor,
            sponsor_class,
            collaborators: p
                .sponsor_collaborators_module
                .collaborators
                .into_iter()
                .filter_map(|c| text(c.name))
                .collect(),
            enrollment: p.design_module.enrollment_info.and_then(|e| e.count),
            brief_summary: text(p.description_module.brief_summary),
            start_date: date(p.status_module.start_date_struct),
            primary_completion_date: date(p.status_module.primary_completion_date_struct),
            completion_date: date(p.status_module.completion_date_struct),
            first_posted: date(p.status_module.study_first_post_date_struct),
            last_updated: date(p.status_module.last_update_post_date_struct),
            eligibility,
            locations: p
                .contacts_locations_module
                .locations
                .into_iter()
                .map(|l| Location {
                    facility: text(l.facility),
                    city: text(l.city),
                    state: text(l.state),
                    zip: text(l.zip),
                    country: text(l.country),
                    status: text(l.status),
                    lat: l.geo_point.as_ref().and_then(|g| g.lat),
                    lon: l.geo_point.as_ref().and_then(|g| g.lon),
                    distance_km: None,
                })
                .collect(),
            locations_near: None,
            truncated: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_answers_are_parse_errors_naming_the_place() {
        let cases: [(&[u8], &str); 5] = [
            (b"{}", "missing field `studies`"),
            (b"{\"studies\": [{}]}", "protocolSection"),
            (b"{\"studies\": [{\"protocolSection\": {}}]}", "nctId"),
            (b"<html>", "expected value"),
            (
                b"{\"studies\": [{\"protocolSection\": {\"designModule\": {\"phases\": \"PHASE2\"}}}]}",
                "studies[0]",
            ),
        ];
        for (body, needle) in cases {
            let err = parse_search(body).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(needle), "{}: {err}", String::from_utf8_lossy(body));
            assert!(err.contains("ClinicalTrials.gov"), "{err}");
        }
        let err = parse_study(b"{\"protocolSection\": {\"identificationModule\": {\"nctId\": \"\"}}}")
            .err()
            .map(|e| e.kind());
        assert_eq!(err, Some("parse"));
    }

    #[test]
    fn an_empty_page_parses() {
        let page = parse_search(b"{\"studies\": [], \"nextPageToken\": \"\"}").ok();
        assert_eq!(page, Some(SearchPage::default()));
    }
}
