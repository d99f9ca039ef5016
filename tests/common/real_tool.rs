//! Finding a real program a test starts (a server, a browser, a checker), and the one rule for
//! when it is missing: on a developer's machine the test says what to install and skips; under
//! `CI=true` (as `.ci/run` runs) it fails, so a package missing from `.ci/debian-packages`
//! cannot hide as a skip.

use std::path::{Path, PathBuf};

/// The first of `candidates` (names looked up on `PATH`, or absolute paths) that exists.
/// `None` after printing the skip line, when none does and `CI` is not `true`.
///
/// # Panics
///
/// Under `CI=true` when none exists, naming the Debian package to add.
pub fn find_tool(candidates: &[&str], debian_package: &str) -> Option<PathBuf> {
    if let Some(found) = candidates.iter().find_map(|name| locate(name)) {
        return Some(found);
    }
    let wanted = candidates.join(" or ");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{wanted} not found under CI=true: add `{debian_package}` to .ci/debian-packages");
    }
    eprintln!("skipped: {wanted} not found; install it with `apt-get install {debian_package}`");
    None
}

fn locate(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port on 127.0.0.1 for a server the test starts (bound, read, released: the
/// server binds it next; a clash is possible in principle, so callers wait for readiness).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("127.0.0.1 has a free port")
}
