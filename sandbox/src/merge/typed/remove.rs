//! Removing owned paths from an object (structured-merge-diff's `RemoveItems`): a member path
//! is removed with everything below it; a map or list emptied by removal disappears.

use super::item_pe;
use crate::merge::fieldset::{FieldSet, PathElement};
use crate::merge::schema::{Atom, ListType, NodeId, Schema};
use serde_json::{Map, Value};

/// `v` without the paths of `set`; `None` when nothing is left of a non-empty container.
pub(crate) fn remove_items(
    schema: &Schema,
    id: NodeId,
    v: &Value,
    set: &FieldSet,
) -> Option<Value> {
    if set.is_empty() {
        return Some(v.clone());
    }
    match schema.atom(id, Some(v)) {
        Atom::Scalar => Some(v.clone()),
        Atom::List(l) => {
            let Value::Array(items) = v else { return Some(v.clone()) };
            if l.list_type == ListType::Atomic || items.is_empty() {
                return Some(v.clone());
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let Ok(pe) = item_pe(l, item) else {
                    out.push(item.clone());
                    continue;
                };
                if set.has_member(&pe) {
                    continue;
                }
                match set.with_prefix(&pe) {
                    Some(sub) => out.extend(remove_items(schema, l.elem, item, sub)),
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        Atom::Object(o) => {
            let Value::Object(map) = v else { return Some(v.clone()) };
            if o.atomic || map.is_empty() {
                return Some(v.clone());
            }
            let mut out = Map::new();
            for (k, val) in map {
                let pe = PathElement::Field(k.clone());
                if set.has_member(&pe) {
                    continue;
                }
                match set.with_prefix(&pe) {
                    Some(sub) => {
                        if let Some(x) = remove_items(schema, schema.field(o, k).0, val, sub) {
                            out.insert(k.clone(), x);
                        }
                    }
                    None => {
                        out.insert(k.clone(), val.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
    }
}
