//! `POST /config/reload` (features `axum` and `config`): reloads the config file the router
//! was given, as [`config::load_file_into`](crate::config::load_file_into) does, so an
//! operator can apply an edited file without a restart.

use super::{error, AdminState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Serialize)]
struct Reloaded {
    /// The file, as the router was given it.
    reloaded: String,
    /// Names the file's tables set that no breaker has (typos), as
    /// [`config::unmatched_in`](crate::config::unmatched_in) lists them.
    unmatched: Vec<String>,
}

/// `200` with the file and the unmatched names; `422` with the error (a failed load changes
/// no breaker); `404` when the router was given no file.
pub(super) async fn reload(axum::extract::State(admin): AdminState) -> Response {
    let Some(path) = admin.config_file.as_deref() else {
        return error(
            StatusCode::NOT_FOUND,
            "no config file to reload; give the router one with `AdminRouter::config_file`".into(),
        );
    };
    // A config file is small: read in the handler, as a load at start-up would.
    match crate::config::load_file_into(&admin.registry, path) {
        Ok(()) => Json(Reloaded {
            reloaded: path.display().to_string(),
            unmatched: crate::config::unmatched_in(&admin.registry),
        })
        .into_response(),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}
