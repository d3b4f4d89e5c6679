//! A private redis-server for a test: `PIPETTE_TEST_REDIS_URL` when set (CI), else one started on a free port.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A redis-server the test can use; a server this type started is killed on drop.
pub struct RedisServer {
    url: String,
    child: Option<Child>,
    dir: Option<PathBuf>,
}

impl RedisServer {
    /// Uses `PIPETTE_TEST_REDIS_URL` if set, else starts `redis-server` from PATH on a free port.
    ///
    /// Panics with a clear message when neither is possible: Redis tests never pass silently.
    pub fn start() -> RedisServer {
        if let Ok(url) = std::env::var("PIPETTE_TEST_REDIS_URL") {
            return RedisServer { url, child: None, dir: None };
        }
        Self::start_own()
    }

    /// Always starts a redis-server of its own (never `PIPETTE_TEST_REDIS_URL`): for a test that kills it
    /// (dropping it kills it).
    ///
    /// Panics with a clear message when redis-server cannot be started.
    pub fn start_own() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free local port");
        Self::start_on(port)
    }

    /// Kills the server (as a crash would): clients see their connections refused until [`Self::restart`].
    ///
    /// Panics for a server this type did not start (`PIPETTE_TEST_REDIS_URL`).
    pub fn kill(&mut self) {
        let child = self.child.as_mut().expect("only a server started with start_own can be killed");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the killed server again on the same port (empty: nothing was saved).
    pub fn restart(&mut self) {
        self.kill();
        let port = self.url.trim_end_matches('/').rsplit(':').next().and_then(|p| p.parse().ok());
        // The new server uses the same temp dir: the old value must not remove it when it is dropped.
        self.dir = None;
        *self = Self::start_on(port.expect("the port of the server's URL"));
    }

    fn start_on(port: u16) -> RedisServer {
        let dir = std::env::temp_dir().join(format!("pipette-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis temp dir");
        // Test support may start its own server; production code makes children through core-testing.
        #[allow(clippy::disallowed_methods)]
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for the Redis tests (apt-get install redis-server, or set PIPETTE_TEST_REDIS_URL)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { url: format!("redis://127.0.0.1:{port}/"), child: Some(child), dir: Some(dir) }
    }

    /// The server's URL, for `REDIS_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
