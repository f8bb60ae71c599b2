//! Strategic merge patch (`application/strategic-merge-patch+json`) as kube-apiserver applies
//! it to built-in kinds, and JSON merge patch (RFC 7386, `application/merge-patch+json`).
//!
//! Strategic merge patch merges maps recursively (`null` deletes a key), replaces lists unless
//! their Go field is tagged `patchStrategy: merge`, in which case lists of maps merge by the
//! `patchMergeKey` and lists of scalars merge as sets. Directives: `$patch: replace|delete` in
//! a map or as a list item, `$retainKeys`, `$deleteFromPrimitiveList/<field>`, and
//! `$setElementOrder/<field>` (the order kubectl wants a merged list in). This is what
//! `kubectl apply` (client-side), `kubectl scale`, `label`, `annotate` and `rollout restart`
//! send. Custom resources do not support it (the server answers 415).

use super::bookkeeping::strip_nulls;
use super::fieldset::path::values_equal;
use super::schema::{Atom, NodeId, PatchStrategy, Schema};
use serde_json::{Map, Value};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVES: &str = "$deleteFromPrimitiveList/";

/// Errors applying a patch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The object or the patch is not a JSON object.
    #[error("patch: the object and the patch must both be JSON objects")]
    NotAnObject,
    /// A `$patch` directive other than `replace` or `delete` in a map.
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType {
        /// The directive.
        directive: String,
        /// The map it was found in.
        map: String,
    },
    /// An item of a merging list without the merge key.
    #[error("map: {item} does not contain declared merge key: {key}")]
    NoMergeKey {
        /// The item.
        item: String,
        /// The merge key.
        key: String,
    },
    /// `$patch: merge` as a list item.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeListDirective,
    /// A list item that is not a map where maps are merged by key.
    #[error("patch: list items of a list merged by key must be objects, got {0}")]
    NotAMap(String),
}

/// Applies a strategic merge patch to `live` under the schema of a built-in kind.
pub fn strategic_merge_patch(
    live: &Value,
    patch: &Value,
    schema: &Schema,
) -> Result<Value, PatchError> {
    let (Value::Object(original), Value::Object(p)) = (live, patch) else {
        return Err(PatchError::NotAnObject);
    };
    let merged = merge_map(schema, schema.root(), original.clone(), p)?;
    let mut out = Value::Object(merged);
    strip_nulls(&mut out);
    Ok(out)
}

/// Applies an RFC 7386 JSON merge patch.
pub fn json_merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else { return patch.clone() };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = json_merge_patch(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

fn merge_map(
    s: &Schema,
    id: NodeId,
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(d) = patch.get(PATCH) {
        return match d.as_str() {
            Some("replace") => {
                let mut p = patch.clone();
                p.remove(PATCH);
                Ok(p)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(PatchError::BadPatchType {
                directive: d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string()),
                map: Value::Object(patch.clone()).to_string(),
            }),
        };
    }
    if let Some(Value::Array(keep)) = patch.get(RETAIN_KEYS) {
        original.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    let obj = match s.atom(id, Some(&Value::Object(Map::new()))) {
        Atom::Object(o) => Some(o),
        _ => None,
    };
    let field = |k: &str| obj.map(|o| s.field(o, k).0).unwrap_or(super::schema::DEDUCED);
    let mut ordered = Vec::new();
    for (k, order) in patch {
        if let Some(f) = k.strip_prefix(SET_ORDER) {
            let merged = set_element_order(s, field(f), original.get(f), patch.get(f), order)?;
            if let Some(m) = merged {
                original.insert(f.to_string(), m);
            }
            ordered.push(f.to_string());
        }
    }
    for (k, pv) in patch {
        if k == PATCH || k == RETAIN_KEYS || k.starts_with(SET_ORDER) || ordered.contains(k) {
            continue;
        }
        if let Some(f) = k.strip_prefix(DELETE_PRIMITIVES) {
            if let (Some(Value::Array(items)), Value::Array(del)) = (original.get(f), pv) {
                let kept: Vec<Value> = items
                    .iter()
                    .filter(|x| !del.iter().any(|d| values_equal(d, x)))
                    .cloned()
                    .collect();
                original.insert(f.to_string(), Value::Array(kept));
            }
            continue;
        }
        if pv.is_null() {
            original.remove(k);
            continue;
        }
        let child = field(k);
        let merged = match (original.remove(k), pv) {
            (Some(Value::Object(o)), Value::Object(p)) => {
                Some(Value::Object(merge_map(s, child, o, p)?))
            }
            (Some(Value::Array(o)), Value::Array(p)) => {
                Some(Value::Array(merge_list(s, child, &o, p)?))
            }
            (None, Value::Object(p)) if p.get(PATCH).and_then(Value::as_str) == Some("delete") => {
                None
            }
            (None, Value::Object(p)) => Some(Value::Object(merge_map(s, child, Map::new(), p)?)),
            (None, Value::Array(p)) => Some(Value::Array(merge_list(s, child, &[], p)?)),
            (_, other) => Some(other.clone()),
        };
        if let Some(m) = merged {
            original.insert(k.clone(), m);
        }
    }
    Ok(original)
}

/// The strategy of the list at `id`.
fn strategy(s: &Schema, id: NodeId) -> PatchStrategy {
    match s.atom(id, Some(&Value::Array(Vec::new()))) {
        Atom::List(l) => l.patch.clone(),
        _ => PatchStrategy::Replace,
    }
}

fn elem(s: &Schema, id: NodeId) -> NodeId {
    match s.atom(id, Some(&Value::Array(Vec::new()))) {
        Atom::List(l) => l.elem,
        _ => super::schema::DEDUCED,
    }
}

/// Merges a list; the result is ordered as the patch lists its items, server-only items kept
/// in their place.
fn merge_list(
    s: &Schema,
    id: NodeId,
    original: &[Value],
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let (merged, original, order, key) = merge_list_items(s, id, original, patch)?;
    let Some(key) = key else { return Ok(merged) };
    let key = key.as_deref();
    let (in_patch, server_only) = partition(merged, &order, key);
    Ok(normalize(in_patch, server_only, &order, &original, key))
}

/// The merged items (unordered), the effective original and patch lists, and the merge key
/// (`Some(None)` for scalar sets, `None` when the list is replaced).
#[allow(clippy::type_complexity)]
fn merge_list_items(
    s: &Schema,
    id: NodeId,
    original: &[Value],
    patch: &[Value],
) -> Result<(Vec<Value>, Vec<Value>, Vec<Value>, Option<Option<String>>), PatchError> {
    let key = match strategy(s, id) {
        PatchStrategy::Replace => return Ok((patch.to_vec(), Vec::new(), Vec::new(), None)),
        PatchStrategy::Merge(None) => None,
        PatchStrategy::Merge(Some(k)) => Some(k),
    };
    let Some(key) = key else {
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.iter().chain(patch.iter()) {
            if !merged.iter().any(|m| values_equal(m, v)) {
                merged.push(v.clone());
            }
        }
        return Ok((merged, original.to_vec(), patch.to_vec(), Some(None)));
    };
    let mut base = original.to_vec();
    let mut items = Vec::with_capacity(patch.len());
    let mut replace = false;
    for p in patch {
        let Value::Object(pm) = p else { return Err(PatchError::NotAMap(p.to_string())) };
        match pm.get(PATCH).and_then(Value::as_str) {
            None => items.push(pm),
            Some("delete") => {
                let Some(kv) = pm.get(&key) else {
                    return Err(PatchError::NoMergeKey { item: p.to_string(), key });
                };
                base.retain(|o| !o.get(&key).is_some_and(|x| values_equal(x, kv)));
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(PatchError::MergeListDirective),
            Some(other) => {
                return Err(PatchError::BadPatchType {
                    directive: other.into(),
                    map: p.to_string(),
                });
            }
        }
    }
    let elem = elem(s, id);
    if replace {
        let replaced = items
            .iter()
            .map(|m| merge_map(s, elem, Map::new(), m).map(Value::Object))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((replaced.clone(), replaced, Vec::new(), Some(Some(key))));
    }
    let mut merged = base.clone();
    let mut order = Vec::with_capacity(items.len());
    for pm in items {
        let Some(kv) = pm.get(&key) else {
            return Err(PatchError::NoMergeKey {
                item: Value::Object(pm.clone()).to_string(),
                key,
            });
        };
        order.push(Value::Object(pm.clone()));
        match merged.iter().position(|o| o.get(&key).is_some_and(|x| values_equal(x, kv))) {
            Some(i) => {
                let o = merged[i].as_object().cloned().unwrap_or_default();
                merged[i] = Value::Object(merge_map(s, elem, o, pm)?);
            }
            None => merged.push(Value::Object(merge_map(s, elem, Map::new(), pm)?)),
        }
    }
    Ok((merged, base, order, Some(Some(key))))
}

/// `$setElementOrder/<field>`: merges the field's patch list (if any) and orders the result.
fn set_element_order(
    s: &Schema,
    id: NodeId,
    original: Option<&Value>,
    patch: Option<&Value>,
    order: &Value,
) -> Result<Option<Value>, PatchError> {
    let empty = Vec::new();
    let original = original.and_then(Value::as_array);
    let patch_list = patch.and_then(Value::as_array);
    if original.is_none() && patch_list.is_none() {
        return Ok(None);
    }
    let order = order.as_array().unwrap_or(&empty);
    let (merged, base, key) =
        match merge_list_items(s, id, original.unwrap_or(&empty), patch_list.unwrap_or(&empty))? {
            (merged, base, _, Some(key)) => (merged, base, key),
            (merged, _, _, None) => return Ok(Some(Value::Array(merged))),
        };
    let key = key.as_deref();
    let (in_order, server_only) = partition(merged, order, key);
    Ok(Some(Value::Array(normalize(in_order, server_only, order, &base, key))))
}

/// Position of `item` in `list`, matching by merge key (maps) or value (scalars).
fn index_of(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    list.iter().position(|x| match key {
        Some(k) => matches!((x.get(k), item.get(k)), (Some(a), Some(b)) if values_equal(a, b)),
        None => values_equal(x, item),
    })
}

/// Splits items into those listed in `order` and the rest.
fn partition(items: Vec<Value>, order: &[Value], key: Option<&str>) -> (Vec<Value>, Vec<Value>) {
    items.into_iter().partition(|v| index_of(order, v, key).is_some())
}

/// kube-apiserver's `normalizeElementOrder`: sorts patch items by the patch order and
/// server-only items by the original order, then interleaves them, a server-only item going
/// before a patch item when it came before it in the original list.
fn normalize(
    mut patch_items: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    patch_items.sort_by_key(|v| index_of(patch_order, v, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|v| index_of(server_order, v, key).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let (mut i, mut j) = (0, 0);
    while i < server_only.len() || j < patch_items.len() {
        let take_left = if i >= server_only.len() {
            false
        } else if j >= patch_items.len() {
            true
        } else {
            match (
                index_of(server_order, &server_only[i], key),
                index_of(server_order, &patch_items[j], key),
            ) {
                (Some(l), Some(r)) => l < r,
                _ => false,
            }
        };
        if take_left {
            out.push(server_only[i].clone());
            i += 1;
        } else {
            out.push(patch_items[j].clone());
            j += 1;
        }
    }
    out
}
