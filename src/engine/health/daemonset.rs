//! DaemonSet health, by `kubectl rollout status`'s rules: the controller has seen the current
//! generation, and every node that should run the daemon runs an updated, available pod.
//!
//! With the `OnDelete` strategy there is no rollout to wait for (kubectl refuses to judge
//! one): it is Healthy once its spec is observed. A `Progressing` condition with reason
//! `ProgressDeadlineExceeded` is Degraded, for the sandbox's sake, as for StatefulSets.

use super::{Health, deadline_exceeded, int, text, unobserved};
use serde_json::Value;

pub(super) fn assess(daemon: &Value) -> Health {
    let generation = int(daemon, "/metadata/generation");
    let observed = int(daemon, "/status/observedGeneration");
    if generation > observed {
        return unobserved(observed, generation);
    }
    if let Some(failed) = deadline_exceeded(daemon) {
        return failed;
    }
    if text(daemon, "/spec/updateStrategy/type") == "OnDelete" {
        return Health::healthy();
    }
    let desired = int(daemon, "/status/desiredNumberScheduled");
    let updated = int(daemon, "/status/updatedNumberScheduled");
    let available = int(daemon, "/status/numberAvailable");
    if updated < desired {
        return Health::progressing(format!("{updated} of {desired} new pods updated"));
    }
    if available < desired {
        return Health::progressing(format!("{available} of {desired} updated pods available"));
    }
    Health::healthy()
}
