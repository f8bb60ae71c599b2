//! What an update of an existing object keeps from the stored one: server-owned metadata,
//! status (main-resource writes of kinds with `/status`) or spec (`/status` writes), the
//! update preconditions (resourceVersion, uid), no new finalizers while deleting, and the
//! generation, bumped when the spec changed.

use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::{ApiError, FieldError};
use serde_json::{Map, Value};

/// Whether everything except metadata and status is equal: what a generation bump is
/// about. Compared in place, without copying either object.
fn same_spec(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return a == b };
    let rest = |m: &'_ Map<String, Value>| {
        m.iter().filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status")).count()
    };
    rest(a) == rest(b)
        && a.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
            .all(|(k, v)| b.get(k) == Some(v))
}

/// 409 when the body names another resourceVersion or uid than the stored object's.
fn check_update_preconditions(
    info: &ResourceInfo,
    old: &Value,
    new: &Value,
) -> Result<(), ApiError> {
    let name = meta::name(old);
    let sent_rv = meta::meta_str(new, "resourceVersion");
    if !sent_rv.is_empty() && sent_rv != meta::meta_str(old, "resourceVersion") {
        return Err(ApiError::stale(&info.group, &info.plural, name));
    }
    let sent_uid = meta::uid(new);
    if !sent_uid.is_empty() && sent_uid != meta::uid(old) {
        let why = format!(
            "Precondition failed: UID in precondition: {}, UID in object meta: {sent_uid}",
            meta::uid(old)
        );
        return Err(ApiError::conflict(&info.group, &info.plural, name, &why));
    }
    Ok(())
}

/// A `/status` write: the stored object with the new status (and managedFields).
fn status_write(old: &Value, new: &mut Value) {
    let status = new.get("status").cloned();
    let managed = meta::metadata(new).and_then(|m| m.get("managedFields")).cloned();
    *new = old.clone();
    match status {
        Some(s) => new["status"] = s,
        None => {
            if let Value::Object(m) = new {
                m.remove("status");
            }
        }
    }
    if let Some(mf) = managed {
        meta::metadata_mut(new).insert("managedFields".into(), mf);
    }
}

/// Copies the metadata the server owns from the stored object; managedFields too when the
/// body has none.
fn carry_server_metadata(old: &Value, new: &mut Value) {
    let empty = Map::new();
    let old_meta = meta::metadata(old).unwrap_or(&empty);
    let meta = meta::metadata_mut(new);
    for f in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "generateName",
    ] {
        match old_meta.get(f) {
            Some(v) => meta.insert(f.into(), v.clone()),
            None => meta.remove(f),
        };
    }
    meta.remove("selfLink");
    if !meta.contains_key("managedFields")
        && let Some(mf) = old_meta.get("managedFields")
    {
        meta.insert("managedFields".into(), mf.clone());
    }
}

/// 422 when finalizers are added to an object being deleted.
fn check_new_finalizers(info: &ResourceInfo, old: &Value, new: &Value) -> Result<(), ApiError> {
    if !meta::is_deleting(old) {
        return Ok(());
    }
    let had = meta::finalizers(old);
    let added: Vec<String> =
        meta::finalizers(new).into_iter().filter(|f| !had.contains(f)).collect();
    if added.is_empty() {
        return Ok(());
    }
    let list = added.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
    let detail = format!(
        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
    );
    Err(ApiError::invalid(
        &info.group,
        &info.kind,
        meta::name(old),
        &[FieldError::forbidden("metadata.finalizers", detail)],
    ))
}

/// The server-owned fields of an updated object, taken from the stored one; `status`
/// writes change only status, main-resource writes keep it (kinds with `/status`), and
/// the generation moves when anything but metadata and status changed.
pub fn prepare_update(
    info: &ResourceInfo,
    old: &Value,
    new: &mut Value,
    subresource: Option<&str>,
) -> Result<(), ApiError> {
    check_update_preconditions(info, old, new)?;
    if subresource == Some("status") {
        status_write(old, new);
        return Ok(());
    }
    carry_server_metadata(old, new);
    check_new_finalizers(info, old, new)?;
    if info.status_subresource
        && let Value::Object(m) = new
    {
        match old.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    if info.kind == "Namespace" && !info.custom {
        new["spec"] = old["spec"].clone();
    }
    if info.tracks_generation && !same_spec(old, new) {
        meta::metadata_mut(new).insert("generation".into(), (meta::generation(old) + 1).into());
    }
    Ok(())
}
