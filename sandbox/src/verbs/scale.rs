//! The `/scale` subresource (autoscaling/v1 `Scale`): what `kubectl scale` and autoscalers
//! read and write. Replicas live at the resource's spec path; the selector is rendered in
//! its string form.

use super::patch::{PatchType, apply_simple_patch, patch_type_and_options};
use super::{Call, Reply};
use crate::meta;
use crate::registry::ScalePaths;
use crate::status::ApiError;
use crate::write;
use serde_json::{Value, json};

fn get_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    let mut cur = obj;
    for seg in path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()) {
        cur = &cur[seg];
    }
    cur
}

fn set_path(obj: &mut Value, path: &str, value: Value) {
    let mut cur = obj;
    for seg in path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()) {
        cur = &mut cur[seg];
    }
    *cur = value;
}

fn selector_string(sel: &Value) -> String {
    match sel {
        Value::String(s) => s.clone(),
        Value::Object(_) => sel["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn to_scale(paths: &ScalePaths, obj: &Value) -> Value {
    let m = meta::metadata(obj).cloned().unwrap_or_default();
    let keep: serde_json::Map<String, Value> =
        ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]
            .iter()
            .filter_map(|k| m.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
    let mut status =
        json!({"replicas": get_path(obj, &paths.status_replicas).as_i64().unwrap_or(0)});
    if let Some(p) = &paths.label_selector {
        let sel = selector_string(get_path(obj, p));
        if !sel.is_empty() {
            status["selector"] = sel.into();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": keep,
        "spec": {"replicas": get_path(obj, &paths.spec_replicas).as_i64().unwrap_or(0)},
        "status": status,
    })
}

fn paths(call: &Call) -> Result<&ScalePaths, ApiError> {
    call.info().scale.as_ref().ok_or_else(ApiError::no_route)
}

/// GET of `/scale`.
pub fn get(call: &Call) -> Result<Reply, ApiError> {
    let info = call.info();
    let obj = super::existing(&call.state.store(), info, &call.key(call.name()))?;
    Ok(Reply::ok(to_scale(paths(call)?, &obj)))
}

/// PUT or PATCH of `/scale`: changes the desired replicas of the object.
pub fn write(call: &Call, verb: &str) -> Result<Reply, ApiError> {
    let info = call.info();
    let paths = paths(call)?;
    let options = if verb == "patch" {
        let (ptype, options, _) = patch_type_and_options(call)?;
        if matches!(ptype, PatchType::Apply | PatchType::Strategic) && info.custom {
            return Err(ApiError::unsupported_media_type(&[
                "application/json-patch+json",
                "application/merge-patch+json",
            ]));
        }
        Some((ptype, options))
    } else {
        None
    };
    let key = call.key(call.name());
    let mut store = call.state.store();
    let old = super::existing(&store, info, &key)?;
    let current = to_scale(paths, &old);
    let (scale, options) = match options {
        Some((PatchType::Json | PatchType::Merge, o)) => {
            (apply_simple_patch(options_type(call), &current, &call.body)?, o)
        }
        Some((_, o)) => (super::patch::strategic_scale_patch(&current, &call.body)?, o),
        None => (
            super::request::decode_body(&call.body)?,
            super::write::options(call, "UpdateOptions")?,
        ),
    };
    let sent_rv = meta::meta_str(&scale, "resourceVersion");
    if !sent_rv.is_empty() && sent_rv != meta::meta_str(&old, "resourceVersion") {
        return Err(ApiError::stale(&info.group, &info.plural, call.name()));
    }
    let Some(replicas) = scale["spec"]["replicas"].as_i64() else {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            call.name(),
            &[crate::status::FieldError::required("spec.replicas", "")],
        ));
    };
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            call.name(),
            &[crate::status::FieldError::invalid(
                "spec.replicas",
                replicas.to_string(),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut obj = (*old).clone();
    set_path(&mut obj, &paths.spec_replicas, json!(replicas));
    write::prepare_update(info, &old, &mut obj, None)?;
    write::on_update(info, &old, &mut obj, &options, Some("scale"));
    let committed = write::commit(&mut store, key, Some(&old), obj, options.dry_run)?;
    drop(store);
    Ok(Reply::ok(to_scale(paths, &committed.object)))
}

fn options_type(call: &Call) -> PatchType {
    PatchType::from_content_type(&call.content_type).unwrap_or(PatchType::Merge)
}
