//! On-disk layout: one directory per index with an atomically replaced manifest and shard dirs.
//!
//! ```text
//! <data_dir>/<id>/index.json          manifest (schema, shard count, generation, options)
//! <data_dir>/<id>/metrics.json        rolling usage metrics
//! <data_dir>/<id>/g<gen>/shard-<n>/   one tantivy index per shard
//! ```
//! A reshard builds generation `gen + 1` beside the live one and switches by replacing the
//! manifest, so a crash at any point leaves the previous generation in force.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::IndexOptions;
use crate::error::IndexError;
use crate::schema::{BuiltinSchema, SchemaDef};

pub(crate) const MANIFEST_FILE: &str = "index.json";

/// The persistent description of an index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) version: u32,
    pub(crate) id: String,
    pub(crate) schema: SchemaDef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) builtin: Option<BuiltinSchema>,
    pub(crate) shards: usize,
    pub(crate) generation: u64,
    pub(crate) options: IndexOptions,
    pub(crate) created_at: String,
}

impl Manifest {
    pub(crate) fn read(dir: &Path, id: &str) -> Result<Manifest, IndexError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IndexError::NotFound { id: id.to_string() });
            }
            Err(e) => return Err(IndexError::io(format!("reading {}", path.display()), e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| IndexError::Corrupt {
            id: id.to_string(),
            reason: format!("unreadable manifest {}: {e}", path.display()),
        })
    }

    pub(crate) fn write(&self, dir: &Path) -> Result<(), IndexError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| IndexError::Corrupt {
            id: self.id.clone(),
            reason: format!("cannot serialize manifest: {e}"),
        })?;
        let path = dir.join(MANIFEST_FILE);
        write_atomic(&path, &bytes).map_err(|e| IndexError::io(format!("writing {}", path.display()), e))
    }
}

pub(crate) fn generation_dir(index_dir: &Path, generation: u64) -> PathBuf {
    index_dir.join(format!("g{generation}"))
}

pub(crate) fn shard_dir(index_dir: &Path, generation: u64, shard: usize) -> PathBuf {
    generation_dir(index_dir, generation).join(format!("shard-{shard:03}"))
}

/// Writes a file so that readers see either the old or the new content, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Total size of the files under `path`.
pub(crate) fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Removes the generation directories of `index_dir` older than `keep`. Newer ones are left
/// alone: they may be a reshard in progress in another process (an interrupted one is
/// replaced by the next reshard).
pub(crate) fn remove_stale_generations(index_dir: &Path, keep: u64) {
    let Ok(entries) = std::fs::read_dir(index_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let older = name.strip_prefix('g').and_then(|n| n.parse::<u64>().ok()).is_some_and(|g| g < keep);
        if older
            && entry.path().is_dir()
            && let Err(e) = std::fs::remove_dir_all(entry.path())
        {
            tracing::warn!(dir = %entry.path().display(), error = %e, "cannot remove stale generation");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two!").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two!");
        std::fs::create_dir_all(dir.path().join("g1/shard-000")).unwrap();
        std::fs::write(dir.path().join("g1/shard-000/x"), b"12345").unwrap();
        std::fs::create_dir_all(dir.path().join("g2")).unwrap();
        std::fs::create_dir_all(dir.path().join("g3")).unwrap();
        assert_eq!(dir_size(dir.path()), 9);
        remove_stale_generations(dir.path(), 2);
        assert!(!dir.path().join("g1").exists());
        assert!(dir.path().join("g2").exists());
        assert!(dir.path().join("g3").exists(), "a newer generation may be in progress");
        assert!(matches!(Manifest::read(dir.path(), "x"), Err(IndexError::NotFound { .. })));
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{").unwrap();
        assert!(matches!(Manifest::read(dir.path(), "x"), Err(IndexError::Corrupt { .. })));
    }
}
