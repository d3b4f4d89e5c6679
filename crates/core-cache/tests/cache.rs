//! The cache interface against both backends: the in-process one, and a real redis-server.

use std::time::Duration;

use bytes::Bytes;
use core_cache::Cache;

async fn check_backend(cache: &Cache) {
    assert_eq!(cache.get("pubmed", "a").await, None);
    cache.set("pubmed", "a", Bytes::from_static(b"one"), Duration::from_secs(60)).await;
    cache.set("pubmed", "b", Bytes::from_static(b"two"), Duration::from_secs(60)).await;
    cache.set("ctgov", "a", Bytes::from_static(b"three"), Duration::from_secs(60)).await;
    cache.set("ctgov", "zero", Bytes::from_static(b"never"), Duration::ZERO).await;
    assert_eq!(cache.get("pubmed", "a").await.as_deref(), Some(&b"one"[..]));
    assert_eq!(cache.get("ctgov", "zero").await, None);

    let stats = cache.analytics().await;
    let pubmed = stats.scopes.iter().find(|s| s.scope == "pubmed").expect("pubmed scope");
    assert_eq!((pubmed.hits, pubmed.misses), (1, 1));
    assert_eq!(stats.entries, Some(3));

    assert_eq!(cache.invalidate("pubmed:*").await.expect("glob"), 2);
    assert_eq!(cache.get("pubmed", "b").await, None);
    assert_eq!(cache.get("ctgov", "a").await.as_deref(), Some(&b"three"[..]));
    assert!(cache.invalidate("[").await.is_err(), "a broken glob is refused");

    cache.set("short", "x", Bytes::from_static(b"x"), Duration::from_millis(150)).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get("short", "x").await, None, "entries expire after their TTL");
}

#[tokio::test]
async fn memory_backend() {
    let cache = Cache::in_process(1 << 20);
    assert_eq!(cache.backend_name(), "memory");
    check_backend(&cache).await;
}

#[tokio::test]
async fn memory_backend_is_bounded() {
    let cache = Cache::in_process(64 * 1024);
    for i in 0..200 {
        cache.set("big", &i.to_string(), Bytes::from(vec![0u8; 4096]), Duration::from_secs(60)).await;
    }
    let stats = cache.analytics().await;
    assert!(stats.bytes.unwrap_or(u64::MAX) <= 64 * 1024, "{stats:?}");
}

#[tokio::test]
async fn redis_backend_shares_entries_between_instances() {
    let redis = pipette_test_support::RedisServer::start();
    let ns = format!("t{}", std::process::id());
    let a = Cache::redis(redis.url(), &ns).await.expect("connect");
    assert_eq!(a.backend_name(), "redis");
    check_backend(&a).await;

    let b = Cache::redis(redis.url(), &ns).await.expect("connect");
    a.set("shared", "k", Bytes::from_static(b"v"), Duration::from_secs(60)).await;
    assert_eq!(b.get("shared", "k").await.as_deref(), Some(&b"v"[..]), "a second client sees the entry");
    assert_eq!(b.invalidate("shared:*").await.expect("glob"), 1);
    assert_eq!(a.get("shared", "k").await, None, "and the first sees the invalidation");

    let other = Cache::redis(redis.url(), "other-namespace").await.expect("connect");
    assert_eq!(other.get("ctgov", "a").await, None, "namespaces do not see each other");
}
