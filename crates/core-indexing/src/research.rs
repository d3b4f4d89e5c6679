//! The built-in `pubmed` and `trials` schemas: where research results are kept. The conversion from the
//! research types to these documents is typed and lives with the one crate that knows both (mcp-tools).

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
            // An article's full text (`article_fulltext` with `index`): searchable, not stored.
            FieldDef::new("body", Text).tokenizer(Tokenizer::EnStem).unstored(),
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
