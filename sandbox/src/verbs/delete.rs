//! `delete` and `deletecollection`: propagation policies (Background, Foreground, Orphan),
//! preconditions, finalizers keeping an object with its `deletionTimestamp`, Namespace
//! termination, dry run.
//!
//! The verbs read the request (options, preconditions); the deletion itself is the write
//! layer's ([`crate::write::delete_object`]).

use super::list::{page, selection};
use super::{Call, Reply, present};
use crate::meta;
use crate::registry::ResourceInfo;
use crate::status::{self, ApiError};
use crate::write::{Deleted, Propagation, delete_object};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Preconditions {
    uid: Option<String>,
    resource_version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct DeleteOptions {
    propagation_policy: Option<String>,
    orphan_dependents: Option<bool>,
    preconditions: Option<Preconditions>,
    dry_run: Option<Vec<String>>,
}

struct Request {
    propagation: Propagation,
    preconditions: Preconditions,
    dry_run: bool,
}

fn read_request(call: &Call) -> Result<Request, ApiError> {
    let body: DeleteOptions = if call.body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        serde_json::from_slice(&call.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let mut dry_run = call.query.dry_run("DeleteOptions")?;
    if let Some(d) = &body.dry_run {
        match d.as_slice() {
            [] => {}
            [all] if all == "All" => dry_run = true,
            other => {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "DeleteOptions",
                    "",
                    &[status::FieldError::not_supported(
                        "dryRun",
                        format!("{other:?}"),
                        "supported values: \"All\"",
                    )],
                ));
            }
        }
    }
    let policy = body.propagation_policy.or_else(|| call.query.propagation_policy.clone());
    let orphan = body
        .orphan_dependents
        .or_else(|| call.query.orphan_dependents.as_deref().map(|v| v == "true"));
    let propagation = match (policy.as_deref(), orphan) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                &[status::FieldError::invalid(
                    "propagationPolicy",
                    format!("{policy:?}"),
                    "orphanDependents and deletionPropagation cannot be both set",
                )],
            ));
        }
        (Some("Foreground"), _) => Propagation::Foreground,
        (Some("Orphan"), _) | (None, Some(true)) => Propagation::Orphan,
        (Some("Background") | None, _) => Propagation::Background,
        (Some(other), _) => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                &[status::FieldError::not_supported(
                    "propagationPolicy",
                    format!("{other:?}"),
                    "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
                )],
            ));
        }
    };
    Ok(Request { propagation, preconditions: body.preconditions.unwrap_or_default(), dry_run })
}

fn check_preconditions(
    info: &ResourceInfo,
    obj: &Value,
    pre: &Preconditions,
) -> Result<(), ApiError> {
    let name = meta::name(obj);
    if let Some(uid) = pre.uid.as_deref().filter(|u| !u.is_empty() && *u != meta::uid(obj)) {
        let why = format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta::uid(obj)
        );
        return Err(ApiError::conflict(&info.group, &info.plural, name, &why));
    }
    let rv = meta::meta_str(obj, "resourceVersion");
    if let Some(want) = pre.resource_version.as_deref().filter(|r| !r.is_empty() && *r != rv) {
        let why = format!(
            "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"
        );
        return Err(ApiError::conflict(&info.group, &info.plural, name, &why));
    }
    Ok(())
}

fn reply_for(call: &Call, deleted: Deleted) -> Value {
    let info = call.info();
    match deleted {
        Deleted::Pending(obj) => (*present(info, &obj)).clone(),
        // Custom resources answer with the deleted object, built-ins with a Status.
        Deleted::Gone(obj) if info.custom => (*present(info, &obj)).clone(),
        Deleted::Gone(obj) => {
            status::success(&info.group, &info.plural, meta::name(&obj), meta::uid(&obj))
        }
    }
}

/// DELETE of one object.
pub fn delete(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let req = read_request(call)?;
    let key = call.key(call.name());
    let deleted = {
        let mut store = call.state.store();
        let obj = super::existing(&store, info, &key)?;
        check_preconditions(info, &obj, &req.preconditions)?;
        delete_object(&mut store, info, &key, req.propagation, req.dry_run)?
    };
    Ok(Reply::ok(reply_for(call, deleted)))
}

/// DELETE of a collection: every selected object, answered with the list of them.
pub fn delete_collection(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let req = read_request(call)?;
    let selection = selection(call)?;
    let items = page(call, &selection, None)?.items;
    let mut out = Vec::new();
    for obj in items {
        let key = call.key_in(meta::namespace(&obj), meta::name(&obj));
        let mut store = call.state.store();
        match delete_object(&mut store, info, &key, req.propagation, req.dry_run) {
            Ok(Deleted::Gone(o) | Deleted::Pending(o)) => out.push((*present(info, &o)).clone()),
            // Deleted concurrently: nothing left to do for it.
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = call.state.store().resource_version();
    Ok(Reply::ok(json!({
        "kind": info.list_kind(),
        "apiVersion": info.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": out,
    })))
}
