//! `patch`: JSON patch, JSON merge patch, strategic merge patch (built-in kinds only; 415
//! for custom resources), handing server-side apply to [`super::apply`]. Also the
//! `fieldManager`/`force` rules of PatchOptions.

use super::update::settle_name;
use super::{Call, Reply, present};
use crate::merge;
use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::{ApiError, FieldError};
use crate::write::{self, WriteOptions};
use serde_json::{Value, json};

/// The patch types apiserver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

const CUSTOM_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];
const ALL_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

impl PatchType {
    /// The patch type of a `Content-Type`.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Reads the patch type and enforces the PatchOptions rules: `fieldManager` is required
/// for apply, `force` is only for apply (both 422).
pub fn patch_type_and_options(call: &Call) -> Result<(PatchType, WriteOptions, bool), ApiError> {
    let accepted = if call.info().custom { CUSTOM_TYPES } else { ALL_TYPES };
    let ptype = PatchType::from_content_type(&call.content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(accepted))?;
    if ptype == PatchType::Strategic && call.info().custom {
        return Err(ApiError::unsupported_media_type(CUSTOM_TYPES));
    }
    let options = super::write::options(call, "PatchOptions")?;
    let force = call.query.force.is_some();
    let mut errs = Vec::new();
    if ptype == PatchType::Apply {
        if !options.explicit_manager {
            errs.push(FieldError::required("fieldManager", "is required for apply patch"));
        }
    } else if force {
        errs.push(FieldError::forbidden("force", "may not be specified for non-apply patch"));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("meta.k8s.io", "PatchOptions", "", &errs));
    }
    let force = super::request::flag(&call.query.force);
    Ok((ptype, options, force))
}

/// A patch that does not apply: 422 with the cause, as apiserver reports it.
pub fn patch_failed(err: impl std::fmt::Display) -> ApiError {
    ApiError {
        code: 422,
        reason: "Invalid".into(),
        message: "the server rejected our request due to an error in our request".into(),
        details: Some(
            json!({"causes": [{"reason": "UnexpectedServerResponse", "message": err.to_string()}]}),
        ),
    }
}

/// Applies a JSON or merge patch to the current object.
pub fn apply_simple_patch(
    ptype: PatchType,
    current: &Value,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut doc = current.clone();
    match ptype {
        PatchType::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("error decoding the JSON patch: {e}"))
            })?;
            json_patch::patch(&mut doc, &patch).map_err(patch_failed)?;
        }
        PatchType::Merge => {
            let patch: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("error decoding the merge patch: {e}"))
            })?;
            if !patch.is_object() {
                return Err(ApiError::bad_request("the merge patch is not a JSON object"));
            }
            json_patch::merge(&mut doc, &patch);
        }
        PatchType::Strategic | PatchType::Apply => unreachable!("handled by the merge module"),
    }
    Ok(doc)
}

/// PATCH of one object (also `/status`).
pub fn patch(call: &Call) -> Result<Reply, ApiError> {
    let (ptype, options, force) = patch_type_and_options(call)?;
    if ptype == PatchType::Apply {
        return super::apply::apply(call, &options, force);
    }
    let info = call.info();
    let key = call.key(call.name());
    let mut warnings = Vec::new();
    let mut store = call.state.store();
    let stored = super::existing(&store, info, &key)?;
    let old = present(info, &stored);
    let mut obj = match ptype {
        PatchType::Strategic => strategic_patch(info, &old, &call.body)?,
        _ => apply_simple_patch(ptype, &old, &call.body)?,
    };
    settle_name(&mut obj, call.name())?;
    write::settle_namespace(info, &mut obj, call.namespace())?;
    if meta::name(&obj) != call.name() {
        return Err(ApiError::bad_request("metadata.name may not be changed by a patch"));
    }
    write::check_schema(info, &mut obj, &options, false, &mut warnings)?;
    write::round_trip(info, &mut obj)?;
    let sub = call.target.subresource.as_deref();
    write::defaults(info, &mut obj);
    write::prepare_update(info, &old, &mut obj, sub)?;
    let committed = write::commit_update(&mut store, key, info, &stored, &old, obj, &options, sub)?;
    drop(store);
    Ok(call.reply(200, present(info, &committed.object), warnings))
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
    merge::strategic_merge_patch(current, &patch_body(body)?, &info.merge).map_err(patch_failed)
}

/// A strategic merge patch of a `Scale` (no list in it merges by key).
pub fn strategic_scale_patch(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    merge::strategic_merge_patch(current, &patch_body(body)?, &merge::Schema::generic())
        .map_err(patch_failed)
}
