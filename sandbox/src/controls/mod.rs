//! Test and bench controls: request counters (by verb, resource and namespace), per-request
//! latency, error injection and request faults for the next N matching requests, the
//! rollouts, Jobs, CRDs and claims a test wants to fail or hold back, and the reset of all
//! of them. Shared by the library API ([`crate::SandboxHandle`]) and the `/sandbox/...`
//! endpoints.
//!
//! Owns the control state only: the server consults it on every request, the controllers
//! when they compute a status. Ending and breaking watches is the server's (a signal on
//! [`crate::state::State`]), since no state is kept for it.

mod duration;
mod marks;

pub use duration::{DurationError, format_duration, parse_duration};
pub use marks::JobMatch;

use crate::status::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

/// Which requests a fault or an injection applies to: each field left `None` matches
/// anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestMatch {
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// Plural resource, optionally with `/subresource` (`deployments`, `deployments/status`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Namespace of the request (a Namespace object's own name for `namespaces/NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RequestMatch {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only requests of this verb.
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(verb.into());
        self
    }

    /// Only requests for this resource (`deployments`, `deployments/status`).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Only requests in this namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Only requests for the object of this name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether a request is matched.
    pub fn matches(&self, req: &RequestInfo) -> bool {
        let ok = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
        ok(&self.verb, &req.verb)
            && ok(&self.resource, &req.resource)
            && ok(&self.namespace, &req.namespace)
            && ok(&self.name, &req.name)
    }
}

/// Fail the next `count` requests matching `verb`/`resource`/`namespace`/`name` (each
/// `None` matches anything) with a `Status` of `code` (and `reason`/`message`, defaulted
/// from the code). Nothing is committed.
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

impl ErrorInjection {
    fn matching(&self) -> RequestMatch {
        RequestMatch {
            verb: self.verb.clone(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// What a request fault does to the request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// The request is served after this extra delay.
    Latency(Duration),
    /// No answer at all: the connection stays open until the client gives up (or the
    /// sandbox shuts down). Nothing is committed.
    Hang,
    /// The connection is closed without an answer. Nothing is committed.
    DropConnection,
    /// The request is served (a write is committed, a watch event emitted), but the client
    /// gets `500 InternalError` instead of the answer, as when a server fails after its
    /// storage write.
    CommitThenError,
}

/// A fault for the next `count` requests that `matching` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which requests.
    pub matching: RequestMatch,
    /// How many of them (then the fault is used up).
    pub count: u32,
    /// What happens to each.
    pub action: FaultAction,
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

/// What a request is, for counters, injection and faults.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// Kubernetes verb.
    pub verb: String,
    /// Plural resource, with `/subresource` if any.
    pub resource: String,
    /// Namespace ("" if none; a Namespace object's own name for `namespaces/NAME`, as
    /// kube-apiserver's RequestInfo has it).
    pub namespace: String,
    /// Object name ("" if none).
    pub name: String,
}

/// What the server does with one request, as the controls decided.
#[derive(Debug, Default)]
pub struct RequestPlan {
    /// Latency to add before serving (the global latency is added by the server itself).
    pub extra_latency: Duration,
    /// The error to answer with instead of serving it.
    pub error: Option<ApiError>,
    /// A fault other than latency.
    pub fault: Option<FaultAction>,
}

#[derive(Debug, Default)]
struct Inner {
    counts: BTreeMap<(String, String, String), u64>,
    injections: Vec<ErrorInjection>,
    faults: Vec<Fault>,
    latency: Duration,
    initial_latency: Duration,
    failed_rollouts: BTreeSet<(String, String)>,
    failed_jobs: Vec<JobMatch>,
    withheld_crds: BTreeSet<String>,
    held_claims: BTreeSet<(String, String)>,
}

/// The shared control state.
#[derive(Debug, Default)]
pub struct Controls {
    inner: Mutex<Inner>,
}

fn pair(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_string(), name.to_string())
}

impl Controls {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain counters behind; keep going.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Controls with an initial per-request latency (also what [`Controls::reset`] restores).
    pub fn with_latency(latency: Duration) -> Self {
        let c = Self::default();
        c.lock().latency = latency;
        c.lock().initial_latency = latency;
        c
    }

    /// Counts a request and decides what happens to it: an injected error (which wins),
    /// else the first matching fault, each using up one of its count.
    pub fn on_request(&self, req: &RequestInfo) -> RequestPlan {
        let mut inner = self.lock();
        let key = (req.verb.clone(), req.resource.clone(), req.namespace.clone());
        *inner.counts.entry(key).or_default() += 1;
        let mut plan = RequestPlan::default();
        let hit = inner.injections.iter_mut().find(|i| i.count > 0 && i.matching().matches(req));
        if let Some(i) = hit {
            i.count -= 1;
            plan.error =
                Some(ApiError::injected(i.code, i.reason.as_deref(), i.message.as_deref()));
        } else if let Some(f) =
            inner.faults.iter_mut().find(|f| f.count > 0 && f.matching.matches(req))
        {
            f.count -= 1;
            match f.action {
                FaultAction::Latency(d) => plan.extra_latency = d,
                other => plan.fault = Some(other),
            }
        }
        inner.injections.retain(|i| i.count > 0);
        inner.faults.retain(|f| f.count > 0);
        plan
    }

    fn counts_where(&self, keep: impl Fn(&str) -> bool) -> Vec<RequestCount> {
        let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
        for ((verb, resource, namespace), n) in &self.lock().counts {
            if keep(namespace) {
                *sums.entry((verb.clone(), resource.clone())).or_default() += n;
            }
        }
        sums.into_iter()
            .map(|((verb, resource), count)| RequestCount { verb, resource, count })
            .collect()
    }

    /// The counters over all namespaces, sorted by verb then resource.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.counts_where(|_| true)
    }

    /// The counters of requests in one namespace ("" for cluster-scoped requests), sorted
    /// by verb then resource.
    pub fn request_counts_in(&self, namespace: &str) -> Vec<RequestCount> {
        self.counts_where(|ns| ns == namespace)
    }

    /// One counter over all namespaces (0 if never seen).
    pub fn request_count(&self, verb: &str, resource: &str) -> u64 {
        let c = self.counts_where(|_| true);
        c.iter().find(|c| c.verb == verb && c.resource == resource).map_or(0, |c| c.count)
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

    /// Adds an error injection (one with `count` 0 is ignored).
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

    /// Adds a request fault (one with `count` 0 is ignored).
    pub fn add_fault(&self, fault: Fault) {
        if fault.count > 0 {
            self.lock().faults.push(fault);
        }
    }

    /// The pending faults.
    pub fn faults(&self) -> Vec<Fault> {
        self.lock().faults.clone()
    }

    /// Drops every pending fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Marks the rollout of the workload `namespace/name` as failing.
    pub fn fail_rollout(&self, namespace: &str, name: &str) {
        self.lock().failed_rollouts.insert(pair(namespace, name));
    }

    /// Removes the fail mark of the workload `namespace/name`.
    pub fn clear_rollout_failure(&self, namespace: &str, name: &str) {
        self.lock().failed_rollouts.remove(&pair(namespace, name));
    }

    /// Whether the workload `namespace/name` was marked as failing.
    pub fn rollout_fails(&self, namespace: &str, name: &str) -> bool {
        self.lock().failed_rollouts.contains(&pair(namespace, name))
    }

    /// Marks the Jobs `mark` selects as failing.
    pub fn fail_jobs(&self, mark: JobMatch) {
        let mut inner = self.lock();
        if !inner.failed_jobs.contains(&mark) {
            inner.failed_jobs.push(mark);
        }
    }

    /// Removes one fail mark (exactly as it was given).
    pub fn clear_job_failure(&self, mark: &JobMatch) {
        self.lock().failed_jobs.retain(|m| m != mark);
    }

    /// Whether a fail mark selects the Job `job` (in `namespace`).
    pub fn job_fails(&self, namespace: &str, job: &Value) -> bool {
        self.lock().failed_jobs.iter().any(|m| m.selects(namespace, job))
    }

    /// Keeps the CRD `name` from becoming `Established` (and its kinds from being served).
    pub fn withhold_crd(&self, name: &str) {
        self.lock().withheld_crds.insert(name.to_string());
    }

    /// Lets the CRD `name` become `Established` again.
    pub fn release_crd(&self, name: &str) {
        self.lock().withheld_crds.remove(name);
    }

    /// Whether the CRD `name` is held back.
    pub fn crd_withheld(&self, name: &str) -> bool {
        self.lock().withheld_crds.contains(name)
    }

    /// Keeps the claim `namespace/name` `Pending`.
    pub fn hold_claim(&self, namespace: &str, name: &str) {
        self.lock().held_claims.insert(pair(namespace, name));
    }

    /// Lets the claim `namespace/name` be bound again.
    pub fn release_claim(&self, namespace: &str, name: &str) {
        self.lock().held_claims.remove(&pair(namespace, name));
    }

    /// Whether the claim `namespace/name` is held `Pending`.
    pub fn claim_held(&self, namespace: &str, name: &str) -> bool {
        self.lock().held_claims.contains(&pair(namespace, name))
    }

    /// Puts every control back where the sandbox started: counters zero, no injections or
    /// faults, the initial latency, no fail marks, nothing withheld or held.
    pub fn reset(&self) {
        let mut inner = self.lock();
        let latency = inner.initial_latency;
        *inner = Inner { latency, initial_latency: latency, ..Inner::default() };
    }
}

#[cfg(test)]
mod tests;

/// Which open watches to break, and the in-stream `ERROR` event they get before they end.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchBreak {
    /// Plural resource of the watches (`None`: all).
    pub resource: Option<String>,
    /// Namespace of the watches (`None`: all, including cluster-wide watches; `Some` only
    /// matches watches of that namespace).
    pub namespace: Option<String>,
    /// The `Status` of the `ERROR` event.
    pub error: ApiError,
}

impl WatchBreak {
    /// Whether a watch of `resource` in `namespace` (`None`: cluster-wide) is broken.
    pub fn selects(&self, resource: &str, namespace: Option<&str>) -> bool {
        self.resource.as_deref().is_none_or(|r| r == resource)
            && self.namespace.as_deref().is_none_or(|n| Some(n) == namespace)
    }
}
