//! The resources the server serves: the built-in kinds and the kinds of established CRDs,
//! each with its names, scope, verbs and subresources.
//!
//! Owns [`ResourceInfo`] and [`Registry`] (lookup by group/version/plural, by kind, and by
//! group for discovery). It does not hold objects (see [`crate::store`]) and does not decide
//! when a CRD becomes established (see [`crate::controllers`]).

mod builtin;
mod crd;

pub use crd::resources_of_crd;

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The verbs of a collection and its items.
pub const STANDARD_VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// Where a `/scale` subresource reads and writes replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas: String,
    /// JSON path of the label selector in string form, if any.
    pub label_selector: Option<String>,
}

/// How objects of a resource convert between the served version and the one stored (see
/// [`crate::versions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Stored as served, up to `apiVersion` (built-in kinds; CRDs, strategy `None`).
    None,
    /// events.k8s.io/v1 Events, stored as core/v1 Events (`note` is `message`, ...).
    EventsV1,
    /// autoscaling/v1 HorizontalPodAutoscalers, stored as autoscaling/v2 (the CPU target
    /// is a Resource metric).
    HpaV1,
}

/// An additional printer column of a CRD (`kubectl get` columns).
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    /// Simple JSON path, e.g. `.spec.replicas`.
    pub json_path: String,
    /// Shown only with `-o wide` when > 0.
    pub priority: i64,
    /// Column description.
    pub description: String,
}

/// What the server knows about one resource at one group/version.
#[derive(Debug, Clone)]
pub struct ResourceInfo {
    /// API group; "" for core.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
    /// Singular resource name, e.g. `deployment`.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Whether the collection supports `deletecollection` (namespaces do not).
    pub delete_collection: bool,
    /// Whether a `/status` subresource exists; if so, main-resource writes keep status.
    pub status_subresource: bool,
    /// The `/scale` subresource, if any.
    pub scale: Option<ScalePaths>,
    /// Whether `metadata.generation` is maintained.
    pub tracks_generation: bool,
    /// Whether this is a custom resource (served from a CRD).
    pub custom: bool,
    /// The CRD's `openAPIV3Schema` for this version, for custom resources.
    pub crd_schema: Option<Value>,
    /// The CRD's printer columns for this version.
    pub printer_columns: Vec<PrinterColumn>,
    /// The compiled schema, for unknown-field and type checks.
    pub schema: Option<crate::schema::SchemaRef>,
    /// How objects of this kind merge (server-side apply, strategic merge patch).
    pub merge: crate::merge::Schema,
    /// The group whose storage holds the objects (events.k8s.io's Events live in core's).
    pub storage_group: String,
    /// How objects convert to and from their stored form.
    pub conversion: Conversion,
}

impl ResourceInfo {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The verbs of the main resource, sorted as apiserver lists them.
    pub fn verbs(&self) -> Vec<&'static str> {
        STANDARD_VERBS
            .iter()
            .copied()
            .filter(|v| *v != "deletecollection" || self.delete_collection)
            .collect()
    }

    /// The names of the subresources served.
    pub fn subresources(&self) -> Vec<&'static str> {
        let mut subs = Vec::new();
        if self.kind == "Namespace" {
            subs.push("finalize");
        }
        if self.kind == "Pod" && !self.custom {
            subs.push("log");
        }
        if self.scale.is_some() {
            subs.push("scale");
        }
        if self.status_subresource {
            subs.push("status");
        }
        subs
    }

    /// The storage identity: objects are shared by all versions of a group/resource (and
    /// events.k8s.io's Events by core's).
    pub fn storage(&self) -> (&str, &str) {
        (&self.storage_group, &self.plural)
    }
}

/// The served resources, looked up by path or kind.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    by_path: BTreeMap<(String, String, String), Arc<ResourceInfo>>,
    /// CRD name → the group/version/plural keys it contributed, to withdraw them on delete.
    crds: BTreeMap<String, Vec<(String, String, String)>>,
    /// Bumped on every change, so that derived documents (openapi) know to rebuild.
    generation: u64,
}

impl Registry {
    /// The built-in kinds of core/v1, apps/v1, batch/v1, networking.k8s.io/v1,
    /// rbac.authorization.k8s.io/v1, coordination.k8s.io/v1 and apiextensions.k8s.io/v1.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        for info in builtin::resources() {
            r.insert(info);
        }
        r
    }

    fn insert(&mut self, info: ResourceInfo) {
        let key = (info.group.clone(), info.version.clone(), info.plural.clone());
        self.by_path.insert(key, Arc::new(info));
    }

    /// The resource served at `/apis/{group}/{version}/.../{plural}`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.by_path.get(&(group.to_string(), version.to_string(), plural.to_string())).cloned()
    }

    /// The resource of a kind at a group/version.
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<ResourceInfo>> {
        self.by_path
            .values()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    /// Any served version of a group/resource (for controllers that act on storage).
    pub fn any_version(&self, group: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.by_path.values().find(|r| r.group == group && r.plural == plural).cloned()
    }

    /// All served resources.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ResourceInfo>> {
        self.by_path.values()
    }

    /// The served groups in discovery order: core first, built-in groups, then CRD groups
    /// alphabetically. Each group lists its versions, preferred first.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for info in self.by_path.values() {
            match groups.iter_mut().find(|(g, _)| *g == info.group) {
                Some((_, versions)) => {
                    if !versions.contains(&info.version) {
                        versions.push(info.version.clone());
                    }
                }
                None => groups.push((info.group.clone(), vec![info.version.clone()])),
            }
        }
        let rank =
            |g: &str| builtin::GROUP_ORDER.iter().position(|b| *b == g).unwrap_or(usize::MAX);
        groups.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
        for (_, versions) in &mut groups {
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        groups
    }

    /// The resources of one group/version.
    pub fn resources_of(&self, group: &str, version: &str) -> Vec<Arc<ResourceInfo>> {
        self.by_path
            .values()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }

    /// A number that changes whenever the served resources change.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Serves (or re-serves, after a change) the kinds of an established CRD.
    pub fn set_crd(&mut self, crd_name: &str, infos: Vec<ResourceInfo>) {
        let unchanged = self.crds.get(crd_name).is_some_and(|keys| {
            keys.len() == infos.len()
                && infos.iter().all(|i| {
                    self.get(&i.group, &i.version, &i.plural)
                        .is_some_and(|cur| same_served(&cur, i))
                })
        });
        if unchanged {
            return;
        }
        self.remove_crd(crd_name);
        self.generation += 1;
        let keys =
            infos.iter().map(|i| (i.group.clone(), i.version.clone(), i.plural.clone())).collect();
        for info in infos {
            self.insert(info);
        }
        self.crds.insert(crd_name.to_string(), keys);
    }

    /// Stops serving the kinds of a CRD.
    pub fn remove_crd(&mut self, crd_name: &str) {
        if let Some(keys) = self.crds.remove(crd_name) {
            self.generation += 1;
            for key in keys {
                self.by_path.remove(&key);
            }
        }
    }
}

/// Whether two resource descriptions serve the same thing (a CRD status write re-runs
/// establishment; unchanged kinds must not invalidate derived documents).
fn same_served(a: &ResourceInfo, b: &ResourceInfo) -> bool {
    a.kind == b.kind
        && a.singular == b.singular
        && a.namespaced == b.namespaced
        && a.short_names == b.short_names
        && a.categories == b.categories
        && a.status_subresource == b.status_subresource
        && a.scale == b.scale
        && a.crd_schema == b.crd_schema
        && a.printer_columns == b.printer_columns
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first (`v2` > `v1` >
/// `v1beta2` > `v1beta1` > `v1alpha1`), anything else last.
pub fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u32>() else { return (0, 0, 0) };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n)
    } else {
        return (0, 0, 0);
    };
    match num.parse::<u32>() {
        Ok(n) => (level, major, n),
        Err(_) => (0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kinds_are_served() {
        let r = Registry::builtin();
        let d = r.get("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert_eq!(d.short_names, vec!["deploy"]);
        assert_eq!(d.subresources(), vec!["scale", "status"]);
        assert!(!r.get("", "v1", "namespaces").unwrap().verbs().contains(&"deletecollection"));
        assert_eq!(r.groups()[0].0, "");
        assert_eq!(r.by_kind("batch", "v1", "Job").unwrap().plural, "jobs");
    }

    /// Every served built-in kind merges by its own schema, and that schema treats `status`
    /// as a subresource exactly when the registry serves `/status` (otherwise applies to
    /// the main resource would keep or drop status unlike kube-apiserver).
    #[test]
    fn every_builtin_kind_has_a_merge_schema_with_the_registry_status_flag() {
        for info in Registry::builtin().all() {
            let schema = crate::merge::Schema::builtin(&info.api_version(), &info.kind)
                .unwrap_or_else(|| {
                    panic!("{} {} has no merge schema", info.api_version(), info.kind)
                });
            assert_eq!(
                schema.has_status_subresource(),
                info.status_subresource,
                "{} {}",
                info.api_version(),
                info.kind
            );
            assert!(info.merge.is_builtin(), "{} is served with the generic schema", info.kind);
        }
    }

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut v = vec!["v1beta1", "v1", "v1alpha1", "v2", "v1beta2", "foo"];
        v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
        assert_eq!(v, vec!["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }
}
