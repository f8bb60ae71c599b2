//! The built-in kinds, with the names, scopes, short names, categories and subresources
//! kube-apiserver v1.33 serves them with.

use super::{Conversion, ResourceInfo, ScalePaths};

/// Discovery order of the built-in groups (as kube-apiserver lists them).
pub const GROUP_ORDER: &[&str] = &[
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
];

struct Def {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    all: bool,
    /// In the `api-extensions` category.
    ext: bool,
    status: bool,
    scale: bool,
    generation: bool,
}

const fn def(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Def {
    Def {
        group,
        version: "v1",
        kind,
        plural,
        namespaced,
        short: &[],
        all: false,
        ext: false,
        status: false,
        scale: false,
        generation: false,
    }
}

impl Def {
    const fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }
    const fn short(mut self, s: &'static [&'static str]) -> Self {
        self.short = s;
        self
    }
    /// In the `all` category, with a status subresource, tracking generation: a workload.
    const fn workload(mut self) -> Self {
        self.all = true;
        self.status = true;
        self.generation = true;
        self
    }
    const fn status(mut self) -> Self {
        self.status = true;
        self
    }
    const fn scale(mut self) -> Self {
        self.scale = true;
        self
    }
    const fn all(mut self) -> Self {
        self.all = true;
        self
    }
    const fn generation(mut self) -> Self {
        self.generation = true;
        self
    }
    const fn ext(mut self) -> Self {
        self.ext = true;
        self
    }
}

const DEFS: &[Def] = &[
    def("", "ConfigMap", "configmaps", true).short(&["cm"]),
    def("", "Endpoints", "endpoints", true).short(&["ep"]),
    def("", "Event", "events", true).short(&["ev"]),
    def("", "Namespace", "namespaces", false).short(&["ns"]).status(),
    def("", "LimitRange", "limitranges", true).short(&["limits"]),
    def("", "PersistentVolumeClaim", "persistentvolumeclaims", true).short(&["pvc"]).status(),
    def("", "PersistentVolume", "persistentvolumes", false).short(&["pv"]).status(),
    def("", "Pod", "pods", true).short(&["po"]).status().all(),
    def("", "ResourceQuota", "resourcequotas", true).short(&["quota"]).status(),
    def("", "Secret", "secrets", true),
    def("", "ServiceAccount", "serviceaccounts", true).short(&["sa"]),
    def("", "Service", "services", true).short(&["svc"]).status().all(),
    def("apps", "ControllerRevision", "controllerrevisions", true),
    def("apps", "DaemonSet", "daemonsets", true).short(&["ds"]).workload(),
    def("apps", "Deployment", "deployments", true).short(&["deploy"]).workload().scale(),
    def("apps", "ReplicaSet", "replicasets", true).short(&["rs"]).workload().scale(),
    def("apps", "StatefulSet", "statefulsets", true).short(&["sts"]).workload().scale(),
    def("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true)
        .version("v2")
        .short(&["hpa"])
        .status()
        .all(),
    def("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true)
        .short(&["hpa"])
        .status()
        .all(),
    def("batch", "CronJob", "cronjobs", true).short(&["cj"]).workload(),
    def("batch", "Job", "jobs", true).workload(),
    def("networking.k8s.io", "Ingress", "ingresses", true).short(&["ing"]).status().generation(),
    def("networking.k8s.io", "IngressClass", "ingressclasses", false),
    def("networking.k8s.io", "NetworkPolicy", "networkpolicies", true)
        .short(&["netpol"])
        .generation(),
    def("policy", "PodDisruptionBudget", "poddisruptionbudgets", true)
        .short(&["pdb"])
        .status()
        .generation(),
    def("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", false),
    def("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false),
    def("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true),
    def("rbac.authorization.k8s.io", "Role", "roles", true),
    def("coordination.k8s.io", "Lease", "leases", true),
    def("storage.k8s.io", "StorageClass", "storageclasses", false).short(&["sc"]),
    def("scheduling.k8s.io", "PriorityClass", "priorityclasses", false).short(&["pc"]),
    def("discovery.k8s.io", "EndpointSlice", "endpointslices", true),
    def(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    )
    .ext()
    .generation(),
    def(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    )
    .ext()
    .generation(),
    def("apiregistration.k8s.io", "APIService", "apiservices", false).ext().status(),
    def("events.k8s.io", "Event", "events", true).short(&["ev"]),
    def("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", false)
        .short(&["crd", "crds"])
        .status()
        .generation(),
];

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() { version.into() } else { format!("{group}/{version}") }
}

/// The built-in resources.
pub fn resources() -> Vec<ResourceInfo> {
    DEFS.iter()
        .map(|d| ResourceInfo {
            group: d.group.to_string(),
            version: d.version.to_string(),
            kind: d.kind.to_string(),
            plural: d.plural.to_string(),
            singular: d.kind.to_lowercase(),
            namespaced: d.namespaced,
            short_names: d.short.iter().map(|s| s.to_string()).collect(),
            categories: match (d.all, d.ext || d.group == "apiextensions.k8s.io") {
                (true, _) => vec!["all".to_string()],
                (false, true) => vec!["api-extensions".to_string()],
                _ => vec![],
            },
            delete_collection: d.kind != "Namespace",
            status_subresource: d.status,
            scale: d.scale.then(|| ScalePaths {
                spec_replicas: ".spec.replicas".into(),
                status_replicas: ".status.replicas".into(),
                label_selector: Some(".spec.selector".into()),
            }),
            tracks_generation: d.generation,
            custom: false,
            crd_schema: None,
            printer_columns: vec![],
            schema: crate::schema::builtin::schema_of(d.group, d.version, d.kind),
            merge: crate::merge::Schema::for_kind(&api_version(d.group, d.version), d.kind),
            storage_group: match (d.group, d.kind) {
                ("events.k8s.io", "Event") => String::new(),
                _ => d.group.to_string(),
            },
            conversion: match (d.group, d.version, d.kind) {
                ("events.k8s.io", _, "Event") => Conversion::EventsV1,
                ("autoscaling", "v1", _) => Conversion::HpaV1,
                _ => Conversion::None,
            },
        })
        .collect()
}
