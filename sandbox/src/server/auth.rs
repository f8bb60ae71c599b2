//! Bearer tokens. While any token is set, every request but the `/sandbox/...` controls must
//! carry `Authorization: Bearer <one of them>`; any other request is answered 401 with the
//! `Unauthorized` Status kube-apiserver sends (as it does with anonymous access off). More
//! than one token can be accepted at once, as during a service account token's rotation,
//! and each one's uses are counted, so a test can see when a client moved to the new one.
//!
//! Owns the accepted tokens, the check and the `/sandbox/tokens` control; not the controls'
//! own routes, which stay open, as the other test controls do.

use crate::status::ApiError;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The tokens the server accepts, and how often each was used.
#[derive(Debug, Default)]
pub struct Tokens {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Empty: no check.
    accepted: Vec<String>,
    uses: BTreeMap<String, u64>,
    rejected: u64,
}

impl Tokens {
    /// Accepts `token`, or every request when `None`.
    pub fn new(token: Option<String>) -> Self {
        let tokens = Self::default();
        tokens.set(token.into_iter().collect());
        tokens
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The counters stay meaningful after a panic elsewhere: take them as they are.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Accepts exactly these tokens from now on; none turns the check off.
    pub fn set(&self, tokens: Vec<String>) {
        self.lock().accepted = tokens;
    }

    /// The tokens accepted now, in the order they were set.
    pub fn accepted(&self) -> Vec<String> {
        self.lock().accepted.clone()
    }

    /// How many requests carried `token` and were let through.
    pub fn uses(&self, token: &str) -> u64 {
        self.lock().uses.get(token).copied().unwrap_or(0)
    }

    /// How many requests were answered 401.
    pub fn rejected(&self) -> u64 {
        self.lock().rejected
    }

    /// Whether a request with this `Authorization` header may pass; counts it either way.
    fn admit(&self, authorization: Option<&HeaderValue>) -> bool {
        let mut inner = self.lock();
        if inner.accepted.is_empty() {
            return true;
        }
        // As kube-apiserver reads it: the scheme in any case, then the token.
        let presented = authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        // A test server's tokens: a plain comparison is enough.
        match presented.filter(|t| inner.accepted.iter().any(|a| a == t)) {
            Some(token) => {
                *inner.uses.entry(token.to_string()).or_default() += 1;
                true
            }
            None => {
                inner.rejected += 1;
                false
            }
        }
    }

    fn report(&self) -> Value {
        let inner = self.lock();
        json!({"tokens": inner.accepted, "uses": inner.uses, "rejected": inner.rejected})
    }
}

/// `app` behind the token check, with the `/sandbox/tokens` control added.
pub fn guard(app: Router, tokens: Arc<Tokens>) -> Router {
    let control =
        Router::new().route("/sandbox/tokens", get(report).put(replace)).with_state(tokens.clone());
    app.merge(control).layer(middleware::from_fn_with_state(tokens, check))
}

async fn check(State(tokens): State<Arc<Tokens>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/sandbox/")
        || tokens.admit(req.headers().get(header::AUTHORIZATION))
    {
        return next.run(req).await;
    }
    unauthorized()
}

/// 401 as kube-apiserver words it.
fn unauthorized() -> Response {
    let error = ApiError {
        code: 401,
        reason: "Unauthorized".into(),
        message: "Unauthorized".into(),
        details: None,
    };
    let mut resp = Response::new(Body::from(error.to_status().to_string()));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

async fn report(State(tokens): State<Arc<Tokens>>) -> Response {
    axum::Json(tokens.report()).into_response()
}

/// `PUT /sandbox/tokens {"tokens": ["a", "b"]}`.
async fn replace(State(tokens): State<Arc<Tokens>>, body: axum::body::Bytes) -> Response {
    let parsed: Result<Vec<String>, String> =
        serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string()).and_then(|v| {
            serde_json::from_value(v.get("tokens").cloned().unwrap_or(Value::Null))
                .map_err(|e| format!("tokens: {e}"))
        });
    match parsed {
        Ok(list) if list.iter().any(|t| t.trim().is_empty() || t.trim() != t) => bad_request(
            "tokens: a token must not be empty nor start or end with white space".into(),
        ),
        Ok(list) => {
            tokens.set(list);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(e),
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": message}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap()
    }

    #[test]
    fn only_accepted_tokens_pass_and_each_use_is_counted() {
        let tokens = Tokens::new(Some("old".into()));
        assert!(tokens.admit(Some(&bearer("old"))));
        assert!(!tokens.admit(Some(&bearer("new"))));
        assert!(!tokens.admit(None));
        assert!(!tokens.admit(Some(&HeaderValue::from_static("Basic b2xkOg=="))));
        assert!(!tokens.admit(Some(&HeaderValue::from_static("Bearer"))));
        assert!(tokens.admit(Some(&HeaderValue::from_static("bearer old"))));
        tokens.set(vec!["old".into(), "new".into()]);
        assert!(tokens.admit(Some(&bearer("new"))));
        assert!(tokens.admit(Some(&bearer("old"))));
        tokens.set(vec!["new".into()]);
        assert!(!tokens.admit(Some(&bearer("old"))));
        assert_eq!((tokens.uses("old"), tokens.uses("new"), tokens.rejected()), (3, 1, 5));
        assert_eq!(tokens.accepted(), ["new"]);
    }

    #[test]
    fn without_tokens_everything_passes() {
        let tokens = Tokens::new(None);
        assert!(tokens.admit(None));
        assert!(tokens.admit(Some(&bearer("anything"))));
        assert_eq!(tokens.rejected(), 0);
    }
}
