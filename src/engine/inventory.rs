//! What an app has in the cluster: the inventory of a sync, and what the engine remembers of
//! each object it applied.
//!
//! Both are plain data. The engine computes them; `src/store` keeps them between syncs (and
//! between runs of the CLI), so that a prune knows what the last successful sync put there and
//! a warm engine can tell an unchanged object without asking the API server.

use crate::render::ObjectKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One object an app put in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// API group (`""` for core).
    pub group: String,
    /// API version within the group (`v1`).
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The uid the object had when it was applied; a prune deletes only that object, never a
    /// namesake created since. `None` when it is not known (a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Whether Cetus created the object. Only Namespaces use it: a Namespace Cetus did not
    /// create is never deleted. An inventory rebuilt from the cluster says `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

impl InventoryEntry {
    /// The entry of a manifest, with no uid and not created (yet).
    pub fn of(manifest: &serde_json::Value) -> InventoryEntry {
        let key = ObjectKey::of(manifest);
        let api_version = manifest.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default();
        InventoryEntry {
            version: api_version.rsplit('/').next().unwrap_or_default().to_string(),
            group: key.group,
            kind: key.kind,
            namespace: key.namespace,
            name: key.name,
            uid: None,
            created: false,
        }
    }

    /// The object's identity, as the renderer keys it.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// `group/version` (`v1` for core), as in `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Everything one app put in the cluster at its last successful sync, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The objects, sorted by identity.
    pub entries: Vec<InventoryEntry>,
}

impl Inventory {
    /// An inventory of `entries`, sorted, one entry per object (the first given wins).
    pub fn new(entries: Vec<InventoryEntry>) -> Inventory {
        let mut by_key = BTreeMap::new();
        for entry in entries {
            by_key.entry(entry.key()).or_insert(entry);
        }
        Inventory { entries: by_key.into_values().collect() }
    }

    /// Whether the inventory holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry of `self` and of `other`; `self`'s entry wins for an object in both.
    pub fn union(&self, other: &Inventory) -> Inventory {
        Inventory::new(self.entries.iter().chain(&other.entries).cloned().collect())
    }
}

/// What the engine remembers of one object it applied: enough to call it unchanged later
/// without a request, and without a copy of the API server's defaulting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The hash of the manifest as Cetus applied it.
    pub hash: String,
    /// The values the API server answered for the fields the manifest sets (after its
    /// defaulting and canonicalization: `cpu: 0.5` comes back `500m`). The object is unchanged
    /// while the live object still holds them.
    pub owned: serde_json::Value,
}

/// Per object of one app, what the engine last applied.
pub type AppliedMemory = BTreeMap<ObjectKey, Applied>;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, name: &str, uid: &str) -> InventoryEntry {
        InventoryEntry {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: "ns".into(),
            name: name.into(),
            uid: Some(uid.into()),
            created: false,
        }
    }

    #[test]
    fn union_keeps_one_entry_per_object_preferring_self() {
        let old = Inventory::new(vec![entry("ConfigMap", "a", "1"), entry("Secret", "b", "2")]);
        let new = Inventory::new(vec![entry("ConfigMap", "a", "9")]);
        let both = new.union(&old);
        assert_eq!(both.entries.len(), 2);
        assert_eq!(both.entries[0].uid.as_deref(), Some("9"));
    }
}
