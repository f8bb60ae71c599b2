//! The printers kube-apiserver has for the kinds whose tables are not Name, a few columns
//! and Age: autoscalers, CronJobs, ServiceAccounts, RBAC, NetworkPolicies, disruption
//! budgets, quotas, storage, endpoints, webhooks, API services, priority classes and
//! controller revisions. Each gives its whole column list (Role, ClusterRole and
//! LimitRange print `Created At` instead of an age) and its cells.

use super::builtin::{access_mode, joined, selector_string};
use super::{AGE, Col, NAME, col, wide};
use crate::meta;
use serde_json::{Value, json};

/// Kubernetes' `Created At` column (a date, not an age).
const CREATED_AT: Col = col(
    "Created At",
    "date",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

/// The columns of a kind this module prints, or `None`.
pub(super) fn columns(kind: &str) -> Option<Vec<Col>> {
    let mut cols = vec![NAME];
    let rest = match kind {
        "HorizontalPodAutoscaler" => vec![
            col("Reference", "string", "scaleTargetRef points to the target resource to scale."),
            col(
                "Targets",
                "string",
                "metrics contains the specifications for which to use to calculate the desired replica count.",
            ),
            col(
                "MinPods",
                "string",
                "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
            ),
            col(
                "MaxPods",
                "string",
                "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
            ),
            col(
                "Replicas",
                "string",
                "currentReplicas is current number of replicas of pods managed by this autoscaler.",
            ),
            AGE,
        ],
        "CronJob" => vec![
            col("Schedule", "string", "The schedule in Cron format."),
            col("Timezone", "string", "The time zone name for the given schedule."),
            col(
                "Suspend",
                "boolean",
                "This flag tells the controller to suspend subsequent executions.",
            ),
            col("Active", "integer", "A list of pointers to currently running jobs."),
            col(
                "Last Schedule",
                "string",
                "Information when was the last time the job was successfully scheduled.",
            ),
            AGE,
            wide("Containers", "string", "Names of each container in the template."),
            wide("Images", "string", "Images referenced by each container in the template."),
            wide("Selector", "string", "A label query over pods that should match the pod count."),
        ],
        "ServiceAccount" => vec![
            col(
                "Secrets",
                "string",
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            ),
            AGE,
        ],
        "Role" | "ClusterRole" | "LimitRange" => vec![CREATED_AT],
        "RoleBinding" | "ClusterRoleBinding" => vec![
            col(
                "Role",
                "string",
                "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
            ),
            AGE,
            wide("Users", "string", "Users in the binding"),
            wide("Groups", "string", "Groups in the binding"),
            wide("ServiceAccounts", "string", "ServiceAccounts in the binding"),
        ],
        "NetworkPolicy" => vec![
            col(
                "Pod-Selector",
                "string",
                "Selects the pods to which this NetworkPolicy object applies.",
            ),
            AGE,
        ],
        "PodDisruptionBudget" => vec![
            col(
                "Min Available",
                "string",
                "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction.",
            ),
            col(
                "Max Unavailable",
                "string",
                "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction.",
            ),
            col(
                "Allowed Disruptions",
                "integer",
                "Number of pod disruptions that are currently allowed.",
            ),
            AGE,
        ],
        "ResourceQuota" => vec![
            AGE,
            col(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            col(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
        ],
        "IngressClass" => vec![
            col("Controller", "string", "Controller that is responsible for handling this class."),
            col("Parameters", "string", "A reference to a resource with additional parameters."),
            AGE,
        ],
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            vec![
                col(
                    "Webhooks",
                    "integer",
                    "Webhooks is a list of webhooks and the affected resources and operations.",
                ),
                AGE,
            ]
        }
        "APIService" => vec![
            col("Service", "string", "The reference to the service that hosts this API endpoint."),
            col("Available", "string", "Whether this service is available."),
            AGE,
        ],
        "PersistentVolume" => vec![
            col(
                "Capacity",
                "string",
                "capacity is the description of the persistent volume's resources and capacity.",
            ),
            col(
                "Access Modes",
                "string",
                "accessModes contains all ways the volume can be mounted.",
            ),
            col(
                "Reclaim Policy",
                "string",
                "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
            ),
            col(
                "Status",
                "string",
                "phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            col(
                "Claim",
                "string",
                "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
            ),
            col(
                "StorageClass",
                "string",
                "storageClassName is the name of StorageClass to which this persistent volume belongs.",
            ),
            col(
                "VolumeAttributesClass",
                "string",
                "Name of VolumeAttributesClass to which this persistent volume belongs.",
            ),
            col(
                "Reason",
                "string",
                "reason is a brief CamelCase string that describes any failure.",
            ),
            AGE,
            wide(
                "VolumeMode",
                "string",
                "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
            ),
        ],
        "StorageClass" => vec![
            col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
            col(
                "ReclaimPolicy",
                "string",
                "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
            ),
            col(
                "VolumeBindingMode",
                "string",
                "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
            ),
            col(
                "AllowVolumeExpansion",
                "string",
                "allowVolumeExpansion shows whether the storage class allow volume expand.",
            ),
            AGE,
        ],
        "Endpoints" => vec![
            col("Endpoints", "string", "Endpoints is the list of endpoints in the service."),
            AGE,
        ],
        "EndpointSlice" => vec![
            col(
                "AddressType",
                "string",
                "addressType specifies the type of address carried by this EndpointSlice.",
            ),
            col(
                "Ports",
                "string",
                "ports specifies the list of network ports exposed by each endpoint in this slice.",
            ),
            col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
            AGE,
        ],
        "ControllerRevision" => vec![
            col("Controller", "string", "Controller of the object."),
            col(
                "Revision",
                "integer",
                "Revision indicates the revision of the state represented by Data.",
            ),
            AGE,
        ],
        "PriorityClass" => vec![
            col("Value", "integer", "value represents the integer value of this priority class."),
            col(
                "Global-Default",
                "boolean",
                "globalDefault specifies whether this PriorityClass should be considered as the default priority.",
            ),
            AGE,
            col(
                "PreemptionPolicy",
                "string",
                "preemptionPolicy is the Policy for preempting pods with lower priority.",
            ),
        ],
        _ => return None,
    };
    cols.extend(rest);
    Some(cols)
}

fn s<'a>(v: &'a Value, or: &'a str) -> &'a str {
    v.as_str().filter(|s| !s.is_empty()).unwrap_or(or)
}

/// `5` or `25%` (an IntOrString) as printed, `N/A` when unset.
fn int_or_string(v: &Value) -> String {
    match v {
        Value::Null => "N/A".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `cpu: <unknown>/80%`, as kube-apiserver's `formatHPAMetrics` prints resource metrics.
fn hpa_targets(obj: &Value) -> String {
    let Some(metrics) = obj["spec"]["metrics"].as_array().filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let current = obj["status"]["currentMetrics"].as_array().cloned().unwrap_or_default();
    let parts: Vec<String> = metrics
        .iter()
        .take(3)
        .map(|m| {
            let r = &m["resource"];
            let name = s(&r["name"], "<unknown>");
            let now = current
                .iter()
                .find(|c| c["resource"]["name"] == r["name"])
                .and_then(|c| c["resource"]["current"]["averageUtilization"].as_i64())
                .map_or("<unknown>".to_string(), |u| format!("{u}%"));
            match r["target"]["averageUtilization"].as_i64() {
                Some(t) => format!("{name}: {now}/{t}%"),
                None => format!(
                    "{name}: {now}/{}",
                    r["target"]["averageValue"]
                        .as_str()
                        .or(r["target"]["value"].as_str())
                        .unwrap_or("<unknown>")
                ),
            }
        })
        .collect();
    let mut out = parts.join(", ");
    if metrics.len() > 3 {
        out.push_str(&format!(" + {} more...", metrics.len() - 3));
    }
    out
}

fn subjects(obj: &Value, kind: &str) -> String {
    let names = obj["subjects"].as_array().into_iter().flatten();
    let names = names.filter(|subject| subject["kind"] == kind).map(|subject| {
        match (kind, subject["namespace"].as_str()) {
            ("ServiceAccount", Some(ns)) => format!("{ns}/{}", s(&subject["name"], "")),
            _ => s(&subject["name"], "").to_string(),
        }
    });
    names.collect::<Vec<_>>().join(", ")
}

fn endpoints(obj: &Value) -> String {
    let mut out = Vec::new();
    for subset in obj["subsets"].as_array().into_iter().flatten() {
        let ports: Vec<i64> = subset["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["port"].as_i64())
            .collect();
        for a in subset["addresses"].as_array().into_iter().flatten() {
            let ip = s(&a["ip"], "");
            if ports.is_empty() {
                out.push(ip.to_string());
            }
            out.extend(ports.iter().map(|p| format!("{ip}:{p}")));
        }
    }
    if out.is_empty() {
        return "<none>".into();
    }
    let more = out.len().saturating_sub(3);
    let mut shown = out[..out.len().min(3)].join(",");
    if more > 0 {
        shown.push_str(&format!(" + {more} more..."));
    }
    shown
}

fn condition(obj: &Value, type_: &str) -> String {
    let c = obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_));
    match c {
        None => "Unknown".into(),
        Some(c) if c["status"] == "True" => "True".into(),
        Some(c) => format!("{} ({})", s(&c["status"], "Unknown"), s(&c["reason"], "")),
    }
}

fn template_containers(spec: &Value) -> (String, String) {
    let cs = spec["containers"].as_array().cloned().unwrap_or_default();
    let field = |f: &str| joined(cs.iter().filter_map(|c| c[f].as_str()).map(str::to_string));
    (field("name"), field("image"))
}

/// The cells of a row of a kind this module prints (see [`columns`]).
pub(super) fn cells(kind: &str, obj: &Value) -> Vec<Value> {
    let name = json!(meta::name(obj));
    let age = json!(meta::age(obj));
    let spec = &obj["spec"];
    let status = &obj["status"];
    let created_at = json!(meta::meta_str(obj, "creationTimestamp"));
    let rest = match kind {
        "HorizontalPodAutoscaler" => vec![
            json!(format!(
                "{}/{}",
                s(&spec["scaleTargetRef"]["kind"], ""),
                s(&spec["scaleTargetRef"]["name"], "")
            )),
            json!(if spec["targetCPUUtilizationPercentage"].is_number() {
                let now = status["currentCPUUtilizationPercentage"]
                    .as_i64()
                    .map_or("<unknown>".into(), |u| format!("{u}%"));
                format!("cpu: {now}/{}%", spec["targetCPUUtilizationPercentage"])
            } else {
                hpa_targets(obj)
            }),
            json!(spec["minReplicas"].as_i64().map_or("<unset>".into(), |m| m.to_string())),
            json!(spec["maxReplicas"].as_i64().unwrap_or(0).to_string()),
            json!(status["currentReplicas"].as_i64().unwrap_or(0).to_string()),
            age,
        ],
        "CronJob" => {
            let job = &spec["jobTemplate"]["spec"];
            let (names, images) = template_containers(&job["template"]["spec"]);
            let selector = if job["selector"].is_object() {
                selector_string(&job["selector"])
            } else {
                "<none>".into()
            };
            vec![
                json!(s(&spec["schedule"], "")),
                json!(s(&spec["timeZone"], "<none>")),
                // `printBoolPtr`: a string, capitalized.
                json!(match spec["suspend"].as_bool() {
                    Some(true) => "True",
                    Some(false) => "False",
                    None => "<unset>",
                }),
                json!(status["active"].as_array().map_or(0, Vec::len)),
                json!(status["lastScheduleTime"].as_str().map_or("<none>".into(), meta::since)),
                age,
                json!(names),
                json!(images),
                json!(selector),
            ]
        }
        "ServiceAccount" => {
            vec![json!(obj["secrets"].as_array().map_or(0, Vec::len).to_string()), age]
        }
        "Role" | "ClusterRole" | "LimitRange" => vec![created_at],
        "RoleBinding" | "ClusterRoleBinding" => vec![
            json!(format!("{}/{}", s(&obj["roleRef"]["kind"], ""), s(&obj["roleRef"]["name"], ""))),
            age,
            json!(subjects(obj, "User")),
            json!(subjects(obj, "Group")),
            json!(subjects(obj, "ServiceAccount")),
        ],
        "NetworkPolicy" => {
            let sel = selector_string(&spec["podSelector"]);
            vec![json!(if sel.is_empty() { "<none>".to_string() } else { sel }), age]
        }
        "PodDisruptionBudget" => vec![
            json!(int_or_string(&spec["minAvailable"])),
            json!(int_or_string(&spec["maxUnavailable"])),
            json!(status["disruptionsAllowed"].as_i64().unwrap_or(0)),
            age,
        ],
        "ResourceQuota" => {
            // The quota controller's `status.hard` (the spec's until it has run), `used/hard`
            // per resource; `limits.*` in their own column.
            let hard = status["hard"]
                .as_object()
                .or(spec["hard"].as_object())
                .cloned()
                .unwrap_or_default();
            let list = |limits: bool| {
                let items = hard.iter().filter(|(k, _)| k.starts_with("limits.") == limits);
                let items =
                    items.map(|(k, v)| format!("{k}: {}/{}", s(&status["used"][k], "0"), s(v, "")));
                items.collect::<Vec<_>>().join(", ")
            };
            vec![age, json!(list(false)), json!(list(true))]
        }
        "IngressClass" => {
            let p = &spec["parameters"];
            let params = match (p["kind"].as_str(), p["apiGroup"].as_str()) {
                (None, _) => "<none>".to_string(),
                (Some(k), Some(g)) if !g.is_empty() => format!("{k}.{g}/{}", s(&p["name"], "")),
                (Some(k), _) => format!("{k}/{}", s(&p["name"], "")),
            };
            vec![json!(s(&spec["controller"], "")), json!(params), age]
        }
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            vec![json!(obj["webhooks"].as_array().map_or(0, Vec::len)), age]
        }
        "APIService" => {
            let svc = &spec["service"];
            let service = match svc["name"].as_str() {
                Some(n) => format!("{}/{n}", s(&svc["namespace"], "")),
                None => "Local".to_string(),
            };
            vec![json!(service), json!(condition(obj, "Available")), age]
        }
        "PersistentVolume" => {
            let claim = &spec["claimRef"];
            let claim = match claim["name"].as_str() {
                Some(n) => format!("{}/{n}", s(&claim["namespace"], "")),
                None => String::new(),
            };
            let modes = spec["accessModes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(access_mode)
                .collect::<Vec<_>>()
                .join(",");
            vec![
                json!(s(&spec["capacity"]["storage"], "")),
                json!(modes),
                json!(s(&spec["persistentVolumeReclaimPolicy"], "")),
                json!(s(&status["phase"], "")),
                json!(claim),
                json!(s(&spec["storageClassName"], "")),
                json!(s(&spec["volumeAttributesClassName"], "<unset>")),
                json!(s(&status["reason"], "")),
                age,
                json!(s(&spec["volumeMode"], "<unset>")),
            ]
        }
        "StorageClass" => vec![
            json!(s(&obj["provisioner"], "")),
            json!(s(&obj["reclaimPolicy"], "Delete")),
            json!(s(&obj["volumeBindingMode"], "Immediate")),
            json!(obj["allowVolumeExpansion"].as_bool().unwrap_or(false).to_string()),
            age,
        ],
        "Endpoints" => vec![json!(endpoints(obj)), age],
        "EndpointSlice" => {
            let ports: Vec<String> = obj["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_i64())
                .map(|p| p.to_string())
                .collect();
            let addrs: Vec<String> = obj["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            vec![
                json!(s(&obj["addressType"], "")),
                json!(if ports.is_empty() { "<unset>".into() } else { ports.join(",") }),
                json!(if addrs.is_empty() { "<unset>".into() } else { addrs.join(",") }),
                age,
            ]
        }
        "ControllerRevision" => {
            let owner = obj["metadata"]["ownerReferences"]
                .as_array()
                .and_then(|o| o.iter().find(|r| r["controller"] == true));
            let controller = match owner {
                Some(o) => {
                    let group = s(&o["apiVersion"], "")
                        .split_once('/')
                        .map(|(g, _)| g.to_string())
                        .unwrap_or_default();
                    let kind = s(&o["kind"], "").to_lowercase();
                    let kind = if group.is_empty() { kind } else { format!("{kind}.{group}") };
                    format!("{kind}/{}", s(&o["name"], ""))
                }
                None => "<none>".into(),
            };
            vec![json!(controller), json!(obj["revision"].as_i64().unwrap_or(0)), age]
        }
        "PriorityClass" => vec![
            json!(obj["value"].as_i64().unwrap_or(0)),
            json!(obj["globalDefault"].as_bool().unwrap_or(false)),
            age,
            json!(s(&obj["preemptionPolicy"], "")),
        ],
        _ => vec![],
    };
    let mut cells = vec![name];
    cells.extend(rest);
    cells
}
