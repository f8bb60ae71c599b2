//! Health: whether a live object has become what its spec asks for, as `kubectl rollout
//! status` judges it, with the reason when it has not.
//!
//! [`assess`] is a pure function from a live object (as the API server answers it) to a
//! [`Health`]; one file per kind holds that kind's rules. Statuses have a total order, worst
//! greatest, so an app's health is the [`worst`] of its objects'. This module does not fetch
//! objects, wait, or decide which objects gate a stage: the engine does (a PVC, for one, is
//! never a gate on the workloads stage, since with `WaitForFirstConsumer` it binds only once a
//! pod exists).
//!
//! An object the engine expected and did not find is [`Health::missing`]; an object being
//! deleted is Progressing, whatever its kind.

mod daemonset;
mod deployment;
mod job;
mod pvc;
mod service;
mod statefulset;

use crate::render::ObjectKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// How healthy an object is. The order is from best to worst: `a < b` when `b` is worse.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum HealthStatus {
    /// The object is what its spec asks for.
    #[default]
    Healthy,
    /// The object is paused or suspended on purpose (a paused Deployment, a suspended Job).
    Suspended,
    /// The object is on its way: a rollout in progress, a claim not yet bound.
    Progressing,
    /// The object should exist and does not.
    Missing,
    /// The object failed: a rollout past its progress deadline, a failed Job, a lost claim.
    Degraded,
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Missing => "Missing",
            HealthStatus::Degraded => "Degraded",
        })
    }
}

/// An object's health and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Health {
    /// The status.
    pub status: HealthStatus,
    /// Why, without the object's name (`1 of 3 updated replicas available`); empty for a plain
    /// Healthy.
    #[serde(default)]
    pub reason: String,
}

impl Health {
    /// Healthy, with nothing to say.
    pub fn healthy() -> Health {
        Health::default()
    }

    /// The health of an object the engine expected in the cluster and did not find.
    pub fn missing() -> Health {
        Health::new(HealthStatus::Missing, "not found")
    }

    /// A health of `status` for `reason`.
    pub fn new(status: HealthStatus, reason: impl Into<String>) -> Health {
        Health { status, reason: reason.into() }
    }

    fn progressing(reason: impl Into<String>) -> Health {
        Health::new(HealthStatus::Progressing, reason)
    }

    fn degraded(reason: impl Into<String>) -> Health {
        Health::new(HealthStatus::Degraded, reason)
    }
}

impl fmt::Display for Health {
    /// The reason, or the status when there is none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.status)
        } else {
            f.write_str(&self.reason)
        }
    }
}

/// One object's health, as `--wait` and the daemon report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHealth {
    /// The object.
    pub key: ObjectKey,
    /// Its health.
    pub health: Health,
}

impl ObjectHealth {
    /// Assesses a live object, keyed by its own identity.
    pub fn of(object: &Value) -> ObjectHealth {
        ObjectHealth { key: ObjectKey::of(object), health: assess(object) }
    }
}

impl fmt::Display for ObjectHealth {
    /// `apps/Deployment shop/web: 1 of 3 updated replicas available` (the object as
    /// [`ObjectKey`] prints it, then the reason, or the status when there is no reason).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.health)
    }
}

/// The worst of some statuses; Healthy when there are none (an app with no objects has
/// nothing wrong with it).
pub fn worst<'a>(statuses: impl IntoIterator<Item = &'a HealthStatus>) -> HealthStatus {
    statuses.into_iter().copied().max().unwrap_or_default()
}

/// The health of a live object, by its `apiVersion` and `kind`.
///
/// Deployments, StatefulSets and DaemonSets (`apps/v1`) follow `kubectl rollout status`;
/// Jobs (`batch/v1`) are judged by their conditions; PersistentVolumeClaims (`v1`) by their
/// phase; Services (`v1`) of type LoadBalancer by their address. Every other object is
/// Healthy: it exists.
pub fn assess(object: &Value) -> Health {
    if object.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Health::progressing("pending deletion");
    }
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    match (text("apiVersion"), text("kind")) {
        ("apps/v1", "Deployment") => deployment::assess(object),
        ("apps/v1", "StatefulSet") => statefulset::assess(object),
        ("apps/v1", "DaemonSet") => daemonset::assess(object),
        ("batch/v1", "Job") => job::assess(object),
        ("v1", "PersistentVolumeClaim") => pvc::assess(object),
        ("v1", "Service") => service::assess(object),
        _ => Health::healthy(),
    }
}

/// An integer field, 0 when absent, as Go's zero value reads it.
fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// A text field, `""` when absent.
fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The status condition of `type_`, if the controller wrote one.
fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// Degraded when the `Progressing` condition's reason is `ProgressDeadlineExceeded`: the
/// rollout failed.
fn deadline_exceeded(object: &Value) -> Option<Health> {
    let progressing = condition(object, "Progressing")?;
    (text(progressing, "/reason") == "ProgressDeadlineExceeded").then(|| {
        Health::degraded(with_message("progress deadline exceeded", text(progressing, "/message")))
    })
}

/// `what: message`, or `what` when the controller gave no message.
fn with_message(what: &str, message: &str) -> String {
    if message.is_empty() { what.to_string() } else { format!("{what}: {message}") }
}

/// Progressing while the controller has not seen the current spec.
fn unobserved(observed: i64, generation: i64) -> Health {
    Health::progressing(format!(
        "waiting for the rollout: observed generation {observed} < {generation}"
    ))
}

/// `1 replica`, `3 replicas`.
fn count(n: i64, noun: &str) -> String {
    if n == 1 { format!("{n} {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests;
