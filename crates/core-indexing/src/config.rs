//! Configuration: where indexes live, which input files may be read, and per-index writer settings.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::IndexError;

/// Configuration of an [`IndexManager`](crate::IndexManager).
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// Directory holding one sub-directory per index.
    pub data_dir: PathBuf,
    /// JSONL input files must resolve (symlinks followed) under one of these directories.
    pub allowed_roots: Vec<PathBuf>,
    /// Settings given to new indexes when the create request does not say otherwise.
    pub default_options: IndexOptions,
    /// How often (at most) the rolling metrics of a loaded index are written to disk outside commits.
    pub metrics_flush_interval: std::time::Duration,
}

impl Default for IndexConfig {
    /// Production defaults: the platform data directory (`<data_dir>/pipette/indexes`), and no allowed root
    /// (JSONL input files are refused until a root is configured).
    fn default() -> Self {
        let data_dir =
            dirs::data_dir().unwrap_or_else(|| PathBuf::from(".pipette")).join("pipette").join("indexes");
        IndexConfig {
            data_dir,
            allowed_roots: Vec::new(),
            default_options: IndexOptions::default(),
            metrics_flush_interval: std::time::Duration::from_secs(10),
        }
    }
}

impl IndexConfig {
    /// Defaults overridden by the environment: `PIPETTE_DATA_DIR` (indexes go to
    /// `$PIPETTE_DATA_DIR/indexes`) and `PIPETTE_ALLOWED_ROOTS` (`:`-separated directories).
    pub fn from_env() -> Self {
        let mut config = IndexConfig::default();
        if let Some(dir) = std::env::var_os("PIPETTE_DATA_DIR").filter(|d| !d.is_empty()) {
            config.data_dir = PathBuf::from(dir).join("indexes");
        }
        if let Ok(roots) = std::env::var("PIPETTE_ALLOWED_ROOTS") {
            let roots: Vec<PathBuf> = roots.split(':').filter(|r| !r.is_empty()).map(PathBuf::from).collect();
            if !roots.is_empty() {
                config.allowed_roots = roots;
            }
        }
        config
    }

    /// A configuration rooted at `data_dir`, allowing input files under `allowed_root` only.
    pub fn with_dirs(data_dir: impl Into<PathBuf>, allowed_root: impl Into<PathBuf>) -> Self {
        IndexConfig {
            data_dir: data_dir.into(),
            allowed_roots: vec![allowed_root.into()],
            ..IndexConfig::default()
        }
    }
}

/// Resolves `path` (relative paths against the current directory, symlinks followed) and checks that it lies
/// under one of `roots`. A path that is outside every root even before it is resolved is refused without
/// touching the file system, so the answer never tells whether a file outside the roots exists.
pub(crate) fn resolve_input(roots: &[PathBuf], path: &str) -> Result<PathBuf, IndexError> {
    if path.is_empty() || path.contains('\0') {
        return Err(IndexError::invalid("jsonl_path", "must be a non-empty path without NUL bytes"));
    }
    let not_allowed = |path: PathBuf| IndexError::PathNotAllowed { path, roots: roots.to_vec() };
    let lexical = lexical_absolute(Path::new(path));
    let canonical_roots: Vec<PathBuf> = roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect();
    let lexically_inside = roots
        .iter()
        .map(|r| lexical_absolute(r))
        .chain(canonical_roots.iter().cloned())
        .any(|r| lexical.starts_with(&r));
    if !lexically_inside {
        return Err(not_allowed(lexical));
    }
    let resolved = std::fs::canonicalize(&lexical)
        .map_err(|e| IndexError::io(format!("resolving jsonl_path `{path}`"), e))?;
    if canonical_roots.iter().any(|root| resolved.starts_with(root)) {
        Ok(resolved)
    } else {
        Err(not_allowed(resolved))
    }
}

/// `path` made absolute against the current directory, with `.` and `..` applied without touching the
/// file system.
fn lexical_absolute(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Per-index settings; all can be changed later with `config_update` without a rebuild.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IndexOptions {
    /// Total memory budget of the index writer in MiB, shared by the shards (at least 15 MiB per
    /// writer thread). Default 256.
    pub writer_memory_mb: u64,
    /// Indexing threads per shard; 0 = automatic (the CPU count divided among the shards, at most 8).
    pub writer_threads: usize,
    /// How tantivy merges segments in the background.
    pub merge_policy: MergePolicySetting,
    /// Documents per commit during ingestion; each commit makes the batch durable. Default 20000.
    pub commit_batch_size: usize,
    /// Fields searched when a query names none; empty = every indexed text and string field.
    pub default_search_fields: Vec<String>,
    /// When true (default) a document with a field missing from the schema is rejected; when false
    /// the extra field is kept in the stored document but not indexed.
    pub strict: bool,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            writer_memory_mb: 256,
            writer_threads: 0,
            merge_policy: MergePolicySetting::default(),
            commit_batch_size: 20_000,
            default_search_fields: Vec::new(),
            strict: true,
        }
    }
}

/// The background merge policy of an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MergePolicySetting {
    /// tantivy's log merge policy: merge segments of similar size.
    Log {
        /// Merge once this many segments of a level exist. Default 8.
        #[serde(default = "default_min_merge_segments")]
        min_merge_segments: usize,
        /// Segments with more documents than this are never merged in the background. Default 10M.
        #[serde(default = "default_max_docs_before_merge")]
        max_docs_before_merge: usize,
    },
    /// No background merges; only `optimize` merges.
    None,
}

fn default_min_merge_segments() -> usize {
    8
}

fn default_max_docs_before_merge() -> usize {
    10_000_000
}

impl Default for MergePolicySetting {
    fn default() -> Self {
        MergePolicySetting::Log {
            min_merge_segments: default_min_merge_segments(),
            max_docs_before_merge: default_max_docs_before_merge(),
        }
    }
}

impl MergePolicySetting {
    pub(crate) fn to_tantivy(&self) -> Box<dyn tantivy::indexer::MergePolicy> {
        match self {
            MergePolicySetting::Log { min_merge_segments, max_docs_before_merge } => {
                let mut policy = tantivy::indexer::LogMergePolicy::default();
                policy.set_min_num_segments((*min_merge_segments).max(2));
                policy.set_max_docs_before_merge((*max_docs_before_merge).max(1));
                Box::new(policy)
            }
            MergePolicySetting::None => Box::new(tantivy::indexer::NoMergePolicy),
        }
    }
}

impl IndexOptions {
    pub(crate) fn validate(&self) -> Result<(), IndexError> {
        if self.writer_memory_mb < 15 {
            return Err(IndexError::invalid(
                "writer_memory_mb",
                "must be at least 15 (MiB), tantivy's minimum per writer thread",
            ));
        }
        if self.writer_memory_mb > 64 * 1024 {
            return Err(IndexError::invalid("writer_memory_mb", "must be at most 65536 (64 GiB)"));
        }
        if self.writer_threads > 8 {
            return Err(IndexError::invalid("writer_threads", "must be between 0 (auto) and 8"));
        }
        if self.commit_batch_size == 0 || self.commit_batch_size > 10_000_000 {
            return Err(IndexError::invalid("commit_batch_size", "must be between 1 and 10000000"));
        }
        Ok(())
    }

    /// (threads, bytes per thread) for one of `shards` writers.
    pub(crate) fn writer_layout(&self, shards: usize) -> (usize, usize) {
        const MIN_PER_THREAD: u64 = 15_000_000;
        let shards = shards.max(1) as u64;
        let per_shard = (self.writer_memory_mb * 1024 * 1024 / shards).max(MIN_PER_THREAD);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let wanted =
            if self.writer_threads == 0 { (cpus / shards).clamp(1, 8) } else { self.writer_threads as u64 };
        let threads = wanted.min(per_shard / MIN_PER_THREAD).max(1);
        let per_thread = (per_shard / threads).min(u64::from(u32::MAX) - 2_000_000);
        (threads as usize, per_thread as usize)
    }
}
