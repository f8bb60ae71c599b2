//! The controllers a cluster would run, reduced to what clients observe: workload and Job
//! status, PersistentVolumeClaim binding, LoadBalancer addresses, CRD establishment and
//! cleanup, Namespace termination, and ownerReference garbage collection.
//!
//! One task consumes the store's change broadcast (as informers would) plus nudges (timers
//! and controls), keeps a uid index and an owner → dependents index, and writes through the
//! store like any client. Status computations are pure functions in the submodules; this
//! module owns the loop, the indexes and the writes.

mod crd;

mod gc;
pub mod job;
mod namespace;
mod pods;
mod replicasets;
mod rollout;
mod simple;
pub mod workload;

use crate::meta;
use crate::state::{Nudge, State};
use crate::store::{Change, EventType, ObjKey, Signal};
use crate::write::{self, FieldValidation, WriteOptions};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// The controller loop's state.
pub struct Controllers {
    state: Arc<State>,
    uids: HashMap<String, ObjKey>,
    dependents: HashMap<String, BTreeSet<ObjKey>>,
    /// When a workload generation or Job was first seen, for delays.
    first_seen: HashMap<(String, i64), Instant>,
    /// Objects with a delayed reconcile pending, so that each gets one timer.
    scheduled: HashSet<ObjKey>,
    /// The current rollout of each Deployment, by uid.
    rollouts: HashMap<String, rollout::Memo>,
}

/// Starts the controllers; they stop when the server shuts down.
pub fn spawn(
    state: Arc<State>,
    nudges: mpsc::UnboundedReceiver<Nudge>,
) -> tokio::task::JoinHandle<()> {
    let rx = state.store().subscribe();
    let controllers = Controllers {
        state,
        uids: HashMap::new(),
        dependents: HashMap::new(),
        first_seen: HashMap::new(),
        scheduled: HashSet::new(),
        rollouts: HashMap::new(),
    };
    tokio::spawn(controllers.run(rx, nudges))
}

impl Controllers {
    async fn run(
        mut self,
        mut rx: broadcast::Receiver<Signal>,
        mut nudges: mpsc::UnboundedReceiver<Nudge>,
    ) {
        let mut shutdown = self.state.shutdown.clone();
        self.resync();
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                sig = rx.recv() => match sig {
                    Ok(Signal::Change(c)) => self.on_change(&c),
                    Ok(Signal::Expire) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => self.resync(),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                nudge = nudges.recv() => match nudge {
                    Some(Nudge::Object(key)) => {
                        self.scheduled.remove(&key);
                        self.reconcile(&key);
                    }
                    Some(Nudge::All) => self.resync(),
                    None => return,
                },
            }
        }
    }

    /// Rebuilds the indexes and reconciles everything.
    fn resync(&mut self) {
        let objects: Vec<(ObjKey, Arc<Value>)> =
            self.state.store().all().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.uids.clear();
        self.dependents.clear();
        for (key, obj) in &objects {
            self.index(key, obj, None);
        }
        for (key, obj) in &objects {
            self.reconcile(key);
            self.check_owners(key, obj);
        }
    }

    fn index(&mut self, key: &ObjKey, obj: &Value, previous: Option<&Value>) {
        if let Some(prev) = previous {
            for owner in meta::owner_uids(prev) {
                if let Some(set) = self.dependents.get_mut(&owner) {
                    set.remove(key);
                }
            }
        }
        self.uids.insert(meta::uid(obj).to_string(), key.clone());
        for owner in meta::owner_uids(obj) {
            self.dependents.entry(owner).or_default().insert(key.clone());
        }
    }

    fn unindex(&mut self, key: &ObjKey, obj: &Value) {
        self.uids.remove(meta::uid(obj));
        for owner in meta::owner_uids(obj) {
            if let Some(set) = self.dependents.get_mut(&owner) {
                set.remove(key);
                if set.is_empty() {
                    self.dependents.remove(&owner);
                }
            }
        }
    }

    fn on_change(&mut self, c: &Change) {
        match c.type_ {
            EventType::Deleted => {
                self.unindex(&c.key, &c.object);
                let uid = meta::uid(&c.object).to_string();
                self.first_seen.retain(|(u, _), _| *u != uid);
                self.rollouts.remove(&uid);
                gc::owner_gone(self, &uid);
                for owner in meta::owner_uids(&c.object) {
                    if let Some(k) = self.uids.get(&owner).cloned() {
                        self.reconcile(&k);
                    }
                }
                if !c.key.group.is_empty() {
                    // A deleted CRD waits for its instances.
                    let crd = ObjKey::new(
                        "apiextensions.k8s.io",
                        "customresourcedefinitions",
                        "",
                        &format!("{}.{}", c.key.resource, c.key.group),
                    );
                    if self.state.store().get(&crd).is_some_and(|o| meta::is_deleting(o)) {
                        self.reconcile(&crd);
                    }
                }
            }
            EventType::Added | EventType::Modified => {
                self.index(&c.key, &c.object, c.previous.as_deref());
                self.reconcile(&c.key);
                if c.type_ == EventType::Added {
                    self.check_owners(&c.key, &c.object);
                }
            }
        }
        if !c.key.namespace.is_empty() {
            let ns = ObjKey::new("", "namespaces", "", &c.key.namespace);
            let terminating = self.state.store().get(&ns).is_some_and(|n| meta::is_deleting(n));
            if terminating {
                self.reconcile(&ns);
            }
        }
    }

    /// A dependent whose owners are all gone is collected, as the garbage collector does
    /// for references to objects that do not exist.
    fn check_owners(&mut self, key: &ObjKey, obj: &Value) {
        let owners = meta::owner_uids(obj);
        if !owners.is_empty() && owners.iter().all(|u| !self.uids.contains_key(u)) {
            gc::collect(self, key);
        }
    }

    /// Brings one object to where its controller would have it.
    fn reconcile(&mut self, key: &ObjKey) {
        let Some(obj) = self.state.store().get(key).cloned() else { return };
        if meta::is_deleting(&obj) {
            let finalizers = meta::finalizers(&obj);
            if finalizers.iter().any(|f| f == write::ORPHAN) {
                gc::orphan(self, key, &obj);
            } else if finalizers.iter().any(|f| f == write::FOREGROUND) {
                gc::foreground(self, key, &obj);
            }
        }
        match (key.group.as_str(), key.resource.as_str()) {
            ("apps", "deployments" | "statefulsets" | "daemonsets" | "replicasets") => {
                self.workload(key, &obj)
            }
            ("batch", "jobs") => self.job(key, &obj),
            ("", "namespaces") => namespace::reconcile(self, key, &obj),
            ("", "persistentvolumeclaims") => simple::bind_claim(self, key, &obj),
            ("", "pods") => self.kubelet(key, &obj),
            ("", "services") => simple::load_balancer(self, key, &obj),
            ("apiextensions.k8s.io", "customresourcedefinitions") => {
                crd::reconcile(self, key, &obj)
            }
            _ => {}
        }
    }

    /// Runs `change` on the stored object if it is still at `expected_rv`, and commits it
    /// as `manager` if it changed anything. A newer version will be reconciled on its own
    /// event, so a stale write is simply dropped.
    fn update(
        &self,
        key: &ObjKey,
        expected: &Value,
        manager: &str,
        subresource: Option<&str>,
        change: impl FnOnce(&mut Value),
    ) {
        let Some(info) = self.state.resource(&key.group, &key.resource) else { return };
        let mut store = self.state.store();
        let Some(old) = store.get(key).cloned() else { return };
        if meta::meta_str(&old, "resourceVersion") != meta::meta_str(expected, "resourceVersion") {
            return;
        }
        let mut new = (*old).clone();
        change(&mut new);
        if new == *old {
            return;
        }
        let options = WriteOptions {
            dry_run: false,
            manager: manager.into(),
            explicit_manager: true,
            validation: FieldValidation::Ignore,
        };
        write::on_update(&info, &old, &mut new, &options, subresource);
        if let Err(e) = write::commit(&mut store, key.clone(), Some(&old), new, false) {
            tracing::warn!(object = %key.name, error = %e, "controller write failed");
        }
    }

    fn set_status(&self, key: &ObjKey, obj: &Value, manager: &str, status: Value) {
        self.update(key, obj, manager, Some("status"), |o| o["status"] = status);
    }

    /// Schedules a reconcile of `key` after `delay`, unless one is pending.
    fn after(&mut self, key: &ObjKey, delay: Duration) {
        if !self.scheduled.insert(key.clone()) {
            return;
        }
        let state = self.state.clone();
        let key = key.clone();
        let mut shutdown = self.state.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(delay) => state.nudge(Nudge::Object(key)),
                _ = shutdown.wait_for(|s| *s) => {}
            }
        });
    }

    /// How long is left of `delay` since this object generation was first seen.
    fn remaining(&mut self, obj: &Value, delay: Duration) -> Duration {
        if delay.is_zero() {
            return Duration::ZERO;
        }
        let seen = *self
            .first_seen
            .entry((meta::uid(obj).to_string(), meta::generation(obj)))
            .or_insert_with(Instant::now);
        delay.saturating_sub(seen.elapsed())
    }

    fn delay_of(obj: &Value, annotation: &str, default: Duration) -> Duration {
        meta::annotation(obj, annotation)
            .and_then(|d| crate::controls::parse_duration(d).ok())
            .unwrap_or(default)
    }

    fn workload(&mut self, key: &ObjKey, obj: &Value) {
        if meta::is_deleting(obj) {
            return;
        }
        use workload::Rollout;
        let fails = workload::wants_failure(obj)
            || self.state.controls.rollout_fails(&key.namespace, &key.name);
        let delay =
            Self::delay_of(obj, workload::READY_AFTER, self.state.tuning.deployment_ready_delay);
        if key.resource == "deployments" {
            self.deployment(key, obj, fails, delay);
            return;
        }
        let left = self.remaining(obj, delay);
        let rollout = match (fails, left.is_zero()) {
            (true, true) => Rollout::Failed,
            (_, false) => Rollout::Progressing,
            (false, true) => Rollout::Ready,
        };
        if !left.is_zero() {
            self.after(key, left);
        }
        let kind = self
            .state
            .resource(&key.group, &key.resource)
            .map(|i| i.kind.clone())
            .unwrap_or_default();
        if let Some(status) = workload::status(&kind, obj, rollout) {
            self.set_status(key, obj, "kube-controller-manager", status);
        }
        let want = match kind.as_str() {
            "DaemonSet" => 1,
            _ => obj["spec"]["replicas"].as_i64().unwrap_or(1),
        };
        self.sync_pods(key, obj, "apps/v1", &kind, want);
    }

    /// The TTL-after-finished controller: a finished Job with `ttlSecondsAfterFinished`
    /// is deleted (foreground, so its pods go first) that long after it finished.
    fn expire_finished_job(&mut self, key: &ObjKey, obj: &Value) {
        let Some(ttl) = obj["spec"]["ttlSecondsAfterFinished"].as_i64() else { return };
        let Some(finished_at) = job::finish_time(obj).and_then(meta::parse_timestamp) else {
            return;
        };
        let expires = finished_at + jiff::SignedDuration::from_secs(ttl.max(0));
        let left = jiff::Timestamp::now().duration_until(expires);
        match Duration::try_from(left) {
            Ok(left) if !left.is_zero() => self.after(key, left),
            _ => gc::delete(self, key, write::Propagation::Foreground),
        }
    }

    fn job(&mut self, key: &ObjKey, obj: &Value) {
        use job::JobPhase;
        if meta::is_deleting(obj) {
            return;
        }
        if job::finished(obj) {
            for (k, pod) in self.owned(obj, "", "pods") {
                self.kubelet(&k, &pod);
            }
            self.expire_finished_job(key, obj);
            return;
        }
        if obj["spec"]["suspend"] == true {
            return;
        }
        let fails = meta::annotation(obj, job::FAIL_JOB) == Some("true")
            || workload::template_image_fails(obj)
            || self.state.controls.job_fails(&key.namespace, obj);
        let delay = Self::delay_of(obj, job::DURATION, self.state.tuning.job_duration);
        let left = self.remaining(obj, delay);
        let phase = match (left.is_zero(), fails) {
            (false, _) => JobPhase::Running,
            (true, true) => JobPhase::Failed,
            (true, false) => JobPhase::Complete,
        };
        if !left.is_zero() {
            self.after(key, left);
        }
        let now = meta::now();
        let started =
            obj["status"]["startTime"].as_str().map_or_else(|| now.clone(), str::to_string);
        self.set_status(
            key,
            obj,
            "kube-controller-manager",
            job::status(obj, phase, &started, &now),
        );
        self.sync_pods(key, obj, "batch/v1", "Job", 1);
    }
}
