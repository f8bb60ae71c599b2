//! ownerReference garbage collection: dependents of a deleted owner are deleted when no
//! owner remains (dangling references to a gone owner are removed otherwise); `orphan`
//! deletion strips the owner's references from its dependents first; `foregroundDeletion`
//! deletes the dependents first and the owner once they are gone.

use super::Controllers;
use crate::meta;
use crate::store::ObjKey;
use crate::write::{FOREGROUND, ORPHAN, Propagation, delete_object};
use serde_json::Value;

const MANAGER: &str = "kube-controller-manager";

/// Deletes one object in the background, as the collector does.
pub fn collect(c: &mut Controllers, key: &ObjKey) {
    delete(c, key, Propagation::Background);
}

/// Deletes one object as a controller does, with `propagation` for its dependents.
pub fn delete(c: &mut Controllers, key: &ObjKey, propagation: Propagation) {
    let Some(info) = c.state.resource(&key.group, &key.resource) else { return };
    let mut store = c.state.store();
    match delete_object(&mut store, &info, key, propagation, false) {
        Ok(_) => {}
        // Already gone: nothing to collect.
        Err(e) if e.code == 404 => {}
        Err(e) => tracing::warn!(object = %key.name, error = %e, "garbage collection failed"),
    }
}

fn without_owner(obj: &mut Value, owner_uid: &str) {
    if let Some(refs) = obj["metadata"]["ownerReferences"].as_array_mut() {
        refs.retain(|r| r["uid"].as_str() != Some(owner_uid));
        if refs.is_empty() {
            meta::metadata_mut(obj).remove("ownerReferences");
        }
    }
}

fn dependents_of(c: &Controllers, uid: &str) -> Vec<ObjKey> {
    c.dependents.get(uid).map(|s| s.iter().cloned().collect()).unwrap_or_default()
}

/// An owner is gone: collect its dependents, or drop the dangling reference from those
/// that still have another owner.
pub fn owner_gone(c: &mut Controllers, uid: &str) {
    for key in dependents_of(c, uid) {
        let Some(dep) = c.state.store().get(&key).cloned() else { continue };
        let alive = meta::owner_uids(&dep).iter().any(|u| c.uids.contains_key(u));
        if alive {
            c.update(&key, &dep, MANAGER, None, |o| without_owner(o, uid));
        } else {
            collect(c, &key);
        }
    }
}

fn drop_finalizer(c: &Controllers, key: &ObjKey, obj: &Value, finalizer: &str) {
    c.update(key, obj, MANAGER, None, |o| {
        let rest: Vec<String> =
            meta::finalizers(o).into_iter().filter(|f| f != finalizer).collect();
        meta::set_finalizers(o, &rest);
    });
}

/// `orphan`: strip the owner's references from every dependent, then let the owner go.
pub fn orphan(c: &mut Controllers, key: &ObjKey, obj: &Value) {
    let uid = meta::uid(obj).to_string();
    for dep_key in dependents_of(c, &uid) {
        // Bound first: the store guard must not live into `update`, which locks again.
        let dep = c.state.store().get(&dep_key).cloned();
        if let Some(dep) = dep {
            c.update(&dep_key, &dep, MANAGER, None, |o| without_owner(o, &uid));
        }
    }
    drop_finalizer(c, key, obj, ORPHAN);
}

/// `foregroundDeletion`: delete the dependents; once none is left, let the owner go.
pub fn foreground(c: &mut Controllers, key: &ObjKey, obj: &Value) {
    let uid = meta::uid(obj).to_string();
    let deps = dependents_of(c, &uid);
    if deps.is_empty() {
        drop_finalizer(c, key, obj, FOREGROUND);
        return;
    }
    for dep_key in deps {
        let Some(info) = c.state.resource(&dep_key.group, &dep_key.resource) else { continue };
        let mut store = c.state.store();
        if let Err(e) = delete_object(&mut store, &info, &dep_key, Propagation::Foreground, false)
            && e.code != 404
        {
            tracing::warn!(object = %dep_key.name, error = %e, "foreground deletion of a dependent failed");
        }
    }
}
