//! `cetus sandbox` as the quickstart uses it: the real binary, driven by the real kubectl, and
//! restarted on the same `--data` directory after a SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `cetus sandbox` and waits for the line that gives its address.
fn start(data: &Path, kubeconfig: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(kubeconfig)
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("the sandbox prints its address").unwrap();
    assert!(first.starts_with("sandbox listening on http://127.0.0.1:"), "{first}");
    std::thread::spawn(move || lines.for_each(drop)); // keep reading until it exits
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kubeconfig.exists() {
        assert!(Instant::now() < deadline, "no kubeconfig written");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM shuts the sandbox down cleanly: {status}");
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out =
        Command::new("kubectl").arg("--kubeconfig").arg(kubeconfig).args(args).output().unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn kubectl_applies_to_the_sandbox_and_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (data, kubeconfig) = (dir.path().join("data"), dir.path().join("kubeconfig"));
    let manifest = dir.path().join("cm.yaml");
    std::fs::write(&manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { mode: strict }\n").unwrap();

    let sandbox = start(&data, &kubeconfig);
    let applied =
        kubectl(&kubeconfig, &["apply", "--server-side", "-f", manifest.to_str().unwrap()]);
    assert_eq!(applied, "configmap/settings serverside-applied\n");
    let before: u64 = kubectl(
        &kubeconfig,
        &["get", "configmap", "settings", "-o", "jsonpath={.metadata.resourceVersion}"],
    )
    .parse()
    .unwrap();
    stop(sandbox);

    std::fs::remove_file(&kubeconfig).unwrap();
    let sandbox = start(&data, &kubeconfig);
    let mode =
        kubectl(&kubeconfig, &["get", "configmap", "settings", "-o", "jsonpath={.data.mode}"]);
    assert_eq!(mode, "strict");
    kubectl(&kubeconfig, &["label", "configmap", "settings", "tier=gold"]);
    let after: u64 = kubectl(
        &kubeconfig,
        &["get", "configmap", "settings", "-o", "jsonpath={.metadata.resourceVersion}"],
    )
    .parse()
    .unwrap();
    assert!(
        after > before,
        "resourceVersions keep increasing across restarts: {before} then {after}"
    );
    stop(sandbox);
}

/// Regression: the sandbox panicked when its stdout was closed before it printed its address.
#[test]
fn a_closed_stdout_does_not_stop_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // nobody reads: every print fails with a broken pipe
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kubeconfig.exists() {
        assert!(Instant::now() < deadline, "no kubeconfig written");
        assert!(child.try_wait().unwrap().is_none(), "the sandbox exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        kubectl(&kubeconfig, &["get", "namespaces", "-o", "name"]).contains("namespace/default")
    );
    stop(child);
}

/// The whole example config repo, rendered by `cetus render`, applies to the sandbox with the
/// real kubectl (default validation), and a server-side diff right after shows nothing: the
/// renderer writes nothing the API server would default differently.
#[test]
fn the_rendered_example_repo_applies_cleanly_and_diffs_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sandbox = start(&dir.path().join("data"), &kubeconfig);
    for profile in ["staging", "prod"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cetus"))
            .args(["render", "config-repo-example", "--profile", profile])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let manifests = dir.path().join(format!("{profile}.yaml"));
        std::fs::write(&manifests, &out.stdout).unwrap();
        let file = manifests.to_str().unwrap();
        let applied = kubectl(&kubeconfig, &["apply", "--server-side", "-f", file]);
        assert!(
            applied.contains("horizontalpodautoscaler.autoscaling/api serverside-applied"),
            "{applied}"
        );
        let diff = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["diff", "--server-side", "-f", file])
            .output()
            .unwrap();
        assert_eq!(
            diff.status.code(),
            Some(0),
            "{profile}: {}",
            String::from_utf8_lossy(&diff.stdout)
        );
    }
    stop(sandbox);
}

#[test]
fn with_tls_and_a_token_the_kubeconfig_and_the_ca_next_to_it_are_all_kubectl_needs() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("sandbox.kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["sandbox", "--tls", "--token", "s3cret", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").unwrap();
    let (listening, written, ca) = (next(), next(), next());
    assert!(listening.starts_with("sandbox listening on https://127.0.0.1:"), "{listening}");
    assert_eq!(written, format!("kubeconfig written to {}", kubeconfig.display()));
    let ca_file = dir.path().join("sandbox.kubeconfig.ca.crt");
    assert_eq!(ca, format!("CA certificate written to {}", ca_file.display()));
    assert!(std::fs::read_to_string(&ca_file).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        kubectl(&kubeconfig, &["get", "namespace", "default", "-o", "name"]),
        "namespace/default\n"
    );
    let wrong = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--token", "wrong", "get", "namespaces"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    stop(child);
}

#[test]
fn a_blank_token_is_refused_before_the_sandbox_starts() {
    let out = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["sandbox", "--tls", "--token", " "])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: invalid value ' ' for '--token <TOKEN>': a token must not be empty nor start or end with white space"),
        "{stderr}"
    );
}
