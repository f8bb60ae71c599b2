//! Workload status, as the StatefulSet, DaemonSet and ReplicaSet controllers would report
//! it if pods ran: ready at once, progressing until a delay has passed, or never ready
//! (those controllers set no failure condition). Deployments are [`super::rollout`]'s; the
//! fail marks and condition times are shared.
//!
//! Pure: given the object, what the rollout should look like and the time, returns the
//! status. The controller loop decides the outcome (annotations, controls, delays).

use crate::meta;
use serde_json::{Map, Value, json};

/// Annotation: the rollout fails (`"true"`).
pub const FAIL_ROLLOUT: &str = "sandbox.cetus.dev/fail-rollout";
/// Annotation: the rollout becomes ready after this duration (`"2s"`).
pub const READY_AFTER: &str = "sandbox.cetus.dev/ready-after";

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// All replicas ready and available.
    Ready,
    /// Replicas updated but not yet available.
    Progressing,
    /// The rollout exceeded its progress deadline.
    Failed,
}

/// Whether an image reference's tag is `fail` (`nginx:fail`, `reg:5000/app:fail`).
pub fn image_tag_is_fail(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.rsplit_once(':').is_some_and(|(_, tag)| tag == "fail")
}

/// Whether the workload asks to fail: the annotation or an image tagged `fail`.
pub fn wants_failure(obj: &Value) -> bool {
    meta::annotation(obj, FAIL_ROLLOUT) == Some("true") || template_image_fails(obj)
}

/// Whether a container (or init container) of the object's pod template has an image
/// tagged `fail`: workloads then fail their rollout, Jobs fail.
pub fn template_image_fails(obj: &Value) -> bool {
    let spec = &obj["spec"]["template"]["spec"];
    ["containers", "initContainers"]
        .iter()
        .filter_map(|f| spec[*f].as_array())
        .flatten()
        .any(|c| c["image"].as_str().is_some_and(image_tag_is_fail))
}

/// Keeps `lastTransitionTime` (and `lastUpdateTime` when nothing else changed) of
/// conditions whose status did not change, so that an unchanged rollout writes nothing.
pub fn carry_condition_times(old: &Value, conditions: &mut [Value]) {
    let Some(prev) = old["status"]["conditions"].as_array() else { return };
    for c in conditions.iter_mut() {
        let Some(p) = prev.iter().find(|p| p["type"] == c["type"]) else { continue };
        if p["status"] == c["status"] {
            c["lastTransitionTime"] = p["lastTransitionTime"].clone();
            if p["reason"] == c["reason"]
                && p["message"] == c["message"]
                && c.get("lastUpdateTime").is_some()
            {
                c["lastUpdateTime"] = p["lastUpdateTime"].clone();
            }
        }
    }
}

/// A controller reference to `owner` (`controller` and `blockOwnerDeletion` set).
pub fn controller_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": meta::name(owner),
           "uid": meta::uid(owner), "controller": true, "blockOwnerDeletion": true})
}

/// The pod-template-hash of a template: FNV-32a of its encoding, written in the safe
/// alphabet (as `controller.ComputeHash` and `rand.SafeEncodeString` do, over JSON here).
pub fn pod_template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in template.to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string().bytes().map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char).collect()
}

/// The ReplicaSet name a Deployment's current template would get.
pub fn revision_name(obj: &Value) -> String {
    let hash = pod_template_hash(&obj["spec"]["template"]);
    format!("{}-{hash}", meta::name(obj))
}

/// Sets the integer fields that are non-zero (apiserver omits zero counts).
fn counts(status: &mut Map<String, Value>, fields: &[(&str, i64)]) {
    for (k, v) in fields {
        if *v != 0 {
            status.insert((*k).to_string(), json!(v));
        }
    }
}

fn statefulset(obj: &Value, rollout: Rollout) -> Value {
    let r = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let ready = if rollout == Rollout::Ready { r } else { 0 };
    let rev = revision_name(obj);
    let mut s = Map::new();
    s.insert("observedGeneration".into(), json!(meta::generation(obj)));
    counts(
        &mut s,
        &[
            ("replicas", r),
            ("readyReplicas", ready),
            ("currentReplicas", r),
            ("updatedReplicas", r),
            ("availableReplicas", ready),
        ],
    );
    s.insert("currentRevision".into(), json!(rev));
    s.insert("updateRevision".into(), json!(rev));
    s.insert("collisionCount".into(), json!(0));
    Value::Object(s)
}

fn daemonset(obj: &Value, rollout: Rollout) -> Value {
    // One pretend node runs one daemon pod.
    let ready = i64::from(rollout == Rollout::Ready);
    let mut s = Map::new();
    s.insert("observedGeneration".into(), json!(meta::generation(obj)));
    s.insert("currentNumberScheduled".into(), json!(1));
    s.insert("desiredNumberScheduled".into(), json!(1));
    s.insert("numberMisscheduled".into(), json!(0));
    s.insert("numberReady".into(), json!(ready));
    counts(
        &mut s,
        &[
            ("updatedNumberScheduled", 1),
            ("numberAvailable", ready),
            ("numberUnavailable", 1 - ready),
        ],
    );
    Value::Object(s)
}

fn replicaset(obj: &Value, rollout: Rollout) -> Value {
    let r = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let ready = if rollout == Rollout::Ready { r } else { 0 };
    let mut s = Map::new();
    s.insert("observedGeneration".into(), json!(meta::generation(obj)));
    s.insert("replicas".into(), json!(r));
    counts(
        &mut s,
        &[("fullyLabeledReplicas", r), ("readyReplicas", ready), ("availableReplicas", ready)],
    );
    Value::Object(s)
}

/// The status a StatefulSet, DaemonSet or ReplicaSet has at `rollout` (Deployments are
/// [`super::rollout`]'s). Their controllers set no conditions of their own: a failing
/// rollout shows only in the counts (`kubectl rollout status` keeps waiting).
pub fn status(kind: &str, obj: &Value, rollout: Rollout) -> Option<Value> {
    match kind {
        "StatefulSet" => Some(statefulset(obj, rollout)),
        "DaemonSet" => Some(daemonset(obj, rollout)),
        "ReplicaSet" => Some(replicaset(obj, rollout)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(image: &str) -> Value {
        json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": 3,
            "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    #[test]
    fn statefulsets_report_counts_and_no_conditions() {
        let ready = status("StatefulSet", &deploy("nginx:1"), Rollout::Ready).unwrap();
        assert_eq!(
            (ready["readyReplicas"].as_i64(), ready["observedGeneration"].as_i64()),
            (Some(3), Some(2))
        );
        let failed = status("StatefulSet", &deploy("nginx:fail"), Rollout::Failed).unwrap();
        assert!(failed.get("readyReplicas").is_none());
        assert!(failed.get("conditions").is_none());
        assert!(status("Deployment", &deploy("x"), Rollout::Ready).is_none());
    }

    #[test]
    fn pod_template_hashes_are_stable_and_safe() {
        let t = json!({"spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
        let h = pod_template_hash(&t);
        assert_eq!(h, pod_template_hash(&t.clone()));
        assert!(h.len() <= 10 && h.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)));
        let other = json!({"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}});
        assert_ne!(h, pod_template_hash(&other));
    }

    #[test]
    fn fail_tags() {
        assert!(image_tag_is_fail("nginx:fail"));
        assert!(image_tag_is_fail("reg.example.com:5000/app:fail"));
        assert!(!image_tag_is_fail("reg.example.com:5000/fail"));
        assert!(!image_tag_is_fail("nginx:failure"));
        assert!(wants_failure(&deploy("x:fail")));
        assert!(!wants_failure(&deploy("x:1")));
    }
}
