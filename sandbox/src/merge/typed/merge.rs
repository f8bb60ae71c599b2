//! Merging an applied configuration into a live object (structured-merge-diff's
//! `TypedValue.Merge` with the keep-right rule): scalars and atomic values are replaced, maps
//! merged by key, associative lists merged by item key in the interleaved order.

use super::{index_items, interleave, to_set::both_empty};
use crate::merge::schema::{Atom, ListType, NodeId, Schema};
use serde_json::{Map, Value};

/// Merges `rhs` (the configuration) into `lhs` (a copy of the live value) in place, without
/// rebuilding the parts the configuration does not touch. `rhs` must have no duplicate list
/// keys (the configuration is validated first).
pub(crate) fn merge_into(schema: &Schema, id: NodeId, lhs: &mut Value, rhs: &Value) {
    match schema.atom2(id, Some(lhs), Some(rhs)) {
        Atom::Scalar => *lhs = rhs.clone(),
        Atom::List(l) => {
            if l.list_type == ListType::Atomic || both_empty(Some(lhs), Some(rhs)) {
                *lhs = rhs.clone();
                return;
            }
            let Value::Array(ritems) = rhs else { return };
            let mut litems = match std::mem::take(lhs) {
                Value::Array(items) => items,
                _ => Vec::new(),
            };
            let lpes: Vec<_> = litems.iter().map(|i| super::item_pe(l, i).ok()).collect();
            let ri = index_items(l, ritems);
            // First occurrence of each key on the left, as index_items keeps.
            let mut lfirst: Vec<(crate::merge::fieldset::PathElement, usize)> = Vec::new();
            for (i, pe) in lpes.iter().enumerate() {
                if let Some(pe) = pe
                    && !lfirst.iter().any(|(p, _)| p == pe)
                {
                    lfirst.push((pe.clone(), i));
                }
            }
            let lkeys: Vec<_> = lfirst.iter().map(|(p, _)| p.clone()).collect();
            let rkeys: Vec<_> = ri.iter().map(|(p, _)| p.clone()).collect();
            let mut out = Vec::with_capacity(litems.len().max(ritems.len()));
            for (a, b) in interleave(&lkeys, &rkeys) {
                let left = a.map(|i| std::mem::take(&mut litems[lfirst[i].1]));
                match (left, b) {
                    (Some(mut item), Some(r)) => {
                        merge_into(schema, l.elem, &mut item, ri[r].1);
                        out.push(item);
                    }
                    (Some(item), None) => out.push(item),
                    (None, Some(r)) => out.push(ri[r].1.clone()),
                    (None, None) => {}
                }
            }
            *lhs = Value::Array(out);
        }
        Atom::Object(o) => {
            if o.atomic || both_empty(Some(lhs), Some(rhs)) {
                *lhs = rhs.clone();
                return;
            }
            let Value::Object(rm) = rhs else { return };
            if !lhs.is_object() {
                *lhs = Value::Object(Map::new());
            }
            let Value::Object(lm) = lhs else { return };
            for (k, rv) in rm {
                match lm.get_mut(k) {
                    Some(lv) => merge_into(schema, schema.field(o, k).0, lv, rv),
                    None => {
                        lm.insert(k.clone(), rv.clone());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_atomic_lists_replace() {
        let s = Schema::builtin("v1", "Pod").unwrap();
        let live = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "args": ["x", "y"]},
            {"name": "b", "image": "b:1"}]}});
        let config = json!({"spec": {"containers": [{"name": "a", "args": ["z"]}]}});
        let mut out = live.clone();
        merge_into(&s, s.root(), &mut out, &config);
        assert_eq!(
            out,
            json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "args": ["z"]},
            {"name": "b", "image": "b:1"}]}})
        );
    }
}
