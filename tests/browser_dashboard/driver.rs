//! A headless Chromium driven over WebDriver: a chromedriver of our own on a free port,
//! stopped by its process id when the test ends, however it ends.

use crate::common::real_tool::{find_tool, free_port};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The chromedriver process; dropping it kills its process group, which holds the browsers
/// it started too, so none outlives a failed test.
pub struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        // Our child's own group (it leads it): the driver and the browsers it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session and the driver behind it; `None` (the test skips) without
/// chromedriver, except under `CI=true`, where its absence fails.
pub async fn browser() -> Option<(Driver, Client)> {
    let chromedriver = find_tool(
        &["chromedriver", "/usr/bin/chromedriver"],
        "chromium-driver",
    )?;
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A group of its own, so that `Drop` stops the browsers with it.
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child };
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&url).await;

    let mut options = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--no-first-run",
            "--disable-extensions",
        ]
    });
    if std::path::Path::new("/usr/bin/chromium").is_file() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    // Dialogs (the buttons' confirmations) wait for the test to answer them.
    capabilities.insert("unhandledPromptBehavior".into(), Value::from("ignore"));
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await
        .expect("a Chromium session");
    Some((driver, client))
}

/// Until chromedriver answers `/status` (bounded: it starts in well under a second).
async fn wait_ready(url: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{url}/status"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not start within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it gives `Some`, within `bound` (generous: a loaded machine is slow).
pub async fn eventually<T, F, Fut>(what: &str, bound: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {bound:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
