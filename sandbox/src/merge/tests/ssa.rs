//! Server-side apply against the documented examples and the core ownership rules.

use super::*;
use crate::merge::{Conflict, FieldSet, conflict_status};

fn test_cm(value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
           "data": {"key": value}})
}

#[test]
fn fields_v1_of_the_docs_examples_round_trip() {
    // The two managedFields entries of the Server-Side Apply page's multi-manager example.
    for text in [
        r#"{"f:metadata":{"f:labels":{"f:test-label":{}}}}"#,
        r#"{"f:data":{"f:key":{}}}"#,
        r#"{"f:data":{"f:key":{}},"f:metadata":{"f:labels":{"f:test-label":{}}}}"#,
        r#"{"f:spec":{"f:data":{}}}"#,
    ] {
        let v: Value = serde_json::from_str(text).unwrap();
        let set = FieldSet::from_fields_v1(&v).unwrap();
        assert_eq!(set.to_fields_v1_string(), text);
        assert_eq!(set.to_fields_v1(), v);
    }
}

#[test]
fn create_by_apply_matches_the_docs_example() {
    let out = ssa(None, &test_cm("some value"), "kubectl", T1).unwrap();
    assert_eq!(out["data"], json!({"key": "some value"}));
    assert_eq!(
        managed(&out),
        json!([entry(
            "kubectl",
            "Apply",
            "v1",
            T1,
            json!({
            "f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}})
        )])
    );
}

#[test]
fn update_takes_a_field_then_apply_conflicts_as_in_the_docs() {
    let live = ssa(None, &test_cm("some value"), "kubectl", T1).unwrap();
    let mut changed = live.clone();
    changed["data"]["key"] = json!("new value");
    let live = update(Some(&live), &changed, "kube-controller-manager", T2);
    assert_eq!(
        managed(&live),
        json!([
            entry(
                "kubectl",
                "Apply",
                "v1",
                T1,
                json!({"f:metadata": {"f:labels": {"f:test-label": {}}}})
            ),
            entry("kube-controller-manager", "Update", "v1", T2, json!({"f:data": {"f:key": {}}})),
        ])
    );
    let err = ssa(Some(&live), &test_cm("some value"), "kubectl", T3).unwrap_err();
    let ApplyError::Conflicts(conflicts) = &err else { panic!("{err:?}") };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, ".data.key");
    assert_eq!(err.code(), 409);
    assert_eq!(
        err.status(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Apply failed with 1 conflict: conflict with \"kube-controller-manager\" using v1: .data.key",
               "reason": "Conflict",
               "details": {"causes": [{"reason": "FieldManagerConflict",
                   "message": "conflict with \"kube-controller-manager\" using v1", "field": ".data.key"}]},
               "code": 409})
    );
}

#[test]
fn force_transfers_ownership() {
    let live = ssa(None, &test_cm("some value"), "kubectl", T1).unwrap();
    let mut changed = live.clone();
    changed["data"]["key"] = json!("new value");
    let live = update(Some(&live), &changed, "kube-controller-manager", T2);
    let out = ssa_with(Some(&live), &test_cm("some value"), "kubectl", T3, true).unwrap();
    assert_eq!(out["data"]["key"], "some value");
    assert_eq!(
        managed(&out),
        json!([entry(
            "kubectl",
            "Apply",
            "v1",
            T3,
            json!({
            "f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}})
        )])
    );
}

#[test]
fn a_dropped_field_is_removed() {
    let live = ssa(None, &test_cm("v"), "kubectl", T1).unwrap();
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "test-cm", "namespace": "default"}, "data": {"key": "v"}});
    let out = ssa(Some(&live), &config, "kubectl", T2).unwrap();
    assert!(out["metadata"].get("labels").is_none(), "{out}");
    assert_eq!(
        managed(&out),
        json!([entry("kubectl", "Apply", "v1", T2, json!({"f:data": {"f:key": {}}}))])
    );
}

#[test]
fn equal_values_are_shared_and_kept_when_one_owner_drops_them() {
    let live = ssa(None, &test_cm("v"), "a", T1).unwrap();
    let shared = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "test-cm"}, "data": {"key": "v"}});
    let live = ssa(Some(&live), &shared, "b", T2).unwrap();
    // Nothing changed, so b's entry has no time; both own data.key.
    assert_eq!(
        managed(&live),
        json!([
            {"manager": "b", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:key": {}}}},
            entry("a", "Apply", "v1", T1, json!({
                "f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}})),
        ])
    );
    let only_label = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "labels": {"test-label": "test"}}});
    let out = ssa(Some(&live), &only_label, "a", T3).unwrap();
    assert_eq!(out["data"], json!({"key": "v"}), "b still owns data.key");
    assert_eq!(
        managed(&out)[1]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:test-label": {}}}})
    );
}

#[test]
fn a_second_applier_changing_a_value_conflicts_with_the_first() {
    let live = ssa(None, &test_cm("v"), "a", T1).unwrap();
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-cm"},
                       "data": {"key": "w"}});
    let err = ssa(Some(&live), &other, "b", T2).unwrap_err();
    assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"a\": .data.key");
    let ApplyError::Conflicts(c) = err else { unreachable!() };
    assert_eq!(conflict_status(&c)["details"]["causes"][0]["message"], "conflict with \"a\"");
}

fn deployment(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": containers}}}})
}

#[test]
fn containers_merge_by_name_with_one_owner_each() {
    let live =
        ssa(None, &deployment(json!([{"name": "web", "image": "nginx:1"}])), "a", T1).unwrap();
    let sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox:1"}]}}}});
    let live = ssa(Some(&live), &sidecar, "b", T2).unwrap();
    let names: Vec<&str> = live["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["web", "log"]);
    assert_eq!(
        managed(&live)[1]["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"log\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // a changes its own container: no conflict with b.
    let live = ssa(Some(&live), &deployment(json!([{"name": "web", "image": "nginx:2"}])), "a", T3)
        .unwrap();
    let c = &live["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        (c[0]["image"].as_str(), c[1]["image"].as_str()),
        (Some("nginx:2"), Some("busybox:1"))
    );
    // a touching b's container's image conflicts, with kube-apiserver's path syntax.
    let err = ssa(
        Some(&live),
        &deployment(json!([{"name": "web", "image": "nginx:2"},
        {"name": "log", "image": "busybox:2"}])),
        "a",
        T3,
    )
    .unwrap_err();
    let ApplyError::Conflicts(c) = err else { panic!() };
    assert_eq!(
        c.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        vec![r#".spec.template.spec.containers[name="log"].image"#]
    );
    // b dropping its container removes it.
    let empty = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
    let live = ssa(Some(&live), &empty, "b", T3).unwrap();
    assert_eq!(live["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
}

#[test]
fn service_ports_are_keyed_by_port_and_protocol() {
    let svc = |ports: Value| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                                    "spec": {"ports": ports}})
    };
    let live = ssa(None, &svc(json!([{"port": 53, "name": "dns"}])), "a", T1).unwrap();
    assert_eq!(
        managed(&live)[0]["fieldsV1"],
        json!({"f:spec": {"f:ports": {"k:{\"port\":53,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}}}})
    );
    let live = ssa(
        Some(&live),
        &svc(json!([{"port": 53, "protocol": "UDP", "name": "dns-udp"}])),
        "b",
        T2,
    )
    .unwrap();
    let ports = live["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert_eq!(ports[0]["protocol"], "TCP");
    assert_eq!(ports[0]["targetPort"], 53, "defaulted");
    assert_eq!(ports[1]["protocol"], "UDP");
    assert_eq!(
        managed(&live)[1]["fieldsV1"],
        json!({"f:spec": {"f:ports": {"k:{\"port\":53,\"protocol\":\"UDP\"}": {
            ".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}}}}})
    );
}

#[test]
fn atomic_lists_are_replaced_and_owned_whole() {
    let live =
        ssa(None, &deployment(json!([{"name": "web", "image": "i", "args": ["a", "b"]}])), "a", T1)
            .unwrap();
    let out = ssa(
        Some(&live),
        &deployment(json!([{"name": "web", "image": "i", "args": ["c"]}])),
        "a",
        T2,
    )
    .unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["containers"][0]["args"], json!(["c"]));
    let fields = &managed(&out)[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
    assert_eq!(fields["f:args"], json!({}));
    let err = ssa(
        Some(&out),
        &deployment(json!([{"name": "web", "image": "i", "args": ["d"]}])),
        "b",
        T3,
    )
    .unwrap_err();
    let ApplyError::Conflicts(c) = err else { panic!() };
    assert_eq!(c[0].field, r#".spec.template.spec.containers[name="web"].args"#);
}

#[test]
fn several_conflicts_are_listed_by_manager() {
    let live = ssa(None, &test_cm("v"), "a", T1).unwrap();
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "labels": {"test-label": "other"}}, "data": {"key": "w"}});
    let err = ssa(Some(&live), &config, "b", T2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.key\n- .metadata.labels.test-label"
    );
    let ApplyError::Conflicts(c) = err else { panic!() };
    assert!(matches!(&c[0], Conflict { manager, .. } if manager == "a"));
}
