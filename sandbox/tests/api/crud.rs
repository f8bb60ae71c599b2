//! `Api<DynamicObject>` CRUD and server-side apply with kube-rs.

use crate::common::{client, create_namespace, unique};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::json;

fn configmaps(client: kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("", "v1", "ConfigMap"),
        "configmaps",
    );
    Api::namespaced_with(client, ns, &ar)
}

fn status_of(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("not an API error: {other}"),
    }
}

fn cm(name: &str, data: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": name}}, "data": data})).unwrap()
}

#[tokio::test]
async fn dynamic_object_crud() {
    let ns = unique("crud");
    create_namespace(&ns).await;
    let api = configmaps(client().await, &ns);

    // create
    let created =
        api.create(&PostParams::default(), &cm("a", json!({"k": "v"}))).await.expect("create");
    let rv1: u64 = created.metadata.resource_version.clone().unwrap().parse().unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let again =
        status_of(api.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap_err());
    assert_eq!(
        (again.code, again.reason.as_str(), again.message.as_str()),
        (409, "AlreadyExists", "configmaps \"a\" already exists")
    );

    // get and list with a selector
    api.create(&PostParams::default(), &cm("b", json!({}))).await.unwrap();
    assert_eq!(api.get("a").await.unwrap().data["data"]["k"], "v");
    let listed = api.list(&ListParams::default().labels("app in (a,c)")).await.unwrap();
    assert_eq!(
        listed.items.iter().map(|o| o.metadata.name.clone().unwrap()).collect::<Vec<_>>(),
        vec!["a"]
    );

    // replace, and a replace with a stale resourceVersion
    let mut obj = api.get("a").await.unwrap();
    obj.data["data"]["k"] = json!("v2");
    let replaced = api.replace("a", &PostParams::default(), &obj).await.expect("replace");
    let rv2: u64 = replaced.metadata.resource_version.clone().unwrap().parse().unwrap();
    assert!(rv2 > rv1);
    let stale = status_of(api.replace("a", &PostParams::default(), &obj).await.unwrap_err());
    assert_eq!(stale.code, 409);
    assert_eq!(stale.reason, "Conflict");
    assert_eq!(
        stale.message,
        "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // merge patch and JSON patch
    let merged = api
        .patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"m": "1"}})))
        .await
        .unwrap();
    assert_eq!(merged.data["data"], json!({"k": "v2", "m": "1"}));
    let ops: json_patch::Patch =
        serde_json::from_value(json!([{"op": "remove", "path": "/data/k"}])).unwrap();
    let patched = api.patch("a", &PatchParams::default(), &Patch::Json::<()>(ops)).await.unwrap();
    assert_eq!(patched.data["data"], json!({"m": "1"}));

    // server-side apply creates and then updates
    let applied = api
        .patch("c", &PatchParams::apply("crud-test"), &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"x": "1"}})))
        .await
        .expect("apply creates");
    let managed = applied.metadata.managed_fields.unwrap();
    assert_eq!(
        (managed[0].manager.as_deref(), managed[0].operation.as_deref()),
        (Some("crud-test"), Some("Apply"))
    );

    // delete, then it is gone
    let deleted = api.delete("a", &DeleteParams::default()).await.expect("delete");
    assert!(deleted.is_right(), "a ConfigMap without finalizers is deleted at once");
    let gone = status_of(api.get("a").await.unwrap_err());
    assert_eq!(
        (gone.code, gone.reason.as_str(), gone.message.as_str()),
        (404, "NotFound", "configmaps \"a\" not found")
    );
}

#[tokio::test]
async fn generation_tracks_spec_changes_only_and_status_is_a_subresource() {
    let ns = unique("gen");
    create_namespace(&ns).await;
    let client = client().await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &ar);
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}},
        "status": {"replicas": 99}});
    let created =
        api.create(&PostParams::default(), &serde_json::from_value(deploy).unwrap()).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.data.get("status").is_none(), "status in a create body is dropped");
    // Defaults are applied on create.
    assert_eq!(created.data["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(created.data["spec"]["revisionHistoryLimit"], 10);
    let labelled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1), "metadata changes keep the generation");
    let scaled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}, "status": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_ne!(scaled.data["status"]["replicas"], 7, "main-resource writes leave status alone");
    let status = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["replicas"], 7);
    assert_eq!(status.data["spec"]["replicas"], 3, "status writes leave spec alone");
    assert_eq!(status.metadata.generation, Some(2));
}
