//! Rate limits and circuit breakers shared by every pipette process on one Redis (issue 11), used only
//! when `REDIS_URL` is set; without it nothing here exists and each process keeps its own.
//!
//! - **Rate.** One GCRA per upstream in a Lua script (key `<namespace>:limits:rate:<service>`): each
//!   request reserves the next free slot of the upstream's schedule, spaced by the same interval as the
//!   local limiter (rate × safety margin), timed by the Redis server's clock (`TIME`), so N processes
//!   together keep the one rate (NCBI's 3/s, 10/s with a key). The caller sleeps until its slot; a quiet
//!   upstream's first request goes at once (burst 1, as the local limiter).
//! - **Breakers.** A process whose breaker opens writes `<namespace>:limits:circuit:<service>` with the
//!   cool-down as its expiry; every process checks the key when a call starts and, finding it, opens its
//!   own breaker for the time left (`CircuitOpen`, no request sent). Failure counts stay per process; the
//!   probe after the cool-down is whichever process calls first.
//! - **Fallback.** Every Redis command has a short budget; when one fails, the process falls back to its
//!   local limiter and breaker (logged once, and shown by [`Coordination`] for `health`), and goes back to
//!   the shared ones at the first command that succeeds again (the connection manager reconnects).

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::ScrapeError;
use crate::http::Service;

/// The longest a limiter or breaker command may take before the process falls back to local ones.
const COMMAND_BUDGET: Duration = Duration::from_millis(500);

/// Reserves the next slot of one upstream's rate: answers the wait in microseconds.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return tat - now
";

/// How the rate limits and breakers of this process are kept, for `health`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Coordination {
    /// No `REDIS_URL`: limits and breakers of this process only (the default).
    Local,
    /// Shared with every process on the same Redis.
    Shared,
    /// Redis is configured but unreachable: this process falls back to its own limits and breakers
    /// (N processes may together exceed an upstream's rate) until Redis answers again.
    Fallback {
        /// Why, e.g. the Redis error.
        reason: String,
    },
}

impl Coordination {
    /// Whether this is a degraded state (`Fallback`).
    pub fn degraded(&self) -> bool {
        matches!(self, Coordination::Fallback { .. })
    }
}

/// The Redis side of the limits and breakers, one per process (shared by its four upstreams).
pub(crate) struct SharedLimits {
    client: redis::Client,
    namespace: String,
    conn: OnceLock<Result<ConnectionManager, String>>,
    fallback: Mutex<Option<(String, Instant)>>,
}

impl SharedLimits {
    /// Checks `url` (nothing is sent until the first call).
    pub(crate) fn new(url: &str, namespace: &str) -> Result<Self, ScrapeError> {
        let client = redis::Client::open(url)
            .map_err(|err| ScrapeError::invalid("REDIS_URL", format!("not a Redis URL: {err}")))?;
        Ok(Self {
            client,
            namespace: namespace.to_owned(),
            conn: OnceLock::new(),
            fallback: Mutex::new(None),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        self.fallback.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current mode: shared, or fallback with its reason.
    pub(crate) fn coordination(&self) -> Coordination {
        match &*self.lock() {
            None => Coordination::Shared,
            Some((reason, _)) => Coordination::Fallback { reason: reason.clone() },
        }
    }

    fn key(&self, what: &str, service: Service) -> String {
        format!("{}:limits:{what}:{}", self.namespace, service.as_str())
    }

    /// Runs one command under the budget; an error switches to (or keeps) the local fallback.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let conn = self.conn.get_or_init(|| {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(COMMAND_BUDGET))
                .set_response_timeout(Some(COMMAND_BUDGET))
                .set_number_of_retries(1);
            ConnectionManager::new_lazy_with_config(self.client.clone(), config)
                .map_err(|err| err.to_string())
        });
        let result = match conn {
            Ok(conn) => {
                let mut conn = conn.clone();
                match tokio::time::timeout(COMMAND_BUDGET, cmd.query_async::<T>(&mut conn)).await {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err(format!("no answer within {} ms", COMMAND_BUDGET.as_millis())),
                }
            }
            Err(err) => Err(err.clone()),
        };
        let mut fallback = self.lock();
        match result {
            Ok(value) => {
                if let Some((_, since)) = fallback.take() {
                    tracing::info!(
                        after_ms = since.elapsed().as_millis() as u64,
                        "Redis answers again: rate limits and circuit breakers are shared again"
                    );
                    metrics::gauge!("pipette_upstream_limits_shared").set(1.0);
                }
                Some(value)
            }
            Err(reason) => {
                if fallback.is_none() {
                    tracing::warn!(
                        error = %reason,
                        "Redis unreachable: falling back to this process's own rate limits and circuit breakers"
                    );
                    metrics::gauge!("pipette_upstream_limits_shared").set(0.0);
                }
                *fallback = Some((format!("Redis unreachable: {reason}"), Instant::now()));
                None
            }
        }
    }

    /// Reserves the next slot of `service`'s shared rate (requests spaced by `interval`): the wait until
    /// it, or `None` when Redis cannot be used (the caller uses its local limiter).
    pub(crate) async fn reserve(&self, service: Service, interval: Duration) -> Option<Duration> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(GCRA).arg(1).arg(self.key("rate", service)).arg(interval.as_micros() as u64);
        let micros: i64 = self.run(&cmd).await?;
        Some(Duration::from_micros(micros.max(0) as u64))
    }

    /// Opens `service`'s circuit for every process for `cooldown`.
    pub(crate) async fn open_circuit(&self, service: Service, cooldown: Duration) {
        let millis = cooldown.as_millis().max(1) as u64;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("circuit", service)).arg("open").arg("PX").arg(millis);
        let _: Option<()> = self.run(&cmd).await;
    }

    /// How long `service`'s circuit stays open for every process (`None`: closed, or Redis unusable).
    pub(crate) async fn circuit_open_for(&self, service: Service) -> Option<Duration> {
        let mut cmd = redis::cmd("PTTL");
        cmd.arg(self.key("circuit", service));
        let millis: i64 = self.run(&cmd).await?;
        (millis > 0).then(|| Duration::from_millis(millis as u64))
    }
}
