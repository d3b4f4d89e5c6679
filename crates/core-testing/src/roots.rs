//! The allowed roots: every working directory and project path must resolve (symlinks and `..`
//! included) to a place under one of them.

use std::path::{Component, Path, PathBuf};

use crate::TestingError;

/// The environment variable listing the allowed roots, separated by `:`.
pub const ALLOWED_ROOTS_ENV: &str = "PIPETTE_ALLOWED_ROOTS";

/// Directories under which child processes may run. Paths are canonical (symlinks resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedRoots {
    /// Canonical roots.
    roots: Vec<PathBuf>,
    /// The roots as configured, before canonicalisation (to explain refusals).
    given: Vec<PathBuf>,
}

impl AllowedRoots {
    /// Roots from explicit directories; each must exist.
    pub fn new<I, P>(roots: I) -> Result<Self, TestingError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut out = Self { roots: Vec::new(), given: Vec::new() };
        for root in roots {
            let root = root.as_ref();
            let canonical = root
                .canonicalize()
                .map_err(|_| TestingError::NotFound { name: "allowed_roots", path: root.to_path_buf() })?;
            out.given.push(absolute(root));
            out.roots.push(canonical);
        }
        Ok(out)
    }

    /// Roots from `PIPETTE_ALLOWED_ROOTS` (`:`-separated), else none (the caller chooses a safe default).
    ///
    /// Entries that do not exist are skipped with a warning; if none is left, nothing is allowed
    /// and every request is refused with an error that says so.
    pub fn from_env() -> Self {
        match std::env::var(ALLOWED_ROOTS_ENV) {
            Ok(value) if !value.trim().is_empty() => Self::parse_list(&value),
            _ => Self::none(),
        }
    }

    /// No root: every path is refused, with an error that says how to allow a folder.
    pub fn none() -> Self {
        Self { roots: Vec::new(), given: Vec::new() }
    }

    /// Parses a `:`-separated list, skipping entries that do not exist.
    pub fn parse_list(value: &str) -> Self {
        Self::existing(value.split(':').map(str::trim).filter(|e| !e.is_empty()))
    }

    /// Roots from directories, skipping (with a warning) those that cannot be resolved.
    pub fn existing<I, P>(roots: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut out = Self { roots: Vec::new(), given: Vec::new() };
        for entry in roots {
            let entry = entry.as_ref();
            match entry.canonicalize() {
                Ok(canonical) => {
                    out.given.push(absolute(entry));
                    out.roots.push(canonical);
                }
                Err(err) => {
                    tracing::warn!(root = %entry.display(), %err, "skipping an allowed root that cannot be resolved");
                }
            }
        }
        out
    }

    /// The current directory as the only root (nothing, if it cannot be read).
    pub fn current_dir() -> Self {
        match std::env::current_dir() {
            Ok(dir) => Self::parse_list(&dir.to_string_lossy()),
            Err(err) => {
                tracing::warn!(%err, "the current directory cannot be read; no root is allowed");
                Self { roots: Vec::new(), given: Vec::new() }
            }
        }
    }

    /// The canonical roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Whether an already canonical path lies under one of the roots.
    pub fn contains_canonical(&self, canonical: &Path) -> bool {
        self.roots.iter().any(|root| canonical.starts_with(root))
    }

    /// Resolves `path` (relative paths against the current directory) to its canonical form and
    /// checks that it lies under an allowed root. `name` is the parameter reported in errors.
    ///
    /// Refuses, with an error naming the parameter: a path outside every root, a path whose `..`
    /// components climb out of a root, and a path that leaves the roots through a symlink.
    pub fn resolve(&self, name: &'static str, path: &Path) -> Result<PathBuf, TestingError> {
        if path.as_os_str().is_empty() {
            return Err(TestingError::invalid(name, "the path is empty"));
        }
        if self.roots.is_empty() {
            return Err(TestingError::invalid(
                name,
                format!(
                    "no allowed root is configured, so no path is allowed; set {ALLOWED_ROOTS_ENV} \
                     to a ':'-separated list of existing directories, or declare the folder as a root in \
                     your MCP client"
                ),
            ));
        }
        let absolute = absolute(path);
        let lexical = normalize_lexically(&absolute);
        let canonical = match absolute.canonicalize() {
            Ok(canonical) => canonical,
            Err(_) => {
                // A missing path that also escapes is reported as the escape: it says more.
                if !self.lexically_inside(&lexical) {
                    return Err(self.outside(name, path, &lexical, None));
                }
                return Err(TestingError::NotFound { name, path: path.to_path_buf() });
            }
        };
        if self.contains_canonical(&canonical) {
            return Ok(canonical);
        }
        Err(self.outside(name, path, &lexical, Some(&canonical)))
    }

    fn lexically_inside(&self, lexical: &Path) -> bool {
        self.roots.iter().chain(&self.given).any(|root| lexical.starts_with(root))
    }

    fn outside(
        &self,
        name: &'static str,
        path: &Path,
        lexical: &Path,
        canonical: Option<&Path>,
    ) -> TestingError {
        let roots = self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
        let has_parent = path.components().any(|c| matches!(c, Component::ParentDir));
        let why = if self.lexically_inside(lexical) {
            let target = canonical.map_or_else(String::new, |c| format!(" (to {})", c.display()));
            format!("{} leads out of the allowed roots through a symlink{target}", path.display())
        } else if has_parent && self.lexically_inside_any_prefix(path) {
            format!(
                "{} escapes the allowed roots with `..` (it resolves to {})",
                path.display(),
                lexical.display()
            )
        } else {
            format!("{} is outside the allowed roots", path.display())
        };
        TestingError::invalid(
            name,
            format!(
                "{why}; allowed roots: {roots}. Pass a path under one of them, add a root to \
                 {ALLOWED_ROOTS_ENV}, or declare the folder as a root in your MCP client"
            ),
        )
    }

    /// Whether the path, read up to its first `..`, starts inside a root (so the `..` is the escape).
    fn lexically_inside_any_prefix(&self, path: &Path) -> bool {
        let absolute = absolute(path);
        let mut prefix = PathBuf::new();
        for component in absolute.components() {
            if matches!(component, Component::ParentDir) {
                break;
            }
            prefix.push(component);
        }
        self.lexically_inside(&prefix)
    }
}

/// `path` made absolute against the current directory (no file-system access beyond that).
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Removes `.` and applies `..` without touching the file system.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, AllowedRoots) {
        let root = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join("project")).expect("mkdir");
        let roots = AllowedRoots::new([root.path()]).expect("roots");
        (root, outside, roots)
    }

    fn refusal(roots: &AllowedRoots, path: &Path) -> String {
        match roots.resolve("path", path) {
            Err(TestingError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "path");
                reason
            }
            other => panic!("expected a refusal of {}, got {other:?}", path.display()),
        }
    }

    #[test]
    fn a_path_inside_a_root_resolves_to_its_canonical_form() {
        let (root, _outside, roots) = setup();
        let inside = root.path().join("project/./../project");
        let resolved = roots.resolve("path", &inside).expect("allowed");
        assert_eq!(resolved, root.path().join("project").canonicalize().expect("canonical"));
    }

    #[test]
    fn a_path_outside_every_root_is_refused() {
        let (_root, outside, roots) = setup();
        let reason = refusal(&roots, outside.path());
        assert!(reason.contains("outside the allowed roots"), "{reason}");
        assert!(reason.contains(ALLOWED_ROOTS_ENV), "{reason}");
    }

    #[test]
    fn a_dotdot_escape_is_refused() {
        let (root, outside, roots) = setup();
        let name = outside.path().file_name().expect("name").to_string_lossy().to_string();
        // root/project/../../<outside>: starts inside, climbs out.
        let sneaky = root.path().join("project/../..").join(name);
        let reason = refusal(&roots, &sneaky);
        assert!(reason.contains("escapes the allowed roots with `..`"), "{reason}");
    }

    #[test]
    fn a_symlink_escape_is_refused() {
        let (root, outside, roots) = setup();
        let link = root.path().join("project/link");
        std::os::unix::fs::symlink(outside.path(), &link).expect("symlink");
        let reason = refusal(&roots, &link);
        assert!(reason.contains("through a symlink"), "{reason}");
    }

    #[test]
    fn a_missing_path_is_not_found() {
        let (root, _outside, roots) = setup();
        let err = roots.resolve("path", &root.path().join("nope")).expect_err("missing");
        assert_eq!(err.kind(), "not_found");
    }

    #[test]
    fn no_roots_refuses_everything_and_says_why() {
        let roots = AllowedRoots::parse_list("/definitely/not/here");
        assert!(roots.roots().is_empty());
        let reason = refusal(&roots, Path::new("/"));
        assert!(reason.contains("no allowed root"), "{reason}");
    }
}
