//! Server-side apply (PATCH `application/apply-patch+yaml`): the merge is the merge
//! module's ([`crate::merge::apply`]); this verb settles the configuration's name and
//! namespace, checks its schema, creates (201) when the object does not exist, and commits
//! through the write layer.

use super::update::settle_name;
use super::{Call, Reply};
use crate::merge::{self, ApplyError, ApplyRequest};
use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::write::{self, WriteOptions, allocate};
use serde_json::{Value, json};

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
    let mut config = super::request::decode_body(&call.body)?;
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
    let stored = store.get(&key).cloned();
    let Some(stored) = stored else {
        if sub.is_some() {
            return Err(ApiError::not_found(&info.group, &info.plural, call.name()));
        }
        write::admit_namespace(&store, info, call.namespace(), call.name())?;
        let mut new =
            merge::apply(None, &config, &req).map_err(|e| apply_error(info, call.name(), e))?;
        // The merged object is decoded into the Go type before it is stored: quantities
        // come back canonical, after the field manager compared and recorded them.
        write::round_trip(info, &mut new)?;
        write::server_fields_create(info, &mut new);
        allocate::on_create(&store, info, &mut new);
        write::validate(info, &new, None)?;
        let new = crate::versions::to_storage(info, new);
        let committed = write::commit(&mut store, key, None, new, options.dry_run)?;
        drop(store);
        return Ok(call.reply(201, super::present(info, &committed.object), warnings));
    };
    let old = super::present(info, &stored);
    let mut new =
        merge::apply(Some(&old), &config, &req).map_err(|e| apply_error(info, call.name(), e))?;
    write::round_trip(info, &mut new)?;
    // The field manager's managedFields are the answer, even when none are left (an
    // update that leaves them out keeps the stored ones; an apply does not).
    let managed = meta::metadata(&new).and_then(|m| m.get("managedFields")).cloned();
    write::prepare_update(info, &old, &mut new, sub)?;
    if managed.is_none() {
        meta::metadata_mut(&mut new).remove("managedFields");
    }
    allocate::keep_allocated(info, &old, &mut new);
    write::validate(info, &new, Some(&old))?;
    let new = crate::versions::to_storage(info, new);
    let committed = write::commit(&mut store, key, Some(&stored), new, options.dry_run)?;
    drop(store);
    Ok(call.reply(200, super::present(info, &committed.object), warnings))
}
