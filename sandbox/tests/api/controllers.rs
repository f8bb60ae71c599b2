//! Controllers: workload and Job status, claims, load balancers, garbage collection,
//! finalizers, and the `/scale` subresource.

use crate::common::{create_namespace, eventually, get_json, http, sandbox, unique};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn deployment(name: &str, image: &str, annotations: Value) -> String {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "annotations": annotations},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": image}]}}}})
    .to_string()
}

async fn create(path: &str, body: &str) -> Value {
    let r = http("POST", path, Some("application/json"), body).await;
    assert_eq!(r.code, 201, "{}", r.body);
    r.json()
}

/// Waits until the object at `path` satisfies `check`, returning it.
async fn wait_for(path: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(WAIT, || async {
        let (code, obj) = get_json(path).await;
        (code == 200 && check(&obj)).then_some(obj)
    })
    .await
    .unwrap_or_else(|| panic!("{path} never reached the expected state"))
}

fn condition<'a>(obj: &'a Value, type_: &str) -> &'a Value {
    obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn deployments_become_ready_wait_or_fail() {
    let ns = unique("ctl");
    create_namespace(&ns).await;
    let base = format!("/apis/apps/v1/namespaces/{ns}/deployments");
    create(&base, &deployment("ok", "nginx:1", json!({}))).await;
    let ok = wait_for(&format!("{base}/ok"), |o| o["status"]["availableReplicas"] == 2).await;
    assert_eq!(ok["status"]["observedGeneration"], 1);
    assert_eq!(condition(&ok, "Progressing")["reason"], "NewReplicaSetAvailable");

    create(
        &base,
        &deployment("slow", "nginx:1", json!({"sandbox.cetus.dev/ready-after": "400ms"})),
    )
    .await;
    // Observed (NewReplicaSetCreated), then progressing while its pods are not ready.
    let slow = wait_for(&format!("{base}/slow"), |o| {
        o["status"]["observedGeneration"] == 1
            && condition(o, "Progressing")["reason"] == "ReplicaSetUpdated"
    })
    .await;
    assert_eq!(condition(&slow, "Available")["status"], "False");
    let slow =
        wait_for(&format!("{base}/slow"), |o| condition(o, "Available")["status"] == "True").await;
    assert_eq!(slow["status"]["readyReplicas"], 2);

    create(&base, &deployment("bad", "nginx:fail", json!({}))).await;
    let bad = wait_for(&format!("{base}/bad"), |o| o["status"]["observedGeneration"] == 1).await;
    // Progressing until the (scaled) progress deadline has passed, as in a cluster.
    assert_eq!(condition(&bad, "Progressing")["status"], "True");
    let bad = wait_for(&format!("{base}/bad"), |o| {
        condition(o, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    })
    .await;
    assert_eq!(condition(&bad, "Progressing")["status"], "False");
    assert!(bad["status"].get("availableReplicas").is_none());

    create(
        &base,
        &deployment("marked", "nginx:1", json!({"sandbox.cetus.dev/fail-rollout": "true"})),
    )
    .await;
    wait_for(&format!("{base}/marked"), |o| {
        condition(o, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    })
    .await;

    // The control fails a rollout that was healthy.
    let r = http(
        "POST",
        "/sandbox/fail-rollout",
        Some("application/json"),
        &json!({"namespace": ns, "name": "ok"}).to_string(),
    )
    .await;
    assert_eq!(r.code, 204);
    wait_for(&format!("{base}/ok"), |o| {
        condition(o, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    })
    .await;
}

#[tokio::test]
async fn statefulsets_and_daemonsets_report_ready() {
    let ns = unique("ctl");
    create_namespace(&ns).await;
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "pg:16"}]}}}});
    create(&format!("/apis/apps/v1/namespaces/{ns}/statefulsets"), &sts.to_string()).await;
    let s = wait_for(&format!("/apis/apps/v1/namespaces/{ns}/statefulsets/db"), |o| {
        o["status"]["readyReplicas"] == 3
    })
    .await;
    assert_eq!(s["status"]["currentRevision"], s["status"]["updateRevision"]);
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "agent:1"}]}}}});
    create(&format!("/apis/apps/v1/namespaces/{ns}/daemonsets"), &ds.to_string()).await;
    let d = wait_for(&format!("/apis/apps/v1/namespaces/{ns}/daemonsets/agent"), |o| {
        o["status"]["numberAvailable"] == 1
    })
    .await;
    assert_eq!(d["status"]["desiredNumberScheduled"], 1);
}

fn job(name: &str, annotations: Value) -> String {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "annotations": annotations},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}})
    .to_string()
}

#[tokio::test]
async fn jobs_complete_or_fail() {
    let ns = unique("job");
    create_namespace(&ns).await;
    let base = format!("/apis/batch/v1/namespaces/{ns}/jobs");
    let created = create(&base, &job("ok", json!({}))).await;
    let uid = created["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        created["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        uid
    );
    assert_eq!(created["spec"]["template"]["metadata"]["labels"]["job-name"], "ok");
    let ok =
        wait_for(&format!("{base}/ok"), |o| condition(o, "Complete")["status"] == "True").await;
    assert_eq!(ok["status"]["succeeded"], 1);
    assert_eq!(condition(&ok, "SuccessCriteriaMet")["reason"], "CompletionsReached");

    create(&base, &job("bad", json!({"sandbox.cetus.dev/fail-job": "true"}))).await;
    let bad =
        wait_for(&format!("{base}/bad"), |o| condition(o, "Failed")["status"] == "True").await;
    assert_eq!(condition(&bad, "Failed")["reason"], "BackoffLimitExceeded");
    assert_eq!(bad["status"]["failed"], 7);

    sandbox().fail_job(&ns, "doomed");
    create(&base, &job("doomed", json!({"sandbox.cetus.dev/duration": "200ms"}))).await;
    let running = wait_for(&format!("{base}/doomed"), |o| o["status"]["active"] == 1).await;
    assert!(running["status"]["startTime"].is_string());
    wait_for(&format!("{base}/doomed"), |o| condition(o, "Failed")["status"] == "True").await;
}

#[tokio::test]
async fn claims_bind_and_load_balancers_get_addresses() {
    let ns = unique("ctl");
    create_namespace(&ns).await;
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    create(&format!("/api/v1/namespaces/{ns}/persistentvolumeclaims"), &pvc.to_string()).await;
    let bound = wait_for(&format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/data"), |o| {
        o["status"]["phase"] == "Bound"
    })
    .await;
    assert_eq!(bound["status"]["capacity"]["storage"], "1Gi");
    assert!(bound["spec"]["volumeName"].as_str().unwrap().starts_with("pvc-"));
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}});
    let created = create(&format!("/api/v1/namespaces/{ns}/services"), &svc.to_string()).await;
    let node_port = created["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&node_port));
    assert!(created["spec"]["clusterIP"].as_str().unwrap().starts_with("10.96."));
    let lb = wait_for(&format!("/api/v1/namespaces/{ns}/services/lb"), |o| {
        o["status"]["loadBalancer"]["ingress"].is_array()
    })
    .await;
    assert!(
        lb["status"]["loadBalancer"]["ingress"][0]["ip"].as_str().unwrap().starts_with("192.0.2.")
    );
}

async fn owner_and_dependent(ns: &str) -> String {
    let owner = create(
        &format!("/api/v1/namespaces/{ns}/configmaps"),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"}}"#,
    )
    .await;
    let uid = owner["metadata"]["uid"].as_str().unwrap().to_string();
    let dep = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dep",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid, "blockOwnerDeletion": true}]}});
    create(&format!("/api/v1/namespaces/{ns}/configmaps"), &dep.to_string()).await;
    uid
}

async fn gone(path: &str) -> bool {
    eventually(WAIT, || async { (http("GET", path, None, "").await.code == 404).then_some(()) })
        .await
        .is_some()
}

#[tokio::test]
async fn garbage_collection_follows_the_propagation_policy() {
    for policy in ["Background", "Foreground", "Orphan"] {
        let ns = unique("gc");
        create_namespace(&ns).await;
        owner_and_dependent(&ns).await;
        let base = format!("/api/v1/namespaces/{ns}/configmaps");
        let r = http(
            "DELETE",
            &format!("{base}/owner"),
            Some("application/json"),
            &json!({"propagationPolicy": policy}).to_string(),
        )
        .await;
        assert_eq!(r.code, 200, "{policy}: {}", r.body);
        match policy {
            "Background" => {
                assert_eq!(r.json()["kind"], "Status");
                assert!(gone(&format!("{base}/dep")).await, "the dependent is collected");
            }
            "Foreground" => {
                assert_eq!(r.json()["metadata"]["finalizers"], json!(["foregroundDeletion"]));
                assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
                assert!(gone(&format!("{base}/dep")).await);
                assert!(
                    gone(&format!("{base}/owner")).await,
                    "the owner goes after its dependents"
                );
            }
            _ => {
                assert!(gone(&format!("{base}/owner")).await);
                let (code, dep) = get_json(&format!("{base}/dep")).await;
                assert_eq!(code, 200, "an orphan stays");
                assert!(dep["metadata"].get("ownerReferences").is_none());
            }
        }
    }
}

#[tokio::test]
async fn dangling_owner_references_are_collected() {
    let ns = unique("gc");
    create_namespace(&ns).await;
    let dep = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "orphaned",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "nobody", "uid": "00000000-0000-4000-8000-000000000000"}]}});
    create(&format!("/api/v1/namespaces/{ns}/configmaps"), &dep.to_string()).await;
    assert!(gone(&format!("/api/v1/namespaces/{ns}/configmaps/orphaned")).await);
}

#[tokio::test]
async fn finalizers_hold_deleted_objects() {
    let ns = unique("fin");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    create(&path, r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"held","finalizers":["example.com/x"]}}"#).await;
    let r = http("DELETE", &format!("{path}/held"), None, "").await;
    assert_eq!(r.code, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    let (code, obj) = get_json(&format!("{path}/held")).await;
    assert_eq!(code, 200);
    assert_eq!(obj["metadata"]["finalizers"], json!(["example.com/x"]));
    let add = http(
        "PATCH",
        &format!("{path}/held"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":["example.com/x","example.com/y"]}}"#,
    )
    .await;
    assert_eq!(add.code, 422, "no new finalizers on an object being deleted");
    let r = http(
        "PATCH",
        &format!("{path}/held"),
        Some("application/json-patch+json"),
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(http("GET", &format!("{path}/held"), None, "").await.code, 404);
}

#[tokio::test]
async fn scale_subresource() {
    let ns = unique("scale");
    create_namespace(&ns).await;
    let base = format!("/apis/apps/v1/namespaces/{ns}/deployments");
    create(&base, &deployment("web", "nginx:1", json!({}))).await;
    let (code, scale) = get_json(&format!("{base}/web/scale")).await;
    assert_eq!(code, 200);
    assert_eq!(
        (scale["kind"].as_str(), scale["apiVersion"].as_str()),
        (Some("Scale"), Some("autoscaling/v1"))
    );
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let r = http(
        "PATCH",
        &format!("{base}/web/scale"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"replicas":5}}"#,
    )
    .await;
    assert_eq!((r.code, r.json()["spec"]["replicas"].clone()), (200, json!(5)));
    let d = wait_for(&format!("{base}/web"), |o| o["status"]["replicas"] == 5).await;
    assert_eq!(
        (d["spec"]["replicas"].clone(), d["metadata"]["generation"].clone()),
        (json!(5), json!(2))
    );
}
