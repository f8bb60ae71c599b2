//! CustomResourceDefinitions: created, established, served with discovery, and a custom
//! object applied in the same test; then the CRD's deletion takes its objects with it.

use crate::common::{client, create_namespace, eventually, get_json, http, unique};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::Discovery;
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;
use std::time::Duration;

fn crd(group: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "integer"},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                    }},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                }}},
            }],
        },
    })
}

#[tokio::test]
async fn crd_then_custom_object_in_one_test() {
    let group = format!("{}.example.com", unique("g"));
    let ns = unique("crd");
    create_namespace(&ns).await;
    let client = client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = format!("widgets.{group}");
    crds.patch(&name, &PatchParams::apply("crd-test"), &Patch::Apply(crd(&group)))
        .await
        .expect("the CRD is created");
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(crds.clone(), &name, conditions::is_crd_established()),
    )
    .await
    .expect("established in time")
    .unwrap();

    // Served with discovery.
    let discovery = Discovery::new(client.clone()).run_aggregated().await.unwrap();
    let (ar, caps) = discovery
        .get(&group)
        .expect("the group is discovered")
        .recommended_kind("Widget")
        .expect("the kind is discovered");
    assert_eq!((ar.plural.as_str(), ar.version.as_str()), ("widgets", "v1"));
    assert!(
        caps.subresources.iter().any(|(s, _)| s.plural == "widgets/status" || s.plural == "status")
    );
    let (_, list) = get_json(&format!("/apis/{group}/v1")).await;
    assert_eq!(list["resources"][0]["shortNames"][0], "wd");

    // A custom object applied, with its list merged by key.
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&group, "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
    let config = |ports: serde_json::Value| json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3, "ports": ports}});
    let created = widgets
        .patch(
            "w",
            &PatchParams::apply("a"),
            &Patch::Apply(config(json!([{"name": "http", "port": 80}]))),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let other = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w"}, "spec": {"ports": [{"name": "metrics", "port": 9090}]}});
    let merged = widgets.patch("w", &PatchParams::apply("b"), &Patch::Apply(other)).await.unwrap();
    assert_eq!(
        merged.data["spec"]["ports"].as_array().unwrap().len(),
        2,
        "a map list keyed by name merges"
    );
    let status = widgets
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["ready"], true);

    // Strategic merge patch is for built-in kinds only; unknown fields are refused with Strict.
    let path = format!("/apis/{group}/v1/namespaces/{ns}/widgets/w");
    let r = http("PATCH", &path, Some("application/strategic-merge-patch+json"), "{}").await;
    assert_eq!(r.code, 415);
    assert_eq!(
        r.json()["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
    let r = http(
        "PATCH",
        &format!("{path}?fieldValidation=Strict"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"colour":"red"}}"#,
    )
    .await;
    assert_eq!(
        (r.code, r.json()["message"].clone()),
        (400, json!("strict decoding error: unknown field \"spec.colour\""))
    );
    let r =
        http("PATCH", &path, Some("application/merge-patch+json"), r#"{"spec":{"size":"big"}}"#)
            .await;
    assert_eq!(r.code, 422);
    assert_eq!(
        r.json()["message"],
        "Widget.".to_string()
            + &group
            + " \"w\" is invalid: spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
    );

    // Deleting the CRD deletes its objects and stops serving the kind.
    let r = http(
        "DELETE",
        &format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
        None,
        "",
    )
    .await;
    assert_eq!(r.code, 200);
    let gone = eventually(Duration::from_secs(5), || async {
        (http(
            "GET",
            &format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
            None,
            "",
        )
        .await
        .code
            == 404)
            .then_some(())
    })
    .await;
    assert!(gone.is_some(), "the CRD goes once its objects are gone");
    assert_eq!(http("GET", &path, None, "").await.code, 404);
    assert_eq!(get_json(&format!("/apis/{group}/v1")).await.0, 404);
}
