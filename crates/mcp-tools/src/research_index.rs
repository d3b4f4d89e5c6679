//! Research results → index: what `pubmed_*` and `trials_*` found is also upserted into a local index on
//! request. The conversion from core-scrapers' article and trial types to the built-in schemas' documents is
//! here, typed, in the one crate that knows both.

use std::sync::Arc;

use core_indexing::{AddResponse, BuiltinSchema, IndexManager};
use core_scrapers::fulltext::FullTextResult;
use core_scrapers::mutation::{MutationTrials, TrialMatch};
use core_scrapers::pubmed::Article;
use core_scrapers::trials::Trial;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tool_metadata::ToolContext;

use crate::Error;

/// A research tool's parameters plus the optional index to keep its results in.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct WithIndex<T> {
    #[serde(flatten)]
    pub(crate) request: T,
    /// Also store results in this local index.
    #[serde(default, deserialize_with = "index_id")]
    pub(crate) index: Option<String>,
}

/// The `index` argument, checked as an index id before any upstream request (a bad one is a problem with
/// `index`, not with the index manager's `id`).
fn index_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let id = Option::<String>::deserialize(deserializer)?;
    if let Some(id) = &id {
        core_indexing::validate_index_id(id).map_err(|e| match e {
            core_indexing::IndexError::InvalidArgument { reason, .. } => {
                serde::de::Error::custom(format!("invalid `index`: {reason}"))
            }
            other => serde::de::Error::custom(format!("invalid `index`: {other}")),
        })?;
    }
    Ok(id)
}

/// A research tool's result plus what was indexed, when asked.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Indexed<T> {
    #[serde(flatten)]
    pub(crate) result: T,
    /// What the `index` argument added or updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) indexed: Option<AddResponse>,
}

/// A research result that is kept in a local index as a document of a built-in schema.
pub(crate) trait IndexDocument {
    /// The built-in schema its documents follow.
    const SCHEMA: BuiltinSchema;
    /// The document (absent and empty parts left out).
    fn document(&self) -> Value;
}

/// A document under construction: empty values are left out.
#[derive(Default)]
struct Doc(Map<String, Value>);

impl Doc {
    fn text(&mut self, key: &str, value: Option<&str>) -> &mut Doc {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.0.insert(key.to_owned(), v.into());
        }
        self
    }

    fn list<'a>(&mut self, key: &str, values: impl IntoIterator<Item = &'a str>) -> &mut Doc {
        let items: Vec<Value> =
            values.into_iter().map(str::trim).filter(|v| !v.is_empty()).map(Value::from).collect();
        if !items.is_empty() {
            self.0.insert(key.to_owned(), items.into());
        }
        self
    }

    fn value(&mut self, key: &str, value: Option<Value>) -> &mut Doc {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), v);
        }
        self
    }

    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

impl IndexDocument for Article {
    const SCHEMA: BuiltinSchema = BuiltinSchema::Pubmed;

    fn document(&self) -> Value {
        let abstract_text = self.abstract_text.clone().or_else(|| {
            let parts: Vec<String> = self
                .abstract_sections
                .iter()
                .map(|s| match s.label.as_deref().filter(|l| !l.is_empty()) {
                    Some(label) => format!("{label}: {}", s.text),
                    None => s.text.clone(),
                })
                .collect();
            Some(parts.join("\n\n"))
        });
        let date = self.pub_date.as_ref().and_then(|d| {
            let year = d.year.filter(|y| (1000..=9999).contains(y))?;
            let month = d.month.filter(|m| (1..=12).contains(m)).unwrap_or(1);
            let day = d.day.unwrap_or(1);
            let date = chrono::NaiveDate::from_ymd_opt(year, month.into(), day.into())
                .or_else(|| chrono::NaiveDate::from_ymd_opt(year, month.into(), 1))?;
            Some(date.format("%Y-%m-%d").to_string())
        });
        Doc::default()
            .text("pmid", Some(&self.pmid))
            .text("title", Some(&self.title))
            .text("abstract", abstract_text.as_deref())
            .list("authors", self.authors.iter().map(|a| a.name.as_str()))
            .text("journal", self.journal.as_ref().and_then(|j| j.title.as_deref()))
            .value("year", self.pub_date.as_ref().and_then(|d| d.year).map(Value::from))
            .value("pub_date", date.map(Value::from))
            .text("doi", self.doi.as_deref())
            .text("pmcid", self.pmcid.as_deref())
            .list("mesh", self.mesh.iter().map(|m| m.descriptor.as_str()))
            .list("publication_types", self.publication_types.iter().map(String::as_str))
            .list("keywords", self.keywords.iter().map(String::as_str))
            .done()
    }
}

/// A full text is kept as its article's PubMed document with the body (`body`, searchable) added.
impl IndexDocument for FullTextResult {
    const SCHEMA: BuiltinSchema = BuiltinSchema::Pubmed;

    fn document(&self) -> Value {
        let a = &self.article;
        let body = a.body_text();
        let year = a.year();
        Doc::default()
            .text("pmid", a.ids.pmid.as_deref())
            .text("title", Some(&a.title))
            .text("abstract", a.abstract_text.as_deref())
            .list("authors", a.authors.iter().map(|x| x.name.as_str()))
            .text("journal", a.journal.as_deref())
            .value("year", year.map(Value::from))
            .text("doi", a.ids.doi.as_deref())
            .text("pmcid", a.ids.pmcid.as_deref())
            .list("keywords", a.keywords.iter().map(String::as_str))
            .text("body", Some(&body))
            .done()
    }
}

/// A trial's document, with the match score when it came from a match.
fn trial_document(t: &Trial, score: Option<f64>) -> Value {
    let eligibility = t.eligibility.as_ref().and_then(|e| {
        e.criteria.clone().or_else(|| {
            let lines: Vec<&str> = e.inclusion.iter().chain(&e.exclusion).map(String::as_str).collect();
            Some(lines.join("\n"))
        })
    });
    let interventions = t
        .interventions
        .iter()
        .flat_map(|i| std::iter::once(i.name.as_str()).chain(i.other_names.iter().map(String::as_str)));
    let mut countries: Vec<&str> = t.locations.iter().filter_map(|l| l.country.as_deref()).collect();
    countries.sort_unstable();
    countries.dedup();
    let places: Vec<String> = t
        .locations
        .iter()
        .map(|l| {
            [&l.facility, &l.city, &l.state, &l.country]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let e = t.eligibility.as_ref();
    Doc::default()
        .text("nct_id", Some(&t.nct_id))
        .text("title", t.brief_title.as_deref())
        .text("official_title", t.official_title.as_deref())
        .text("status", t.overall_status.as_deref())
        .list("phases", t.phases.iter().map(String::as_str))
        .text("study_type", t.study_type.as_deref())
        .list("conditions", t.conditions.iter().map(String::as_str))
        .list("interventions", interventions)
        .text("sponsor", t.sponsor.as_deref())
        .value("enrollment", t.enrollment.map(Value::from))
        .text("summary", t.brief_summary.as_deref())
        .text("eligibility", eligibility.as_deref())
        .text("sex", e.and_then(|e| e.sex.as_deref()))
        .text("minimum_age", e.and_then(|e| e.minimum_age.as_deref()))
        .text("maximum_age", e.and_then(|e| e.maximum_age.as_deref()))
        .text("start_date", t.start_date.as_deref())
        .text("completion_date", t.completion_date.as_deref())
        .list("countries", countries)
        .list("locations", places.iter().map(String::as_str))
        .text("url", Some(&t.url))
        .value("match_score", score.filter(|s| s.is_finite()).map(Value::from))
        .done()
}

impl IndexDocument for Trial {
    const SCHEMA: BuiltinSchema = BuiltinSchema::Trials;

    fn document(&self) -> Value {
        trial_document(self, None)
    }
}

impl IndexDocument for TrialMatch {
    const SCHEMA: BuiltinSchema = BuiltinSchema::Trials;

    fn document(&self) -> Value {
        trial_document(&self.trial, Some(self.score))
    }
}

/// The index documents of a research result pipette printed (`pipette --json pubmed …`, `trials …`, or the
/// structured content of those tools): its articles, trials or matched trials, converted. `None` when
/// `value` is none of those.
pub fn research_documents(value: &Value) -> Option<Vec<Value>> {
    fn all<T: IndexDocument + serde::de::DeserializeOwned>(items: &Value) -> Option<Vec<Value>> {
        let items: Vec<T> = serde_json::from_value(items.clone()).ok()?;
        Some(items.iter().map(T::document).collect())
    }
    let object = value.as_object()?;
    if let Some(articles) = object.get("articles") {
        return all::<Article>(articles);
    }
    if let Some(trials) = object.get("trials") {
        return all::<Trial>(trials);
    }
    if object.contains_key("matches") {
        let found: MutationTrials = serde_json::from_value(value.clone()).ok()?;
        return Some(found.matches.iter().map(TrialMatch::document).collect());
    }
    if object.contains_key("nct_id") && object.contains_key("url") {
        return serde_json::from_value::<Trial>(value.clone()).ok().map(|t| vec![t.document()]);
    }
    None
}

/// Upserts `items` into `index` (on the blocking pool: tantivy work never runs on the I/O threads).
pub(crate) async fn index_into<T: IndexDocument>(
    ctx: &ToolContext,
    index: Option<&str>,
    items: &[T],
) -> Result<Option<AddResponse>, Error> {
    let Some(index) = index else { return Ok(None) };
    let manager: Arc<IndexManager> = ctx.service()?;
    let docs: Vec<Value> = items.iter().map(T::document).collect();
    let index = index.to_owned();
    let added = tokio::task::spawn_blocking(move || manager.upsert_research(&index, T::SCHEMA, docs))
        .await
        .map_err(|e| tool_metadata::ToolError::internal(format!("indexing the results failed: {e}")))??;
    Ok(Some(added))
}

/// A result's markdown plus a line saying what the `index` argument added, when it was given.
pub(crate) fn with_index_note(indexed: Option<&AddResponse>, mut markdown: String) -> String {
    if let Some(a) = indexed {
        markdown.push_str(&format!(
            "\nIndexed into `{}`: {} added, {} updated, {} rejected (search them with `index_search`).\n",
            a.id, a.added, a.updated, a.rejected
        ));
    }
    markdown
}

#[cfg(test)]
mod tests {
    use core_indexing::{GetRequest, IndexConfig};
    use core_scrapers::pubmed::{AbstractSection, Author, Journal, MeshHeading, PubDate};
    use core_scrapers::trials::{Eligibility, Intervention, Location};
    use serde_json::json;

    use super::*;

    fn article() -> Article {
        Article {
            pmid: "22663011".into(),
            title: "Improved survival with MEK inhibition in BRAF-mutated melanoma.".into(),
            abstract_sections: vec![
                AbstractSection { label: Some("BACKGROUND".into()), text: "BRAF V600E".into() },
                AbstractSection { label: None, text: "more".into() },
            ],
            authors: vec![Author { name: "Keith T Flaherty".into(), ..Author::default() }],
            journal: Some(Journal {
                title: Some("The New England journal of medicine".into()),
                ..Journal::default()
            }),
            pub_date: Some(PubDate {
                year: Some(2012),
                month: Some(2),
                day: Some(31),
                text: "2012 Feb".into(),
            }),
            mesh: vec![MeshHeading { descriptor: "Melanoma".into(), ..MeshHeading::default() }],
            publication_types: vec!["Journal Article".into()],
            ..Article::default()
        }
    }

    fn trial() -> Trial {
        Trial {
            nct_id: "NCT06604689".into(),
            brief_title: Some("Osimertinib in EGFR L858R NSCLC".into()),
            overall_status: Some("RECRUITING".into()),
            phases: vec!["PHASE2".into()],
            interventions: vec![Intervention {
                name: "Osimertinib".into(),
                other_names: vec!["AZD9291".into()],
                ..Intervention::default()
            }],
            enrollment: Some(120),
            start_date: Some("2024-10".into()),
            completion_date: Some("unknown".into()),
            eligibility: Some(Eligibility {
                inclusion: vec!["EGFR L858R".into()],
                exclusion: vec!["none".into()],
                sex: Some("ALL".into()),
                ..Eligibility::default()
            }),
            locations: vec![
                Location {
                    facility: Some("F".into()),
                    city: Some("Paris".into()),
                    country: Some("France".into()),
                    ..Location::default()
                },
                Location { country: Some("France".into()), ..Location::default() },
            ],
            url: "https://clinicaltrials.gov/study/NCT06604689".into(),
            ..Trial::default()
        }
    }

    #[test]
    fn articles_and_trials_round_trip_through_a_builtin_index() {
        let doc = article().document();
        assert_eq!(doc["abstract"], "BACKGROUND: BRAF V600E\n\nmore");
        assert_eq!(doc["authors"], json!(["Keith T Flaherty"]));
        assert_eq!(
            (doc["year"].clone(), doc["pub_date"].clone()),
            (json!(2012), json!("2012-02-01")),
            "Feb 31 → the 1st"
        );
        assert!(doc.get("keywords").is_none(), "empty lists are left out");
        let matched = TrialMatch { trial: trial(), score: 0.8, evidence: Vec::new() };
        let t = matched.document();
        assert_eq!(t["interventions"], json!(["Osimertinib", "AZD9291"]));
        assert_eq!(t["eligibility"], "EGFR L858R\nnone");
        assert_eq!(
            (t["countries"].clone(), t["locations"].clone()),
            (json!(["France"]), json!(["F, Paris, France", "France"]))
        );
        assert_eq!(t["match_score"], 0.8);

        // What pipette printed converts the same way.
        let printed = json!({ "articles": [serde_json::to_value(article()).unwrap()], "not_found": [] });
        assert_eq!(research_documents(&printed), Some(vec![doc.clone()]));
        let printed = json!({ "trials": [serde_json::to_value(trial()).unwrap()] });
        assert_eq!(research_documents(&printed), Some(vec![trial().document()]));
        assert_eq!(research_documents(&json!([{ "id": "plain" }])), None);

        // The documents are what the built-in schemas take: nothing rejected, read back as converted.
        let dir = tempfile::tempdir().unwrap();
        let indexes =
            IndexManager::open(IndexConfig { data_dir: dir.path().into(), ..IndexConfig::default() })
                .unwrap();
        let added = indexes.upsert_research("lit", Article::SCHEMA, vec![doc.clone()]).unwrap();
        assert_eq!((added.added, added.rejected), (1, 0), "{added:?}");
        let got = indexes.get(&GetRequest { id: "lit".into(), doc_id: "22663011".into() }).unwrap();
        assert_eq!(got.document, Some(doc));
        let added = indexes.upsert_research("trials", TrialMatch::SCHEMA, vec![t]).unwrap();
        assert_eq!((added.added, added.rejected), (1, 0), "an unreadable date is left out: {added:?}");
        let got = indexes.get(&GetRequest { id: "trials".into(), doc_id: "NCT06604689".into() }).unwrap();
        assert!(got.document.unwrap().get("completion_date").is_none());
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    struct Query {
        #[allow(dead_code)]
        query: String,
    }

    #[test]
    fn a_bad_index_is_refused_before_any_request_naming_index() {
        let parse = tool_metadata::__private::parse_params::<WithIndex<Query>>;
        let err = parse(serde_json::json!({"query": "x", "index": "../bad"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("index"), "{err:?}");
        assert!(err.message.contains("must not be a path"), "{}", err.message);
        let ok = parse(serde_json::json!({"query": "x", "index": "papers"})).unwrap();
        assert_eq!(ok.index.as_deref(), Some("papers"));
        assert!(parse(serde_json::json!({"query": "x"})).unwrap().index.is_none());
    }
}
