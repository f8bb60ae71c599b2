//! Deployment health, by `kubectl rollout status`'s rules: the controller has seen the current
//! generation, the rollout is within its progress deadline, every replica is updated, no old
//! replica is left, and every updated replica is available. A paused Deployment is Suspended
//! (kubectl would wait for it forever).

use super::{Health, HealthStatus, count, deadline_exceeded, int, unobserved};
use serde_json::Value;

pub(super) fn assess(deployment: &Value) -> Health {
    if deployment.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Health::new(HealthStatus::Suspended, "rollout paused");
    }
    let generation = int(deployment, "/metadata/generation");
    let observed = int(deployment, "/status/observedGeneration");
    if generation > observed {
        return unobserved(observed, generation);
    }
    if let Some(failed) = deadline_exceeded(deployment) {
        return failed;
    }
    // The API server defaults `spec.replicas` to 1; kubectl skips the check only when it is
    // absent, which a live Deployment never is.
    let wanted = deployment.pointer("/spec/replicas").and_then(Value::as_i64);
    let replicas = int(deployment, "/status/replicas");
    let updated = int(deployment, "/status/updatedReplicas");
    let available = int(deployment, "/status/availableReplicas");
    if let Some(wanted) = wanted.filter(|w| updated < *w) {
        return Health::progressing(format!("{updated} of {wanted} new replicas updated"));
    }
    if replicas > updated {
        let old = count(replicas - updated, "old replica");
        return Health::progressing(format!("{old} pending termination"));
    }
    if available < updated {
        return Health::progressing(format!("{available} of {updated} updated replicas available"));
    }
    Health::healthy()
}
