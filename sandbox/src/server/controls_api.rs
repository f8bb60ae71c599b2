//! The `/sandbox/...` endpoints: the same controls as [`crate::SandboxHandle`], for tests
//! and benches that only have an address. Bodies are JSON; bad input answers 400 with
//! `{"error": "..."}`; success is 204 unless a body is returned.

use crate::controls::{
    ErrorInjection, Fault, FaultAction, JobMatch, RequestMatch, WatchBreak, format_duration,
    parse_duration,
};
use crate::state::{Nudge, State, WatchSignal};
use crate::status::ApiError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State as Extract};
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
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/fail-rollout", post(fail_rollout))
        .route("/clear-fail-rollout", post(clear_fail_rollout))
        .route("/fail-job", post(fail_job))
        .route("/clear-fail-job", post(clear_fail_job))
        .route("/withhold-crd", post(withhold_crd))
        .route("/release-crd", post(release_crd))
        .route("/hold-claim", post(hold_claim))
        .route("/release-claim", post(release_claim))
        .route("/expire-watches", post(expire_watches))
        .route("/end-watches", post(end_watches))
        .route("/break-watches", post(break_watches))
        .route("/reset", post(reset))
}

/// Bad input: a 400 with `{"error": "..."}`.
struct Bad(String);

impl IntoResponse for Bad {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": self.0}))).into_response()
    }
}

fn bad(message: impl std::fmt::Display) -> Bad {
    Bad(message.to_string())
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Bad> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid body: {e}")))
}

fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct NamespaceQuery {
    namespace: Option<String>,
}

async fn requests(Extract(state): Shared, Query(q): Query<NamespaceQuery>) -> Response {
    let counts = match &q.namespace {
        Some(ns) => state.controls.request_counts_in(ns),
        None => state.controls.request_counts(),
    };
    let total: u64 = counts.iter().map(|c| c.count).sum();
    axum::Json(json!({"counts": counts, "total": total})).into_response()
}

async fn reset_requests(Extract(state): Shared) -> Response {
    state.controls.reset_request_counts();
    done()
}

async fn get_latency(Extract(state): Shared) -> Response {
    axum::Json(json!({"latency": format_duration(state.controls.latency())})).into_response()
}

#[derive(Deserialize)]
struct Latency {
    latency: String,
}

async fn set_latency(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    let req: Latency = parse(&body)?;
    state.controls.set_latency(parse_duration(&req.latency).map_err(bad)?);
    Ok(done())
}

async fn errors(Extract(state): Shared) -> Response {
    axum::Json(json!({"pending": state.controls.injections()})).into_response()
}

async fn inject(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    let injection: ErrorInjection = parse(&body)?;
    if injection.count == 0 || !(400..600).contains(&injection.code) {
        return Err(bad("an injection needs a count > 0 and an error code between 400 and 599"));
    }
    state.controls.inject_error(injection);
    Ok(done())
}

async fn clear_errors(Extract(state): Shared) -> Response {
    state.controls.clear_injections();
    done()
}

/// A fault as the endpoint reads and lists it.
#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultBody {
    #[serde(flatten)]
    matching: RequestMatch,
    count: u32,
    /// `latency`, `hang`, `drop` or `commit-then-error`.
    action: String,
    /// For `latency`: how long, e.g. `2s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency: Option<String>,
}

fn fault_of(body: FaultBody) -> Result<Fault, String> {
    if body.count == 0 {
        return Err("a fault needs a count > 0".into());
    }
    let action = match (body.action.as_str(), &body.latency) {
        ("latency", Some(d)) => FaultAction::Latency(parse_duration(d).map_err(|e| e.to_string())?),
        ("latency", None) => return Err("a latency fault needs \"latency\", e.g. \"2s\"".into()),
        ("hang", None) => FaultAction::Hang,
        ("drop", None) => FaultAction::DropConnection,
        ("commit-then-error", None) => FaultAction::CommitThenError,
        (other, None) => {
            return Err(format!(
                "unknown fault action {other:?}: expected latency, hang, drop or commit-then-error"
            ));
        }
        (_, Some(_)) => return Err("only a latency fault takes \"latency\"".into()),
    };
    Ok(Fault { matching: body.matching, count: body.count, action })
}

fn body_of(fault: Fault) -> FaultBody {
    let (action, latency) = match fault.action {
        FaultAction::Latency(d) => ("latency", Some(format_duration(d))),
        FaultAction::Hang => ("hang", None),
        FaultAction::DropConnection => ("drop", None),
        FaultAction::CommitThenError => ("commit-then-error", None),
    };
    FaultBody { matching: fault.matching, count: fault.count, action: action.into(), latency }
}

async fn faults(Extract(state): Shared) -> Response {
    let pending: Vec<FaultBody> = state.controls.faults().into_iter().map(body_of).collect();
    axum::Json(json!({"pending": pending})).into_response()
}

async fn add_fault(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    let fault = fault_of(parse(&body)?).map_err(bad)?;
    state.controls.add_fault(fault);
    Ok(done())
}

async fn clear_faults(Extract(state): Shared) -> Response {
    state.controls.clear_faults();
    done()
}

#[derive(Deserialize)]
struct Object {
    namespace: String,
    name: String,
}

/// Runs a control on `namespace/name` from the body, then nudges the controllers.
fn on_object(
    state: &State,
    body: &[u8],
    control: impl FnOnce(&str, &str),
) -> Result<Response, Bad> {
    let o: Object = parse(body)?;
    control(&o.namespace, &o.name);
    state.nudge(Nudge::All);
    Ok(done())
}

async fn fail_rollout(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    on_object(&state, &body, |ns, n| state.controls.fail_rollout(ns, n))
}

async fn clear_fail_rollout(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    on_object(&state, &body, |ns, n| state.controls.clear_rollout_failure(ns, n))
}

async fn hold_claim(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    on_object(&state, &body, |ns, n| state.controls.hold_claim(ns, n))
}

async fn release_claim(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    on_object(&state, &body, |ns, n| state.controls.release_claim(ns, n))
}

/// A Job fail mark: exactly one of `name` (with `namespace`), `namePrefix` or `label`
/// (`key=value`), the last two in `namespace` or, without it, in every namespace.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JobMark {
    namespace: Option<String>,
    name: Option<String>,
    name_prefix: Option<String>,
    label: Option<String>,
}

fn job_match(body: &[u8]) -> Result<JobMatch, Bad> {
    let m: JobMark = parse(body)?;
    let ns = m.namespace.as_deref();
    match (m.name, m.name_prefix, m.label) {
        (Some(name), None, None) => match ns {
            Some(ns) => Ok(JobMatch::name(ns, &name)),
            None => Err(bad("a Job named by \"name\" needs its \"namespace\"")),
        },
        (None, Some(prefix), None) => Ok(JobMatch::prefix(ns, &prefix)),
        (None, None, Some(label)) => match label.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(JobMatch::label(ns, k, v)),
            _ => Err(bad(format!("label {label:?} is not key=value"))),
        },
        _ => Err(bad("give exactly one of \"name\", \"namePrefix\" or \"label\"")),
    }
}

async fn fail_job(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    state.controls.fail_jobs(job_match(&body)?);
    state.nudge(Nudge::All);
    Ok(done())
}

async fn clear_fail_job(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    state.controls.clear_job_failure(&job_match(&body)?);
    state.nudge(Nudge::All);
    Ok(done())
}

#[derive(Deserialize)]
struct Crd {
    name: String,
}

async fn withhold_crd(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    state.controls.withhold_crd(&parse::<Crd>(&body)?.name);
    Ok(done())
}

async fn release_crd(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    state.controls.release_crd(&parse::<Crd>(&body)?.name);
    state.nudge(Nudge::All);
    Ok(done())
}

async fn expire_watches(Extract(state): Shared) -> Response {
    state.store().expire_history();
    done()
}

async fn end_watches(Extract(state): Shared) -> Response {
    state.signal_watches(WatchSignal::End);
    done()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Break {
    resource: Option<String>,
    namespace: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
    message: Option<String>,
}

async fn break_watches(Extract(state): Shared, body: Bytes) -> Result<Response, Bad> {
    let b: Break = if body.is_empty() { Break::default() } else { parse(&body)? };
    let code = b.code.unwrap_or(500);
    if !(400..600).contains(&code) {
        return Err(bad("the error code must be between 400 and 599"));
    }
    let message = b.message.as_deref().unwrap_or("the watch was broken by a sandbox control");
    let error = match (code, &b.reason) {
        (500, None) => ApiError::internal(message),
        _ => ApiError::injected(code, b.reason.as_deref(), Some(message)),
    };
    let rule = WatchBreak { resource: b.resource, namespace: b.namespace, error };
    state.signal_watches(WatchSignal::Break(Arc::new(rule)));
    Ok(done())
}

async fn reset(Extract(state): Shared) -> Response {
    state.controls.reset();
    state.nudge(Nudge::All);
    done()
}
