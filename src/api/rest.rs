//! The REST API, probes and metrics (DESIGN §7), over a [`DaemonHandle`]:
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | 200 `ok` while the process serves |
//! | `GET /readyz` | 200 once the first pass over the repository is done, else 503 |
//! | `GET /metrics` | Prometheus text |
//! | `GET /api/v1/apps` | every app's status |
//! | `GET /api/v1/apps/{app}` | one app's status with its objects' health |
//! | `GET /api/v1/apps/{app}/history[?limit=N]` | history, newest first |
//! | `GET /api/v1/apps/{app}/history/{id}` | one entry |
//! | `GET /api/v1/apps/{app}/history/{id}/diff` | what that sync changed against the entry before |
//! | `GET /api/v1/apps/{app}/diff` | live vs. what the app should run now |
//! | `POST /api/v1/apps/{app}/sync` | 202, a sync is queued |
//! | `POST /api/v1/apps/{app}/rollback` `{"to": <id or commit>}` (body optional) | 202 with the pin |
//! | `POST /api/v1/apps/{app}/unpin` | 202 with the removed pin (or null) |
//!
//! POSTs need `Authorization: Bearer <token>`, compared in constant time: 401 without or with
//! a wrong one, 403 when no token is configured (the API is then read-only, and says so).
//! Errors are JSON `{"error": "..."}` with 400, 404 (unknown app or entry), 502 (the cluster).

use super::metrics::Metrics;
use crate::daemon::DaemonHandle;
use crate::daemon::config::ApiToken;
use crate::daemon::handle::{HandleError, RollbackTo};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// What the routes share.
#[derive(Clone)]
struct Api {
    daemon: DaemonHandle,
    metrics: Arc<Metrics>,
    token: Option<ApiToken>,
}

/// The REST API, probes and metrics.
pub fn router(daemon: DaemonHandle, metrics: Arc<Metrics>, token: Option<ApiToken>) -> Router {
    if token.is_none() {
        tracing::warn!("no API token configured: POST /api/v1/... is refused (403)");
    }
    let api = Api { daemon, metrics, token };
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/apps", get(apps))
        .route("/api/v1/apps/{app}", get(app))
        .route("/api/v1/apps/{app}/history", get(history))
        .route("/api/v1/apps/{app}/history/{id}", get(entry))
        .route("/api/v1/apps/{app}/history/{id}/diff", get(history_diff))
        .route("/api/v1/apps/{app}/diff", get(live_diff))
        .route("/api/v1/apps/{app}/sync", post(sync))
        .route("/api/v1/apps/{app}/rollback", post(rollback))
        .route("/api/v1/apps/{app}/unpin", post(unpin))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
        .with_state(api)
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

impl IntoResponse for HandleError {
    fn into_response(self) -> Response {
        let status = match &self {
            HandleError::UnknownApp(_) | HandleError::UnknownEntry { .. } => StatusCode::NOT_FOUND,
            HandleError::Invalid(_) => StatusCode::BAD_REQUEST,
            HandleError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            HandleError::Cluster(_) => StatusCode::BAD_GATEWAY,
        };
        error(status, self.to_string())
    }
}

type Answer = Result<Response, HandleError>;

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

async fn ready(State(api): State<Api>) -> Response {
    match api.daemon.ready() {
        true => "ready\n".into_response(),
        false => (StatusCode::SERVICE_UNAVAILABLE, "not ready: the first pass is running\n")
            .into_response(),
    }
}

async fn metrics_text(State(api): State<Api>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], api.metrics.render()).into_response()
}

async fn apps(State(api): State<Api>) -> Answer {
    ok(api.daemon.apps()?)
}

async fn app(State(api): State<Api>, Path(app): Path<String>) -> Answer {
    ok(api.daemon.app(&app)?)
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn history(
    State(api): State<Api>,
    Path(app): Path<String>,
    Query(q): Query<Limit>,
) -> Answer {
    ok(api.daemon.history(&app, q.limit)?)
}

async fn entry(State(api): State<Api>, Path((app, id)): Path<(String, u64)>) -> Answer {
    ok(api.daemon.entry(&app, id)?)
}

async fn history_diff(State(api): State<Api>, Path((app, id)): Path<(String, u64)>) -> Answer {
    ok(api.daemon.history_diff(&app, id)?)
}

async fn live_diff(State(api): State<Api>, Path(app): Path<String>) -> Answer {
    ok(api.daemon.live_diff(&app).await?)
}

/// Checks the bearer token in constant time; the refusal to answer if it does not match.
fn refusal(api: &Api, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &api.token else {
        let message = "no API token is configured: the API is read-only";
        return Some(error(StatusCode::FORBIDDEN, message.into()));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    (!token.matches(given))
        .then(|| error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token".into()))
}

/// A POST's answer: refused without the token, else what `act` did (202) or its error.
fn accepted(
    api: &Api,
    headers: &HeaderMap,
    act: impl FnOnce() -> Result<Value, HandleError>,
) -> Response {
    if let Some(refused) = refusal(api, headers) {
        return refused;
    }
    match act() {
        Ok(body) => (StatusCode::ACCEPTED, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn sync(State(api): State<Api>, headers: HeaderMap, Path(app): Path<String>) -> Response {
    accepted(&api, &headers, || {
        api.daemon.sync(&app)?;
        Ok(json!({ "status": "queued", "app": app }))
    })
}

async fn rollback(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(app): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    accepted(&api, &headers, || {
        let to = rollback_target(&body).map_err(HandleError::Invalid)?;
        let pin = api.daemon.rollback(&app, to)?;
        Ok(json!({ "status": "queued", "app": app, "pin": pin }))
    })
}

/// The `to` of a rollback body: an entry id (number) or a commit (string); none without a
/// body.
fn rollback_target(body: &[u8]) -> Result<Option<RollbackTo>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("body: not JSON: {e}"))?;
    match value.get("to") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|id| Some(RollbackTo::Entry(id)))
            .ok_or_else(|| "to: an entry id is a positive integer".into()),
        Some(Value::String(s)) if s.chars().all(|c| c.is_ascii_digit()) && s.len() < 8 => {
            Ok(Some(RollbackTo::Entry(s.parse().map_err(|_| "to: not an entry id")?)))
        }
        Some(Value::String(s)) => Ok(Some(RollbackTo::Commit(s.clone()))),
        Some(_) => Err("to: an entry id (number) or a commit (string)".into()),
    }
}

async fn unpin(State(api): State<Api>, headers: HeaderMap, Path(app): Path<String>) -> Response {
    accepted(&api, &headers, || {
        let pin = api.daemon.unpin(&app)?;
        Ok(json!({ "status": "queued", "app": app, "unpinned": pin }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_bodies() {
        assert_eq!(rollback_target(b""), Ok(None));
        assert_eq!(rollback_target(b"{}"), Ok(None));
        assert_eq!(rollback_target(br#"{"to": 3}"#), Ok(Some(RollbackTo::Entry(3))));
        assert_eq!(rollback_target(br#"{"to": "12"}"#), Ok(Some(RollbackTo::Entry(12))));
        assert_eq!(
            rollback_target(br#"{"to": "1a2b3c4d"}"#),
            Ok(Some(RollbackTo::Commit("1a2b3c4d".into())))
        );
        assert_eq!(
            rollback_target(br#"{"to": -1}"#),
            Err("to: an entry id is a positive integer".into())
        );
        assert!(rollback_target(b"nope").unwrap_err().starts_with("body: not JSON"));
    }
}
