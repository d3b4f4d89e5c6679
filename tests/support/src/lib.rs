//! Test support: finds the recorded upstream fixtures and serves them from 127.0.0.1, with injectable faults.

pub mod ctgov;
mod fixtures;
mod redis;
mod server;

pub use fixtures::{fixture, fixtures_dir};
pub use redis::RedisServer;
pub use server::{Recorded, Reply, UpstreamServer};
