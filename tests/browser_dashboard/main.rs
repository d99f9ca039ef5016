//! Feature `axum`: the dashboard page in a real browser (headless Chromium over WebDriver),
//! loaded from a real admin server on 127.0.0.1. Skipped without chromedriver, except under
//! `CI=true` (see `tests/common/real_tool.rs`; `.ci/debian-packages` lists `chromium` and
//! `chromium-driver`).
#![cfg(feature = "axum")]

#[path = "../common/mod.rs"]
mod common;
mod driver;
mod partial;
mod server;

use breaker_runtime::admin::AdminRouter;
use breaker_runtime::{BreakerConfig, Registry, State};
use driver::{browser, eventually};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::Value;
use server::Server;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One browser at a time: two Chromiums on a small CI machine make both slow.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the page may take to show a change: generous, as a loaded machine is slow.
const BOUND: Duration = Duration::from_secs(15);

const XSS: &str = "<img src=x onerror=alert(1)>";

/// Each tile as the page shows it: its name, state word, phase line and counters, as text.
async fn tiles(client: &Client) -> Vec<Value> {
    let script = r#"
        return [...document.querySelectorAll(".tile")].map((t) => {
            const text = (sel) => t.querySelector(sel).textContent;
            return {
                name: text(".name"), state: text(".state"), computed: text(".computed"),
                phase: text(".phase"), successes: text(".c-successes"),
                failures: text(".c-failures"), rejected: text(".c-rejected"),
                last: text(".last"), fleet: text(".fleet"),
                imgs: t.querySelectorAll("img").length,
            };
        });"#;
    match client
        .execute(script, vec![])
        .await
        .expect("the script runs")
    {
        Value::Array(tiles) => tiles,
        other => panic!("not a list: {other}"),
    }
}

async fn tile(client: &Client, name: &str) -> Option<Value> {
    tiles(client).await.into_iter().find(|t| t["name"] == name)
}

async fn connection(client: &Client) -> String {
    let script = r#"return document.getElementById("conn").textContent;"#;
    let text = client
        .execute(script, vec![])
        .await
        .expect("the script runs");
    text.as_str().unwrap_or_default().to_owned()
}

/// The seconds in a "next probe in 29.3 s" line.
fn countdown(phase: &Value) -> Option<f64> {
    phase
        .as_str()?
        .strip_prefix("next probe in ")?
        .strip_suffix(" s")?
        .parse()
        .ok()
}

/// The button for `action` on `name`'s tile, found as a user would: by the tile's title.
async fn button(client: &Client, name: &str, action: &str) -> Element {
    for tile in client.find_all(Locator::Css(".tile")).await.unwrap() {
        let title = tile.find(Locator::Css(".name")).await.unwrap();
        if title.text().await.unwrap() == name {
            let css = format!("button[data-action=\"{action}\"]");
            return tile.find(Locator::Css(&css)).await.unwrap();
        }
    }
    panic!("no tile named {name}");
}

fn own() -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    let plain = || BreakerConfig::builder().failure_threshold(2).build();
    for name in ["alpha", "beta", "gamma", "delta", "epsilon", XSS] {
        registry.get_or_create(name, plain());
    }
    let probing = BreakerConfig::builder()
        .half_open_max_calls(2)
        .success_threshold(3)
        .build();
    registry.get_or_create("zeta", probing);
    registry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_follow_the_breakers_and_the_buttons_control_them() {
    let _one = ONE_BROWSER.lock().await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let registry = own();
    let get = |name: &str| registry.get(name).unwrap();
    let alpha = get("alpha");
    for ok in [true, true, true, false] {
        let _ = alpha.call_sync(|| if ok { Ok(()) } else { Err("down") });
    }
    get("gamma").force_open();
    get("delta").disable();
    get("epsilon").metrics_only();
    let zeta = get("zeta");
    zeta.open_for(Duration::ZERO);
    let _probe = zeta.try_acquire().expect("a half-open probe");
    let server = Server::start(
        AdminRouter::with_registry(registry.clone()).into_router(),
        "127.0.0.1:0".parse().unwrap(),
    );
    let origin = format!("http://{}", server.addr);
    client.goto(&format!("{origin}/dashboard")).await.unwrap();

    // Every breaker, in name order, with its state word and counts.
    let shown = eventually("seven tiles", BOUND, || async {
        let tiles = tiles(&client).await;
        (tiles.len() == 7 && tiles.iter().all(|t| t["state"] != "")).then_some(tiles)
    })
    .await;
    let names: Vec<&str> = shown.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [XSS, "alpha", "beta", "delta", "epsilon", "gamma", "zeta"]
    );
    let word = |name: &str| shown.iter().find(|t| t["name"] == name).unwrap()["state"].clone();
    assert_eq!(word("alpha"), "Closed");
    assert_eq!(word("gamma"), "Forced open");
    assert_eq!(word("delta"), "Disabled");
    assert_eq!(word("epsilon"), "Metrics only");
    assert_eq!(word("zeta"), "Half-open");
    let field =
        |name: &str, key: &str| shown.iter().find(|t| t["name"] == name).unwrap()[key].clone();
    // A manual state shows, beside it, what the counts would make the breaker.
    assert_eq!(field("gamma", "computed"), "(counts say Closed)");
    assert_eq!(field("alpha", "computed"), "");
    assert_eq!(
        field("zeta", "phase"),
        "probes in flight 1 / 2, successes 0 / 3"
    );
    // The inline style ran under the policy: the tile's state colour is drawn.
    let border = client
        .execute(
            r#"return getComputedStyle(document.querySelector(".tile")).borderTopWidth;"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(border, "6px");
    // At their narrowest (the grid's 260 px, which a 1400 px window gives), tiles hold their
    // text: the counters' three columns ran past the tile's edge there.
    let overflowing = client
        .execute(
            r#"const main = document.querySelector("main");
               main.style.gridTemplateColumns = "260px";
               const over = [...document.querySelectorAll(".tile")]
                   .filter((t) => t.scrollWidth > t.clientWidth)
                   .map((t) => t.querySelector(".name").textContent);
               main.style.gridTemplateColumns = "";
               return over;"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflowing, Value::Array(vec![]), "tiles wider than 260 px");
    let a = shown.iter().find(|t| t["name"] == "alpha").unwrap();
    assert_eq!(
        (&a["successes"], &a["failures"], &a["rejected"]),
        (&"3".into(), &"1".into(), &"0".into())
    );
    // The hostile name is text: no element made from it, no dialog opened.
    let x = shown.iter().find(|t| t["name"] == XSS).unwrap();
    assert_eq!(x["imgs"], 0);
    assert!(client.get_alert_text().await.is_err(), "no alert ran");

    // A breaker opened now turns Open, with a countdown that goes down.
    let beta = get("beta");
    let opened = Instant::now();
    for _ in 0..2 {
        let _ = beta.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(beta.state(), State::Open);
    let first = eventually("beta shows Open", BOUND, || async {
        let t = tile(&client, "beta").await?;
        (t["state"] == "Open")
            .then(|| countdown(&t["phase"]))
            .flatten()
    })
    .await;
    println!(
        "beta's tile showed Open {:?} after it opened",
        opened.elapsed()
    );
    assert!(first > 0.0 && first <= 60.0, "{first}");
    eventually("the countdown goes down", BOUND, || async {
        let later = countdown(&tile(&client, "beta").await?["phase"])?;
        (later < first).then_some(())
    })
    .await;

    // "close" on gamma, confirmed: the breaker closes and the page says so.
    let button = button(&client, "gamma", "close").await;
    button.click().await.unwrap();
    let question = eventually("a confirmation", BOUND, || async {
        client.get_alert_text().await.ok()
    })
    .await;
    assert!(question.contains("gamma"), "{question}");
    client.accept_alert().await.unwrap();
    let gamma = get("gamma");
    eventually("gamma closes", BOUND, || async {
        (gamma.state() == State::Closed).then_some(())
    })
    .await;
    eventually("gamma's tile says Closed", BOUND, || async {
        (tile(&client, "gamma").await?["state"] == "Closed").then_some(())
    })
    .await;
    let result = client
        .execute(
            r#"return document.getElementById("result").textContent;"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(result, "close gamma: done, now Closed");

    // Nothing was asked of any host but the page's own.
    let resources = client
        .execute(
            r#"return performance.getEntriesByType("resource").map((e) => e.name)
                .concat(performance.getEntriesByType("navigation").map((e) => e.name));"#,
            vec![],
        )
        .await
        .unwrap();
    let resources = resources.as_array().unwrap();
    assert!(!resources.is_empty());
    for url in resources {
        let url = url.as_str().unwrap();
        assert!(
            url.starts_with(&format!("{origin}/")),
            "{url} is not {origin}"
        );
    }
    let source = client.source().await.unwrap();
    assert!(!source.contains("https://"), "an external URL in the page");

    screenshot(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_server_is_reported_and_the_page_reconnects() {
    let _one = ONE_BROWSER.lock().await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let registry = own();
    let app = || AdminRouter::with_registry(registry.clone()).into_router();
    let server = Server::start(app(), "127.0.0.1:0".parse().unwrap());
    let addr = server.addr;
    client
        .goto(&format!("http://{addr}/dashboard"))
        .await
        .unwrap();
    eventually("live", BOUND, || async {
        (connection(&client).await == "live").then_some(())
    })
    .await;

    server.kill();
    let said = eventually("disconnected", BOUND, || async {
        let text = connection(&client).await;
        text.starts_with("disconnected").then_some(text)
    })
    .await;
    assert!(said.contains("retrying"), "{said}");

    registry.get("alpha").unwrap().force_open();
    let _server = Server::start(app(), addr);
    eventually("live again", Duration::from_secs(30), || async {
        (connection(&client).await == "live").then_some(())
    })
    .await;
    // And the stream it reconnected to brings what changed meanwhile.
    eventually("alpha shows Forced open", BOUND, || async {
        (tile(&client, "alpha").await?["state"] == "Forced open").then_some(())
    })
    .await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_in_the_fragment_the_page_streams_and_acts() {
    let _one = ONE_BROWSER.lock().await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let registry = own();
    let admin = AdminRouter::with_registry(registry.clone()).bearer_token("s3cret");
    let server = Server::start(admin.into_router(), "127.0.0.1:0".parse().unwrap());
    let page = format!("http://{}/dashboard", server.addr);

    // Without the token: the page asks for it.
    client.goto(&page).await.unwrap();
    eventually("token needed", BOUND, || async {
        (connection(&client).await == "token needed").then_some(())
    })
    .await;

    // With it in the fragment: streams, and drops it from the address bar.
    client.goto(&format!("{page}#token=s3cret")).await.unwrap();
    client.refresh().await.unwrap();
    eventually("live with the token", BOUND, || async {
        (connection(&client).await == "live").then_some(())
    })
    .await;
    assert_eq!(client.current_url().await.unwrap().as_str(), page);
    button(&client, "alpha", "open")
        .await
        .click()
        .await
        .unwrap();
    eventually("a confirmation", BOUND, || async {
        client.get_alert_text().await.ok()
    })
    .await;
    client.accept_alert().await.unwrap();
    let alpha = registry.get("alpha").unwrap();
    eventually("alpha forced open through the guard", BOUND, || async {
        (alpha.state() == State::ForcedOpen).then_some(())
    })
    .await;
    client.close().await.unwrap();
}

/// Saves what the page looks like to `target/dashboard.png`, for people to look at.
async fn screenshot(client: &Client) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::write(target.join("dashboard.png"), png).expect("target/ is writable");
}
