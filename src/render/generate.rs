//! From a checked [`Spec`] to Kubernetes manifests: a Deployment per service (and a Service
//! when it has ports), one Ingress, a Job per `jobs` entry and per `test`.
//!
//! Pure: no I/O. Objects carry only what the user asked for; defaults are the API server's,
//! so a diff against live state stays quiet. Raw manifests and dependencies are handled by
//! the caller; the Namespace object too (a dependency renders into its parent's).

use super::digest::short_hash;
use super::object::{APP, INSTANCE_LABEL, MANAGED_BY, NAME_LABEL, Object, PHASE, Source, stamped};
use crate::pointer::escape as esc;
use crate::spec::{
    EnvFrom, Origin, Origins, PortRef, Probe, Resources, Service, Spec, field_path, parse_duration,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Label naming the `jobs` entry or test a Job was made from.
pub const JOB_LABEL: &str = "cetus.dev/job";

/// Default `activeDeadlineSeconds` of jobs and tests: 5 minutes.
const DEFAULT_JOB_TIMEOUT_SECONDS: u64 = 300;

/// What generation needs besides the spec.
pub struct Context<'a> {
    /// The app that owns the objects (a dependency's objects belong to the depending app).
    pub app: &'a str,
    /// The namespace objects go to.
    pub namespace: &'a str,
    /// The spec's file, for sources.
    pub file: &'a str,
    /// The spec's origins, for sources.
    pub origins: &'a Origins,
}

impl Context<'_> {
    fn source(&self, pointer: &str) -> Source {
        let position = match self.origins.key(pointer) {
            Some(Origin::At(p)) => Some(*p),
            _ => None,
        };
        Source { file: self.file.to_string(), position, what: field_path(pointer) }
    }

    fn object(&self, value: Value, pointer: &str) -> Object {
        stamped(value, self.app, self.source(pointer))
    }

    fn metadata(&self, name: &str, annotations: &BTreeMap<String, String>) -> Value {
        let mut meta = json!({ "name": name, "namespace": self.namespace });
        if !annotations.is_empty() {
            meta["annotations"] = string_map(annotations);
        }
        meta
    }

    fn selector(&self, name: &str) -> Value {
        json!({ NAME_LABEL: name, INSTANCE_LABEL: self.app })
    }
}

/// Generates the objects of one spec.
pub fn generate(spec: &Spec, ctx: &Context) -> Vec<Object> {
    let mut objects = Vec::new();
    for (name, service) in &spec.services {
        let at = format!("/services/{}", esc(name));
        objects.push(ctx.object(deployment(spec, ctx, name, service), &at));
        if !service.ports.is_empty() {
            objects.push(ctx.object(self::service(ctx, name, service), &at));
        }
    }
    if !spec.ingress.is_empty() {
        objects.push(ctx.object(ingress(spec, ctx, spec.name.as_str()), "/ingress"));
    }
    for (name, job) in &spec.jobs {
        let container = container(
            spec,
            name,
            &job.image,
            job.command.as_ref(),
            job.args.as_ref(),
            &job.env,
            &job.env_from,
            job.resources.as_ref(),
        );
        let backoff = job.backoff_limit.unwrap_or(0);
        let value =
            self::job(ctx, name, job.phase.as_str(), container, backoff, job.timeout.as_deref());
        objects.push(ctx.object(value, &format!("/jobs/{}", esc(name))));
    }
    for (i, test) in spec.test.iter().enumerate() {
        let container = container(
            spec,
            &test.name,
            &test.image,
            test.command.as_ref(),
            test.args.as_ref(),
            &test.env,
            &[],
            None,
        );
        let value = job(ctx, &test.name, "test", container, 0, test.timeout.as_deref());
        objects.push(ctx.object(value, &format!("/test/{i}")));
    }
    objects
}

/// A map of strings as a JSON object, built directly (`json!` would go through serde).
fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// A list of strings as a JSON array.
fn string_list(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// The image reference a service or job names: a key of `images`, or itself.
pub fn image_reference(spec: &Spec, image: &str) -> String {
    match spec.images.get(image) {
        Some(i) => {
            let mut r = i.repository.clone();
            if let Some(tag) = &i.tag {
                r.push(':');
                r.push_str(tag);
            }
            if let Some(digest) = &i.digest {
                r.push('@');
                r.push_str(digest);
            }
            r
        }
        None => image.to_string(),
    }
}

#[allow(clippy::too_many_arguments)] // the fields a container takes, shared by services, jobs and tests
fn container(
    spec: &Spec,
    name: &str,
    image: &str,
    command: Option<&Vec<String>>,
    args: Option<&Vec<String>>,
    env: &BTreeMap<String, String>,
    env_from: &[EnvFrom],
    resources: Option<&Resources>,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("name".into(), name.into());
    c.insert("image".into(), image_reference(spec, image).into());
    if let Some(command) = command {
        c.insert("command".into(), string_list(command));
    }
    if let Some(args) = args {
        c.insert("args".into(), string_list(args));
    }
    if !env.is_empty() {
        let list: Vec<Value> = env.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect();
        c.insert("env".into(), list.into());
    }
    if !env_from.is_empty() {
        let list: Vec<Value> = env_from.iter().map(env_from_source).collect();
        c.insert("envFrom".into(), list.into());
    }
    if let Some(r) = resources.filter(|r| !r.requests.is_empty() || !r.limits.is_empty()) {
        let mut map = Map::new();
        if !r.requests.is_empty() {
            map.insert("requests".into(), string_map(&r.requests));
        }
        if !r.limits.is_empty() {
            map.insert("limits".into(), string_map(&r.limits));
        }
        c.insert("resources".into(), map.into());
    }
    c
}

fn env_from_source(from: &EnvFrom) -> Value {
    let mut v = match (&from.secret, &from.config_map) {
        (Some(name), _) => json!({ "secretRef": { "name": name } }),
        (_, name) => json!({ "configMapRef": { "name": name } }),
    };
    if let Some(prefix) = &from.prefix {
        v["prefix"] = prefix.clone().into();
    }
    v
}

fn deployment(spec: &Spec, ctx: &Context, name: &str, service: &Service) -> Value {
    let mut c = container(
        spec,
        name,
        &service.image,
        service.command.as_ref(),
        service.args.as_ref(),
        &service.env,
        &service.env_from,
        service.resources.as_ref(),
    );
    if !service.ports.is_empty() {
        let ports: Vec<Value> = service.ports.iter().map(|p| {
            let mut port = json!({ "containerPort": p.target_port.unwrap_or(p.port), "protocol": p.protocol.as_str() });
            if let Some(n) = &p.name {
                port["name"] = n.clone().into();
            }
            port
        }).collect();
        c.insert("ports".into(), ports.into());
    }
    for (field, probe) in [
        ("readinessProbe", &service.probes.readiness),
        ("livenessProbe", &service.probes.liveness),
        ("startupProbe", &service.probes.startup),
    ] {
        if let Some(p) = probe {
            c.insert(field.into(), self::probe(service, p));
        }
    }
    let mut labels = ctx.selector(name);
    labels[MANAGED_BY] = "cetus".into();
    labels[APP] = ctx.app.into();
    let mut pod_meta = json!({ "labels": labels });
    if !service.pod_annotations.is_empty() {
        pod_meta["annotations"] = string_map(&service.pod_annotations);
    }
    let mut pod = json!({ "containers": [c] });
    if !service.node_selector.is_empty() {
        pod["nodeSelector"] = string_map(&service.node_selector);
    }
    let strategy = match service.strategy {
        crate::spec::Strategy::RollingUpdate => "RollingUpdate",
        crate::spec::Strategy::Recreate => "Recreate",
    };
    let mut spec_value = json!({
        "selector": { "matchLabels": ctx.selector(name) },
        "strategy": { "type": strategy },
        "template": { "metadata": pod_meta, "spec": pod },
    });
    if let Some(replicas) = service.replicas {
        spec_value["replicas"] = replicas.into();
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ctx.metadata(name, &service.annotations),
        "spec": spec_value,
    })
}

fn probe(service: &Service, p: &Probe) -> Value {
    let port = match &p.port {
        Some(PortRef::Number(n)) => json!(n),
        Some(PortRef::Name(n)) => json!(n),
        None => {
            service.ports.first().map_or(Value::Null, |sp| json!(sp.target_port.unwrap_or(sp.port)))
        }
    };
    let mut v = if let Some(path) = &p.http {
        json!({ "httpGet": { "path": path, "port": port } })
    } else if let Some(command) = &p.exec {
        json!({ "exec": { "command": string_list(command) } })
    } else {
        json!({ "tcpSocket": { "port": port } })
    };
    for (field, value) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("periodSeconds", p.period_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("failureThreshold", p.failure_threshold),
    ] {
        if let Some(value) = value {
            v[field] = value.into();
        }
    }
    v
}

fn service(ctx: &Context, name: &str, service: &Service) -> Value {
    let ports: Vec<Value> = service
        .ports
        .iter()
        .map(|p| {
            let mut port = json!({
                "port": p.port,
                "targetPort": p.target_port.unwrap_or(p.port),
                "protocol": p.protocol.as_str(),
            });
            if let Some(n) = &p.name {
                port["name"] = n.clone().into();
            }
            if let Some(node_port) = p.node_port {
                port["nodePort"] = node_port.into();
            }
            port
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.metadata(name, &BTreeMap::new()),
        "spec": { "type": service.expose.as_str(), "selector": ctx.selector(name), "ports": ports },
    })
}

fn ingress(spec: &Spec, ctx: &Context, name: &str) -> Value {
    let mut annotations = BTreeMap::new();
    let mut class = None;
    let mut rules = Vec::new();
    let mut tls = Vec::new();
    for entry in &spec.ingress {
        annotations.extend(entry.annotations.clone());
        class = class.or(entry.class_name.clone());
        let paths: Vec<Value> = entry.paths.iter().map(|p| {
            let service = &spec.services[&p.service];
            let port = match &p.port {
                Some(PortRef::Number(n)) => json!({ "number": n }),
                Some(PortRef::Name(n)) => json!({ "name": n }),
                None => json!({ "number": service.ports[0].port }),
            };
            json!({ "path": p.path, "pathType": p.path_type.as_str(), "backend": { "service": { "name": p.service, "port": port } } })
        }).collect();
        rules.push(json!({ "host": entry.host, "http": { "paths": paths } }));
        if let Some(t) = &entry.tls {
            tls.push(json!({ "hosts": [entry.host], "secretName": t.secret_name }));
        }
    }
    let mut spec_value = json!({ "rules": rules });
    if !tls.is_empty() {
        spec_value["tls"] = tls.into();
    }
    if let Some(class) = class {
        spec_value["ingressClassName"] = class.into();
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": ctx.metadata(name, &annotations),
        "spec": spec_value,
    })
}

/// A Job named `<name>-<hash of its spec>`: Jobs are immutable, so a changed job is a new one
/// and an unchanged one keeps its name and is not run again.
fn job(
    ctx: &Context,
    name: &str,
    phase: &str,
    container: Map<String, Value>,
    backoff: i64,
    timeout: Option<&str>,
) -> Value {
    let deadline = timeout.and_then(parse_duration).unwrap_or(DEFAULT_JOB_TIMEOUT_SECONDS);
    let spec = json!({
        "backoffLimit": backoff,
        "activeDeadlineSeconds": deadline,
        "template": {
            // Not the service selector: a Service must never pick up a job's pod.
            "metadata": { "labels": { INSTANCE_LABEL: ctx.app, JOB_LABEL: name } },
            "spec": { "restartPolicy": "Never", "containers": [container] },
        },
    });
    let full_name = format!("{name}-{}", short_hash(&spec));
    let mut meta =
        ctx.metadata(&full_name, &BTreeMap::from([(PHASE.to_string(), phase.to_string())]));
    meta["labels"] = json!({ JOB_LABEL: name });
    json!({ "apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec })
}

/// The Namespace object of an app.
pub fn namespace(ctx: &Context) -> Object {
    ctx.object(
        json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": ctx.namespace } }),
        "/name",
    )
}
