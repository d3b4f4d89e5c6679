//! The index manager: the set of indexes in a data directory and their life cycle.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use serde_json::Value;

use crate::config::{IndexConfig, IndexOptions};
use crate::error::IndexError;
use crate::loaded::LoadedIndex;
use crate::metrics::{METRICS_FILE, MetricsReport, MetricsStore, Totals, now_secs};
use crate::schema::{BuiltinSchema, CompiledSchema, FieldType, SchemaSpec, validate_index_id};
use crate::store::{MANIFEST_FILE, Manifest, dir_size, remove_stale_generations, shard_dir};
use crate::types::{
    AddRequest, AddResponse, ConfigResponse, ConfigUpdateRequest, CreateRequest, DropResponse, IndexRef,
    IndexStatus, IndexSummary, ListResponse, MetricsRequest, Progress, UnloadResponse,
};

pub(crate) const MAX_SHARDS: usize = 64;

/// Manages the durable tantivy indexes of one data directory.
///
/// Synchronous: run it on a blocking pool from async code. `Send + Sync`; share it behind an
/// `Arc`. Searches run concurrently with writes; writes to one index are serialized, and a
/// second writer on the same index (another process) is refused with [`IndexError::WriterBusy`].
pub struct IndexManager {
    pub(crate) config: IndexConfig,
    /// Where JSONL input files may be (starts as `config.allowed_roots`; see `set_allowed_roots`).
    allowed_roots: RwLock<Vec<PathBuf>>,
    pub(crate) loaded: RwLock<HashMap<String, Arc<LoadedIndex>>>,
    /// Serializes load, create, unload, drop and reshard.
    pub(crate) lifecycle: Mutex<()>,
    pub(crate) metric_stores: Mutex<HashMap<String, Arc<Mutex<MetricsStore>>>>,
}

impl std::fmt::Debug for IndexManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexManager")
            .field("data_dir", &self.config.data_dir)
            .field("loaded", &self.loaded.read().keys().collect::<Vec<_>>())
            .finish()
    }
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl IndexManager {
    /// Opens (creating it if needed) the data directory.
    pub fn open(config: IndexConfig) -> Result<IndexManager, IndexError> {
        config.default_options.validate()?;
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| IndexError::io(format!("creating {}", config.data_dir.display()), e))?;
        let manager = IndexManager {
            allowed_roots: RwLock::new(config.allowed_roots.clone()),
            config,
            loaded: RwLock::new(HashMap::new()),
            lifecycle: Mutex::new(()),
            metric_stores: Mutex::new(HashMap::new()),
        };
        manager.remove_stale_temp_dirs();
        Ok(manager)
    }

    /// The configuration in use.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Replaces the directories JSONL input files may be read from (e.g. with the roots an MCP client
    /// declared).
    pub fn set_allowed_roots(&self, roots: Vec<PathBuf>) {
        *self.allowed_roots.write() = roots;
    }

    /// The directories JSONL input files may be read from now.
    pub fn allowed_roots(&self) -> Vec<PathBuf> {
        self.allowed_roots.read().clone()
    }

    fn remove_stale_temp_dirs(&self) {
        let Ok(entries) = std::fs::read_dir(&self.config.data_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3_600);
            if name.starts_with(".creating-") && old {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    pub(crate) fn index_dir(&self, id: &str) -> PathBuf {
        self.config.data_dir.join(id)
    }

    pub(crate) fn metrics_store(&self, id: &str) -> Arc<Mutex<MetricsStore>> {
        let mut stores = self.metric_stores.lock();
        stores
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(MetricsStore::load(&self.index_dir(id)))))
            .clone()
    }

    /// The loaded index `id`, loading it if needed.
    pub(crate) fn loaded(&self, id: &str) -> Result<Arc<LoadedIndex>, IndexError> {
        validate_index_id(id)?;
        if let Some(idx) = self.loaded.read().get(id) {
            return Ok(idx.clone());
        }
        let _life = self.lifecycle.lock();
        self.load_locked(id)
    }

    /// Loads `id`; the caller holds the lifecycle lock.
    pub(crate) fn load_locked(&self, id: &str) -> Result<Arc<LoadedIndex>, IndexError> {
        if let Some(idx) = self.loaded.read().get(id) {
            return Ok(idx.clone());
        }
        let dir = self.index_dir(id);
        let manifest = Manifest::read(&dir, id)?;
        remove_stale_generations(&dir, manifest.generation);
        let idx = Arc::new(LoadedIndex::open(dir, manifest, self.metrics_store(id))?);
        self.loaded.write().insert(id.to_string(), idx.clone());
        tracing::info!(index = id, shards = idx.shards.len(), "index loaded");
        metrics::gauge!("pipette_index_loaded").set(self.loaded.read().len() as f64);
        Ok(idx)
    }

    /// If another process resharded the index, drops this process's stale view of it.
    fn follow_generation(&self, idx: &Arc<LoadedIndex>) -> Result<(), IndexError> {
        let on_disk = Manifest::read(&idx.dir, &idx.id)?;
        let current = idx.manifest.read().generation;
        if on_disk.generation != current {
            tracing::info!(index = %idx.id, from = current, to = on_disk.generation, "index changed on disk; reloading");
            let _life = self.lifecycle.lock();
            let mut loaded = self.loaded.write();
            if loaded.get(&idx.id).is_some_and(|l| Arc::ptr_eq(l, idx)) {
                loaded.remove(&idx.id);
            }
            drop(loaded);
            idx.retire();
        }
        Ok(())
    }

    /// Runs a write operation, looking the index up again if it was replaced meanwhile.
    pub(crate) fn write_op<R>(
        &self,
        id: &str,
        mut f: impl FnMut(&LoadedIndex, &mut Vec<tantivy::IndexWriter>) -> Result<R, IndexError>,
    ) -> Result<R, IndexError> {
        for _ in 0..5 {
            let idx = self.loaded(id)?;
            self.follow_generation(&idx)?;
            if let Some(r) = idx.with_writers(|w| f(&idx, w))? {
                return Ok(r);
            }
        }
        Err(IndexError::WriterBusy { id: id.to_string() })
    }

    /// Creates an index.
    pub fn create(&self, req: &CreateRequest) -> Result<IndexStatus, IndexError> {
        validate_index_id(&req.id)?;
        let shards = req.shards.unwrap_or(1);
        if shards == 0 || shards > MAX_SHARDS {
            return Err(IndexError::invalid("shards", format!("must be between 1 and {MAX_SHARDS}")));
        }
        let options = req.options.clone().unwrap_or_else(|| self.config.default_options.clone());
        options.validate()?;
        let schema_def = req.schema.resolve()?;
        let compiled = CompiledSchema::compile(&schema_def)?;
        for name in &options.default_search_fields {
            if compiled.field(name).is_none() {
                return Err(IndexError::invalid(
                    "options",
                    format!("default search field `{name}` is not in the schema"),
                ));
            }
        }
        let _life = self.lifecycle.lock();
        let dir = self.index_dir(&req.id);
        if dir.join(MANIFEST_FILE).exists() {
            return Err(IndexError::AlreadyExists { id: req.id.clone() });
        }
        // Build in a private directory, then rename: no half-created index is ever visible.
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let tmp = self.config.data_dir.join(format!(".creating-{}-{}-{nanos}", req.id, std::process::id()));
        let manifest = Manifest {
            version: 1,
            id: req.id.clone(),
            schema: schema_def,
            builtin: req.schema.builtin,
            shards,
            generation: 1,
            options,
            created_at: rfc3339(SystemTime::now()),
        };
        let build = || -> Result<(), IndexError> {
            for n in 0..shards {
                let sdir = shard_dir(&tmp, 1, n);
                std::fs::create_dir_all(&sdir)
                    .map_err(|e| IndexError::io(format!("creating {}", sdir.display()), e))?;
                tantivy::Index::create_in_dir(&sdir, compiled.schema.clone())
                    .map_err(|e| IndexError::engine(&req.id, "creating a shard", e))?;
            }
            manifest.write(&tmp)?;
            if dir.exists() {
                // A directory without a manifest: leftovers of something else; refuse to touch it.
                if std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
                    return Err(IndexError::AlreadyExists { id: req.id.clone() });
                }
                let _ = std::fs::remove_dir(&dir);
            }
            std::fs::rename(&tmp, &dir)
                .map_err(|e| IndexError::io(format!("moving the new index to {}", dir.display()), e))
        };
        if let Err(e) = build() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        tracing::info!(index = %req.id, shards, "index created");
        let idx = self.load_locked(&req.id)?;
        drop(_life);
        Ok(self.loaded_status(&idx))
    }

    fn loaded_status(&self, idx: &LoadedIndex) -> IndexStatus {
        let (docs, segments) = idx.counts();
        let manifest = idx.manifest.read().clone();
        IndexStatus {
            id: idx.id.clone(),
            loaded: true,
            writer_open: idx.writer_open(),
            docs,
            segments,
            bytes_on_disk: dir_size(&idx.dir),
            memory_estimate_bytes: idx.memory_estimate(),
            shards: idx.shards.len(),
            last_commit: last_commit(idx.shards.iter().map(|s| s.dir.clone())),
            created_at: manifest.created_at,
            builtin: manifest.builtin,
            schema: manifest.schema,
        }
    }

    /// Counts documents and segments of an index that is not loaded, from its metadata only.
    fn cold_counts(&self, dir: &Path, manifest: &Manifest) -> Result<(u64, u64), IndexError> {
        let mut docs = 0;
        let mut segments = 0;
        for n in 0..manifest.shards {
            let sdir = shard_dir(dir, manifest.generation, n);
            let index = tantivy::Index::open_in_dir(&sdir)
                .map_err(|e| IndexError::engine(&manifest.id, format!("opening {}", sdir.display()), e))?;
            let metas = index
                .searchable_segment_metas()
                .map_err(|e| IndexError::engine(&manifest.id, "reading segment metadata", e))?;
            segments += metas.len() as u64;
            docs += metas.iter().map(|m| u64::from(m.num_docs())).sum::<u64>();
        }
        Ok((docs, segments))
    }

    /// The state of an index (without loading it).
    pub fn status(&self, req: &IndexRef) -> Result<IndexStatus, IndexError> {
        validate_index_id(&req.id)?;
        if let Some(idx) = self.loaded.read().get(&req.id).cloned() {
            return Ok(self.loaded_status(&idx));
        }
        let dir = self.index_dir(&req.id);
        let manifest = Manifest::read(&dir, &req.id)?;
        let (docs, segments) = self.cold_counts(&dir, &manifest)?;
        Ok(IndexStatus {
            id: req.id.clone(),
            loaded: false,
            writer_open: false,
            docs,
            segments,
            bytes_on_disk: dir_size(&dir),
            memory_estimate_bytes: 0,
            shards: manifest.shards,
            last_commit: last_commit((0..manifest.shards).map(|n| shard_dir(&dir, manifest.generation, n))),
            created_at: manifest.created_at,
            builtin: manifest.builtin,
            schema: manifest.schema,
        })
    }

    /// Loads an index (searches and writes load on demand; this warms it up).
    pub fn load(&self, req: &IndexRef) -> Result<IndexStatus, IndexError> {
        let idx = self.loaded(&req.id)?;
        Ok(self.loaded_status(&idx))
    }

    /// Unloads an index: closes its writer and readers, writes its metrics.
    pub fn unload(&self, req: &IndexRef) -> Result<UnloadResponse, IndexError> {
        validate_index_id(&req.id)?;
        let _life = self.lifecycle.lock();
        let removed = self.loaded.write().remove(&req.id);
        let was_loaded = removed.is_some();
        if let Some(idx) = removed {
            idx.retire();
        } else if !self.index_dir(&req.id).join(MANIFEST_FILE).exists() {
            return Err(IndexError::NotFound { id: req.id.clone() });
        }
        metrics::gauge!("pipette_index_loaded").set(self.loaded.read().len() as f64);
        Ok(UnloadResponse { id: req.id.clone(), was_loaded })
    }

    /// Lists the indexes of the data directory.
    pub fn list(&self) -> Result<ListResponse, IndexError> {
        let entries = std::fs::read_dir(&self.config.data_dir)
            .map_err(|e| IndexError::io(format!("listing {}", self.config.data_dir.display()), e))?;
        let mut indexes = Vec::new();
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            if validate_index_id(&id).is_err() || !entry.path().join(MANIFEST_FILE).is_file() {
                continue;
            }
            let loaded = self.loaded.read().get(&id).cloned();
            let summary = match loaded {
                Some(idx) => IndexSummary {
                    id: id.clone(),
                    loaded: true,
                    docs: idx.counts().0,
                    shards: idx.shards.len(),
                    bytes_on_disk: dir_size(&idx.dir),
                    builtin: idx.manifest.read().builtin,
                },
                None => match Manifest::read(&entry.path(), &id) {
                    Ok(manifest) => IndexSummary {
                        id: id.clone(),
                        loaded: false,
                        docs: self.cold_counts(&entry.path(), &manifest).map_or(0, |c| c.0),
                        shards: manifest.shards,
                        bytes_on_disk: dir_size(&entry.path()),
                        builtin: manifest.builtin,
                    },
                    Err(e) => {
                        tracing::warn!(index = %id, error = %e, "skipping unreadable index");
                        continue;
                    }
                },
            };
            indexes.push(summary);
        }
        indexes.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ListResponse { data_dir: self.config.data_dir.display().to_string(), indexes })
    }

    /// Deletes an index and its files. Refused while another process writes to it.
    pub fn drop_index(&self, req: &IndexRef) -> Result<DropResponse, IndexError> {
        validate_index_id(&req.id)?;
        let _life = self.lifecycle.lock();
        let dir = self.index_dir(&req.id);
        let manifest = Manifest::read(&dir, &req.id)?;
        let loaded = self.loaded.read().get(&req.id).cloned();
        // Take every writer lock first: if another process writes, refuse before deleting anything.
        let held = match &loaded {
            Some(idx) => {
                idx.with_writers(|_| Ok(()))?;
                None
            }
            None => {
                let mut writers = Vec::new();
                for n in 0..manifest.shards {
                    let sdir = shard_dir(&dir, manifest.generation, n);
                    let index = tantivy::Index::open_in_dir(&sdir)
                        .map_err(|e| IndexError::engine(&req.id, "opening a shard", e))?;
                    writers.push(crate::loaded::open_writer(
                        &req.id,
                        &index,
                        &manifest.options,
                        manifest.shards,
                    )?);
                }
                Some(writers)
            }
        };
        if let Some(idx) = loaded {
            self.loaded.write().remove(&req.id);
            idx.retire();
        }
        // Merges still running would write new segment files into the directory being removed.
        for w in held.into_iter().flatten() {
            if let Err(e) = w.wait_merging_threads() {
                tracing::warn!(index = %req.id, error = %e, "closing a writer before the drop");
            }
        }
        self.metric_stores.lock().remove(&req.id);
        let bytes_freed = dir_size(&dir);
        remove_dir_all_settled(&dir).map_err(|e| IndexError::io(format!("removing {}", dir.display()), e))?;
        tracing::info!(index = %req.id, bytes_freed, "index dropped");
        Ok(DropResponse { id: req.id.clone(), bytes_freed })
    }

    /// The settings of an index.
    pub fn config_get(&self, req: &IndexRef) -> Result<ConfigResponse, IndexError> {
        validate_index_id(&req.id)?;
        let manifest = match self.loaded.read().get(&req.id) {
            Some(idx) => idx.manifest.read().clone(),
            None => Manifest::read(&self.index_dir(&req.id), &req.id)?,
        };
        Ok(ConfigResponse {
            id: req.id.clone(),
            options: manifest.options,
            shards: manifest.shards,
            changed: Vec::new(),
            needs_rebuild: false,
            note: None,
        })
    }

    /// Changes settings of an index. Writer settings apply from the next write, the merge policy
    /// at once; a new shard count needs a rebuild and is only reported (use `reshard`).
    pub fn config_update(&self, req: &ConfigUpdateRequest) -> Result<ConfigResponse, IndexError> {
        let id = req.id.clone();
        self.write_op(&id, |idx, writers| {
            let mut manifest = idx.manifest.read().clone();
            let mut options: IndexOptions = manifest.options.clone();
            let mut changed = Vec::new();
            macro_rules! set {
                ($field:ident) => {
                    if let Some(v) = &req.$field {
                        if options.$field != *v {
                            options.$field = v.clone();
                            changed.push(stringify!($field).to_string());
                        }
                    }
                };
            }
            set!(writer_memory_mb);
            set!(writer_threads);
            set!(merge_policy);
            set!(commit_batch_size);
            set!(default_search_fields);
            set!(strict);
            options.validate()?;
            for name in &options.default_search_fields {
                if idx.schema.field(name).is_none() {
                    return Err(IndexError::invalid(
                        "default_search_fields",
                        format!("field `{name}` is not in the schema"),
                    ));
                }
            }
            let needs_rebuild = req.shards.is_some_and(|s| s != manifest.shards);
            if !changed.is_empty() {
                manifest.options = options.clone();
                manifest.write(&idx.dir)?;
                *idx.manifest.write() = manifest.clone();
                for w in writers.iter() {
                    w.set_merge_policy(options.merge_policy.to_tantivy());
                }
            }
            Ok((manifest, changed, needs_rebuild))
        })
        .map(|(manifest, changed, needs_rebuild)| {
            let writer_change = changed.iter().any(|c| c == "writer_memory_mb" || c == "writer_threads");
            if writer_change {
                // Re-open the writers with the new budget on the next write.
                if let Some(idx) = self.loaded.read().get(&id) {
                    let mut guard = idx.writers.lock();
                    if let Some(ws) = guard.take() {
                        for w in ws {
                            let _ = w.wait_merging_threads();
                        }
                    }
                }
            }
            ConfigResponse {
                id: id.clone(),
                options: manifest.options,
                shards: manifest.shards,
                changed,
                needs_rebuild,
                note: needs_rebuild.then(|| {
                    format!(
                        "changing the shard count rebuilds the index: call reshard with shards = {}",
                        req.shards.unwrap_or(manifest.shards)
                    )
                }),
            }
        })
    }

    /// Usage metrics of one index, or of all together.
    pub fn metrics(&self, req: &MetricsRequest) -> Result<MetricsReport, IndexError> {
        let now = now_secs();
        match &req.id {
            Some(id) => {
                validate_index_id(id)?;
                if !self.index_dir(id).join(MANIFEST_FILE).exists() {
                    return Err(IndexError::NotFound { id: id.clone() });
                }
                let totals = self.metrics_store(id).lock().totals(now, req.window);
                Ok(totals.report(Some(id.clone()), req.window, vec![id.clone()]))
            }
            None => {
                let mut all = Totals::default();
                let ids: Vec<String> = self.list()?.indexes.into_iter().map(|s| s.id).collect();
                for id in &ids {
                    let known = self.metric_stores.lock().get(id).cloned();
                    let totals = match known {
                        Some(store) => store.lock().totals(now, req.window),
                        None if self.index_dir(id).join(METRICS_FILE).exists() => {
                            MetricsStore::load(&self.index_dir(id)).totals(now, req.window)
                        }
                        None => continue,
                    };
                    all.merge(&totals);
                }
                Ok(all.report(None, req.window, ids))
            }
        }
    }

    /// Upserts documents of a built-in schema (research results, converted by their typed conversion) into
    /// index `id`, creating it with that schema if missing; an unreadable date is left out of its document.
    pub fn upsert_research(
        &self,
        id: &str,
        kind: BuiltinSchema,
        documents: Vec<Value>,
    ) -> Result<AddResponse, IndexError> {
        self.upsert_research_with_progress(id, kind, documents, &crate::types::no_progress)
    }

    /// [`upsert_research`](Self::upsert_research) with a progress callback.
    pub fn upsert_research_with_progress(
        &self,
        id: &str,
        kind: BuiltinSchema,
        documents: Vec<Value>,
        progress: Progress<'_>,
    ) -> Result<AddResponse, IndexError> {
        validate_index_id(id)?;
        let manifest = Manifest::read(&self.index_dir(id), id);
        match manifest {
            Ok(m) if m.builtin != Some(kind) => {
                return Err(IndexError::invalid(
                    "index",
                    format!(
                        "index `{id}` exists with a different schema ({}); give another index id",
                        m.builtin.map_or("custom", |b| b.name())
                    ),
                ));
            }
            Ok(_) => {}
            Err(IndexError::NotFound { .. }) => {
                let created = self.create(&CreateRequest {
                    id: id.to_string(),
                    schema: SchemaSpec::builtin(kind),
                    shards: None,
                    options: None,
                });
                match created {
                    Ok(_) | Err(IndexError::AlreadyExists { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        // A research result's date that the schema cannot read is left out rather than losing the document.
        let dates: Vec<String> = kind
            .definition()
            .fields
            .into_iter()
            .filter(|f| f.kind == FieldType::Date)
            .map(|f| f.name)
            .collect();
        let documents: Vec<Value> = documents
            .into_iter()
            .map(|mut doc| {
                if let Some(map) = doc.as_object_mut() {
                    map.retain(|k, v| !dates.contains(k) || crate::schema::parse_date_value(v).is_some());
                }
                doc
            })
            .collect();
        self.add(
            &AddRequest {
                id: id.to_string(),
                documents: Some(documents),
                jsonl_path: None,
                upsert: Some(true),
            },
            progress,
        )
    }
}

fn last_commit(dirs: impl Iterator<Item = PathBuf>) -> Option<String> {
    dirs.filter_map(|d| std::fs::metadata(d.join("meta.json")).and_then(|m| m.modified()).ok())
        .max()
        .map(rfc3339)
}

impl Drop for IndexManager {
    fn drop(&mut self) {
        for store in self.metric_stores.lock().values() {
            store.lock().flush();
        }
    }
}

/// `remove_dir_all`, tried again while something still writes into the tree (a last metrics flush or a
/// merge finishing in another thread or process adds a file between the listing and the removal:
/// "Directory not empty"): up to 2 s, then the error.
fn remove_dir_all_settled(dir: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty && tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}
