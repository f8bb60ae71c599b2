//! Secret values kept out of diffs: what changed is shown, never what it is.

use serde_json::{Map, Value};

/// What a Secret value reads as when it is the same on both sides, or only on one.
pub const MASKED: &str = "(masked)";
/// What a Secret value reads as on the after side when it changed.
pub const MASKED_CHANGED: &str = "(masked, changed)";

/// Replaces the values under `data` and `stringData` of a Secret (`v1`), on either side that
/// is one, so that a diff of the two shows which keys were added, removed or changed and
/// nothing of any value: no text, length or hash. A key holding the same value on both sides
/// reads [`MASKED`] on both; a changed key reads [`MASKED`] before and [`MASKED_CHANGED`]
/// after; a key on one side only reads [`MASKED`] there. A `data` that is not a map is masked
/// as one value. Other objects are left alone.
///
/// It masks only these two fields: normalize first ([`super::normalize`]), which drops the
/// `last-applied-configuration` annotation, where `kubectl apply` keeps a copy of the values.
pub fn mask_secrets(before: Option<&mut Value>, after: Option<&mut Value>) {
    let mut before = before.filter(|v| is_secret(v));
    let mut after = after.filter(|v| is_secret(v));
    for field in ["data", "stringData"] {
        let old = before.as_deref_mut().and_then(|v| v.get_mut(field));
        let new = after.as_deref_mut().and_then(|v| v.get_mut(field));
        mask_field(old, new);
    }
}

fn is_secret(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret")
}

fn mask_field(old: Option<&mut Value>, new: Option<&mut Value>) {
    match (old, new) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => mask_maps(old, new),
        (Some(Value::Object(map)), None) | (None, Some(Value::Object(map))) => {
            map.values_mut().for_each(|v| *v = MASKED.into());
        }
        (old, new) => {
            let changed = old.as_deref() != new.as_deref();
            mask_value(old, MASKED);
            mask_value(new, if changed { MASKED_CHANGED } else { MASKED });
        }
    }
}

fn mask_maps(old: &mut Map<String, Value>, new: &mut Map<String, Value>) {
    for (key, value) in new.iter_mut() {
        let changed = old.get(key).is_some_and(|o| o != value);
        *value = if changed { MASKED_CHANGED } else { MASKED }.into();
    }
    old.values_mut().for_each(|v| *v = MASKED.into());
}

/// Masks a whole field that is not a map; `null` says nothing and stays.
fn mask_value(value: Option<&mut Value>, mask: &str) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        *value = mask.into();
    }
}
