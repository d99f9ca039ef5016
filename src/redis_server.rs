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

/// How long the server may take to answer once started: far more than it needs (a few
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
    /// Starts `redis-server` on a free port of 127.0.0.1 and waits until it answers, as
    /// itself (its process id in `INFO`: not another server that holds the port).
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

    /// Starts the server (again) on the same port, empty, and waits until it answers, as
    /// itself. Does nothing when it is running.
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
                return Err(self.failure("redis-server did not answer within 30 s"));
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
            // Died by itself (killed from outside, say): a dead process is never shown stopped.
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().transpose()) {
                self.child = None;
                self.paused = false;
                return Err(self.failure(&format!("redis-server exited ({})", status?)));
            }
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

    /// Whether a new connection is answered within a second, by this server: its process id
    /// in `INFO server`. Another server on the port (the port taken in between, when this
    /// one could not bind it and is exiting) answers too, with another id.
    async fn answers(&self) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        let ask = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
            stream.write_all(b"INFO server\r\n").await?;
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 || seen.len() > 1 << 16 {
                    return io::Result::Ok(false);
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen);
                if text.starts_with('-') {
                    // An error (still loading, say): not answering yet.
                    return Ok(false);
                }
                if let Some((_, rest)) = text.split_once("\r\nprocess_id:") {
                    if let Some((id, _)) = rest.split_once("\r\n") {
                        return Ok(id == pid.to_string());
                    }
                }
            }
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), ask).await,
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

#[cfg(test)]
mod tests {
    //! Review 2: the helper attacked at its edges: a port another server holds, a start
    //! again after a failed one, a paused server dropped, a server that died by itself.
    use super::*;

    /// A server of its own on `port`, not started.
    fn on(port: u16) -> RedisServer {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        RedisServer {
            port,
            log: std::env::temp_dir().join(format!(
                "breaker-redis-test-{}-{}.log",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            )),
            child: None,
            paused: false,
        }
    }

    /// Whether the process `pid` still exists (a zombie counts as gone).
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z")
        })
    }

    /// The port is taken by another redis-server (the race `start` retries for, or a port
    /// some other process took while this one was stopped): the new server cannot bind it
    /// and exits. `start_again` took the other server's PONG for its own and said it runs.
    #[tokio::test]
    async fn start_again_on_a_port_another_server_holds_fails_and_does_not_run() {
        let other = match RedisServer::start().await {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => panic!("{e}"),
        };
        let mut server = on(other.port());
        let started = server.start_again().await;
        assert!(
            started.is_err(),
            "started on a port another server holds: pid {:?}",
            server.pid()
        );
        assert!(!server.is_running());

        // Started again once the port is free, as after any failed start.
        drop(other);
        server.start_again().await.expect("the port is free now");
        assert!(server.is_running() && server.answers().await);
        let pid = server.pid().unwrap();
        assert!(alive(pid));
    }

    /// Servers started at once race for free ports (each port is released before its server
    /// binds it): every one ends on a port of its own, answering as itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn servers_started_at_once_each_get_a_port_of_their_own() {
        let starts: Vec<_> = (0..6).map(|_| tokio::spawn(RedisServer::start())).collect();
        let mut servers = Vec::new();
        for start in starts {
            match start.await.unwrap() {
                Ok(s) => servers.push(s),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                Err(e) => panic!("{e}"),
            }
        }
        let mut ports: Vec<u16> = servers.iter().map(RedisServer::port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), servers.len(), "two servers on one port");
        for server in &servers {
            assert!(
                server.answers().await,
                "port {} answers as another",
                server.port()
            );
        }
    }

    /// A paused server dropped: `SIGKILL` ends a stopped process too, and the port is free.
    #[tokio::test]
    async fn a_paused_server_dropped_is_gone_with_its_log() {
        let mut server = match RedisServer::start().await {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => panic!("{e}"),
        };
        server.pause().unwrap();
        let (pid, port, log) = (server.pid().unwrap(), server.port(), server.log.clone());
        assert!(server.is_paused() && alive(pid));
        drop(server);
        assert!(!alive(pid), "the paused server outlived its handle");
        assert!(!log.exists());
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
    }

    /// The server died by itself (killed from outside): `pause` says so at once rather than
    /// waiting its 30 s bound for a stop that cannot come, and `start_again` starts it.
    #[tokio::test]
    async fn pausing_a_server_that_died_fails_at_once_and_start_again_restarts_it() {
        let mut server = match RedisServer::start().await {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => panic!("{e}"),
        };
        let pid = server.pid().unwrap();
        signal(pid, libc::SIGKILL).unwrap();
        let begun = Instant::now();
        assert!(server.pause().is_err(), "paused a dead server");
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "took {:?} to notice",
            begun.elapsed()
        );
        assert!(!server.is_paused() && !server.is_running());
        server.start_again().await.expect("starts again");
        assert!(server.answers().await);
    }
}
