//! The `/sandbox/...` endpoints: the same controls as [`crate::SandboxHandle`], for tests
//! and benches that only have an address. Bad input answers 400 with `{"error": "..."}`.

use crate::controls::{ErrorInjection, parse_duration};
use crate::state::{Nudge, State};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

type Shared = Extract<Arc<State>>;

/// The control routes, to be nested under `/sandbox`.
pub fn router() -> Router<Arc<State>> {
    Router::new()
        .route("/requests", get(requests).delete(reset_requests))
        .route("/latency", get(get_latency).put(set_latency))
        .route("/errors", get(errors).post(inject).delete(clear_errors))
        .route("/fail-rollout", post(fail_rollout))
        .route("/fail-job", post(fail_job))
        .route("/expire-watches", post(expire_watches))
}

fn bad(message: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": message.to_string()}))).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(bad(format!("invalid body: {e}"))))
}

async fn requests(Extract(state): Shared) -> Response {
    axum::Json(json!({"counts": state.controls.request_counts()})).into_response()
}

async fn reset_requests(Extract(state): Shared) -> StatusCode {
    state.controls.reset_request_counts();
    StatusCode::NO_CONTENT
}

async fn get_latency(Extract(state): Shared) -> Response {
    axum::Json(json!({"latency": format!("{}ms", state.controls.latency().as_millis())}))
        .into_response()
}

#[derive(Deserialize)]
struct Latency {
    latency: String,
}

async fn set_latency(Extract(state): Shared, body: Bytes) -> Response {
    let req: Latency = match parse(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    match parse_duration(&req.latency) {
        Ok(d) => {
            state.controls.set_latency(d);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn errors(Extract(state): Shared) -> Response {
    axum::Json(json!({"pending": state.controls.injections()})).into_response()
}

async fn inject(Extract(state): Shared, body: Bytes) -> Response {
    let injection: ErrorInjection = match parse(&body) {
        Ok(i) => i,
        Err(resp) => return *resp,
    };
    if injection.count == 0 || !(400..600).contains(&injection.code) {
        return bad("an injection needs a count > 0 and an error code between 400 and 599");
    }
    state.controls.inject_error(injection);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_errors(Extract(state): Shared) -> StatusCode {
    state.controls.clear_injections();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Object {
    namespace: String,
    name: String,
}

async fn fail_rollout(Extract(state): Shared, body: Bytes) -> Response {
    match parse::<Object>(&body) {
        Ok(o) => {
            state.controls.fail_rollout(&o.namespace, &o.name);
            state.nudge(Nudge::All);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(resp) => *resp,
    }
}

async fn fail_job(Extract(state): Shared, body: Bytes) -> Response {
    match parse::<Object>(&body) {
        Ok(o) => {
            state.controls.fail_job(&o.namespace, &o.name);
            state.nudge(Nudge::All);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(resp) => *resp,
    }
}

async fn expire_watches(Extract(state): Shared) -> StatusCode {
    state.store().expire_history();
    StatusCode::NO_CONTENT
}
