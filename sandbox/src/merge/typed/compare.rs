//! Comparing two versions of an object: which leaf paths were added, modified or removed
//! (structured-merge-diff's `TypedValue.Compare`). Non-leaf nodes that appear or disappear as
//! a whole are recorded too, which is where the `".": {}` of an update's field set comes from.

use super::{index_items, interleave, to_set::both_empty};
use crate::merge::fieldset::path::values_equal;
use crate::merge::fieldset::{FieldSet, Path, PathElement};
use crate::merge::schema::{Atom, ListType, NodeId, Schema};
use serde_json::Value;

/// The difference between an old and a new object.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) added: FieldSet,
    pub(crate) modified: FieldSet,
    pub(crate) removed: FieldSet,
}

impl Comparison {
    /// Drops paths at or below the ignored set (structured-merge-diff's `ExcludeFields`).
    pub(crate) fn exclude(&self, ignored: &FieldSet) -> Comparison {
        Comparison {
            added: self.added.recursive_difference(ignored),
            modified: self.modified.recursive_difference(ignored),
            removed: self.removed.recursive_difference(ignored),
        }
    }
}

/// Compares `lhs` (old) with `rhs` (new) under the schema.
pub(crate) fn compare(schema: &Schema, id: NodeId, lhs: &Value, rhs: &Value) -> Comparison {
    let mut c = Comparison::default();
    let mut path = Vec::new();
    walk(schema, id, Some(lhs), Some(rhs), &mut path, &mut c);
    c
}

fn leaf(lhs: Option<&Value>, rhs: Option<&Value>, path: &Path, c: &mut Comparison) {
    match (lhs, rhs) {
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(a), Some(b)) if !values_equal(a, b) => c.modified.insert(path),
        _ => {}
    }
}

fn walk(
    schema: &Schema,
    id: NodeId,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Path,
    c: &mut Comparison,
) {
    // Equal subtrees contribute nothing; most of an object is unchanged.
    if let (Some(a), Some(b)) = (lhs, rhs)
        && (a.is_object() || a.is_array())
        && values_equal(a, b)
    {
        return;
    }
    match schema.atom2(id, lhs, rhs) {
        Atom::Scalar => return leaf(lhs, rhs, path, c),
        Atom::List(l) => {
            if l.list_type == ListType::Atomic || both_empty(lhs, rhs) {
                return leaf(lhs, rhs, path, c);
            }
            let empty = Vec::new();
            let li = index_items(l, lhs.and_then(Value::as_array).unwrap_or(&empty));
            let ri = index_items(l, rhs.and_then(Value::as_array).unwrap_or(&empty));
            let lpes: Vec<_> = li.iter().map(|(p, _)| p.clone()).collect();
            let rpes: Vec<_> = ri.iter().map(|(p, _)| p.clone()).collect();
            for (a, b) in interleave(&lpes, &rpes) {
                let pe = match (a, b) {
                    (_, Some(r)) => rpes[r].clone(),
                    (Some(l), None) => lpes[l].clone(),
                    _ => continue,
                };
                path.push(pe);
                walk(schema, l.elem, a.map(|i| li[i].1), b.map(|i| ri[i].1), path, c);
                path.pop();
            }
        }
        Atom::Object(o) => {
            if o.atomic || both_empty(lhs, rhs) {
                return leaf(lhs, rhs, path, c);
            }
            let lm = lhs.and_then(Value::as_object);
            let rm = rhs.and_then(Value::as_object);
            if let Some(lm) = lm {
                for (k, lv) in lm {
                    path.push(PathElement::Field(k.clone()));
                    walk(
                        schema,
                        schema.field(o, k).0,
                        Some(lv),
                        rm.and_then(|m| m.get(k)),
                        path,
                        c,
                    );
                    path.pop();
                }
            }
            if let Some(rm) = rm {
                for (k, rv) in rm {
                    if lm.is_some_and(|m| m.contains_key(k)) {
                        continue;
                    }
                    path.push(PathElement::Field(k.clone()));
                    walk(schema, schema.field(o, k).0, None, Some(rv), path, c);
                    path.pop();
                }
            }
        }
    }
    // A granular node that appeared or disappeared as a whole.
    match (lhs, rhs) {
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_maps_are_recorded_with_their_leaves() {
        let s = Schema::builtin("v1", "ConfigMap").unwrap();
        let c = compare(
            &s,
            s.root(),
            &json!({"metadata": {"name": "x"}}),
            &json!({"metadata": {"name": "x"}, "data": {"a": "1"}}),
        );
        assert_eq!(c.added.to_fields_v1_string(), r#"{"f:data":{".":{},"f:a":{}}}"#);
        assert!(c.modified.is_empty() && c.removed.is_empty());
    }
}
