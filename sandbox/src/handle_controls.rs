//! The test controls of a [`SandboxHandle`]: the same as the `/sandbox/...` endpoints (see
//! the crate README), typed. Each takes effect at once; controls that change what a
//! controller would write (fail marks, withheld CRDs, held claims) make the controllers
//! look at everything again.

use crate::controls::{
    ErrorInjection, Fault, FaultAction, JobMatch, RequestCount, RequestMatch, WatchBreak,
};
use crate::sandbox::SandboxHandle;
use crate::state::{Nudge, WatchSignal};
use crate::status::ApiError;
use std::sync::Arc;
use std::time::Duration;

impl SandboxHandle {
    /// The request counters by verb and resource, over all namespaces.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.state.controls.request_counts()
    }

    /// The request counters of one namespace ("" for cluster-scoped requests; a Namespace
    /// object's requests count in its own namespace), so that a test sharing the sandbox
    /// can assert that nothing touched its namespace.
    pub fn request_counts_in(&self, namespace: &str) -> Vec<RequestCount> {
        self.state.controls.request_counts_in(namespace)
    }

    /// How many API requests were made in `namespace` since the last reset.
    pub fn requests_in(&self, namespace: &str) -> u64 {
        self.request_counts_in(namespace).iter().map(|c| c.count).sum()
    }

    /// One request counter over all namespaces, e.g. `("patch", "deployments")`.
    pub fn request_count(&self, verb: &str, resource: &str) -> u64 {
        self.state.controls.request_count(verb, resource)
    }

    /// Resets the request counters.
    pub fn reset_request_counts(&self) {
        self.state.controls.reset_request_counts();
    }

    /// Sets the latency added to every API request.
    pub fn set_latency(&self, latency: Duration) {
        self.state.controls.set_latency(latency);
    }

    /// Fails the next matching requests (see [`ErrorInjection`]); nothing is committed.
    pub fn inject_error(&self, injection: ErrorInjection) {
        self.state.controls.inject_error(injection);
    }

    /// Drops every pending error injection.
    pub fn clear_injections(&self) {
        self.state.controls.clear_injections();
    }

    /// Adds a fault for the next `fault.count` matching requests (see [`FaultAction`]).
    pub fn add_fault(&self, fault: Fault) {
        self.state.controls.add_fault(fault);
    }

    /// The next `count` requests `matching` selects are served `latency` late (on top of
    /// the global latency).
    pub fn delay_requests(&self, matching: RequestMatch, count: u32, latency: Duration) {
        self.add_fault(Fault { matching, count, action: FaultAction::Latency(latency) });
    }

    /// The next `count` requests `matching` selects get no answer until the client gives up.
    pub fn hang_requests(&self, matching: RequestMatch, count: u32) {
        self.add_fault(Fault { matching, count, action: FaultAction::Hang });
    }

    /// The next `count` requests `matching` selects have their connection closed without
    /// an answer.
    pub fn drop_connections(&self, matching: RequestMatch, count: u32) {
        self.add_fault(Fault { matching, count, action: FaultAction::DropConnection });
    }

    /// The next `count` requests `matching` selects are served (writes committed), then
    /// answered `500 InternalError`.
    pub fn fail_after_commit(&self, matching: RequestMatch, count: u32) {
        self.add_fault(Fault { matching, count, action: FaultAction::CommitThenError });
    }

    /// The pending faults.
    pub fn faults(&self) -> Vec<Fault> {
        self.state.controls.faults()
    }

    /// Drops every pending fault.
    pub fn clear_faults(&self) {
        self.state.controls.clear_faults();
    }

    /// Makes the rollout of the workload `namespace/name` fail (now or when it appears).
    pub fn fail_rollout(&self, namespace: &str, name: &str) {
        self.state.controls.fail_rollout(namespace, name);
        self.state.nudge(Nudge::All);
    }

    /// Removes the fail mark of [`SandboxHandle::fail_rollout`]: the workload becomes
    /// healthy again (unless its annotation or image asks to fail).
    pub fn clear_rollout_failure(&self, namespace: &str, name: &str) {
        self.state.controls.clear_rollout_failure(namespace, name);
        self.state.nudge(Nudge::All);
    }

    /// Makes the Job `namespace/name` fail (if it has not finished yet).
    pub fn fail_job(&self, namespace: &str, name: &str) {
        self.fail_jobs(JobMatch::name(namespace, name));
    }

    /// Makes every unfinished Job that `mark` selects fail (by name, name prefix or label).
    pub fn fail_jobs(&self, mark: JobMatch) {
        self.state.controls.fail_jobs(mark);
        self.state.nudge(Nudge::All);
    }

    /// Removes one fail mark, given exactly as to [`SandboxHandle::fail_jobs`]: Jobs that
    /// have not finished yet complete. A finished Job stays as it is.
    pub fn clear_job_failure(&self, mark: &JobMatch) {
        self.state.controls.clear_job_failure(mark);
        self.state.nudge(Nudge::All);
    }

    /// Keeps the CRD `name` (`widgets.example.com`) from becoming `Established`: it gets
    /// `NamesAccepted` and `Established=False` (reason `Installing`), and its kinds are not
    /// served. A CRD established already stays established.
    pub fn withhold_crd(&self, name: &str) {
        self.state.controls.withhold_crd(name);
    }

    /// Lets a withheld CRD become `Established`.
    pub fn release_crd(&self, name: &str) {
        self.state.controls.release_crd(name);
        self.state.nudge(Nudge::All);
    }

    /// Keeps the claim `namespace/name` `Pending` (as the annotation
    /// `sandbox.cetus.dev/pending: "true"` does). A bound claim stays bound.
    pub fn hold_claim(&self, namespace: &str, name: &str) {
        self.state.controls.hold_claim(namespace, name);
    }

    /// Lets a held claim be bound.
    pub fn release_claim(&self, namespace: &str, name: &str) {
        self.state.controls.release_claim(namespace, name);
        self.state.nudge(Nudge::All);
    }

    /// Ends every open watch now, cleanly (as apiserver does at a watch's timeout):
    /// clients re-watch from the last resourceVersion they saw.
    pub fn end_watches(&self) {
        self.state.signal_watches(WatchSignal::End);
    }

    /// Breaks the open watches of `resource` (plural; `None`: all) in `namespace` (`None`:
    /// all) mid-stream: each gets an `ERROR` event with a `500 InternalError` Status
    /// carrying `message`, and ends.
    pub fn break_watches(&self, resource: Option<&str>, namespace: Option<&str>, message: &str) {
        self.break_watches_with(WatchBreak {
            resource: resource.map(str::to_string),
            namespace: namespace.map(str::to_string),
            error: ApiError::internal(message),
        });
    }

    /// Like [`SandboxHandle::break_watches`] with any `Status` for the `ERROR` event.
    pub fn break_watches_with(&self, rule: WatchBreak) {
        self.state.signal_watches(WatchSignal::Break(Arc::new(rule)));
    }

    /// Discards the watch history and ends open watches with an in-stream 410 Expired, so
    /// that clients must re-list.
    pub fn expire_watches(&self) {
        self.state.store().expire_history();
    }

    /// Puts every control back as the sandbox started: counters zero, no injections or
    /// faults, the starting latency, no fail marks, no CRD withheld, no claim held.
    /// Objects, open watches and the watch history are left alone.
    pub fn reset_controls(&self) {
        self.state.controls.reset();
        self.state.nudge(Nudge::All);
    }
}
