//! Server-side apply of a Deployment end to end, status handling, invalid configurations,
//! objects without managedFields, no-op applies and custom resources.

use super::*;
use crate::merge::Schema;

fn web(replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image,
                    "ports": [{"containerPort": 80}]}]}}}})
}

fn web_fields() -> Value {
    json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}}}
    })
}

#[test]
fn server_side_apply_of_a_small_deployment_matches_kube_apiserver() {
    let out = ssa(None, &web(2, "nginx:1.27"), "kubectl", T1).unwrap();
    let mut expected = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
            "managedFields": [entry("kubectl", "Apply", "apps/v1", T1, web_fields())]},
        "spec": {
            "replicas": 2, "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30}}}
    });
    assert_eq!(out, expected);

    // Re-applying the same configuration changes nothing, not even the time.
    let again = ssa(Some(&out), &web(2, "nginx:1.27"), "kubectl", T2).unwrap();
    assert_eq!(again, out);

    // Dropping replicas gives it back to the default.
    let mut config = web(2, "nginx:1.27");
    config["spec"].as_object_mut().unwrap().remove("replicas");
    let out = ssa(Some(&out), &config, "kubectl", T3).unwrap();
    expected["spec"]["replicas"] = json!(1);
    expected["metadata"]["managedFields"][0]["time"] = json!(T3);
    expected["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
        .as_object_mut()
        .unwrap()
        .remove("f:replicas");
    assert_eq!(out, expected);
}

#[test]
fn a_scale_by_update_is_a_conflict_for_the_applier_until_forced() {
    let live = ssa(None, &web(2, "nginx:1.27"), "cetus", T1).unwrap();
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(5);
    let live = update(Some(&live), &scaled, "kubectl-scale", T2);
    assert_eq!(
        managed(&live)[1],
        entry("kubectl-scale", "Update", "apps/v1", T2, json!({"f:spec": {"f:replicas": {}}}))
    );
    let err = ssa(Some(&live), &web(2, "nginx:1.27"), "cetus", T3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
    let out = ssa_with(Some(&live), &web(2, "nginx:1.27"), "cetus", T3, true).unwrap();
    assert_eq!(out["spec"]["replicas"], 2);
    assert_eq!(managed(&out).as_array().unwrap().len(), 1, "kubectl-scale lost its only field");
}

#[test]
fn status_is_left_alone_by_applies_to_the_main_resource() {
    let mut live = ssa(None, &web(1, "nginx"), "a", T1).unwrap();
    live["status"] = json!({"replicas": 1});
    let mut config = web(1, "nginx");
    config["status"] = json!({"replicas": 7});
    let out = ssa(Some(&live), &config, "a", T2).unwrap();
    assert_eq!(out["status"], json!({"replicas": 1}));
    assert!(managed(&out)[0]["fieldsV1"].get("f:status").is_none());
}

#[test]
fn status_subresource_applies_only_take_status() {
    let live = ssa(None, &web(1, "nginx"), "a", T1).unwrap();
    let schema = Schema::builtin("apps/v1", "Deployment").unwrap();
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                        "spec": {"replicas": 9}, "status": {"readyReplicas": 1}});
    let req = ApplyRequest {
        manager: "ctrl",
        force: false,
        schema: &schema,
        api_version: "apps/v1",
        now: T2,
        subresource: Some("status"),
    };
    let out = apply(Some(&live), &config, &req).unwrap();
    assert_eq!(out["spec"]["replicas"], 1);
    assert_eq!(out["status"], json!({"readyReplicas": 1}));
    let entries = managed(&out);
    assert_eq!(
        entries[1],
        json!({"manager": "ctrl", "operation": "Apply", "apiVersion": "apps/v1",
        "time": T2, "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:readyReplicas": {}}},
        "subresource": "status"})
    );
}

#[test]
fn invalid_configurations_are_refused_as_kube_apiserver_does() {
    let mut dup = web(1, "nginx");
    dup["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "c", "image": "a", "env": [{"name": "FOO"}, {"name": "FOO"}]}]);
    let err = ssa(None, &dup, "a", T1).unwrap_err();
    assert_eq!(err.code(), 500);
    assert_eq!(
        err.to_string(),
        concat!(
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): ",
            r#".spec.template.spec.containers[name="c"].env: duplicate entries for key [name="FOO"]"#
        )
    );

    let mut keyless = web(1, "nginx");
    keyless["spec"]["template"]["spec"]["containers"] =
        json!([{"image": "a"}, {"name": "b"}, {"name": "b"}]);
    let err = ssa(None, &keyless, "a", T1).unwrap_err();
    assert_eq!(
        err.to_string(),
        // A container without a name is keyed by the name's default, `""` (not refused
        // here: the pod spec validation requires the name later).
        concat!(
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): ",
            ".spec.template.spec.containers: duplicate entries for key [name=\"b\"]"
        )
    );

    let mut with_managed = web(1, "nginx");
    with_managed["metadata"]["managedFields"] = json!([]);
    let err = ssa(None, &with_managed, "a", T1).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string()),
        (400, "metadata.managedFields must be nil".to_string())
    );
    assert_eq!(err.status()["reason"], "BadRequest");

    let schema = Schema::builtin("apps/v1", "Deployment").unwrap();
    let req = ApplyRequest {
        manager: "a",
        force: false,
        schema: &schema,
        api_version: "apps/v1",
        now: T1,
        subresource: None,
    };
    let mut wrong = web(1, "nginx");
    wrong["apiVersion"] = json!("apps/v1beta1");
    assert_eq!(
        apply(None, &wrong, &req).unwrap_err().to_string(),
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"
    );
}

#[test]
fn an_object_without_managed_fields_gets_a_before_first_apply_entry() {
    let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "uid": "u1"},
                      "data": {"a": "1", "b": "2"}});
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "3"}});
    let err = ssa(Some(&live), &config, "kubectl", T1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.a"
    );
    let out = ssa_with(Some(&live), &config, "kubectl", T1, true).unwrap();
    assert_eq!(
        managed(&out),
        json!([
            entry("kubectl", "Apply", "v1", T1, json!({"f:data": {"f:a": {}}})),
            entry(
                "before-first-apply",
                "Update",
                "v1",
                T1,
                json!({"f:data": {".": {}, "f:b": {}}})
            ),
        ])
    );
}

#[test]
fn custom_resources_merge_by_their_crd_schema() {
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                          "items": {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": "integer"}}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}}}]}});
    let schema = Schema::from_crd(&crd, "v1").unwrap();
    let req = |m, now| ApplyRequest {
        manager: m,
        force: false,
        schema: &schema,
        api_version: "example.com/v1",
        now,
        subresource: None,
    };
    let cr = |items: Value| {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                                   "spec": {"items": items, "extra": {"deep": {"x": 1}}}})
    };
    let live = apply(None, &cr(json!([{"id": "a", "v": 1}])), &req("a", T1)).unwrap();
    assert_eq!(
        managed(&live)[0]["fieldsV1"],
        json!({"f:spec": {
        "f:extra": {"f:deep": {".": {}, "f:x": {}}},
        "f:items": {"k:{\"id\":\"a\"}": {".": {}, "f:id": {}, "f:v": {}}}}})
    );
    let b = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                   "spec": {"items": [{"id": "b", "v": 2}]}});
    let live = apply(Some(&live), &b, &req("b", T2)).unwrap();
    assert_eq!(live["spec"]["items"], json!([{"id": "a", "v": 1}, {"id": "b", "v": 2}]));
}

#[test]
fn kubectl_upgrades_from_client_side_apply_without_conflicts() {
    // `kubectl apply` (client-side) created the object: the annotation and an Update entry.
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                        "data": {"a": "1", "b": "2"}});
    let mut created = config.clone();
    created["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration":
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"b\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}\n"});
    let live = update(None, &created, "kubectl-client-side-apply", T1);
    let mut changed = config.clone();
    changed["data"]["a"] = json!("9");
    // Another manager gets the usual conflict.
    let err = ssa(Some(&live), &changed, "cetus", T2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.a"
    );
    // kubectl takes the fields over and rewrites the annotation.
    let out = ssa(Some(&live), &changed, "kubectl", T2).unwrap();
    assert_eq!(out["data"]["a"], "9");
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"9\",\"b\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}\n"
    );
    assert_eq!(
        managed(&out),
        json!([
            entry("kubectl", "Apply", "v1", T2, json!({"f:data": {"f:a": {}, "f:b": {}}})),
            entry(
                "kubectl-client-side-apply",
                "Update",
                "v1",
                T1,
                json!({"f:data": {".": {}, "f:b": {}},
            "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}})
            ),
        ])
    );
    // A field whose live value no longer matches the annotation still conflicts.
    let mut drifted = live.clone();
    drifted["data"]["a"] = json!("edited");
    let drifted = update(Some(&live), &drifted, "kubectl-edit", T2);
    let err = ssa(Some(&drifted), &changed, "kubectl", T3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.a"
    );
}
