//! Quantities stored canonical, as kube-apiserver stores what apimachinery's
//! `resource.Quantity` decoded (`0.5` → `500m`, `1024Mi` → `1Gi`, `1000m` → `1`, a JSON
//! `1000` → `1k`): in stored objects, apply answers and dry runs, for every Quantity field
//! of the built-in kinds, while the field's ownership stays as applied.

use crate::common::{client, create_namespace, unique};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{LimitRange, PersistentVolumeClaim, ResourceQuota};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn deployment(resources: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx", "resources": resources}],
                     "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1024Mi"}}]}}}})
}

fn resources_of(d: &Deployment) -> Value {
    let spec = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    json!({
        "resources": serde_json::to_value(&spec.containers[0].resources).unwrap(),
        "sizeLimit": serde_json::to_value(&spec.volumes.as_ref().unwrap()[0].empty_dir.as_ref().unwrap().size_limit).unwrap(),
    })
}

/// The canonical forms of `deployment`'s spelling below.
fn canonical() -> Value {
    json!({"resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "1k"}}, "sizeLimit": "1Gi"})
}

#[tokio::test]
async fn applied_quantities_are_stored_canonical_and_owned_as_applied() {
    let ns = unique("qapply");
    create_namespace(&ns).await;
    let api: Api<Deployment> = Api::namespaced(client().await, &ns);
    // A JSON number, as kubectl sends `cpu: 0.5` and `memory: 1e3` from YAML.
    let config = deployment(json!({"requests": {"cpu": 0.5, "memory": "1024Mi"},
        "limits": {"cpu": "1000m", "memory": 1000}}));
    let dry = api
        .patch("web", &PatchParams::apply("ci").dry_run(), &Patch::Apply(&config))
        .await
        .unwrap();
    assert_eq!(resources_of(&dry), canonical(), "the dry run answers canonical values");
    assert!(api.get_opt("web").await.unwrap().is_none(), "and stores nothing");

    let applied =
        api.patch("web", &PatchParams::apply("ci"), &Patch::Apply(&config)).await.unwrap();
    assert_eq!(resources_of(&applied), canonical(), "the apply answer");
    assert_eq!(resources_of(&api.get("web").await.unwrap()), canonical(), "the stored object");
    // The value changed spelling; the applier still owns exactly the fields it sent.
    let entry = applied
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|e| e.manager.as_deref() == Some("ci"))
        .unwrap();
    let fields = serde_json::to_value(entry.fields_v1.unwrap()).unwrap();
    let container = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"];
    assert_eq!(
        container["f:resources"],
        json!({"f:limits": {"f:cpu": {}, "f:memory": {}}, "f:requests": {"f:cpu": {}, "f:memory": {}}})
    );
}

#[tokio::test]
async fn reapplying_a_non_canonical_spelling_is_a_no_op() {
    let ns = unique("qnoop");
    create_namespace(&ns).await;
    let api: Api<LimitRange> = Api::namespaced(client().await, &ns);
    let config = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l"},
        "spec": {"limits": [{"type": "Container", "defaultRequest": {"cpu": 0.5}}]}});
    let first = api.patch("l", &PatchParams::apply("ci"), &Patch::Apply(&config)).await.unwrap();
    assert_eq!(
        first.spec.as_ref().unwrap().limits[0].default_request.as_ref().unwrap()["cpu"].0,
        "500m"
    );
    // The merged `0.5` differs from the stored `500m` only until it is decoded: kube-apiserver
    // then finds the objects equal, keeps the managedFields timestamps and writes nothing.
    let again = api.patch("l", &PatchParams::apply("ci"), &Patch::Apply(&config)).await.unwrap();
    assert_eq!(again.metadata.resource_version, first.metadata.resource_version);
    assert_eq!(again.metadata.managed_fields, first.metadata.managed_fields);
}

#[tokio::test]
async fn created_quantities_are_canonical_in_claims_quotas_and_limit_ranges() {
    let ns = unique("qcreate");
    create_namespace(&ns).await;
    let c = client().await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), &ns);
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}))
    .unwrap();
    let created = claims.create(&PostParams::default(), &claim).await.unwrap();
    let requests = created.spec.unwrap().resources.unwrap().requests.unwrap();
    assert_eq!(requests["storage"].0, "1Gi");
    let bound = crate::common::eventually(std::time::Duration::from_secs(5), || async {
        claims.get("data").await.ok()?.status?.capacity
    })
    .await
    .unwrap();
    assert_eq!(bound["storage"].0, "1Gi", "the bound capacity is the canonical request");

    let quotas: Api<ResourceQuota> = Api::namespaced(c.clone(), &ns);
    let quota: ResourceQuota = serde_json::from_value(json!({"metadata": {"name": "q"},
        "spec": {"hard": {"requests.cpu": "2000m", "requests.memory": "2048Mi", "pods": "10"}}}))
    .unwrap();
    let hard =
        quotas.create(&PostParams::default(), &quota).await.unwrap().spec.unwrap().hard.unwrap();
    let hard: Vec<(&str, &str)> = hard.iter().map(|(k, v)| (k.as_str(), v.0.as_str())).collect();
    assert_eq!(hard, vec![("pods", "10"), ("requests.cpu", "2"), ("requests.memory", "2Gi")]);

    let ranges: Api<LimitRange> = Api::namespaced(c, &ns);
    let range: LimitRange = serde_json::from_value(json!({"metadata": {"name": "l"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "0.25"}, "max": {"memory": "1.5Gi"}}]}}))
    .unwrap();
    let limits = ranges.create(&PostParams::default(), &range).await.unwrap().spec.unwrap().limits;
    assert_eq!(limits[0].default.as_ref().unwrap()["cpu"].0, "250m");
    assert_eq!(limits[0].max.as_ref().unwrap()["memory"].0, "1536Mi");
}

#[tokio::test]
async fn a_quantity_that_does_not_parse_fails_decoding() {
    let ns = unique("qbad");
    create_namespace(&ns).await;
    let api: Api<Deployment> = Api::namespaced(client().await, &ns);
    let d: Deployment =
        serde_json::from_value(deployment(json!({"requests": {"cpu": "half"}}))).unwrap();
    let err = api.create(&PostParams::default(), &d).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("{err:?}") };
    assert_eq!(
        (status.code, status.message.as_str()),
        (
            400,
            "Deployment in version \"v1\" cannot be handled as a Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    );
}
