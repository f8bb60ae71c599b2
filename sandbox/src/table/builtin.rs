//! The columns kube-apiserver's printers give the built-in kinds (what `kubectl get`
//! shows for Deployments, Services, Pods, claims, ...) and the cells of each row. Events
//! have a printer of their own ([`super::events`]).

use super::{AGE, Col, NAME, col, wide};
use crate::meta;
use serde_json::{Value, json};

pub(super) fn builtin_columns(kind: &str) -> Vec<Col> {
    let mut cols = vec![NAME];
    cols.extend(match kind {
        "Deployment" => vec![
            col("Ready", "string", "Number of the pod with ready state"),
            col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
        ],
        "StatefulSet" => vec![col("Ready", "string", "Number of the pod with ready state")],
        "ReplicaSet" => vec![
            col("Desired", "integer", "Replicas is the number of desired replicas."),
            col("Current", "integer", "Replicas is the most recently observed number of replicas."),
            col("Ready", "integer", "The number of ready replicas for this replica set."),
        ],
        "DaemonSet" => vec![
            col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
            col("Current", "integer", "The number of nodes that are running at least 1 daemon pod."),
            col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
            col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
            col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
            col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
        ],
        "Service" => vec![
            col("Type", "string", "type determines how the Service is exposed."),
            col("Cluster-IP", "string", "clusterIP is the IP address of the service."),
            col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            col("Port(s)", "string", "The list of ports that are exposed by this service."),
        ],
        "ConfigMap" => vec![col("Data", "integer", "Data contains the configuration data.")],
        "Secret" => vec![
            col("Type", "string", "Used to facilitate programmatic handling of secret data."),
            col("Data", "integer", "Data contains the secret data."),
        ],
        "Namespace" => vec![col("Status", "string", "The status of the namespace")],
        "Pod" => vec![
            col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", "The aggregate status of the containers in this pod."),
            col("Restarts", "string", "The number of times the containers in this pod have been restarted."),
        ],
        "Job" => vec![
            col("Status", "string", "Status of the job."),
            col("Completions", "string", "The completion status of the job"),
            col("Duration", "string", "Time required to complete the job."),
        ],
        "PersistentVolumeClaim" => vec![
            col("Status", "string", "The phase of the claim."),
            col("Volume", "string", "The binding reference to the PersistentVolume backing this claim."),
            col("Capacity", "string", "The actual resources of the underlying volume."),
            col("Access Modes", "string", "The actual access modes the volume backing the PVC has."),
            col("StorageClass", "string", "The name of the StorageClass required by the claim."),
        ],
        "Ingress" => vec![
            col("Class", "string", "The name of the IngressClass resource."),
            col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
            col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
            col("Ports", "string", "Ports of TLS configurations that open"),
        ],
        "Lease" => vec![col("Holder", "string", "HolderIdentity is the identity of the holder of a current lease.")],
        _ => vec![],
    });
    if kind == "Deployment" {
        cols.push(AGE);
        cols.push(wide("Containers", "string", "Names of each container in the template."));
        cols.push(wide("Images", "string", "Images referenced by each container in the template."));
        cols.push(wide("Selector", "string", "Label selector for pods."));
        return cols;
    }
    cols.push(AGE);
    if kind == "Pod" {
        cols.push(wide(
            "IP",
            "string",
            "IP address allocated to the pod. Routable at least within the cluster.",
        ));
        cols.push(wide(
            "Node",
            "string",
            "NodeName is a request to schedule this pod onto a specific node.",
        ));
        cols.push(wide(
            "Nominated Node",
            "string",
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ));
        cols.push(wide(
            "Readiness Gates",
            "string",
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ));
    }
    cols
}

fn int(obj: &Value, path: &[&str]) -> i64 {
    let mut cur = obj;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_i64().unwrap_or(0)
}

fn count(obj: &Value, field: &str) -> usize {
    obj.get(field).and_then(Value::as_object).map_or(0, |m| m.len())
}

pub(super) fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = sel["matchLabels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    if let Some(exprs) = sel["matchExpressions"].as_array() {
        for e in exprs {
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let key = e["key"].as_str().unwrap_or_default();
            parts.push(match e["operator"].as_str() {
                Some("In") => format!("{key} in ({})", values.join(",")),
                Some("NotIn") => format!("{key} notin ({})", values.join(",")),
                Some("DoesNotExist") => format!("!{key}"),
                _ => key.to_string(),
            });
        }
    }
    parts.join(",")
}

fn service_ports(obj: &Value) -> String {
    let ports: Vec<String> = obj["spec"]["ports"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    let proto = p["protocol"].as_str().unwrap_or("TCP");
                    match p["nodePort"].as_i64() {
                        Some(np) => format!("{}:{np}/{proto}", p["port"]),
                        None => format!("{}/{proto}", p["port"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if ports.is_empty() { "<none>".into() } else { ports.join(",") }
}

fn condition_true(obj: &Value, type_: &str) -> bool {
    obj["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == type_ && c["status"] == "True"))
}

pub(super) fn joined(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

fn map_string(m: &Value) -> String {
    m.as_object()
        .map(|m| joined(m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))))
        .unwrap_or_default()
}

/// The addresses of `status.loadBalancer.ingress`.
fn ingress_addresses(status: &Value) -> String {
    status["loadBalancer"]["ingress"]
        .as_array()
        .map(|a| {
            joined(
                a.iter()
                    .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
                    .map(str::to_string),
            )
        })
        .unwrap_or_default()
}

fn workload_cells(kind: &str, obj: &Value) -> Vec<Value> {
    let s = &obj["status"];
    let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    match kind {
        "Deployment" => vec![
            json!(format!("{}/{replicas}", int(s, &["readyReplicas"]))),
            json!(int(s, &["updatedReplicas"])),
            json!(int(s, &["availableReplicas"])),
        ],
        "StatefulSet" => vec![json!(format!("{}/{replicas}", int(s, &["readyReplicas"])))],
        "ReplicaSet" => {
            vec![json!(replicas), json!(int(s, &["replicas"])), json!(int(s, &["readyReplicas"]))]
        }
        _ => {
            let selector = map_string(&obj["spec"]["template"]["spec"]["nodeSelector"]);
            let mut cells: Vec<Value> = [
                "desiredNumberScheduled",
                "currentNumberScheduled",
                "numberReady",
                "updatedNumberScheduled",
                "numberAvailable",
            ]
            .iter()
            .map(|f| json!(int(s, &[f])))
            .collect();
            cells.push(json!(if selector.is_empty() { "<none>".to_string() } else { selector }));
            cells
        }
    }
}

fn service_cells(obj: &Value) -> Vec<Value> {
    let ext = obj["spec"]["externalIPs"]
        .as_array()
        .map(|a| joined(a.iter().filter_map(Value::as_str).map(str::to_string)));
    let lb = ingress_addresses(&obj["status"]);
    let type_ = obj["spec"]["type"].as_str().unwrap_or("ClusterIP");
    let external = match (ext.filter(|e| !e.is_empty()), type_) {
        (Some(e), _) => e,
        (None, _) if !lb.is_empty() => lb,
        (None, "LoadBalancer") => "<pending>".into(),
        _ => "<none>".into(),
    };
    vec![
        json!(type_),
        json!(obj["spec"]["clusterIP"].as_str().unwrap_or("<none>")),
        json!(external),
        json!(service_ports(obj)),
    ]
}

fn job_cells(obj: &Value) -> Vec<Value> {
    let s = &obj["status"];
    let status = if condition_true(obj, "Complete") {
        "Complete"
    } else if condition_true(obj, "Failed") {
        "Failed"
    } else {
        "Running"
    };
    let completions = obj["spec"]["completions"].as_i64().unwrap_or(1);
    let start = s["startTime"].as_str().and_then(meta::parse_timestamp);
    let end = s["completionTime"].as_str().and_then(meta::parse_timestamp);
    let duration = match (start, end) {
        (Some(a), Some(b)) => {
            b.duration_since(a).try_into().map(meta::human_duration).unwrap_or_default()
        }
        _ => String::new(),
    };
    vec![json!(status), json!(format!("{}/{completions}", int(s, &["succeeded"]))), json!(duration)]
}

fn claim_cells(obj: &Value) -> Vec<Value> {
    let s = &obj["status"];
    let modes = s["accessModes"]
        .as_array()
        .map(|a| joined(a.iter().filter_map(Value::as_str).map(|m| access_mode(m).to_string())));
    vec![
        json!(s["phase"].as_str().unwrap_or("Pending")),
        json!(obj["spec"]["volumeName"].as_str().unwrap_or_default()),
        json!(s["capacity"]["storage"].as_str().unwrap_or_default()),
        json!(modes.unwrap_or_default()),
        json!(obj["spec"]["storageClassName"].as_str().unwrap_or("<unset>")),
    ]
}

fn ingress_cells(obj: &Value) -> Vec<Value> {
    let hosts = obj["spec"]["rules"]
        .as_array()
        .map(|a| joined(a.iter().filter_map(|r| r["host"].as_str()).map(str::to_string)));
    let tls = obj["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty());
    vec![
        json!(obj["spec"]["ingressClassName"].as_str().unwrap_or("<none>")),
        json!(hosts.filter(|h| !h.is_empty()).unwrap_or_else(|| "*".into())),
        json!(ingress_addresses(&obj["status"])),
        json!(if tls { "80, 443" } else { "80" }),
    ]
}

/// Ready, Status and Restarts as kube-apiserver's `printPod` gives them: the status is
/// the phase unless a container waits or terminated with a reason (`ImagePullBackOff`,
/// `Completed`).
fn pod_cells(obj: &Value) -> Vec<Value> {
    let s = &obj["status"];
    let total = obj["spec"]["containers"].as_array().map_or(0, Vec::len);
    let statuses = s["containerStatuses"].as_array().cloned().unwrap_or_default();
    let ready = statuses.iter().filter(|c| c["ready"] == true).count();
    let mut reason = s["reason"].as_str().or(s["phase"].as_str()).unwrap_or("Pending").to_string();
    for c in statuses.iter().rev() {
        let state = &c["state"];
        if let Some(r) = state["waiting"]["reason"].as_str().filter(|r| !r.is_empty()) {
            reason = r.to_string();
        } else if let Some(r) = state["terminated"]["reason"].as_str().filter(|r| !r.is_empty()) {
            reason = r.to_string();
        }
    }
    let restarts: i64 = statuses.iter().filter_map(|c| c["restartCount"].as_i64()).sum();
    vec![json!(format!("{ready}/{total}")), json!(reason), json!(restarts.to_string())]
}

/// The `-o wide` cells of a Pod: IP, node, nominated node, readiness gates.
fn pod_wide_cells(obj: &Value) -> Vec<Value> {
    let gates = obj["spec"]["readinessGates"].as_array().map_or(0, Vec::len);
    vec![
        json!(obj["status"]["podIP"].as_str().unwrap_or("<none>")),
        json!(obj["spec"]["nodeName"].as_str().unwrap_or("<none>")),
        json!(obj["status"]["nominatedNodeName"].as_str().unwrap_or("<none>")),
        json!(if gates == 0 { "<none>".to_string() } else { format!("0/{gates}") }),
    ]
}

/// The `-o wide` cells of a Deployment: containers, images, selector.
fn deployment_wide_cells(obj: &Value) -> Vec<Value> {
    let cs = obj["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
    let field = |f: &str| joined(cs.iter().filter_map(|c| c[f].as_str()).map(str::to_string));
    vec![
        json!(field("name")),
        json!(field("image")),
        json!(selector_string(&obj["spec"]["selector"])),
    ]
}

/// The cells after Name, in the order of [`builtin_columns`].
pub(super) fn builtin_cells(kind: &str, obj: &Value) -> Vec<Value> {
    let s = &obj["status"];
    let mut cells = match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => workload_cells(kind, obj),
        "Service" => service_cells(obj),
        "ConfigMap" => vec![json!(count(obj, "data") + count(obj, "binaryData"))],
        "Secret" => {
            vec![json!(obj["type"].as_str().unwrap_or("Opaque")), json!(count(obj, "data"))]
        }
        "Namespace" => vec![json!(s["phase"].as_str().unwrap_or("Active"))],
        "Pod" => pod_cells(obj),
        "Job" => job_cells(obj),
        "PersistentVolumeClaim" => claim_cells(obj),
        "Ingress" => ingress_cells(obj),
        "Lease" => vec![json!(obj["spec"]["holderIdentity"].as_str().unwrap_or_default())],
        _ => vec![],
    };
    cells.push(json!(meta::age(obj)));
    if kind == "Deployment" {
        cells.extend(deployment_wide_cells(obj));
    }
    if kind == "Pod" {
        cells.extend(pod_wide_cells(obj));
    }
    cells
}

pub(super) fn access_mode(m: &str) -> &str {
    match m {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        other => other,
    }
}
