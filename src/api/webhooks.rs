//! Webhook endpoints: `POST /webhooks/{github,gitlab,gitea,generic}`.
//!
//! A request is authenticated first: GitHub (`X-Hub-Signature-256: sha256=<hex>`), Gitea
//! (`X-Gitea-Signature: <hex>`) and the generic route (`X-Cetus-Signature: sha256=<hex>`)
//! sign the body with HMAC-SHA256; GitLab sends the secret itself in `X-Gitlab-Token`. Both
//! are compared in constant time. A verified push for a followed repository and branch sends
//! one [`RepoTrigger`] on the coalescing [`TriggerSender`]; the daemon consumes it.
//!
//! Answers, all JSON (errors are `{"error": "..."}`):
//!
//! | case | status |
//! |---|---|
//! | push for a followed repository and branch | 202 `{"status":"queued",...}` |
//! | push for another repository or branch, a tag, another event | 202 `{"status":"ignored","reason":...}` |
//! | GitHub `ping` | 200 `{"status":"pong"}` |
//! | body over the limit (5 MiB) | 413 |
//! | signature/token missing, malformed or wrong | 401 |
//! | no secret configured for the provider | 403 (and a warning when the router is built) |
//! | verified but unparsable payload, missing event header | 400 |
//! | the trigger receiver is gone (shutting down) | 503 |
//! | another method | 405 |
//!
//! Repository URLs match by [`RepoKey`](crate::source::RepoKey): scheme, user, port, a
//! trailing `.git` and case are ignored, so a GitHub payload's `clone_url`, `ssh_url` or
//! `html_url` all match `https://github.com/acme/config.git` as configured.
//!
//! Forges must send JSON (`application/json`; GitHub's form encoding is not supported). A push
//! that deletes the branch triggers too, with no commit: the fetch then reports the branch
//! gone.
//!
//! This module does not fetch, and knows nothing of apps.

mod metrics;
mod payload;

pub use metrics::{Outcome, Provider, WebhookMetrics};
pub use payload::AuthError;
pub(crate) use payload::token_matches;

use crate::source::same_repo;
use crate::source::trigger::{RepoTrigger, TriggerOrigin, TriggerSender};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use payload::Event;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// The default body limit, 5 MiB. Push payloads come near it only for pushes of thousands of
/// commits (GitHub caps deliveries at 25 MB); such a push is refused with 413 and picked up
/// by the next poll.
pub const DEFAULT_MAX_BODY: usize = 5 * 1024 * 1024;

/// A webhook secret. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// Reads a secret file, without surrounding whitespace (files usually end in a newline).
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        Ok(Self(std::fs::read_to_string(path)?.trim().as_bytes().to_vec()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secret of each provider; a provider without one refuses every request.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    /// For `/webhooks/github`.
    pub github: Option<Secret>,
    /// For `/webhooks/gitlab`.
    pub gitlab: Option<Secret>,
    /// For `/webhooks/gitea`.
    pub gitea: Option<Secret>,
    /// For `/webhooks/generic`.
    pub generic: Option<Secret>,
}

impl WebhookSecrets {
    /// The same secret for every provider (the daemon's single `webhook.secretFile`).
    pub fn all(secret: Secret) -> Self {
        Self {
            github: Some(secret.clone()),
            gitlab: Some(secret.clone()),
            gitea: Some(secret.clone()),
            generic: Some(secret),
        }
    }

    fn get(&self, provider: Provider) -> Option<&Secret> {
        match provider {
            Provider::Github => self.github.as_ref(),
            Provider::Gitlab => self.gitlab.as_ref(),
            Provider::Gitea => self.gitea.as_ref(),
            Provider::Generic => self.generic.as_ref(),
        }
    }
}

/// A repository and branch the daemon follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedRepo {
    /// The URL as configured; triggers carry it, whatever form the payload used.
    pub url: String,
    /// The branch followed.
    pub branch: String,
}

/// Configuration of the webhook routes.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Secrets per provider.
    pub secrets: WebhookSecrets,
    /// What pushes trigger a fetch.
    pub repos: Vec<FollowedRepo>,
    /// Bodies larger than this are refused with 413.
    pub max_body: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { secrets: WebhookSecrets::default(), repos: Vec::new(), max_body: DEFAULT_MAX_BODY }
    }
}

struct Shared {
    config: WebhookConfig,
    triggers: TriggerSender,
    metrics: Arc<WebhookMetrics>,
}

/// Builds the webhook routes, to be merged into the daemon's router. Logs a warning for each
/// provider without a secret, whose route will answer 403.
pub fn router(
    config: WebhookConfig,
    triggers: TriggerSender,
    metrics: Arc<WebhookMetrics>,
) -> Router {
    for provider in Provider::ALL {
        if config.secrets.get(provider).is_none() {
            tracing::warn!(
                provider = provider.as_str(),
                "no webhook secret configured; /webhooks/{} will refuse every request with 403",
                provider.as_str()
            );
        }
    }
    let max_body = config.max_body;
    let shared = Arc::new(Shared { config, triggers, metrics });
    let mut router = Router::new();
    for provider in Provider::ALL {
        let route = post(move |State(s): State<Arc<Shared>>, request: Request| {
            handle(s, provider, request)
        })
        .fallback(|| async { error(StatusCode::METHOD_NOT_ALLOWED, "webhooks accept POST only") });
        router = router.route(&format!("/webhooks/{}", provider.as_str()), route);
    }
    router.layer(DefaultBodyLimit::max(max_body)).with_state(shared)
}

async fn handle(shared: Arc<Shared>, provider: Provider, request: Request) -> Response {
    let (outcome, response) = answer(&shared, provider, request).await;
    shared.metrics.record(provider, outcome);
    tracing::debug!(provider = provider.as_str(), result = outcome.as_str(), "webhook");
    response
}

async fn answer(shared: &Shared, provider: Provider, request: Request) -> (Outcome, Response) {
    let name = provider.as_str();
    let Some(secret) = shared.config.secrets.get(provider) else {
        let msg =
            format!("{name} webhook: no secret configured; unverifiable webhooks are refused");
        return (Outcome::Forbidden, error(StatusCode::FORBIDDEN, &msg));
    };
    let too_large = || {
        let msg = format!("{name} webhook: body exceeds {} bytes", shared.config.max_body);
        (Outcome::TooLarge, error(StatusCode::PAYLOAD_TOO_LARGE, &msg))
    };
    // Refuse a declared oversize body before reading any of it.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > shared.config.max_body) {
        return too_large();
    }
    let headers = request.headers().clone();
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large();
        }
        Err(rejection) => {
            let msg = format!("{name} webhook: cannot read body: {}", rejection.body_text());
            return (Outcome::BadRequest, error(StatusCode::BAD_REQUEST, &msg));
        }
    };
    if let Err(e) = payload::verify(provider, &headers, &body, &secret.0) {
        return (
            Outcome::Unauthorized,
            error(StatusCode::UNAUTHORIZED, &format!("{name} webhook: {e}")),
        );
    }
    match payload::event(provider, &headers) {
        Err(header) => {
            let msg = format!("{name} webhook: missing {header} header");
            (Outcome::BadRequest, error(StatusCode::BAD_REQUEST, &msg))
        }
        Ok(Event::Ping) => {
            (Outcome::Ping, (StatusCode::OK, axum::Json(json!({"status": "pong"}))).into_response())
        }
        Ok(Event::Other(event)) => ignored(format!("{event} events are not pushes")),
        Ok(Event::Push) => push(shared, provider, &body),
    }
}

fn push(shared: &Shared, provider: Provider, body: &[u8]) -> (Outcome, Response) {
    let name = provider.as_str();
    let push = match payload::parse_push(provider, body) {
        Ok(push) => push,
        Err(e) => {
            let msg = format!("{name} webhook: invalid push payload: {e}");
            return (Outcome::BadRequest, error(StatusCode::BAD_REQUEST, &msg));
        }
    };
    let Some(branch) = push.git_ref.strip_prefix("refs/heads/") else {
        return ignored(format!("{} is not a branch", push.git_ref));
    };
    let ours = |repo: &&FollowedRepo| push.urls.iter().any(|u| same_repo(u, &repo.url));
    let mut candidates = shared.config.repos.iter().filter(ours).peekable();
    let Some(first) = candidates.peek().copied() else {
        let shown = push.urls.first().map_or("(no repository URL)", String::as_str);
        return ignored(format!("repository {shown} is not followed"));
    };
    let Some(followed) = candidates.find(|r| r.branch == branch) else {
        return ignored(format!("branch {branch} is not followed (following {})", first.branch));
    };
    let trigger = RepoTrigger {
        repo: followed.url.clone(),
        branch: followed.branch.clone(),
        commit: push.commit.clone(),
        origin: TriggerOrigin::Webhook(name),
    };
    match shared.triggers.send(trigger) {
        Ok(sent) => {
            tracing::info!(provider = name, repo = %followed.url, branch, commit = ?push.commit, ?sent, "webhook push queued");
            let body = json!({"status": "queued", "repo": followed.url, "branch": branch, "commit": push.commit});
            (Outcome::Accepted, (StatusCode::ACCEPTED, axum::Json(body)).into_response())
        }
        Err(_) => {
            let msg = format!("{name} webhook: not accepting triggers (shutting down)");
            (Outcome::Unavailable, error(StatusCode::SERVICE_UNAVAILABLE, &msg))
        }
    }
}

fn ignored(reason: String) -> (Outcome, Response) {
    (
        Outcome::Ignored,
        (StatusCode::ACCEPTED, axum::Json(json!({"status": "ignored", "reason": reason})))
            .into_response(),
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}
