//! The daemon as it runs in a pod: no kubeconfig anywhere (no flag, no `KUBECONFIG`, an empty
//! `HOME`), only a service account directory (laid out as the kubelet writes it) and
//! `KUBERNETES_SERVICE_HOST/PORT`, against a sandbox that speaks https only and checks the
//! token. It syncs the example config repo, and it keeps working when the token rotates.

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/git.rs"]
mod git_support;

use cetus_sandbox::SandboxOptions;
use daemon::World;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A service account directory as the kubelet's atomic writer lays it out: `token`,
/// `ca.crt` and `namespace` are symlinks through `..data` to a directory of one
/// generation, and an update swaps `..data` in one rename.
struct ServiceAccount {
    dir: PathBuf,
    ca: String,
    namespace: String,
}

impl ServiceAccount {
    fn new(dir: &Path, token: &str, ca: &str, namespace: &str) -> ServiceAccount {
        std::fs::create_dir_all(dir).unwrap();
        let account =
            ServiceAccount { dir: dir.to_path_buf(), ca: ca.into(), namespace: namespace.into() };
        account.publish(1, token);
        for name in ["token", "ca.crt", "namespace"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), dir.join(name)).unwrap();
        }
        account
    }

    /// Writes generation `n` with `token` and points `..data` at it.
    fn publish(&self, n: u32, token: &str) {
        let generation = format!("..generation-{n}");
        let files = self.dir.join(&generation);
        std::fs::create_dir(&files).unwrap();
        std::fs::write(files.join("token"), token).unwrap();
        std::fs::write(files.join("ca.crt"), &self.ca).unwrap();
        std::fs::write(files.join("namespace"), &self.namespace).unwrap();
        let staged = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&generation, &staged).unwrap();
        std::fs::rename(&staged, self.dir.join("..data")).unwrap();
    }
}

/// What a pod's environment gives the daemon, and nothing that would find a kubeconfig.
fn pod_env<'a>(
    world: &World,
    account: &'a ServiceAccount,
    home: &'a str,
) -> Vec<(&'a str, Option<String>)> {
    let port = world.sandbox().address().port().to_string();
    vec![
        ("CETUS_SERVICEACCOUNT_DIR", Some(account.dir.display().to_string())),
        ("KUBERNETES_SERVICE_HOST", Some("127.0.0.1".into())),
        ("KUBERNETES_SERVICE_PORT", Some(port)),
        ("HOME", Some(home.into())),
        ("KUBECONFIG", None),
        ("POD_NAMESPACE", None),
    ]
}

fn secure(token: &str) -> SandboxOptions {
    SandboxOptions { tls: true, token: Some(token.into()), ..SandboxOptions::default() }
}

/// Every file of `config-repo-example`, as (path, content).
fn example_repo() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-repo-example");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files
}

fn start(world: &World, token: &str) -> (daemon::Daemon, ServiceAccount) {
    let ca = world.sandbox().ca_pem().unwrap();
    let account =
        ServiceAccount::new(&world.dir.path().join("serviceaccount"), token, ca, "cetus-system\n");
    let home = world.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let home = home.display().to_string();
    let env = pod_env(world, &account, &home);
    let env: Vec<(&str, Option<&str>)> = env.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    let daemon = world.serve_in_cluster(&env, &["--repo-interval", "1s"]);
    (daemon, account)
}

#[test]
fn in_a_pod_the_daemon_syncs_the_example_repo_with_its_service_account_over_https() {
    let files = example_repo();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let world = World::new(&files, secure("sa-token"));
    // The Lease goes to the namespace of the service account's namespace file.
    world.kubectl(&["create", "namespace", "cetus-system"]);
    let (daemon, _account) = start(&world, "sa-token");

    for app in ["bookinfo", "hello", "ledger"] {
        daemon.wait_entry(app, &format!("{app}'s first sync"), |e| e["outcome"] == "Succeeded");
        let history = daemon.history(app);
        let first = history.last().unwrap();
        assert_eq!(first["outcome"], "Succeeded", "{app}: {history:?}");
    }
    let listed = world.kubectl(&[
        "get",
        "deployments",
        "-A",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}",
    ]);
    let mut deployments: Vec<&str> = listed.lines().collect();
    deployments.sort();
    assert_eq!(
        deployments,
        [
            "hello/hello",
            "payments--ledger/api",
            "wickedev--bookinfo/postgres",
            "wickedev--bookinfo/ratings",
            "wickedev--bookinfo/reviews",
            "wickedev--bookinfo/web",
        ]
    );
    let holder = world.kubectl(&[
        "-n",
        "cetus-system",
        "get",
        "lease",
        "cetus",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(!holder.is_empty(), "the lease is held in the pod's namespace");
    let log = daemon.log();
    assert!(log.contains("no kubeconfig: using the in-cluster service account"), "{log}");
    assert_eq!(world.sandbox().unauthorized_count(), 0, "every request carried the token");
    assert!(world.sandbox().token_uses("sa-token") > 0);
}

fn app(image: &str) -> String {
    format!("name: web\nservices:\n  web: {{ image: \"{image}\" }}\nprofiles:\n  staging: {{}}\n")
}

const WEB: &str = "apps/web/cetus.yaml";

#[test]
fn a_rotated_token_is_read_from_the_file_and_the_daemon_keeps_working() {
    let world = World::new(&[(WEB, &app("web:1"))], secure("token-1"));
    world.kubectl(&["create", "namespace", "cetus-system"]);
    let (daemon, account) = start(&world, "token-1");
    daemon.wait_entry("web", "the first sync", |e| e["outcome"] == "Succeeded");

    // As in a cluster, the old token stays valid for a while after the kubelet wrote the new
    // one; kube re-reads the file within a minute of its last read.
    world.sandbox().set_tokens(&["token-1", "token-2"]);
    account.publish(2, "token-2");
    let rotated = Instant::now();
    daemon.wait("the daemon to send the new token", Duration::from_secs(90), |_| {
        world.sandbox().token_uses("token-2") > 0
    });
    assert!(rotated.elapsed() < Duration::from_secs(70), "read after {:?}", rotated.elapsed());

    // The old token expires: only the new one is accepted from now on.
    world.sandbox().set_tokens(&["token-2"]);
    world.sandbox().write_kubeconfig(&world.kubeconfig).unwrap();
    let commit = world.repo.commit_and_push(&[(WEB, &app("web:2"))], "web 2");
    daemon.wait_entry("web", "the commit, applied with the new token", |e| {
        e["commit"] == commit.as_str() && e["outcome"] == "Succeeded"
    });
    let image = world.kubectl(&[
        "-n",
        "web",
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "web:2");
    assert!(daemon.ready(), "still the leader");
    assert!(!daemon.log().contains("lost the lease"), "{}", daemon.log());
}

/// `cetus` with nothing but `env` (a pod's, or less): exit code and stderr.
fn cli(args: &[&str], env: &[(&str, Option<String>)]) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cetus"));
    command.args(args);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let out = command.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_cli_in_a_pod_uses_the_service_account_too_and_says_what_is_missing() {
    let world = World::new(&[(WEB, &app("web:1"))], secure("cli-token"));
    let ca = world.sandbox().ca_pem().unwrap();
    let account =
        ServiceAccount::new(&world.dir.path().join("serviceaccount"), "cli-token", ca, "default");
    let home = world.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let home = home.display().to_string();
    let env = pod_env(&world, &account, &home);
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/config-repo-example/apps/hello");
    let sync = ["sync", hello, "--profile", "staging", "--store", &format!("{home}/store")];

    let (code, stdout, stderr) = cli(&sync, &env);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let image = world.kubectl(&[
        "-n",
        "hello",
        "get",
        "deployment",
        "hello",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "ghcr.io/example/hello:v1.5.0-rc.1");

    let empty = world.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut elsewhere = env.clone();
    elsewhere[0].1 = Some(empty.display().to_string());
    let (code, _, stderr) = cli(&sync, &elsewhere);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        format!(
            "error: no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a cluster: service account file {}/token: cannot read: No such file or directory (os error 2)\n",
            empty.display()
        )
    );
    let outside: Vec<_> =
        env.iter().filter(|(k, _)| !k.starts_with("KUBERNETES_")).cloned().collect();
    let mut outside = outside;
    outside.push(("KUBERNETES_SERVICE_HOST", None));
    outside.push(("KUBERNETES_SERVICE_PORT", None));
    let (code, _, stderr) = cli(&sync, &outside);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "error: no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a cluster: in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set\n"
    );
}
