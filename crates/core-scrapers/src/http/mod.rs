//! One resilient HTTP layer for every upstream: pooling, timeouts, retries, rate limits, circuit breakers, caching.
