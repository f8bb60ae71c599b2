//! PLACEHOLDER until the enginepure branch lands: same API, trivial rules.
use crate::render::ObjectKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Health status, worse is greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    Suspended,
    Progressing,
    Missing,
    Degraded,
}
impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
/// Health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub reason: String,
}
/// Object health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectHealth {
    pub key: ObjectKey,
    pub health: Health,
}
impl fmt::Display for ObjectHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.health.reason)
    }
}
/// Assess.
pub fn assess(object: &Value) -> Health {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    let cond = |t: &str| {
        object
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
    };
    let status = match kind {
        "Job" if cond("Failed") => HealthStatus::Degraded,
        "Job" if cond("Complete") => HealthStatus::Healthy,
        "Job" => HealthStatus::Progressing,
        "Deployment" => {
            let p = object
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|c| c["reason"] == "ProgressDeadlineExceeded"));
            if p {
                HealthStatus::Degraded
            } else {
                let want = object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
                let avail = object
                    .pointer("/status/availableReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let og = object
                    .pointer("/status/observedGeneration")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let g = object.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
                if og >= g && avail >= want {
                    HealthStatus::Healthy
                } else {
                    HealthStatus::Progressing
                }
            }
        }
        _ => HealthStatus::Healthy,
    };
    Health {
        status,
        reason: if status == HealthStatus::Healthy { String::new() } else { format!("{status:?}") },
    }
}
/// Worst.
pub fn worst<'a>(healths: impl IntoIterator<Item = &'a HealthStatus>) -> HealthStatus {
    healths.into_iter().copied().max().unwrap_or(HealthStatus::Healthy)
}
