//! managedFields bookkeeping for writes that are not applies (create, update/replace, JSON,
//! merge and strategic patches): operation `Update`. The writer gains the fields it added or
//! changed, other managers lose fields whose values it changed or removed, empty entries are
//! dropped, and at most ten `Update` entries are kept (older ones fold into `ancient-changes`).

use super::bookkeeping::{find_takeovers, reset_set, strip_set, take_over};
use super::managed::{
    Entry, Managed, ManagerKey, Operation, clone_without_managed_fields, seconds,
    set_managed_fields,
};
use super::schema::Schema;
use serde_json::Value;

/// kube-apiserver keeps at most this many `Update` entries.
const MAX_UPDATE_MANAGERS: usize = 10;

/// One non-apply write.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    /// The `fieldManager` query parameter. When the request has none, kube-apiserver uses the
    /// user agent up to the first `/` (`kubectl-client-side-apply`, `kubectl-edit`, ...); the
    /// server derives it and passes it here.
    pub manager: &'a str,
    /// The kind's schema.
    pub schema: &'a Schema,
    /// The apiVersion of the request URL.
    pub api_version: &'a str,
    /// The time to record, RFC 3339.
    pub now: &'a str,
    /// `Some("status")` for writes to `/status`.
    pub subresource: Option<&'a str>,
}

/// Returns `new` with `metadata.managedFields` updated for a write that turned `old` (`None`
/// for a create) into `new`. `new` is the object about to be stored, after defaulting; its own
/// `managedFields` are honoured if the client sent a valid non-empty list, and `[]` or `[{}]`
/// clears them (as kube-apiserver allows). An existing object without managedFields stays
/// without them.
pub fn record_update(old: Option<&Value>, new: &Value, req: &UpdateRequest) -> Value {
    let schema = req.schema;
    let mut managed = live_or_new_managed(old, new, req.subresource);
    let out = clone_without_managed_fields(new);
    if managed.is_empty() && old.is_some() {
        return out;
    }
    let old_obj = match old {
        Some(o) => clone_without_managed_fields(o),
        None => schema.zero_object().clone(),
    };
    let ignored = reset_set(schema, req.subresource);
    let key = ManagerKey {
        manager: req.manager.to_string(),
        operation: Operation::Update,
        api_version: req.api_version.to_string(),
        subresource: req.subresource.unwrap_or("").to_string(),
    };
    // kube-apiserver computes the write's fields as a fresh "current-operation" manager, so the
    // writer's own earlier entry is treated like any other and then merged back.
    let current = ManagerKey { manager: "current-operation".to_string(), ..key.clone() };
    let takeover = find_takeovers(schema, &old_obj, &out, &managed, &current, &ignored);
    take_over(&mut managed, &takeover, &current);
    let c = &takeover.comparison;
    let set = c
        .modified
        .union(&c.added)
        .difference(&c.removed)
        .recursive_difference(&ignored)
        .difference(strip_set());
    if !set.is_empty() {
        match managed.get_mut(&key) {
            Some(e) => {
                let s = e.set.union(&set);
                e.set_fields(s);
                e.api_version = req.api_version.to_string();
                e.time = Some(req.now.to_string());
            }
            None => managed.entries.push(Entry {
                key,
                api_version: req.api_version.to_string(),
                time: Some(req.now.to_string()),
                set,
                original: None,
            }),
        }
    }
    cap_update_managers(&mut managed);
    let mut out = out;
    set_managed_fields(&mut out, managed);
    out
}

/// kube-apiserver's `decodeLiveOrNew`.
fn live_or_new_managed(old: Option<&Value>, new: &Value, subresource: Option<&str>) -> Managed {
    let from_old = || old.and_then(|o| Managed::decode(o).ok()).unwrap_or_default();
    if subresource.is_some_and(|s| !s.is_empty()) {
        return from_old();
    }
    if let Some(Value::Array(list)) = new.pointer("/metadata/managedFields") {
        let reset = list.is_empty()
            || (list.len() == 1 && list[0].as_object().is_some_and(|m| m.is_empty()));
        if reset {
            return Managed::default();
        }
    }
    match Managed::decode(new) {
        Ok(m) if !m.is_empty() => m,
        _ => from_old(),
    }
}

/// Folds the oldest `Update` entries into per-version `ancient-changes` buckets until at most
/// [`MAX_UPDATE_MANAGERS`] remain.
fn cap_update_managers(managed: &mut Managed) {
    let mut updaters: Vec<ManagerKey> = managed
        .entries
        .iter()
        .filter(|e| e.key.operation == Operation::Update)
        .map(|e| e.key.clone())
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    let time_of = |m: &Managed, k: &ManagerKey| seconds(m.get(k).and_then(|e| e.time.as_deref()));
    updaters.sort_by(|a, b| {
        time_of(managed, a)
            .cmp(&time_of(managed, b))
            .then_with(|| a.identifier().cmp(&b.identifier()))
    });
    let mut first_of_version: Vec<(String, ManagerKey)> = Vec::new();
    let mut length = updaters.len();
    for k in updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let Some(entry) = managed.get(&k).cloned() else { continue };
        let version = entry.api_version.clone();
        let bucket = ManagerKey {
            manager: "ancient-changes".to_string(),
            operation: Operation::Update,
            api_version: version.clone(),
            subresource: String::new(),
        };
        match first_of_version.iter().find(|(v, _)| *v == version).map(|(_, f)| f.clone()) {
            Some(first) => {
                if managed.get(&bucket).is_none()
                    && let Some(f) = managed.get_mut(&first)
                {
                    f.key = bucket.clone();
                    f.original = None;
                }
                if let Some(b) = managed.get_mut(&bucket) {
                    let s = b.set.union(&entry.set);
                    b.set_fields(s);
                    b.time = entry.time.clone();
                    b.original = None;
                }
                managed.entries.retain(|e| e.key != k);
                length -= 1;
            }
            None => first_of_version.push((version, k)),
        }
    }
}
