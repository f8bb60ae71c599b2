//! Defaulting of built-in kinds.

use super::*;
use crate::merge::{allocate_service_fields, apply_defaults};

fn defaulted(mut v: Value) -> Value {
    let api_version = v["apiVersion"].as_str().unwrap().to_string();
    let kind = v["kind"].as_str().unwrap().to_string();
    apply_defaults(&api_version, &kind, &mut v);
    let again = v.clone();
    apply_defaults(&api_version, &kind, &mut v);
    assert_eq!(v, again, "defaulting is idempotent");
    v
}

#[test]
fn minimal_deployment() {
    let d = defaulted(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
    );
    assert_eq!(
        d["spec"],
        json!({
        "replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "selector": {"matchLabels": {"a": "b"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always", "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30}}})
    );
}

#[test]
fn recreate_deployments_get_no_rolling_update() {
    let d =
        defaulted(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"strategy": {"type": "Recreate"}}}));
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn minimal_service_and_its_allocations() {
    let mut s = defaulted(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}));
    assert_eq!(
        s["spec"],
        json!({
        "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
        "selector": {"a": "b"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80},
                  {"port": 443, "protocol": "TCP", "targetPort": "https"}]})
    );
    assert_eq!(s["status"], json!({"loadBalancer": {}}));
    allocate_service_fields(&mut s, "10.96.0.10");
    assert_eq!(s["spec"]["clusterIP"], "10.96.0.10");
    assert_eq!(s["spec"]["clusterIPs"], json!(["10.96.0.10"]));
    assert_eq!(s["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(s["spec"]["ipFamilyPolicy"], "SingleStack");
    let mut lb =
        defaulted(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"type": "LoadBalancer", "clusterIP": "None", "ports": [{"port": 1}]}}));
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    allocate_service_fields(&mut lb, "10.96.0.11");
    assert_eq!(
        (lb["spec"]["clusterIP"].as_str(), lb["spec"]["ipFamilyPolicy"].as_str()),
        (Some("None"), Some("RequireDualStack"))
    );
}

#[test]
fn job_secret_pvc_namespace_statefulset() {
    let job = defaulted(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"metadata": {"labels": {"x": "y"}}, "spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox:1"}]}}}}));
    assert_eq!(job["spec"]["completions"], 1);
    assert_eq!(job["spec"]["parallelism"], 1);
    assert_eq!(job["spec"]["backoffLimit"], 6);
    assert_eq!(job["spec"]["completionMode"], "NonIndexed");
    assert_eq!(job["spec"]["suspend"], false);
    assert_eq!(job["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(job["metadata"]["labels"], json!({"x": "y"}));
    let secret =
        defaulted(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}));
    assert_eq!(secret["type"], "Opaque");
    let pvc = defaulted(
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}}),
    );
    assert_eq!(
        (pvc["spec"]["volumeMode"].as_str(), pvc["status"]["phase"].as_str()),
        (Some("Filesystem"), Some("Pending"))
    );
    let ns =
        defaulted(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}));
    assert_eq!(ns["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "team"}));
    let sts = defaulted(
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {}}),
    );
    assert_eq!(
        sts["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
}

#[test]
fn unknown_kinds_are_untouched() {
    let v = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}});
    assert_eq!(defaulted(v.clone()), v);
}
