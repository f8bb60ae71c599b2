use super::*;
use crate::render::{APP, MANAGED_BY, TRACKING};

fn object<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Value {
    let found = objects.iter().find(|o| o.key.kind == kind && o.key.name == name);
    &found.unwrap_or_else(|| panic!("no {kind} {name}")).value
}

fn options(namespace: &str) -> InstallOptions {
    InstallOptions { namespace: namespace.into(), ..InstallOptions::default() }
}

/// The `resources` of a kustomization file.
fn resources(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let document = crate::yaml::parse_document(&text).unwrap();
    let list = document.value["resources"].as_array().unwrap();
    list.iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_embedded_files_are_the_kustomization_resources_in_order() {
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/base/kustomization.yaml");
    let embedded: Vec<&str> = MANIFESTS.iter().map(|m| m.file).collect();
    assert_eq!(resources(base), embedded);
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/kustomization.yaml");
    assert_eq!(resources(top), ["base"]);
}

#[test]
fn every_object_is_stamped_as_the_cetus_app_and_sorted_for_applying() {
    let objects = objects(MANIFESTS, &options(DEFAULT_NAMESPACE)).unwrap();
    let order: Vec<String> = objects.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(
        order,
        [
            "Namespace cetus-system",
            "ConfigMap cetus-system/cetus-config",
            "PersistentVolumeClaim cetus-system/cetus-store",
            "ServiceAccount cetus-system/cetus",
            "rbac.authorization.k8s.io/ClusterRole cetus",
            "rbac.authorization.k8s.io/ClusterRole cetus-events",
            "rbac.authorization.k8s.io/ClusterRoleBinding cetus",
            "rbac.authorization.k8s.io/ClusterRoleBinding cetus-events",
            "rbac.authorization.k8s.io/Role cetus-system/cetus-leader-election",
            "rbac.authorization.k8s.io/RoleBinding cetus-system/cetus-leader-election",
            "Service cetus-system/cetus",
            "apps/Deployment cetus-system/cetus",
        ]
    );
    for o in &objects {
        let metadata = &o.value["metadata"];
        assert_eq!(metadata["labels"][APP], "cetus", "{}", o.key);
        assert_eq!(metadata["labels"][MANAGED_BY], "cetus", "{}", o.key);
        assert_eq!(metadata["annotations"][TRACKING], o.key.tracking("cetus"));
        assert_eq!(metadata["annotations"][MANIFEST_HASH].as_str().unwrap().len(), 16);
    }
}

#[test]
fn another_namespace_moves_objects_the_namespace_and_binding_subjects() {
    let objects = objects(MANIFESTS, &options("ops")).unwrap();
    let mut namespaces: Vec<&str> = objects.iter().map(|o| o.key.namespace.as_str()).collect();
    namespaces.sort();
    namespaces.dedup();
    assert_eq!(namespaces, ["", "ops"]);
    assert!(objects.iter().any(|o| o.key.to_string() == "Namespace ops"));
    for binding in ["cetus", "cetus-events"] {
        let subjects = &object(&objects, "ClusterRoleBinding", binding)["subjects"];
        assert_eq!(subjects[0]["namespace"], "ops", "{binding}");
    }
    let role_binding = object(&objects, "RoleBinding", "cetus-leader-election");
    assert_eq!(role_binding["subjects"][0]["namespace"], "ops");
    let all = serde_json::to_string(&objects.iter().map(|o| &o.value).collect::<Vec<_>>());
    assert!(!all.unwrap().contains(DEFAULT_NAMESPACE));
}

#[test]
fn a_config_goes_into_the_config_map_and_its_hash_onto_the_pod_template() {
    let hash = |objects: &[Object]| {
        let template = &object(objects, "Deployment", "cetus")["spec"]["template"];
        template["metadata"]["annotations"][CONFIG_HASH].as_str().unwrap().to_string()
    };
    let default = objects(MANIFESTS, &options(DEFAULT_NAMESPACE)).unwrap();
    let config = "repo: { url: https://git.example.com/acme/config.git }\nprofile: prod\n";
    let given = InstallOptions { config: Some(config.into()), ..options(DEFAULT_NAMESPACE) };
    let custom = objects(MANIFESTS, &given).unwrap();
    assert_eq!(object(&custom, "ConfigMap", "cetus-config")["data"]["cetusd.yaml"], config);
    assert_ne!(hash(&default), hash(&custom));
    assert_eq!(hash(&custom), hash(&objects(MANIFESTS, &given).unwrap()));
}

#[test]
fn an_image_replaces_the_daemons() {
    let given = InstallOptions {
        image: Some("registry.example.com/platform/cetus:0.1.0".into()),
        ..options(DEFAULT_NAMESPACE)
    };
    let objects = objects(MANIFESTS, &given).unwrap();
    let container =
        &object(&objects, "Deployment", "cetus")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.example.com/platform/cetus:0.1.0");
}

#[test]
fn the_manifests_image_is_this_versions() {
    let objects = objects(MANIFESTS, &options(DEFAULT_NAMESPACE)).unwrap();
    let container =
        &object(&objects, "Deployment", "cetus")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], format!("cetus:{}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_input_is_refused_naming_it() {
    let error = |manifests: &[Manifest<'_>], options: &InstallOptions| {
        crate::error_chain(&objects(manifests, options).unwrap_err())
    };
    let config =
        |text: &str| InstallOptions { config: Some(text.into()), ..InstallOptions::default() };
    assert_eq!(
        error(MANIFESTS, &config("repo: [1, 2\n")),
        "the daemon's config is not valid YAML: 1:7: unclosed bracket '['"
    );
    assert_eq!(
        error(MANIFESTS, &config("- a\n")),
        "the daemon's config is not a mapping of settings (repo, profile, store, ...)"
    );
    let without_config_map: Vec<Manifest<'_>> =
        MANIFESTS.iter().copied().filter(|m| m.file != "configmap.yaml").collect();
    assert_eq!(
        error(&without_config_map, &config("profile: prod\n")),
        "ConfigMap cetus-system/cetus-config: not among the install manifests, so the config has nowhere to go"
    );
    let image = InstallOptions { image: Some("x".into()), ..InstallOptions::default() };
    assert_eq!(
        error(&MANIFESTS[..2], &image),
        "apps/Deployment cetus-system/cetus: not among the install manifests, so the image has nowhere to go"
    );
    let twice = [MANIFESTS[1], Manifest { file: "again.yaml", text: MANIFESTS[1].text }];
    assert_eq!(
        error(&twice, &InstallOptions::default()),
        "ServiceAccount cetus-system/cetus: defined twice, in manifests/base/serviceaccount.yaml and manifests/base/again.yaml"
    );
    let not_object = [Manifest { file: "x.yaml", text: "kind: ConfigMap\n---\nmetadata: {}\n" }];
    assert_eq!(
        error(&not_object, &InstallOptions::default()),
        "manifests/base/x.yaml: document 1 is not a Kubernetes object (it needs apiVersion, kind and metadata.name)"
    );
    let not_yaml = [Manifest { file: "x.yaml", text: "a: [\n" }];
    assert!(
        error(&not_yaml, &InstallOptions::default())
            .starts_with("manifests/base/x.yaml: not valid YAML: ")
    );
}

#[test]
fn the_deployment_mounts_every_secret_where_the_config_reads_it() {
    let objects = objects(MANIFESTS, &options(DEFAULT_NAMESPACE)).unwrap();
    let spec = &object(&objects, "Deployment", "cetus")["spec"]["template"]["spec"];
    let mounts = spec["containers"][0]["volumeMounts"].as_array().unwrap();
    for secret in SECRETS {
        let volume = spec["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["secret"]["secretName"] == secret.secret);
        let volume = volume.unwrap_or_else(|| panic!("{} is not mounted", secret.secret));
        let mount = mounts.iter().find(|m| m["name"] == volume["name"]).unwrap();
        assert_eq!(mount["mountPath"], secret.dir);
    }
    let config = config_text(MANIFESTS, &InstallOptions::default()).unwrap();
    assert_eq!(needed_secrets(&config), SECRETS);
    assert_eq!(needed_secrets("webhook: { secretFile: /secrets/webhook/secret }\n"), [SECRETS[1]]);
}

/// The ConfigMap's cetusd.yaml is a config the daemon accepts, secrets and all, once its
/// files exist (here under a temporary directory instead of `/`).
#[test]
fn the_config_maps_config_loads_as_the_daemons() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    for (file, text) in
        [("secrets/git/token", "t"), ("secrets/webhook/secret", "w"), ("secrets/api/token", "a")]
    {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let config = config_text(MANIFESTS, &InstallOptions::default()).unwrap();
    let moved = config
        .replace(" /secrets/", &format!(" {root}/secrets/"))
        .replace("/var/lib/cetus", &format!("{root}/store"));
    std::fs::write(dir.path().join("cetusd.yaml"), moved).unwrap();
    let args = crate::daemon::config::ServeArgs {
        config: Some(dir.path().join("cetusd.yaml")),
        ..Default::default()
    };
    let loaded = crate::daemon::config::load_with_env(&args, &|_| None).unwrap();
    assert_eq!(loaded.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(loaded.repo.url, "https://git.example.com/platform/config.git");
    let token_file = std::path::PathBuf::from(format!("{root}/secrets/git/token"));
    assert_eq!(loaded.repo.auth, crate::source::git::Auth::Token { token_file });
    assert!(loaded.webhook_secret.is_some() && loaded.api_token.is_some());
}
