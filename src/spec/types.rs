//! The typed shape of a cetus.yaml (DESIGN §3), as it stands after profiles and vars.
//!
//! Every struct denies unknown keys, so a typo is an error that names the key. Scalars are
//! read leniently where a var can feed them: an integer field accepts `"3"` (an `env` or
//! `file` var is always text), and a text field accepts `3` or `true` (Kubernetes wants
//! strings for env values and annotations, and YAML makes numbers of them).

use super::de::{opt_int, text, text_map};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A whole cetus.yaml.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// The app's name, a DNS-1123 label.
    #[serde(deserialize_with = "text")]
    pub name: String,
    /// The team or group; the default namespace is `<group>--<name>`.
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub group: Option<String>,
    /// Variables usable anywhere as `${name}`.
    #[serde(default)]
    pub vars: BTreeMap<String, Var>,
    /// Named images services and jobs refer to.
    #[serde(default)]
    pub images: BTreeMap<String, Image>,
    /// Long-running services: a Deployment each, plus a Service when they have ports.
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
    /// Jobs run before or after a sync.
    #[serde(default)]
    pub jobs: BTreeMap<String, Job>,
    /// Ingress rules, one per host.
    #[serde(default)]
    pub ingress: Vec<Ingress>,
    /// Other cetus.yaml apps rendered with this one, into its namespace.
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    /// Raw manifest files or directories, relative to this cetus.yaml.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Post-sync checks, run as Jobs; a failure rolls the app back.
    #[serde(default)]
    pub test: Vec<Test>,
    /// Per-environment modifications of this file.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Developer-machine settings: accepted and ignored by Cetus.
    #[serde(default)]
    pub dev: Option<Value>,
}

/// Where a var's value comes from. `default` alone is a constant; with `env` it is the
/// fallback when the variable is unset. Exactly one of `env`, `file`, `stdin` at most.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Var {
    /// The value (a scalar), or the fallback for `env`.
    #[serde(default)]
    pub default: Option<Value>,
    /// An environment variable of the process rendering (the daemon, or the CLI's shell).
    #[serde(default)]
    pub env: Option<String>,
    /// A file relative to the cetus.yaml, inside the repository; its trailing newline is cut.
    #[serde(default)]
    pub file: Option<String>,
    /// Read from the CLI's standard input; the daemon refuses such vars.
    #[serde(default)]
    pub stdin: Option<bool>,
}

/// An image: repository and tag (or digest).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Registry and repository, e.g. `registry.example.com/bookinfo/web`.
    #[serde(deserialize_with = "text")]
    pub repository: String,
    /// The tag.
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub tag: Option<String>,
    /// A `sha256:` digest; pins the image whatever the tag.
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub digest: Option<String>,
}

/// A long-running service.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
    /// A key of `images`, or a full image reference.
    #[serde(deserialize_with = "text")]
    pub image: String,
    /// Pod count; Kubernetes' default (1) when absent.
    #[serde(default, deserialize_with = "opt_int")]
    pub replicas: Option<i64>,
    /// Ports; a Service is generated when there is at least one.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// The Service type.
    #[serde(default)]
    pub expose: Expose,
    /// Environment variables of the container.
    #[serde(default, deserialize_with = "text_map")]
    pub env: BTreeMap<String, String>,
    /// Secrets and ConfigMaps whose keys become environment variables.
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Readiness, liveness and startup probes.
    #[serde(default)]
    pub probes: Probes,
    /// How pods are replaced.
    #[serde(default)]
    pub strategy: Strategy,
    /// Overrides the image's entrypoint.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Overrides the image's arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Node labels the pods must match.
    #[serde(default, deserialize_with = "text_map")]
    pub node_selector: BTreeMap<String, String>,
    /// Annotations on the Deployment (`cetus.dev/ignore-fields`, ...).
    #[serde(default, deserialize_with = "text_map")]
    pub annotations: BTreeMap<String, String>,
    /// Annotations on the pods.
    #[serde(default, deserialize_with = "text_map")]
    pub pod_annotations: BTreeMap<String, String>,
}

/// A port a service listens on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Port {
    /// The Service port.
    #[serde(deserialize_with = "super::de::int")]
    pub port: i64,
    /// The container port; `port` when absent.
    #[serde(default, deserialize_with = "opt_int")]
    pub target_port: Option<i64>,
    /// The port's name (required when a service has several ports).
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub name: Option<String>,
    /// TCP (default), UDP or SCTP.
    #[serde(default)]
    pub protocol: Protocol,
    /// A fixed node port, for `expose: NodePort` or `LoadBalancer`.
    #[serde(default, deserialize_with = "opt_int")]
    pub node_port: Option<i64>,
}

/// A port protocol.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Protocol {
    /// TCP.
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// The Kubernetes Service type.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Expose {
    /// Reachable inside the cluster.
    #[default]
    ClusterIP,
    /// On a port of every node.
    NodePort,
    /// Through the cloud's load balancer.
    LoadBalancer,
}

impl Expose {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Expose::ClusterIP => "ClusterIP",
            Expose::NodePort => "NodePort",
            Expose::LoadBalancer => "LoadBalancer",
        }
    }
}

/// The Deployment strategy.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Replace pods gradually.
    #[default]
    RollingUpdate,
    /// Stop all pods, then start new ones.
    Recreate,
}

/// A source of environment variables: exactly one of `secret` or `configMap`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFrom {
    /// A Secret's name.
    #[serde(default)]
    pub secret: Option<String>,
    /// A ConfigMap's name.
    #[serde(default)]
    pub config_map: Option<String>,
    /// A prefix added to every variable name.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// Resource requests and limits (`cpu`, `memory`, ... → quantities).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(default, deserialize_with = "text_map")]
    pub requests: BTreeMap<String, String>,
    /// The most the container may use.
    #[serde(default, deserialize_with = "text_map")]
    pub limits: BTreeMap<String, String>,
}

/// The container's probes.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// When the pod receives traffic.
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// When the container is restarted.
    #[serde(default)]
    pub liveness: Option<Probe>,
    /// Holds the other probes off until the container has started.
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// One probe: exactly one of `http` (a path), `tcp: true` or `exec` (a command).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    /// An HTTP GET of this path.
    #[serde(default)]
    pub http: Option<String>,
    /// A TCP connect.
    #[serde(default)]
    pub tcp: Option<bool>,
    /// A command run in the container.
    #[serde(default)]
    pub exec: Option<Vec<String>>,
    /// The port for `http` and `tcp`: a number or a port name; the first port when absent.
    #[serde(default)]
    pub port: Option<PortRef>,
    /// Seconds before the first probe.
    #[serde(default, deserialize_with = "opt_int")]
    pub initial_delay_seconds: Option<i64>,
    /// Seconds between probes.
    #[serde(default, deserialize_with = "opt_int")]
    pub period_seconds: Option<i64>,
    /// Seconds before a probe times out.
    #[serde(default, deserialize_with = "opt_int")]
    pub timeout_seconds: Option<i64>,
    /// Failures in a row that count as failed.
    #[serde(default, deserialize_with = "opt_int")]
    pub failure_threshold: Option<i64>,
}

/// A port by number or by name.
#[derive(Debug, Clone, PartialEq)]
pub enum PortRef {
    /// A port number.
    Number(i64),
    /// A named port of the service.
    Name(String),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) if n.is_i64() => Ok(PortRef::Number(n.as_i64().unwrap_or_default())),
            Value::String(s) => Ok(match s.parse::<i64>() {
                Ok(n) => PortRef::Number(n),
                Err(_) => PortRef::Name(s),
            }),
            other => Err(serde::de::Error::custom(format!(
                "invalid type: {}, expected a port number or name",
                super::de::describe(&other)
            ))),
        }
    }
}

/// When a job runs.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Phase {
    /// Before the workloads are applied (migrations).
    #[default]
    #[serde(rename = "pre-sync")]
    PreSync,
    /// After the app is healthy.
    #[serde(rename = "post-sync")]
    PostSync,
}

impl Phase {
    /// The spelling used in cetus.yaml and in the `cetus.dev/phase` annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreSync => "pre-sync",
            Phase::PostSync => "post-sync",
        }
    }
}

/// A Job run around a sync.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Job {
    /// A key of `images`, or a full image reference.
    #[serde(deserialize_with = "text")]
    pub image: String,
    /// The command.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Its arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Environment variables.
    #[serde(default, deserialize_with = "text_map")]
    pub env: BTreeMap<String, String>,
    /// Secrets and ConfigMaps whose keys become environment variables.
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    /// `pre-sync` (default) or `post-sync`.
    #[serde(default)]
    pub phase: Phase,
    /// Retries before the job counts as failed (default 0: a failed migration is not rerun).
    #[serde(default, deserialize_with = "opt_int")]
    pub backoff_limit: Option<i64>,
    /// How long the job may run (`90s`, `10m`, `1h`); default 5 minutes.
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub timeout: Option<String>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: Option<Resources>,
}

/// A post-sync check.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Test {
    /// The test's name, a DNS-1123 label.
    #[serde(deserialize_with = "text")]
    pub name: String,
    /// A key of `images`, or a full image reference.
    #[serde(deserialize_with = "text")]
    pub image: String,
    /// The command; a non-zero exit fails the test.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Its arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Environment variables.
    #[serde(default, deserialize_with = "text_map")]
    pub env: BTreeMap<String, String>,
    /// How long the test may run (`60s`, `5m`); default 5 minutes.
    #[serde(default, deserialize_with = "super::de::opt_text")]
    pub timeout: Option<String>,
}

/// Ingress for one host.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
    /// The host name.
    #[serde(deserialize_with = "text")]
    pub host: String,
    /// Paths routed to services.
    pub paths: Vec<IngressPath>,
    /// TLS for the host.
    #[serde(default)]
    pub tls: Option<IngressTls>,
    /// The IngressClass.
    #[serde(default)]
    pub class_name: Option<String>,
    /// Annotations on the Ingress object (controller settings).
    #[serde(default, deserialize_with = "text_map")]
    pub annotations: BTreeMap<String, String>,
}

/// A path routed to a service's port.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressPath {
    /// The URL path; `/` when absent.
    #[serde(default = "root_path")]
    pub path: String,
    /// A key of `services`.
    #[serde(deserialize_with = "text")]
    pub service: String,
    /// The Service port, by number or name; the service's first port when absent.
    #[serde(default)]
    pub port: Option<PortRef>,
    /// Prefix (default), Exact or ImplementationSpecific.
    #[serde(default)]
    pub path_type: PathType,
}

fn root_path() -> String {
    "/".to_string()
}

/// How an ingress path matches.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum PathType {
    /// By path prefix, segment-wise.
    #[default]
    Prefix,
    /// Exactly.
    Exact,
    /// As the ingress controller decides.
    ImplementationSpecific,
}

impl PathType {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PathType::Prefix => "Prefix",
            PathType::Exact => "Exact",
            PathType::ImplementationSpecific => "ImplementationSpecific",
        }
    }
}

/// TLS settings of an ingress host.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTls {
    /// The Secret holding the certificate.
    #[serde(deserialize_with = "text")]
    pub secret_name: String,
}

/// Another cetus.yaml app: `path` in this repository, or `git` + `ref` (+ `path` inside it).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// A directory relative to this cetus.yaml (or, with `git`, inside that repository).
    #[serde(default)]
    pub path: Option<String>,
    /// A git repository URL.
    #[serde(default)]
    pub git: Option<String>,
    /// The branch, tag or commit of `git`.
    #[serde(default, rename = "ref", deserialize_with = "super::de::opt_text")]
    pub reference: Option<String>,
}

/// One environment's modifications.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The namespace the app deploys to in this environment.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Dotted paths set to values (`services.web.replicas: 1`), applied first, in key order.
    #[serde(default)]
    pub replace: BTreeMap<String, Value>,
    /// An RFC 6902 patch, applied after `replace`.
    #[serde(default)]
    pub patch: Vec<Value>,
}
