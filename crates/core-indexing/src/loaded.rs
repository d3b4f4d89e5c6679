//! A loaded index: its shards' tantivy indexes and readers, its lazily opened writers, its metrics.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TERMINATED, Term};

use crate::config::IndexOptions;
use crate::error::IndexError;
use crate::metrics::MetricsStore;
use crate::schema::CompiledSchema;
use crate::store::{Manifest, shard_dir};

/// One shard: a tantivy index and its reader.
pub(crate) struct Shard {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) dir: PathBuf,
}

pub(crate) struct LoadedIndex {
    pub(crate) id: String,
    pub(crate) dir: PathBuf,
    pub(crate) manifest: RwLock<Manifest>,
    pub(crate) schema: CompiledSchema,
    pub(crate) shards: Vec<Shard>,
    /// One writer per shard, opened on the first write and kept while loaded.
    pub(crate) writers: Mutex<Option<Vec<IndexWriter>>>,
    /// Set when this generation is unloaded, dropped or replaced: writes must re-resolve the index.
    pub(crate) retired: AtomicBool,
    pub(crate) metrics: Arc<Mutex<MetricsStore>>,
}

/// Stable shard of a document id (FNV-1a 64).
pub(crate) fn shard_of(doc_id: &str, shards: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc_id.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % shards.max(1) as u64) as usize
}

pub(crate) fn open_shard(id: &str, dir: &Path) -> Result<Shard, IndexError> {
    let index = Index::open_in_dir(dir)
        .map_err(|e| IndexError::engine(id, format!("opening {}", dir.display()), e))?;
    crate::tokenize::register(&index);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::OnCommitWithDelay)
        .try_into()
        .map_err(|e| IndexError::engine(id, "opening a reader", e))?;
    Ok(Shard { index, reader, dir: dir.to_path_buf() })
}

pub(crate) fn open_writer(
    id: &str,
    index: &Index,
    options: &IndexOptions,
    shards: usize,
) -> Result<IndexWriter, IndexError> {
    let (threads, per_thread) = options.writer_layout(shards);
    let writer_options = tantivy::indexer::IndexWriterOptions::builder()
        .num_worker_threads(threads)
        .memory_budget_per_thread(per_thread)
        .num_merge_threads(1)
        .build();
    let writer: IndexWriter = index
        .writer_with_options(writer_options)
        .map_err(|e| IndexError::engine(id, "opening the writer", e))?;
    writer.set_merge_policy(options.merge_policy.to_tantivy());
    Ok(writer)
}

impl LoadedIndex {
    pub(crate) fn open(
        dir: PathBuf,
        manifest: Manifest,
        metrics: Arc<Mutex<MetricsStore>>,
    ) -> Result<LoadedIndex, IndexError> {
        let schema = CompiledSchema::compile(&manifest.schema).map_err(|e| IndexError::Corrupt {
            id: manifest.id.clone(),
            reason: format!("stored schema is invalid: {e}"),
        })?;
        let shards = (0..manifest.shards)
            .map(|n| open_shard(&manifest.id, &shard_dir(&dir, manifest.generation, n)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LoadedIndex {
            id: manifest.id.clone(),
            dir,
            manifest: RwLock::new(manifest),
            schema,
            shards,
            writers: Mutex::new(None),
            retired: AtomicBool::new(false),
            metrics,
        })
    }

    pub(crate) fn options(&self) -> IndexOptions {
        self.manifest.read().options.clone()
    }

    pub(crate) fn searchers(&self) -> Vec<Searcher> {
        self.shards.iter().map(|s| s.reader.searcher()).collect()
    }

    pub(crate) fn reload_readers(&self) -> Result<(), IndexError> {
        for shard in &self.shards {
            shard.reader.reload().map_err(|e| IndexError::engine(&self.id, "reloading a reader", e))?;
        }
        Ok(())
    }

    /// Runs `f` with the writers (opening them if needed). `Ok(None)` means this index object was
    /// retired meanwhile and the caller must look the index up again. On error the writers are
    /// dropped, discarding uncommitted changes, so the index stays at its last commit.
    pub(crate) fn with_writers<R>(
        &self,
        f: impl FnOnce(&mut Vec<IndexWriter>) -> Result<R, IndexError>,
    ) -> Result<Option<R>, IndexError> {
        let mut guard = self.writers.lock();
        if self.retired.load(Ordering::SeqCst) {
            return Ok(None);
        }
        if guard.is_none() {
            let options = self.options();
            let writers = self
                .shards
                .iter()
                .map(|s| open_writer(&self.id, &s.index, &options, self.shards.len()))
                .collect::<Result<Vec<_>, _>>()?;
            *guard = Some(writers);
        }
        let Some(writers) = guard.as_mut() else {
            return Ok(None);
        };
        match f(writers) {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                *guard = None;
                Err(e)
            }
        }
    }

    /// Marks this object retired and closes its writers (waiting for their merges).
    pub(crate) fn retire(&self) {
        let mut guard = self.writers.lock();
        self.retired.store(true, Ordering::SeqCst);
        if let Some(writers) = guard.take() {
            for w in writers {
                if let Err(e) = w.wait_merging_threads() {
                    tracing::warn!(index = %self.id, error = %e, "closing a writer");
                }
            }
        }
        self.metrics.lock().flush();
    }

    pub(crate) fn writer_open(&self) -> bool {
        self.writers.lock().is_some()
    }

    pub(crate) fn id_term(&self, doc_id: &str) -> Term {
        Term::from_field_text(self.schema.id_field, doc_id)
    }

    /// Whether a live (committed) document with this id exists in `searcher`.
    pub(crate) fn exists_in(&self, searcher: &Searcher, term: &Term) -> Result<bool, IndexError> {
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.schema.id_field)
                .map_err(|e| IndexError::engine(&self.id, "reading the id field", e))?;
            let postings = inverted
                .read_postings(term, IndexRecordOption::Basic)
                .map_err(|e| IndexError::io("reading postings", e))?;
            if let Some(mut postings) = postings {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) {
                        return Ok(true);
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(false)
    }

    pub(crate) fn shard_for(&self, doc_id: &str) -> usize {
        shard_of(doc_id, self.shards.len())
    }

    /// Documents and segments over all shards, as the readers see them.
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.searchers().iter().fold((0, 0), |(d, s), searcher| {
            (d + searcher.num_docs(), s + searcher.segment_readers().len() as u64)
        })
    }

    /// Writer budget (if open) + doc-store caches + the hot columns of every segment.
    pub(crate) fn memory_estimate(&self) -> u64 {
        let mut bytes = 0u64;
        if self.writer_open() {
            bytes += self.options().writer_memory_mb * 1024 * 1024;
        }
        for searcher in self.searchers() {
            for segment in searcher.segment_readers() {
                bytes += 100 * 16 * 1024; // doc store block cache
                if let Ok(usage) = segment.space_usage() {
                    bytes += usage.fast_fields().total().get_bytes()
                        + usage.fieldnorms().total().get_bytes()
                        + usage.termdict().total().get_bytes() / 16;
                }
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_hash_is_stable_and_spread() {
        assert_eq!(shard_of("a", 1), 0);
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c: fixed forever, documents must not move.
        assert_eq!(shard_of("a", 7), (0xaf63_dc4c_8601_ec8c_u64 % 7) as usize);
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[shard_of(&format!("doc-{i}"), 4)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }
}
