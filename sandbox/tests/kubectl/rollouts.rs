//! ReplicaSets and Pods as kwok fakes them, through the real kubectl: a Deployment's pods
//! are listed Running, `rollout history` lists its revisions and `rollout undo` brings the
//! previous template back.

use crate::common::unique;
use crate::{kubectl, kubectl_ok, manifest, write};

async fn pods(ns: &str) -> Vec<Vec<String>> {
    let out = kubectl_ok(&["get", "pods", "-n", ns, "--no-headers"]).await;
    let mut rows: Vec<Vec<String>> =
        out.lines().map(|l| l.split_whitespace().take(4).map(str::to_string).collect()).collect();
    rows.sort();
    rows
}

async fn image(ns: &str) -> String {
    kubectl_ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ])
    .await
}

#[tokio::test]
async fn pods_history_and_undo_of_a_deployment() {
    let ns = unique("k-roll");
    let file = write(&format!("{ns}-roll.yaml"), &manifest(&ns, 3, "nginx:1.27"));
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    let running = pods(&ns).await;
    assert_eq!(running.len(), 3, "{running:?}");
    for p in &running {
        assert!(p[0].starts_with("web-"), "{p:?}");
        assert_eq!(p[1..], ["1/1", "Running", "0"], "{p:?}");
    }
    // Nothing runs, so nothing logs.
    let logs = kubectl(&["logs", &running[0][0], "-n", &ns]).await;
    assert_eq!(
        logs.stderr,
        format!(
            "Error from server (BadRequest): pod \"{}\" has no logs: the sandbox runs no containers\n",
            running[0][0]
        )
    );
    let rs =
        kubectl_ok(&["get", "rs", "-n", &ns, "-o", "jsonpath={.items[*].metadata.name}"]).await;
    let hash = rs.strip_prefix("web-").expect("one ReplicaSet named after the Deployment");
    assert!(running.iter().all(|p| p[0].starts_with(&format!("web-{hash}-"))));

    kubectl_ok(&["set", "image", "deployment/web", "web=nginx:1.28", "-n", &ns]).await;
    kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    let history = kubectl_ok(&["rollout", "history", "deployment/web", "-n", &ns]).await;
    assert_eq!(
        history,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
    assert_eq!(pods(&ns).await.len(), 3, "the old ReplicaSet's pods are gone");

    let out = kubectl_ok(&["rollout", "undo", "deployment/web", "-n", &ns]).await;
    assert_eq!(out, "deployment.apps/web rolled back\n");
    kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    assert_eq!(image(&ns).await, "nginx:1.27");
    // The first template's ReplicaSet is reused and becomes revision 3.
    let history = kubectl_ok(&["rollout", "history", "deployment/web", "-n", &ns]).await;
    assert_eq!(
        history,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n"
    );
    let revision = kubectl_ok(&[
        "get",
        "rs",
        format!("web-{hash}").as_str(),
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    ])
    .await;
    assert_eq!(revision, "3");
    let pods_now = pods(&ns).await;
    assert!(
        pods_now.iter().all(|p| p[0].starts_with(&format!("web-{hash}-")) && p[2] == "Running"),
        "{pods_now:?}"
    );
}
