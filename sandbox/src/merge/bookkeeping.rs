//! What apply and update share: the metadata fields never tracked, the fields a subresource
//! resets, and taking fields away from managers whose values changed (structured-merge-diff's
//! `Updater.update`).

use super::fieldset::{FieldSet, PathElement};
use super::managed::{Managed, ManagerKey};
use super::schema::Schema;
use super::typed::{Comparison, compare};
use serde_json::Value;

/// Paths kube-apiserver strips from every manager's set (`stripMetaManager`), plus the
/// deletion fields, which only the server writes.
pub(crate) fn strip_set() -> &'static FieldSet {
    static SET: std::sync::OnceLock<FieldSet> = std::sync::OnceLock::new();
    SET.get_or_init(build_strip_set)
}

fn build_strip_set() -> FieldSet {
    let mut s = FieldSet::new();
    let f = PathElement::field;
    for top in ["apiVersion", "kind", "metadata"] {
        s.insert(&[f(top)]);
    }
    for m in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        s.insert(&[f("metadata"), f(m)]);
    }
    s
}

/// The fields a write through `subresource` may not change: `status` for the main resource of
/// a kind with a status subresource, `spec` and `metadata.labels` for `/status`.
pub(crate) fn reset_set(schema: &Schema, subresource: Option<&str>) -> FieldSet {
    let f = PathElement::field;
    let mut s = FieldSet::new();
    match subresource {
        None | Some("") if schema.has_status_subresource() => s.insert(&[f("status")]),
        Some("status") => {
            s.insert(&[f("spec")]);
            s.insert(&[f("metadata"), f("labels")]);
        }
        _ => {}
    }
    s
}

/// The value without the reset fields (what the strategy's PrepareForUpdate undoes); borrowed
/// when there is nothing to drop.
pub(crate) fn drop_reset_fields<'a>(
    v: &'a Value,
    schema: &Schema,
    subresource: Option<&str>,
) -> std::borrow::Cow<'a, Value> {
    let main = matches!(subresource, None | Some("")) && schema.has_status_subresource();
    let status = subresource == Some("status");
    let touched = (main && v.get("status").is_some())
        || (status && (v.get("spec").is_some() || v.pointer("/metadata/labels").is_some()));
    if !touched {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut v = v.clone();
    if let Some(map) = v.as_object_mut() {
        drop_reset_fields_in(map, schema, subresource);
    }
    std::borrow::Cow::Owned(v)
}

fn drop_reset_fields_in(
    map: &mut serde_json::Map<String, Value>,
    schema: &Schema,
    subresource: Option<&str>,
) {
    match subresource {
        None | Some("") if schema.has_status_subresource() => {
            map.remove("status");
        }
        Some("status") => {
            map.remove("spec");
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("labels");
            }
        }
        _ => {}
    }
}

/// The outcome of comparing old and new for the other managers.
pub(crate) struct Takeover {
    pub(crate) comparison: Comparison,
    /// Fields of other managers whose values changed: (manager, fields).
    pub(crate) conflicts: Vec<(ManagerKey, FieldSet)>,
}

/// Compares `old` with `new` and finds, for every manager but `workflow`, the fields it owns
/// that changed (conflicts). Ignored (reset) paths are excluded.
pub(crate) fn find_takeovers(
    schema: &Schema,
    old: &Value,
    new: &Value,
    managed: &Managed,
    workflow: &ManagerKey,
    ignored: &FieldSet,
) -> Takeover {
    let comparison = compare(schema, schema.root(), old, new).exclude(ignored);
    let changed = comparison.modified.union(&comparison.added);
    let mut conflicts = Vec::new();
    for e in &managed.entries {
        if &e.key == workflow {
            continue;
        }
        let c = e.set.intersection(&changed);
        if !c.is_empty() {
            conflicts.push((e.key.clone(), c));
        }
    }
    Takeover { comparison, conflicts }
}

/// Takes conflicting and removed fields away from the other managers and drops the managers
/// left with nothing.
pub(crate) fn take_over(managed: &mut Managed, takeover: &Takeover, workflow: &ManagerKey) {
    for e in &mut managed.entries {
        if &e.key == workflow {
            continue;
        }
        let conflicts = takeover.conflicts.iter().find(|(k, _)| k == &e.key).map(|(_, c)| c);
        let removed = &takeover.comparison.removed;
        let touched = conflicts.is_some() || !e.set.intersection(removed).is_empty();
        if touched {
            let mut s = e.set.clone();
            if let Some(c) = conflicts {
                s.remove_all(c);
            }
            s.remove_all(removed);
            e.set_fields(s);
        }
    }
    managed.drop_empty();
}

/// Removes null values from maps, recursively, as a round trip through kube-apiserver's Go
/// types does for built-in kinds.
pub(crate) fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
