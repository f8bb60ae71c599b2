//! Server-side apply semantics end to end: field removal and retention, conflicts and
//! force, lists merged by key between managers, and the managedFields shape Kubernetes
//! documents (https://kubernetes.io/docs/reference/using-api/server-side-apply/).

use crate::common::{client, create_namespace, unique};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

fn api(
    client: kube::Client,
    ns: &str,
    group: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural);
    Api::namespaced_with(client, ns, &ar)
}

async fn apply(
    api: &Api<DynamicObject>,
    manager: &str,
    force: bool,
    config: Value,
) -> Result<DynamicObject, kube::Error> {
    let name = config["metadata"]["name"].as_str().unwrap().to_string();
    let mut params = PatchParams::apply(manager);
    if force {
        params = params.force();
    }
    api.patch(&name, &params, &Patch::Apply(config)).await
}

/// managedFields without the timestamps, as plain JSON.
fn managed(obj: &DynamicObject) -> Value {
    let mut v =
        serde_json::to_value(obj.metadata.managed_fields.clone().unwrap_or_default()).unwrap();
    for e in v.as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("time");
    }
    v
}

/// The managedFields entry of one manager.
fn entry(obj: &DynamicObject, manager: &str) -> Value {
    managed(obj)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == manager)
        .cloned()
        .unwrap_or_else(|| panic!("no entry for {manager}"))
}

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": data})
}

#[tokio::test]
async fn managed_fields_match_the_documented_shape() {
    let ns = unique("ssa");
    create_namespace(&ns).await;
    let cms = api(client().await, &ns, "", "ConfigMap", "configmaps");
    // The example of the Kubernetes documentation.
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "labels": {"test-label": "test"}}, "data": {"key": "some value"}});
    let obj = apply(&cms, "kubectl", false, config).await.unwrap();
    assert_eq!(
        managed(&obj),
        json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}}])
    );
    let time = obj.metadata.managed_fields.unwrap()[0].time.clone();
    assert!(time.is_some(), "entries carry their time");
}

#[tokio::test]
async fn dropped_fields_are_removed_unless_another_manager_owns_them() {
    let ns = unique("ssa");
    create_namespace(&ns).await;
    let cms = api(client().await, &ns, "", "ConfigMap", "configmaps");
    apply(&cms, "a", false, cm(json!({"x": "1", "y": "2", "z": "3"}))).await.unwrap();
    // b applies the same value for y: no conflict, shared ownership.
    let shared = apply(&cms, "b", false, cm(json!({"y": "2"}))).await.unwrap();
    assert_eq!(entry(&shared, "b")["fieldsV1"], json!({"f:data": {"f:y": {}}}));
    assert_eq!(
        entry(&shared, "a")["fieldsV1"],
        json!({"f:data": {"f:x": {}, "f:y": {}, "f:z": {}}})
    );
    // a stops applying y and z: z goes, y stays because b owns it.
    let obj = apply(&cms, "a", false, cm(json!({"x": "1"}))).await.unwrap();
    assert_eq!(obj.data["data"], json!({"x": "1", "y": "2"}));
    assert_eq!(entry(&obj, "a")["fieldsV1"], json!({"f:data": {"f:x": {}}}));
    // A no-op apply writes nothing.
    let rv = obj.metadata.resource_version.clone();
    let again = apply(&cms, "a", false, cm(json!({"x": "1"}))).await.unwrap();
    assert_eq!(again.metadata.resource_version, rv);
}

#[tokio::test]
async fn conflicts_are_409_with_causes_and_force_takes_over() {
    let ns = unique("ssa");
    create_namespace(&ns).await;
    let cms = api(client().await, &ns, "", "ConfigMap", "configmaps");
    apply(&cms, "a", false, cm(json!({"x": "1", "y": "1"}))).await.unwrap();
    let err = apply(&cms, "b", false, cm(json!({"x": "2", "y": "2"}))).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("an API error") };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y"
    );
    let causes = status.details.unwrap().causes;
    let causes: Vec<(String, String, String)> =
        causes.into_iter().map(|c| (c.reason, c.message, c.field)).collect();
    assert_eq!(
        causes,
        vec![
            ("FieldManagerConflict".into(), "conflict with \"a\"".into(), ".data.x".into()),
            ("FieldManagerConflict".into(), "conflict with \"a\"".into(), ".data.y".into()),
        ]
    );
    let forced = apply(&cms, "b", true, cm(json!({"x": "2"}))).await.unwrap();
    assert_eq!(forced.data["data"], json!({"x": "2", "y": "1"}));
    assert_eq!(entry(&forced, "a")["fieldsV1"], json!({"f:data": {"f:y": {}}}), "a lost x to b");
    assert_eq!(entry(&forced, "b")["fieldsV1"], json!({"f:data": {"f:x": {}}}));
}

fn deployment(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}})
}

#[tokio::test]
async fn containers_merge_by_name_between_managers() {
    let ns = unique("ssa");
    create_namespace(&ns).await;
    let deploys = api(client().await, &ns, "apps", "Deployment", "deployments");
    apply(&deploys, "app", false, deployment(json!([{"name": "app", "image": "app:1"}])))
        .await
        .unwrap();
    let obj = apply(
        &deploys,
        "sidecar",
        false,
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "proxy:1"}]}}}}),
    )
    .await
    .unwrap();
    let names: Vec<&str> = obj.data["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["app", "proxy"]);
    let sidecar = entry(&obj, "sidecar");
    assert_eq!(
        sidecar["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // The app manager updates its container; the sidecar's stays.
    let obj = apply(&deploys, "app", false, deployment(json!([{"name": "app", "image": "app:2"}])))
        .await
        .unwrap();
    let containers = obj.data["spec"]["template"]["spec"]["containers"].clone();
    assert_eq!(containers[0]["image"], "app:2");
    assert_eq!(containers[1]["name"], "proxy");
    assert_eq!(obj.metadata.generation, Some(3), "create, the sidecar, the new image");
}

/// An applied empty map is not owned: structured-merge-diff's `ToFieldSet` adds members
/// for a granular map's entries only (its own test: `{"list":[]}` gives the empty set), and
/// apiserver's strip of apiVersion, kind and name leaves such an applier nothing, so its
/// entry goes (`TestApplyRemovesEmptyManagedFields` in kube-apiserver's integration tests).
/// The empty map itself does not survive the decoding into the Go type (`omitempty`).
#[tokio::test]
async fn an_applied_empty_map_is_not_owned_and_not_stored() {
    let ns = unique("ssa");
    create_namespace(&ns).await;
    let cms = api(client().await, &ns, "", "ConfigMap", "configmaps");
    let obj = apply(&cms, "a", false, cm(json!({}))).await.unwrap();
    assert_eq!(obj.data.get("data"), None, "stored without the empty map");
    assert_eq!(obj.metadata.managed_fields, None, "an applier that owns nothing has no entry");

    // Another manager's key stays: applying `data: {}` claims none of it.
    apply(&cms, "b", false, cm(json!({"k": "1"}))).await.unwrap();
    let obj = apply(&cms, "a", false, cm(json!({}))).await.unwrap();
    assert_eq!(obj.data["data"], json!({"k": "1"}));
    assert_eq!(managed(&obj).as_array().unwrap().len(), 1);
    assert_eq!(entry(&obj, "b")["fieldsV1"], json!({"f:data": {"f:k": {}}}));
    // And b can drop it without a conflict with a.
    let obj = apply(&cms, "b", false, cm(json!({}))).await.unwrap();
    assert_eq!((obj.data.get("data"), obj.metadata.managed_fields), (None, None));
}
