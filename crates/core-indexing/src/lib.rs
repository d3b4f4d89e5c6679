//! Durable tantivy indexes that agents create, fill, search, optimize and measure.

mod config;
mod error;
mod ingest;
mod loaded;
mod maintenance;
mod manager;
mod markdown;
mod metrics;
mod research;
mod schema;
mod search;
mod store;
mod tokenize;
mod types;

pub use config::{IndexConfig, IndexOptions, MergePolicySetting};
pub use error::IndexError;
pub use manager::IndexManager;
pub use metrics::{LatencyStats, MetricsReport, Window};
pub use schema::{BuiltinSchema, FieldDef, FieldType, SchemaDef, SchemaSpec, Tokenizer, validate_index_id};
pub use types::{
    AddRequest, AddResponse, ConfigResponse, ConfigUpdateRequest, CreateRequest, DeleteRequest,
    DeleteResponse, DropResponse, Filter, GetRequest, GetResponse, IndexRef, IndexStatus, IndexSummary,
    ListResponse, MetricsRequest, OptimizeRequest, OptimizeResponse, Progress, RejectedDoc, ReshardRequest,
    ReshardResponse, SearchHit, SearchRequest, SearchResponse, Snippet, SortOrder, SortSpec, UnloadResponse,
    no_progress,
};

#[cfg(test)]
mod tests;
