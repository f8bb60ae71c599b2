//! StatefulSet health, by `kubectl rollout status`'s rules: the controller has seen the
//! current generation, every replica is ready, and the rollout has reached its partition (or,
//! without a `rollingUpdate` block, the current revision is the update revision).
//!
//! With the `OnDelete` strategy, pods take a new template only when someone deletes them, so
//! there is no rollout to wait for: kubectl refuses to judge one, and it is Healthy once its
//! spec is observed and its replicas are ready. A `Progressing` condition with reason
//! `ProgressDeadlineExceeded` is Degraded: a real StatefulSet controller never writes one,
//! the sandbox does to stage a failed rollout, and honouring it changes nothing on a cluster.

use super::{Health, count, deadline_exceeded, int, text, unobserved};
use serde_json::Value;

pub(super) fn assess(sts: &Value) -> Health {
    let generation = int(sts, "/metadata/generation");
    let observed = int(sts, "/status/observedGeneration");
    // Unlike for Deployments, kubectl also waits while nothing is observed at all.
    if observed == 0 || generation > observed {
        return unobserved(observed, generation);
    }
    if let Some(failed) = deadline_exceeded(sts) {
        return failed;
    }
    let wanted = sts.pointer("/spec/replicas").and_then(Value::as_i64);
    let ready = int(sts, "/status/readyReplicas");
    if let Some(wanted) = wanted.filter(|w| ready < *w) {
        return Health::progressing(format!("{ready} of {wanted} replicas ready"));
    }
    // The API server defaults the strategy to RollingUpdate.
    if text(sts, "/spec/updateStrategy/type") == "OnDelete" {
        return Health::healthy();
    }
    let updated = int(sts, "/status/updatedReplicas");
    if let Some(rolling) = sts.pointer("/spec/updateStrategy/rollingUpdate") {
        let partition = rolling.get("partition").and_then(Value::as_i64);
        if let (Some(wanted), Some(partition)) = (wanted, partition)
            && updated < wanted - partition
        {
            let of = wanted - partition;
            let reason = if partition == 0 {
                format!("{updated} of {of} new replicas updated")
            } else {
                format!("{updated} of {of} new replicas updated (partition {partition})")
            };
            return Health::progressing(reason);
        }
        return Health::healthy();
    }
    let revision = text(sts, "/status/updateRevision");
    if revision != text(sts, "/status/currentRevision") {
        let at = count(updated, "replica");
        return Health::progressing(format!(
            "waiting for the rolling update: {at} at revision {revision}"
        ));
    }
    Health::healthy()
}
