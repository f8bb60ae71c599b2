//! The seam between the verbs and the merge semantics ([`crate::merge`]): defaults of
//! built-in kinds, `managedFields` bookkeeping for create/update/patch, strategic merge
//! patch, and server-side apply (the whole apply verb, since it both merges and stores).
//! The verbs call only these functions, so the merge module can change without touching
//! them.

use crate::merge::{self, ApplyError, ApplyRequest, UpdateRequest};
use crate::meta;
use crate::registry::ResourceInfo;
use crate::server::request::decode_body;
use crate::status::ApiError;
use crate::verbs::update::settle_name;
use crate::verbs::write::{self, WriteOptions};
use crate::verbs::{Call, Reply, allocate};
use serde_json::{Value, json};

/// Fills in the defaults apiserver sets on built-in kinds.
pub fn defaults(info: &ResourceInfo, obj: &mut Value) {
    if !info.custom {
        merge::apply_defaults(&info.api_version(), &info.kind, obj);
    }
}

/// Records the manager of a create in `managedFields`.
pub fn on_create(info: &ResourceInfo, obj: &mut Value, options: &WriteOptions) {
    record(info, None, obj, options, None);
}

/// Records the manager of an update, patch or subresource write in `managedFields`.
pub fn on_update(
    info: &ResourceInfo,
    old: &Value,
    new: &mut Value,
    options: &WriteOptions,
    subresource: Option<&str>,
) {
    record(info, Some(old), new, options, subresource);
}

/// `managedFields` bookkeeping of a write that is not an apply (operation `Update`).
fn record(
    info: &ResourceInfo,
    old: Option<&Value>,
    new: &mut Value,
    options: &WriteOptions,
    subresource: Option<&str>,
) {
    let now = meta::now();
    let api_version = info.api_version();
    let req = UpdateRequest {
        manager: &options.manager,
        schema: &info.merge,
        api_version: &api_version,
        now: &now,
        subresource,
    };
    *new = merge::record_update(old, new, &req);
}

fn patch_body(body: &[u8]) -> Result<Value, ApiError> {
    let patch: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("error decoding the strategic merge patch: {e}"))
    })?;
    if !patch.is_object() {
        return Err(ApiError::bad_request("the strategic merge patch is not a JSON object"));
    }
    Ok(patch)
}

/// A strategic merge patch of a built-in object.
pub fn strategic_patch(
    info: &ResourceInfo,
    current: &Value,
    body: &[u8],
) -> Result<Value, ApiError> {
    merge::strategic_merge_patch(current, &patch_body(body)?, &info.merge)
        .map_err(crate::verbs::patch::patch_failed)
}

/// A strategic merge patch of a `Scale` (no list in it merges by key).
pub fn strategic_scale_patch(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    merge::strategic_merge_patch(current, &patch_body(body)?, &merge::Schema::generic())
        .map_err(crate::verbs::patch::patch_failed)
}

/// A `Status` from the merge module as an [`ApiError`].
fn from_status(code: u16, status: Value) -> ApiError {
    ApiError {
        code,
        reason: status["reason"].as_str().unwrap_or_default().to_string(),
        message: status["message"].as_str().unwrap_or_default().to_string(),
        details: status.get("details").cloned(),
    }
}

fn apply_error(info: &ResourceInfo, name: &str, e: ApplyError) -> ApiError {
    let mut err = from_status(e.code(), e.status());
    if let (ApplyError::Conflicts(_), Some(d)) = (&e, err.details.as_mut()) {
        // apiserver names the object in the details of a conflict, as for any 409.
        d["name"] = json!(name);
        if !info.group.is_empty() {
            d["group"] = json!(info.group);
        }
        d["kind"] = json!(info.plural);
    }
    err
}

/// Server-side apply (PATCH `application/apply-patch+yaml`): creates (201) when the object
/// does not exist, else merges; a no-op apply stores nothing.
pub fn apply(call: &Call, options: &WriteOptions, force: bool) -> Result<Reply, ApiError> {
    let info = call.info();
    let mut config = decode_body(&call.body)?;
    if !config.is_object() {
        return Err(ApiError::bad_request("error decoding YAML: the applied object is not a map"));
    }
    settle_name(&mut config, call.name())?;
    write::settle_namespace(info, &mut config, call.namespace())?;
    let mut warnings = Vec::new();
    // An apply always rejects fields the schema does not declare (with apiserver's message).
    if config["apiVersion"] == json!(info.api_version()) {
        write::check_schema(info, &mut config, options, true, &mut warnings)?;
    }
    let sub = call.target.subresource.as_deref();
    let now = meta::now();
    let api_version = info.api_version();
    let req = ApplyRequest {
        manager: &options.manager,
        force,
        schema: &info.merge,
        api_version: &api_version,
        now: &now,
        subresource: sub,
    };
    let key = call.key(call.name());
    let mut store = call.state.store();
    let live = store.get(&key).cloned();
    let Some(old) = live else {
        if sub.is_some() {
            return Err(ApiError::not_found(&info.group, &info.plural, call.name()));
        }
        write::admit_namespace(&store, info, call.namespace(), call.name())?;
        let mut new =
            merge::apply(None, &config, &req).map_err(|e| apply_error(info, call.name(), e))?;
        write::server_fields_create(info, &mut new);
        allocate::on_create(&store, info, &mut new);
        write::validate(info, &new, None)?;
        let committed = write::commit(&mut store, key, None, new, options.dry_run)?;
        drop(store);
        return Ok(call.reply(201, committed.object, warnings));
    };
    let mut new =
        merge::apply(Some(&old), &config, &req).map_err(|e| apply_error(info, call.name(), e))?;
    write::prepare_update(info, &old, &mut new, sub)?;
    allocate::keep_allocated(info, &old, &mut new);
    write::validate(info, &new, Some(&old))?;
    let committed = write::commit(&mut store, key, Some(&old), new, options.dry_run)?;
    drop(store);
    Ok(call.reply(200, committed.object, warnings))
}
