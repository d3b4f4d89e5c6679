//! The router's limits, budgets and data directory, from flags or `PIPETTE_*` environment variables.

use std::path::PathBuf;

/// Limits and budgets of the router; every field has an environment variable.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Concurrent `Async` calls (`PIPETTE_ASYNC_LIMIT`, default 256).
    pub async_limit: usize,
    /// Worker threads of the `Blocking` pool, also its concurrency (`PIPETTE_BLOCKING_THREADS`, default: cores).
    pub blocking_threads: usize,
    /// Concurrent `Process` calls (`PIPETTE_PROCESS_LIMIT`, default 4).
    pub process_limit: usize,
    /// How long a caller waits before a call becomes a job, unless the tool says
    /// (`PIPETTE_INLINE_MS`, default 20000).
    pub inline_ms: u64,
    /// When set, overrides every tool's inline budget (`PIPETTE_INLINE_MS_OVERRIDE`).
    pub inline_ms_override: Option<u64>,
    /// Per-tool inline budgets, over the tool's own (`PIPETTE_INLINE_OVERRIDES="tool=ms,tool=ms"`).
    pub inline_overrides: std::collections::HashMap<String, u64>,
    /// Where jobs and indexes live (`PIPETTE_DATA_DIR`, default the platform data dir + `pipette`).
    pub data_dir: PathBuf,
    /// Where projects and input files may be (`PIPETTE_ALLOWED_ROOTS`, `:`-separated). `None`: the data
    /// directory's `files` folder, plus the roots a local MCP client declares.
    pub allowed_roots: Option<Vec<PathBuf>>,
    /// Warm the cache in the background once started (`PIPETTE_WARM_ON_START=1`, default off): the trending
    /// mutations first, then the configured list, as `warm_cache` does. Start-up never waits for it.
    pub warm_on_start: bool,
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The default data directory: `PIPETTE_DATA_DIR`, else the platform data dir + `pipette`.
pub(crate) fn default_data_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PIPETTE_DATA_DIR")
        && !dir.trim().is_empty()
    {
        return PathBuf::from(dir);
    }
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("pipette")
}

impl Default for RouterConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        RouterConfig {
            async_limit: 256,
            blocking_threads: cores.max(1),
            process_limit: 4,
            inline_ms: 20_000,
            inline_ms_override: None,
            inline_overrides: Default::default(),
            data_dir: default_data_dir(),
            allowed_roots: None,
            warm_on_start: false,
        }
    }
}

impl RouterConfig {
    /// The defaults, overridden by the `PIPETTE_*` environment variables.
    pub fn from_env() -> RouterConfig {
        let d = RouterConfig::default();
        RouterConfig {
            async_limit: env_parse("PIPETTE_ASYNC_LIMIT").unwrap_or(d.async_limit).max(1),
            blocking_threads: env_parse("PIPETTE_BLOCKING_THREADS").unwrap_or(d.blocking_threads).max(1),
            process_limit: env_parse("PIPETTE_PROCESS_LIMIT").unwrap_or(d.process_limit).max(1),
            inline_ms: env_parse("PIPETTE_INLINE_MS").unwrap_or(d.inline_ms),
            inline_ms_override: env_parse("PIPETTE_INLINE_MS_OVERRIDE"),
            inline_overrides: std::env::var("PIPETTE_INLINE_OVERRIDES")
                .map(|v| parse_overrides(&v))
                .unwrap_or_default(),
            data_dir: d.data_dir,
            allowed_roots: std::env::var("PIPETTE_ALLOWED_ROOTS").ok().and_then(|v| {
                let roots: Vec<PathBuf> =
                    v.split(':').map(str::trim).filter(|e| !e.is_empty()).map(PathBuf::from).collect();
                (!roots.is_empty()).then_some(roots)
            }),
            warm_on_start: std::env::var("PIPETTE_WARM_ON_START").is_ok_and(|v| is_on(&v)),
        }
    }
}

/// Whether a boolean setting is on: `1`, `true`, `yes`, `on` (any case).
fn is_on(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// Parses `tool=ms,tool=ms`; malformed pairs are skipped with a warning.
fn parse_overrides(text: &str) -> std::collections::HashMap<String, u64> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .filter_map(|pair| {
            let parsed =
                pair.split_once('=').and_then(|(k, v)| Some((k.trim().to_owned(), v.trim().parse().ok()?)));
            if parsed.is_none() {
                tracing::warn!(pair, "PIPETTE_INLINE_OVERRIDES: expected tool=milliseconds");
            }
            parsed
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn inline_overrides_parse() {
        let m = super::parse_overrides("trials_match_batch=5000, warm_cache = 0,bad,x=y");
        assert_eq!(m.len(), 2);
        assert_eq!(m["trials_match_batch"], 5000);
        assert_eq!(m["warm_cache"], 0);
    }
}
