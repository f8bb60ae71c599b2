//! Pods as kwok (kubernetes-sigs/kwok) fakes them on a real API server: the ReplicaSet,
//! StatefulSet, DaemonSet and Job controllers create Pods from their templates, owned by
//! them and bound to one pretend node; a fake kubelet reports them Running and Ready (or
//! stuck in `ImagePullBackOff` where a fail mark or a `fail` image tag says so, Succeeded
//! or Failed with their Job). Nothing runs: no image is pulled, no container starts.
//! Extra pods are deleted; the garbage collector removes the pods of a deleted owner.

use super::Controllers;
use super::workload;
use crate::meta;
use crate::store::ObjKey;
use crate::write::{self, FieldValidation, Propagation, WriteOptions, allocate};
use serde_json::{Value, json};
use std::sync::Arc;

/// The node every pod is bound to.
pub const NODE: &str = "sandbox-node";
const MANAGER: &str = "kube-controller-manager";
const KUBELET: &str = "kubelet";

/// A pod IP in 10.244.0.0/16 derived from the pod's uid.
fn pod_ip(uid: &str) -> String {
    let n = uid.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("10.244.{}.{}", (n >> 8) & 0xff, (n & 0xfe).max(2))
}

/// The pod a workload creates: its template, owned by it, on the pretend node.
fn pod_from(
    owner: &Value,
    api_version: &str,
    kind: &str,
    name: &str,
    extra_labels: &[(&str, String)],
) -> Value {
    let template = &owner["spec"]["template"];
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    for (k, v) in extra_labels {
        metadata["labels"][*k] = json!(v);
    }
    metadata["name"] = json!(name);
    metadata["namespace"] = json!(meta::namespace(owner));
    if kind != "StatefulSet" {
        metadata["generateName"] = json!(format!("{}-", meta::name(owner)));
    }
    metadata["ownerReferences"] = json!([workload::controller_ref(owner, api_version, kind)]);
    if let Some(m) = metadata.as_object_mut() {
        m.remove("creationTimestamp");
    }
    let mut spec = template["spec"].clone();
    spec["nodeName"] = json!(NODE);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

fn condition(type_: &str, status: bool, reason: Option<&str>, now: &str) -> Value {
    let mut c = json!({"type": type_, "status": if status { "True" } else { "False" },
        "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// What the fake kubelet reports for a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Running and Ready.
    Running,
    /// Its image cannot be pulled: Pending, not Ready.
    ImagePullBackOff,
    /// Its Job completed.
    Succeeded,
    /// Its Job failed.
    Failed,
}

/// The status the fake kubelet writes.
pub fn pod_status(pod: &Value, phase: PodPhase, now: &str) -> Value {
    let ip = pod_ip(meta::uid(pod));
    let containers = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
    let ready = phase == PodPhase::Running;
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or_default();
            let state = match phase {
                PodPhase::Running => json!({"running": {"startedAt": now}}),
                PodPhase::ImagePullBackOff => json!({"waiting": {"reason": "ImagePullBackOff",
                    "message": format!("Back-off pulling image \"{image}\"")}}),
                PodPhase::Succeeded => json!({"terminated": {"exitCode": 0, "reason": "Completed",
                    "startedAt": now, "finishedAt": now}}),
                PodPhase::Failed => json!({"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": now, "finishedAt": now}}),
            };
            json!({"name": c["name"], "image": image, "imageID": "", "ready": ready,
                   "restartCount": 0, "started": ready, "state": state})
        })
        .collect();
    let (phase_name, not_ready) = match phase {
        PodPhase::Running => ("Running", None),
        PodPhase::ImagePullBackOff => ("Pending", Some("ContainersNotReady")),
        PodPhase::Succeeded => ("Succeeded", Some("PodCompleted")),
        PodPhase::Failed => ("Failed", Some("PodFailed")),
    };
    json!({
        "phase": phase_name,
        "conditions": [
            condition("PodReadyToStartContainers", true, None, now),
            condition("Initialized", true, None, now),
            condition("Ready", ready, not_ready, now),
            condition("ContainersReady", ready, not_ready, now),
            condition("PodScheduled", true, None, now),
        ],
        "hostIP": "10.0.0.1", "hostIPs": [{"ip": "10.0.0.1"}],
        "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": now, "qosClass": "BestEffort",
        "containerStatuses": statuses,
    })
}

impl Controllers {
    /// The stored objects of `group`/`resource` in `owner`'s namespace that it owns. Read
    /// from the store, not the dependents index: objects this loop just created are not
    /// indexed before their own events come round.
    pub(super) fn owned(
        &self,
        owner: &Value,
        group: &str,
        resource: &str,
    ) -> Vec<(ObjKey, Arc<Value>)> {
        let uid = meta::uid(owner);
        let store = self.state.store();
        store
            .range(group, resource, Some(meta::namespace(owner)))
            .filter(|(_, o)| meta::owner_uids(o).iter().any(|u| u == uid))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect()
    }

    /// Creates an object as a controller does: defaulted, its creator recorded in
    /// `managedFields`, the server's fields set; nothing if it exists.
    pub(super) fn create(&self, key: &ObjKey, mut obj: Value, manager: &str) {
        let Some(info) = self.state.resource(&key.group, &key.resource) else { return };
        let options = WriteOptions {
            dry_run: false,
            manager: manager.into(),
            explicit_manager: true,
            validation: FieldValidation::Ignore,
        };
        write::defaults(&info, &mut obj);
        write::on_create(&info, &mut obj, &options);
        write::server_fields_create(&info, &mut obj);
        let mut store = self.state.store();
        if store.get(key).is_some() {
            return;
        }
        allocate::on_create(&store, &info, &mut obj);
        if let Err(e) = write::commit(&mut store, key.clone(), None, obj, false) {
            tracing::warn!(object = %key.name, error = %e, "controller create failed");
        }
    }

    /// Keeps `want` pods of a workload (`kind` at `api_version`): creates the missing ones,
    /// deletes the extra ones (StatefulSets by ordinal, the highest first).
    pub(super) fn sync_pods(
        &mut self,
        key: &ObjKey,
        owner: &Value,
        api_version: &str,
        kind: &str,
        want: i64,
    ) {
        if meta::is_deleting(owner) {
            return;
        }
        let mut pods = self.owned(owner, "", "pods");
        pods.retain(|(_, p)| !meta::is_deleting(p));
        let want = usize::try_from(want.max(0)).unwrap_or(0);
        let name = meta::name(owner).to_string();
        if kind == "StatefulSet" {
            for i in 0..want {
                let pod_name = format!("{name}-{i}");
                if pods.iter().any(|(k, _)| k.name == pod_name) {
                    continue;
                }
                let labels = [
                    ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
                    ("apps.kubernetes.io/pod-index", i.to_string()),
                    (
                        "controller-revision-hash",
                        format!(
                            "{name}-{}",
                            workload::pod_template_hash(&owner["spec"]["template"])
                        ),
                    ),
                ];
                let pod = pod_from(owner, api_version, kind, &pod_name, &labels);
                self.create(&ObjKey::new("", "pods", &key.namespace, &pod_name), pod, MANAGER);
            }
            let extra = pods.into_iter().filter(|(k, _)| {
                k.name
                    .strip_prefix(&format!("{name}-"))
                    .and_then(|i| i.parse::<usize>().ok())
                    .is_none_or(|i| i >= want)
            });
            for (k, _) in extra {
                self.delete_pod(&k);
            }
            return;
        }
        let have = pods.len();
        for _ in have..want {
            let pod_name = format!("{name}-{}", meta::random_suffix());
            let labels: Vec<(&str, String)> = match kind {
                "DaemonSet" => {
                    vec![("pod-template-generation", meta::generation(owner).to_string())]
                }
                _ => vec![],
            };
            let pod = pod_from(owner, api_version, kind, &pod_name, &labels);
            self.create(&ObjKey::new("", "pods", &key.namespace, &pod_name), pod, MANAGER);
        }
        for (k, _) in pods.into_iter().skip(want) {
            self.delete_pod(&k);
        }
    }

    fn delete_pod(&mut self, key: &ObjKey) {
        super::gc::delete(self, key, Propagation::Background);
    }

    /// Whether a pod's workload is marked to fail (its images, its owner's annotations or
    /// fail marks, and for a Deployment's pods the Deployment's).
    fn pod_fails(&self, pod: &Value) -> bool {
        let images = pod["spec"]["containers"].as_array().into_iter().flatten();
        if images.filter_map(|c| c["image"].as_str()).any(workload::image_tag_is_fail) {
            return true;
        }
        let mut current = pod.clone();
        for _ in 0..2 {
            let Some(owner_uid) = meta::owner_uids(&current).into_iter().next() else {
                return false;
            };
            let Some(key) = self.uids.get(&owner_uid).cloned() else { return false };
            let Some(owner) = self.state.store().get(&key).cloned() else { return false };
            if workload::wants_failure(&owner)
                || self.state.controls.rollout_fails(&key.namespace, &key.name)
            {
                return true;
            }
            current = (*owner).clone();
        }
        false
    }

    /// The fake kubelet: reports a bound pod's status, once, and again when its Job ends.
    pub(super) fn kubelet(&mut self, key: &ObjKey, pod: &Value) {
        if meta::is_deleting(pod) || pod["spec"]["nodeName"] != NODE {
            return;
        }
        let job_phase = self.owner_job_phase(pod);
        let phase = match job_phase {
            Some(p) => p,
            None if self.pod_fails(pod) => PodPhase::ImagePullBackOff,
            None => PodPhase::Running,
        };
        let current = pod["status"]["phase"].as_str();
        let wanted = pod_status(pod, phase, "");
        if current == wanted["phase"].as_str() {
            return;
        }
        let status = pod_status(pod, phase, &meta::now());
        self.set_status(key, pod, KUBELET, status);
    }

    /// How a Job's pod ends: with its Job (None while the Job runs or for other pods).
    fn owner_job_phase(&self, pod: &Value) -> Option<PodPhase> {
        let refs = pod["metadata"]["ownerReferences"].as_array()?;
        let job_ref = refs.iter().find(|r| r["kind"] == "Job")?;
        let key = self.uids.get(job_ref["uid"].as_str()?)?.clone();
        let job = self.state.store().get(&key).cloned()?;
        let done = |t: &str| {
            job["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["type"] == t && c["status"] == "True"))
        };
        if done("Complete") {
            Some(PodPhase::Succeeded)
        } else if done("Failed") {
            Some(PodPhase::Failed)
        } else {
            Some(PodPhase::Running)
        }
    }
}
