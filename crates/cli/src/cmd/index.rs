//! `pipette index …`: the local tantivy indexes, through the `index_*` tools.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::face::{Face, Failed, args, json_arg};

/// The index subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum IndexCmd {
    /// Creates an index from a built-in schema or a schema file.
    Create {
        /// Index id (letters, digits, `-`, `_`).
        id: String,
        /// A built-in schema: pubmed | trials (what `pubmed …` and `trials …` keep with `--index`).
        #[arg(long, conflicts_with = "schema")]
        builtin: Option<String>,
        /// A schema as JSON, or `@file.json`: {"id_field": "id", "fields": [{"name", "type", ...}]}.
        #[arg(long)]
        schema: Option<String>,
        /// Number of shards.
        #[arg(long)]
        shards: Option<usize>,
        /// Index options as JSON, or `@file.json` (writer_memory_mb, commit_batch_size, ...).
        #[arg(long)]
        options: Option<String>,
    },
    /// Adds documents: a JSONL file, a JSON array, or what `pipette --json pubmed …` / `trials …` printed.
    Add {
        /// Index id.
        id: String,
        /// A JSONL file (one document per line) under the allowed roots (--allow-root).
        #[arg(long, conflicts_with = "docs")]
        jsonl: Option<PathBuf>,
        /// A JSON array of documents, or a `pipette --json pubmed|trials …` result; inline or `@file.json`.
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
        /// Hits to return (default 10).
        #[arg(long)]
        limit: Option<usize>,
        /// Hits to skip.
        #[arg(long)]
        offset: Option<usize>,
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
        /// Segments to leave per shard (default 1).
        #[arg(long)]
        target_segments: Option<usize>,
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
        #[arg(long)]
        window: Option<String>,
    },
    /// Deletes an index and its files (asks first on a terminal).
    Drop {
        /// Index id.
        id: String,
        /// Do not ask (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// Whether the person at the terminal confirms `what`; without a terminal, a refusal saying to pass `--yes`.
fn ask(what: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to {what} unasked: stdin is not a terminal to ask on; pass --yes to confirm");
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{what}? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// The documents `--docs` gives: a JSON array of documents, or a result pipette printed (its articles or
/// trials, converted to the built-in schemas' documents).
fn documents(docs: &str) -> anyhow::Result<Vec<Value>> {
    let value = json_arg(docs, "--docs")?;
    if let Some(documents) = mcp_tools::research_documents(&value) {
        return Ok(documents);
    }
    match value {
        Value::Array(items) => Ok(items),
        _ => anyhow::bail!(
            "--docs: expected a JSON array of documents or what `pipette --json pubmed …` or `pipette --json \
             trials …` printed"
        ),
    }
}

pub(crate) async fn run(face: &Face, cmd: IndexCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        IndexCmd::Create { id, builtin, schema, shards, options } => {
            let schema = match (builtin, schema) {
                (Some(b), _) => json!({ "builtin": b }),
                (None, Some(s)) => json_arg(&s, "--schema")?,
                (None, None) => anyhow::bail!("give --builtin pubmed|trials or --schema"),
            };
            let options = options.map(|o| json_arg(&o, "--options")).transpose()?;
            ("index_create", json!({ "id": id, "schema": schema, "shards": shards, "options": options }))
        }
        IndexCmd::Add { id, jsonl, docs, no_upsert } => {
            let documents = docs.map(|d| documents(&d)).transpose()?;
            if documents.is_none() && jsonl.is_none() {
                anyhow::bail!("give --jsonl FILE or --docs JSON");
            }
            let arguments = json!({ "id": id, "documents": documents, "jsonl_path": jsonl,
                                    "upsert": no_upsert.then_some(false) });
            let Some(added) = face.run("index_add", args(arguments)).await? else { return Ok(()) };
            let count = |k: &str| added[k].as_u64().unwrap_or(0);
            if count("added") + count("updated") == 0 && count("rejected") > 0 {
                let first = added.pointer("/rejections/0/reason").and_then(Value::as_str).unwrap_or("");
                return Err(Failed(format!(
                    "error: no document was added: all {} were rejected (the first: {first})",
                    count("rejected")
                ))
                .into());
            }
            return Ok(());
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
            let mut boost = serde_json::Map::new();
            for b in boosts {
                let (field, factor) = b
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--boost takes field=factor, got {b}"))?;
                let factor: f64 =
                    factor.parse().map_err(|_| anyhow::anyhow!("--boost {b}: the factor is not a number"))?;
                boost.insert(field.to_owned(), factor.into());
            }
            let filters =
                filters.iter().map(|f| json_arg(f, "--filter")).collect::<anyhow::Result<Vec<_>>>()?;
            let sort = sort.map(|s| match s.rsplit_once(':') {
                Some((field, order @ ("asc" | "desc"))) => json!({ "field": field, "order": order }),
                _ => json!({ "field": s }),
            });
            (
                "index_search",
                json!({ "id": id, "query": query, "fields": fields, "boosts": boost, "filters": filters,
                        "sort": sort, "limit": limit, "offset": offset, "highlight": highlight,
                        "return_fields": (!return_fields.is_empty()).then_some(return_fields) }),
            )
        }
        IndexCmd::Get { id, doc_id } => ("index_get", json!({ "id": id, "doc_id": doc_id })),
        IndexCmd::Delete { id, doc_ids, query } => (
            "index_delete",
            json!({ "id": id, "doc_ids": (!doc_ids.is_empty()).then_some(doc_ids), "query": query }),
        ),
        IndexCmd::Status { id } => ("index_status", json!({ "id": id })),
        IndexCmd::List => ("index_list", json!({})),
        IndexCmd::Optimize { id, target_segments } => {
            ("index_optimize", json!({ "id": id, "target_segments": target_segments }))
        }
        IndexCmd::Reshard { id, shards } => ("index_reshard", json!({ "id": id, "shards": shards })),
        IndexCmd::Config {
            id,
            writer_memory_mb,
            writer_threads,
            commit_batch_size,
            merge_policy,
            default_fields,
            strict,
        } => {
            let merge_policy = merge_policy.map(|kind| json!({ "kind": kind }));
            let changes = args(json!({
                "writer_memory_mb": writer_memory_mb, "writer_threads": writer_threads,
                "commit_batch_size": commit_batch_size, "merge_policy": merge_policy,
                "default_search_fields": default_fields, "strict": strict,
            }));
            match changes {
                Value::Object(mut changes) if !changes.is_empty() => {
                    changes.insert("id".into(), id.into());
                    ("index_config_update", Value::Object(changes))
                }
                _ => ("index_config_get", json!({ "id": id })),
            }
        }
        IndexCmd::Metrics { id, window } => ("index_metrics", json!({ "id": id, "window": window })),
        IndexCmd::Drop { id, yes } => {
            if !yes && !ask(&format!("delete the index `{id}` and all its documents"))? {
                return Err(Failed(format!("kept the index `{id}`")).into());
            }
            ("index_drop", json!({ "id": id, "confirm": true }))
        }
    };
    face.run(tool, args(arguments)).await?;
    Ok(())
}
