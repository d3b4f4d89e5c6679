//! Index schemas: the field definitions callers send, their validation, and documents → tantivy.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, JsonObjectOptions, NumericOptions, OwnedValue,
    STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument};

use crate::error::IndexError;

/// Name of the hidden stored field holding each document's original JSON.
pub(crate) const SOURCE_FIELD: &str = "_source";
const MAX_ID_LEN: usize = 512;

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Full text, tokenized (see `tokenizer`), searchable by words and phrases.
    Text,
    /// An exact string (not tokenized): ids, codes, statuses, tags.
    String,
    /// A signed 64-bit integer.
    I64,
    /// An unsigned 64-bit integer.
    U64,
    /// A 64-bit float.
    F64,
    /// true / false.
    Bool,
    /// A date: RFC 3339, `YYYY-MM-DD`, `YYYY-MM`, `YYYY`, or seconds since the epoch.
    Date,
    /// A JSON object, searchable as `field.path:value`.
    Json,
}

impl FieldType {
    /// Every accepted type name, in the order of the documentation.
    pub const NAMES: &'static [&'static str] =
        &["text", "string", "i64", "u64", "f64", "bool", "date", "json"];

    /// The type's name as written in a schema.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::String => "string",
            FieldType::I64 => "i64",
            FieldType::U64 => "u64",
            FieldType::F64 => "f64",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::Json => "json",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FieldType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "text" => FieldType::Text,
            "string" => FieldType::String,
            "i64" => FieldType::I64,
            "u64" => FieldType::U64,
            "f64" => FieldType::F64,
            "bool" => FieldType::Bool,
            "date" => FieldType::Date,
            "json" => FieldType::Json,
            other => {
                return Err(format!(
                    "unknown field type `{other}`; accepted types: {}",
                    FieldType::NAMES.join(", ")
                ));
            }
        })
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How a text field is cut into terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// Split on non-alphanumerics, lowercase (tantivy's `default`).
    Default,
    /// `default` plus English stemming (`mutations` matches `mutation`).
    EnStem,
    /// The whole value is one term.
    Raw,
}

impl Tokenizer {
    /// Every accepted tokenizer name.
    pub const NAMES: &'static [&'static str] = &["default", "en_stem", "raw"];

    /// The tantivy tokenizer name.
    pub fn name(self) -> &'static str {
        match self {
            Tokenizer::Default => "default",
            Tokenizer::EnStem => "en_stem",
            Tokenizer::Raw => "raw",
        }
    }
}

impl FromStr for Tokenizer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "default" => Tokenizer::Default,
            "en_stem" => Tokenizer::EnStem,
            "raw" => Tokenizer::Raw,
            other => {
                return Err(format!(
                    "unknown tokenizer `{other}`; accepted tokenizers: {}",
                    Tokenizer::NAMES.join(", ")
                ));
            }
        })
    }
}

impl<'de> Deserialize<'de> for Tokenizer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn yes() -> bool {
    true
}

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Field name: letters, digits and `_`, starting with a letter, at most 64 characters.
    pub name: String,
    /// text | string | i64 | u64 | f64 | bool | date | json.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Returned in search hits and `get` (the original document is always kept, so a reshard
    /// never loses data). Default true.
    #[serde(default = "yes")]
    pub stored: bool,
    /// Searchable (and usable in filters). Default true.
    #[serde(default = "yes")]
    pub indexed: bool,
    /// Column-oriented copy for sorting and fast range filters. Default false.
    #[serde(default)]
    pub fast: bool,
    /// Tokenizer of a text field: default | en_stem | raw. Default `default`; string fields are
    /// always `raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<Tokenizer>,
}

impl FieldDef {
    /// A field with the defaults (stored, indexed, not fast, default tokenizer).
    pub fn new(name: &str, kind: FieldType) -> FieldDef {
        FieldDef { name: name.to_string(), kind, stored: true, indexed: true, fast: false, tokenizer: None }
    }

    /// Sets the fast flag.
    pub fn fast(mut self) -> FieldDef {
        self.fast = true;
        self
    }

    /// Sets the tokenizer.
    pub fn tokenizer(mut self, tokenizer: Tokenizer) -> FieldDef {
        self.tokenizer = Some(tokenizer);
        self
    }

    /// Not returned in results.
    pub fn unstored(mut self) -> FieldDef {
        self.stored = false;
        self
    }

    /// Not searchable.
    pub fn unindexed(mut self) -> FieldDef {
        self.indexed = false;
        self
    }
}

/// A built-in schema matching pipette's research results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinSchema {
    /// PubMed articles (id field `pmid`).
    Pubmed,
    /// ClinicalTrials.gov studies and trial matches (id field `nct_id`).
    Trials,
}

impl BuiltinSchema {
    /// The schema's name.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinSchema::Pubmed => "pubmed",
            BuiltinSchema::Trials => "trials",
        }
    }

    /// The schema definition.
    pub fn definition(self) -> SchemaDef {
        match self {
            BuiltinSchema::Pubmed => crate::research::pubmed_schema(),
            BuiltinSchema::Trials => crate::research::trials_schema(),
        }
    }
}

impl FromStr for BuiltinSchema {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pubmed" => Ok(BuiltinSchema::Pubmed),
            "trials" => Ok(BuiltinSchema::Trials),
            other => Err(format!("unknown built-in schema `{other}`; built-in schemas: pubmed, trials")),
        }
    }
}

/// A schema as a create request gives it: a built-in one, or an id field and a list of fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    /// Use a built-in schema (`pubmed` or `trials`); then leave `id_field` and `fields` empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<BuiltinSchema>,
    /// The unique document id field (a `string` field; added if not listed). Default `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// The fields.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

impl SchemaSpec {
    /// A built-in schema.
    pub fn builtin(kind: BuiltinSchema) -> SchemaSpec {
        SchemaSpec { builtin: Some(kind), ..SchemaSpec::default() }
    }

    /// Parses a schema from JSON, with errors naming the parameter `schema`.
    pub fn from_json(value: &Value) -> Result<SchemaSpec, IndexError> {
        SchemaSpec::deserialize(value).map_err(|e| IndexError::invalid("schema", e.to_string()))
    }

    /// Resolves to a full, validated definition.
    pub fn resolve(&self) -> Result<SchemaDef, IndexError> {
        let def = match self.builtin {
            Some(kind) => {
                if !self.fields.is_empty() || self.id_field.is_some() {
                    return Err(IndexError::invalid(
                        "schema",
                        "give either `builtin` or `id_field`/`fields`, not both",
                    ));
                }
                kind.definition()
            }
            None => {
                let id_field = self.id_field.clone().unwrap_or_else(|| "id".to_string());
                let mut fields = self.fields.clone();
                if !fields.iter().any(|f| f.name == id_field) {
                    fields.insert(0, FieldDef::new(&id_field, FieldType::String));
                }
                SchemaDef { id_field, fields }
            }
        };
        def.validate()?;
        Ok(def)
    }
}

/// A resolved schema, as stored in the index manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaDef {
    /// The unique document id field.
    pub id_field: String,
    /// All fields, the id field included.
    pub fields: Vec<FieldDef>,
}

fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl SchemaDef {
    fn validate(&self) -> Result<(), IndexError> {
        if self.fields.is_empty() {
            return Err(IndexError::invalid("schema", "a schema needs at least one field"));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            if !valid_field_name(&f.name) {
                return Err(IndexError::invalid(
                    "schema",
                    format!(
                        "field name `{}` is not allowed: use letters, digits and `_`, starting with a \
                         letter, at most 64 characters",
                        f.name
                    ),
                ));
            }
            if !seen.insert(f.name.as_str()) {
                return Err(IndexError::invalid("schema", format!("field `{}` is listed twice", f.name)));
            }
            if f.tokenizer.is_some() && f.kind != FieldType::Text && f.kind != FieldType::Json {
                return Err(IndexError::invalid(
                    "schema",
                    format!("field `{}`: a tokenizer applies to text and json fields only", f.name),
                ));
            }
        }
        let id = self.fields.iter().find(|f| f.name == self.id_field).ok_or_else(|| {
            IndexError::invalid("schema", format!("id field `{}` is not among the fields", self.id_field))
        })?;
        if id.kind != FieldType::String {
            return Err(IndexError::invalid(
                "schema",
                format!("id field `{}` must have type string, not {}", id.name, id.kind),
            ));
        }
        if !id.indexed {
            return Err(IndexError::invalid("schema", format!("id field `{}` must be indexed", id.name)));
        }
        Ok(())
    }
}

/// A schema compiled to tantivy.
pub(crate) struct CompiledSchema {
    pub(crate) def: SchemaDef,
    pub(crate) schema: Schema,
    pub(crate) id_field: Field,
    pub(crate) source_field: Field,
    pub(crate) fields: Vec<(FieldDef, Field)>,
    by_name: HashMap<String, usize>,
}

fn text_options(tokenizer: &str, positions: bool, fast: bool) -> TextOptions {
    let record = if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::Basic };
    let mut opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record)
            .set_fieldnorms(positions),
    );
    if fast {
        opts = opts.set_fast("raw");
    }
    opts
}

impl CompiledSchema {
    pub(crate) fn compile(def: &SchemaDef) -> Result<CompiledSchema, IndexError> {
        def.validate()?;
        let mut builder = Schema::builder();
        let mut fields = Vec::with_capacity(def.fields.len());
        for f in &def.fields {
            let field = match f.kind {
                FieldType::Text => {
                    let tok = f.tokenizer.unwrap_or(Tokenizer::Default);
                    let opts = if f.indexed {
                        text_options(tok.name(), tok != Tokenizer::Raw, f.fast)
                    } else if f.fast {
                        TextOptions::default().set_fast("raw")
                    } else {
                        TextOptions::default()
                    };
                    builder.add_text_field(&f.name, opts)
                }
                FieldType::String => {
                    let opts = if f.indexed {
                        text_options("raw", false, f.fast)
                    } else if f.fast {
                        TextOptions::default().set_fast("raw")
                    } else {
                        TextOptions::default()
                    };
                    builder.add_text_field(&f.name, opts)
                }
                FieldType::I64 | FieldType::U64 | FieldType::F64 | FieldType::Bool => {
                    let mut opts = NumericOptions::default();
                    if f.indexed {
                        opts = opts.set_indexed();
                    }
                    if f.fast {
                        opts = opts.set_fast();
                    }
                    match f.kind {
                        FieldType::I64 => builder.add_i64_field(&f.name, opts),
                        FieldType::U64 => builder.add_u64_field(&f.name, opts),
                        FieldType::F64 => builder.add_f64_field(&f.name, opts),
                        _ => builder.add_bool_field(&f.name, opts),
                    }
                }
                FieldType::Date => {
                    let mut opts = DateOptions::default().set_precision(DateTimePrecision::Seconds);
                    if f.indexed {
                        opts = opts.set_indexed();
                    }
                    if f.fast {
                        opts = opts.set_fast();
                    }
                    builder.add_date_field(&f.name, opts)
                }
                FieldType::Json => {
                    let mut opts = JsonObjectOptions::default();
                    if f.indexed {
                        let tok = f.tokenizer.unwrap_or(Tokenizer::Default);
                        opts = opts.set_indexing_options(
                            TextFieldIndexing::default()
                                .set_tokenizer(tok.name())
                                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                        );
                    }
                    if f.fast {
                        opts = opts.set_fast("raw");
                    }
                    builder.add_json_field(&f.name, opts)
                }
            };
            fields.push((f.clone(), field));
        }
        let source_field = builder.add_bytes_field(SOURCE_FIELD, STORED);
        let schema = builder.build();
        let id_field =
            schema.get_field(&def.id_field).map_err(|e| IndexError::invalid("schema", e.to_string()))?;
        let by_name = fields.iter().enumerate().map(|(i, (f, _))| (f.name.clone(), i)).collect();
        Ok(CompiledSchema { def: def.clone(), schema, id_field, source_field, fields, by_name })
    }

    pub(crate) fn field(&self, name: &str) -> Option<&(FieldDef, Field)> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    /// Names of the fields searched when a query names none.
    pub(crate) fn default_search_fields(&self, configured: &[String]) -> Vec<Field> {
        if !configured.is_empty() {
            return configured
                .iter()
                .filter_map(|n| self.field(n))
                .filter(|(d, _)| d.indexed)
                .map(|(_, f)| *f)
                .collect();
        }
        self.fields
            .iter()
            .filter(|(d, _)| d.indexed && matches!(d.kind, FieldType::Text | FieldType::String))
            .map(|(_, f)| *f)
            .collect()
    }

    /// Validates a JSON document and turns it into a tantivy document.
    /// Returns the document id; the error is the reason for rejecting it.
    pub(crate) fn to_document(
        &self,
        value: &Value,
        strict: bool,
        raw: Option<&str>,
    ) -> Result<(String, TantivyDocument), String> {
        let obj = value
            .as_object()
            .ok_or_else(|| format!("a document must be a JSON object, not {}", json_kind(value)))?;
        let id = match obj.get(&self.def.id_field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            Some(Value::Null) | None => {
                return Err(format!("missing id field `{}`", self.def.id_field));
            }
            Some(other) => {
                return Err(format!(
                    "id field `{}` must be a string or an integer, not {}",
                    self.def.id_field,
                    json_kind(other)
                ));
            }
        };
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(format!("id must be 1 to {MAX_ID_LEN} bytes long"));
        }
        let mut doc = TantivyDocument::new();
        doc.add_text(self.id_field, &id);
        for (name, v) in obj {
            if name == &self.def.id_field {
                continue;
            }
            let Some((def, field)) = self.field(name) else {
                if strict {
                    return Err(format!(
                        "unknown field `{name}` (not in the schema; set strict=false to keep it unindexed)"
                    ));
                }
                continue;
            };
            if !def.indexed && !def.fast {
                continue;
            }
            match v {
                Value::Null => {}
                Value::Array(items) if def.kind != FieldType::Json => {
                    for item in items {
                        if !item.is_null() {
                            add_value(&mut doc, def, *field, item)
                                .map_err(|r| format!("field `{name}`: {r}"))?;
                        }
                    }
                }
                _ => add_value(&mut doc, def, *field, v).map_err(|r| format!("field `{name}`: {r}"))?,
            }
        }
        match raw {
            Some(raw) => doc.add_bytes(self.source_field, raw.trim().as_bytes()),
            None => {
                let source =
                    serde_json::to_vec(value).map_err(|e| format!("cannot serialize document: {e}"))?;
                doc.add_bytes(self.source_field, &source);
            }
        }
        Ok((id, doc))
    }

    /// The stored view of a document: its source without the unstored fields.
    pub(crate) fn stored_view(&self, mut source: Value, only: Option<&[String]>) -> Value {
        if let Value::Object(map) = &mut source {
            map.retain(|k, _| {
                let stored = self.field(k).is_none_or(|(d, _)| d.stored);
                stored && only.is_none_or(|o| o.iter().any(|x| x == k))
            });
        }
        source
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn add_value(doc: &mut TantivyDocument, def: &FieldDef, field: Field, v: &Value) -> Result<(), String> {
    let expected = |what: &str| format!("expected {what} for a {} field, got {}", def.kind, json_kind(v));
    match def.kind {
        FieldType::Text => match v {
            Value::String(s) => doc.add_text(field, s),
            _ => return Err(expected("a string")),
        },
        FieldType::String => match v {
            Value::String(s) => doc.add_text(field, s),
            Value::Number(n) => doc.add_text(field, n.to_string()),
            Value::Bool(b) => doc.add_text(field, b.to_string()),
            _ => return Err(expected("a string")),
        },
        FieldType::I64 => match v.as_i64() {
            Some(n) => doc.add_i64(field, n),
            None => return Err(expected("an integer (i64)")),
        },
        FieldType::U64 => match v.as_u64() {
            Some(n) => doc.add_u64(field, n),
            None => return Err(expected("a non-negative integer (u64)")),
        },
        FieldType::F64 => match v.as_f64() {
            Some(n) => doc.add_f64(field, n),
            None => return Err(expected("a number")),
        },
        FieldType::Bool => match v {
            Value::Bool(b) => doc.add_bool(field, *b),
            _ => return Err(expected("true or false")),
        },
        FieldType::Date => match parse_date_value(v) {
            Some(d) => doc.add_date(field, d),
            None => {
                return Err(format!(
                    "expected a date (RFC 3339, YYYY-MM-DD, YYYY-MM, YYYY or epoch seconds), got {v}"
                ));
            }
        },
        FieldType::Json => match v {
            Value::Object(map) => {
                let obj: BTreeMap<String, OwnedValue> =
                    map.iter().map(|(k, v)| (k.clone(), OwnedValue::from(v.clone()))).collect();
                doc.add_object(field, obj);
            }
            _ => return Err(expected("an object")),
        },
    }
    Ok(())
}

/// Parses the date forms documents may use.
pub(crate) fn parse_date_value(v: &Value) -> Option<DateTime> {
    match v {
        Value::Number(n) => n.as_i64().map(DateTime::from_timestamp_secs),
        Value::String(s) => parse_date(s),
        _ => None,
    }
}

pub(crate) fn parse_date(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(DateTime::from_timestamp_secs(dt.timestamp()));
    }
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str| p.parse::<u32>().ok();
    let (y, m, d) = match parts.as_slice() {
        [y] if y.len() == 4 => (y.parse::<i32>().ok()?, 1, 1),
        [y, m] if y.len() == 4 => (y.parse::<i32>().ok()?, num(m)?, 1),
        [y, m, d] if y.len() == 4 => (y.parse::<i32>().ok()?, num(m)?, num(d)?),
        _ => return None,
    };
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    let ts = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(DateTime::from_timestamp_secs(ts))
}

/// Validates an index id: `[A-Za-z0-9_-]{1,64}`, never a path.
pub fn validate_index_id(id: &str) -> Result<(), IndexError> {
    if id.is_empty() || id.len() > 64 {
        return Err(IndexError::invalid("id", "must be 1 to 64 characters long"));
    }
    if id.contains('\0') {
        return Err(IndexError::invalid("id", "must not contain NUL bytes"));
    }
    if id.contains('/') || id.contains('\\') || id.contains("..") {
        return Err(IndexError::invalid("id", "must not be a path (no `/`, `\\` or `..`)"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(IndexError::invalid("id", "may contain only letters, digits, `-` and `_`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_ids() {
        for good in ["a", "pubmed_2024", "A-b_9", &"x".repeat(64)] {
            assert!(validate_index_id(good).is_ok(), "{good}");
        }
        for bad in ["", "a/b", "..", "../etc", "a\0b", "a b", "é", &"x".repeat(65), "a.b", "/abs"] {
            let err = validate_index_id(bad).unwrap_err();
            assert!(
                matches!(&err, IndexError::InvalidArgument { name, .. } if name == "id"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn unknown_type_lists_accepted_types() {
        let err = SchemaSpec::from_json(&json!({"fields": [{"name": "n", "type": "integer"}]})).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`schema`"), "{msg}");
        assert!(msg.contains("unknown field type `integer`"), "{msg}");
        for t in FieldType::NAMES {
            assert!(msg.contains(t), "{msg} lacks {t}");
        }
        let err = SchemaSpec::from_json(
            &json!({"fields": [{"name": "n", "type": "text", "tokenizer": "klingon"}]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("en_stem"));
    }

    #[test]
    fn schema_validation() {
        let spec = |v: Value| SchemaSpec::from_json(&v).and_then(|s| s.resolve());
        let def = spec(json!({"fields": [{"name": "title", "type": "text"}]})).unwrap();
        assert_eq!(def.id_field, "id");
        assert_eq!(def.fields[0].name, "id");
        assert!(spec(json!({"id_field": "n", "fields": [{"name": "n", "type": "i64"}]})).is_err());
        assert!(spec(json!({"fields": [{"name": "_x", "type": "text"}]})).is_err());
        assert!(
            spec(json!({"fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "i64"}]})).is_err()
        );
        assert!(spec(json!({"fields": [{"name": "a", "type": "i64", "tokenizer": "raw"}]})).is_err());
        assert!(spec(json!({"builtin": "pubmed", "fields": [{"name": "a", "type": "i64"}]})).is_err());
        assert!(spec(json!({"builtin": "pubmed"})).is_ok());
        assert!(spec(json!({"builtin": "trials"})).is_ok());
    }

    #[test]
    fn documents_are_validated() {
        let def = SchemaSpec::from_json(&json!({"fields": [
            {"name": "title", "type": "text"},
            {"name": "year", "type": "i64", "fast": true},
            {"name": "n", "type": "u64"},
            {"name": "score", "type": "f64"},
            {"name": "ok", "type": "bool"},
            {"name": "when", "type": "date"},
            {"name": "meta", "type": "json"},
            {"name": "tags", "type": "string"}
        ]}))
        .unwrap()
        .resolve()
        .unwrap();
        let schema = CompiledSchema::compile(&def).unwrap();
        let good = json!({"id": 7, "title": "x", "year": -3, "n": 3, "score": 1.5, "ok": true,
            "when": "2024-10", "meta": {"a": 1}, "tags": ["a", "b"]});
        let (id, _) = schema.to_document(&good, true, None).unwrap();
        assert_eq!(id, "7");
        let check = |doc: Value, want: &str| {
            let reason = schema.to_document(&doc, true, None).unwrap_err();
            assert!(reason.contains(want), "{reason} should contain {want}");
        };
        check(json!([1]), "JSON object");
        check(json!({"title": "x"}), "missing id field");
        check(json!({"id": 1.5}), "string or an integer");
        check(json!({"id": ""}), "1 to 512");
        check(json!({"id": "a", "year": "x"}), "field `year`");
        check(json!({"id": "a", "n": -1}), "u64");
        check(json!({"id": "a", "ok": 1}), "true or false");
        check(json!({"id": "a", "when": "yesterday"}), "expected a date");
        check(json!({"id": "a", "meta": 3}), "an object");
        check(json!({"id": "a", "title": 3}), "a string");
        check(json!({"id": "a", "other": 3}), "unknown field `other`");
        assert!(schema.to_document(&json!({"id": "a", "other": 3}), false, None).is_ok());
    }

    #[test]
    fn dates() {
        let secs = |s: &str| parse_date(s).map(|d| d.into_timestamp_secs());
        assert_eq!(secs("1970-01-02"), Some(86_400));
        assert_eq!(secs("1970-01"), Some(0));
        assert_eq!(secs("1970"), Some(0));
        assert_eq!(secs("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(secs("2024-13"), None);
        assert_eq!(secs("soon"), None);
        assert_eq!(parse_date_value(&json!(5)).map(|d| d.into_timestamp_secs()), Some(5));
    }
}
