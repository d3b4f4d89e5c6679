//! Index tools, documents and queries: create, add, get, delete, search, list, drop (core-indexing).

use core_indexing::{
    AddRequest, AddResponse, CreateRequest, DeleteRequest, DeleteResponse, DropResponse, GetRequest,
    GetResponse, IndexManager, IndexRef, IndexStatus, ListResponse, SearchRequest, SearchResponse,
};
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::assist::{Confirmed, confirm};
use crate::format::Shown;

/// Creates an index from a schema (fields with type, stored, indexed, fast, tokenizer, plus an id field) or a
/// built-in schema (`{"builtin": "pubmed"}` or `{"builtin": "trials"}`), spread over `shards` tantivy indexes.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 6, timeout_seconds = 60)]
async fn index_create(ctx: ToolContext, p: CreateRequest) -> Result<IndexStatus, Error> {
    Ok(ctx.service::<IndexManager>()?.create(&p)?)
}

/// Adds documents (inline, or a JSONL file under the allowed roots), upserting by id by default. Bad documents
/// are reported with their position and reason and do not stop the rest; answers after the commit.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 5, timeout_seconds = 3600, inline_ms = 15000)]
async fn index_add(ctx: ToolContext, p: AddRequest) -> Result<Shown<AddResponse>, Error> {
    let progress = ctx.progress().callback();
    Ok(ctx.service::<IndexManager>()?.add(&p, &progress)?.into())
}

/// One document by its id, as it was added.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 7, timeout_seconds = 30, read_only)]
async fn index_get(ctx: ToolContext, p: GetRequest) -> Result<GetResponse, Error> {
    Ok(ctx.service::<IndexManager>()?.get(&p)?)
}

/// Deletes documents by id, or every document matching a query.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 5, timeout_seconds = 600, destructive)]
async fn index_delete(ctx: ToolContext, p: DeleteRequest) -> Result<DeleteResponse, Error> {
    Ok(ctx.service::<IndexManager>()?.delete(&p)?)
}

/// Searches a local index (tantivy syntax) with filters, sort, paging and snippets.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 8, timeout_seconds = 30, read_only)]
async fn index_search(ctx: ToolContext, p: SearchRequest) -> Result<Shown<SearchResponse>, Error> {
    Ok(ctx.service::<IndexManager>()?.search(&p)?.into())
}

#[derive(Deserialize, schemars::JsonSchema)]
struct NoParams {}

/// Every index in the data directory, with its documents, size and whether it is loaded.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 7, timeout_seconds = 30, read_only)]
async fn index_list(ctx: ToolContext, _p: NoParams) -> Result<Shown<ListResponse>, Error> {
    Ok(ctx.service::<IndexManager>()?.list()?.into())
}

/// Deletes an index and all its documents from disk. Asks the person to confirm through the client
/// (elicitation) unless `confirm: true`.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 5, timeout_seconds = 600, inline_ms = 600000,
                destructive)]
async fn index_drop(ctx: ToolContext, p: Confirmed<IndexRef>) -> Result<DropResponse, Error> {
    // A bad or unknown id is refused before anyone is asked to confirm.
    let indexes = ctx.service::<IndexManager>()?;
    let status = indexes.status(&p.request)?;
    let what = format!("delete the index `{}` and its {} documents", status.id, status.docs);
    confirm(&ctx, p.confirm, &what).await?;
    Ok(indexes.drop_index(&p.request)?)
}
