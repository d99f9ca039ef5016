//! A real Redis for the examples (feature `redis-server`): the Debian package's `redis-server`
//! on a free port of 127.0.0.1, without persistence (`--save "" --appendonly no`), stopped by
//! its process id. It can be paused and resumed (`SIGSTOP`, `SIGCONT`: the connections stay
//! open and nothing answers, as a hung server), and stopped and started again on the same port
//! (empty again: nothing is persisted), which is how `examples/redis_cache.rs` shows its
//! outages and `examples/fleet.rs` gets a Redis to share breakers through.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let mut server = breaker::redis_server::RedisServer::start().await?;
//! println!("{}", server.url()); // redis://127.0.0.1:PORT/
//! server.pause()?; // SIGSTOP: connections stay open, nothing answers
//! server.resume()?; // SIGCONT: it answers what it was sent meanwhile
//! server.stop()?; // by its process id: every connection is cut
//! server.start_again().await?; // same port, no data
//! # Ok(()) }
//! ```

use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the server may take to answer `PING` once started: far more than it needs (a few
/// milliseconds), so a slow shared machine is not mistaken for a broken server.
const BOUND: Duration = Duration::from_secs(30);

/// A `redis-server` of its own on `127.0.0.1`, found on `PATH`; stopped when dropped, and its
/// log file removed.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    paused: bool,
}

impl RedisServer {
    /// Starts `redis-server` on a free port of 127.0.0.1 and waits until it answers `PING`.
    ///
    /// # Errors
    ///
    /// When `redis-server` is not installed ([`io::ErrorKind::NotFound`], saying what to
    /// install), or when it exits or does not answer within 30 s (the error holds the end of
    /// its log).
    pub async fn start() -> io::Result<RedisServer> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let log = std::env::temp_dir().join(format!(
            "breaker-redis-{}-{}.log",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut server = RedisServer {
            port: free_port()?,
            log,
            child: None,
            paused: false,
        };
        // The free port is released before the server binds it, so another process may take it
        // in between: the server then exits at once, and another port is tried.
        let mut attempts = 0;
        loop {
            match server.start_again().await {
                Ok(()) => return Ok(server),
                Err(e) if attempts == 2 || e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(_) => {
                    attempts += 1;
                    server.port = free_port()?;
                }
            }
        }
    }

    /// The port it listens on (127.0.0.1), the same across [`stop`](Self::stop) and
    /// [`start_again`](Self::start_again).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL for the `redis` crate: `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Whether the server process is running (paused or not).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Whether it is paused by [`pause`](Self::pause).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The server's process id while it is running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the server (again) on the same port, empty, and waits until it answers `PING`.
    /// Does nothing when it is running.
    ///
    /// # Errors
    ///
    /// When `redis-server` is not installed, or when it exits or does not answer within 30 s;
    /// the error holds the end of its log.
    pub async fn start_again(&mut self) -> io::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            // A cache: nothing is written to disk, so a restart comes back empty.
            .args(["--save", "", "--appendonly", "no"])
            .arg("--logfile")
            .arg(&self.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => io::Error::new(
                    io::ErrorKind::NotFound,
                    "redis-server not found on PATH: install it with `apt-get install redis-server`",
                ),
                _ => e,
            })?;
        self.child = Some(child);
        self.paused = false;

        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().transpose()) {
                self.child = None;
                return Err(self.failure(&format!("redis-server exited ({})", status?)));
            }
            if self.answers().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop()?;
                return Err(self.failure("redis-server did not answer PING within 30 s"));
            }
            // The interval between two attempts, not a guess at how long start-up takes.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the server by its process id (`SIGKILL`, as a crash: every connection is cut at
    /// once; a paused server dies too) and waits until it has exited. Does nothing when it is
    /// not running.
    ///
    /// # Errors
    ///
    /// When the process cannot be signalled or waited for.
    pub fn stop(&mut self) -> io::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        self.paused = false;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Pauses the server (`SIGSTOP`): its connections stay open and the kernel still accepts
    /// new ones, but nothing is answered until [`resume`](Self::resume), as a hung server or
    /// a long pause of the process. Does nothing when it is not running.
    ///
    /// Returns once the process is stopped (as `/proc` shows it), so nothing sent after this
    /// is answered before [`resume`](Self::resume).
    ///
    /// # Errors
    ///
    /// When the process cannot be signalled, or is not shown stopped within 30 s.
    pub fn pause(&mut self) -> io::Result<()> {
        let Some(pid) = self.pid() else {
            return Ok(());
        };
        signal(pid, libc::SIGSTOP)?;
        self.paused = true;
        let deadline = Instant::now() + BOUND;
        while !is_stopped(pid) {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "redis-server ({pid}) was not stopped 30 s after SIGSTOP"
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// Resumes a paused server (`SIGCONT`): it answers what it was sent meanwhile. Does
    /// nothing when it is not running.
    ///
    /// # Errors
    ///
    /// When the process cannot be signalled.
    pub fn resume(&mut self) -> io::Result<()> {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGCONT)?;
            self.paused = false;
        }
        Ok(())
    }

    /// Whether a new connection answers `PING` within a second.
    async fn answers(&self) -> bool {
        let ping = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
            stream.write_all(b"PING\r\n").await?;
            let mut buf = [0u8; 16];
            let n = stream.read(&mut buf).await?;
            io::Result::Ok(buf[..n].starts_with(b"+PONG"))
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Ok(true))
        )
    }

    /// An error with the last lines of the server's log.
    fn failure(&self, what: &str) -> io::Error {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        io::Error::other(format!("{what}; server log:\n{}", tail.join("\n")))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Sends `signal` to the process `pid`.
fn signal(pid: u32, signal: libc::c_int) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: `kill` only reads its two integer arguments; `pid` is our own child, which has
    // not been waited for yet, so the id cannot belong to another process.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the process `pid` is stopped by a signal: state `T` in `/proc/PID/stat` (the
/// field after the command name, which is in parentheses and may hold any character). `true`
/// where there is no `/proc` to ask: the signal was sent, and that is all one can know there.
fn is_stopped(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "T")
}

/// A free TCP port on 127.0.0.1 (bound, read, released: the server binds it next).
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
