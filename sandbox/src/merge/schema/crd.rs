//! Schemas of custom resources, built from a CRD version's `openAPIV3Schema`.
//!
//! `properties` make struct fields, `additionalProperties` a granular map (atomic with
//! `x-kubernetes-map-type: atomic`), arrays are atomic unless `x-kubernetes-list-type` says
//! `set` or `map` (keyed by `x-kubernetes-list-map-keys`, key defaults taken from the item
//! properties' `default`), and `x-kubernetes-preserve-unknown-fields` or a missing type makes
//! a deduced node. `metadata` is always `ObjectMeta`, as kube-apiserver publishes it.

use super::builtin::{B, object_meta};
use super::{
    Arena, DEDUCED, ListNode, ListType, Node, NodeId, ObjectNode, PatchStrategy, SCALAR, Schema,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Errors building a schema from a CRD.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SchemaError {
    /// The CRD has no version of that name.
    #[error("CustomResourceDefinition {crd}: no version {version:?}")]
    NoSuchVersion {
        /// The CRD's name.
        crd: String,
        /// The version asked for.
        version: String,
    },
    /// A `x-kubernetes-list-type: map` without `x-kubernetes-list-map-keys`.
    #[error("CustomResourceDefinition {crd}: list at {path} has list-type map but no keys")]
    MapListWithoutKeys {
        /// The CRD's name.
        crd: String,
        /// Where in the schema.
        path: String,
    },
}

impl Schema {
    /// Builds the schema of a custom resource from a CustomResourceDefinition object (as JSON)
    /// and the served version's name. A version without a schema gets the generic schema's
    /// semantics (everything deduced); status is a subresource when the version declares it.
    pub fn from_crd(crd: &Value, version: &str) -> Result<Schema, SchemaError> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>")
            .to_string();
        let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
        let v = versions
            .and_then(|vs| {
                vs.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version))
            })
            .ok_or_else(|| SchemaError::NoSuchVersion {
                crd: name.clone(),
                version: version.to_string(),
            })?;
        let status = v.pointer("/subresources/status").is_some();
        let mut b = B { a: Arena::new() };
        let meta = object_meta(&mut b);
        let root = match v.pointer("/schema/openAPIV3Schema") {
            Some(props) => {
                let mut conv = Converter { b: &mut b, crd: &name };
                conv.convert(props, "")?
            }
            None => DEDUCED,
        };
        let root = with_object_meta(&mut b, root, meta);
        Ok(Schema::new(Arc::new(b.a), root, status, false, Arc::new(Value::Object(Map::new()))))
    }
}

/// Makes the root an object whose `metadata` is `ObjectMeta`.
fn with_object_meta(b: &mut B, root: NodeId, meta: NodeId) -> NodeId {
    let mut obj = match &b.a.nodes[root as usize] {
        Node::Object(o) => o.clone(),
        _ => ObjectNode { rest: DEDUCED, ..Default::default() },
    };
    obj.fields.retain(|(n, _)| n != "metadata" && n != "apiVersion" && n != "kind");
    obj.fields.push(("metadata".to_string(), meta));
    obj.fields.push(("apiVersion".to_string(), SCALAR));
    obj.fields.push(("kind".to_string(), SCALAR));
    obj.fields.sort_by(|a, b| a.0.cmp(&b.0));
    obj.atomic = false;
    b.a.push(Node::Object(obj))
}

struct Converter<'a> {
    b: &'a mut B,
    crd: &'a str,
}

impl Converter<'_> {
    fn convert(&mut self, props: &Value, path: &str) -> Result<NodeId, SchemaError> {
        let flag = |k: &str| props.get(k).and_then(Value::as_bool).unwrap_or(false);
        if flag("x-kubernetes-int-or-string") {
            return Ok(SCALAR);
        }
        let ty = props.get("type").and_then(Value::as_str);
        match ty {
            Some("object") => self.object(props, path),
            Some("array") => self.array(props, path),
            Some(_) => Ok(SCALAR),
            None if props.get("properties").is_some() => self.object(props, path),
            None => Ok(DEDUCED),
        }
    }

    fn object(&mut self, props: &Value, path: &str) -> Result<NodeId, SchemaError> {
        let atomic = props.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
        let preserve = props
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut fields = Vec::new();
        if let Some(Value::Object(properties)) = props.get("properties") {
            for (name, sub) in properties {
                let id = self.convert(sub, &format!("{path}.{name}"))?;
                fields.push((name.clone(), id));
            }
        }
        let rest = match props.get("additionalProperties") {
            Some(ap @ Value::Object(_)) => self.convert(ap, &format!("{path}[*]"))?,
            _ => DEDUCED,
        };
        if fields.is_empty()
            && rest == DEDUCED
            && !atomic
            && (preserve || props.get("properties").is_none())
        {
            return Ok(DEDUCED);
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(self.b.a.push(Node::Object(ObjectNode { fields, rest, rest_are_fields: false, atomic })))
    }

    fn array(&mut self, props: &Value, path: &str) -> Result<NodeId, SchemaError> {
        let items = props.get("items");
        let elem = match items {
            Some(items) => self.convert(items, &format!("{path}[]"))?,
            None => DEDUCED,
        };
        let list_type = match props.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => {
                let keys: Vec<String> = props
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|ks| ks.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                if keys.is_empty() {
                    return Err(SchemaError::MapListWithoutKeys {
                        crd: self.crd.to_string(),
                        path: if path.is_empty() { ".".to_string() } else { path.to_string() },
                    });
                }
                ListType::Map(keys)
            }
            _ => ListType::Atomic,
        };
        let mut key_defaults = Vec::new();
        if let ListType::Map(keys) = &list_type {
            for k in keys {
                let default = items.and_then(|i| i.pointer(&format!("/properties/{k}/default")));
                if let Some(d) = default {
                    key_defaults.push((k.clone(), d.clone()));
                }
            }
        }
        Ok(self.b.a.push(Node::List(ListNode {
            elem,
            list_type,
            key_defaults,
            patch: PatchStrategy::Replace,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(schema: Value) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": schema}
            }]}
        })
    }

    #[test]
    fn list_types_and_maps_are_honoured() {
        let s = Schema::from_crd(
            &crd(json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
                "ports": {"type": "array", "x-kubernetes-list-type": "map",
                          "x-kubernetes-list-map-keys": ["port", "protocol"],
                          "items": {"type": "object", "properties": {
                              "port": {"type": "integer"},
                              "protocol": {"type": "string", "default": "TCP"}}}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "sel": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }}}})),
            "v1",
        )
        .unwrap();
        assert!(s.has_status_subresource());
        let at = |p: &[&str]| s.node(s.node_at(p).unwrap()).clone();
        match at(&["spec", "ports"]) {
            Node::List(l) => {
                assert_eq!(l.list_type, ListType::Map(vec!["port".into(), "protocol".into()]));
                assert_eq!(l.key_defaults, vec![("protocol".to_string(), json!("TCP"))]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(at(&["spec", "tags"]), Node::List(l) if l.list_type == ListType::Set));
        assert!(matches!(at(&["spec", "args"]), Node::List(l) if l.list_type == ListType::Atomic));
        assert!(matches!(at(&["spec", "env"]), Node::Object(o) if !o.atomic && !o.rest_are_fields));
        assert!(matches!(at(&["spec", "sel"]), Node::Object(o) if o.atomic));
        assert!(matches!(at(&["spec", "free"]), Node::Deduced));
        assert!(matches!(at(&["metadata", "labels"]), Node::Object(_)));
    }

    #[test]
    fn missing_version_and_keyless_map_list_are_errors() {
        let c = crd(json!({"type": "object"}));
        assert_eq!(
            Schema::from_crd(&c, "v2").unwrap_err(),
            SchemaError::NoSuchVersion { crd: "widgets.example.com".into(), version: "v2".into() }
        );
        let c = crd(json!({"type": "object", "properties": {"l": {
            "type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}}}}));
        assert!(matches!(Schema::from_crd(&c, "v1"), Err(SchemaError::MapListWithoutKeys { .. })));
    }
}
