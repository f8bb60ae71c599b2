//! Helpers shared by the store's tests: small inventories, manifests and whole syncs.

use super::{Finish, NewEntry, Outcome, Store, Trigger};
use crate::engine::{Inventory, InventoryEntry};
use serde_json::{Value, json};

/// A ConfigMap in namespace `ns`.
pub(super) fn object(name: &str, uid: Option<&str>) -> InventoryEntry {
    InventoryEntry {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: "ns".into(),
        name: name.into(),
        uid: uid.map(str::to_string),
        created: false,
    }
}

/// An inventory of ConfigMaps, by name and uid.
pub(super) fn inventory(objects: &[(&str, Option<&str>)]) -> Inventory {
    Inventory::new(objects.iter().map(|(name, uid)| object(name, *uid)).collect())
}

/// The names and uids of an inventory's objects.
pub(super) fn names(inventory: &Inventory) -> Vec<(String, Option<String>)> {
    inventory.entries.iter().map(|e| (e.name.clone(), e.uid.clone())).collect()
}

/// The manifests a render of `digest` would have.
pub(super) fn manifests(digest: &str) -> Vec<Value> {
    vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": digest}})]
}

/// A poll-triggered sync of `commit` rendering `digest`.
pub(super) fn new_entry(commit: &str, digest: Option<&str>) -> NewEntry {
    NewEntry {
        commit: Some(commit.into()),
        digest: digest.map(str::to_string),
        ..NewEntry::new(Trigger::Poll)
    }
}

/// Begins a sync of `commit`, with its manifests when it rendered.
pub(super) fn begin(store: &Store, app: &str, commit: &str, digest: Option<&str>) -> u64 {
    let rendered = digest.map(manifests);
    store
        .begin_sync(app, new_entry(commit, digest), rendered.as_deref(), &Inventory::default())
        .unwrap()
}

/// A whole sync that succeeds, leaving an inventory of one ConfigMap named after the digest
/// and making the entry current.
pub(super) fn succeed(store: &Store, app: &str, commit: &str, digest: Option<&str>) -> u64 {
    let id = begin(store, app, commit, digest);
    let left = inventory(&[(digest.unwrap_or("none"), Some("uid"))]);
    let finish =
        Finish { inventory: Some(left), current: Some(id), ..Finish::new(Outcome::Succeeded) };
    store.finish_sync(app, id, finish).unwrap();
    id
}

/// A whole sync that fails with the error `boom`, changing nothing else.
pub(super) fn fail(store: &Store, app: &str, commit: &str, digest: Option<&str>) -> u64 {
    let id = begin(store, app, commit, digest);
    let finish = Finish { error: Some("boom".into()), ..Finish::new(Outcome::Failed) };
    store.finish_sync(app, id, finish).unwrap();
    id
}
