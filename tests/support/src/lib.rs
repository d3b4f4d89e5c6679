//! Test support: finds the recorded upstream fixtures and serves them from 127.0.0.1, with injectable faults.

mod redis;

pub use redis::RedisServer;
