//! The real kubectl against a sandbox in TLS mode with a token: the kubeconfig's CA and
//! token are enough for apply, get and rollout status; the CA file written next to the
//! kubeconfig works as `--certificate-authority`; a wrong token is refused as a cluster
//! refuses it.

use crate::common::unique;
use crate::manifest;
use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokio::process::Command;

struct Secure {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    handle: SandboxHandle,
}

fn secure() -> &'static Secure {
    static SECURE: OnceLock<Secure> = OnceLock::new();
    SECURE.get_or_init(|| {
        let options = SandboxOptions {
            tls: true,
            token: Some("kubectl-token".into()),
            ..SandboxOptions::default()
        };
        let handle = Sandbox::spawn(options).expect("the TLS sandbox starts");
        let dir = tempfile::tempdir().expect("a temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        handle.write_kubeconfig(&kubeconfig).expect("the kubeconfig is written");
        Secure { dir, kubeconfig, handle }
    })
}

/// kubectl with `kubeconfig` and the shared discovery cache: (exit code, stdout, stderr).
async fn kubectl_with(kubeconfig: &Path, args: &[&str]) -> (i32, String, String) {
    kubectl_cached(kubeconfig, &secure().dir.path().join("cache"), args).await
}

/// kubectl with `kubeconfig` and the discovery cache `cache`.
async fn kubectl_cached(kubeconfig: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", cache)
        .kill_on_drop(true)
        .output()
        .await
        .expect("kubectl runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

async fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = kubectl_with(&secure().kubeconfig, args).await;
    assert_eq!(code, 0, "kubectl {args:?}: {stdout}{stderr}");
    stdout
}

#[tokio::test]
async fn kubectl_applies_and_reads_over_https_with_the_token() {
    let env = secure();
    let ns = unique("k-tls");
    let file = env.dir.path().join(format!("{ns}.yaml"));
    std::fs::write(&file, manifest(&ns, 2, "nginx:1.27")).unwrap();
    let out = ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    assert_eq!(
        out,
        format!(
            "namespace/{ns} serverside-applied\ndeployment.apps/web serverside-applied\nservice/web serverside-applied\nconfigmap/web-config serverside-applied\n"
        )
    );
    let out = ok(&["-n", &ns, "rollout", "status", "deployment/web", "--timeout=20s"]).await;
    assert_eq!(out, "deployment \"web\" successfully rolled out\n");
    let out =
        ok(&["-n", &ns, "get", "configmap", "web-config", "-o", "jsonpath={.data.LOG_LEVEL}"])
            .await;
    assert_eq!(out, "info");
    assert!(env.handle.token_uses("kubectl-token") > 0);
}

#[tokio::test]
async fn the_ca_file_next_to_the_kubeconfig_is_a_certificate_authority_for_kubectl() {
    let env = secure();
    let ca = cetus_sandbox::ca_path(&env.kubeconfig);
    let empty = env.dir.path().join("empty.kubeconfig");
    std::fs::write(&empty, "apiVersion: v1\nkind: Config\n").unwrap();
    let args = [
        "--server",
        &env.handle.url(),
        "--certificate-authority",
        ca.to_str().unwrap(),
        "--token",
        "kubectl-token",
        "get",
        "namespace",
        "kube-system",
        "-o",
        "name",
    ];
    let (code, stdout, stderr) = kubectl_with(&empty, &args).await;
    assert_eq!((code, stdout.as_str()), (0, "namespace/kube-system\n"), "{stderr}");
}

#[tokio::test]
async fn kubectl_with_a_wrong_token_is_unauthorized() {
    let env = secure();
    let cold = tempfile::tempdir().unwrap();
    let args = ["--token", "wrong", "get", "namespaces"];
    let (code, stdout, stderr) = kubectl_cached(&env.kubeconfig, cold.path(), &args).await;
    assert_eq!(code, 1, "{stdout}");
    // Without a discovery cache, what kubectl 1.32 prints against a real cluster too: its
    // discovery client words the 401 itself, once per retry, then gives up.
    assert_eq!(
        stderr.lines().last(),
        Some(
            "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("couldn't get current server API group list"), "{stderr}");

    // With discovery cached, the list itself is refused and kubectl shows the Status's message.
    let warm = tempfile::tempdir().unwrap();
    let (code, _, stderr) =
        kubectl_cached(&env.kubeconfig, warm.path(), &["get", "namespaces"]).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = kubectl_cached(&env.kubeconfig, warm.path(), &args).await;
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(stderr, "error: You must be logged in to the server (Unauthorized)\n");
}
