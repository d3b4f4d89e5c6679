//! Writing: add (validated, batched, committed), delete by ids or query, get by id.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Instant;

use serde_json::Value;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexWriter, TantivyDocument};

use crate::error::IndexError;
use crate::loaded::LoadedIndex;
use crate::manager::IndexManager;
use crate::metrics::now_secs;
use crate::types::{
    AddRequest, AddResponse, DeleteRequest, DeleteResponse, GetRequest, GetResponse, Progress, RejectedDoc,
};

const MAX_REPORTED_REJECTIONS: usize = 1000;

/// One input item: position, line, and the parsed document with its raw JSON text (when read
/// from a file), or the reason it could not be read.
struct Item<'a> {
    position: u64,
    line: Option<u64>,
    parsed: Result<(Cow<'a, Value>, Option<String>), String>,
}

fn count_lines(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Some(lines + u64::from(last != b'\n'))
}

struct Batch {
    added: u64,
    updated: u64,
    rejected: u64,
    rejections: Vec<RejectedDoc>,
    commits: u64,
    processed: u64,
}

impl Batch {
    fn reject(&mut self, position: u64, line: Option<u64>, doc_id: Option<String>, reason: String) {
        self.rejected += 1;
        if self.rejections.len() < MAX_REPORTED_REJECTIONS {
            self.rejections.push(RejectedDoc { position, line, doc_id, reason });
        }
    }
}

fn commit_all(idx: &LoadedIndex, writers: &mut [IndexWriter], dirty: &mut [bool]) -> Result<(), IndexError> {
    for (n, w) in writers.iter_mut().enumerate() {
        if dirty[n] {
            w.commit().map_err(|e| IndexError::engine(&idx.id, "committing", e))?;
            dirty[n] = false;
        }
    }
    idx.reload_readers()
}

fn ingest(
    idx: &LoadedIndex,
    writers: &mut [IndexWriter],
    items: &mut dyn Iterator<Item = Item<'_>>,
    upsert: bool,
    total: Option<u64>,
    progress: Progress<'_>,
) -> Result<Batch, IndexError> {
    let options = idx.options();
    let mut batch =
        Batch { added: 0, updated: 0, rejected: 0, rejections: Vec::new(), commits: 0, processed: 0 };
    let mut searchers = idx.searchers();
    let mut committed_empty = searchers.iter().all(|s| s.num_docs() == 0);
    let mut seen: HashSet<String> = HashSet::new();
    let mut dirty = vec![false; writers.len()];
    let mut pending = 0usize;
    for Item { position, line, parsed } in items {
        batch.processed += 1;
        let (value, raw) = match parsed {
            Ok(v) => v,
            Err(reason) => {
                batch.reject(position, line, None, reason);
                continue;
            }
        };
        let (doc_id, doc) = match idx.schema.to_document(&value, options.strict, raw.as_deref()) {
            Ok(d) => d,
            Err(reason) => {
                let doc_id = value.get(&idx.schema.def.id_field).and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                batch.reject(position, line, doc_id, reason);
                continue;
            }
        };
        let shard = idx.shard_for(&doc_id);
        let term = idx.id_term(&doc_id);
        let exists =
            seen.contains(&doc_id) || (!committed_empty && idx.exists_in(&searchers[shard], &term)?);
        if exists && !upsert {
            batch.reject(
                position,
                line,
                Some(doc_id),
                "a document with this id exists (upsert=false)".into(),
            );
            continue;
        }
        if exists {
            writers[shard].delete_term(term);
            batch.updated += 1;
        } else {
            batch.added += 1;
        }
        writers[shard].add_document(doc).map_err(|e| IndexError::engine(&idx.id, "adding a document", e))?;
        seen.insert(doc_id);
        dirty[shard] = true;
        pending += 1;
        if pending >= options.commit_batch_size {
            commit_all(idx, writers, &mut dirty)?;
            batch.commits += 1;
            pending = 0;
            seen.clear();
            searchers = idx.searchers();
            committed_empty = false;
            progress(batch.processed, total, &format!("committed {} documents", batch.added + batch.updated));
        }
    }
    if dirty.iter().any(|d| *d) {
        commit_all(idx, writers, &mut dirty)?;
        batch.commits += 1;
    }
    progress(batch.processed, total, &format!("done: {} documents indexed", batch.added + batch.updated));
    Ok(batch)
}

impl IndexManager {
    /// Adds documents (a list or a JSONL file under the allowed roots). Every document is
    /// validated; a bad one is reported with its position and reason and the rest go on.
    /// Commits every `commit_batch_size` documents and returns after the last commit.
    pub fn add(&self, req: &AddRequest, progress: Progress<'_>) -> Result<AddResponse, IndexError> {
        let started = Instant::now();
        let upsert = req.upsert.unwrap_or(true);
        let path = match (&req.documents, &req.jsonl_path) {
            (Some(_), None) => None,
            (None, Some(p)) => Some(crate::config::resolve_input(&self.allowed_roots(), p)?),
            _ => {
                return Err(IndexError::invalid(
                    "documents",
                    "give exactly one of `documents` and `jsonl_path`",
                ));
            }
        };
        let batch = self.write_op(&req.id, |idx, writers| match (&req.documents, &path) {
            (Some(docs), _) => {
                let mut items = docs.iter().enumerate().map(|(i, v)| Item {
                    position: i as u64,
                    line: None,
                    parsed: Ok((Cow::Borrowed(v), None)),
                });
                ingest(idx, writers, &mut items, upsert, Some(docs.len() as u64), progress)
            }
            (None, Some(path)) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| IndexError::io(format!("opening {}", path.display()), e))?;
                let total = count_lines(path);
                let mut read_error = None;
                let mut position = 0u64;
                let mut items = BufReader::with_capacity(1 << 20, file)
                    .lines()
                    .enumerate()
                    .map_while(|(n, line)| match line {
                        Ok(l) => Some((n as u64 + 1, l)),
                        Err(e) => {
                            read_error = Some(e);
                            None
                        }
                    })
                    .filter(|(_, l)| !l.trim().is_empty())
                    .map(|(line, text)| {
                        let parsed = serde_json::from_str::<Value>(&text)
                            .map(|v| (Cow::Owned(v), Some(text)))
                            .map_err(|e| format!("invalid JSON: {e}"));
                        let item = Item { position, line: Some(line), parsed };
                        position += 1;
                        item
                    });
                let batch = ingest(idx, writers, &mut items, upsert, total, progress)?;
                drop(items);
                match read_error {
                    Some(e) => Err(IndexError::io(format!("reading {}", path.display()), e)),
                    None => Ok(batch),
                }
            }
            (None, None) => Err(IndexError::invalid("documents", "nothing to add")),
        });
        let micros = started.elapsed().as_micros() as u64;
        let batch = batch?;
        let idx = self.loaded(&req.id)?;
        {
            let mut store = idx.metrics.lock();
            store.record_ingest(now_secs(), batch.added + batch.updated, batch.rejected, micros);
            store.flush();
        }
        metrics::counter!("pipette_index_docs_ingested_total", "index" => req.id.clone())
            .increment(batch.added + batch.updated);
        metrics::counter!("pipette_index_docs_rejected_total", "index" => req.id.clone())
            .increment(batch.rejected);
        metrics::histogram!("pipette_index_ingest_seconds", "index" => req.id.clone())
            .record(micros as f64 / 1e6);
        tracing::info!(index = %req.id, added = batch.added, updated = batch.updated, rejected = batch.rejected, micros, "ingest done");
        Ok(AddResponse {
            id: req.id.clone(),
            added: batch.added,
            updated: batch.updated,
            rejected: batch.rejected,
            rejections: batch.rejections,
            commits: batch.commits,
            took_micros: micros,
        })
    }

    /// Deletes documents by id, or every document matching a query, and commits.
    pub fn delete(&self, req: &DeleteRequest) -> Result<DeleteResponse, IndexError> {
        let deleted = match (&req.doc_ids, &req.query) {
            (Some(ids), None) => self.write_op(&req.id, |idx, writers| {
                let searchers = idx.searchers();
                let mut dirty = vec![false; writers.len()];
                let mut deleted = 0u64;
                let unique: HashSet<&String> = ids.iter().collect();
                for doc_id in unique {
                    let shard = idx.shard_for(doc_id);
                    let term = idx.id_term(doc_id);
                    if idx.exists_in(&searchers[shard], &term)? {
                        writers[shard].delete_term(term);
                        dirty[shard] = true;
                        deleted += 1;
                    }
                }
                commit_all(idx, writers, &mut dirty)?;
                Ok(deleted)
            })?,
            (None, Some(query)) => self.write_op(&req.id, |idx, writers| {
                let q = crate::search::parse_query(idx, query, &[], &Default::default())?;
                let mut dirty = vec![true; writers.len()];
                let mut deleted = 0u64;
                for (n, searcher) in idx.searchers().iter().enumerate() {
                    let count = searcher
                        .search(&*q, &Count)
                        .map_err(|e| IndexError::engine(&idx.id, "counting matches", e))?;
                    deleted += count as u64;
                    if count > 0 {
                        writers[n]
                            .delete_query(q.box_clone())
                            .map_err(|e| IndexError::engine(&idx.id, "deleting by query", e))?;
                    } else {
                        dirty[n] = false;
                    }
                }
                commit_all(idx, writers, &mut dirty)?;
                Ok(deleted)
            })?,
            _ => {
                return Err(IndexError::invalid("doc_ids", "give exactly one of `doc_ids` and `query`"));
            }
        };
        tracing::info!(index = %req.id, deleted, "delete done");
        Ok(DeleteResponse { id: req.id.clone(), deleted })
    }

    /// Fetches one document by id.
    pub fn get(&self, req: &GetRequest) -> Result<GetResponse, IndexError> {
        let idx = self.loaded(&req.id)?;
        let document = get_document(&idx, &req.doc_id)?;
        Ok(GetResponse {
            id: req.id.clone(),
            doc_id: req.doc_id.clone(),
            found: document.is_some(),
            document: document.map(|d| idx.schema.stored_view(d, None)),
        })
    }
}

/// The source of document `doc_id`, if it exists.
pub(crate) fn get_document(idx: &LoadedIndex, doc_id: &str) -> Result<Option<Value>, IndexError> {
    let shard = idx.shard_for(doc_id);
    let searcher = idx.shards[shard].reader.searcher();
    let query = TermQuery::new(idx.id_term(doc_id), IndexRecordOption::Basic);
    let top = searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())
        .map_err(|e| IndexError::engine(&idx.id, "looking a document up", e))?;
    match top.first() {
        Some((_, address)) => {
            let doc: TantivyDocument =
                searcher.doc(*address).map_err(|e| IndexError::engine(&idx.id, "reading a document", e))?;
            Ok(Some(source_of(idx, &doc)?))
        }
        None => Ok(None),
    }
}

/// The original JSON of a stored document.
pub(crate) fn source_of(idx: &LoadedIndex, doc: &TantivyDocument) -> Result<Value, IndexError> {
    use tantivy::schema::Value as _;
    let bytes = doc.get_first(idx.schema.source_field).and_then(|v| v.as_bytes()).ok_or_else(|| {
        IndexError::Corrupt { id: idx.id.clone(), reason: "a stored document has no source".into() }
    })?;
    serde_json::from_slice(bytes).map_err(|e| IndexError::Corrupt {
        id: idx.id.clone(),
        reason: format!("a stored document is not valid JSON: {e}"),
    })
}
