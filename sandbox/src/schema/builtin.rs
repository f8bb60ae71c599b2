//! The schemas of the built-in kinds, generated once per process from k8s-openapi's
//! `schemars` implementations (OpenAPI 3 form, definitions named as Kubernetes names them,
//! e.g. `io.k8s.api.apps.v1.Deployment`).

use super::{Schema, SchemaRef};
use k8s_openapi::api::{
    admissionregistration, apps, autoscaling, batch, coordination, core, discovery, events,
    networking, policy, rbac, scheduling, storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
use k8s_openapi::schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// Every built-in kind with its group and definition name.
pub struct Builtin {
    /// `components.schemas`: every definition reachable from the kinds.
    pub definitions: Map<String, Value>,
    /// (group, version, kind, definition name) of each served kind.
    pub kinds: Vec<(&'static str, &'static str, &'static str, String)>,
    schema: Arc<Schema>,
}

type Kinds = Vec<(&'static str, &'static str, &'static str, String)>;

/// Adds a kind at `v1` of its group.
fn add<T: JsonSchema>(
    generator: &mut SchemaGenerator,
    kinds: &mut Kinds,
    group: &'static str,
    kind: &'static str,
) {
    add_at::<T>(generator, kinds, group, "v1", kind);
}

fn add_at<T: JsonSchema>(
    generator: &mut SchemaGenerator,
    kinds: &mut Kinds,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
) {
    generator.subschema_for::<T>();
    kinds.push((group, version, kind, T::schema_name().into_owned()));
}

fn generate() -> Builtin {
    let mut g = SchemaSettings::openapi3().into_generator();
    let mut k = Vec::new();
    add::<core::v1::ConfigMap>(&mut g, &mut k, "", "ConfigMap");
    add::<core::v1::Event>(&mut g, &mut k, "", "Event");
    add::<core::v1::LimitRange>(&mut g, &mut k, "", "LimitRange");
    add::<core::v1::Namespace>(&mut g, &mut k, "", "Namespace");
    add::<core::v1::PersistentVolumeClaim>(&mut g, &mut k, "", "PersistentVolumeClaim");
    add::<core::v1::Pod>(&mut g, &mut k, "", "Pod");
    add::<core::v1::ResourceQuota>(&mut g, &mut k, "", "ResourceQuota");
    add::<core::v1::Secret>(&mut g, &mut k, "", "Secret");
    add::<core::v1::ServiceAccount>(&mut g, &mut k, "", "ServiceAccount");
    add::<core::v1::Service>(&mut g, &mut k, "", "Service");
    add::<apps::v1::DaemonSet>(&mut g, &mut k, "apps", "DaemonSet");
    add::<apps::v1::Deployment>(&mut g, &mut k, "apps", "Deployment");
    add::<apps::v1::ReplicaSet>(&mut g, &mut k, "apps", "ReplicaSet");
    add::<apps::v1::StatefulSet>(&mut g, &mut k, "apps", "StatefulSet");
    add_at::<autoscaling::v2::HorizontalPodAutoscaler>(
        &mut g,
        &mut k,
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
    );
    add::<autoscaling::v1::HorizontalPodAutoscaler>(
        &mut g,
        &mut k,
        "autoscaling",
        "HorizontalPodAutoscaler",
    );
    add::<core::v1::Endpoints>(&mut g, &mut k, "", "Endpoints");
    add::<core::v1::PersistentVolume>(&mut g, &mut k, "", "PersistentVolume");
    add::<apps::v1::ControllerRevision>(&mut g, &mut k, "apps", "ControllerRevision");
    add::<networking::v1::IngressClass>(&mut g, &mut k, "networking.k8s.io", "IngressClass");
    add::<storage::v1::StorageClass>(&mut g, &mut k, "storage.k8s.io", "StorageClass");
    add::<scheduling::v1::PriorityClass>(&mut g, &mut k, "scheduling.k8s.io", "PriorityClass");
    add::<discovery::v1::EndpointSlice>(&mut g, &mut k, "discovery.k8s.io", "EndpointSlice");
    add::<admissionregistration::v1::MutatingWebhookConfiguration>(
        &mut g,
        &mut k,
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    );
    add::<admissionregistration::v1::ValidatingWebhookConfiguration>(
        &mut g,
        &mut k,
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    );
    add::<apiregistration::v1::APIService>(&mut g, &mut k, "apiregistration.k8s.io", "APIService");
    add::<policy::v1::PodDisruptionBudget>(&mut g, &mut k, "policy", "PodDisruptionBudget");
    add::<batch::v1::CronJob>(&mut g, &mut k, "batch", "CronJob");
    add::<batch::v1::Job>(&mut g, &mut k, "batch", "Job");
    add::<networking::v1::Ingress>(&mut g, &mut k, "networking.k8s.io", "Ingress");
    add::<networking::v1::NetworkPolicy>(&mut g, &mut k, "networking.k8s.io", "NetworkPolicy");
    add::<rbac::v1::ClusterRoleBinding>(
        &mut g,
        &mut k,
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
    );
    add::<rbac::v1::ClusterRole>(&mut g, &mut k, "rbac.authorization.k8s.io", "ClusterRole");
    add::<rbac::v1::RoleBinding>(&mut g, &mut k, "rbac.authorization.k8s.io", "RoleBinding");
    add::<rbac::v1::Role>(&mut g, &mut k, "rbac.authorization.k8s.io", "Role");
    add::<coordination::v1::Lease>(&mut g, &mut k, "coordination.k8s.io", "Lease");
    add::<events::v1::Event>(&mut g, &mut k, "events.k8s.io", "Event");
    add::<apiextensions::v1::CustomResourceDefinition>(
        &mut g,
        &mut k,
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
    );
    // Types the operations of every document refer to.
    g.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
    g.subschema_for::<meta::v1::DeleteOptions>();
    g.subschema_for::<meta::v1::Status>();
    g.subschema_for::<meta::v1::Patch>();
    let definitions = g.take_definitions(true);
    let mut roots: Vec<&str> = k.iter().map(|(_, _, _, name)| name.as_str()).collect();
    roots.push(OBJECT_META);
    let schema = Arc::new(Schema::compile(&definitions, &roots));
    Builtin { definitions, kinds: k, schema }
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The built-in schemas (generated on first use).
pub fn builtin() -> &'static Builtin {
    static BUILTIN: OnceLock<Builtin> = OnceLock::new();
    BUILTIN.get_or_init(generate)
}

/// The definition name of a built-in kind, e.g. `io.k8s.api.apps.v1.Deployment`.
pub fn definition_name(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    builtin()
        .kinds
        .iter()
        .find(|(g, v, k, _)| *g == group && *v == version && *k == kind)
        .map(|(_, _, _, n)| n.as_str())
}

/// The compiled schema of a built-in kind.
pub fn schema_of(group: &str, version: &str, kind: &str) -> Option<SchemaRef> {
    let b = builtin();
    let name = definition_name(group, version, kind)?;
    Some(SchemaRef {
        schema: b.schema.clone(),
        root: b.schema.root(name)?,
        type_name: kind.to_string(),
    })
}

/// The compiled `ObjectMeta` schema.
pub fn object_meta() -> SchemaRef {
    let b = builtin();
    let root = b.schema.root(OBJECT_META).expect("ObjectMeta is a root of the built-in schema");
    SchemaRef { schema: b.schema.clone(), root, type_name: "ObjectMeta".into() }
}
