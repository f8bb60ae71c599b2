//! kubectl's imperative commands, whose typed clients send protobuf bodies: `create
//! namespace|configmap|secret generic|deployment|job`, `run` and `expose`, each checked by
//! reading back what was stored.

use crate::common::unique;
use crate::{kubectl, kubectl_ok};
use serde_json::{Value, json};

async fn get_json(args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    serde_json::from_str(&kubectl_ok(&all).await).expect("kubectl prints JSON")
}

#[tokio::test]
async fn create_namespace_configmap_and_secret() {
    let ns = unique("k-imp");
    assert_eq!(
        kubectl_ok(&["create", "namespace", &ns]).await,
        format!("namespace/{ns} created\n")
    );
    assert_eq!(get_json(&["namespace", &ns]).await["status"]["phase"], "Active");
    let out = kubectl_ok(&[
        "create",
        "configmap",
        "c",
        "-n",
        &ns,
        "--from-literal=a=1",
        "--from-literal=b=two",
    ])
    .await;
    assert_eq!(out, "configmap/c created\n");
    assert_eq!(
        get_json(&["configmap", "c", "-n", &ns]).await["data"],
        json!({"a": "1", "b": "two"})
    );
    let out =
        kubectl_ok(&["create", "secret", "generic", "s", "-n", &ns, "--from-literal=pw=hunter2"])
            .await;
    assert_eq!(out, "secret/s created\n");
    let s = get_json(&["secret", "s", "-n", &ns]).await;
    assert_eq!(
        (s["type"].clone(), s["data"].clone()),
        (json!("Opaque"), json!({"pw": "aHVudGVyMg=="}))
    );
    // The same name again: AlreadyExists, as from a cluster.
    let again = kubectl(&["create", "namespace", &ns]).await;
    assert_eq!(
        again.stderr.trim(),
        format!("Error from server (AlreadyExists): namespaces \"{ns}\" already exists")
    );
}

#[tokio::test]
async fn create_deployment_job_run_and_expose() {
    let ns = unique("k-imp2");
    kubectl_ok(&["create", "namespace", &ns]).await;
    let out = kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "-n",
        &ns,
        "--image=nginx:1.27",
        "--replicas=2",
        "--port=8080",
    ])
    .await;
    assert_eq!(out, "deployment.apps/web created\n");
    let d = get_json(&["deployment", "web", "-n", &ns]).await;
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
    assert_eq!(d["spec"]["selector"]["matchLabels"], json!({"app": "web"}));
    kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;

    let out =
        kubectl_ok(&["create", "job", "once", "-n", &ns, "--image=busybox:1", "--", "echo", "hi"])
            .await;
    assert_eq!(out, "job.batch/once created\n");
    kubectl_ok(&["wait", "--for=condition=Complete", "job/once", "-n", &ns, "--timeout=20s"]).await;
    let j = get_json(&["job", "once", "-n", &ns]).await;
    assert_eq!(j["spec"]["template"]["spec"]["containers"][0]["command"], json!(["echo", "hi"]));
    assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "Never");

    let out =
        kubectl_ok(&["run", "p", "-n", &ns, "--image=nginx:1", "--labels=app=p", "--env=A=1"])
            .await;
    assert_eq!(out, "pod/p created\n");
    let p = get_json(&["pod", "p", "-n", &ns]).await;
    assert_eq!(p["metadata"]["labels"], json!({"app": "p"}));
    assert_eq!(p["spec"]["containers"][0]["env"], json!([{"name": "A", "value": "1"}]));

    let out =
        kubectl_ok(&["expose", "deployment", "web", "-n", &ns, "--port=80", "--target-port=8080"])
            .await;
    assert_eq!(out, "service/web exposed\n");
    let s = get_json(&["service", "web", "-n", &ns]).await;
    assert_eq!(s["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(s["spec"]["ports"][0]["port"], 80);
    assert_eq!(s["spec"]["ports"][0]["targetPort"], 8080);
    assert!(s["spec"]["clusterIP"].as_str().unwrap().starts_with("10.96."));
}
