//! The engine's requests to the API server: server-side apply (for real or dry-run), get,
//! delete and list, each with a deadline and retries.
//!
//! This is the only place the engine talks to the API server about objects (the cache watches;
//! discovery discovers). Transient failures — a 429, a 5xx, a dropped connection, a request
//! that does not answer in time — are retried with capped exponential backoff (backon, the
//! crate kube-runtime uses); anything else fails at once. Applies are idempotent, so retrying
//! one whose first attempt was committed but answered with an error is safe.

use super::discovery::Resolved;
use backon::{ExponentialBuilder, Retryable};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// How the engine's requests behave.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// The field manager of server-side apply.
    pub field_manager: String,
    /// How long one request may take before it counts as failed (and is retried).
    pub timeout: Duration,
    /// How many times a transient failure is retried.
    pub retries: usize,
    /// The first retry's delay; later ones double, up to 5 s.
    pub backoff: Duration,
}

impl Default for RequestOptions {
    fn default() -> Self {
        Self {
            field_manager: "cetus".into(),
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// A request that failed, after its retries.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The API server answered with an error `Status`.
    #[error("{code} {reason}: {message}")]
    Status {
        /// HTTP code.
        code: u16,
        /// `Status.reason`.
        reason: String,
        /// `Status.message`.
        message: String,
        /// `Status.details.causes`, as (reason, message, field).
        causes: Vec<(String, String, String)>,
    },
    /// No answer within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The request could not be made or its answer not read.
    #[error("request failed")]
    Transport(#[source] kube::Error),
}

impl RequestError {
    fn from_kube(error: kube::Error) -> RequestError {
        match error {
            kube::Error::Api(status) => RequestError::Status {
                code: status.code,
                causes: status
                    .details
                    .iter()
                    .flat_map(|d| &d.causes)
                    .map(|c| (c.reason.clone(), c.message.clone(), c.field.clone()))
                    .collect(),
                reason: status.reason,
                message: status.message,
            },
            other => RequestError::Transport(other),
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            RequestError::Status { code, .. } => *code == 429 || *code >= 500,
            RequestError::Timeout(_) | RequestError::Transport(_) => true,
        }
    }

    /// Whether the server said the object is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RequestError::Status { code: 404, .. })
    }

    /// Whether the server said the object's namespace does not exist.
    pub fn is_missing_namespace(&self) -> bool {
        matches!(self, RequestError::Status { code: 404, message, .. } if message.starts_with("namespaces \""))
    }

    /// The whole chain, for a change set line (`request failed: ...: connection refused`).
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// The answer to an apply.
#[derive(Debug, Clone)]
pub struct ApplyAnswer {
    /// The object as the server holds it (or would, for a dry run).
    pub object: Value,
    /// Fields Cetus took from other managers (`kubectl-edit: .spec.replicas`).
    pub overrode: Vec<String>,
}

/// Makes requests for the engine.
#[derive(Clone)]
pub struct Requests {
    client: kube::Client,
    options: RequestOptions,
}

impl fmt::Debug for Requests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requests").field("options", &self.options).finish()
    }
}

impl Requests {
    /// Requests through `client`.
    pub fn new(client: kube::Client, options: RequestOptions) -> Requests {
        Requests { client, options }
    }

    /// The options.
    pub fn options(&self) -> &RequestOptions {
        &self.options
    }

    fn api(&self, resolved: &Resolved, namespace: &str) -> Api<DynamicObject> {
        if resolved.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resolved.resource)
        } else {
            Api::all_with(self.client.clone(), &resolved.resource)
        }
    }

    /// Runs `attempt` with the deadline and retries.
    async fn retried<T, F, Fut>(&self, attempt: F) -> Result<T, RequestError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.backoff)
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.options.retries)
            .with_jitter();
        attempt.retry(backoff).when(RequestError::is_transient).await
    }

    async fn timed<T>(
        &self,
        request: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, RequestError> {
        match tokio::time::timeout(self.options.timeout, request).await {
            Ok(answer) => answer.map_err(RequestError::from_kube),
            Err(_) => Err(RequestError::Timeout(self.options.timeout)),
        }
    }

    /// Reads one object; `None` if it does not exist.
    pub async fn get(
        &self,
        resolved: &Resolved,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, RequestError> {
        let api = self.api(resolved, namespace);
        let object = self.retried(|| async { self.timed(api.get_opt(name)).await }).await?;
        Ok(object.map(to_value))
    }

    /// Server-side applies `manifest`. Without conflicts this is one request; when another
    /// manager owns a field Cetus sets, the apply is repeated with `force` and the takeover is
    /// reported, so that the result is that of `force=true` and the user learns whom it
    /// overrode.
    pub async fn apply(
        &self,
        resolved: &Resolved,
        manifest: &Value,
        dry_run: bool,
    ) -> Result<ApplyAnswer, RequestError> {
        let namespace = text(manifest, "/metadata/namespace");
        let name = text(manifest, "/metadata/name");
        let api = self.api(resolved, namespace);
        let mut params = PatchParams::apply(&self.options.field_manager);
        params.dry_run = dry_run;
        let patch = Patch::Apply(manifest);
        let gentle = self.retried(|| async { self.timed(api.patch(name, &params, &patch)).await });
        let overrode = match gentle.await {
            Ok(object) => {
                return Ok(ApplyAnswer { object: to_value(object), overrode: Vec::new() });
            }
            Err(RequestError::Status { code: 409, causes, .. }) => conflicts(&causes),
            Err(other) => return Err(other),
        };
        let forced = params.force();
        let object =
            self.retried(|| async { self.timed(api.patch(name, &forced, &patch)).await }).await?;
        Ok(ApplyAnswer { object: to_value(object), overrode })
    }

    /// Deletes one object (in the background, as kubectl does), only if it is still the
    /// version that was checked: its uid and resourceVersion are preconditions, so a change
    /// in between fails the delete (409) instead of deleting what was not checked. Returns
    /// `false` if it was already gone.
    pub async fn delete(
        &self,
        resolved: &Resolved,
        namespace: &str,
        name: &str,
        uid: &str,
        resource_version: &str,
    ) -> Result<bool, RequestError> {
        let api = self.api(resolved, namespace);
        let preconditions = Preconditions {
            uid: Some(uid.to_string()),
            resource_version: Some(resource_version.to_string()),
        };
        let params =
            DeleteParams { preconditions: Some(preconditions), ..DeleteParams::background() };
        let deleted = self.retried(|| async { self.timed(api.delete(name, &params)).await }).await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Lists the objects of a kind in every namespace that match a label selector.
    pub async fn list(
        &self,
        resolved: &Resolved,
        selector: &str,
    ) -> Result<Vec<Value>, RequestError> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resolved.resource);
        let params = ListParams::default().labels(selector);
        let list = self.retried(|| async { self.timed(api.list(&params)).await }).await?;
        Ok(list.items.into_iter().map(to_value).collect())
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// A `DynamicObject` as plain JSON (it serializes without loss).
pub fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// The managers and fields of a 409 apply conflict, one line per manager, from the causes
/// (`FieldManagerConflict`, message `conflict with "kubectl-edit" using apps/v1`, field
/// `.spec.replicas`): `kubectl-edit: .spec.replicas, .spec.paused`.
fn conflicts(causes: &[(String, String, String)]) -> Vec<String> {
    let mut by_manager: Vec<(String, Vec<String>)> = Vec::new();
    for (_, message, field) in causes {
        let manager = message.split('"').nth(1).unwrap_or(message).to_string();
        match by_manager.iter_mut().find(|(m, _)| *m == manager) {
            Some((_, fields)) => fields.push(field.clone()),
            None => by_manager.push((manager, vec![field.clone()])),
        }
    }
    by_manager.into_iter().map(|(m, fields)| format!("{m}: {}", fields.join(", "))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_grouped_by_manager() {
        let cause = |manager: &str, field: &str| {
            (
                "FieldManagerConflict".to_string(),
                format!("conflict with \"{manager}\" using apps/v1"),
                field.to_string(),
            )
        };
        let causes = [
            cause("kubectl-edit", ".spec.replicas"),
            cause("helm", ".metadata.labels.tier"),
            cause("kubectl-edit", ".spec.paused"),
        ];
        assert_eq!(
            conflicts(&causes),
            ["kubectl-edit: .spec.replicas, .spec.paused", "helm: .metadata.labels.tier"]
        );
    }
}
