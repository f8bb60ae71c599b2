//! managedFields bookkeeping of creates, updates and patches.

use super::*;

fn deployment() -> Value {
    // What `kubectl create deployment web --image=nginx` sends, after defaulting.
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "nginx", "image": "nginx", "resources": {},
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                    "imagePullPolicy": "Always"}],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "securityContext": {}, "schedulerName": "default-scheduler"}}}})
}

#[test]
fn create_records_the_creators_fields_like_kubectl_create() {
    let out = update(None, &deployment(), "kubectl-create", T1);
    assert_eq!(
        managed(&out),
        json!([entry(
            "kubectl-create",
            "Update",
            "apps/v1",
            T1,
            json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {}, "f:selector": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {},
                        "f:name": {}, "f:resources": {}, "f:terminationMessagePath": {},
                        "f:terminationMessagePolicy": {}}},
                    "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
                    "f:terminationGracePeriodSeconds": {}}}}})
        )])
    );
}

#[test]
fn an_update_moves_ownership_of_the_fields_it_changes() {
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                        "data": {"a": "1", "b": "2"}});
    let live = ssa(None, &config, "cetus", T1).unwrap();
    let mut edited = live.clone();
    edited["data"]["a"] = json!("changed");
    edited["data"]["new"] = json!("x");
    let out = update(Some(&live), &edited, "kubectl-edit", T2);
    assert_eq!(
        managed(&out),
        json!([
            entry("cetus", "Apply", "v1", T1, json!({"f:data": {"f:b": {}}})),
            entry("kubectl-edit", "Update", "v1", T2, json!({"f:data": {"f:a": {}, "f:new": {}}})),
        ])
    );
    // An update that changes nothing leaves managedFields alone.
    let again = update(Some(&out), &out, "kubectl-edit", T3);
    assert_eq!(again, out);
    // Removing a field takes it from its owner; an owner left with nothing is dropped.
    let mut removed = out.clone();
    removed["data"].as_object_mut().unwrap().remove("b");
    let out = update(Some(&out), &removed, "other", T3);
    assert_eq!(
        managed(&out),
        json!([entry(
            "kubectl-edit",
            "Update",
            "v1",
            T2,
            json!({"f:data": {"f:a": {}, "f:new": {}}})
        ),])
    );
}

#[test]
fn clients_can_reset_managed_fields_and_untracked_objects_stay_untracked() {
    let live = ssa(
        None,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                 "data": {"a": "1"}}),
        "cetus",
        T1,
    )
    .unwrap();
    let mut reset = live.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    let out = update(Some(&live), &reset, "kubectl", T2);
    assert!(out["metadata"].get("managedFields").is_none(), "{out}");
    let mut changed = out.clone();
    changed["data"]["a"] = json!("2");
    let out = update(Some(&out), &changed, "kubectl", T3);
    assert!(out["metadata"].get("managedFields").is_none(), "{out}");
}

#[test]
fn status_writes_to_the_main_resource_are_not_recorded() {
    let live = ssa(None, &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}}}}), "cetus", T1).unwrap();
    let mut new = live.clone();
    new["status"] = json!({"replicas": 1});
    let out = update(Some(&live), &new, "kube-controller-manager", T2);
    assert_eq!(managed(&out).as_array().unwrap().len(), 1);
    let schema = Schema::builtin("apps/v1", "Deployment").unwrap();
    let out = record_update(
        Some(&live),
        &new,
        &UpdateRequest {
            manager: "kube-controller-manager",
            schema: &schema,
            api_version: "apps/v1",
            now: T2,
            subresource: Some("status"),
        },
    );
    assert_eq!(
        managed(&out)[1],
        json!({"manager": "kube-controller-manager", "operation": "Update",
        "apiVersion": "apps/v1", "time": T2, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {".": {}, "f:replicas": {}}}, "subresource": "status"})
    );
}

#[test]
fn more_than_ten_updaters_fold_into_ancient_changes() {
    let mut obj = update(
        None,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                      "data": {"m0": "x"}}),
        "m0",
        "2026-01-01T00:00:00Z",
    );
    for i in 1..=11 {
        let mut next = obj.clone();
        next["data"][format!("m{i}")] = json!("x");
        obj = update(Some(&obj), &next, &format!("m{i}"), &format!("2026-01-01T00:00:{i:02}Z"));
    }
    let entries = managed(&obj);
    let names: Vec<&str> =
        entries.as_array().unwrap().iter().map(|e| e["manager"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec!["ancient-changes", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11"]
    );
    assert_eq!(
        entries[0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:m0": {}, "f:m1": {}, "f:m2": {}}})
    );
    assert_eq!(entries[0]["time"], "2026-01-01T00:00:02Z");
}
