//! Maintenance: optimize (merge segments, collect garbage) and reshard (rebuild into N shards).

use std::sync::Arc;
use std::time::Instant;

use tantivy::{IndexWriter, TantivyDocument};

use crate::error::IndexError;
use crate::ingest::source_of;
use crate::loaded::{LoadedIndex, open_writer};
use crate::manager::{IndexManager, MAX_SHARDS};
use crate::schema::validate_index_id;
use crate::store::{dir_size, generation_dir, remove_stale_generations, shard_dir};
use crate::types::{OptimizeRequest, OptimizeResponse, Progress, ReshardRequest, ReshardResponse};

/// Merges the segments of one shard down to `target` and collects garbage files.
fn optimize_shard(
    idx: &LoadedIndex,
    n: usize,
    writer: &mut IndexWriter,
    target: usize,
) -> Result<(), IndexError> {
    let engine = |what: &str, e| IndexError::engine(&idx.id, what.to_string(), e);
    let mut metas =
        idx.shards[n].index.searchable_segment_metas().map_err(|e| engine("listing segments", e))?;
    if metas.len() > target {
        // Merge the smallest segments into one, leaving `target` segments.
        metas.sort_by_key(|m| m.num_docs());
        let ids: Vec<_> = metas.iter().take(metas.len() - target + 1).map(|m| m.id()).collect();
        writer.merge(&ids).wait().map_err(|e| engine("merging segments", e))?;
    }
    // Segment metas are tracked: holding them would keep their files from collection.
    drop(metas);
    // The reader holds the old segments alive until it moves to the merged one, and a finished
    // merge lets go of its inputs a moment after it reports: collect until nothing stale is left.
    idx.shards[n].reader.reload().map_err(|e| engine("reloading a reader", e))?;
    for _ in 0..100 {
        writer.garbage_collect_files().wait().map_err(|e| engine("collecting garbage files", e))?;
        if stale_segment_files(idx, n)? == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}

/// Files of shard `n` that belong to no live segment.
fn stale_segment_files(idx: &LoadedIndex, n: usize) -> Result<usize, IndexError> {
    let live: std::collections::HashSet<String> = idx.shards[n]
        .index
        .searchable_segment_ids()
        .map_err(|e| IndexError::engine(&idx.id, "listing segments", e))?
        .iter()
        .map(|id| id.uuid_string())
        .collect();
    let entries = std::fs::read_dir(&idx.shards[n].dir).map_err(|e| IndexError::io("listing a shard", e))?;
    Ok(entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next()?.to_string();
            (stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit())).then_some(stem)
        })
        .filter(|stem| !live.contains(stem))
        .count())
}

impl IndexManager {
    /// Merges each shard down to `target_segments` (default 1) and deletes unused files.
    pub fn optimize(
        &self,
        req: &OptimizeRequest,
        progress: Progress<'_>,
    ) -> Result<OptimizeResponse, IndexError> {
        let target = req.target_segments.unwrap_or(1);
        if target == 0 || target > 1000 {
            return Err(IndexError::invalid("target_segments", "must be between 1 and 1000"));
        }
        let started = Instant::now();
        let idx = self.loaded(&req.id)?;
        let (_, segments_before) = idx.counts();
        let bytes_before = dir_size(&idx.dir);
        // Let background merges finish first so that every segment can be merged.
        {
            let mut guard = idx.writers.lock();
            if let Some(writers) = guard.take() {
                for w in writers {
                    w.wait_merging_threads()
                        .map_err(|e| IndexError::engine(&idx.id, "finishing merges", e))?;
                }
            }
        }
        let shards = idx.shards.len() as u64;
        self.write_op(&req.id, |idx, writers| {
            for (n, writer) in writers.iter_mut().enumerate() {
                progress(n as u64, Some(shards), &format!("merging shard {}/{shards}", n + 1));
                optimize_shard(idx, n, writer, target)?;
            }
            idx.reload_readers()
        })?;
        let idx = self.loaded(&req.id)?;
        // Merges done by the writer are committed; wait until the readers see them.
        for _ in 0..50 {
            if idx.counts().1 <= target as u64 * shards {
                break;
            }
            idx.reload_readers()?;
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        progress(shards, Some(shards), "optimized");
        let (_, segments_after) = idx.counts();
        let response = OptimizeResponse {
            id: req.id.clone(),
            segments_before,
            segments_after,
            bytes_before,
            bytes_after: dir_size(&idx.dir),
            took_micros: started.elapsed().as_micros() as u64,
        };
        tracing::info!(index = %req.id, ?response, "optimize done");
        Ok(response)
    }

    /// Rebuilds an index into `shards` shards from the stored documents, then switches to it
    /// atomically. Searches keep working on the old shards meanwhile; writes wait.
    pub fn reshard(
        &self,
        req: &ReshardRequest,
        progress: Progress<'_>,
    ) -> Result<ReshardResponse, IndexError> {
        validate_index_id(&req.id)?;
        if req.shards == 0 || req.shards > MAX_SHARDS {
            return Err(IndexError::invalid("shards", format!("must be between 1 and {MAX_SHARDS}")));
        }
        let started = Instant::now();
        let life = self.lifecycle.lock();
        let old = self.load_locked(&req.id)?;
        let shards_before = old.shards.len();
        // Hold the old writers (blocking other writers, here and in other processes) until the switch.
        let mut guard = old.writers.lock();
        if guard.is_none() {
            let options = old.options();
            *guard = Some(
                old.shards
                    .iter()
                    .map(|s| open_writer(&old.id, &s.index, &options, shards_before))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let (docs_before, _) = old.counts();
        let mut manifest = old.manifest.read().clone();
        let new_generation = manifest.generation + 1;
        let new_gen_dir = generation_dir(&old.dir, new_generation);
        let _ = std::fs::remove_dir_all(&new_gen_dir);
        let build = || -> Result<u64, IndexError> {
            let mut writers = Vec::with_capacity(req.shards);
            for n in 0..req.shards {
                let sdir = shard_dir(&old.dir, new_generation, n);
                std::fs::create_dir_all(&sdir)
                    .map_err(|e| IndexError::io(format!("creating {}", sdir.display()), e))?;
                let index = tantivy::Index::create_in_dir(&sdir, old.schema.schema.clone())
                    .map_err(|e| IndexError::engine(&old.id, "creating a shard", e))?;
                crate::tokenize::register(&index);
                writers.push(open_writer(&old.id, &index, &manifest.options, req.shards)?);
            }
            let mut copied = 0u64;
            for searcher in old.searchers() {
                for segment in searcher.segment_readers() {
                    let store =
                        segment.get_store_reader(16).map_err(|e| IndexError::io("opening a doc store", e))?;
                    for doc_id in segment.doc_ids_alive() {
                        let doc: TantivyDocument = store
                            .get(doc_id)
                            .map_err(|e| IndexError::engine(&old.id, "reading a document", e))?;
                        let source = source_of(&old, &doc)?;
                        let (id, new_doc) =
                            old.schema.to_document(&source, false, None).map_err(|reason| {
                                IndexError::Corrupt {
                                    id: old.id.clone(),
                                    reason: format!("a stored document no longer fits the schema: {reason}"),
                                }
                            })?;
                        writers[crate::loaded::shard_of(&id, req.shards)]
                            .add_document(new_doc)
                            .map_err(|e| IndexError::engine(&old.id, "adding a document", e))?;
                        copied += 1;
                        if copied.is_multiple_of(10_000) {
                            progress(copied, Some(docs_before), "copying documents");
                        }
                    }
                }
            }
            for mut w in writers {
                w.commit().map_err(|e| IndexError::engine(&old.id, "committing", e))?;
                w.wait_merging_threads().map_err(|e| IndexError::engine(&old.id, "finishing merges", e))?;
            }
            Ok(copied)
        };
        let copied = match build() {
            Ok(c) if c == docs_before => c,
            Ok(c) => {
                let _ = std::fs::remove_dir_all(&new_gen_dir);
                return Err(IndexError::Corrupt {
                    id: old.id.clone(),
                    reason: format!("reshard copied {c} documents of {docs_before}; the index is unchanged"),
                });
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&new_gen_dir);
                return Err(e);
            }
        };
        // The switch: one atomic manifest replacement.
        manifest.shards = req.shards;
        manifest.generation = new_generation;
        manifest.write(&old.dir)?;
        old.retired.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(writers) = guard.take() {
            for w in writers {
                let _ = w.wait_merging_threads();
            }
        }
        drop(guard);
        self.loaded.write().remove(&req.id);
        let new = self.load_locked(&req.id)?;
        remove_stale_generations(&old.dir, new_generation);
        drop(life);
        let (docs_after, _) = new.counts();
        progress(copied, Some(docs_before), "resharded");
        let _keep: Arc<LoadedIndex> = old;
        tracing::info!(index = %req.id, shards_before, shards_after = req.shards, docs_after, "reshard done");
        Ok(ReshardResponse {
            id: req.id.clone(),
            shards_before,
            shards_after: req.shards,
            docs_before,
            docs_after,
            took_micros: started.elapsed().as_micros() as u64,
        })
    }
}
