//! The ReplicaSets of a Deployment, as the deployment controller keeps them: one per pod
//! template, named `<deployment>-<pod-template-hash>`, labelled and selected by that hash,
//! owned by the Deployment, annotated with its revision (a template rolled back to gets
//! the next revision, as `kubectl rollout undo` expects); the new one scaled to the
//! rollout's updated replicas, the newest old one to the rest, older ones to zero; the
//! Deployment annotated with its current revision. What the ReplicaSets then do (their
//! pods) is [`super::pods`]'.

use super::Controllers;
use super::workload::{controller_ref, pod_template_hash};
use crate::meta;
use crate::store::ObjKey;
use serde_json::{Map, Value, json};

/// The label a Deployment's ReplicaSets and pods carry.
pub const HASH_LABEL: &str = "pod-template-hash";
/// The revision annotation of Deployments and their ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const MANAGER: &str = "kube-controller-manager";

/// Annotations of a Deployment not copied to its ReplicaSets (the deployment controller's
/// `skipCopyAnnotation`).
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

fn revision(obj: &Value) -> i64 {
    meta::annotation(obj, REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// A Deployment's ReplicaSet for its current template.
fn new_replica_set(d: &Value, hash: &str, replicas: i64, revision: i64) -> Value {
    let mut template = d["spec"]["template"].clone();
    template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let mut annotations: Map<String, Value> = meta::string_map(d, "annotations")
        .filter(|(k, _)| !NOT_COPIED.contains(k))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let r = d["spec"]["replicas"].as_i64().unwrap_or(1);
    annotations.insert("deployment.kubernetes.io/desired-replicas".into(), json!(r.to_string()));
    annotations.insert("deployment.kubernetes.io/max-replicas".into(), json!((r + 1).to_string()));
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", meta::name(d)), "namespace": meta::namespace(d),
            "labels": template["metadata"]["labels"].clone(), "annotations": annotations,
            "ownerReferences": [controller_ref(d, "apps/v1", "Deployment")],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template,
                 "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0)},
    })
}

impl Controllers {
    /// Keeps a Deployment's ReplicaSets at `updated` new and `old` old replicas.
    pub(super) fn sync_replica_sets(&mut self, key: &ObjKey, d: &Value, updated: i64, old: i64) {
        let hash = pod_template_hash(&d["spec"]["template"]);
        let owned = self.owned(d, "apps", "replicasets");
        let max = owned.iter().map(|(_, rs)| revision(rs)).max().unwrap_or(0);
        let current = owned.iter().find(|(_, rs)| meta::label(rs, HASH_LABEL) == Some(&hash));
        let rev = match current {
            Some((_, rs)) if revision(rs) == max => max,
            _ => max + 1,
        };
        match current {
            Some((k, rs)) => {
                let rev_s = rev.to_string();
                self.update(k, rs, MANAGER, None, |o| {
                    o["spec"]["replicas"] = json!(updated);
                    meta::metadata_mut(o).entry("annotations").or_insert_with(|| json!({}))
                        [REVISION] = json!(rev_s);
                });
            }
            None => {
                let rs = new_replica_set(d, &hash, updated, rev);
                let k = ObjKey::new("apps", "replicasets", &key.namespace, meta::name(&rs));
                self.create(&k, rs, MANAGER);
            }
        }
        // The newest old ReplicaSet keeps the old replicas still wanted; the rest go to 0.
        let mut olds: Vec<&(ObjKey, std::sync::Arc<Value>)> =
            owned.iter().filter(|(_, rs)| meta::label(rs, HASH_LABEL) != Some(&hash)).collect();
        olds.sort_by_key(|(_, rs)| std::cmp::Reverse(revision(rs)));
        for (i, (k, rs)) in olds.into_iter().enumerate() {
            let want = if i == 0 { old } else { 0 };
            if rs["spec"]["replicas"].as_i64() != Some(want) {
                self.update(k, rs, MANAGER, None, |o| o["spec"]["replicas"] = json!(want));
            }
        }
        // Re-read: the status write just before moved the Deployment's resourceVersion.
        let Some(d) = self.state.store().get(key).cloned() else { return };
        if meta::annotation(&d, REVISION) != Some(rev.to_string().as_str()) {
            let rev = rev.to_string();
            self.update(key, &d, MANAGER, None, |o| {
                meta::metadata_mut(o).entry("annotations").or_insert_with(|| json!({}))[REVISION] =
                    json!(rev);
            });
        }
    }
}
