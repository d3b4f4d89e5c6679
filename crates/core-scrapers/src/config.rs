//! Configuration of the upstreams: base URLs, timeouts, rate limits, breaker thresholds, from the environment.
