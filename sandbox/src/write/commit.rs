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

/// Whether two objects are the same but for the `time` of their managedFields entries.
/// kube-apiserver then keeps the stored timestamps and writes nothing
/// (`IgnoreManagedFieldsTimestampsTransformer`, since 1.27): an apply that changes only a
/// value's spelling (`cpu: 0.5` over a stored `500m`) is a no-op.
fn same_but_managed_times(a: &Value, b: &Value) -> bool {
    let (Value::Object(a), Value::Object(b)) = (a, b) else { return a == b };
    a.len() == b.len()
        && a.iter().all(|(k, av)| match b.get(k) {
            None => false,
            Some(bv) if k == "metadata" => same_metadata(av, bv),
            Some(bv) => av == bv,
        })
}

fn same_metadata(a: &Value, b: &Value) -> bool {
    let (Value::Object(a), Value::Object(b)) = (a, b) else { return a == b };
    a.len() == b.len()
        && a.iter().all(|(k, av)| match b.get(k) {
            None => false,
            Some(bv) if k == "managedFields" => same_entries(av, bv),
            Some(bv) => av == bv,
        })
}

fn same_entries(a: &Value, b: &Value) -> bool {
    let (Value::Array(a), Value::Array(b)) = (a, b) else { return a == b };
    let same_entry = |x: &Value, y: &Value| match (x, y) {
        (Value::Object(x), Value::Object(y)) => {
            let untimed =
                |m: &serde_json::Map<String, Value>| m.keys().filter(|k| *k != "time").count();
            untimed(x) == untimed(y)
                && x.iter().filter(|(k, _)| *k != "time").all(|(k, v)| y.get(k) == Some(v))
        }
        _ => x == y,
    };
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_entry(x, y))
}

/// The end every write to an existing object shares (PUT and PATCH): keep what the server
/// allocated, validate, record managed fields (all against `old`, the stored object as
/// served at the request's version), and commit in the stored form over `stored`.
#[allow(clippy::too_many_arguments)]
pub fn commit_update(
    store: &mut Store,
    key: ObjKey,
    info: &ResourceInfo,
    stored: &Arc<Value>,
    old: &Value,
    mut obj: Value,
    options: &WriteOptions,
    subresource: Option<&str>,
) -> Result<Committed, ApiError> {
    super::allocate::keep_allocated(info, old, &mut obj);
    super::checks::validate(info, &obj, Some(old))?;
    super::fields::on_update(info, old, &mut obj, options, subresource);
    commit(store, key, Some(stored), crate::versions::to_storage(info, obj), options.dry_run)
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
        if same_but_managed_times(&new, old) {
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
