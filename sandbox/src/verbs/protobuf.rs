//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's typed
//! clients send for `create namespace|configmap|secret|deployment|job`, `run` and
//! `expose`. The envelope (`k8s\0` and a `runtime.Unknown`) and the objects are decoded by
//! prost with the Kubernetes types of `k8s-pb`; this module turns the decoded objects into
//! the JSON kube-apiserver would have decoded, for Namespace, ConfigMap, Secret, Pod,
//! Service, Deployment and Job.
//!
//! Every field a body sets is either converted or refused (415 naming the type): each
//! converter takes the fields it knows out of the message and checks that what is left is
//! empty, so nothing is dropped silently.

use crate::status::ApiError;
use base64::Engine;
use k8s_pb::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::mem::take;

/// The media type.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The magic number before every Kubernetes protobuf message.
const MAGIC: &[u8] = b"k8s\0";

/// A field (of the named type) the conversion does not carry.
type Unsupported = String;
type Out = Result<Value, Unsupported>;

/// Decodes a protobuf body into the object's JSON form.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let raw = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| ApiError::bad_request("the protobuf body does not start with k8s\\0"))?;
    let unknown = Unknown::decode(raw)
        .map_err(|e| ApiError::bad_request(format!("error decoding the protobuf envelope: {e}")))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let bytes = unknown.raw.unwrap_or_default();
    let bad = |e: prost::DecodeError| {
        ApiError::bad_request(format!("error decoding the {kind} protobuf: {e}"))
    };
    let converted = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => namespace(core::Namespace::decode(&*bytes).map_err(bad)?),
        ("v1", "ConfigMap") => config_map(core::ConfigMap::decode(&*bytes).map_err(bad)?),
        ("v1", "Secret") => secret(core::Secret::decode(&*bytes).map_err(bad)?),
        ("v1", "Pod") => pod(core::Pod::decode(&*bytes).map_err(bad)?),
        ("v1", "Service") => service(core::Service::decode(&*bytes).map_err(bad)?),
        ("apps/v1", "Deployment") => deployment(apps::Deployment::decode(&*bytes).map_err(bad)?),
        ("batch/v1", "Job") => job(batch::Job::decode(&*bytes).map_err(bad)?),
        _ => Err(format!("{api_version}/{kind}")),
    };
    let mut obj = converted.map_err(|what| {
        let mut e = ApiError::unsupported_media_type(&["application/json", "application/yaml"]);
        e.message = format!("{}; the sandbox decodes no protobuf {what}", e.message);
        e
    })?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

/// Checks that nothing is left of a message once its known fields were taken.
fn rest<T: Default + PartialEq>(left: T, what: &str) -> Result<(), Unsupported> {
    if left == T::default() { Ok(()) } else { Err(format!("{what} field")) }
}

fn object(fields: Vec<(&str, Value)>) -> Value {
    let m: Map<String, Value> =
        fields.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect();
    Value::Object(m)
}

/// A field that is a pointer in Go: present means set, zero included.
fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// A field that is a value in Go (always encoded): its zero value means unset, as
/// `omitempty` has it in JSON.
fn val<T: Into<Value> + Default + PartialEq>(v: Option<T>) -> Value {
    v.filter(|x| *x != T::default()).map_or(Value::Null, Into::into)
}

fn strings(v: Vec<String>) -> Value {
    if v.is_empty() { Value::Null } else { json!(v) }
}

fn string_map(m: BTreeMap<String, String>) -> Value {
    if m.is_empty() { Value::Null } else { json!(m) }
}

fn list<T>(items: Vec<T>, f: impl Fn(T) -> Out) -> Out {
    if items.is_empty() {
        return Ok(Value::Null);
    }
    items.into_iter().map(f).collect::<Result<Vec<_>, _>>().map(Value::Array)
}

fn message<T>(m: Option<T>, f: impl FnOnce(T) -> Out) -> Out {
    m.map_or(Ok(Value::Null), f)
}

fn quantities(m: BTreeMap<String, Quantity>) -> Value {
    if m.is_empty() {
        return Value::Null;
    }
    m.into_iter()
        .map(|(k, q)| (k, json!(q.string.unwrap_or_default())))
        .collect::<Map<_, _>>()
        .into()
}

fn int_or_string(v: IntOrString) -> Value {
    match v.r#type {
        Some(1) => json!(v.str_val.unwrap_or_default()),
        _ => match v.int_val.unwrap_or_default() {
            // The zero IntOrString is how Go encodes an unset value field.
            0 => Value::Null,
            n => json!(n),
        },
    }
}

fn time(t: meta::Time) -> Value {
    match t.seconds.unwrap_or_default() {
        // Go's zero time: unset (`creationTimestamp: null` in JSON).
        0 => Value::Null,
        secs => jiff::Timestamp::from_second(secs).map_or(Value::Null, |ts| json!(ts.to_string())),
    }
}

fn object_meta(mut m: meta::ObjectMeta) -> Out {
    let out = object(vec![
        ("name", val(take(&mut m.name))),
        ("generateName", val(take(&mut m.generate_name))),
        ("namespace", val(take(&mut m.namespace))),
        ("resourceVersion", val(take(&mut m.resource_version))),
        ("uid", val(take(&mut m.uid))),
        ("labels", string_map(take(&mut m.labels))),
        ("annotations", string_map(take(&mut m.annotations))),
        ("finalizers", strings(take(&mut m.finalizers))),
        ("creationTimestamp", take(&mut m.creation_timestamp).map_or(Value::Null, time)),
        ("ownerReferences", list(take(&mut m.owner_references), owner_reference)?),
        ("generation", val(take(&mut m.generation))),
    ]);
    // Read-only, ignored by the server as by kube-apiserver.
    take(&mut m.self_link);
    rest(m, "ObjectMeta")?;
    Ok(out)
}

fn owner_reference(mut r: meta::OwnerReference) -> Out {
    let out = object(vec![
        ("apiVersion", val(take(&mut r.api_version))),
        ("kind", val(take(&mut r.kind))),
        ("name", val(take(&mut r.name))),
        ("uid", val(take(&mut r.uid))),
        ("controller", opt(take(&mut r.controller))),
        ("blockOwnerDeletion", opt(take(&mut r.block_owner_deletion))),
    ]);
    rest(r, "OwnerReference")?;
    Ok(out)
}

fn label_selector(mut s: meta::LabelSelector) -> Out {
    let out = object(vec![
        ("matchLabels", string_map(take(&mut s.match_labels))),
        (
            "matchExpressions",
            list(take(&mut s.match_expressions), |mut r| {
                let out = object(vec![
                    ("key", val(take(&mut r.key))),
                    ("operator", val(take(&mut r.operator))),
                    ("values", strings(take(&mut r.values))),
                ]);
                rest(r, "LabelSelectorRequirement")?;
                Ok(out)
            })?,
        ),
    ]);
    rest(s, "LabelSelector")?;
    Ok(out)
}

fn namespace(mut n: core::Namespace) -> Out {
    let out = object(vec![("metadata", message(take(&mut n.metadata), object_meta)?)]);
    // An empty spec is what every typed client sends.
    n.spec = n.spec.filter(|s| *s != core::NamespaceSpec::default());
    // Status is the server's: kube-apiserver resets it on create.
    take(&mut n.status);
    rest(n, "Namespace")?;
    Ok(out)
}

fn config_map(mut c: core::ConfigMap) -> Out {
    let binary: Map<String, Value> = take(&mut c.binary_data)
        .into_iter()
        .map(|(k, v)| (k, json!(base64::engine::general_purpose::STANDARD.encode(v))))
        .collect();
    let out = object(vec![
        ("metadata", message(take(&mut c.metadata), object_meta)?),
        ("immutable", opt(take(&mut c.immutable))),
        ("data", string_map(take(&mut c.data))),
        ("binaryData", if binary.is_empty() { Value::Null } else { binary.into() }),
    ]);
    rest(c, "ConfigMap")?;
    Ok(out)
}

fn secret(mut s: core::Secret) -> Out {
    let data: Map<String, Value> = take(&mut s.data)
        .into_iter()
        .map(|(k, v)| (k, json!(base64::engine::general_purpose::STANDARD.encode(v))))
        .collect();
    let out = object(vec![
        ("metadata", message(take(&mut s.metadata), object_meta)?),
        ("immutable", opt(take(&mut s.immutable))),
        ("data", if data.is_empty() { Value::Null } else { data.into() }),
        ("stringData", string_map(take(&mut s.string_data))),
        ("type", val(take(&mut s.r#type))),
    ]);
    rest(s, "Secret")?;
    Ok(out)
}

fn container(mut c: core::Container) -> Out {
    let out = object(vec![
        ("name", val(take(&mut c.name))),
        ("image", val(take(&mut c.image))),
        ("command", strings(take(&mut c.command))),
        ("args", strings(take(&mut c.args))),
        ("workingDir", val(take(&mut c.working_dir))),
        ("ports", list(take(&mut c.ports), container_port)?),
        ("env", list(take(&mut c.env), env_var)?),
        ("resources", message(take(&mut c.resources), resources)?),
        ("imagePullPolicy", val(take(&mut c.image_pull_policy))),
        ("terminationMessagePath", val(take(&mut c.termination_message_path))),
        ("terminationMessagePolicy", val(take(&mut c.termination_message_policy))),
        ("stdin", val(take(&mut c.stdin))),
        ("stdinOnce", val(take(&mut c.stdin_once))),
        ("tty", val(take(&mut c.tty))),
    ]);
    rest(c, "Container")?;
    Ok(out)
}

fn container_port(mut p: core::ContainerPort) -> Out {
    let out = object(vec![
        ("name", val(take(&mut p.name))),
        ("hostPort", val(take(&mut p.host_port))),
        ("containerPort", val(take(&mut p.container_port))),
        ("protocol", val(take(&mut p.protocol))),
        ("hostIP", val(take(&mut p.host_ip))),
    ]);
    rest(p, "ContainerPort")?;
    Ok(out)
}

fn env_var(mut e: core::EnvVar) -> Out {
    let out = object(vec![("name", val(take(&mut e.name))), ("value", val(take(&mut e.value)))]);
    rest(e, "EnvVar")?;
    Ok(out)
}

fn resources(mut r: core::ResourceRequirements) -> Out {
    let out = object(vec![
        ("limits", quantities(take(&mut r.limits))),
        ("requests", quantities(take(&mut r.requests))),
    ]);
    rest(r, "ResourceRequirements")?;
    Ok(out)
}

fn pod_spec(mut s: core::PodSpec) -> Out {
    let security = match take(&mut s.security_context) {
        None => Value::Null,
        Some(c) if c == core::PodSecurityContext::default() => json!({}),
        Some(_) => return Err("PodSecurityContext field".into()),
    };
    let out = object(vec![
        ("containers", list(take(&mut s.containers), container)?),
        ("initContainers", list(take(&mut s.init_containers), container)?),
        ("restartPolicy", val(take(&mut s.restart_policy))),
        ("terminationGracePeriodSeconds", opt(take(&mut s.termination_grace_period_seconds))),
        ("activeDeadlineSeconds", opt(take(&mut s.active_deadline_seconds))),
        ("dnsPolicy", val(take(&mut s.dns_policy))),
        ("nodeSelector", string_map(take(&mut s.node_selector))),
        ("serviceAccountName", val(take(&mut s.service_account_name))),
        ("hostname", val(take(&mut s.hostname))),
        ("subdomain", val(take(&mut s.subdomain))),
        ("schedulerName", val(take(&mut s.scheduler_name))),
        ("enableServiceLinks", opt(take(&mut s.enable_service_links))),
        ("securityContext", security),
        ("serviceAccount", val(take(&mut s.service_account))),
        ("nodeName", val(take(&mut s.node_name))),
        ("hostNetwork", val(take(&mut s.host_network))),
        ("hostPID", val(take(&mut s.host_pid))),
        ("hostIPC", val(take(&mut s.host_ipc))),
        ("priorityClassName", val(take(&mut s.priority_class_name))),
    ]);
    rest(s, "PodSpec")?;
    Ok(out)
}

fn template(mut t: core::PodTemplateSpec) -> Out {
    let out = object(vec![
        ("metadata", message(take(&mut t.metadata), object_meta)?),
        ("spec", message(take(&mut t.spec), pod_spec)?),
    ]);
    rest(t, "PodTemplateSpec")?;
    Ok(out)
}

fn pod(mut p: core::Pod) -> Out {
    let out = object(vec![
        ("metadata", message(take(&mut p.metadata), object_meta)?),
        ("spec", message(take(&mut p.spec), pod_spec)?),
    ]);
    // Status is the server's: kube-apiserver resets it on create.
    take(&mut p.status);
    rest(p, "Pod")?;
    Ok(out)
}

fn service_port(mut p: core::ServicePort) -> Out {
    let out = object(vec![
        ("name", val(take(&mut p.name))),
        ("protocol", val(take(&mut p.protocol))),
        ("appProtocol", opt(take(&mut p.app_protocol))),
        ("port", val(take(&mut p.port))),
        ("targetPort", take(&mut p.target_port).map_or(Value::Null, int_or_string)),
        ("nodePort", val(take(&mut p.node_port))),
    ]);
    rest(p, "ServicePort")?;
    Ok(out)
}

fn service(mut svc: core::Service) -> Out {
    let spec = match take(&mut svc.spec) {
        None => Value::Null,
        Some(mut s) => {
            let out = object(vec![
                ("ports", list(take(&mut s.ports), service_port)?),
                ("selector", string_map(take(&mut s.selector))),
                ("clusterIP", val(take(&mut s.cluster_ip))),
                ("clusterIPs", strings(take(&mut s.cluster_ips))),
                ("type", val(take(&mut s.r#type))),
                ("externalIPs", strings(take(&mut s.external_ips))),
                ("sessionAffinity", val(take(&mut s.session_affinity))),
                ("loadBalancerIP", val(take(&mut s.load_balancer_ip))),
                ("externalName", val(take(&mut s.external_name))),
                ("externalTrafficPolicy", val(take(&mut s.external_traffic_policy))),
                ("internalTrafficPolicy", opt(take(&mut s.internal_traffic_policy))),
                ("ipFamilies", strings(take(&mut s.ip_families))),
                ("ipFamilyPolicy", opt(take(&mut s.ip_family_policy))),
                ("publishNotReadyAddresses", val(take(&mut s.publish_not_ready_addresses))),
                ("healthCheckNodePort", val(take(&mut s.health_check_node_port))),
            ]);
            rest(s, "ServiceSpec")?;
            out
        }
    };
    let out =
        object(vec![("metadata", message(take(&mut svc.metadata), object_meta)?), ("spec", spec)]);
    // Status is the server's: kube-apiserver resets it on create.
    take(&mut svc.status);
    rest(svc, "Service")?;
    Ok(out)
}

fn strategy(mut s: apps::DeploymentStrategy) -> Out {
    let rolling = match take(&mut s.rolling_update) {
        None => Value::Null,
        Some(mut r) => {
            let out = object(vec![
                ("maxUnavailable", take(&mut r.max_unavailable).map_or(Value::Null, int_or_string)),
                ("maxSurge", take(&mut r.max_surge).map_or(Value::Null, int_or_string)),
            ]);
            rest(r, "RollingUpdateDeployment")?;
            out
        }
    };
    let out = object(vec![("type", val(take(&mut s.r#type))), ("rollingUpdate", rolling)]);
    rest(s, "DeploymentStrategy")?;
    Ok(out)
}

fn deployment(mut d: apps::Deployment) -> Out {
    let spec = match take(&mut d.spec) {
        None => Value::Null,
        Some(mut s) => {
            let out = object(vec![
                ("replicas", opt(take(&mut s.replicas))),
                ("selector", message(take(&mut s.selector), label_selector)?),
                ("template", message(take(&mut s.template), template)?),
                ("strategy", message(take(&mut s.strategy), strategy)?),
                ("minReadySeconds", val(take(&mut s.min_ready_seconds))),
                ("revisionHistoryLimit", opt(take(&mut s.revision_history_limit))),
                ("paused", val(take(&mut s.paused))),
                ("progressDeadlineSeconds", opt(take(&mut s.progress_deadline_seconds))),
            ]);
            rest(s, "DeploymentSpec")?;
            out
        }
    };
    let out =
        object(vec![("metadata", message(take(&mut d.metadata), object_meta)?), ("spec", spec)]);
    // Status is the server's: kube-apiserver resets it on create.
    take(&mut d.status);
    rest(d, "Deployment")?;
    Ok(out)
}

fn job(mut j: batch::Job) -> Out {
    let spec = match take(&mut j.spec) {
        None => Value::Null,
        Some(mut s) => {
            let out = object(vec![
                ("parallelism", opt(take(&mut s.parallelism))),
                ("completions", opt(take(&mut s.completions))),
                ("activeDeadlineSeconds", opt(take(&mut s.active_deadline_seconds))),
                ("backoffLimit", opt(take(&mut s.backoff_limit))),
                ("selector", message(take(&mut s.selector), label_selector)?),
                ("manualSelector", opt(take(&mut s.manual_selector))),
                ("template", message(take(&mut s.template), template)?),
                ("ttlSecondsAfterFinished", opt(take(&mut s.ttl_seconds_after_finished))),
                ("completionMode", opt(take(&mut s.completion_mode))),
                ("suspend", opt(take(&mut s.suspend))),
                ("podReplacementPolicy", opt(take(&mut s.pod_replacement_policy))),
            ]);
            rest(s, "JobSpec")?;
            out
        }
    };
    let out =
        object(vec![("metadata", message(take(&mut j.metadata), object_meta)?), ("spec", spec)]);
    // Status is the server's: kube-apiserver resets it on create.
    take(&mut j.status);
    rest(j, "Job")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        body
    }

    #[test]
    fn config_maps_and_secrets() {
        let cm = core::ConfigMap {
            metadata: Some(meta::ObjectMeta { name: Some("c".into()), ..Default::default() }),
            data: [("k".to_string(), "v".to_string())].into(),
            ..Default::default()
        };
        let got = decode(&envelope("v1", "ConfigMap", cm.encode_to_vec())).unwrap();
        assert_eq!(
            got,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
        );
        let secret = core::Secret {
            metadata: Some(meta::ObjectMeta { name: Some("s".into()), ..Default::default() }),
            data: [("pw".to_string(), b"hunter2".to_vec())].into(),
            r#type: Some("Opaque".into()),
            ..Default::default()
        };
        let got = decode(&envelope("v1", "Secret", secret.encode_to_vec())).unwrap();
        assert_eq!(got["data"], json!({"pw": "aHVudGVyMg=="}));
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused_not_dropped() {
        let e = decode(&envelope("v1", "Endpoints", vec![])).unwrap_err();
        assert_eq!(e.code, 415);
        assert!(
            e.message.ends_with("the sandbox decodes no protobuf v1/Endpoints"),
            "{}",
            e.message
        );
        let meta =
            meta::ObjectMeta { deletion_grace_period_seconds: Some(3), ..Default::default() };
        let cm = core::ConfigMap { metadata: Some(meta), ..Default::default() };
        let e = decode(&envelope("v1", "ConfigMap", cm.encode_to_vec())).unwrap_err();
        assert!(
            e.message.ends_with("the sandbox decodes no protobuf ObjectMeta field"),
            "{}",
            e.message
        );
        assert_eq!(decode(b"{}").unwrap_err().code, 400);
    }
}
