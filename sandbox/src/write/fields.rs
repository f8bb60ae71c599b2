//! The writes' seam to the merge semantics ([`crate::merge`]) for what is not a merge:
//! the defaults of built-in kinds and the `managedFields` bookkeeping of writes that are
//! not applies (operation `Update`). Patches and applies call the merge module from their
//! verbs.

use super::options::WriteOptions;
use crate::merge::{self, UpdateRequest};
use crate::meta;
use crate::registry::ResourceInfo;
use serde_json::Value;

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
