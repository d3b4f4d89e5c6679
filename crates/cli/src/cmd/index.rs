//! `pipette index …`: the local tantivy indexes, calling core-indexing directly.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use core_indexing::{
    AddRequest, BuiltinSchema, ConfigUpdateRequest, CreateRequest, DeleteRequest, Filter, GetRequest,
    IndexConfig, IndexManager, IndexOptions, IndexRef, MergePolicySetting, MetricsRequest, OptimizeRequest,
    ReshardRequest, SchemaSpec, SearchRequest, SortOrder, SortSpec, Window,
};

/// The index subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum IndexCmd {
    /// Creates an index from a built-in schema or a schema file.
    Create {
        /// Index id (letters, digits, `-`, `_`).
        id: String,
        /// A built-in schema: pubmed | trials.
        #[arg(long, conflicts_with = "schema")]
        builtin: Option<BuiltinSchema>,
        /// A schema as JSON, or `@file.json`: {"id_field": "id", "fields": [{"name", "type", ...}]}.
        #[arg(long)]
        schema: Option<String>,
        /// Number of shards.
        #[arg(long, default_value_t = 1)]
        shards: usize,
        /// Index options as JSON, or `@file.json` (writer_memory_mb, commit_batch_size, ...).
        #[arg(long)]
        options: Option<String>,
    },
    /// Adds documents from a JSONL file (one JSON object per line) or a JSON array.
    Add {
        /// Index id.
        id: String,
        /// A JSONL file under the allowed roots (PIPETTE_ALLOWED_ROOTS, default the current dir).
        #[arg(long, conflicts_with = "docs")]
        jsonl: Option<PathBuf>,
        /// A JSON array of documents, or `@file.json`.
        #[arg(long)]
        docs: Option<String>,
        /// Reject documents whose id exists instead of replacing them.
        #[arg(long)]
        no_upsert: bool,
    },
    /// Searches an index (tantivy query syntax).
    Search {
        /// Index id.
        id: String,
        /// The query, e.g. `braf AND melanoma`, `"overall survival"`, `title:egfr`.
        query: String,
        /// Default field (repeatable).
        #[arg(long = "field")]
        fields: Vec<String>,
        /// A boost `field=factor` (repeatable).
        #[arg(long = "boost")]
        boosts: Vec<String>,
        /// A filter as JSON, e.g. '{"field":"year","gte":2010}' (repeatable).
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// Sort by a fast field: `field` or `field:asc` / `field:desc`.
        #[arg(long)]
        sort: Option<String>,
        /// Hits to return.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Hits to skip.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Add highlighted snippets.
        #[arg(long)]
        highlight: bool,
        /// Only return these fields (repeatable).
        #[arg(long = "return-field")]
        return_fields: Vec<String>,
    },
    /// Prints one document.
    Get {
        /// Index id.
        id: String,
        /// Document id.
        doc_id: String,
    },
    /// Deletes documents by id or by query.
    Delete {
        /// Index id.
        id: String,
        /// Document id (repeatable).
        #[arg(long = "doc-id", conflicts_with = "query")]
        doc_ids: Vec<String>,
        /// Delete every document matching this query.
        #[arg(long)]
        query: Option<String>,
    },
    /// Documents, segments, size, shards and last commit of an index.
    Status {
        /// Index id.
        id: String,
    },
    /// Lists the indexes.
    List,
    /// Merges segments and removes unused files.
    Optimize {
        /// Index id.
        id: String,
        /// Segments to leave per shard.
        #[arg(long, default_value_t = 1)]
        target_segments: usize,
    },
    /// Rebuilds an index into another number of shards.
    Reshard {
        /// Index id.
        id: String,
        /// The new shard count.
        shards: usize,
    },
    /// Shows the settings of an index, or changes those given.
    Config {
        /// Index id.
        id: String,
        /// Writer memory budget in MiB.
        #[arg(long)]
        writer_memory_mb: Option<u64>,
        /// Writer threads per shard (0 = automatic).
        #[arg(long)]
        writer_threads: Option<usize>,
        /// Documents per commit while ingesting.
        #[arg(long)]
        commit_batch_size: Option<usize>,
        /// Background merges: log | none.
        #[arg(long)]
        merge_policy: Option<String>,
        /// Default search fields, comma-separated.
        #[arg(long, value_delimiter = ',')]
        default_fields: Option<Vec<String>>,
        /// Reject documents with fields outside the schema.
        #[arg(long)]
        strict: Option<bool>,
    },
    /// Query and ingest metrics of one index or all.
    Metrics {
        /// Index id (all indexes when omitted).
        id: Option<String>,
        /// 1h | 24h | 7d.
        #[arg(long, default_value = "1h")]
        window: Window,
    },
    /// Deletes an index and its files.
    Drop {
        /// Index id.
        id: String,
    },
}

/// A JSON argument, inline or `@path`.
fn json_arg(arg: &str, what: &str) -> anyhow::Result<serde_json::Value> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {what} from {path}"))?,
        None => arg.to_owned(),
    };
    serde_json::from_str(&text).with_context(|| format!("{what} is not valid JSON"))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

/// Runs a synchronous core call off the async runtime.
async fn blocking<T: Send + 'static>(
    mgr: &Arc<IndexManager>,
    f: impl FnOnce(&IndexManager) -> Result<T, core_indexing::IndexError> + Send + 'static,
) -> anyhow::Result<T> {
    let mgr = mgr.clone();
    Ok(tokio::task::spawn_blocking(move || f(&mgr)).await??)
}

/// Runs one index subcommand over the indexes of `PIPETTE_DATA_DIR` (see [`IndexConfig::from_env`]).
/// Runs one index subcommand with an explicit configuration (e.g. from `--data-dir`).
pub(crate) async fn run_with(cmd: IndexCmd, out: &crate::Output, config: IndexConfig) -> anyhow::Result<()> {
    let mgr = Arc::new(IndexManager::open(config)?);
    match cmd {
        IndexCmd::Create { id, builtin, schema, shards, options } => {
            let schema = match (builtin, schema) {
                (Some(b), _) => SchemaSpec::builtin(b),
                (None, Some(s)) => SchemaSpec::from_json(&json_arg(&s, "--schema")?)?,
                (None, None) => anyhow::bail!("give --builtin pubmed|trials or --schema"),
            };
            let options: Option<IndexOptions> = match options {
                Some(o) => Some(serde_json::from_value(json_arg(&o, "--options")?).context("--options")?),
                None => None,
            };
            let req = CreateRequest { id, schema, shards: Some(shards), options };
            let status = blocking(&mgr, move |m| m.create(&req)).await?;
            out.emit(&status, || format!("created index {} ({} shard(s))", status.id, status.shards))
        }
        IndexCmd::Add { id, jsonl, docs, no_upsert } => {
            let documents = match docs {
                Some(d) => match json_arg(&d, "--docs")? {
                    serde_json::Value::Array(items) => Some(items),
                    _ => anyhow::bail!("--docs must be a JSON array of documents"),
                },
                None => None,
            };
            let jsonl_path = jsonl.map(|p| p.display().to_string());
            if documents.is_none() && jsonl_path.is_none() {
                anyhow::bail!("give --jsonl FILE or --docs JSON");
            }
            let total = documents.as_ref().map(|d| d.len() as u64);
            let bar = out.progress(total, "indexing");
            let progress = bar.callback();
            let req = AddRequest { id, documents, jsonl_path, upsert: Some(!no_upsert) };
            let resp = blocking(&mgr, move |m| m.add(&req, &progress)).await;
            bar.finish();
            let resp = resp?;
            out.emit(&resp, || {
                let mut text = format!(
                    "{}: {} added, {} updated, {} rejected ({} commits, {:.2} s)\n",
                    resp.id,
                    resp.added,
                    resp.updated,
                    resp.rejected,
                    resp.commits,
                    resp.took_micros as f64 / 1e6
                );
                for r in resp.rejections.iter().take(20) {
                    let at =
                        r.line.map_or_else(|| format!("document {}", r.position), |l| format!("line {l}"));
                    text.push_str(&format!("  rejected {at}: {}\n", r.reason));
                }
                text
            })
        }
        IndexCmd::Search {
            id,
            query,
            fields,
            boosts,
            filters,
            sort,
            limit,
            offset,
            highlight,
            return_fields,
        } => {
            let mut req = SearchRequest::new(id, query);
            req.fields = fields;
            for b in boosts {
                let (field, factor) = b.split_once('=').context("--boost takes field=factor")?;
                req.boosts.insert(field.to_owned(), factor.parse().context("--boost factor")?);
            }
            for f in filters {
                let filter: Filter = serde_json::from_value(json_arg(&f, "--filter")?).context("--filter")?;
                req.filters.push(filter);
            }
            req.sort = sort.map(|s| {
                let (field, order) = match s.rsplit_once(':') {
                    Some((f, "asc")) => (f.to_owned(), SortOrder::Asc),
                    Some((f, "desc")) => (f.to_owned(), SortOrder::Desc),
                    _ => (s, SortOrder::Desc),
                };
                SortSpec { field, order }
            });
            req.limit = Some(limit);
            req.offset = Some(offset);
            req.highlight = highlight;
            req.return_fields = (!return_fields.is_empty()).then_some(return_fields);
            let resp = blocking(&mgr, move |m| m.search(&req)).await?;
            out.emit(&resp, || {
                let mut text =
                    format!("{} hits in {:.2} ms\n", resp.total_hits, resp.took_micros as f64 / 1000.0);
                for hit in &resp.hits {
                    let rank = hit
                        .score
                        .map(|s| format!("{s:.3}"))
                        .or_else(|| hit.sort_value.as_ref().map(|v| v.to_string()))
                        .unwrap_or_default();
                    let title = hit.document.get("title").and_then(|t| t.as_str()).unwrap_or_default();
                    text.push_str(&format!("{rank:>8}  {}  {title}\n", hit.doc_id));
                    for s in &hit.snippets {
                        text.push_str(&format!("          {}: {}\n", s.field, s.html));
                    }
                }
                text
            })
        }
        IndexCmd::Get { id, doc_id } => {
            let req = GetRequest { id, doc_id };
            let resp = blocking(&mgr, move |m| m.get(&req)).await?;
            out.emit(&resp, || match &resp.document {
                Some(doc) => serde_json::to_string_pretty(doc).unwrap_or_default(),
                None => format!("{}: no document {}", resp.id, resp.doc_id),
            })
        }
        IndexCmd::Delete { id, doc_ids, query } => {
            let req = DeleteRequest { id, doc_ids: (!doc_ids.is_empty()).then_some(doc_ids), query };
            let resp = blocking(&mgr, move |m| m.delete(&req)).await?;
            out.emit(&resp, || format!("{}: {} deleted", resp.id, resp.deleted))
        }
        IndexCmd::Status { id } => {
            let s = blocking(&mgr, move |m| m.status(&IndexRef::new(id))).await?;
            out.emit(&s, || {
                format!(
                    "{}: {} docs, {} segments, {} shard(s), {} on disk, last commit {}",
                    s.id,
                    s.docs,
                    s.segments,
                    s.shards,
                    mib(s.bytes_on_disk),
                    s.last_commit.as_deref().unwrap_or("never")
                )
            })
        }
        IndexCmd::List => {
            let list = blocking(&mgr, |m| m.list()).await?;
            out.emit(&list, || {
                if list.indexes.is_empty() {
                    return format!("no indexes in {}", list.data_dir);
                }
                list.indexes
                    .iter()
                    .map(|i| {
                        let schema = i.builtin.map_or("custom", |b| b.name());
                        format!(
                            "{}  {} docs  {} shard(s)  {}  {schema}\n",
                            i.id,
                            i.docs,
                            i.shards,
                            mib(i.bytes_on_disk)
                        )
                    })
                    .collect()
            })
        }
        IndexCmd::Optimize { id, target_segments } => {
            let bar = out.progress(None, "optimizing");
            let progress = bar.callback();
            let req = OptimizeRequest { id, target_segments: Some(target_segments) };
            let resp = blocking(&mgr, move |m| m.optimize(&req, &progress)).await;
            bar.finish();
            let r = resp?;
            out.emit(&r, || {
                format!(
                    "{}: {} → {} segments, {} → {} ({:.2} s)",
                    r.id,
                    r.segments_before,
                    r.segments_after,
                    mib(r.bytes_before),
                    mib(r.bytes_after),
                    r.took_micros as f64 / 1e6
                )
            })
        }
        IndexCmd::Reshard { id, shards } => {
            let bar = out.progress(None, "resharding");
            let progress = bar.callback();
            let req = ReshardRequest { id, shards };
            let resp = blocking(&mgr, move |m| m.reshard(&req, &progress)).await;
            bar.finish();
            let r = resp?;
            out.emit(&r, || {
                format!("{}: {} → {} shards, {} docs", r.id, r.shards_before, r.shards_after, r.docs_after)
            })
        }
        IndexCmd::Config {
            id,
            writer_memory_mb,
            writer_threads,
            commit_batch_size,
            merge_policy,
            default_fields,
            strict,
        } => {
            let merge_policy = match merge_policy.as_deref() {
                None => None,
                Some("log") => Some(MergePolicySetting::default()),
                Some("none") => Some(MergePolicySetting::None),
                Some(other) => anyhow::bail!("unknown merge policy {other}: use log or none"),
            };
            let req = ConfigUpdateRequest {
                id,
                writer_memory_mb,
                writer_threads,
                merge_policy,
                commit_batch_size,
                default_search_fields: default_fields,
                strict,
                shards: None,
            };
            let unchanged = ConfigUpdateRequest { id: req.id.clone(), ..ConfigUpdateRequest::default() };
            let resp = if req == unchanged {
                blocking(&mgr, move |m| m.config_get(&IndexRef::new(req.id))).await?
            } else {
                blocking(&mgr, move |m| m.config_update(&req)).await?
            };
            out.emit(&resp, || {
                let mut text = serde_json::to_string_pretty(&resp.options).unwrap_or_default();
                if !resp.changed.is_empty() {
                    text.push_str(&format!("\nchanged: {}", resp.changed.join(", ")));
                }
                if let Some(note) = &resp.note {
                    text.push_str(&format!("\n{note}"));
                }
                text
            })
        }
        IndexCmd::Metrics { id, window } => {
            let req = MetricsRequest { id, window };
            let r = blocking(&mgr, move |m| m.metrics(&req)).await?;
            out.emit(&r, || {
                format!(
                    "{}: {} queries ({:.3}/s), p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, errors {:.1}%; {} ingests, {} docs ({:.0} docs/s)",
                    r.index.as_deref().unwrap_or("all indexes"),
                    r.queries,
                    r.qps,
                    r.latency.p50_ms,
                    r.latency.p95_ms,
                    r.latency.p99_ms,
                    r.error_rate * 100.0,
                    r.ingests,
                    r.docs_ingested,
                    r.ingest_docs_per_sec
                )
            })
        }
        IndexCmd::Drop { id } => {
            let r = blocking(&mgr, move |m| m.drop_index(&IndexRef::new(id))).await?;
            out.emit(&r, || format!("dropped {} ({} freed)", r.id, mib(r.bytes_freed)))
        }
    }
}
