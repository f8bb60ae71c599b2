//! Server-side apply: merging an applied configuration into the live object and recording the
//! applier's fields in `metadata.managedFields`, as kube-apiserver's field manager does
//! (structured-merge-diff's `Updater.Apply` wrapped in the apiserver's manager chain).
//!
//! In order: validate the configuration; drop the fields the subresource resets; record the
//! live object's fields for `before-first-apply` if it has no managedFields; merge; give the
//! applier the fields of its configuration; prune what it applied last time and no longer
//! applies unless someone else owns it; find the fields of other managers whose values
//! changed (conflicts, or taken over with `force`); strip the untracked metadata fields; and,
//! if the object changed, stamp the applier's time and apply defaults.

use super::bookkeeping::{
    drop_reset_fields, find_takeovers, reset_set, strip_nulls, strip_set, take_over,
};
use super::conflict::{Conflict, InvalidApply};
use super::defaults::apply_defaults;
use super::fieldset::FieldSet;
use super::fieldset::path::values_equal;
use super::last_applied;
use super::managed::{
    Entry, Managed, ManagerKey, Operation, clone_without_managed_fields, set_managed_fields,
};
use super::schema::Schema;
use super::typed::{
    ensure_named_fields_are_members, merge_into, remove_items, to_field_set, validate,
};
use serde_json::{Value, json};

/// One server-side apply request.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    /// The `fieldManager` query parameter (required for apply).
    pub manager: &'a str,
    /// The `force` query parameter: take over conflicting fields instead of failing.
    pub force: bool,
    /// The kind's schema.
    pub schema: &'a Schema,
    /// The apiVersion of the request URL; the configuration must use the same.
    pub api_version: &'a str,
    /// The time to record, RFC 3339 (`2026-11-22T04:15:52Z`).
    pub now: &'a str,
    /// `Some("status")` for `PATCH .../status`; `None` for the main resource.
    pub subresource: Option<&'a str>,
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Fields owned by other managers would change (HTTP 409); see
    /// [`super::conflict_status`].
    #[error("{}", super::conflict::conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The configuration cannot be applied (HTTP 400 or 500, see [`InvalidApply::code`]).
    #[error(transparent)]
    Invalid(#[from] InvalidApply),
}

impl ApplyError {
    /// The `Status` object kube-apiserver answers with.
    pub fn status(&self) -> Value {
        match self {
            ApplyError::Conflicts(c) => super::conflict::conflict_status(c),
            ApplyError::Invalid(i) => i.status(),
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApplyError::Conflicts(_) => 409,
            ApplyError::Invalid(i) => i.code,
        }
    }
}

/// Applies `config` to `live` (`None` creates) and returns the new object with
/// `metadata.managedFields` updated. Defaults of built-in kinds are applied to the result when
/// the object changed; server-set metadata (uid, resourceVersion, timestamps) is the caller's.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    req: &ApplyRequest,
) -> Result<Value, ApplyError> {
    let schema = req.schema;
    check_config(config, req)?;
    let config = drop_reset_fields(config, schema, req.subresource);
    let config = config.as_ref();
    let ignored = reset_set(schema, req.subresource);
    let key = applier_key(req);
    let mut managed = live_managed(live, req, &ignored)?;
    let previous =
        managed.entries.iter().position(|e| e.key == key).map(|i| managed.entries.remove(i));
    let mut set = to_field_set(schema, schema.root(), config);
    set.remove_all_recursive(&ignored);
    let (last, time, original) = match previous {
        Some(e) => (Some(e.set), e.time, e.original),
        None => (None, None, None),
    };
    let api_version = req.api_version.to_string();
    managed.entries.push(Entry { key: key.clone(), api_version, time, set, original: None });
    let new = merge_and_prune(schema, live, config, &managed, last.as_ref());

    // Only other managers can conflict or lose fields; a sole applier skips the comparison.
    if managed.entries.iter().any(|e| e.key != key) {
        let old = live.map(clone_without_managed_fields).unwrap_or_else(|| json!({}));
        let takeover = find_takeovers(schema, &old, &new, &managed, &key, &ignored);
        if !req.force && !takeover.conflicts.is_empty() {
            let found = conflicts(&managed, &takeover.conflicts);
            let allowed = (req.manager == last_applied::KUBECTL)
                .then(|| {
                    live.and_then(|l| last_applied::allowed_conflicts(schema, l, req.api_version))
                })
                .flatten();
            let found = match &allowed {
                Some(allowed) => last_applied::remaining(found, allowed),
                None => found,
            };
            if !found.is_empty() {
                return Err(ApplyError::Conflicts(found));
            }
        }
        take_over(&mut managed, &takeover, &key);
    }
    strip_applier(&mut managed, &key, last.as_ref(), original);

    let mut out = new;
    if live.is_none_or(|l| !equal_ignoring_managed_fields(l, &out)) {
        if let Some(e) = managed.get_mut(&key) {
            e.time = Some(req.now.to_string());
        }
        strip_nulls(&mut out);
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
        apply_defaults(req.api_version, kind, &mut out);
    }
    if req.manager == last_applied::KUBECTL {
        last_applied::update_annotation(live, config, &mut out);
    }
    set_managed_fields(&mut out, managed);
    Ok(out)
}

/// The live object's managedFields, or a `before-first-apply` entry for a live object that has
/// none.
fn live_managed(
    live: Option<&Value>,
    req: &ApplyRequest,
    ignored: &FieldSet,
) -> Result<Managed, InvalidApply> {
    let Some(live) = live else { return Ok(Managed::default()) };
    let managed = Managed::decode(live)
        .map_err(|e| InvalidApply::internal(format!("failed to decode managed fields: {e}")))?;
    if !managed.is_empty() {
        return Ok(managed);
    }
    Ok(before_first_apply(req.schema, &clone_without_managed_fields(live), req, ignored))
}

/// The live object with the configuration merged in and what the applier dropped pruned.
/// Nothing can be pruned when every path applied last time is applied again.
fn merge_and_prune(
    schema: &Schema,
    live: Option<&Value>,
    config: &Value,
    managed: &Managed,
    last: Option<&FieldSet>,
) -> Value {
    let merged = match live {
        Some(l) => {
            let mut merged = clone_without_managed_fields(l);
            merge_into(schema, schema.root(), &mut merged, config);
            merged
        }
        None => config.clone(),
    };
    let applied = &managed.entries.last().expect("the applier's entry was pushed last").set;
    match last {
        Some(last) if !last.is_subset_of(applied) => prune(schema, &merged, managed, last),
        _ => merged,
    }
}

/// Whether `live` (with managedFields) equals `new` (without).
fn equal_ignoring_managed_fields(live: &Value, new: &Value) -> bool {
    let (Value::Object(l), Value::Object(n)) = (live, new) else { return values_equal(live, new) };
    let len = |m: &serde_json::Map<String, Value>| m.len();
    if len(l) != len(n) {
        return false;
    }
    l.iter().all(|(k, lv)| {
        let Some(nv) = n.get(k) else { return false };
        match (k.as_str(), lv, nv) {
            ("metadata", Value::Object(lm), Value::Object(nm)) => {
                let lcount = lm.keys().filter(|k| *k != "managedFields").count();
                lcount == nm.len()
                    && lm
                        .iter()
                        .filter(|(k, _)| *k != "managedFields")
                        .all(|(k, v)| nm.get(k).is_some_and(|w| values_equal(v, w)))
            }
            _ => values_equal(lv, nv),
        }
    })
}

fn applier_key(req: &ApplyRequest) -> ManagerKey {
    ManagerKey {
        manager: req.manager.to_string(),
        operation: Operation::Apply,
        api_version: String::new(),
        subresource: req.subresource.unwrap_or("").to_string(),
    }
}

/// The checks kube-apiserver makes before merging.
fn check_config(config: &Value, req: &ApplyRequest) -> Result<(), InvalidApply> {
    let Some(map) = config.as_object() else {
        return Err(InvalidApply::bad_request(
            "error decoding YAML: the applied object is not a map",
        ));
    };
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api_version != req.api_version {
        return Err(InvalidApply::bad_request(format!(
            "Incorrect version specified in apply patch. Specified patch version: {api_version}, expected: {}",
            req.api_version
        )));
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(InvalidApply::bad_request(format!("Object 'Kind' is missing in '{config}'")));
    }
    if config.pointer("/metadata/managedFields").is_some_and(|m| !m.is_null()) {
        return Err(InvalidApply::bad_request("metadata.managedFields must be nil"));
    }
    let name = config.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        return Err(InvalidApply::bad_request("metadata.name: Required value: name is required"));
    }
    let errs = validate(req.schema, req.schema.root(), config);
    if !errs.is_empty() {
        let ns = config.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let detail = if errs.len() == 1 {
            errs[0].clone()
        } else {
            let mut lines = vec!["errors:".to_string()];
            lines.extend(errs.iter().map(|e| format!("  {e}")));
            lines.join("\n")
        };
        return Err(InvalidApply::internal(format!(
            "failed to create typed patch object ({ns}/{name}; {group}/{version}, Kind={kind}): {detail}"
        )));
    }
    Ok(())
}

/// An object that exists but has no managedFields: kube-apiserver first records all its fields
/// for a `before-first-apply` updater, so that they are not silently taken over.
fn before_first_apply(
    schema: &Schema,
    live: &Value,
    req: &ApplyRequest,
    ignored: &FieldSet,
) -> Managed {
    let c =
        super::typed::compare(schema, schema.root(), schema.zero_object(), live).exclude(ignored);
    let set = c.modified.union(&c.added).difference(&c.removed).difference(strip_set());
    let mut managed = Managed::default();
    if !set.is_empty() {
        managed.entries.push(Entry {
            key: ManagerKey {
                manager: "before-first-apply".to_string(),
                operation: Operation::Update,
                api_version: req.api_version.to_string(),
                subresource: req.subresource.unwrap_or("").to_string(),
            },
            api_version: req.api_version.to_string(),
            time: Some(req.now.to_string()),
            set,
            original: None,
        });
    }
    managed
}

/// Removes what the applier applied last time and no longer applies, unless another manager
/// (or its new configuration) owns it (structured-merge-diff's `prune`).
fn prune(schema: &Schema, merged: &Value, managed: &Managed, last: &FieldSet) -> Value {
    let root = schema.root();
    let ensure = |s: &FieldSet| ensure_named_fields_are_members(schema, root, s);
    let remove =
        |v: &Value, s: &FieldSet| remove_items(schema, root, v, s).unwrap_or_else(|| json!({}));
    let last = ensure(last);
    let pruned = remove(merged, &last);
    let owned = managed.entries.iter().fold(FieldSet::new(), |acc, e| acc.union(&e.set));
    let merged_set = ensure(&to_field_set(schema, root, merged));
    let pruned_set = ensure(&to_field_set(schema, root, &pruned));
    let pruned = remove(merged, &merged_set.difference(&pruned_set.union(&ensure(&owned))));
    let pruned_set = ensure(&to_field_set(schema, root, &pruned));
    remove(merged, &merged_set.difference(&pruned_set).intersection(&last))
}

/// Conflicts in a deterministic order: by manager identifier, then path order.
fn conflicts(managed: &Managed, found: &[(ManagerKey, FieldSet)]) -> Vec<Conflict> {
    let mut found: Vec<&(ManagerKey, FieldSet)> = found.iter().collect();
    found.sort_by_key(|(k, _)| k.identifier());
    let mut out = Vec::new();
    for (key, set) in found {
        let api_version = managed.get(key).map(|e| e.api_version.as_str()).unwrap_or("");
        for path in set.paths() {
            out.push(Conflict::new(key, api_version, path));
        }
    }
    out
}

/// Strips untracked metadata from the applier's set, dropping the entry if nothing is left;
/// keeps the previous `fieldsV1` encoding when the set is the same as last time.
fn strip_applier(
    managed: &mut Managed,
    key: &ManagerKey,
    last: Option<&FieldSet>,
    original: Option<Value>,
) {
    if let Some(e) = managed.get_mut(key) {
        e.set.remove_all(strip_set());
        if last == Some(&e.set) {
            e.original = original;
        }
    }
    managed.drop_empty();
}
