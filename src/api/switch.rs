//! One listener, two routers: while the daemon waits for the lease it answers probes and
//! refuses everything else; once it leads, the full API takes over on the same address.
//!
//! | route (standby) | answer |
//! |---|---|
//! | `GET /healthz` | 200: the process is alive |
//! | `GET /readyz` | 503: not the leader |
//! | anything else | 503 `{"error": "this daemon is waiting for the lease ..."}` |

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::{Arc, RwLock};
use tower::ServiceExt;

/// The router requests go to now. Cheap to clone.
#[derive(Clone)]
pub struct Switch {
    current: Arc<RwLock<Router>>,
}

impl Switch {
    /// Starts on the standby router.
    pub fn new() -> Switch {
        Switch { current: Arc::new(RwLock::new(standby())) }
    }

    /// Sends every later request to `router`.
    pub fn set(&self, router: Router) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = router;
    }

    /// The standby router (probes only), to switch back to when leadership ends.
    pub fn standby_router(&self) -> Router {
        standby()
    }

    /// The router to serve: it forwards each request to the current one.
    pub fn router(&self) -> Router {
        let current = self.current.clone();
        Router::new().fallback(move |request: Request| {
            let router = current.read().unwrap_or_else(|p| p.into_inner()).clone();
            async move { router.oneshot(request).await }
        })
    }
}

impl Default for Switch {
    fn default() -> Self {
        Self::new()
    }
}

fn standby() -> Router {
    let waiting = "this daemon is waiting for the lease: another one is the leader";
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|| async {
                (StatusCode::SERVICE_UNAVAILABLE, "not ready: waiting for the lease\n")
            }),
        )
        .fallback(move || async move {
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "error": waiting })))
                .into_response()
        })
}
