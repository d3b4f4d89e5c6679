//! Finds the recorded upstream responses in `shared/fixtures` (never copied into the repository).

use std::path::{Path, PathBuf};

/// The folder of recorded upstream responses.
///
/// `PIPETTE_FIXTURES_DIR` when set; otherwise the first `shared/fixtures` found walking up from the
/// running test's `CARGO_MANIFEST_DIR`, this crate's own manifest directory, then the current directory.
///
/// # Panics
/// When no such folder exists (test support only: a missing fixture folder is a broken test setup).
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PIPETTE_FIXTURES_DIR") {
        let dir = PathBuf::from(dir);
        assert!(dir.is_dir(), "PIPETTE_FIXTURES_DIR={} is not a directory", dir.display());
        return dir;
    }
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        starts.push(PathBuf::from(dir));
    }
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    if let Ok(dir) = std::env::current_dir() {
        starts.push(dir);
    }
    for start in &starts {
        if let Some(found) = find_up(start) {
            return found;
        }
    }
    panic!(
        "recorded fixtures not found: set PIPETTE_FIXTURES_DIR, or put `shared/fixtures` beside the repository \
         (searched upwards from {starts:?})"
    );
}

fn find_up(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|dir| dir.join("shared").join("fixtures")).find(|candidate| candidate.is_dir())
}

/// The bytes of one recorded response, by its path relative to [`fixtures_dir`] (e.g. `pubmed/efetch_pubmed_22663011.xml`).
///
/// # Panics
/// When the file cannot be read (test support only).
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => panic!("cannot read fixture {}: {err}", path.display()),
    }
}
