//! One resilient HTTP layer for every upstream: pooling, timeouts, retries, rate limits, circuit breakers, caching.

mod circuit;
pub(crate) mod content;
mod hedge;
mod retry_after;
mod service;
mod shared;
mod upstream;

pub use circuit::{CircuitState, CircuitStatus};
pub use service::Service;
pub use shared::Coordination;
pub use upstream::{Upstream, Upstreams};
