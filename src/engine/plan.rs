//! A render, resolved against what the API server serves: each object's resource and scope,
//! its manifest as it will be applied, and the apply groups (stage, then wave).
//!
//! The renderer decides namespaces from a fixed list of cluster-scoped kinds; here discovery
//! has the last word. A namespace on a cluster-scoped object is dropped, as kubectl does, and
//! a namespaced object the renderer left without one gets the app's; either way the tracking
//! annotation is rewritten to the object's real identity. A kind the server does not serve yet
//! is deferred when a CRD of the same render defines it (it is resolved again once the CRDs
//! are established), and is an error otherwise. Pure, given a [`Resources`].

use super::discovery::{Resolved, Resources};
use crate::render::{Object, ObjectKey, Stage, TRACKING};
use serde_json::Value;

/// One rendered object, ready to apply.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its identity in the cluster (after scope resolution).
    pub key: ObjectKey,
    /// `apiVersion`.
    pub api_version: String,
    /// The resource, once known (`None`: deferred until the CRDs stage is done).
    pub resolved: Option<Resolved>,
    /// The manifest to apply.
    pub manifest: Value,
    /// When it is applied.
    pub stage: Stage,
    /// Its wave within the stage.
    pub wave: i64,
}

/// A kind that is neither served nor defined by a CRD of the render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{key}: no matches for kind \"{kind}\" in version \"{api_version}\": ensure CRDs are installed first"
)]
pub struct UnknownKind {
    /// The object.
    pub key: ObjectKey,
    /// Its kind.
    pub kind: String,
    /// Its `apiVersion`.
    pub api_version: String,
}

/// Resolves every object of a render; fails, before anything is applied, on kinds nobody
/// serves or defines.
pub fn plan(
    objects: &[Object],
    app: &str,
    namespace: &str,
    resources: &Resources,
) -> Result<Vec<Planned>, Vec<UnknownKind>> {
    let defined = crd_kinds(objects);
    let mut planned = Vec::with_capacity(objects.len());
    let mut unknown = Vec::new();
    for object in objects {
        let api_version = text(&object.value, "/apiVersion").to_string();
        let resolved = resources.resolve(&api_version, &object.key.kind);
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        if resolved.is_none() && !defined.iter().any(|(g, k)| g == group && *k == object.key.kind) {
            unknown.push(UnknownKind {
                key: object.key.clone(),
                kind: object.key.kind.clone(),
                api_version: api_version.clone(),
            });
            continue;
        }
        let mut item = Planned {
            key: object.key.clone(),
            api_version,
            resolved: None,
            manifest: object.value.clone(),
            stage: object.stage,
            wave: object.wave,
        };
        if let Some(resolved) = resolved {
            item.resolve(resolved, app, namespace);
        }
        planned.push(item);
    }
    if unknown.is_empty() { Ok(planned) } else { Err(unknown) }
}

impl Planned {
    /// Sets the resource and fixes the namespace (and tracking annotation) to its scope.
    pub fn resolve(&mut self, resolved: Resolved, app: &str, namespace: &str) {
        let metadata = self.manifest.get_mut("metadata").and_then(Value::as_object_mut);
        if let Some(metadata) = metadata {
            let before = self.key.namespace.clone();
            if resolved.namespaced && before.is_empty() {
                metadata.insert("namespace".into(), namespace.into());
                self.key.namespace = namespace.to_string();
            } else if !resolved.namespaced && !before.is_empty() {
                metadata.remove("namespace");
                self.key.namespace.clear();
            }
            if self.key.namespace != before {
                let tracking = self.key.tracking(app);
                if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
                    annotations.insert(TRACKING.into(), tracking.into());
                }
            }
        }
        self.resolved = Some(resolved);
    }
}

/// The (group, kind) of every CRD in a render.
fn crd_kinds(objects: &[Object]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter(|o| o.key.kind == "CustomResourceDefinition")
        .map(|o| {
            (
                text(&o.value, "/spec/group").to_string(),
                text(&o.value, "/spec/names/kind").to_string(),
            )
        })
        .collect()
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The apply groups, in order: consecutive objects of one stage and wave (the render is
/// sorted by both).
pub fn groups(planned: &[Planned]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=planned.len() {
        let boundary = i == planned.len()
            || (planned[i].stage, planned[i].wave) != (planned[start].stage, planned[start].wave);
        if boundary {
            groups.push(start..i);
            start = i;
        }
    }
    groups
}
