//! The seam between the verbs and the merge semantics (`crate::merge`, written separately):
//! defaults of built-in kinds, `managedFields` bookkeeping for create/update/patch,
//! strategic merge patch, and server-side apply. The verbs call only these functions, so
//! the merge module can change without touching them.

use crate::registry::ResourceInfo;
use crate::status::ApiError;
use crate::verbs::write::WriteOptions;
use crate::verbs::{Call, Reply};
use serde_json::Value;

/// Fills in the defaults apiserver sets on built-in kinds.
pub fn defaults(_info: &ResourceInfo, _obj: &mut Value) {}

/// Records the manager of a create in `managedFields`.
pub fn on_create(_info: &ResourceInfo, _obj: &mut Value, _options: &WriteOptions) {}

/// Records the manager of an update, patch or subresource write in `managedFields`.
pub fn on_update(
    _info: &ResourceInfo,
    _old: &Value,
    _new: &mut Value,
    _options: &WriteOptions,
    _subresource: Option<&str>,
) {
}

/// A strategic merge patch of a built-in object.
pub fn strategic_patch(
    _info: &ResourceInfo,
    _current: &Value,
    _body: &[u8],
) -> Result<Value, ApiError> {
    Err(ApiError::unsupported_media_type(&[
        "application/json-patch+json",
        "application/merge-patch+json",
    ]))
}

/// A strategic merge patch of a `Scale`.
pub fn strategic_scale_patch(_current: &Value, _body: &[u8]) -> Result<Value, ApiError> {
    Err(ApiError::unsupported_media_type(&[
        "application/json-patch+json",
        "application/merge-patch+json",
    ]))
}

/// Server-side apply.
pub fn apply(_call: &Call, _options: &WriteOptions, _force: bool) -> Result<Reply, ApiError> {
    Err(ApiError::unsupported_media_type(&[
        "application/json-patch+json",
        "application/merge-patch+json",
    ]))
}
