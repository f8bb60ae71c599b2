//! Rendered objects: their apply stage, identity, ordering and Cetus's metadata. The digest
//! of a list of them is in `digest`.
//!
//! Everything here is pure. The stage order is the engine's apply order (DESIGN §5): cluster
//! scaffolding, then configuration, Services, pre-sync jobs, workloads, the rest, and finally
//! post-sync jobs and tests.

use serde_json::{Map, Value};
use std::fmt;

/// Label every Cetus-managed object carries: `app.kubernetes.io/managed-by: cetus`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Label naming the app an object belongs to.
pub const APP: &str = "cetus.dev/app";
/// Annotation `<app>:<group>/<kind>:<namespace>/<name>`; only that app may prune the object.
pub const TRACKING: &str = "cetus.dev/tracking";
/// Annotation ordering objects within a stage (an integer, default 0).
pub const SYNC_WAVE: &str = "cetus.dev/sync-wave";
/// Annotation on Jobs: `pre-sync`, `post-sync` or `test`.
pub const PHASE: &str = "cetus.dev/phase";
/// Pod label naming the service (part of the selector).
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Pod label naming the app (part of the selector).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// When an object is applied in a sync, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Namespaces and CustomResourceDefinitions.
    Cluster,
    /// ServiceAccounts, RBAC, ConfigMaps, Secrets, PersistentVolumeClaims, quotas.
    Config,
    /// Services.
    Services,
    /// Jobs that run before the workloads (migrations).
    PreSync,
    /// Deployments, StatefulSets, DaemonSets, CronJobs, plain Jobs and Pods.
    Workloads,
    /// Ingress, NetworkPolicies, autoscalers, custom resources and everything else.
    Other,
    /// Jobs that run once the app is healthy.
    PostSync,
    /// Post-sync tests; a failure rolls the app back.
    Test,
}

impl Stage {
    /// The stage a raw object of `kind` belongs to (Jobs go by their `cetus.dev/phase`).
    pub fn of(kind: &str, phase: Option<&str>) -> Stage {
        match (kind, phase) {
            ("Job", Some("pre-sync")) => Stage::PreSync,
            ("Job", Some("post-sync")) => Stage::PostSync,
            ("Job", Some("test")) => Stage::Test,
            ("Namespace" | "CustomResourceDefinition", _) => Stage::Cluster,
            (
                "ServiceAccount"
                | "Role"
                | "ClusterRole"
                | "RoleBinding"
                | "ClusterRoleBinding"
                | "ConfigMap"
                | "Secret"
                | "PersistentVolumeClaim"
                | "PersistentVolume"
                | "StorageClass"
                | "ResourceQuota"
                | "LimitRange"
                | "PriorityClass",
                _,
            ) => Stage::Config,
            ("Service", _) => Stage::Services,
            (
                "Deployment"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicaSet"
                | "Pod"
                | "CronJob"
                | "Job"
                | "ReplicationController",
                _,
            ) => Stage::Workloads,
            _ => Stage::Other,
        }
    }
}

/// Kinds of the built-in API groups that are not namespaced.
const CLUSTER_SCOPED: [&str; 16] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Whether a built-in kind is cluster-scoped.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// The identity of an object in a cluster.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ObjectKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The key of a manifest (missing fields are empty).
    pub fn of(value: &Value) -> ObjectKey {
        let text = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let api_version = text("/apiVersion");
        ObjectKey {
            group: api_version.rsplit_once('/').map_or("", |(g, _)| g).to_string(),
            kind: text("/kind").to_string(),
            namespace: text("/metadata/namespace").to_string(),
            name: text("/metadata/name").to_string(),
        }
    }

    /// The tracking annotation value for `app`.
    pub fn tracking(&self, app: &str) -> String {
        format!("{app}:{}/{}:{}/{}", self.group, self.kind, self.namespace, self.name)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{} ", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The manifest, ready to apply.
    pub value: Value,
    /// When it is applied.
    pub stage: Stage,
    /// Its order within the stage (`cetus.dev/sync-wave`).
    pub wave: i64,
    /// What produced it, for messages.
    pub source: Source,
    /// Its identity, read from `value` when the object was made.
    pub key: ObjectKey,
}

/// What produced an object: a place in a file, and the field or manifest there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, relative to its repository.
    pub file: String,
    /// Where in the file.
    pub position: Option<crate::yaml::Position>,
    /// The field (`services.web`) or manifest (`ConfigMap settings`) at that place.
    pub what: String,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{} ({})", self.file, p.line, p.column, self.what),
            None => write!(f, "{} ({})", self.file, self.what),
        }
    }
}

impl Object {
    /// A new object, its stage and wave taken from its kind and annotations.
    pub fn new(value: Value, source: Source) -> Object {
        let key = ObjectKey::of(&value);
        Self::with_key(value, source, key)
    }

    /// [`Object::new`] for a caller that already read the key.
    fn with_key(value: Value, source: Source, key: ObjectKey) -> Object {
        let annotations = value.pointer("/metadata/annotations");
        let annotation = |key: &str| annotations.and_then(|a| a.get(key));
        let phase = annotation(PHASE).and_then(Value::as_str);
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
        let stage = Stage::of(kind, phase);
        let wave = annotation(SYNC_WAVE)
            .and_then(|w| w.as_str().and_then(|s| s.trim().parse().ok()).or(w.as_i64()))
            .unwrap_or(0);
        Object { value, stage, wave, source, key }
    }
}

/// Makes an [`Object`] of a manifest owned by `app`, adding Cetus's labels and tracking
/// annotation.
pub fn stamped(mut value: Value, app: &str, source: Source) -> Object {
    let key = ObjectKey::of(&value);
    stamp(&mut value, &key.tracking(app), app);
    Object::with_key(value, source, key)
}

fn stamp(value: &mut Value, tracking: &str, app: &str) {
    let metadata = value
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| Value::Object(Map::new())));
    let Some(Value::Object(metadata)) = metadata else { return };
    let labels = metadata.entry("labels").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(labels) = labels {
        labels.insert(MANAGED_BY.into(), "cetus".into());
        labels.insert(APP.into(), app.into());
    }
    let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(annotations) = annotations {
        annotations.insert(TRACKING.into(), tracking.into());
    }
}

/// Sorts objects by stage, wave, namespace, kind and name: the apply order.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        let (ka, kb) = (&a.key, &b.key);
        (a.stage, a.wave, &ka.namespace, &ka.kind, &ka.name, &ka.group).cmp(&(
            b.stage,
            b.wave,
            &kb.namespace,
            &kb.kind,
            &kb.name,
            &kb.group,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source() -> Source {
        Source { file: "f".into(), position: None, what: "x".into() }
    }

    #[test]
    fn stage_and_wave_come_from_kind_and_annotations() {
        let job = json!({"kind": "Job", "metadata": {"annotations": {PHASE: "post-sync", SYNC_WAVE: "-2"}}});
        let object = Object::new(job, source());
        assert_eq!((object.stage, object.wave), (Stage::PostSync, -2));
        assert_eq!(Object::new(json!({"kind": "Widget"}), source()).stage, Stage::Other);
    }
}
