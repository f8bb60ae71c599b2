//! Deleting one object, as every deletion (the verbs', the garbage collector's, a
//! terminating namespace's) does it: removed at once, or marked with a
//! `deletionTimestamp` while finalizers (those of the propagation policy, a CRD's cleanup,
//! a Namespace's own) hold it. What happens to dependents is the controllers'.

use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::store::{ObjKey, Store};
use serde_json::{Value, json};
use std::sync::Arc;

/// The finalizer that makes the garbage collector orphan dependents first.
pub const ORPHAN: &str = "orphan";
/// The finalizer that makes the garbage collector delete dependents first.
pub const FOREGROUND: &str = "foregroundDeletion";

/// The finalizer that holds a deleted CRD until its instances are gone.
pub const CRD_CLEANUP: &str = "customresourcecleanup.apiextensions.k8s.io";

/// How dependents are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now; the garbage collector deletes dependents after.
    Background,
    /// Delete dependents first, then the owner.
    Foreground,
    /// Remove the owner reference from dependents, then delete the owner.
    Orphan,
}

/// What a deletion did.
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Arc<Value>),
    /// The object is being deleted, waiting for finalizers; its current state.
    Pending(Arc<Value>),
}

/// Deletes (or starts deleting) one object. Used by the verbs and the controllers.
pub fn delete_object(
    store: &mut Store,
    info: &ResourceInfo,
    key: &ObjKey,
    propagation: Propagation,
    dry_run: bool,
) -> Result<Deleted, ApiError> {
    let obj = super::existing(store, info, key)?;
    let is_namespace = !info.custom && info.group.is_empty() && info.kind == "Namespace";
    if meta::is_deleting(&obj) {
        return Ok(Deleted::Pending(obj));
    }
    let mut finalizers = meta::finalizers(&obj);
    let extra = match propagation {
        Propagation::Orphan => Some(ORPHAN),
        Propagation::Foreground => Some(FOREGROUND),
        Propagation::Background => None,
    };
    let is_crd = !info.custom && info.kind == "CustomResourceDefinition";
    // A CRD is held until its instances are deleted.
    let extra = extra.into_iter().chain(is_crd.then_some(CRD_CLEANUP));
    for f in extra {
        if !finalizers.iter().any(|x| x == f) {
            finalizers.push(f.to_string());
        }
    }
    if finalizers.is_empty() && !is_namespace {
        if dry_run {
            return Ok(Deleted::Gone(obj));
        }
        let gone = store.remove(key).map_err(ApiError::internal)?;
        return Ok(Deleted::Gone(gone.unwrap_or(obj)));
    }
    let mut marked = (*obj).clone();
    meta::set_finalizers(&mut marked, &finalizers);
    let m = meta::metadata_mut(&mut marked);
    m.insert("deletionTimestamp".into(), meta::now().into());
    m.insert("deletionGracePeriodSeconds".into(), 0.into());
    if info.tracks_generation {
        let generation = m.get("generation").and_then(Value::as_i64).unwrap_or(0);
        m.insert("generation".into(), (generation + 1).into());
    }
    if is_namespace {
        marked["status"] = json!({"phase": "Terminating"});
    }
    if dry_run {
        return Ok(Deleted::Pending(Arc::new(marked)));
    }
    let stored = store.put(key.clone(), marked).map_err(ApiError::internal)?;
    Ok(Deleted::Pending(stored))
}
