//! An admin endpoint for a service's breakers (feature `axum`): an [`axum::Router`] to mount
//! wherever the service keeps its operational routes.
//!
//! | route | answer |
//! |---|---|
//! | `GET /breakers` | `200`, every breaker's [`BreakerSnapshot`](crate::BreakerSnapshot) as a JSON array, sorted by name |
//! | `GET /breakers/{name}` | `200`, that breaker's snapshot, with `settings`: each setting's `value` and its `source` (`default`, `file`, `code` or `env`; see [`Registry::setting_sources`]) |
//! | `POST /breakers/{name}/{action}` | `200`, the snapshot after the action: `open` ([`force_open`](CircuitBreaker::force_open)), `close`, `disable`, `metrics_only` or `reset` |
//! | `GET /health` | `200` with `"status": "ok"`, or `503` with `"status": "unavailable"` while a breaker marked [critical](AdminRouter::critical) is open or forced open |
//! | `POST /config/reload` | with the `config` feature and a [config file](AdminRouter::config_file): reloads it (breakers keep their state); `200` with `{"reloaded": path, "unmatched": [names no breaker has]}`, or `422` with the load's error, which changes no breaker |
//! | `GET /events` | `text/event-stream`: each event's data is the JSON array `GET /breakers` answers, sent on connect, then on every change, at most every 250 ms (a transition within 250 ms, new counts within a second), with a heartbeat comment every 15 s ([`heartbeat`](AdminRouter::heartbeat)) |
//! | `GET /dashboard` | a self-contained HTML page that shows every breaker live, fed by `/events`; see [Dashboard](self#dashboard) |
//!
//! With fleet mode (feature `fleet`: a `breaker_runtime::fleet::Fleet` started over this
//! router's registry), every snapshot of a breaker the fleet shares carries
//! `"fleet": {"namespace", "connected", "last_sync_ms", "errors"}`, the link to Redis that
//! `Fleet::status` reports (`connected: false` means this instance decides alone for now),
//! and `open`, `close` and `reset` on such a breaker are fleet-wide, as `Fleet::force_open`,
//! `close` and `reset` are: here at once, on the other instances at their next sync.
//! `disable` and `metrics_only` stay on this instance. Breakers no fleet shares answer as
//! without fleet mode.
//!
//! Every error has a JSON body `{"error": "…"}`: an unknown breaker, an unknown action
//! (whatever the method) or another path under `/breakers` (`/breakers/`,
//! `/breakers/{name}/`, `/breakers/{name}/{action}/…`) is `404`; a wrong method on a route
//! that exists is `405` (with `Allow`); a name that does not percent-decode to UTF-8
//! (`/breakers/%FF`) is `400`; the guard's refusals are `401` and `403` (below). Names are
//! path segments, percent-encoded as usual: the breaker `<app::Db as app::Store>::get` is
//! `/breakers/%3Capp::Db%20as%20app::Store%3E::get`. The router sets no fallback, so it
//! [merges](Router::merge) into an app that has one; paths outside its routes get the app's.
//!
//! # Guard
//!
//! The `POST` routes change how the service behaves, so they refuse (`403`) what a web page
//! on another site can make a browser send without a CORS preflight (cross-site request
//! forgery): a request
//! - whose `Origin` is not the request's own (`Origin`'s `host[:port]`, without its scheme,
//!   must equal `Host`, ignoring ASCII case and the scheme's default port, `:80` or `:443`;
//!   `Origin: null` never does),
//! - or whose `Sec-Fetch-Site` is `cross-site` or `same-site` (a sibling subdomain is
//!   another origin; `same-origin` and `none`, typed in the address bar, are fine),
//! - or whose `Content-Type` is a form (`application/x-www-form-urlencoded`,
//!   `multipart/form-data`) or `text/plain`.
//!
//! `curl -X POST http://…/breakers/db/open`, with no `Origin` and no body or a JSON one,
//! goes through, and so does a page of the same origin that posts JSON. Behind a reverse
//! proxy, forward the client's `Host` (nginx: `proxy_set_header Host $host;`), or a browser
//! on the proxy's address is refused. `GET` routes answer any origin.
//!
//! [`bearer_token`](AdminRouter::bearer_token) makes every route, `GET` too, require
//! `Authorization: Bearer <token>`: without it, `401` with `WWW-Authenticate: Bearer`.
//! Without a token the router has no authentication of its own: mount it behind whatever
//! guards your other operational routes.
//!
//! # Dashboard
//!
//! `GET /dashboard` is one HTML page with its style and script inline and no external URL:
//! a tile per breaker, in name order, with its state (and, in a manual state, the state its
//! counts would give), the failure and slow-call rates against their thresholds, calls and
//! rejections per second over two minutes, the counters, the last transition, the countdown
//! to the next probe while open, the probes while half-open, and buttons for the `POST`
//! routes (each asks for confirmation). It is served with a `Content-Security-Policy` that
//! allows only its own script and style (by their SHA-256) and connections to its own
//! origin. It reads `/events` with `fetch` (not `EventSource`, which cannot send headers), so
//! with a [bearer token](AdminRouter::bearer_token) the page itself, which holds no data, is
//! served without one and asks for the token (or reads it from the address's fragment,
//! `…/dashboard#token=…`, which browsers never send to the server), then sends it as
//! `Authorization: Bearer …` on every request; the token never appears in a URL the server
//! sees or logs. Its `POST`s send `Content-Type: application/json` and the browser's own
//! `Origin`, so the cross-site guard lets them through.
//!
//! `/events` is fed by one task per router, running only while a client is connected: it
//! wakes after every breaker's transition (a process-wide signal the breakers give as they
//! send their events, costing nothing until a dashboard first connects) and re-reads the
//! registry every second, because counts change without a transition and breakers are added
//! at run time. Clients share the JSON it makes, through a `tokio::sync::watch` channel.
//!
//! ```
//! use axum::Router;
//! use breaker_runtime::admin::AdminRouter;
//! use breaker_runtime::registry;
//!
//! let app: Router = Router::new()
//!     // .route("/quotes", get(quotes)) …
//!     .nest("/admin", AdminRouter::new(registry()).critical(["db", "payments"]).into_router());
//! # let _ = app;
//! ```
//!
//! With this feature, [`BreakerError`](crate::BreakerError) and [`CallError`](crate::CallError) are also axum responses, for
//! handlers and `CircuitBreakerLayer`s on the server
//! side: `503 Service Unavailable` (with `Retry-After` while open) for a rejection, `504
//! Gateway Timeout` for a `call_timeout`, and the inner error's own response otherwise.

use crate::breaker::CircuitBreaker;
use crate::coordinator::Control;
use crate::registry::{registry, Registry};
use crate::snapshot::Health;
use crate::state::State;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

mod dashboard;
mod detail;
mod events;
mod fleet_link;
mod guard;
#[cfg(feature = "config")]
mod reload;
mod response;

/// Builds the admin [`Router`]; see the [module docs](self).
///
/// ```
/// use breaker_runtime::admin::AdminRouter;
///
/// // The global registry, with two breakers whose opening makes the service unhealthy.
/// let admin: axum::Router = AdminRouter::default().critical(["db", "payments"]).into_router();
/// # let _ = admin;
/// ```
#[derive(Debug, Clone)]
pub struct AdminRouter {
    registry: RegistryRef,
    critical: Vec<String>,
    bearer_token: Option<guard::Secret>,
    /// The file `POST /config/reload` loads.
    #[cfg(feature = "config")]
    config_file: Option<std::path::PathBuf>,
    /// What `/events` sends, shared by every client of the router.
    hub: Arc<events::Hub>,
    heartbeat: std::time::Duration,
}

#[derive(Clone)]
enum RegistryRef {
    Global(&'static Registry),
    Shared(Arc<Registry>),
}

impl fmt::Debug for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryRef::Global(_) => f.write_str("Global"),
            RegistryRef::Shared(_) => f.write_str("Shared"),
        }
    }
}

impl Deref for RegistryRef {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match self {
            RegistryRef::Global(r) => r,
            RegistryRef::Shared(r) => r,
        }
    }
}

impl Default for AdminRouter {
    /// Over the global [`registry()`], no breaker critical.
    fn default() -> AdminRouter {
        AdminRouter::new(registry())
    }
}

impl AdminRouter {
    /// Over a registry that lives for the whole program, usually the global
    /// [`registry()`](crate::registry()).
    ///
    /// ```
    /// let admin = breaker_runtime::admin::AdminRouter::new(breaker_runtime::registry());
    /// # let _ = admin;
    /// ```
    pub fn new(registry: &'static Registry) -> AdminRouter {
        AdminRouter {
            registry: RegistryRef::Global(registry),
            critical: Vec::new(),
            bearer_token: None,
            #[cfg(feature = "config")]
            config_file: None,
            hub: Arc::default(),
            heartbeat: events::HEARTBEAT,
        }
    }

    /// Over a registry of your own.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let mine = Arc::new(breaker_runtime::Registry::new());
    /// let admin = breaker_runtime::admin::AdminRouter::with_registry(mine.clone());
    /// # let _ = admin;
    /// ```
    pub fn with_registry(registry: Arc<Registry>) -> AdminRouter {
        AdminRouter {
            registry: RegistryRef::Shared(registry),
            critical: Vec::new(),
            bearer_token: None,
            #[cfg(feature = "config")]
            config_file: None,
            hub: Arc::default(),
            heartbeat: events::HEARTBEAT,
        }
    }

    /// Marks breakers as critical: the health route answers `503` while any of them is open
    /// or forced open. Calls add up. A critical name with no breaker (yet) counts as healthy
    /// and is listed with `"state": null`.
    ///
    /// ```
    /// let admin = breaker_runtime::admin::AdminRouter::default()
    ///     .critical(["db"])
    ///     .critical(vec![String::from("payments")]);
    /// # let _ = admin;
    /// ```
    pub fn critical<I>(mut self, names: I) -> AdminRouter
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.critical.extend(names.into_iter().map(Into::into));
        self
    }

    /// Makes every route, `GET` too, require `Authorization: Bearer <token>` (the scheme in
    /// any case). The token is compared in constant time; a missing or wrong one answers
    /// `401` with `WWW-Authenticate: Bearer` and a JSON error. The cross-site checks on the
    /// `POST` routes (see [the module docs](self#guard)) still apply. The token never shows in
    /// `Debug`. A later call replaces an earlier one.
    ///
    /// ```
    /// use breaker_runtime::admin::AdminRouter;
    ///
    /// // In a service: std::env::var("ADMIN_TOKEN")?, or a secrets file.
    /// let token = String::from("0c6f1d0e4b7a9f2d");
    /// let admin: axum::Router = AdminRouter::default().bearer_token(token).into_router();
    /// // curl -H "Authorization: Bearer $ADMIN_TOKEN" http://…/breakers
    /// # let _ = admin;
    /// ```
    ///
    /// # Panics
    ///
    /// If `token` is empty (say, an environment variable set to nothing): a token anyone can
    /// send would guard nothing.
    pub fn bearer_token(mut self, token: impl Into<String>) -> AdminRouter {
        let token = token.into();
        assert!(!token.is_empty(), "AdminRouter::bearer_token: empty token");
        self.bearer_token = Some(guard::Secret::new(token));
        self
    }

    /// Offers `POST /config/reload`, which loads `path` again (as
    /// [`config::load_file_into`](crate::config::load_file_into) does, into this router's
    /// registry): an operator edits the file and applies it without a restart. Breakers
    /// keep their state; a file that fails to load changes none and answers `422` with the
    /// error. The route is guarded like the other `POST` routes. A later call replaces an
    /// earlier one.
    ///
    /// ```
    /// use breaker_runtime::admin::AdminRouter;
    ///
    /// let admin: axum::Router = AdminRouter::default()
    ///     .config_file("/etc/my-service/breakers.toml")
    ///     .into_router();
    /// // curl -X POST http://…/admin/config/reload
    /// # let _ = admin;
    /// ```
    #[cfg(feature = "config")]
    pub fn config_file(mut self, path: impl Into<std::path::PathBuf>) -> AdminRouter {
        self.config_file = Some(path.into());
        self
    }

    /// How often `/events` sends a heartbeat comment (`: heartbeat`), whatever else it sends,
    /// so proxies and the page can tell a quiet stream from a dead one. 15 s by default; less
    /// than a millisecond counts as one, more than a day as a day (a clock cannot add any
    /// duration). The dashboard page takes 45 s without a byte as a dead stream and
    /// reconnects, so keep it well under that.
    ///
    /// ```
    /// use std::time::Duration;
    /// let admin = breaker_runtime::admin::AdminRouter::default().heartbeat(Duration::from_secs(5));
    /// # let _ = admin;
    /// ```
    pub fn heartbeat(mut self, every: std::time::Duration) -> AdminRouter {
        const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
        self.heartbeat = every.clamp(std::time::Duration::from_millis(1), DAY);
        self
    }

    /// The router, ready to [`nest`](Router::nest) or [`merge`](Router::merge) into the
    /// service's own, whatever its state type.
    ///
    /// ```
    /// #[derive(Clone)]
    /// struct AppState;
    /// let app: axum::Router<AppState> = axum::Router::new()
    ///     .merge(breaker_runtime::admin::AdminRouter::default().into_router());
    /// # let _ = app;
    /// ```
    pub fn into_router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let state = Arc::new(self);
        Router::new()
            .route("/breakers", only(get(list), "GET,HEAD"))
            .route("/breakers/{name}", only(get(show), "GET,HEAD"))
            .route("/breakers/{name}/{action}", any(action))
            .route("/health", only(get(health), "GET,HEAD"))
            .route("/config/reload", only(reload_route(), "POST"))
            .route("/events", only(get(events::events), "GET,HEAD"))
            // No router fallback (it would take over, or clash with, the app's on `merge`):
            // the other paths under `/breakers` are routes that answer the JSON 404.
            .route("/breakers/", any(no_route))
            .route("/breakers/{name}/", any(no_route))
            .route("/breakers/{name}/{action}/", any(no_route))
            .route("/breakers/{name}/{action}/{*rest}", any(no_route))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                guard::guard,
            ))
            // After the guard's layer, so outside it: the page holds no data, and a browser
            // cannot send a bearer token when it loads a page; the page then sends the token
            // on every request of its own (see the module docs).
            .route("/dashboard", only(get(dashboard::page), "GET,HEAD"))
            .with_state(state)
    }
}

impl<S: Clone + Send + Sync + 'static> From<AdminRouter> for Router<S> {
    fn from(admin: AdminRouter) -> Router<S> {
        admin.into_router()
    }
}

type AdminState = Shared<Arc<AdminRouter>>;

/// `POST /config/reload`: with the `config` feature, the reload; without it, a JSON `404`
/// that says which feature it needs.
fn reload_route() -> MethodRouter<Arc<AdminRouter>> {
    #[cfg(feature = "config")]
    return axum::routing::post(reload::reload);
    #[cfg(not(feature = "config"))]
    axum::routing::post(|| async {
        error(
            StatusCode::NOT_FOUND,
            "config reload needs the `config` feature of breaker-runtime".into(),
        )
    })
}

/// Answers other methods with a JSON `405`, naming the allowed ones.
fn only(
    route: MethodRouter<Arc<AdminRouter>>,
    allow: &'static str,
) -> MethodRouter<Arc<AdminRouter>> {
    route.fallback(move || async move { method_not_allowed(allow) })
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allow}"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

const ACTIONS: [&str; 5] = ["open", "close", "disable", "metrics_only", "reset"];

fn unknown_action(action: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("unknown action `{action}`; use open, close, disable, metrics_only or reset"),
    )
}

/// `POST` runs the action; another method is `405` for a real action, `404` for an unknown
/// one (there is no such route to use another method on). By hand, as a `MethodRouter`
/// adds `Allow` to its fallback's every answer.
async fn action(
    method: Method,
    admin: AdminState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    match path {
        _ if method == Method::POST => act(admin, path).await,
        Ok(Path((_, action))) if !ACTIONS.contains(&action.as_str()) => unknown_action(&action),
        Ok(_) => method_not_allowed("POST"),
        Err(rejection) => bad_path(rejection),
    }
}

async fn no_route() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such route; use /breakers, /breakers/{name}, /breakers/{name}/{action} or /health"
            .into(),
    )
}

/// axum's own answer is `400` in `text/plain`; this is the same status, in JSON.
fn bad_path(rejection: PathRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!(
            "bad breaker name in the path (names are percent-encoded UTF-8): {}",
            rejection.body_text()
        ),
    )
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorBody { error: message })).into_response()
}

fn find(admin: &AdminRouter, name: &str) -> Result<Arc<CircuitBreaker>, Box<Response>> {
    admin.registry.get(name).ok_or_else(|| {
        Box::new(error(
            StatusCode::NOT_FOUND,
            format!("no circuit breaker named `{name}`"),
        ))
    })
}

async fn list(Shared(admin): AdminState) -> Json<Vec<fleet_link::Entry>> {
    Json(fleet_link::Entry::all(&admin))
}

async fn show(Shared(admin): AdminState, path: Result<Path<String>, PathRejection>) -> Response {
    let name = match path {
        Ok(Path(name)) => name,
        Err(rejection) => return bad_path(rejection),
    };
    match find(&admin, &name) {
        Ok(b) => Json(detail::Detail::of(&admin, &b)).into_response(),
        Err(response) => *response,
    }
}

async fn act(
    Shared(admin): AdminState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let (name, action) = match path {
        Ok(Path(parts)) => parts,
        Err(rejection) => return bad_path(rejection),
    };
    let breaker = match find(&admin, &name) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    match action.as_str() {
        "open" => fleet_link::control(&admin, &breaker, Control::ForceOpen),
        "close" => fleet_link::control(&admin, &breaker, Control::Close),
        "reset" => fleet_link::control(&admin, &breaker, Control::Reset),
        // Not fleet-wide: an operator disables a breaker here, on the instance in front of
        // them (the fleet has no such control).
        "disable" => breaker.disable(),
        "metrics_only" => breaker.metrics_only(),
        _ => return unknown_action(&action),
    }
    Json(fleet_link::Entry::of(&admin, breaker.snapshot())).into_response()
}

#[derive(Serialize)]
struct HealthBody {
    status: &'static str,
    /// Critical breakers that are open or forced open.
    open_critical: Vec<String>,
    critical: Vec<CriticalBody>,
    breakers: Health,
}

#[derive(Serialize)]
struct CriticalBody {
    name: String,
    state: Option<State>,
}

async fn health(Shared(admin): AdminState) -> Response {
    let critical: Vec<CriticalBody> = admin
        .critical
        .iter()
        .map(|name| CriticalBody {
            name: name.clone(),
            state: admin.registry.get(name).map(|b| b.state()),
        })
        .collect();
    let open_critical: Vec<String> = critical
        .iter()
        .filter(|c| c.state.is_some_and(State::is_open))
        .map(|c| c.name.clone())
        .collect();
    let (status, word) = if open_critical.is_empty() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let body = HealthBody {
        status: word,
        open_critical,
        critical,
        breakers: admin.registry.health(),
    };
    (status, Json(body)).into_response()
}
