//! The install manifests (`manifests/base/`, embedded in the binary) and what `cetus install`
//! makes of them: parsed, moved to the install's namespace, given the user's config and image,
//! and stamped as the app `cetus`.
//!
//! The files are the ones kustomize reads for `kubectl apply -k manifests/`, taken as they
//! are: the base uses no transformers, so nothing kustomize would do is missing here. The
//! rewrites are the few the install's flags need, each made where kustomize's own transformer
//! would make it (the namespace of namespaced objects, the Namespace's name, the namespace of
//! ServiceAccount subjects of bindings). Two annotations are added: a hash of each manifest,
//! so a later install can tell an object it left unchanged without a request (see
//! [`super::install`]), and a hash of the daemon's config on the pod template, so that a new
//! config restarts the daemon (it reads its config at start). Everything here is pure.

use super::InstallOptions;
use crate::render::{Object, ObjectKey, Source};
use serde_json::Value;

/// One file of the install manifests: its name in `manifests/base/` and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// The file name (`deployment.yaml`).
    pub file: &'a str,
    /// Its YAML documents.
    pub text: &'a str,
}

macro_rules! embedded {
    ($($file:literal),* $(,)?) => {
        &[$(Manifest {
            file: $file,
            text: include_str!(concat!("../../manifests/base/", $file)),
        }),*]
    };
}

/// The install manifests: `manifests/base/kustomization.yaml`'s `resources`, in its order.
pub const MANIFESTS: &[Manifest<'static>] = embedded![
    "namespace.yaml",
    "serviceaccount.yaml",
    "rbac-manage.yaml",
    "rbac-leader-election.yaml",
    "rbac-events.yaml",
    "configmap.yaml",
    "pvc.yaml",
    "service.yaml",
    "deployment.yaml",
];

/// The namespace the manifests name, and the default of `cetus install --namespace`.
pub const DEFAULT_NAMESPACE: &str = "cetus-system";

/// The ConfigMap holding the daemon's config, and its key.
pub const CONFIG_MAP: (&str, &str) = ("cetus-config", "cetusd.yaml");

/// The Deployment running the daemon, and its container.
pub const DEPLOYMENT: (&str, &str) = ("cetus", "cetus");

/// Annotation on every installed object: a hash of its manifest as `cetus install` applied it.
pub const MANIFEST_HASH: &str = "cetus.dev/manifest-hash";

/// Annotation on the daemon's pod template: a hash of its config, so a new one rolls the pod.
pub const CONFIG_HASH: &str = "cetus.dev/config-hash";

/// A Secret the Deployment mounts, where, and how to make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMount {
    /// The Secret's name.
    pub secret: &'static str,
    /// The directory it is mounted at (a config that reads it names a file below).
    pub dir: &'static str,
    /// The `kubectl create secret` arguments after the name, for messages.
    pub create: &'static str,
}

/// The Secrets the Deployment mounts (optionally: a config may not need them all).
pub const SECRETS: [SecretMount; 3] = [
    SecretMount {
        secret: "cetus-git",
        dir: "/secrets/git",
        create: "--from-file=token=./git-token (or --from-file=ssh-privatekey=./id_ed25519 --from-file=known_hosts=./known_hosts)",
    },
    SecretMount {
        secret: "cetus-webhook",
        dir: "/secrets/webhook",
        create: "--from-file=secret=./webhook-secret",
    },
    SecretMount {
        secret: "cetus-api",
        dir: "/secrets/api",
        create: "--from-file=token=./api-token",
    },
];

/// Why the install manifests (or a flag's value) could not be made into objects.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A file is not YAML.
    #[error("manifests/base/{file}: not valid YAML")]
    Yaml {
        /// The file.
        file: String,
        /// The parser's complaint.
        #[source]
        source: crate::yaml::YamlError,
    },
    /// A document is not a Kubernetes object.
    #[error(
        "manifests/base/{file}: document {index} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)"
    )]
    NotAnObject {
        /// The file.
        file: String,
        /// The document's index in the file, from 1.
        index: usize,
    },
    /// Two documents define one object.
    #[error("{key}: defined twice, in manifests/base/{first} and manifests/base/{second}")]
    Duplicate {
        /// The object.
        key: Box<ObjectKey>,
        /// Where it was first.
        first: String,
        /// Where it was again.
        second: String,
    },
    /// The config given is not YAML.
    #[error("the daemon's config is not valid YAML")]
    Config(#[source] crate::yaml::YamlError),
    /// The config given is YAML but not a mapping of settings.
    #[error("the daemon's config is not a mapping of settings (repo, profile, store, ...)")]
    ConfigNotAMap,
    /// A flag has nowhere to go: the manifests lack the object it changes.
    #[error("{key}: not among the install manifests, so {what} has nowhere to go")]
    Missing {
        /// The object looked for.
        key: Box<ObjectKey>,
        /// What was to be put there.
        what: &'static str,
    },
}

/// The objects of `manifests` as `cetus install` applies them, in apply order.
pub fn objects(
    manifests: &[Manifest<'_>],
    options: &InstallOptions,
) -> Result<Vec<Object>, ManifestError> {
    let mut values: Vec<(Value, Source)> = Vec::new();
    for manifest in manifests {
        for (value, source) in parse(manifest)? {
            let key = ObjectKey::of(&value);
            if let Some((_, first)) = values.iter().find(|(v, _)| ObjectKey::of(v) == key) {
                return Err(ManifestError::Duplicate {
                    key: Box::new(key),
                    first: first.file.clone(),
                    second: source.file,
                });
            }
            values.push((value, source));
        }
    }
    for (value, _) in &mut values {
        move_to(value, &options.namespace);
    }
    if let Some(config) = &options.config {
        set_config(&mut values, &options.namespace, config)?;
    }
    if let Some(image) = &options.image {
        let container = container_of(&mut values, &options.namespace, "the image")?;
        container["image"] = image.as_str().into();
    }
    stamp_config_hash(&mut values, &options.namespace);
    let mut objects: Vec<Object> = values
        .into_iter()
        .map(|(value, source)| {
            let mut object = crate::render::stamped(value, super::APP_NAME, source);
            let hash = crate::engine::decide::manifest_hash(&object.value);
            set_annotation(&mut object.value, MANIFEST_HASH, &hash[..16]);
            object
        })
        .collect();
    objects.sort_by(|a, b| (a.stage, a.wave, &a.key).cmp(&(b.stage, b.wave, &b.key)));
    Ok(objects)
}

/// The documents of one file, each checked to be an object.
fn parse(manifest: &Manifest<'_>) -> Result<Vec<(Value, Source)>, ManifestError> {
    let file = manifest.file.to_string();
    let documents = crate::yaml::parse_stream(manifest.text)
        .map_err(|source| ManifestError::Yaml { file: file.clone(), source })?;
    let mut out = Vec::with_capacity(documents.len());
    for (i, document) in documents.into_iter().enumerate() {
        let position = document.value_span("").map(|s| s.start);
        let value = document.value;
        let text = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or_default();
        if text("/apiVersion").is_empty()
            || text("/kind").is_empty()
            || text("/metadata/name").is_empty()
        {
            return Err(ManifestError::NotAnObject { file, index: i + 1 });
        }
        let what = format!("{} {}", text("/kind"), text("/metadata/name"));
        out.push((value, Source { file: file.clone(), position, what }));
    }
    Ok(out)
}

/// Moves an object from [`DEFAULT_NAMESPACE`] to `namespace`, as kustomize's `namespace:`
/// does: its own namespace, a Namespace's name, and bindings' ServiceAccount subjects.
fn move_to(value: &mut Value, namespace: &str) {
    let is_default = |v: &Value| v.as_str() == Some(DEFAULT_NAMESPACE);
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let metadata = &mut value["metadata"];
    if is_default(&metadata["namespace"]) {
        metadata["namespace"] = namespace.into();
    }
    if kind == "Namespace" && is_default(&metadata["name"]) {
        metadata["name"] = namespace.into();
    }
    if let Some(subjects) = value.get_mut("subjects").and_then(Value::as_array_mut) {
        for subject in subjects.iter_mut().filter(|s| s["kind"] == "ServiceAccount") {
            if is_default(&subject["namespace"]) {
                subject["namespace"] = namespace.into();
            }
        }
    }
}

/// Puts `config` (a cetusd.yaml) into the config ConfigMap, once it reads as a mapping.
fn set_config(
    values: &mut [(Value, Source)],
    namespace: &str,
    config: &str,
) -> Result<(), ManifestError> {
    let parsed = crate::yaml::parse_document(config).map_err(ManifestError::Config)?;
    if !parsed.value.is_object() {
        return Err(ManifestError::ConfigNotAMap);
    }
    let key = key("", "ConfigMap", namespace, CONFIG_MAP.0);
    let Some((config_map, _)) = values.iter_mut().find(|(v, _)| ObjectKey::of(v) == key) else {
        return Err(ManifestError::Missing { key: Box::new(key), what: "the config" });
    };
    config_map["data"][CONFIG_MAP.1] = config.into();
    Ok(())
}

/// The daemon's container in the Deployment, for a flag that changes it.
fn container_of<'v>(
    values: &'v mut [(Value, Source)],
    namespace: &str,
    what: &'static str,
) -> Result<&'v mut Value, ManifestError> {
    let key = key("apps", "Deployment", namespace, DEPLOYMENT.0);
    let deployment = values.iter_mut().find(|(v, _)| ObjectKey::of(v) == key);
    let containers = deployment
        .and_then(|(v, _)| v.pointer_mut("/spec/template/spec/containers"))
        .and_then(Value::as_array_mut);
    let container = containers.and_then(|c| c.iter_mut().find(|c| c["name"] == DEPLOYMENT.1));
    container.ok_or(ManifestError::Missing { key: Box::new(key), what })
}

/// Annotates the daemon's pod template with a hash of its config, when both are installed.
fn stamp_config_hash(values: &mut [(Value, Source)], namespace: &str) {
    let config_key = key("", "ConfigMap", namespace, CONFIG_MAP.0);
    let Some(data) = values
        .iter()
        .find(|(v, _)| ObjectKey::of(v) == config_key)
        .map(|(v, _)| crate::engine::decide::manifest_hash(v.get("data").unwrap_or(&Value::Null)))
    else {
        return;
    };
    let deployment_key = key("apps", "Deployment", namespace, DEPLOYMENT.0);
    if let Some((deployment, _)) =
        values.iter_mut().find(|(v, _)| ObjectKey::of(v) == deployment_key)
        && let Some(template) = deployment.pointer_mut("/spec/template")
    {
        set_annotation(template, CONFIG_HASH, &data[..16]);
    }
}

fn set_annotation(object: &mut Value, name: &str, value: &str) {
    let metadata = &mut object["metadata"];
    if !metadata["annotations"].is_object() {
        metadata["annotations"] = Value::Object(serde_json::Map::new());
    }
    metadata["annotations"][name] = value.into();
}

fn key(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        group: group.into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

/// The Secrets a daemon config reads: those whose mount directory it names.
pub fn needed_secrets(config: &str) -> Vec<SecretMount> {
    SECRETS.iter().filter(|s| config.contains(&format!("{}/", s.dir))).copied().collect()
}

/// The daemon's config as installed: the one given, else the ConfigMap's in `manifests`.
pub fn config_text(manifests: &[Manifest<'_>], options: &InstallOptions) -> Option<String> {
    if let Some(config) = &options.config {
        return Some(config.clone());
    }
    let documents = manifests.iter().filter_map(|m| crate::yaml::parse_stream(m.text).ok());
    documents.flatten().find_map(|d| {
        let is_config =
            d.value["kind"] == "ConfigMap" && d.value["metadata"]["name"] == CONFIG_MAP.0;
        is_config.then(|| d.value["data"][CONFIG_MAP.1].as_str().map(String::from)).flatten()
    })
}

#[cfg(test)]
#[path = "manifests_tests.rs"]
mod tests;
