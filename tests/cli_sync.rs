//! `cetus sync` and `cetus diff` as a user runs them: the real binary, a kubeconfig for a
//! sandbox, an app directory; exit codes, printed lines, and what the sandbox saw.

use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use std::path::Path;
use std::process::{Command, Output};

struct Setup {
    sandbox: SandboxHandle,
    dir: tempfile::TempDir,
}

const APP: &str = r#"
name: shop
services:
  web:
    image: nginx:1.27
    replicas: 2
    ports: [ { port: 80 } ]
    resources: { requests: { cpu: "0.5", memory: 1024Mi } }
manifests: [ extra/ ]
profiles:
  staging: {}
"#;

fn setup() -> Setup {
    let sandbox = Sandbox::spawn(SandboxOptions::default()).expect("the sandbox starts");
    let dir = tempfile::tempdir().unwrap();
    sandbox.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
    let setup = Setup { sandbox, dir };
    setup.write("app/cetus.yaml", APP);
    setup.write(
        "app/extra/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { password: hunter2 }\n",
    );
    setup
}

impl Setup {
    fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    fn path(&self, p: &str) -> String {
        self.dir.path().join(p).display().to_string()
    }

    fn cetus(&self, args: &[&str]) -> Output {
        let kubeconfig = self.path("kubeconfig");
        Command::new(env!("CARGO_BIN_EXE_cetus"))
            .args(args)
            .args(["--kubeconfig", &kubeconfig])
            .env("CETUS_CACHE_DIR", self.path("cache"))
            .output()
            .unwrap()
    }

    fn sync(&self, extra: &[&str]) -> Output {
        let (app, store) = (self.path("app"), self.path("store"));
        let mut args = vec!["sync", &app, "--profile", "staging", "--store", &store];
        args.extend_from_slice(extra);
        self.cetus(&args)
    }

    fn writes(&self) -> u64 {
        let writes = ["create", "update", "patch", "delete"];
        self.sandbox
            .request_counts()
            .iter()
            .filter(|c| writes.contains(&c.verb.as_str()))
            .map(|c| c.count)
            .sum()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sync_creates_then_a_second_run_writes_nothing_and_lists_once_per_kind() {
    let s = setup();
    let first = s.sync(&["--wait"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        stdout(&first),
        "Namespace shop created\nSecret shop/creds created\nService shop/web created\napps/Deployment shop/web created\nshop: 4 applied, 0 unchanged, 0 pruned, 0 skipped, 0 failed, Healthy\n"
    );

    s.sandbox.reset_request_counts();
    let second = s.sync(&[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second)
            .ends_with("shop: 0 applied, 4 unchanged, 0 pruned, 0 skipped, 0 failed, Healthy\n"),
        "{}",
        stdout(&second)
    );
    assert_eq!(s.writes(), 0, "{:?}", s.sandbox.request_counts());
    for count in s.sandbox.request_counts() {
        assert!(count.verb == "watch" || (count.verb == "list" && count.count == 1), "{count:?}");
    }
    // The no-op run left no history entry; a change does.
    let entries = |s: &Setup| {
        let store = cetus::store::Store::open(s.path("store")).unwrap();
        store.history("shop", None).unwrap().len()
    };
    assert_eq!(entries(&s), 1);
    s.write("app/cetus.yaml", &APP.replace("replicas: 2", "replicas: 3"));
    assert!(s.sync(&[]).status.success());
    assert_eq!(entries(&s), 2);
}

#[test]
fn diff_exits_0_when_synced_and_1_with_a_changed_secret_whose_value_it_never_shows() {
    let s = setup();
    assert!(s.sync(&[]).status.success());
    let (app, store) = (s.path("app"), s.path("store"));
    let quiet = s.cetus(&["diff", &app, "--profile", "staging", "--store", &store]);
    assert_eq!(quiet.status.code(), Some(0), "{}{}", stdout(&quiet), stderr(&quiet));
    assert_eq!(stdout(&quiet), "");

    // Without the store too: dry runs decide, and canonical quantities do not show.
    let cold = s.cetus(&["diff", &app, "--profile", "staging"]);
    assert_eq!(cold.status.code(), Some(0), "{}{}", stdout(&cold), stderr(&cold));

    s.write(
        "app/extra/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { password: correct-horse }\n",
    );
    let changed = s.cetus(&["diff", &app, "--profile", "staging", "--store", &store]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let text = stdout(&changed);
    assert!(text.starts_with("changed Secret shop/creds\n"), "{text}");
    assert!(text.contains("-  password: (masked)\n+  password: (masked, changed)\n"), "{text}");
    for secret in ["hunter2", "correct-horse", "aHVudGVyMg", "Y29ycmVjdC1ob3Jz"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn diff_exits_2_on_invalid_input() {
    let s = setup();
    s.write(
        "app/cetus.yaml",
        "name: shop\nservices: { web: { image: nginx, replcas: 2 } }\nprofiles: { staging: {} }\n",
    );
    let out = s.cetus(&["diff", &s.path("app"), "--profile", "staging"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown key `replcas`"), "{}", stderr(&out));
}

#[test]
fn a_broken_symlink_under_manifests_fails_the_sync_and_deletes_nothing() {
    let s = setup();
    assert!(s.sync(&["--prune"]).status.success());
    std::os::unix::fs::symlink(
        s.dir.path().join("nowhere.yaml"),
        s.dir.path().join("app/extra/broken.yaml"),
    )
    .unwrap();
    s.sandbox.reset_request_counts();
    let out = s.sync(&["--prune"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.yaml"), "{}", stderr(&out));
    assert_eq!(s.sandbox.request_counts(), Vec::new(), "nothing was asked of the cluster");
}

#[test]
fn dry_run_changes_nothing_in_the_cluster_or_the_store() {
    let s = setup();
    let out = s.sync(&["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("apps/Deployment shop/web created (dry run)\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        s.sandbox.request_counts().iter().filter(|c| c.verb == "create").count(),
        0,
        "{:?}",
        s.sandbox.request_counts()
    );
    assert!(!Path::new(&s.path("store")).exists(), "a dry run created the store");
    let real = s.sync(&[]);
    assert!(stdout(&real).contains("apps/Deployment shop/web created\n"), "{}", stdout(&real));
}

#[test]
fn wait_reports_a_degraded_rollout_with_its_reason_and_exits_1() {
    let s = setup();
    s.write("app/cetus.yaml", &APP.replace("nginx:1.27", "nginx:fail"));
    let out = s.sync(&["--wait", "--timeout", "20s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: shop: the app to be healthy failed: apps/Deployment shop/web: "),
        "{err}"
    );
}

#[test]
fn prune_deletes_what_the_render_no_longer_has() {
    let s = setup();
    assert!(s.sync(&["--prune"]).status.success());
    std::fs::remove_file(s.dir.path().join("app/extra/secret.yaml")).unwrap();
    let out = s.sync(&["--prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Secret shop/creds pruned\n"), "{}", stdout(&out));
    // Without --prune, a removed object is left (and reported by nothing).
    s.write("app/extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n");
    assert!(s.sync(&["--prune"]).status.success());
    std::fs::remove_file(s.dir.path().join("app/extra/cm.yaml")).unwrap();
    let kept = s.sync(&[]);
    assert!(!stdout(&kept).contains("pruned\n"), "{}", stdout(&kept));
}
