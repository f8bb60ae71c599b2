//! The zero values of the built-in kinds: the object kube-apiserver's typed zero value of
//! a kind converts to, which the field manager compares a created object against (so a
//! creator does not own `status: {}` or a non-omitempty `0`).

use serde_json::{Value, json};

/// The object kube-apiserver's typed zero value of a kind converts to: non-omitempty fields
/// are present (`null` for nil pointers and slices, `{}` for structs, `""`/`0` for scalars).
pub(super) fn object(kind: &str) -> Value {
    let meta = json!({"creationTimestamp": null});
    let template = json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": null}});
    let mut zero = match kind {
        "Namespace" => json!({"spec": {}, "status": {}}),
        "Service" => json!({"spec": {}, "status": {"loadBalancer": {}}}),
        "PersistentVolumeClaim" => json!({"spec": {"resources": {}}, "status": {}}),
        "Pod" => json!({"spec": {"containers": null}, "status": {}}),
        "Event" => json!({
            "involvedObject": {}, "source": {}, "firstTimestamp": null, "lastTimestamp": null,
            "eventTime": null, "reportingComponent": "", "reportingInstance": ""
        }),
        "Deployment" => json!({
            "spec": {"selector": null, "template": template, "strategy": {}}, "status": {}
        }),
        "ReplicaSet" => json!({
            "spec": {"selector": null, "template": template}, "status": {"replicas": 0}
        }),
        "DaemonSet" => json!({
            "spec": {"selector": null, "template": template, "updateStrategy": {}},
            "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                       "desiredNumberScheduled": 0, "numberReady": 0}
        }),
        "StatefulSet" => json!({
            "spec": {"selector": null, "template": template, "serviceName": "",
                     "updateStrategy": {}},
            "status": {"replicas": 0, "availableReplicas": 0}
        }),
        "Job" => json!({"spec": {"template": template}, "status": {}}),
        "CronJob" => json!({
            "spec": {"schedule": "", "jobTemplate": {"metadata": {"creationTimestamp": null},
                     "spec": {"template": template}}},
            "status": {}
        }),
        "Ingress" => json!({"spec": {}, "status": {"loadBalancer": {}}}),
        "HorizontalPodAutoscaler" => json!({
            "spec": {"scaleTargetRef": {"kind": "", "name": ""}, "maxReplicas": 0},
            "status": {"desiredReplicas": 0}
        }),
        "PersistentVolume" => json!({"spec": {}, "status": {}}),
        "PriorityClass" => json!({"value": 0}),
        "ControllerRevision" => json!({"revision": 0}),
        "StorageClass" => json!({"provisioner": ""}),
        "APIService" => json!({"spec": {"groupPriorityMinimum": 0, "versionPriority": 0},
            "status": {}}),
        "PodDisruptionBudget" => json!({"spec": {}, "status": {"disruptionsAllowed": 0,
            "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}}),
        "NetworkPolicy" => json!({"spec": {"podSelector": {}}}),
        "Role" | "ClusterRole" => json!({"rules": null}),
        "ResourceQuota" => json!({"spec": {}, "status": {}}),
        "LimitRange" => json!({"spec": {"limits": null}}),
        "RoleBinding" | "ClusterRoleBinding" => {
            json!({"roleRef": {"apiGroup": "", "kind": "", "name": ""}})
        }
        "Lease" => json!({"spec": {}}),
        "CustomResourceDefinition" => json!({
            "spec": {"group": "", "names": {"plural": "", "kind": ""}, "scope": "",
                     "versions": null},
            "status": {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": null}
        }),
        _ => json!({}),
    };
    if let Value::Object(map) = &mut zero {
        map.insert("metadata".to_string(), meta);
    }
    zero
}

/// The autoscaling/v1 HorizontalPodAutoscaler's zero value (its status counters are not
/// omitempty).
pub(super) fn hpa_v1() -> Value {
    json!({"metadata": {"creationTimestamp": null},
           "spec": {"scaleTargetRef": {"kind": "", "name": ""}, "maxReplicas": 0},
           "status": {"currentReplicas": 0, "desiredReplicas": 0}})
}

/// The events.k8s.io/v1 Event's zero value: `eventTime` and the deprecated timestamps are
/// non-pointer times (null), `regarding` and `deprecatedSource` non-pointer structs.
pub(super) fn events_v1() -> Value {
    json!({"metadata": {"creationTimestamp": null}, "eventTime": null, "regarding": {},
           "deprecatedSource": {}, "deprecatedFirstTimestamp": null,
           "deprecatedLastTimestamp": null})
}
