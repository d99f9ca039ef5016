//! A real `redis-server` the tests start on a free 127.0.0.1 port, without persistence, and
//! stop by its process id when dropped; killed, paused and restarted on the same port at will.
//!
//! The rule for a missing program is the root package's (tests/common/real_tool.rs): on a
//! developer's machine the test says what to install and skips; under `CI=true` it fails, so
//! a package missing from `.ci/debian-packages` cannot hide as a skip.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// The rule itself, written once for both packages.
#[path = "../../../tests/common/real_tool.rs"]
mod real_tool;
pub use real_tool::{find_tool, free_port};

/// A `redis-server` of the test's own.
pub struct Redis {
    program: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    /// A server on a free port, answering; `None` (skip) when `redis-server` is missing.
    pub fn start() -> Option<Redis> {
        let program = find_tool(&["redis-server"], "redis-server")?;
        let mut redis = Redis {
            program,
            port: free_port(),
            child: None,
        };
        redis.restart();
        Some(redis)
    }

    /// A port where no server runs yet: `restart` starts one there later.
    pub fn not_started() -> Option<Redis> {
        let program = find_tool(&["redis-server"], "redis-server")?;
        Some(Redis {
            program,
            port: free_port(),
            child: None,
        })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on its port and waits until it answers `PING`.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.program)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server answers `PING` now.
    pub fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the server: connections stay open, nothing
    /// answers.
    pub fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
    }

    /// A plain connection, to look at the keys.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("the test's redis answers")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL any sooner, but wake it for tidiness.
        self.signal("-CONT");
        self.kill();
    }
}
