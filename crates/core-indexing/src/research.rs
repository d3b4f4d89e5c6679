//! Research results → index documents: the built-in `pubmed` and `trials` schemas and converters.

use serde_json::{Map, Value, json};

use crate::schema::{FieldDef, FieldType, SchemaDef, Tokenizer};

pub(crate) fn pubmed_schema() -> SchemaDef {
    use FieldType::*;
    SchemaDef {
        id_field: "pmid".into(),
        fields: vec![
            FieldDef::new("pmid", String).fast(),
            FieldDef::new("title", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("abstract", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("authors", Text),
            FieldDef::new("journal", Text),
            FieldDef::new("year", I64).fast(),
            FieldDef::new("pub_date", Date).fast(),
            FieldDef::new("doi", String),
            FieldDef::new("pmcid", String),
            FieldDef::new("mesh", Text),
            FieldDef::new("publication_types", String),
            FieldDef::new("keywords", Text),
        ],
    }
}

pub(crate) fn trials_schema() -> SchemaDef {
    use FieldType::*;
    SchemaDef {
        id_field: "nct_id".into(),
        fields: vec![
            FieldDef::new("nct_id", String).fast(),
            FieldDef::new("title", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("official_title", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("status", String).fast(),
            FieldDef::new("phases", String),
            FieldDef::new("study_type", String),
            FieldDef::new("conditions", Text),
            FieldDef::new("interventions", Text),
            FieldDef::new("sponsor", Text),
            FieldDef::new("enrollment", U64).fast(),
            FieldDef::new("summary", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("eligibility", Text).tokenizer(Tokenizer::EnStem),
            FieldDef::new("sex", String),
            FieldDef::new("minimum_age", String),
            FieldDef::new("maximum_age", String),
            FieldDef::new("start_date", Date).fast(),
            FieldDef::new("completion_date", Date).fast(),
            FieldDef::new("countries", String),
            FieldDef::new("locations", Text),
            FieldDef::new("url", String).unindexed(),
            FieldDef::new("match_score", F64).fast(),
        ],
    }
}

fn put(out: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.trim().is_empty() => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(v) => {
            out.insert(key.to_string(), v);
        }
    }
}

fn string_at(v: &Value, path: &[&str]) -> Option<Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        _ => None,
    }
}

fn strings(v: Option<&Value>, pick: impl Fn(&Value) -> Option<String>) -> Option<Value> {
    let items: Vec<Value> =
        v?.as_array()?.iter().filter_map(pick).filter(|s| !s.trim().is_empty()).map(Value::String).collect();
    Some(Value::Array(items))
}

fn as_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Converts a PubMed article (the JSON of `core_scrapers::pubmed::Article`) into a document of
/// the built-in `pubmed` schema. Unknown or missing parts are left out; never panics.
pub fn pubmed_document(article: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "pmid", string_at(article, &["pmid"]));
    put(&mut out, "title", string_at(article, &["title"]));
    let abstract_text = string_at(article, &["abstract"]).or_else(|| {
        let sections = article.get("abstract_sections")?.as_array()?;
        let text: Vec<String> = sections
            .iter()
            .filter_map(|s| {
                let text = s.get("text")?.as_str()?;
                Some(match s.get("label").and_then(Value::as_str) {
                    Some(label) if !label.is_empty() => format!("{label}: {text}"),
                    _ => text.to_string(),
                })
            })
            .collect();
        Some(Value::String(text.join("\n\n")))
    });
    put(&mut out, "abstract", abstract_text);
    put(&mut out, "authors", strings(article.get("authors"), |a| a.get("name").and_then(as_string)));
    put(&mut out, "journal", string_at(article, &["journal", "title"]));
    let year = article.get("pub_date").and_then(|d| d.get("year")).and_then(Value::as_i64);
    put(&mut out, "year", year.map(Value::from));
    if let Some(year) = year {
        let month = article
            .pointer("/pub_date/month")
            .and_then(Value::as_u64)
            .filter(|m| (1..=12).contains(m))
            .unwrap_or(1);
        let day = article
            .pointer("/pub_date/day")
            .and_then(Value::as_u64)
            .filter(|d| (1..=31).contains(d))
            .unwrap_or(1);
        let valid = chrono::NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)
            .or_else(|| chrono::NaiveDate::from_ymd_opt(year as i32, month as u32, 1));
        if let Some(date) = valid.filter(|_| (1000..=9999).contains(&year)) {
            put(&mut out, "pub_date", Some(json!(date.format("%Y-%m-%d").to_string())));
        }
    }
    put(&mut out, "doi", string_at(article, &["doi"]));
    put(&mut out, "pmcid", string_at(article, &["pmcid"]));
    put(&mut out, "mesh", strings(article.get("mesh"), |m| m.get("descriptor").and_then(as_string)));
    put(&mut out, "publication_types", strings(article.get("publication_types"), as_string));
    put(&mut out, "keywords", strings(article.get("keywords"), as_string));
    Value::Object(out)
}

/// Converts a trial (the JSON of `core_scrapers::trials::Trial`, or a `TrialMatch`, whose
/// `score` becomes `match_score`) into a document of the built-in `trials` schema.
pub fn trial_document(trial: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "nct_id", string_at(trial, &["nct_id"]));
    put(&mut out, "title", string_at(trial, &["brief_title"]));
    put(&mut out, "official_title", string_at(trial, &["official_title"]));
    put(&mut out, "status", string_at(trial, &["overall_status"]));
    put(&mut out, "phases", strings(trial.get("phases"), as_string));
    put(&mut out, "study_type", string_at(trial, &["study_type"]));
    put(&mut out, "conditions", strings(trial.get("conditions"), as_string));
    let interventions = trial.get("interventions").and_then(Value::as_array).map(|items| {
        let mut names = Vec::new();
        for i in items {
            if let Some(name) = i.get("name").and_then(Value::as_str) {
                names.push(Value::String(name.to_string()));
            }
            if let Some(other) = i.get("other_names").and_then(Value::as_array) {
                names.extend(other.iter().filter(|o| o.is_string()).cloned());
            }
        }
        Value::Array(names)
    });
    put(&mut out, "interventions", interventions);
    put(&mut out, "sponsor", string_at(trial, &["sponsor"]));
    put(&mut out, "enrollment", trial.get("enrollment").and_then(Value::as_u64).map(Value::from));
    put(&mut out, "summary", string_at(trial, &["brief_summary"]));
    let eligibility = string_at(trial, &["eligibility", "criteria"]).or_else(|| {
        let e = trial.get("eligibility")?;
        let mut parts: Vec<String> = Vec::new();
        for key in ["inclusion", "exclusion"] {
            if let Some(items) = e.get(key).and_then(Value::as_array) {
                parts.extend(items.iter().filter_map(as_string));
            }
        }
        Some(Value::String(parts.join("\n")))
    });
    put(&mut out, "eligibility", eligibility);
    put(&mut out, "sex", string_at(trial, &["eligibility", "sex"]));
    put(&mut out, "minimum_age", string_at(trial, &["eligibility", "minimum_age"]));
    put(&mut out, "maximum_age", string_at(trial, &["eligibility", "maximum_age"]));
    for key in ["start_date", "completion_date"] {
        let date =
            string_at(trial, &[key]).filter(|d| d.as_str().and_then(crate::schema::parse_date).is_some());
        put(&mut out, key, date);
    }
    if let Some(locations) = trial.get("locations").and_then(Value::as_array) {
        let mut countries: Vec<String> =
            locations.iter().filter_map(|l| l.get("country").and_then(as_string)).collect();
        countries.sort();
        countries.dedup();
        put(&mut out, "countries", Some(json!(countries)));
        let places: Vec<Value> = locations
            .iter()
            .map(|l| {
                ["facility", "city", "state", "country"]
                    .iter()
                    .filter_map(|k| l.get(*k).and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .map(Value::String)
            .collect();
        put(&mut out, "locations", Some(Value::Array(places)));
    }
    put(&mut out, "url", string_at(trial, &["url"]));
    put(
        &mut out,
        "match_score",
        trial.get("score").and_then(Value::as_f64).filter(|s| s.is_finite()).map(Value::from),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{BuiltinSchema, CompiledSchema};

    fn article() -> Value {
        json!({ "pmid": "22663011", "title": "Improved survival with vemurafenib",
          "abstract_sections": [{"label": "BACKGROUND", "text": "BRAF V600E"}, {"text": "more"}],
          "authors": [{"name": "Paul B Chapman", "affiliation": "MSKCC"}, {"affiliation": "none"}],
          "journal": {"title": "The New England journal of medicine", "volume": "364"},
          "pub_date": {"year": 2011, "month": 6, "day": 30, "text": "2011 Jun 30"},
          "doi": "10.1056/NEJMoa1103782", "pmcid": "PMC3549296",
          "mesh": [{"descriptor": "Melanoma", "qualifiers": ["drug therapy"], "major_topic": true}],
          "publication_types": ["Journal Article"], "keywords": [] })
    }

    #[test]
    fn pubmed_article_maps_to_schema() {
        let doc = pubmed_document(&article());
        assert_eq!(doc["pmid"], "22663011");
        assert_eq!(doc["abstract"], "BACKGROUND: BRAF V600E\n\nmore");
        assert_eq!(doc["authors"], json!(["Paul B Chapman"]));
        assert_eq!(doc["journal"], "The New England journal of medicine");
        assert_eq!(doc["year"], 2011);
        assert_eq!(doc["pub_date"], "2011-06-30");
        assert_eq!(doc["mesh"], json!(["Melanoma"]));
        assert!(doc.get("keywords").is_none(), "empty lists are left out");
        let schema = CompiledSchema::compile(&BuiltinSchema::Pubmed.definition()).unwrap();
        schema.to_document(&doc, true, None).unwrap();
        // a bad date does not produce an invalid document
        let odd = pubmed_document(&json!({"pmid": 1, "pub_date": {"year": 2011, "month": 2, "day": 31}}));
        assert_eq!(odd["pub_date"], "2011-02-01");
        schema.to_document(&odd, true, None).unwrap();
        assert_eq!(pubmed_document(&json!("nonsense")), json!({}));
    }

    #[test]
    fn trial_and_match_map_to_schema() {
        let trial = json!({ "nct_id": "NCT06604689", "brief_title": "EGFR trial", "overall_status": "RECRUITING",
          "phases": ["PHASE2"], "study_type": "INTERVENTIONAL", "conditions": ["NSCLC"],
          "interventions": [{"type": "DRUG", "name": "Osimertinib", "other_names": ["AZD9291"]}],
          "sponsor": "X", "enrollment": 120, "brief_summary": "sum", "start_date": "2024-10",
          "completion_date": "unknown",
          "eligibility": {"inclusion": ["EGFR L858R"], "exclusion": ["none"], "sex": "ALL", "minimum_age": "18 Years"},
          "locations": [{"facility": "F", "city": "Paris", "country": "France"}, {"country": "France"}],
          "url": "https://clinicaltrials.gov/study/NCT06604689", "score": 0.8,
          "evidence": [{"section": "inclusion", "sentence": "EGFR L858R"}] });
        let doc = trial_document(&trial);
        assert_eq!(doc["title"], "EGFR trial");
        assert_eq!(doc["interventions"], json!(["Osimertinib", "AZD9291"]));
        assert_eq!(doc["eligibility"], "EGFR L858R\nnone");
        assert_eq!(doc["countries"], json!(["France"]));
        assert_eq!(doc["locations"], json!(["F, Paris, France", "France"]));
        assert_eq!(doc["match_score"], 0.8);
        assert_eq!(doc["start_date"], "2024-10");
        assert!(doc.get("completion_date").is_none());
        let schema = CompiledSchema::compile(&BuiltinSchema::Trials.definition()).unwrap();
        schema.to_document(&doc, true, None).unwrap();
    }
}
