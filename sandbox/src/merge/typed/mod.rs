//! Schema-aware walks over `serde_json::Value`, as structured-merge-diff does them: the field
//! set of a value, merging a config into a live object, comparing two objects (added,
//! modified, removed paths), removing paths, and validating associative lists (missing or
//! duplicate keys). Pure functions; the apply and update bookkeeping lives in `apply` and
//! `update`.

mod compare;
mod merge;
mod remove;
mod to_set;

pub(crate) use compare::{Comparison, compare};
pub(crate) use merge::merge_into;
pub(crate) use remove::remove_items;
pub(crate) use to_set::{ensure_named_fields_are_members, to_field_set, validate};

use super::fieldset::PathElement;
use super::schema::{ListNode, ListType};
use serde_json::Value;

/// The path element naming a list item: its keys (with defaults for omitted key fields) for
/// an associative list, its value for a set.
pub(crate) fn item_pe(list: &ListNode, item: &Value) -> Result<PathElement, String> {
    match &list.list_type {
        ListType::Map(keys) => {
            let map = match item {
                Value::Object(m) => m,
                Value::Null => {
                    return Err("associative list with keys may not have a null element".into());
                }
                _ => return Err("associative list with keys may not have non-map elements".into()),
            };
            let mut fields = Vec::with_capacity(keys.len());
            for k in keys {
                match map.get(k) {
                    Some(v) => fields.push((k.clone(), v.clone())),
                    None => match list.key_defaults.iter().find(|(n, _)| n == k) {
                        Some((_, d)) => fields.push((k.clone(), d.clone())),
                        None => {
                            return Err(format!(
                                "associative list with keys has an element that omits key field \
                                 {k:?} (and doesn't have default value)"
                            ));
                        }
                    },
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
        ListType::Set => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            v => Ok(PathElement::Value(v.clone())),
        },
        ListType::Atomic => Err("atomic lists have no item paths".into()),
    }
}

/// The path elements of a list's items, first occurrence of each, with their values.
fn index_items<'a>(list: &ListNode, items: &'a [Value]) -> Vec<(PathElement, &'a Value)> {
    let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
    for item in items {
        if let Ok(pe) = item_pe(list, item)
            && !out.iter().any(|(p, _)| *p == pe)
        {
            out.push((pe, item));
        }
    }
    out
}

/// The order structured-merge-diff merges two associative lists in: shared items follow the
/// right-hand order, items only on the left keep their place relative to it. Returns pairs of
/// (left index, right index).
fn interleave(lhs: &[PathElement], rhs: &[PathElement]) -> Vec<(Option<usize>, Option<usize>)> {
    let in_lhs = |pe: &PathElement| lhs.iter().position(|p| p == pe);
    let in_rhs = |pe: &PathElement| rhs.iter().position(|p| p == pe);
    let shared: Vec<usize> = (0..rhs.len()).filter(|&r| in_lhs(&rhs[r]).is_some()).collect();
    let mut next_shared = shared.first().copied();
    let mut shared_i = 1;
    let mut advance = |next: &mut Option<usize>| {
        *next = shared.get(shared_i).copied();
        shared_i += 1;
    };
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            if lhs[li] == rhs[ri] {
                out.push((Some(li), Some(ri)));
                li += 1;
                ri += 1;
                advance(&mut next_shared);
                continue;
            }
            if in_rhs(&lhs[li]).is_some() && next_shared.is_some_and(|n| rhs[n] != lhs[li]) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() && in_rhs(&lhs[li]).is_none() {
            out.push((Some(li), None));
            li += 1;
            continue;
        }
        if ri < rhs.len() {
            out.push((in_lhs(&rhs[ri]), Some(ri)));
            if next_shared.is_some_and(|n| rhs[n] == rhs[ri]) {
                advance(&mut next_shared);
            }
            ri += 1;
        } else {
            // A shared left item whose right twin was already merged.
            li += 1;
        }
    }
    out
}

/// Whether a value counts as empty for structured-merge-diff's "empty promotes to leaf" rule.
fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pes(names: &[&str]) -> Vec<PathElement> {
        names.iter().map(|n| PathElement::Value(json!(n))).collect()
    }

    fn order(lhs: &[&str], rhs: &[&str]) -> Vec<String> {
        let l = pes(lhs);
        let r = pes(rhs);
        interleave(&l, &r)
            .into_iter()
            .map(|(a, b)| match (a, b) {
                (_, Some(r)) => rhs[r].to_string(),
                (Some(l), None) => lhs[l].to_string(),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn interleave_keeps_left_only_items_in_place() {
        assert_eq!(order(&["a", "b", "c"], &["b"]), vec!["a", "b", "c"]);
        assert_eq!(order(&["a", "b"], &["c"]), vec!["a", "b", "c"]);
        assert_eq!(order(&["a", "b", "c"], &["c", "a"]), vec!["b", "c", "a"]);
        assert_eq!(order(&[], &["x", "y"]), vec!["x", "y"]);
    }
}
