//! Test and bench controls: request counters by verb and resource, per-request latency,
//! error injection for the next N matching requests, and the rollouts and jobs a test
//! wants to fail. Shared by the library API ([`crate::SandboxHandle`]) and the
//! `/sandbox/...` endpoints.
//!
//! Owns the control state only; the server consults it on every request and the
//! controllers consult it when they compute a status.

use crate::status::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

/// A duration that is not `<number><unit>` with unit `ns`, `us`, `ms`, `s`, `m` or `h`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duration {0:?} is invalid: expected a number and a unit (ms, s, m, h), e.g. 10ms")]
pub struct DurationError(pub String);

/// Parses a Go-style duration: `10ms`, `1.5s`, `2m`, `1h30m`, `0`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = || DurationError(text.to_string());
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
        let number: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// Fail the next `count` requests matching `verb`/`resource`/`namespace`/`name` (each
/// `None` matches anything) with a `Status` of `code` (and `reason`/`message`, defaulted
/// from the code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorInjection {
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: Option<String>,
    /// Plural resource, optionally with `/subresource` (`deployments`, `deployments/status`).
    pub resource: Option<String>,
    /// Namespace of the request.
    pub namespace: Option<String>,
    /// Object name of the request.
    pub name: Option<String>,
    /// How many matching requests fail (then the injection is used up).
    pub count: u32,
    /// HTTP status code to answer with, e.g. 500, 409, 429.
    pub code: u16,
    /// `Status.reason`; defaults to the code's usual reason.
    pub reason: Option<String>,
    /// `Status.message`; defaults to `injected error (<code> <reason>)`.
    pub message: Option<String>,
}

/// One request counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCount {
    /// Kubernetes verb.
    pub verb: String,
    /// Plural resource, with `/subresource` if any.
    pub resource: String,
    /// Requests seen since the last reset.
    pub count: u64,
}

/// What a request is, for counters and injection.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// Kubernetes verb.
    pub verb: String,
    /// Plural resource, with `/subresource` if any.
    pub resource: String,
    /// Namespace ("" if none).
    pub namespace: String,
    /// Object name ("" if none).
    pub name: String,
}

#[derive(Debug, Default)]
struct Inner {
    counts: BTreeMap<(String, String), u64>,
    injections: Vec<ErrorInjection>,
    latency: Duration,
    failed_rollouts: BTreeSet<(String, String)>,
    failed_jobs: BTreeSet<(String, String)>,
}

/// The shared control state.
#[derive(Debug, Default)]
pub struct Controls {
    inner: Mutex<Inner>,
}

fn matches(want: &Option<String>, got: &str) -> bool {
    want.as_deref().is_none_or(|w| w == got)
}

impl Controls {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain counters behind; keep going.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Controls with an initial per-request latency.
    pub fn with_latency(latency: Duration) -> Self {
        let c = Self::default();
        c.lock().latency = latency;
        c
    }

    /// Counts a request and returns the latency to add and the injected error, if one
    /// matches (using up one of its count).
    pub fn on_request(&self, req: &RequestInfo) -> (Duration, Option<ApiError>) {
        let mut inner = self.lock();
        *inner.counts.entry((req.verb.clone(), req.resource.clone())).or_default() += 1;
        let latency = inner.latency;
        let hit = inner.injections.iter_mut().find(|i| {
            i.count > 0
                && matches(&i.verb, &req.verb)
                && matches(&i.resource, &req.resource)
                && matches(&i.namespace, &req.namespace)
                && matches(&i.name, &req.name)
        });
        let error = hit.map(|i| {
            i.count -= 1;
            ApiError::injected(i.code, i.reason.as_deref(), i.message.as_deref())
        });
        inner.injections.retain(|i| i.count > 0);
        (latency, error)
    }

    /// The counters, sorted by verb then resource.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.lock()
            .counts
            .iter()
            .map(|((verb, resource), count)| RequestCount {
                verb: verb.clone(),
                resource: resource.clone(),
                count: *count,
            })
            .collect()
    }

    /// One counter (0 if never seen).
    pub fn request_count(&self, verb: &str, resource: &str) -> u64 {
        self.lock().counts.get(&(verb.to_string(), resource.to_string())).copied().unwrap_or(0)
    }

    /// Resets every counter to zero.
    pub fn reset_request_counts(&self) {
        self.lock().counts.clear();
    }

    /// Sets the latency added to every API request.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// The latency added to every API request.
    pub fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Adds an error injection.
    pub fn inject_error(&self, injection: ErrorInjection) {
        if injection.count > 0 {
            self.lock().injections.push(injection);
        }
    }

    /// Drops every pending error injection.
    pub fn clear_injections(&self) {
        self.lock().injections.clear();
    }

    /// The pending injections.
    pub fn injections(&self) -> Vec<ErrorInjection> {
        self.lock().injections.clone()
    }

    /// Marks the rollout of the workload `namespace/name` as failing.
    pub fn fail_rollout(&self, namespace: &str, name: &str) {
        self.lock().failed_rollouts.insert((namespace.to_string(), name.to_string()));
    }

    /// Whether the workload `namespace/name` was marked as failing.
    pub fn rollout_fails(&self, namespace: &str, name: &str) -> bool {
        self.lock().failed_rollouts.contains(&(namespace.to_string(), name.to_string()))
    }

    /// Marks the Job `namespace/name` as failing.
    pub fn fail_job(&self, namespace: &str, name: &str) {
        self.lock().failed_jobs.insert((namespace.to_string(), name.to_string()));
    }

    /// Whether the Job `namespace/name` was marked as failing.
    pub fn job_fails(&self, namespace: &str, name: &str) -> bool {
        self.lock().failed_jobs.contains(&(namespace.to_string(), name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn injections_are_used_up_and_counters_count() {
        let c = Controls::default();
        c.inject_error(ErrorInjection {
            verb: Some("patch".into()),
            resource: Some("deployments".into()),
            count: 2,
            code: 500,
            ..Default::default()
        });
        let patch = RequestInfo {
            verb: "patch".into(),
            resource: "deployments".into(),
            ..Default::default()
        };
        let get = RequestInfo {
            verb: "get".into(),
            resource: "deployments".into(),
            ..Default::default()
        };
        assert!(c.on_request(&get).1.is_none());
        let e = c.on_request(&patch).1.unwrap();
        assert_eq!((e.code, e.reason.as_str()), (500, "InternalError"));
        assert!(c.on_request(&patch).1.is_some());
        assert!(c.on_request(&patch).1.is_none());
        assert_eq!(c.request_count("patch", "deployments"), 3);
        assert_eq!(c.request_counts().len(), 2);
        c.reset_request_counts();
        assert_eq!(c.request_count("patch", "deployments"), 0);
    }
}
