//! Scenario tests of server-side apply, update bookkeeping, strategic merge patch and
//! defaulting, with expected managedFields written from the Kubernetes documentation and
//! kube-apiserver's behaviour.

mod apply_more;
mod defaults;
mod ssa;
mod strategic;
mod update;

use super::{ApplyError, ApplyRequest, Schema, UpdateRequest, apply, record_update};
use serde_json::{Value, json};

pub(super) const T1: &str = "2026-11-22T04:15:52Z";
pub(super) const T2: &str = "2026-11-22T04:16:00Z";
pub(super) const T3: &str = "2026-11-22T04:17:00Z";

/// Applies as `manager` at `now`, without force.
pub(super) fn ssa(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    now: &str,
) -> Result<Value, ApplyError> {
    ssa_with(live, config, manager, now, false)
}

pub(super) fn ssa_with(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    now: &str,
    force: bool,
) -> Result<Value, ApplyError> {
    let api_version = config["apiVersion"].as_str().unwrap_or_default();
    let kind = config["kind"].as_str().unwrap_or_default();
    let schema = Schema::for_kind(api_version, kind);
    apply(
        live,
        config,
        &ApplyRequest { manager, force, schema: &schema, api_version, now, subresource: None },
    )
}

/// Records a non-apply write as `manager` at `now`.
pub(super) fn update(old: Option<&Value>, new: &Value, manager: &str, now: &str) -> Value {
    let api_version = new["apiVersion"].as_str().unwrap_or_default();
    let kind = new["kind"].as_str().unwrap_or_default();
    let schema = Schema::for_kind(api_version, kind);
    record_update(
        old,
        new,
        &UpdateRequest { manager, schema: &schema, api_version, now, subresource: None },
    )
}

/// The managedFields of an object.
pub(super) fn managed(obj: &Value) -> Value {
    obj["metadata"]["managedFields"].clone()
}

/// One managedFields entry.
pub(super) fn entry(
    manager: &str,
    operation: &str,
    api_version: &str,
    time: &str,
    fields: Value,
) -> Value {
    json!({"manager": manager, "operation": operation, "apiVersion": api_version, "time": time,
           "fieldsType": "FieldsV1", "fieldsV1": fields})
}
