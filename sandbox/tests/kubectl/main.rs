//! The real `kubectl` against the sandbox, through a kubeconfig: server-side apply with
//! default validation, get (table and JSON), diff, delete, api-resources, get -w, rollout
//! status, scale and wait.

#[path = "../common/mod.rs"]
mod common;

use common::{sandbox, unique};

mod crds;
mod events;
mod imperative;
mod kinds;
mod lifecycle;
mod rollouts;
mod tls;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The kubeconfig and the discovery cache kubectl uses (fresh for each test binary).
struct Environment {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

fn environment() -> &'static Environment {
    static ENV: OnceLock<Environment> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        sandbox().write_kubeconfig(&kubeconfig).expect("the kubeconfig is written");
        let cache = dir.path().join("cache");
        Environment { dir, kubeconfig, cache }
    })
}

fn command(args: &[&str]) -> Command {
    let env = environment();
    let mut cmd = Command::new("kubectl");
    cmd.args(args)
        .env("KUBECONFIG", &env.kubeconfig)
        .env("KUBECACHEDIR", &env.cache)
        .kill_on_drop(true);
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn kubectl(args: &[&str]) -> Run {
    let out = command(args).output().await.expect("kubectl runs (scripts/setup installs it)");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn kubectl_ok(args: &[&str]) -> String {
    let r = kubectl(args).await;
    assert_eq!(r.code, 0, "kubectl {args:?} failed: {}{}", r.stdout, r.stderr);
    r.stdout
}

fn manifest(ns: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: {ns}
data:
  LOG_LEVEL: info
"
    )
}

fn write(name: &str, text: &str) -> PathBuf {
    let path = environment().dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn applied(ns: &str) -> PathBuf {
    let file = write(&format!("{ns}.yaml"), &manifest(ns, 2, "nginx:1.27"));
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    file
}

#[tokio::test]
async fn apply_server_side_of_a_multi_document_file() {
    let ns = unique("k-apply");
    let file = write(&format!("{ns}.yaml"), &manifest(&ns, 2, "nginx:1.27"));
    let out = kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    assert_eq!(
        out,
        format!(
            "namespace/{ns} serverside-applied\ndeployment.apps/web serverside-applied\nservice/web serverside-applied\nconfigmap/web-config serverside-applied\n"
        )
    );
    let rv = kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ])
    .await;
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    let again = kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ])
    .await;
    assert_eq!(rv, again, "re-applying the same file writes nothing");
    let managers = kubectl_ok(&[
        "get",
        "configmap",
        "web-config",
        "-n",
        &ns,
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ])
    .await;
    assert_eq!(managers, "kubectl");

    // Default validation: kubectl leaves it to the server (fieldValidation=Strict).
    let bad = write(
        &format!("{ns}-bad.yaml"),
        &manifest(&ns, 2, "nginx:1.27").replace("replicas: 2", "replicaz: 2"),
    );
    let r = kubectl(&["apply", "--server-side", "-f", bad.to_str().unwrap()]).await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!("failed to create typed patch object ({ns}/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema")),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn get_as_table_and_json() {
    let ns = unique("k-get");
    applied(&ns).await;
    let table = kubectl_ok(&["get", "deployments", "-n", &ns]).await;
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(lines[1][..4], ["web", "2/2", "2", "2"]);
    let svc = kubectl_ok(&["get", "svc", "web", "-n", &ns]).await;
    let row: Vec<&str> = svc.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!((row[0], row[1], row[3], row[4]), ("web", "ClusterIP", "<none>", "80/TCP"));
    let json: Value = serde_json::from_str(
        &kubectl_ok(&["get", "configmap", "web-config", "-n", &ns, "-o", "json"]).await,
    )
    .unwrap();
    assert_eq!(json["data"]["LOG_LEVEL"], "info");
    assert_eq!(json["kind"], "ConfigMap");
    let list: Value =
        serde_json::from_str(&kubectl_ok(&["get", "all", "-n", &ns, "-o", "json"]).await).unwrap();
    let kinds: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    // As in a cluster: the Deployment's ReplicaSet and its two pods too.
    assert_eq!(kinds, vec!["Pod", "Pod", "Service", "Deployment", "ReplicaSet"]);
}

#[tokio::test]
async fn diff_server_side() {
    let ns = unique("k-diff");
    let file = applied(&ns).await;
    let same = kubectl(&["diff", "--server-side", "-f", file.to_str().unwrap()]).await;
    assert_eq!((same.code, same.stdout.as_str()), (0, ""), "{}", same.stderr);
    let changed = write(&format!("{ns}-changed.yaml"), &manifest(&ns, 3, "nginx:1.27"));
    let diff = kubectl(&["diff", "--server-side", "-f", changed.to_str().unwrap()]).await;
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(diff.stdout.contains("-  replicas: 2\n+  replicas: 3\n"), "{}", diff.stdout);
    assert!(diff.stdout.contains("-  generation: 1\n+  generation: 2\n"), "{}", diff.stdout);
    let still =
        kubectl_ok(&["get", "deployment", "web", "-n", &ns, "-o", "jsonpath={.spec.replicas}"])
            .await;
    assert_eq!(still, "2", "diff is a dry run");
}

#[tokio::test]
async fn delete_a_file() {
    let ns = unique("k-del");
    let file = applied(&ns).await;
    let out = kubectl_ok(&["delete", "-f", file.to_str().unwrap()]).await;
    assert_eq!(
        out,
        format!(
            "namespace \"{ns}\" deleted\ndeployment.apps \"web\" deleted\nservice \"web\" deleted\nconfigmap \"web-config\" deleted\n"
        )
    );
    let r = kubectl(&["get", "namespace", &ns]).await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.trim(),
        format!("Error from server (NotFound): namespaces \"{ns}\" not found")
    );
}

#[tokio::test]
async fn api_resources() {
    let out = kubectl_ok(&["api-resources"]).await;
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], vec!["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    assert!(rows.contains(&vec!["deployments", "deploy", "apps/v1", "true", "Deployment"]));
    assert!(rows.contains(&vec!["namespaces", "ns", "v1", "false", "Namespace"]));
    assert!(rows.contains(&vec![
        "customresourcedefinitions",
        "crd,crds",
        "apiextensions.k8s.io/v1",
        "false",
        "CustomResourceDefinition"
    ]));
    assert!(rows.contains(&vec!["leases", "coordination.k8s.io/v1", "true", "Lease"]));
    let namespaced = kubectl_ok(&["api-resources", "--namespaced=false", "-o", "name"]).await;
    assert!(namespaced.lines().any(|l| l == "clusterroles.rbac.authorization.k8s.io"));
    assert!(!namespaced.lines().any(|l| l == "configmaps"));
}

#[tokio::test]
async fn get_watch_receives_an_event() {
    let ns = unique("k-watch");
    applied(&ns).await;
    let mut child = command(&["get", "configmaps", "-n", &ns, "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first =
        tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap();
    assert_eq!(first.as_deref(), Some("configmap/web-config"));
    let extra = write(
        &format!("{ns}-cm.yaml"),
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n  namespace: {ns}\n"),
    );
    kubectl_ok(&["apply", "--server-side", "-f", extra.to_str().unwrap()]).await;
    let next = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("an event in time")
        .unwrap();
    assert_eq!(next.as_deref(), Some("configmap/added"));
    child.kill().await.unwrap();
}

#[tokio::test]
async fn rollout_status_completes_or_fails() {
    let ns = unique("k-roll");
    applied(&ns).await;
    let ok = kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    assert_eq!(ok, "deployment \"web\" successfully rolled out\n");
    let failing = write(&format!("{ns}-fail.yaml"), &manifest(&ns, 2, "nginx:fail"));
    kubectl_ok(&["apply", "--server-side", "-f", failing.to_str().unwrap()]).await;
    let r = kubectl(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.trim(), "error: deployment \"web\" exceeded its progress deadline");
}

#[tokio::test]
async fn rollout_status_waits_for_a_delayed_rollout() {
    let ns = unique("k-slow");
    let file = write(
        &format!("{ns}.yaml"),
        &manifest(&ns, 3, "nginx:1").replace(
            "  name: web\n  namespace",
            "  name: web\n  annotations:\n    sandbox.cetus.dev/ready-after: 1500ms\n  namespace",
        ),
    );
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    let out =
        kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    // Pods become available one at a time: kubectl prints a line for each.
    let mut lines: Vec<&str> = out.lines().collect();
    lines.dedup();
    let waiting = |n: u32| {
        format!(
            "Waiting for deployment \"web\" rollout to finish: {n} of 3 updated replicas are available..."
        )
    };
    let tail: Vec<String> = lines.iter().rev().take(3).rev().map(|l| l.to_string()).collect();
    assert_eq!(
        tail,
        vec![waiting(1), waiting(2), "deployment \"web\" successfully rolled out".to_string()],
        "{out}"
    );
    assert!(lines.contains(&waiting(0).as_str()) || lines[0] == waiting(1), "{out}");
}

#[tokio::test]
async fn scale_and_wait_for_a_job() {
    let ns = unique("k-scale");
    applied(&ns).await;
    assert_eq!(
        kubectl_ok(&["scale", "deployment/web", "-n", &ns, "--replicas=4"]).await,
        "deployment.apps/web scaled\n"
    );
    kubectl_ok(&["rollout", "status", "deployment/web", "-n", &ns, "--timeout=20s"]).await;
    assert_eq!(
        kubectl_ok(&[
            "get",
            "deployment",
            "web",
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.readyReplicas}"
        ])
        .await,
        "4"
    );
    let job = write(
        &format!("{ns}-job.yaml"),
        &format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: {ns}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: busybox\n"
        ),
    );
    kubectl_ok(&["apply", "--server-side", "-f", job.to_str().unwrap()]).await;
    let out = kubectl_ok(&[
        "wait",
        "--for=condition=complete",
        "job/migrate",
        "-n",
        &ns,
        "--timeout=20s",
    ])
    .await;
    assert_eq!(out, "job.batch/migrate condition met\n");
}
