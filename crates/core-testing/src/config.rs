//! Configuration of the test runner: allowed roots, state directory, limits, interpreter.

use std::path::PathBuf;
use std::time::Duration;

use crate::AllowedRoots;

/// Settings of [`crate::Testing`]. `Default` is the production setting; `from_env` reads
/// `PIPETTE_*` variables over it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where projects may live (`PIPETTE_ALLOWED_ROOTS`, default: nowhere; the binaries choose a safe default).
    pub allowed_roots: AllowedRoots,
    /// Where the last run's failures are remembered, per project
    /// (`$PIPETTE_DATA_DIR/testing`, default: the user's data directory + `pipette/testing`).
    pub state_dir: PathBuf,
    /// How many runners may run at once across all calls (`PIPETTE_TEST_MAX_PARALLEL`, default 2).
    pub max_parallel: usize,
    /// Wall-clock limit per runner when the request gives none
    /// (`PIPETTE_TEST_TIMEOUT_SECONDS`, default 600).
    pub default_timeout: Duration,
    /// The largest timeout a request may ask for (default one hour).
    pub max_timeout: Duration,
    /// Cap on the captured output of each stream of a child, in bytes (default 1 MiB).
    pub output_cap_bytes: usize,
    /// How much of the combined output each result carries as `output_tail` (default 8 KiB).
    pub output_tail_bytes: usize,
    /// The Python interpreter when the project has no virtualenv (`PIPETTE_PYTHON`, default
    /// `python3` on PATH).
    pub python: Option<PathBuf>,
}

/// `PIPETTE_DATA_DIR`: the root of pipette's persistent data.
pub const DATA_DIR_ENV: &str = "PIPETTE_DATA_DIR";

impl Default for Config {
    fn default() -> Self {
        Self {
            allowed_roots: AllowedRoots::none(),
            state_dir: default_state_dir(None),
            max_parallel: 2,
            default_timeout: Duration::from_secs(600),
            max_timeout: Duration::from_secs(3600),
            output_cap_bytes: 1024 * 1024,
            output_tail_bytes: 8 * 1024,
            python: None,
        }
    }
}

impl Config {
    /// The defaults, overridden by `PIPETTE_ALLOWED_ROOTS`, `PIPETTE_DATA_DIR`,
    /// `PIPETTE_TEST_MAX_PARALLEL`, `PIPETTE_TEST_TIMEOUT_SECONDS` and `PIPETTE_PYTHON`.
    pub fn from_env() -> Self {
        let mut config = Self {
            allowed_roots: AllowedRoots::from_env(),
            state_dir: default_state_dir(std::env::var_os(DATA_DIR_ENV).map(PathBuf::from)),
            ..Self::default()
        };
        if let Some(n) = env_number("PIPETTE_TEST_MAX_PARALLEL") {
            config.max_parallel = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        }
        if let Some(secs) = env_number("PIPETTE_TEST_TIMEOUT_SECONDS") {
            config.default_timeout = Duration::from_secs(secs.max(1)).min(config.max_timeout);
        }
        if let Some(python) = std::env::var_os("PIPETTE_PYTHON").filter(|p| !p.is_empty()) {
            config.python = Some(PathBuf::from(python));
        }
        config
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(variable = name, value, "ignoring a value that is not a number");
            None
        }
    }
}

fn default_state_dir(data_dir: Option<PathBuf>) -> PathBuf {
    data_dir
        .filter(|d| !d.as_os_str().is_empty())
        .or_else(|| dirs::data_local_dir().map(|d| d.join("pipette")))
        .unwrap_or_else(|| std::env::temp_dir().join("pipette"))
        .join("testing")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_sits_under_the_data_dir() {
        assert_eq!(default_state_dir(Some(PathBuf::from("/data"))), PathBuf::from("/data/testing"));
        assert!(default_state_dir(None).ends_with("testing"));
    }

    #[test]
    fn defaults_are_sane() {
        let c = Config::default();
        assert!(c.max_parallel >= 1);
        assert!(c.default_timeout <= c.max_timeout);
        assert!(c.output_tail_bytes < c.output_cap_bytes);
    }
}
