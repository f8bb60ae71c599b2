//! HTTP: the axum router, discovery and openapi endpoints, the resource handler that turns
//! a request into a verb call (counting it, adding latency, injecting errors), and the
//! rendering of replies and `Status` errors.
//!
//! Owns the wire: paths, headers, status codes. The verbs own the semantics.

pub mod auth;
mod conn;
mod controls_api;
pub mod path;
pub mod request;
pub mod tls;

use crate::controls::{FaultAction, RequestInfo};
use crate::discovery;
use crate::state::State;
use crate::status::ApiError;
use crate::verbs::{self, Call, Reply};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
pub use conn::{Cut, CuttableListener};
use path::Route;
use serde_json::Value;
use std::sync::Arc;

type Shared = Extract<Arc<State>>;

/// The largest request body accepted: kube-apiserver's default (`--max-request-bytes`,
/// 3 MiB), which large CRDs come close to.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The whole API server.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok))
        .route("/readyz", get(ok))
        .route("/livez", get(ok))
        .route("/api", get(api_root))
        .route("/apis", get(apis_root))
        .route("/openapi/v2", get(openapi_v2))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/{*path}", get(openapi_doc))
        .nest("/sandbox", controls_api::router())
        .fallback(resource)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), latency))
        .with_state(state)
}

/// A JSON response.
pub fn json_bytes(code: u16, body: Vec<u8>, content_type: &str, warnings: &[String]) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/json")),
    );
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {w:?}")) {
            headers.append(header::WARNING, v);
        }
    }
    resp
}

/// A JSON value response.
pub fn json(code: u16, body: &Value) -> Response {
    json_bytes(code, serde_json::to_vec(body).unwrap_or_default(), "application/json", &[])
}

/// A `Status` error response.
pub fn error(e: &ApiError) -> Response {
    json(e.code, &e.to_status())
}

async fn latency(Extract(state): Shared, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/sandbox") {
        let delay = state.controls.latency();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    next.run(req).await
}

async fn ok() -> &'static str {
    "ok"
}

async fn version() -> Response {
    json(200, &discovery::version())
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

fn aggregated(body: &Value) -> Response {
    let mut resp = json_bytes(
        200,
        serde_json::to_vec(body).unwrap_or_default(),
        discovery::AGGREGATED_CONTENT_TYPE,
        &[],
    );
    resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

async fn api_root(Extract(state): Shared, headers: HeaderMap) -> Response {
    if request::wants_aggregated_discovery(accept(&headers)) {
        return aggregated(&discovery::aggregated(&state.registry(), true));
    }
    json(200, &discovery::api_versions(&state.address))
}

async fn apis_root(Extract(state): Shared, headers: HeaderMap) -> Response {
    if request::wants_aggregated_discovery(accept(&headers)) {
        return aggregated(&discovery::aggregated(&state.registry(), false));
    }
    json(200, &discovery::api_group_list(&state.registry()))
}

async fn openapi_v2(headers: HeaderMap) -> Response {
    if accept(&headers).is_some_and(|a| a.contains("protobuf")) {
        return json_bytes(200, crate::openapi_v2::protobuf(), crate::openapi_v2::PROTOBUF, &[]);
    }
    json(200, &crate::openapi_v2::json())
}

async fn openapi_index(Extract(state): Shared) -> Response {
    let registry = state.registry().clone();
    json(200, &state.openapi().index(&registry))
}

async fn openapi_doc(Extract(state): Shared, uri: Uri) -> Response {
    let registry = state.registry().clone();
    let path = uri.path().trim_start_matches("/openapi/v3/");
    match state.openapi().get(&registry, path) {
        Some(doc) => json_bytes(200, doc.as_ref().clone(), "application/json", &[]),
        None => error(&ApiError::no_route()),
    }
}

async fn resource(
    Extract(state): Shared,
    ConnectInfo(cut): ConnectInfo<Cut>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = path::parse(uri.path(), &state.registry());
    match route {
        Err(_) if uri.path().starts_with("/api") => error(&ApiError::no_route()),
        Err(_) => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
        Ok(Route::ResourceList { group, version }) => {
            json(200, &discovery::resource_list(&state.registry(), &group, &version))
        }
        Ok(Route::Group(g)) => match discovery::group(&state.registry(), &g) {
            Some(doc) => json(200, &doc),
            None => error(&ApiError::no_route()),
        },
        Ok(Route::Resource(target)) => {
            match handle(state, &cut, method, uri, headers, body, target).await {
                Ok(resp) => resp,
                Err(e) => error(&e),
            }
        }
    }
}

/// What a hanging request waits for: the sandbox shutting down (the client giving up drops
/// the request before that).
async fn hang(state: &State) -> ApiError {
    let mut shutdown = state.shutdown.clone();
    // Either way the server is going away.
    let _ = shutdown.wait_for(|s| *s).await;
    ApiError::injected(503, None, Some("the sandbox is shutting down"))
}

/// A request the controls let through, or what they answer instead.
async fn handle(
    state: Arc<State>,
    cut: &Cut,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    target: verbs::Target,
) -> Result<Response, ApiError> {
    let query = verbs::Params::parse(uri.query())?;
    let verb = verbs::verb_of(&method, &target, &query);
    // kube-apiserver's RequestInfo files a Namespace object under its own name.
    let is_namespace = target.info.group.is_empty() && target.info.plural == "namespaces";
    let namespace = match (&target.namespace, &target.name) {
        (None, Some(name)) if is_namespace && !target.info.custom => name.clone(),
        (ns, _) => ns.clone().unwrap_or_default(),
    };
    let info = RequestInfo {
        verb: verb.to_string(),
        resource: target.resource_label(),
        namespace,
        name: target.name.clone().unwrap_or_default(),
    };
    let plan = state.controls.on_request(&info);
    tracing::debug!(verb, resource = %info.resource, namespace = %info.namespace, name = %info.name, "request");
    if !plan.extra_latency.is_zero() {
        tokio::time::sleep(plan.extra_latency).await;
    }
    if let Some(e) = plan.error {
        return Err(e);
    }
    match plan.fault {
        Some(FaultAction::Hang) => return Err(hang(&state).await),
        Some(FaultAction::DropConnection) => {
            cut.cut();
            // Never written: the cut connection fails the write and is dropped.
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        _ => {}
    }
    let reply = serve(state, query, headers, body, target, verb).await?;
    if plan.fault == Some(FaultAction::CommitThenError) {
        // The request did its work; only its answer is lost.
        drop(reply);
        return Err(ApiError::internal(
            "the sandbox was told to fail this request after serving it",
        ));
    }
    Ok(reply)
}

/// Serves a resource request: decodes it and runs the verb.
async fn serve(
    state: Arc<State>,
    query: verbs::Params,
    headers: HeaderMap,
    body: Bytes,
    target: verbs::Target,
    verb: &'static str,
) -> Result<Response, ApiError> {
    let repr = request::negotiate(accept(&headers))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let call = Call { state, target, query, repr, content_type, body, user_agent };
    Ok(match verbs::dispatch(call, verb).await? {
        Reply::Json { code, body, warnings } => json_bytes(
            code,
            serde_json::to_vec(&body).unwrap_or_default(),
            "application/json",
            &warnings,
        ),
        Reply::Object { code, object, warnings } => json_bytes(
            code,
            serde_json::to_vec(object.as_ref()).unwrap_or_default(),
            "application/json",
            &warnings,
        ),
        Reply::Bytes { code, body } => json_bytes(code, body, "application/json", &[]),
        Reply::Stream(body) => {
            let mut resp = Response::new(body);
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp
        }
    })
}
