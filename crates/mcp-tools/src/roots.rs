//! Where tools may read files and run projects (the index's JSONL inputs, the test runner's projects): one
//! policy for both cores and every face. `PIPETTE_ALLOWED_ROOTS` when it is set; otherwise the data
//! directory's `files` folder, plus the roots a local MCP client declares — never `/` or a home directory as
//! a whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use core_indexing::IndexManager;
use core_testing::{AllowedRoots, Testing};

use crate::protocol::template::percent_decode;

/// The folder under the data directory that is always allowed when no roots are configured.
pub const FILES_DIR: &str = "files";

/// The allowed roots of a process: `configured` (`PIPETTE_ALLOWED_ROOTS`, a CLI flag) when given, else
/// `<data_dir>/files` (created). Faces that call the cores directly (the CLI) use this too.
pub fn default_roots(configured: Option<&[PathBuf]>, data_dir: &Path) -> Vec<PathBuf> {
    if let Some(roots) = configured {
        return roots.to_vec();
    }
    let files = data_dir.join(FILES_DIR);
    if let Err(e) = std::fs::create_dir_all(&files) {
        tracing::warn!(dir = %files.display(), error = %e, "cannot create the default allowed root");
    }
    vec![files]
}

/// Whether a directory is too broad to be a root by default: `/`, a home directory, or a folder holding
/// home directories.
fn too_broad(dir: &Path) -> bool {
    if dir.parent().is_none() {
        return true;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).and_then(|h| h.canonicalize().ok());
    home.is_some_and(|home| home.starts_with(dir))
}

/// The allowed roots of the running process, applied to the index manager and the test runner.
pub struct Roots {
    configured: bool,
    base: Vec<PathBuf>,
    testing: Arc<Testing>,
    indexes: Arc<IndexManager>,
}

impl std::fmt::Debug for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roots").field("configured", &self.configured).field("base", &self.base).finish()
    }
}

impl Roots {
    /// The policy: `configured` roots, else the data dir's `files` folder; applied to both services at once.
    pub(crate) fn new(
        configured: Option<&[PathBuf]>,
        data_dir: &Path,
        testing: Arc<Testing>,
        indexes: Arc<IndexManager>,
    ) -> Roots {
        let base = default_roots(configured, data_dir);
        let roots = Roots { configured: configured.is_some(), base, testing, indexes };
        roots.apply(&roots.base);
        roots
    }

    fn apply(&self, roots: &[PathBuf]) {
        self.indexes.set_allowed_roots(roots.to_vec());
        self.testing.set_allowed_roots(AllowedRoots::existing(roots));
    }

    /// Whether the roots a client declares are used: only when `PIPETTE_ALLOWED_ROOTS` is not set.
    pub fn accepts_client_roots(&self) -> bool {
        !self.configured
    }

    /// The roots a local MCP client declared (`roots/list`, `file://` URIs), added to the default folder.
    /// Ignored when `PIPETTE_ALLOWED_ROOTS` is set; `/`, home directories and what does not exist are
    /// skipped with a warning. Answers the roots now in force.
    pub fn set_client_roots(&self, uris: &[String]) -> Vec<PathBuf> {
        if self.configured {
            return self.base.clone();
        }
        let mut roots = self.base.clone();
        for uri in uris {
            let Some(path) = uri.strip_prefix("file://") else {
                tracing::warn!(root = uri, "ignoring a client root that is not a file:// URI");
                continue;
            };
            let path = percent_decode(path);
            match Path::new(&path).canonicalize() {
                Ok(dir) if dir.is_dir() && !too_broad(&dir) => roots.push(dir),
                Ok(dir) if dir.is_dir() => {
                    tracing::warn!(root = %dir.display(), "ignoring a client root that is too broad (/ or a home directory)")
                }
                _ => tracing::warn!(root = uri, "ignoring a client root that is not an existing directory"),
            }
        }
        roots.dedup();
        self.apply(&roots);
        tracing::info!(roots = ?roots, "allowed roots from the MCP client");
        roots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_home_are_too_broad() {
        assert!(too_broad(Path::new("/")));
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from).and_then(|h| h.canonicalize().ok()) {
            assert!(too_broad(&home));
            if let Some(parent) = home.parent() {
                assert!(too_broad(parent));
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        assert!(!too_broad(&tmp.path().canonicalize().unwrap()));
    }

    #[test]
    fn file_uris_are_decoded() {
        assert_eq!(percent_decode("/a%20b/c"), "/a b/c");
        assert_eq!(percent_decode("/plain"), "/plain");
        assert_eq!(percent_decode("/bad%zz"), "/bad%zz");
    }
}
