//! Strategic merge patch and JSON merge patch, with the patches kubectl sends.

use super::*;
use crate::merge::{PatchError, json_merge_patch, strategic_merge_patch};

fn schema(kind: &str) -> Schema {
    let api_version = if kind == "Deployment" { "apps/v1" } else { "v1" };
    Schema::builtin(api_version, kind).unwrap()
}

fn deploy(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"keep": "me"}},
        "spec": {"replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}})
}

fn patch(live: &Value, p: Value) -> Value {
    strategic_merge_patch(live, &p, &schema("Deployment")).unwrap()
}

fn containers(v: &Value) -> Value {
    v["spec"]["template"]["spec"]["containers"].clone()
}

#[test]
fn containers_merge_by_name_keeping_server_only_items() {
    let live = deploy(
        json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1", "args": ["x"]}]),
    );
    let out = patch(
        &live,
        json!({"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "b:2", "args": ["y"]}, {"name": "c", "image": "c:1"}]}}}}),
    );
    assert_eq!(
        containers(&out),
        json!([{"name": "a", "image": "a:1"},
        {"name": "b", "image": "b:2", "args": ["y"]}, {"name": "c", "image": "c:1"}])
    );
}

#[test]
fn delete_directive_and_null_remove() {
    let live = deploy(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let out = patch(
        &live,
        json!({
        "metadata": {"labels": {"app": null}},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}}),
    );
    assert_eq!(containers(&out), json!([{"name": "b", "image": "b:1"}]));
    assert!(out["metadata"].get("labels").is_some_and(|l| l.as_object().unwrap().is_empty()));
    let out = patch(&live, json!({"spec": {"strategy": {"$patch": "delete"}}}));
    assert_eq!(out["spec"]["strategy"], json!({}));
}

#[test]
fn replace_directives() {
    let live = deploy(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let out = patch(
        &live,
        json!({"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "z", "image": "z:1"}]}}}}),
    );
    assert_eq!(containers(&out), json!([{"name": "z", "image": "z:1"}]));
    let out =
        patch(&live, json!({"metadata": {"annotations": {"$patch": "replace", "only": "this"}}}));
    assert_eq!(out["metadata"]["annotations"], json!({"only": "this"}));
}

#[test]
fn set_element_order_reorders_the_merged_list() {
    let live = deploy(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let out = patch(
        &live,
        json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
        "containers": [{"name": "a", "image": "a:2"}]}}}}),
    );
    assert_eq!(
        containers(&out),
        json!([{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:2"}])
    );
}

#[test]
fn retain_keys_clears_the_other_union_members() {
    let live = deploy(json!([{"name": "a", "image": "a:1"}]));
    let out = patch(
        &live,
        json!({"spec": {"strategy": {
        "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}),
    );
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn kubectl_client_side_apply_patch() {
    let last = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}"#;
    let live =
        deploy(json!([{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
                             {"name": "sidecar", "image": "s:1"}]));
    // The three-way patch `kubectl apply` computes when the image and replicas change and an
    // env var is added: ordering directives, merge keys, and the annotation.
    let out = patch(
        &live,
        json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
        "spec": {"replicas": 3, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
            "containers": [{"name": "web", "image": "nginx:1.28",
                "$setElementOrder/env": [{"name": "MODE"}], "env": [{"name": "MODE", "value": "prod"}]}]}}}}),
    );
    assert_eq!(out["spec"]["replicas"], 3);
    assert_eq!(out["metadata"]["annotations"]["keep"], "me");
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        last
    );
    assert_eq!(
        containers(&out),
        json!([
        {"name": "web", "image": "nginx:1.28", "ports": [{"containerPort": 80}],
         "env": [{"name": "MODE", "value": "prod"}]},
        {"name": "sidecar", "image": "s:1"}])
    );
}

#[test]
fn scale_label_annotate_and_rollout_restart_patches() {
    let live = deploy(json!([{"name": "a", "image": "a:1"}]));
    assert_eq!(patch(&live, json!({"spec": {"replicas": 5}}))["spec"]["replicas"], 5);
    let out = patch(
        &live,
        json!({"metadata": {"labels": {"tier": "front"}, "annotations": {"note": "x"}}}),
    );
    assert_eq!(out["metadata"]["labels"], json!({"app": "web", "tier": "front"}));
    assert_eq!(out["metadata"]["annotations"], json!({"keep": "me", "note": "x"}));
    let out = patch(
        &live,
        json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-22T04:15:52Z"}}}}}),
    );
    assert_eq!(
        out["spec"]["template"]["metadata"],
        json!({"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-22T04:15:52Z"}})
    );
}

#[test]
fn finalizers_merge_as_a_set_and_delete_from_primitive_list() {
    let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]}});
    let s = schema("ConfigMap");
    let out =
        strategic_merge_patch(&live, &json!({"metadata": {"finalizers": ["c", "a"]}}), &s).unwrap();
    // Patch items in patch order, server-only items after the patch items they followed.
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
    let out = strategic_merge_patch(
        &live,
        &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        &s,
    )
    .unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
}

#[test]
fn lists_without_a_merge_strategy_are_replaced() {
    let live = deploy(json!([{"name": "a", "image": "a:1", "args": ["x", "y"]}]));
    let out = patch(
        &live,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["z"]}]}}}}),
    );
    assert_eq!(containers(&out)[0]["args"], json!(["z"]));
}

#[test]
fn bad_patches_are_errors() {
    let live = deploy(json!([{"name": "a"}]));
    let s = schema("Deployment");
    let err = strategic_merge_patch(
        &live,
        &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        &s,
    )
    .unwrap_err();
    assert_eq!(err, PatchError::NoMergeKey { item: r#"{"image":"x"}"#.into(), key: "name".into() });
    assert_eq!(err.to_string(), r#"map: {"image":"x"} does not contain declared merge key: name"#);
    let err = strategic_merge_patch(&live, &json!({"spec": {"$patch": "merge"}}), &s).unwrap_err();
    assert!(matches!(err, PatchError::BadPatchType { ref directive, .. } if directive == "merge"));
    assert_eq!(strategic_merge_patch(&live, &json!([1]), &s).unwrap_err(), PatchError::NotAnObject);
}

#[test]
fn json_merge_patch_follows_rfc_7386() {
    let target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
    let out = json_merge_patch(&target, &json!({"a": "z", "c": {"f": null}, "l": [3]}));
    assert_eq!(out, json!({"a": "z", "c": {"d": "e"}, "l": [3]}));
    assert_eq!(json_merge_patch(&json!({"a": 1}), &json!("x")), json!("x"));
}
