//! kubectl's upgrade path from client-side to server-side apply: when the manager is `kubectl`
//! and the live object carries `kubectl.kubernetes.io/last-applied-configuration`, conflicts on
//! fields that annotation lists (with the live value unchanged) are forced, and the annotation
//! is rewritten to the applied configuration (kube-apiserver's `lastAppliedManager` and
//! `lastAppliedUpdater`). Other managers are unaffected.

use super::conflict::Conflict;
use super::fieldset::FieldSet;
use super::fieldset::fields_v1::write_go_json;
use super::managed::clone_without_managed_fields;
use super::schema::Schema;
use super::typed::{compare, to_field_set};
use serde_json::Value;

/// The annotation kubectl's client-side apply keeps.
pub(crate) const ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager the upgrade path applies to.
pub(crate) const KUBECTL: &str = "kubectl";

fn annotation(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The fields the live object's last-applied configuration sets with the value they still
/// have; `None` when there is no usable annotation.
pub(crate) fn allowed_conflicts(
    schema: &Schema,
    live: &Value,
    api_version: &str,
) -> Option<FieldSet> {
    let last: Value = serde_json::from_str(annotation(live)?).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let live = clone_without_managed_fields(live);
    let c = compare(schema, schema.root(), &last, &live);
    let mut set = to_field_set(schema, schema.root(), &last);
    set.remove_all(&c.modified);
    set.remove_all(&c.added);
    set.remove_all(&c.removed);
    Some(set)
}

/// The conflicts not on an allowed field.
pub(crate) fn remaining(conflicts: Vec<Conflict>, allowed: &FieldSet) -> Vec<Conflict> {
    conflicts.into_iter().filter(|c| !allowed.has(&c.path)).collect()
}

/// Rewrites the annotation of `out` to the applied configuration when the live object had one.
pub(crate) fn update_annotation(live: Option<&Value>, config: &Value, out: &mut Value) {
    if live.and_then(annotation).is_none() {
        return;
    }
    let mut applied = config.clone();
    if let Some(Value::Object(a)) = applied.pointer_mut("/metadata/annotations") {
        a.remove(ANNOTATION);
    }
    // Go's JSON encoder: sorted keys, HTML-safe escapes, a trailing newline.
    let mut text = String::new();
    write_go_json(&mut text, &applied);
    text.push('\n');
    if let Some(Value::Object(meta)) = out.get_mut("metadata") {
        let annotations =
            meta.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = annotations {
            a.insert(ANNOTATION.to_string(), Value::String(text));
        }
    }
}
