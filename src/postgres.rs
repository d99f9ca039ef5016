//! A real PostgreSQL server for the examples and tests (feature `postgres`): the Debian
//! package's binaries, a fresh data directory in a temporary folder, a free port on 127.0.0.1,
//! and a stop by process id. The server can be stopped and started again on the same port and
//! data, which is how `examples/postgres.rs` shows an outage and the recovery after it.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let mut server = breaker::postgres::PgServer::start().await?;
//! let (client, connection) = server.config().connect(tokio_postgres::NoTls).await.unwrap();
//! tokio::spawn(connection);
//! client.simple_query("SELECT 1").await.unwrap();
//! server.stop()?; // fast shutdown: every connection is cut
//! server.start_again().await?; // same port, same data
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections, or to exit when stopped: far more than
/// it needs (a fraction of a second here), so a slow shared machine is not mistaken for a
/// broken server.
const BOUND: Duration = Duration::from_secs(30);

/// The folder of the Debian package's binaries (`initdb`, `postgres`): the highest version
/// under `/usr/lib/postgresql/*/bin`, or `None` when the package `postgresql` is not installed.
/// `PATH` is not searched: the Debian package does not put these programs there.
pub fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// A PostgreSQL server of its own on `127.0.0.1`: a fresh cluster (superuser `postgres`,
/// `trust` authentication, `fsync` off) in a temporary folder that is removed on drop, where the
/// server is also stopped.
///
/// PostgreSQL refuses to run as root. When this process is root (as CI is), `initdb` and
/// `postgres` run as the `postgres` system user that the Debian package creates: the folder is
/// handed to that user, and the children switch to its uid and gid before they start
/// (`CommandExt::uid`/`gid`, which also drop root's supplementary groups), so the process id
/// held here is the server's own and a signal reaches it directly.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    owner: Option<(u32, u32)>,
    child: Option<Child>,
}

impl PgServer {
    /// Creates a cluster with `initdb`, starts `postgres` on a free port of 127.0.0.1 and waits
    /// until it answers a query.
    ///
    /// # Errors
    ///
    /// When the package is not installed ([`io::ErrorKind::NotFound`]), when this process is
    /// root and there is no `postgres` user, or when `initdb` or the server fails (the error
    /// holds the end of their output).
    pub async fn start() -> io::Result<PgServer> {
        let bin = bin_dir().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "PostgreSQL not found under /usr/lib/postgresql/*/bin: install it with `apt-get install postgresql`",
            )
        })?;
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let owner = if unsafe { libc::geteuid() } == 0 {
            Some(system_user("postgres")?)
        } else {
            None
        };
        let dir = temp_dir()?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        let mut server = PgServer {
            bin,
            dir,
            port: free_port()?,
            owner,
            child: None,
        };
        server.initdb()?;
        // The free port is released before the server binds it, so another process may take it
        // in between: the server then exits at once, and another port is tried.
        let mut attempts = 0;
        loop {
            match server.start_again().await {
                Ok(()) => return Ok(server),
                Err(e) if attempts == 2 => return Err(e),
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

    /// Connection settings for it: 127.0.0.1, its port, user and database `postgres`, and a
    /// short connect timeout (a refused connection fails at once anyway).
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .dbname("postgres")
            .connect_timeout(Duration::from_secs(2));
        config
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The server's process id while it is running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary folder that holds the data (`data/`), the log (`server.log`) and the Unix
    /// socket; removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the server (again) on the same port and data, and waits until it answers a query.
    /// Does nothing when it is running.
    ///
    /// # Errors
    ///
    /// When the server does not start, or exits, or does not answer within 30 s; the error
    /// holds the end of its log.
    pub async fn start_again(&mut self) -> io::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))?;
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string()])
            // TCP on loopback only; the Unix socket goes to our own folder, not to
            // /var/run/postgresql, which may not exist or belong to another server.
            .args(["-c", "listen_addresses=127.0.0.1", "-k"])
            .arg(&self.dir)
            // A throwaway cluster: nothing needs to survive a power cut.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        self.child = Some(command.spawn()?);

        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().transpose()) {
                self.child = None;
                return Err(self.failure(&format!("postgres exited ({})", status?)));
            }
            if self.answers().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop()?;
                return Err(self.failure("postgres did not accept connections within 30 s"));
            }
            // The interval between two attempts, not a guess at how long start-up takes.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server by its process id and waits until it has exited (milliseconds). It is a
    /// fast shutdown (`SIGINT`): every open connection is cut at once, as in an outage, and the
    /// data is written out cleanly. (`SIGTERM` would be PostgreSQL's smart shutdown, which
    /// waits for every client to disconnect: a pool never does.) Blocks the calling thread for
    /// that time. Does nothing when it is not running.
    ///
    /// # Errors
    ///
    /// When the process cannot be signalled or waited for.
    pub fn stop(&mut self) -> io::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id() as libc::pid_t;
        signal(pid, libc::SIGINT)?;
        let deadline = Instant::now() + BOUND;
        loop {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                // Immediate shutdown, for a server that did not finish the fast one.
                signal(pid, libc::SIGQUIT)?;
                child.wait()?;
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether a new connection is accepted and answers `SELECT 1`.
    async fn answers(&self) -> bool {
        let Ok((client, connection)) = self.config().connect(tokio_postgres::NoTls).await else {
            return false;
        };
        let connection = tokio::spawn(connection);
        let ok = client.simple_query("SELECT 1").await.is_ok();
        drop(client);
        let _ = connection.await;
        ok
    }

    fn initdb(&self) -> io::Result<()> {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .arg("--no-sync")
            .stdin(Stdio::null())
            .output()?;
        if output.status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "initdb failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }

    /// A command for one of the package's programs, run as the `postgres` user when we are
    /// root, with the folder as its working directory.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(&self.dir);
        if let Some((uid, gid)) = self.owner {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid).env("HOME", &self.dir);
        }
        command
    }

    /// An error with the last lines of the server's log.
    fn failure(&self, what: &str) -> io::Error {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        io::Error::other(format!("{what}; server log:\n{}", tail.join("\n")))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends `signal` to the process `pid`.
fn signal(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: `kill` only reads its two integer arguments; `pid` is our own child, which has
    // not been waited for yet, so the id cannot belong to another process.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The uid and gid of a system user, from `/etc/passwd`.
fn system_user(name: &str) -> io::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() > 3 && fields[0] == name)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("running as root, and there is no `{name}` user to run PostgreSQL as (the Debian package `postgresql` creates it)"),
            )
        })
}

/// A new, empty folder of our own under the system's temporary folder.
fn temp_dir() -> io::Result<PathBuf> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "breaker-pg-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    if Path::new(&dir).exists() {
        // Left by an earlier process that had our id and was killed before its drop ran.
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// A free TCP port on 127.0.0.1 (bound, read, released: the server binds it next).
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
