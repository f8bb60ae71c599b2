//! The built-in kinds' schemas, transcribed from the structured-merge-diff schema that
//! kube-apiserver derives from the Kubernetes OpenAPI (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `+structType=atomic`) and from the
//! Go struct tags strategic merge patch reads (`patchStrategy`, `patchMergeKey`).
//!
//! Only what differs from the defaults is written down: an undeclared key of a built-in struct
//! is an open struct field whose lists are atomic and whose objects are open structs again,
//! which is exactly what an unannotated Kubernetes type is.

use super::{
    ATOMIC_ANY, Arena, ListNode, ListType, Node, NodeId, OPEN, ObjectNode, PatchStrategy, SCALAR,
    Schema,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Builds nodes into an arena.
pub(super) struct B {
    pub(super) a: Arena,
}

impl B {
    pub(super) fn object(&mut self, fields: &[(&str, NodeId)], atomic: bool) -> NodeId {
        let mut fields: Vec<(String, NodeId)> =
            fields.iter().map(|(n, id)| (n.to_string(), *id)).collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        self.a.push(Node::Object(ObjectNode { fields, rest: OPEN, rest_are_fields: true, atomic }))
    }

    /// A granular struct.
    fn st(&mut self, fields: &[(&str, NodeId)]) -> NodeId {
        self.object(fields, false)
    }

    /// A struct owned and replaced as a whole (`+structType=atomic`).
    fn st_atomic(&mut self) -> NodeId {
        self.object(&[], true)
    }

    /// A string-keyed map whose entries are owned separately.
    pub(super) fn map(&mut self, elem: NodeId) -> NodeId {
        self.a.push(Node::Object(ObjectNode { rest: elem, ..Default::default() }))
    }

    /// A map owned as a whole (`+mapType=atomic`).
    fn map_atomic(&mut self, elem: NodeId) -> NodeId {
        self.a.push(Node::Object(ObjectNode { rest: elem, atomic: true, ..Default::default() }))
    }

    pub(super) fn list(
        &mut self,
        elem: NodeId,
        list_type: ListType,
        patch: PatchStrategy,
    ) -> NodeId {
        self.a.push(Node::List(ListNode { elem, list_type, key_defaults: Vec::new(), patch }))
    }

    /// An atomic list that strategic merge patch replaces.
    fn atomic(&mut self, elem: NodeId) -> NodeId {
        self.list(elem, ListType::Atomic, PatchStrategy::Replace)
    }

    /// An associative list keyed by `keys`, merged by `key` under strategic merge patch.
    /// Every key field of a built-in type is a non-pointer Go field, which kube-openapi
    /// gives its zero value as `default` (`""`, or `0` for port numbers), so an item that
    /// omits a key is keyed by that zero value rather than refused.
    fn keyed(&mut self, elem: NodeId, keys: &[&str], patch_key: Option<&str>) -> NodeId {
        let patch = match patch_key {
            Some(k) => PatchStrategy::Merge(Some(k.to_string())),
            None => PatchStrategy::Replace,
        };
        let list =
            self.list(elem, ListType::Map(keys.iter().map(|k| k.to_string()).collect()), patch);
        for k in keys {
            let zero = if matches!(*k, "containerPort" | "port") { json!(0) } else { json!("") };
            self.with_key_default(list, k, zero);
        }
        list
    }

    /// A list of conditions: keyed by `type` both ways.
    fn conditions(&mut self) -> NodeId {
        self.keyed(OPEN, &["type"], Some("type"))
    }

    /// Sets the default of a key field (`protocol: TCP`).
    fn with_key_default(&mut self, list: NodeId, key: &str, value: Value) -> NodeId {
        if let Node::List(l) = &mut self.a.nodes[list as usize] {
            l.key_defaults.retain(|(k, _)| k != key);
            l.key_defaults.push((key.to_string(), value));
        }
        list
    }
}

/// Shared types, built once.
struct Common {
    meta: NodeId,
    selector: NodeId,
    pod_template: NodeId,
    pod_spec: NodeId,
    pod_status: NodeId,
    pvc_spec: NodeId,
    pvc_status: NodeId,
    object_ref: NodeId,
    local_ref: NodeId,
    with_conditions: NodeId,
}

/// `ObjectMeta`: label and annotation maps, a finalizer set, owner references keyed by uid.
pub(super) fn object_meta(b: &mut B) -> NodeId {
    let labels = b.map(SCALAR);
    let annotations = b.map(SCALAR);
    let finalizers = b.list(SCALAR, ListType::Set, PatchStrategy::Merge(None));
    let owner_ref = b.st_atomic();
    let owner_refs = b.keyed(owner_ref, &["uid"], Some("uid"));
    let managed = b.atomic(OPEN);
    b.st(&[
        ("annotations", annotations),
        ("finalizers", finalizers),
        ("labels", labels),
        ("managedFields", managed),
        ("ownerReferences", owner_refs),
    ])
}

fn common(b: &mut B) -> Common {
    let meta = object_meta(b);
    let match_labels = b.map(SCALAR);
    let selector = b.object(&[("matchLabels", match_labels)], true);
    let local_ref = b.st_atomic();
    let object_ref = b.st_atomic();
    let atomic_ref = b.st_atomic();
    let pod_spec = pod_spec(b, meta, selector, local_ref, atomic_ref);
    let pod_template = b.st(&[("metadata", meta), ("spec", pod_spec)]);
    let conditions = b.conditions();
    let pod_ips = b.keyed(OPEN, &["ip"], Some("ip"));
    let host_ips = b.list(OPEN, ListType::Atomic, PatchStrategy::Merge(Some("ip".into())));
    let claim_statuses = b.keyed(OPEN, &["name"], Some("name"));
    let pod_status = b.st(&[
        ("conditions", conditions),
        ("hostIPs", host_ips),
        ("podIPs", pod_ips),
        ("resourceClaimStatuses", claim_statuses),
    ]);
    let quantities = b.map(SCALAR);
    let quantities2 = b.map(SCALAR);
    let resources = b.st(&[("limits", quantities), ("requests", quantities2)]);
    let pvc_spec =
        b.st(&[("dataSource", atomic_ref), ("resources", resources), ("selector", selector)]);
    let pvc_conditions = b.conditions();
    let capacity = b.map(SCALAR);
    let allocated = b.map(SCALAR);
    let allocated_statuses = b.map(SCALAR);
    let pvc_status = b.st(&[
        ("allocatedResourceStatuses", allocated_statuses),
        ("allocatedResources", allocated),
        ("capacity", capacity),
        ("conditions", pvc_conditions),
    ]);
    let status_conditions = b.conditions();
    let with_conditions = b.st(&[("conditions", status_conditions)]);
    Common {
        meta,
        selector,
        pod_template,
        pod_spec,
        pod_status,
        pvc_spec,
        pvc_status,
        object_ref,
        local_ref,
        with_conditions,
    }
}

fn container(b: &mut B, atomic_ref: NodeId) -> NodeId {
    let value_from = b.st(&[
        ("configMapKeyRef", atomic_ref),
        ("fieldRef", atomic_ref),
        ("resourceFieldRef", atomic_ref),
        ("secretKeyRef", atomic_ref),
    ]);
    let env_var = b.st(&[("valueFrom", value_from)]);
    let env = b.keyed(env_var, &["name"], Some("name"));
    let ports = b.keyed(OPEN, &["containerPort", "protocol"], Some("containerPort"));
    let ports = b.with_key_default(ports, "protocol", json!("TCP"));
    let limits = b.map(SCALAR);
    let requests = b.map(SCALAR);
    let claims = b.keyed(OPEN, &["name"], None);
    let resources = b.st(&[("claims", claims), ("limits", limits), ("requests", requests)]);
    let mounts = b.keyed(OPEN, &["mountPath"], Some("mountPath"));
    let devices = b.keyed(OPEN, &["devicePath"], Some("devicePath"));
    b.st(&[
        ("env", env),
        ("ports", ports),
        ("resources", resources),
        ("volumeDevices", devices),
        ("volumeMounts", mounts),
    ])
}

fn volume(b: &mut B, meta: NodeId, local_ref: NodeId, atomic_ref: NodeId) -> NodeId {
    let attrs = b.map(SCALAR);
    let csi = b.st(&[("nodePublishSecretRef", local_ref), ("volumeAttributes", attrs)]);
    let options = b.map(SCALAR);
    let flex = b.st(&[("options", options), ("secretRef", local_ref)]);
    let with_secret = b.st(&[("secretRef", local_ref)]);
    let labels_sel = b.map(SCALAR);
    let selector = b.object(&[("matchLabels", labels_sel)], true);
    let limits = b.map(SCALAR);
    let requests = b.map(SCALAR);
    let resources = b.st(&[("limits", limits), ("requests", requests)]);
    let claim_spec =
        b.st(&[("dataSource", atomic_ref), ("resources", resources), ("selector", selector)]);
    let claim_template = b.st(&[("metadata", meta), ("spec", claim_spec)]);
    let ephemeral = b.st(&[("volumeClaimTemplate", claim_template)]);
    b.st(&[
        ("cephfs", with_secret),
        ("cinder", with_secret),
        ("csi", csi),
        ("ephemeral", ephemeral),
        ("flexVolume", flex),
        ("iscsi", with_secret),
        ("rbd", with_secret),
        ("scaleIO", with_secret),
        ("storageos", with_secret),
    ])
}

fn pod_spec(
    b: &mut B,
    meta: NodeId,
    selector: NodeId,
    local_ref: NodeId,
    atomic_ref: NodeId,
) -> NodeId {
    let c = container(b, atomic_ref);
    let containers = b.keyed(c, &["name"], Some("name"));
    let init = b.keyed(c, &["name"], Some("name"));
    let ephemeral = b.keyed(c, &["name"], Some("name"));
    let v = volume(b, meta, local_ref, atomic_ref);
    let volumes = b.keyed(v, &["name"], Some("name"));
    let pull = b.keyed(local_ref, &["name"], Some("name"));
    let aliases = b.keyed(OPEN, &["ip"], Some("ip"));
    let spread_item = b.st(&[("labelSelector", selector)]);
    let spread = b.keyed(spread_item, &["topologyKey", "whenUnsatisfiable"], Some("topologyKey"));
    let claims = b.keyed(OPEN, &["name"], Some("name"));
    let gates = b.keyed(OPEN, &["name"], Some("name"));
    let node_selector = b.map_atomic(SCALAR);
    let overhead = b.map(SCALAR);
    let required = b.st_atomic();
    let node_affinity = b.st(&[("requiredDuringSchedulingIgnoredDuringExecution", required)]);
    let affinity = b.st(&[("nodeAffinity", node_affinity)]);
    let pod_claims = b.keyed(OPEN, &["name"], None);
    let pod_limits = b.map(SCALAR);
    let pod_requests = b.map(SCALAR);
    let pod_resources =
        b.st(&[("claims", pod_claims), ("limits", pod_limits), ("requests", pod_requests)]);
    b.st(&[
        ("affinity", affinity),
        ("containers", containers),
        ("ephemeralContainers", ephemeral),
        ("hostAliases", aliases),
        ("imagePullSecrets", pull),
        ("initContainers", init),
        ("nodeSelector", node_selector),
        ("overhead", overhead),
        ("resourceClaims", claims),
        ("resources", pod_resources),
        ("schedulingGates", gates),
        ("topologySpreadConstraints", spread),
        ("volumes", volumes),
    ])
}

/// Builds one kind's root struct from the shared types.
fn kind_root(b: &mut B, c: &Common, kind: &str) -> NodeId {
    let m = c.meta;
    match kind {
        "Namespace" => {
            let status = c.with_conditions;
            b.st(&[("metadata", m), ("status", status)])
        }
        "ConfigMap" => {
            let data = b.map(SCALAR);
            let binary = b.map(SCALAR);
            b.st(&[("binaryData", binary), ("data", data), ("metadata", m)])
        }
        "Secret" => {
            let data = b.map(SCALAR);
            let string_data = b.map(SCALAR);
            b.st(&[("data", data), ("metadata", m), ("stringData", string_data)])
        }
        "Service" => {
            let ports = b.keyed(OPEN, &["port", "protocol"], Some("port"));
            let ports = b.with_key_default(ports, "protocol", json!("TCP"));
            let selector = b.map_atomic(SCALAR);
            let spec = b.st(&[("ports", ports), ("selector", selector)]);
            let status = c.with_conditions;
            b.st(&[("metadata", m), ("spec", spec), ("status", status)])
        }
        "ServiceAccount" => {
            let secrets = b.keyed(c.object_ref, &["name"], Some("name"));
            let pull = b.atomic(c.local_ref);
            b.st(&[("imagePullSecrets", pull), ("metadata", m), ("secrets", secrets)])
        }
        "PersistentVolumeClaim" => {
            b.st(&[("metadata", m), ("spec", c.pvc_spec), ("status", c.pvc_status)])
        }
        "Pod" => b.st(&[("metadata", m), ("spec", c.pod_spec), ("status", c.pod_status)]),
        "Event" => {
            b.st(&[("involvedObject", c.object_ref), ("metadata", m), ("related", c.object_ref)])
        }
        "Deployment" | "ReplicaSet" | "DaemonSet" => {
            let strategy = b.st(&[]);
            let spec = b.st(&[
                ("selector", c.selector),
                ("strategy", strategy),
                ("template", c.pod_template),
            ]);
            b.st(&[("metadata", m), ("spec", spec), ("status", c.with_conditions)])
        }
        "StatefulSet" => {
            let pvc = b.st(&[("metadata", m), ("spec", c.pvc_spec), ("status", c.pvc_status)]);
            let claims = b.atomic(pvc);
            let spec = b.st(&[
                ("selector", c.selector),
                ("template", c.pod_template),
                ("volumeClaimTemplates", claims),
            ]);
            b.st(&[("metadata", m), ("spec", spec), ("status", c.with_conditions)])
        }
        "Job" => {
            let spec = job_spec(b, c);
            let conditions =
                b.list(OPEN, ListType::Atomic, PatchStrategy::Merge(Some("type".into())));
            let failed = b.list(SCALAR, ListType::Set, PatchStrategy::Replace);
            let succeeded = b.list(SCALAR, ListType::Set, PatchStrategy::Replace);
            let uncounted = b.st(&[("failed", failed), ("succeeded", succeeded)]);
            let status =
                b.st(&[("conditions", conditions), ("uncountedTerminatedPods", uncounted)]);
            b.st(&[("metadata", m), ("spec", spec), ("status", status)])
        }
        "CronJob" => {
            let job = job_spec(b, c);
            let template = b.st(&[("metadata", m), ("spec", job)]);
            let spec = b.st(&[("jobTemplate", template)]);
            let active = b.atomic(c.object_ref);
            let status = b.st(&[("active", active)]);
            b.st(&[("metadata", m), ("spec", spec), ("status", status)])
        }
        // autoscaling/v2: `metrics`, each behavior's `policies` and `currentMetrics` are
        // `+listType=atomic` (the default here), the target reference `+structType=atomic`,
        // conditions keyed by type.
        "HorizontalPodAutoscaler" => {
            let target = b.st_atomic();
            let spec = b.st(&[("scaleTargetRef", target)]);
            b.st(&[("metadata", m), ("spec", spec), ("status", c.with_conditions)])
        }
        // policy/v1: the selector is a LabelSelector (atomic), `disruptedPods` a granular
        // map, conditions (`metav1.Condition`) keyed by type.
        "PodDisruptionBudget" => {
            let spec = b.st(&[("selector", c.selector)]);
            let disrupted = b.map(SCALAR);
            let conditions = b.conditions();
            let status = b.st(&[("conditions", conditions), ("disruptedPods", disrupted)]);
            b.st(&[("metadata", m), ("spec", spec), ("status", status)])
        }
        // The revision's `data` is a RawExtension, owned whole.
        "ControllerRevision" => b.st(&[("data", ATOMIC_ANY), ("metadata", m)]),
        // `webhooks` keyed by name, each with atomic selectors and rules and its match
        // conditions keyed by name.
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            let conditions = b.keyed(OPEN, &["name"], Some("name"));
            let webhook = b.st(&[
                ("matchConditions", conditions),
                ("namespaceSelector", c.selector),
                ("objectSelector", c.selector),
            ]);
            let webhooks = b.keyed(webhook, &["name"], Some("name"));
            b.st(&[("metadata", m), ("webhooks", webhooks)])
        }
        "APIService" => b.st(&[("metadata", m), ("status", c.with_conditions)]),
        // Capacity a granular map, the node affinity's selector atomic, lists atomic.
        "PersistentVolume" => {
            let capacity = b.map(SCALAR);
            let required = b.st_atomic();
            let affinity = b.st(&[("required", required)]);
            let spec = b.st(&[("capacity", capacity), ("nodeAffinity", affinity)]);
            b.st(&[("metadata", m), ("spec", spec)])
        }
        "StorageClass" => {
            let parameters = b.map(SCALAR);
            b.st(&[("metadata", m), ("parameters", parameters)])
        }
        "Ingress" => {
            let resource = b.st_atomic();
            let backend = b.st(&[("resource", resource)]);
            let spec = b.st(&[("defaultBackend", backend)]);
            b.st(&[("metadata", m), ("spec", spec)])
        }
        "NetworkPolicy" => {
            let spec = b.st(&[("podSelector", c.selector)]);
            b.st(&[("metadata", m), ("spec", spec)])
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let role_ref = b.st_atomic();
            b.st(&[("metadata", m), ("roleRef", role_ref)])
        }
        "CustomResourceDefinition" => {
            let versions = b.atomic(OPEN);
            let spec = b.st(&[("versions", versions)]);
            b.st(&[("metadata", m), ("spec", spec), ("status", c.with_conditions)])
        }
        // Role, ClusterRole, Lease: every list atomic, every object a struct.
        _ => b.st(&[("metadata", m)]),
    }
}

/// events.k8s.io/v1 Event: `regarding` and `related` are `ObjectReference`s
/// (`+structType=atomic`); the series is a granular struct.
fn events_v1_root(b: &mut B, c: &Common) -> NodeId {
    b.st(&[("metadata", c.meta), ("regarding", c.object_ref), ("related", c.object_ref)])
}

fn job_spec(b: &mut B, c: &Common) -> NodeId {
    b.st(&[("selector", c.selector), ("template", c.pod_template)])
}

/// A known kind: its group/version, whether it has a status subresource, its zero object.
struct KindInfo {
    api_version: &'static str,
    kind: &'static str,
    status: bool,
}

const KINDS: &[KindInfo] = &[
    KindInfo { api_version: "v1", kind: "Namespace", status: true },
    KindInfo { api_version: "v1", kind: "ConfigMap", status: false },
    KindInfo { api_version: "v1", kind: "Secret", status: false },
    KindInfo { api_version: "v1", kind: "Service", status: true },
    KindInfo { api_version: "v1", kind: "ServiceAccount", status: false },
    KindInfo { api_version: "v1", kind: "PersistentVolumeClaim", status: true },
    KindInfo { api_version: "v1", kind: "Pod", status: true },
    KindInfo { api_version: "v1", kind: "Event", status: false },
    KindInfo { api_version: "v1", kind: "ResourceQuota", status: true },
    KindInfo { api_version: "v1", kind: "LimitRange", status: false },
    KindInfo { api_version: "apps/v1", kind: "Deployment", status: true },
    KindInfo { api_version: "apps/v1", kind: "StatefulSet", status: true },
    KindInfo { api_version: "apps/v1", kind: "DaemonSet", status: true },
    KindInfo { api_version: "apps/v1", kind: "ReplicaSet", status: true },
    KindInfo { api_version: "batch/v1", kind: "Job", status: true },
    KindInfo { api_version: "batch/v1", kind: "CronJob", status: true },
    KindInfo { api_version: "autoscaling/v2", kind: "HorizontalPodAutoscaler", status: true },
    KindInfo { api_version: "policy/v1", kind: "PodDisruptionBudget", status: true },
    KindInfo { api_version: "networking.k8s.io/v1", kind: "Ingress", status: true },
    KindInfo { api_version: "networking.k8s.io/v1", kind: "NetworkPolicy", status: false },
    KindInfo { api_version: "rbac.authorization.k8s.io/v1", kind: "Role", status: false },
    KindInfo { api_version: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", status: false },
    KindInfo { api_version: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", status: false },
    KindInfo {
        api_version: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        status: false,
    },
    KindInfo { api_version: "coordination.k8s.io/v1", kind: "Lease", status: false },
    KindInfo { api_version: "v1", kind: "Endpoints", status: false },
    KindInfo { api_version: "v1", kind: "PersistentVolume", status: true },
    KindInfo { api_version: "apps/v1", kind: "ControllerRevision", status: false },
    KindInfo { api_version: "autoscaling/v1", kind: "HorizontalPodAutoscaler", status: true },
    KindInfo { api_version: "networking.k8s.io/v1", kind: "IngressClass", status: false },
    KindInfo { api_version: "storage.k8s.io/v1", kind: "StorageClass", status: false },
    KindInfo { api_version: "scheduling.k8s.io/v1", kind: "PriorityClass", status: false },
    KindInfo { api_version: "discovery.k8s.io/v1", kind: "EndpointSlice", status: false },
    KindInfo {
        api_version: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        status: false,
    },
    KindInfo {
        api_version: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        status: false,
    },
    KindInfo { api_version: "apiregistration.k8s.io/v1", kind: "APIService", status: true },
    KindInfo { api_version: "events.k8s.io/v1", kind: "Event", status: false },
    KindInfo {
        api_version: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        status: true,
    },
];

struct Registry {
    arena: Arc<Arena>,
    roots: HashMap<(&'static str, &'static str), (NodeId, bool, Arc<Value>)>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut b = B { a: Arena::new() };
        let c = common(&mut b);
        let mut roots = HashMap::new();
        for k in KINDS {
            let (root, zero) = match k.api_version {
                "events.k8s.io/v1" => (events_v1_root(&mut b, &c), super::zero::events_v1()),
                "autoscaling/v1" => (kind_root(&mut b, &c, k.kind), super::zero::hpa_v1()),
                _ => (kind_root(&mut b, &c, k.kind), super::zero::object(k.kind)),
            };
            roots.insert((k.api_version, k.kind), (root, k.status, Arc::new(zero)));
        }
        Registry { arena: Arc::new(b.a), roots }
    })
}

pub(super) fn lookup(api_version: &str, kind: &str) -> Option<Schema> {
    let r = registry();
    let key = KINDS.iter().find(|k| k.api_version == api_version && k.kind == kind)?;
    let (root, status, zero) = &r.roots[&(key.api_version, key.kind)];
    Some(Schema::new(r.arena.clone(), *root, *status, true, zero.clone()))
}
