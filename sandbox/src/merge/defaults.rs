//! Defaulting of built-in kinds: the `SetDefaults_*` functions kube-apiserver runs when it
//! decodes an object, limited to the kinds the sandbox serves. Idempotent. It does not
//! allocate anything (cluster IPs, node ports, `ipFamilies`/`ipFamilyPolicy`: see
//! [`allocate_service_fields`]), generate Job selectors, or add the Namespace `kubernetes`
//! finalizer: those are the server's write layer's, after the field manager has run. A Job
//! template without `restartPolicy` gets `Always` here, exactly as kube-apiserver's
//! `SetDefaults_PodSpec` gives it; the server's validation then refuses the Job (422,
//! `spec.template.spec.restartPolicy: Unsupported value: "Always"`), as kube-apiserver's
//! `ValidateJobSpec` does.

use serde_json::{Map, Value, json};

/// Applies kube-apiserver's defaults for `api_version`/`kind` to `obj`. Unknown kinds are left
/// alone (custom resources get their CRD's structural defaults from the server, not here).
pub fn apply_defaults(api_version: &str, kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else { return };
    match (api_version, kind) {
        ("v1", "Service") => service(root),
        ("v1", "Secret") => set(root, "type", json!("Opaque")),
        ("v1", "PersistentVolumeClaim") => {
            pvc(root);
        }
        ("v1", "Namespace") => namespace(root),
        ("v1", "Pod") => pod(root),
        ("apps/v1", "Deployment") => deployment(root),
        ("apps/v1", "StatefulSet") => stateful_set(root),
        ("apps/v1", "DaemonSet") => daemon_set(root),
        ("apps/v1", "ReplicaSet") => {
            let spec = obj_at(root, "spec");
            set(spec, "replicas", json!(1));
            template(spec);
        }
        ("autoscaling/v2", "HorizontalPodAutoscaler") => hpa(root),
        ("autoscaling/v1", "HorizontalPodAutoscaler") => {
            set(obj_at(root, "spec"), "minReplicas", json!(1));
            let status = obj_at(root, "status");
            set(status, "currentReplicas", json!(0));
            set(status, "desiredReplicas", json!(0));
        }
        ("v1", "PersistentVolume") => {
            let spec = obj_at(root, "spec");
            set(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            set(spec, "volumeMode", json!("Filesystem"));
            set(obj_at(root, "status"), "phase", json!("Pending"));
        }
        ("v1", "Endpoints") => for_each_obj(root, "subsets", |subset| {
            for_each_obj(subset, "ports", |p| set(p, "protocol", json!("TCP")));
        }),
        ("discovery.k8s.io/v1", "EndpointSlice") => for_each_obj(root, "ports", |p| {
            set(p, "protocol", json!("TCP"));
            set(p, "name", json!(""));
        }),
        ("storage.k8s.io/v1", "StorageClass") => {
            set(root, "reclaimPolicy", json!("Delete"));
            set(root, "volumeBindingMode", json!("Immediate"));
        }
        ("scheduling.k8s.io/v1", "PriorityClass") => {
            set(root, "preemptionPolicy", json!("PreemptLowerPriority"));
        }
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
            webhooks(root, true);
        }
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
            webhooks(root, false);
        }
        ("policy/v1", "PodDisruptionBudget") => pdb(root),
        ("batch/v1", "Job") => job(root),
        ("batch/v1", "CronJob") => cron_job(root),
        ("networking.k8s.io/v1", "NetworkPolicy") => network_policy(root),
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => binding(root),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => crd(root),
        _ => {}
    }
}

/// Sets `key` unless present (and not null).
fn set(m: &mut Map<String, Value>, key: &str, v: Value) {
    match m.get(key) {
        Some(x) if !x.is_null() => {}
        _ => {
            m.insert(key.to_string(), v);
        }
    }
}

/// The object at `key`, created if absent or not an object.
fn obj_at<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key).and_then(Value::as_object_mut).expect("just inserted an object")
}

fn str_at<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

fn for_each_obj(m: &mut Map<String, Value>, key: &str, mut f: impl FnMut(&mut Map<String, Value>)) {
    if let Some(Value::Array(items)) = m.get_mut(key) {
        items.iter_mut().filter_map(Value::as_object_mut).for_each(&mut f);
    }
}

fn service(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    if str_at(spec, "sessionAffinity") == "ClientIP" {
        let cfg = obj_at(spec, "sessionAffinityConfig");
        let client = obj_at(cfg, "clientIP");
        set(client, "timeoutSeconds", json!(10800));
    }
    let ty = str_at(spec, "type").to_string();
    for_each_obj(spec, "ports", |p| {
        set(p, "protocol", json!("TCP"));
        let empty = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if empty && let Some(port) = p.get("port").cloned() {
            p.insert("targetPort".into(), port);
        }
    });
    if ty == "NodePort" || ty == "LoadBalancer" {
        set(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty != "ExternalName" {
        set(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    // `status.loadBalancer` is a non-pointer struct: kube-apiserver always serializes it.
    set(obj_at(root, "status"), "loadBalancer", json!({}));
}

/// What kube-apiserver's Service registry allocates on create, after the field manager ran
/// (so no manager owns these fields): `clusterIP`/`clusterIPs` (unless `clusterIP` is set or
/// the type is `ExternalName`), `ipFamilies: [IPv4]` and `ipFamilyPolicy` (`SingleStack`,
/// `RequireDualStack` for headless Services without a selector). Node ports are not
/// allocated. A single-stack IPv4 cluster is assumed.
pub fn allocate_service_fields(obj: &mut Value, cluster_ip: &str) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if str_at(spec, "type") == "ExternalName" {
        return;
    }
    set(spec, "clusterIP", json!(cluster_ip));
    let ip = str_at(spec, "clusterIP").to_string();
    set(spec, "clusterIPs", json!([ip]));
    let headless_without_selector = ip == "None"
        && spec.get("selector").and_then(Value::as_object).is_none_or(|m| m.is_empty());
    let policy = if headless_without_selector { "RequireDualStack" } else { "SingleStack" };
    set(spec, "ipFamilyPolicy", json!(policy));
    set(spec, "ipFamilies", json!(["IPv4"]));
}

fn pvc(root: &mut Map<String, Value>) {
    set(obj_at(root, "spec"), "volumeMode", json!("Filesystem"));
    set(obj_at(root, "status"), "phase", json!("Pending"));
}

fn namespace(root: &mut Map<String, Value>) {
    let name = root.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str);
    if let Some(name) = name.map(str::to_string) {
        let meta = obj_at(root, "metadata");
        set(obj_at(meta, "labels"), "kubernetes.io/metadata.name", json!(name));
    }
    set(obj_at(root, "status"), "phase", json!("Active"));
}

fn deployment(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    set(spec, "replicas", json!(1));
    let strategy = obj_at(spec, "strategy");
    set(strategy, "type", json!("RollingUpdate"));
    if str_at(strategy, "type") == "RollingUpdate" {
        let ru = obj_at(strategy, "rollingUpdate");
        set(ru, "maxUnavailable", json!("25%"));
        set(ru, "maxSurge", json!("25%"));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    template(spec);
}

fn stateful_set(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    let strategy = obj_at(spec, "updateStrategy");
    if str_at(strategy, "type").is_empty() {
        strategy.insert("type".into(), json!("RollingUpdate"));
        obj_at(strategy, "rollingUpdate");
    }
    if str_at(strategy, "type") == "RollingUpdate"
        && let Some(Value::Object(ru)) = strategy.get_mut("rollingUpdate")
    {
        set(ru, "partition", json!(0));
    }
    let retention = obj_at(spec, "persistentVolumeClaimRetentionPolicy");
    set(retention, "whenDeleted", json!("Retain"));
    set(retention, "whenScaled", json!("Retain"));
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    for_each_obj(spec, "volumeClaimTemplates", pvc);
    template(spec);
}

fn daemon_set(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    let strategy = obj_at(spec, "updateStrategy");
    set(strategy, "type", json!("RollingUpdate"));
    if str_at(strategy, "type") == "RollingUpdate" {
        let ru = obj_at(strategy, "rollingUpdate");
        set(ru, "maxUnavailable", json!(1));
        set(ru, "maxSurge", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    template(spec);
}

fn job(root: &mut Map<String, Value>) {
    let template_labels =
        root.get("spec").and_then(|s| s.pointer("/template/metadata/labels")).cloned();
    let spec = obj_at(root, "spec");
    let absent = |m: &Map<String, Value>, k: &str| m.get(k).is_none_or(Value::is_null);
    if absent(spec, "completions") && absent(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    set(spec, "parallelism", json!(1));
    let backoff = if absent(spec, "backoffLimitPerIndex") { json!(6) } else { json!(i32::MAX) };
    set(spec, "backoffLimit", backoff);
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    let replacement =
        if absent(spec, "podFailurePolicy") { "TerminatingOrFailed" } else { "Failed" };
    set(spec, "podReplacementPolicy", json!(replacement));
    if let Some(Value::Object(pfp)) = spec.get_mut("podFailurePolicy") {
        for_each_obj(pfp, "rules", |rule| {
            for_each_obj(rule, "onPodConditions", |c| set(c, "status", json!("True")));
        });
    }
    template(spec);
    if let Some(Value::Object(labels)) = template_labels {
        let meta = obj_at(root, "metadata");
        if meta.get("labels").and_then(Value::as_object).is_none_or(|m| m.is_empty()) {
            meta.insert("labels".into(), Value::Object(labels));
        }
    }
}

fn cron_job(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    set(spec, "concurrencyPolicy", json!("Allow"));
    set(spec, "suspend", json!(false));
    set(spec, "successfulJobsHistoryLimit", json!(3));
    set(spec, "failedJobsHistoryLimit", json!(1));
    let job_template = obj_at(spec, "jobTemplate");
    template(obj_at(job_template, "spec"));
}

/// autoscaling/v2 `SetDefaults_HorizontalPodAutoscaler`: `minReplicas: 1`, an 80% CPU
/// utilization target when no metric is given, and a given `behavior` completed with the
/// controller's default scaling rules. `desiredReplicas` is a non-omitempty status field,
/// so a new object reads back with it at 0.
fn hpa(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    set(spec, "minReplicas", json!(1));
    if spec.get("metrics").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(Value::Object(behavior)) = spec.get_mut("behavior") {
        let up = obj_at(behavior, "scaleUp");
        set(up, "stabilizationWindowSeconds", json!(0));
        set(up, "selectPolicy", json!("Max"));
        set(
            up,
            "policies",
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15},
                   {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
        // No stabilization window for scale-down: the controller's flag (300s) applies.
        let down = obj_at(behavior, "scaleDown");
        set(down, "selectPolicy", json!("Max"));
        set(down, "policies", json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]));
    }
    set(obj_at(root, "status"), "desiredReplicas", json!(0));
}

/// policy/v1 has no defaulting function; what a new PodDisruptionBudget reads back with
/// are the non-omitempty counters of its status, at 0 until the disruption controller runs.
fn pdb(root: &mut Map<String, Value>) {
    let status = obj_at(root, "status");
    for f in ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] {
        set(status, f, json!(0));
    }
}

/// admissionregistration/v1 `SetDefaults_*Webhook`: fail closed, equivalent matching,
/// select everything, 10s timeouts, rules of any scope, service port 443; mutating
/// webhooks are not re-invoked.
fn webhooks(root: &mut Map<String, Value>, mutating: bool) {
    for_each_obj(root, "webhooks", |w| {
        set(w, "failurePolicy", json!("Fail"));
        set(w, "matchPolicy", json!("Equivalent"));
        set(w, "namespaceSelector", json!({}));
        set(w, "objectSelector", json!({}));
        set(w, "timeoutSeconds", json!(10));
        if mutating {
            set(w, "reinvocationPolicy", json!("Never"));
        }
        for_each_obj(w, "rules", |r| set(r, "scope", json!("*")));
        if let Some(Value::Object(service)) =
            w.get_mut("clientConfig").and_then(|c| c.get_mut("service"))
        {
            set(service, "port", json!(443));
        }
    });
}

fn network_policy(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    for rules in ["ingress", "egress"] {
        for_each_obj(spec, rules, |rule| {
            for_each_obj(rule, "ports", |p| set(p, "protocol", json!("TCP")));
        });
    }
    if spec.get("policyTypes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        let mut types = vec![json!("Ingress")];
        if spec.get("egress").and_then(Value::as_array).is_some_and(|e| !e.is_empty()) {
            types.push(json!("Egress"));
        }
        spec.insert("policyTypes".into(), Value::Array(types));
    }
}

fn binding(root: &mut Map<String, Value>) {
    set(obj_at(root, "roleRef"), "apiGroup", json!("rbac.authorization.k8s.io"));
    for_each_obj(root, "subjects", |s| {
        let group = match str_at(s, "kind") {
            "User" | "Group" => "rbac.authorization.k8s.io",
            _ => "",
        };
        if str_at(s, "apiGroup").is_empty() && !group.is_empty() {
            s.insert("apiGroup".into(), json!(group));
        }
    });
}

fn crd(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    let names = obj_at(spec, "names");
    let kind = str_at(names, "kind").to_string();
    if !kind.is_empty() {
        set(names, "singular", json!(kind.to_lowercase()));
        set(names, "listKind", json!(format!("{kind}List")));
    }
    set(spec, "conversion", json!({"strategy": "None"}));
}

fn template(spec: &mut Map<String, Value>) {
    let t = obj_at(spec, "template");
    pod_spec(obj_at(t, "spec"));
}

fn pod(root: &mut Map<String, Value>) {
    let spec = obj_at(root, "spec");
    pod_spec(spec);
    set(spec, "enableServiceLinks", json!(true));
    for list in ["containers", "initContainers"] {
        for_each_obj(spec, list, |c| {
            let limits = c.get("resources").and_then(|r| r.get("limits")).cloned();
            if let Some(Value::Object(limits)) = limits {
                let resources = obj_at(c, "resources");
                let requests = obj_at(resources, "requests");
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        });
    }
}

fn pod_spec(spec: &mut Map<String, Value>) {
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "securityContext", json!({}));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for_each_obj(spec, list, container);
    }
    for_each_obj(spec, "volumes", volume);
}

fn container(c: &mut Map<String, Value>) {
    // A non-pointer struct: kube-apiserver always serializes it.
    set(c, "resources", json!({}));
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    let policy = if image_tag_is_latest(str_at(c, "image")) { "Always" } else { "IfNotPresent" };
    set(c, "imagePullPolicy", json!(policy));
    for_each_obj(c, "ports", |p| set(p, "protocol", json!("TCP")));
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(p)) = c.get_mut(probe) {
            set(p, "timeoutSeconds", json!(1));
            set(p, "periodSeconds", json!(10));
            set(p, "successThreshold", json!(1));
            set(p, "failureThreshold", json!(3));
            if let Some(Value::Object(h)) = p.get_mut("httpGet") {
                set(h, "path", json!("/"));
                set(h, "scheme", json!("HTTP"));
            }
        }
    }
    for_each_obj(c, "env", |e| {
        if let Some(Value::Object(from)) = e.get_mut("valueFrom")
            && let Some(Value::Object(f)) = from.get_mut("fieldRef")
        {
            set(f, "apiVersion", json!("v1"));
        }
    });
}

/// `Always` is the pull policy for images tagged `latest` or with neither tag nor digest.
fn image_tag_is_latest(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

fn volume(v: &mut Map<String, Value>) {
    if v.keys().all(|k| k == "name") {
        v.insert("emptyDir".into(), json!({}));
    }
    for source in ["configMap", "secret", "downwardAPI", "projected"] {
        if let Some(Value::Object(s)) = v.get_mut(source) {
            set(s, "defaultMode", json!(420));
            if source == "projected" {
                for_each_obj(s, "sources", |p| {
                    if let Some(Value::Object(t)) = p.get_mut("serviceAccountToken") {
                        set(t, "expirationSeconds", json!(3600));
                    }
                });
            }
        }
    }
    if let Some(Value::Object(h)) = v.get_mut("hostPath") {
        set(h, "type", json!(""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert!(image_tag_is_latest("nginx"));
        assert!(image_tag_is_latest("nginx:latest"));
        assert!(image_tag_is_latest("localhost:5000/nginx"));
        assert!(!image_tag_is_latest("localhost:5000/nginx:1.27"));
        assert!(!image_tag_is_latest("nginx@sha256:abc"));
    }
}
