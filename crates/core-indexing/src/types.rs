//! Request and response types of every index operation (serde + JSON Schema, for tools and CLI).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{IndexOptions, MergePolicySetting};
use crate::metrics::Window;
use crate::schema::{BuiltinSchema, SchemaDef, SchemaSpec};

/// The progress callback of long operations: (current, total if known, message).
pub type Progress<'a> = &'a (dyn Fn(u64, Option<u64>, &str) + Send + Sync);

/// A progress callback that ignores every report.
pub fn no_progress(_current: u64, _total: Option<u64>, _message: &str) {}

/// Names one index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexRef {
    /// Index id: letters, digits, `-` and `_`, 1 to 64 characters.
    pub id: String,
}

impl IndexRef {
    /// Names index `id`.
    pub fn new(id: impl Into<String>) -> IndexRef {
        IndexRef { id: id.into() }
    }
}

/// Create an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// Index id: letters, digits, `-` and `_`, 1 to 64 characters.
    pub id: String,
    /// The schema: `{"builtin": "pubmed"}` or `{"id_field": "id", "fields": [...]}`.
    pub schema: SchemaSpec,
    /// Number of shards (default 1); documents are spread by a hash of their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub shards: Option<usize>,
    /// Writer and search settings; missing ones take the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<IndexOptions>,
}

/// Add documents to an index, from a list or a JSONL file (give exactly one).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// Index id.
    pub id: String,
    /// The documents (JSON objects carrying the schema's id field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<Value>>,
    /// A JSONL file (one document per line) under the allowed roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonl_path: Option<String>,
    /// Replace documents whose id already exists (default true); when false they are rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upsert: Option<bool>,
}

/// A document that was not indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedDoc {
    /// 0-based position of the document in the input (blank JSONL lines are not counted).
    pub position: u64,
    /// 1-based line number, for JSONL input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The document id, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
}

/// The outcome of an add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AddResponse {
    /// Index id.
    pub id: String,
    /// New documents.
    pub added: u64,
    /// Documents that replaced one with the same id.
    pub updated: u64,
    /// Documents refused by validation (see `rejections`).
    pub rejected: u64,
    /// The first 1000 rejections, with position and reason.
    pub rejections: Vec<RejectedDoc>,
    /// Commits made (every `commit_batch_size` documents, and at the end).
    pub commits: u64,
    /// Time taken in microseconds.
    pub took_micros: u64,
}

/// Delete documents by id or by query (give exactly one).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// Index id.
    pub id: String,
    /// Ids of the documents to delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_ids: Option<Vec<String>>,
    /// Delete every document matching this query (tantivy syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// The outcome of a delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeleteResponse {
    /// Index id.
    pub id: String,
    /// Documents deleted.
    pub deleted: u64,
}

/// Fetch one document by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRequest {
    /// Index id.
    pub id: String,
    /// The document id.
    pub doc_id: String,
}

/// A fetched document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GetResponse {
    /// Index id.
    pub id: String,
    /// The document id asked for.
    pub doc_id: String,
    /// Whether it exists.
    pub found: bool,
    /// Its stored fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
}

/// A filter on one field: equality (`eq`, a value or a list of alternatives) and/or a range.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The field (indexed or fast).
    pub field: String,
    /// Equal to this value, or to any value of this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<Value>,
    /// Greater than (numbers, dates, strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<Value>,
    /// Greater than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<Value>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<Value>,
    /// Less than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<Value>,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first (default).
    #[default]
    Desc,
}

/// Sort by a fast field instead of relevance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SortSpec {
    /// A fast field, or `_score` for relevance.
    pub field: String,
    /// asc | desc (default desc).
    #[serde(default)]
    pub order: SortOrder,
}

/// Search an index.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// Index id.
    pub id: String,
    /// Tantivy syntax, e.g. `title:egfr AND year:[2010 TO 2020]`; `*`: all.
    pub query: String,
    /// Fields for terms that name none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Score multipliers, e.g. `{"title": 2.0}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boosts: BTreeMap<String, f32>,
    /// Filters every hit must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Sort by a fast field, not score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortSpec>,
    /// Hits to return (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 10000))]
    pub offset: Option<usize>,
    /// Add highlighted snippets.
    #[serde(default)]
    pub highlight: bool,
    /// Fields for snippets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub highlight_fields: Vec<String>,
    /// Fields to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_fields: Option<Vec<String>>,
}

impl SearchRequest {
    /// A plain query on index `id`.
    pub fn new(id: impl Into<String>, query: impl Into<String>) -> SearchRequest {
        SearchRequest { id: id.into(), query: query.into(), ..SearchRequest::default() }
    }
}

/// A highlighted fragment of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Snippet {
    /// The field it comes from.
    pub field: String,
    /// The fragment of text.
    pub fragment: String,
    /// Byte ranges `[start, end)` of the matched terms in `fragment`.
    pub highlights: Vec<[usize; 2]>,
    /// The fragment as HTML, matched terms in `<b>…</b>`.
    pub html: String,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SearchHit {
    /// The document id.
    pub doc_id: String,
    /// Relevance score (when sorted by score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The sort field's value (when sorted by a field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_value: Option<Value>,
    /// The stored fields.
    pub document: Value,
    /// Highlighted fragments (when asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snippets: Vec<Snippet>,
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SearchResponse {
    /// Index id.
    pub id: String,
    /// Documents matching (all of them, not only those returned).
    pub total_hits: u64,
    /// The hits of this page.
    pub hits: Vec<SearchHit>,
    /// Time taken in microseconds.
    pub took_micros: u64,
}

/// The state of an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IndexStatus {
    /// Index id.
    pub id: String,
    /// Whether it is loaded in this process.
    pub loaded: bool,
    /// Whether this process holds its writer.
    pub writer_open: bool,
    /// Live documents.
    pub docs: u64,
    /// Segments, all shards together.
    pub segments: u64,
    /// Bytes on disk (all files of the index).
    pub bytes_on_disk: u64,
    /// Estimated memory held by this process for it (writer budget, caches, hot columns).
    pub memory_estimate_bytes: u64,
    /// Shards.
    pub shards: usize,
    /// Time of the last commit (RFC 3339), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<String>,
    /// When the index was created (RFC 3339).
    pub created_at: String,
    /// The built-in schema it uses, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<BuiltinSchema>,
    /// Its schema.
    pub schema: SchemaDef,
}

/// One entry of the index list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IndexSummary {
    /// Index id.
    pub id: String,
    /// Whether it is loaded in this process.
    pub loaded: bool,
    /// Live documents.
    pub docs: u64,
    /// Shards.
    pub shards: usize,
    /// Bytes on disk.
    pub bytes_on_disk: u64,
    /// The built-in schema it uses, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<BuiltinSchema>,
}

/// All indexes of the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListResponse {
    /// The data directory.
    pub data_dir: String,
    /// The indexes, by id.
    pub indexes: Vec<IndexSummary>,
}

/// The outcome of an unload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnloadResponse {
    /// Index id.
    pub id: String,
    /// Whether it was loaded.
    pub was_loaded: bool,
}

/// The outcome of a drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropResponse {
    /// Index id.
    pub id: String,
    /// Bytes freed on disk.
    pub bytes_freed: u64,
}

/// Merge segments and collect garbage files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizeRequest {
    /// Index id.
    pub id: String,
    /// Segments to leave per shard (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_segments: Option<usize>,
}

/// The outcome of an optimize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OptimizeResponse {
    /// Index id.
    pub id: String,
    /// Segments before (all shards).
    pub segments_before: u64,
    /// Segments after.
    pub segments_after: u64,
    /// Bytes on disk before.
    pub bytes_before: u64,
    /// Bytes on disk after.
    pub bytes_after: u64,
    /// Time taken in microseconds.
    pub took_micros: u64,
}

/// Rebuild an index into another number of shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReshardRequest {
    /// Index id.
    pub id: String,
    /// The new number of shards.
    #[schemars(range(min = 1, max = 64))]
    pub shards: usize,
}

/// The outcome of a reshard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReshardResponse {
    /// Index id.
    pub id: String,
    /// Shards before.
    pub shards_before: usize,
    /// Shards after.
    pub shards_after: usize,
    /// Documents before.
    pub docs_before: u64,
    /// Documents after (always equal to before).
    pub docs_after: u64,
    /// Time taken in microseconds.
    pub took_micros: u64,
}

/// Change the settings of an index; only the given ones change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigUpdateRequest {
    /// Index id.
    pub id: String,
    /// Writer memory budget in MiB (applies from the next write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_memory_mb: Option<u64>,
    /// Writer threads per shard, 0 = automatic (applies from the next write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_threads: Option<usize>,
    /// Background merge policy (applies at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_policy: Option<MergePolicySetting>,
    /// Documents per commit during ingestion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_batch_size: Option<usize>,
    /// Fields searched when a query names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_search_fields: Option<Vec<String>>,
    /// Reject documents with fields outside the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// A new shard count: needs a rebuild, so it is not applied here (use `reshard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<usize>,
}

/// The settings of an index, and what a change did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigResponse {
    /// Index id.
    pub id: String,
    /// The settings now in force.
    pub options: IndexOptions,
    /// Shards.
    pub shards: usize,
    /// Settings that changed.
    pub changed: Vec<String>,
    /// Whether part of the request needs a rebuild and was therefore not applied.
    pub needs_rebuild: bool,
    /// What to do next, when something was not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Ask for usage metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsRequest {
    /// One index, or none for all indexes together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1h | 24h | 7d (default 1h).
    #[serde(default)]
    pub window: Window,
}
