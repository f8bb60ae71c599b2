//! Prune: deleting what the last successful sync put in the cluster and the render no longer
//! has — and only that — plus rebuilding an inventory from the cluster when the store lost it.
//!
//! An object is deleted only when all of these hold, checked against the object read from the
//! server just before the delete (never a cached copy): its `cetus.dev/tracking` annotation
//! names this app and this very object (a copied manifest, or another app's object with the
//! same name, is never touched); it is not annotated `cetus.dev/prune: disabled`; it is the
//! object the inventory recorded (same uid, so a namesake created since survives); and, for a
//! Namespace, Cetus created it. The delete carries the checked version's uid and
//! resourceVersion as preconditions, so a change in between fails it rather than deleting
//! what was not checked. Deletes go in reverse stage order (the rest, workloads, Services,
//! configuration, then Namespaces and CRDs), concurrently within a stage, in the background
//! as kubectl does.

use super::change::Action;
use super::inventory::{Inventory, InventoryEntry};
use super::requests::RequestError;
use super::{Engine, Resolved, Write};
use crate::render::{APP, Stage, TRACKING};
use serde_json::Value;

/// The annotation that keeps an object from ever being pruned.
pub const PRUNE: &str = "cetus.dev/prune";

/// One candidate's action, and the delete it made.
type Pruned = (Action, Option<Write>);

/// What every delete of one prune shares.
pub struct Context<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The app pruning.
    pub app: &'a str,
    /// Say what would be deleted, delete nothing.
    pub dry_run: bool,
}

impl Context<'_> {
    /// Prunes `candidates` (inventory entries the render no longer has), in reverse stage
    /// order; returns each candidate's action (leaving out objects already gone) and the
    /// deletes made.
    pub async fn prune_all<'e>(
        &self,
        candidates: &[&'e InventoryEntry],
    ) -> (Vec<(&'e InventoryEntry, Action)>, Vec<Write>) {
        let mut stages: Vec<Stage> = candidates.iter().map(|e| stage(e)).collect();
        stages.sort();
        stages.dedup();
        let mut done = Vec::new();
        let mut writes = Vec::new();
        for current in stages.into_iter().rev() {
            let group: Vec<&InventoryEntry> =
                candidates.iter().copied().filter(|e| stage(e) == current).collect();
            let prunes: Vec<_> = group.iter().map(|entry| self.prune(entry)).collect();
            let outcomes = super::bounded(prunes, self.engine.concurrency()).await;
            for (i, outcome) in outcomes.into_iter().enumerate() {
                if let Some((action, write)) = outcome {
                    done.push((group[i], action));
                    writes.extend(write);
                }
            }
        }
        (done, writes)
    }

    /// Prunes one object; `None` if it is already gone.
    async fn prune(&self, entry: &InventoryEntry) -> Option<Pruned> {
        let skipped = |reason: String| Some((Action::Skipped { reason }, None));
        let failed = |error: String| Some((Action::Failed { error }, None));
        let Some(resolved) = self.engine.resources().resolve(&entry.api_version(), &entry.kind)
        else {
            return skipped(format!("{} is no longer served", entry.api_version()));
        };
        // Read from the server, not the cache: the checks below must judge the object as it is
        // now (another app may have taken it over a moment ago), and the delete is made
        // conditional on this very version.
        let read = self.engine.requests().get(&resolved, &entry.namespace, &entry.name).await;
        let live = match read {
            Ok(Some(live)) => live,
            Ok(None) => return None,
            Err(e) => return failed(format!("read failed: {}", e.chain())),
        };
        if let Some(reason) = refusal(self.app, entry, &live) {
            return skipped(reason);
        }
        if self.dry_run {
            return Some((Action::Pruned, None));
        }
        let uid = live.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default();
        let before = live.pointer("/metadata/resourceVersion").and_then(Value::as_str);
        let deleted = self.engine.requests().delete(
            &resolved,
            &entry.namespace,
            &entry.name,
            uid,
            before.unwrap_or_default(),
        );
        match deleted.await {
            Ok(_) => {
                let write = Write {
                    resolved,
                    key: entry.key(),
                    before: before.map(String::from),
                    after: None,
                };
                Some((Action::Pruned, Some(write)))
            }
            Err(e) => failed(format!("delete failed: {}", e.chain())),
        }
    }
}

/// Why a live object must not be pruned, if it must not.
fn refusal(app: &str, entry: &InventoryEntry, live: &Value) -> Option<String> {
    let annotation = |name: &str| {
        live.pointer("/metadata/annotations").and_then(|a| a.get(name)).and_then(Value::as_str)
    };
    let ours = entry.key().tracking(app);
    match annotation(TRACKING) {
        None => return Some(format!("no {TRACKING} annotation: not Cetus's to delete")),
        Some(tracking) if tracking != ours => {
            return Some(format!("{TRACKING} is {tracking:?}, not {ours:?}"));
        }
        Some(_) => {}
    }
    if annotation(PRUNE) == Some("disabled") {
        return Some(format!("{PRUNE}: disabled"));
    }
    if entry.kind == "Namespace" && entry.group.is_empty() && !entry.created {
        return Some("Cetus did not create this namespace".into());
    }
    let live_uid = live.pointer("/metadata/uid").and_then(Value::as_str);
    if let (Some(recorded), Some(live_uid)) = (&entry.uid, live_uid)
        && recorded != live_uid
    {
        return Some(format!(
            "recreated since the last sync (uid {live_uid}, recorded {recorded})"
        ));
    }
    None
}

/// An inventory entry's apply stage, for the delete order (Jobs count as workloads: the
/// inventory does not keep their phase).
fn stage(entry: &InventoryEntry) -> Stage {
    Stage::of(&entry.kind, None)
}

/// Rebuilds an app's inventory from the cluster: every listable kind searched for the app's
/// label — in the watch cache where the kind is watched and in sync (the daemon watches every
/// kind but the derived ones, so it asks nothing), else by a list — keeping the objects whose
/// tracking annotation names the app and themselves. Kinds that cannot be listed (forbidden, gone) are skipped
/// with a warning: at worst an object is kept, never one deleted that is not the app's.
pub async fn rebuild(engine: &Engine, app: &str) -> Result<Inventory, RequestError> {
    let selector = format!("{APP}={app}");
    // Derived kinds (Pods of Deployments and the like) hold no object of the app's unless one
    // of its renders had the kind, which the engine then watches: the others are not listed,
    // or a first sync of every app on a new store would list every Pod of the cluster. At
    // worst a bare Pod of a render the lost store knew is kept, never one deleted.
    let kinds: Vec<Resolved> = engine
        .resources()
        .listable()
        .into_iter()
        .filter(|kind| !super::is_derived(kind) || engine.cache().is_watched(kind))
        .collect();
    let lists: Vec<_> = kinds
        .iter()
        .map(|kind| async {
            let listed = match engine.cache().is_synced(kind) {
                true => Ok(engine
                    .cache()
                    .objects_of(kind, app)
                    .into_iter()
                    .map(|o| super::requests::to_value((*o).clone()))
                    .collect()),
                false => engine.requests().list(kind, &selector).await,
            };
            (kind.clone(), listed)
        })
        .collect();
    let lists: Vec<(Resolved, Result<Vec<Value>, RequestError>)> =
        super::bounded(lists, engine.concurrency()).await;
    let mut entries = Vec::new();
    for (kind, listed) in lists {
        let objects = match listed {
            Ok(objects) => objects,
            Err(RequestError::Status { code: 403..=405, .. }) => {
                tracing::warn!(resource = %kind.name(), "cannot list; skipped in the inventory rebuild");
                continue;
            }
            Err(e) => return Err(e),
        };
        for object in objects {
            let entry = InventoryEntry {
                group: kind.resource.group.clone(),
                version: kind.resource.version.clone(),
                kind: kind.resource.kind.clone(),
                namespace: text(&object, "/metadata/namespace").to_string(),
                name: text(&object, "/metadata/name").to_string(),
                uid: object.pointer("/metadata/uid").and_then(Value::as_str).map(String::from),
                created: false,
            };
            let tracking = object
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(TRACKING))
                .and_then(Value::as_str);
            if tracking == Some(entry.key().tracking(app).as_str()) {
                entries.push(entry);
            }
        }
    }
    Ok(Inventory::new(entries))
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(kind: &str, created: bool, uid: &str) -> InventoryEntry {
        InventoryEntry {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: if kind == "Namespace" { String::new() } else { "shop".into() },
            name: "x".into(),
            uid: Some(uid.into()),
            created,
        }
    }

    fn live(tracking: Option<&str>, prune: Option<&str>, uid: &str) -> Value {
        let mut annotations = serde_json::Map::new();
        if let Some(t) = tracking {
            annotations.insert(TRACKING.into(), t.into());
        }
        if let Some(p) = prune {
            annotations.insert(PRUNE.into(), p.into());
        }
        json!({"metadata": {"name": "x", "uid": uid, "annotations": annotations}})
    }

    #[test]
    fn refusals() {
        let cm = entry("ConfigMap", false, "u1");
        let ours = "shop:/ConfigMap:shop/x";
        assert_eq!(refusal("shop", &cm, &live(Some(ours), None, "u1")), None);
        assert_eq!(
            refusal("shop", &cm, &live(Some("other:/ConfigMap:shop/x"), None, "u1")).unwrap(),
            "cetus.dev/tracking is \"other:/ConfigMap:shop/x\", not \"shop:/ConfigMap:shop/x\""
        );
        assert_eq!(
            refusal("shop", &cm, &live(None, None, "u1")).unwrap(),
            "no cetus.dev/tracking annotation: not Cetus's to delete"
        );
        assert_eq!(
            refusal("shop", &cm, &live(Some(ours), Some("disabled"), "u1")).unwrap(),
            "cetus.dev/prune: disabled"
        );
        assert_eq!(
            refusal("shop", &cm, &live(Some(ours), None, "u2")).unwrap(),
            "recreated since the last sync (uid u2, recorded u1)"
        );
        let ns_tracking = "shop:/Namespace:/x";
        assert_eq!(
            refusal("shop", &entry("Namespace", false, "n"), &live(Some(ns_tracking), None, "n"))
                .unwrap(),
            "Cetus did not create this namespace"
        );
        assert_eq!(
            refusal("shop", &entry("Namespace", true, "n"), &live(Some(ns_tracking), None, "n")),
            None
        );
    }

    #[test]
    fn deletes_go_in_reverse_stage_order() {
        let mut stages: Vec<Stage> = ["Namespace", "Deployment", "ConfigMap", "Ingress"]
            .iter()
            .map(|k| stage(&entry(k, false, "u")))
            .collect();
        stages.sort();
        stages.reverse();
        assert_eq!(stages, [Stage::Other, Stage::Workloads, Stage::Config, Stage::Cluster]);
    }
}
