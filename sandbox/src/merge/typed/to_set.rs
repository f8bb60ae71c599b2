//! The field set of a value (what an applier owns), validation of associative lists, and
//! structured-merge-diff's `EnsureNamedFieldsAreMembers`.

use super::{is_empty_container, item_pe};
use crate::merge::fieldset::{DisplayPath, FieldSet, Path, PathElement};
use crate::merge::schema::{Atom, Node, NodeId, SCALAR, Schema};
use serde_json::Value;

/// The set of fields a value sets: scalars, atomic lists and maps, associative-list items,
/// map entries, and null values. Struct fields holding objects are not members themselves.
/// Items whose keys cannot be computed are skipped (see [`validate`]).
pub(crate) fn to_field_set(schema: &Schema, id: NodeId, v: &Value) -> FieldSet {
    match schema.atom(id, Some(v)) {
        Atom::Object(o) if !o.atomic => object_contents(schema, o, v),
        Atom::List(l) if l.list_type != crate::merge::schema::ListType::Atomic => {
            list_contents(schema, l, v)
        }
        _ => FieldSet::new(),
    }
}

fn entry(schema: &Schema, id: NodeId, v: &Value, parent: &mut FieldSet, pe: PathElement) {
    match schema.atom(id, Some(v)) {
        Atom::Scalar => parent.insert_member(pe),
        Atom::Object(o) if o.atomic => parent.insert_member(pe),
        Atom::List(l) if l.list_type == crate::merge::schema::ListType::Atomic => {
            parent.insert_member(pe)
        }
        Atom::Object(o) => {
            if v.is_object() {
                parent.insert_child(pe, object_contents(schema, o, v));
            }
        }
        Atom::List(l) => {
            if v.is_array() {
                parent.insert_child(pe, list_contents(schema, l, v));
            }
        }
    }
}

fn object_contents(schema: &Schema, o: &crate::merge::schema::ObjectNode, v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Value::Object(map) = v {
        for (k, val) in map {
            let (fid, named) = schema.field(o, k);
            let pe = PathElement::Field(k.clone());
            entry(schema, fid, val, &mut set, pe.clone());
            if !named {
                set.insert_member(pe);
            }
        }
    }
    set
}

fn list_contents(schema: &Schema, l: &crate::merge::schema::ListNode, v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Value::Array(items) = v {
        for item in items {
            if let Ok(pe) = item_pe(l, item) {
                entry(schema, l.elem, item, &mut set, pe.clone());
                set.insert_member(pe);
            }
        }
    }
    set
}

/// Validates associative lists the way kube-apiserver validates an applied configuration:
/// every item must have its key fields and no key may repeat. Returns messages of the form
/// `.spec.containers: duplicate entries for key [name="web"]`.
pub(crate) fn validate(schema: &Schema, id: NodeId, v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let mut path = Vec::new();
    walk_validate(schema, id, v, &mut path, &mut errs);
    errs
}

/// A step of the validation path; fields are borrowed so that valid objects cost no
/// allocation per field.
enum Seg<'a> {
    Field(&'a str),
    Item(PathElement),
}

fn display(path: &[Seg<'_>]) -> String {
    let owned: Path = path
        .iter()
        .map(|s| match s {
            Seg::Field(f) => PathElement::Field(f.to_string()),
            Seg::Item(pe) => pe.clone(),
        })
        .collect();
    DisplayPath(&owned).to_string()
}

fn walk_validate<'a>(
    schema: &Schema,
    id: NodeId,
    v: &'a Value,
    path: &mut Vec<Seg<'a>>,
    errs: &mut Vec<String>,
) {
    match schema.atom(id, Some(v)) {
        Atom::Object(o) if !o.atomic => {
            if let Value::Object(map) = v {
                for (k, val) in map {
                    path.push(Seg::Field(k));
                    walk_validate(schema, schema.field(o, k).0, val, path, errs);
                    path.pop();
                }
            }
        }
        Atom::List(l) if l.list_type != crate::merge::schema::ListType::Atomic => {
            let Value::Array(items) = v else { return };
            let mut seen: Vec<PathElement> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item_pe(l, item) {
                    Err(e) => errs.push(format!("{}: element {i}: {e}", display(path))),
                    Ok(pe) if seen.contains(&pe) => {
                        errs.push(format!("{}: duplicate entries for key {pe}", display(path)));
                    }
                    Ok(pe) => {
                        path.push(Seg::Item(pe.clone()));
                        walk_validate(schema, l.elem, item, path, errs);
                        path.pop();
                        seen.push(pe);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Adds, at every level, the named struct fields that have owned children as members, so that
/// removing them removes the whole field (structured-merge-diff's
/// `EnsureNamedFieldsAreMembers`). Map entries and list items are not added.
pub(crate) fn ensure_named_fields_are_members(
    schema: &Schema,
    id: NodeId,
    set: &FieldSet,
) -> FieldSet {
    let obj = match schema.node(id) {
        Node::Object(o) => Some(o.clone()),
        Node::Open => Some(crate::merge::schema::ObjectNode {
            rest: crate::merge::schema::OPEN,
            rest_are_fields: true,
            ..Default::default()
        }),
        Node::Deduced => Some(crate::merge::schema::ObjectNode {
            rest: crate::merge::schema::DEDUCED,
            ..Default::default()
        }),
        _ => None,
    };
    let list_elem = match schema.node(id) {
        Node::List(l) => Some(l.elem),
        _ => None,
    };
    let mut out = set.clone();
    for (pe, child) in set.children() {
        let child_id = match (pe, &obj, list_elem) {
            (PathElement::Field(name), Some(o), _) => {
                let (fid, named) = schema.field(o, name);
                if named {
                    out.insert_member(pe.clone());
                }
                fid
            }
            (PathElement::Key(_), _, Some(elem)) => elem,
            _ => SCALAR,
        };
        let ensured = ensure_named_fields_are_members(schema, child_id, child);
        let slot = out.children_mut().iter_mut().find(|(p, _)| p == pe);
        if let Some((_, s)) = slot {
            *s = ensured;
        }
    }
    out
}

/// Whether both sides are empty (absent, null, `[]` or `{}`).
pub(crate) fn both_empty(a: Option<&Value>, b: Option<&Value>) -> bool {
    is_empty_container(a) && is_empty_container(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_config_field_set() {
        let s = Schema::builtin("apps/v1", "Deployment").unwrap();
        let v = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx",
                    "ports": [{"containerPort": 80}]}]}}}
        });
        let set = to_field_set(&s, s.root(), &v);
        assert_eq!(
            set.to_fields_v1_string(),
            concat!(
                r#"{"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:labels":{"f:app":{}},"f:name":{}},"#,
                r#""f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"#,
                r#""k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"#,
                r#""k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#
            )
        );
    }

    #[test]
    fn validation_reports_missing_and_duplicate_keys() {
        let s = Schema::builtin("v1", "Service").unwrap();
        // `port` defaults to 0 (a non-pointer Go field), `protocol` to TCP.
        let v = json!({"spec": {"ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}, {"name": "x"}, {"port": 0}]}});
        assert_eq!(
            validate(&s, s.root(), &v),
            vec![
                r#".spec.ports: duplicate entries for key [port=80,protocol="TCP"]"#.to_string(),
                r#".spec.ports: duplicate entries for key [port=0,protocol="TCP"]"#.to_string(),
            ]
        );
    }
}
