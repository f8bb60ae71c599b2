//! The commit of a write: no-op detection (a write that changes nothing stores nothing),
//! the removal of an object being deleted whose last finalizer went, dry run, and the end
//! every update of an existing object shares.

use super::options::WriteOptions;
use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::store::{ObjKey, Store};
use serde_json::Value;
use std::sync::Arc;

/// What a commit did.
#[derive(Debug)]
pub struct Committed {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Arc<Value>,
    /// Whether the object was created.
    pub created: bool,
}

fn without_rv(obj: &Value) -> Value {
    let mut o = obj.clone();
    meta::metadata_mut(&mut o).remove("resourceVersion");
    o
}

/// The end every write to an existing object shares (PUT and PATCH): keep what the server
/// allocated, validate, record managed fields, and commit.
pub fn commit_update(
    store: &mut Store,
    key: ObjKey,
    info: &ResourceInfo,
    old: &Arc<Value>,
    mut obj: Value,
    options: &WriteOptions,
    subresource: Option<&str>,
) -> Result<Committed, ApiError> {
    super::allocate::keep_allocated(info, old, &mut obj);
    super::checks::validate(info, &obj, Some(old))?;
    super::fields::on_update(info, old, &mut obj, options, subresource);
    commit(store, key, Some(old), obj, options.dry_run)
}

/// Stores `new` under `key`. A write that changes nothing is not committed (no new
/// resourceVersion, no event), as in apiserver. An object being deleted whose last
/// finalizer is removed goes away. A dry run commits nothing.
pub fn commit(
    store: &mut Store,
    key: ObjKey,
    old: Option<&Arc<Value>>,
    mut new: Value,
    dry_run: bool,
) -> Result<Committed, ApiError> {
    if let Some(old) = old {
        meta::metadata_mut(&mut new)
            .insert("resourceVersion".into(), meta::meta_str(old, "resourceVersion").into());
        if new == **old {
            return Ok(Committed { object: old.clone(), created: false });
        }
    }
    // A Namespace also waits for its `spec.finalizers` (the namespace controller's).
    let is_namespace = key.group.is_empty() && key.resource == "namespaces";
    let spec_finalizers = new["spec"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    let deleting = meta::is_deleting(&new)
        && meta::finalizers(&new).is_empty()
        && !(is_namespace && spec_finalizers);
    if dry_run {
        if old.is_none() {
            meta::metadata_mut(&mut new).remove("resourceVersion");
        }
        return Ok(Committed { object: Arc::new(new), created: old.is_none() });
    }
    if deleting {
        // Store the final state first so that watchers see it in the DELETED event.
        store.put(key.clone(), without_rv(&new)).map_err(ApiError::internal)?;
        let gone = store.remove(&key).map_err(ApiError::internal)?;
        return Ok(Committed { object: gone.unwrap_or_else(|| Arc::new(new)), created: false });
    }
    let object = store.put(key, new).map_err(ApiError::internal)?;
    Ok(Committed { object, created: old.is_none() })
}
