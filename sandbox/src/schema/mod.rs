//! Structural schemas of the served kinds, compiled for fast walking, and the walk that
//! finds unknown fields (reported for `fieldValidation=Strict|Warn` and pruned, as
//! apiserver's decoding drops them) and values of the wrong type.
//!
//! Built-in schemas come from k8s-openapi's `schemars` implementations ([`builtin`]); CRD
//! schemas from `openAPIV3Schema`. This module does not know list merge keys or defaults
//! (the merge module does) and does not produce openapi documents ([`crate::openapi`]).

pub mod builtin;
pub mod defaults;

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The JSON types a schema can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `string`.
    String,
    /// `integer`, with its Go width for messages.
    Integer(&'static str),
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
}

#[derive(Debug, Clone)]
enum Node {
    /// An object with known properties; `additional` describes map values; `open` objects
    /// keep any field (`x-kubernetes-preserve-unknown-fields`, or no properties at all).
    Object {
        props: HashMap<String, usize>,
        additional: Option<usize>,
        open: bool,
        embedded: bool,
        /// Fields without `omitempty` in the Go type (kube-openapi's `required`).
        required: Vec<String>,
    },
    Array(usize),
    Scalar(Scalar),
    IntOrString,
    /// apimachinery's `resource.Quantity`: a string or number, stored canonical.
    Quantity,
    Any,
}

/// The definition kube-openapi names `resource.Quantity` by.
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// apiextensions' `JSON` (a CRD schema's `enum` items, `default`, `example`): any JSON
/// value, though its published schema says `type: object`.
const ANY_JSON: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";

/// A compiled set of schemas: an arena of nodes and named roots.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    names: HashMap<String, usize>,
    /// Per node: whether a Quantity, a list or a map is reachable from it (the
    /// round-trip walk skips the rest).
    round_trips: Vec<bool>,
}

/// One compiled schema and the node to start from.
#[derive(Debug, Clone)]
pub struct SchemaRef {
    /// The arena.
    pub schema: Arc<Schema>,
    /// The root node (the kind's object).
    pub root: usize,
    /// The Go type name of the root for messages (`Deployment`).
    pub type_name: String,
}

/// A value whose JSON type is not the schema's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    /// Field path, e.g. `spec.replicas`.
    pub path: String,
    /// The expected type as Go names it (`int32`, `string`, `bool`, `object`, `array`).
    pub expected: String,
    /// The JSON type found (`string`, `number`, ...).
    pub found: &'static str,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Paths of unknown fields, e.g. `spec.template.spec.containers[0].foo`.
    pub unknown: Vec<String>,
    /// Values of the wrong type.
    pub mismatches: Vec<TypeMismatch>,
}

/// The JSON type name of a value.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    let r = schema.get("$ref").and_then(Value::as_str).or_else(|| {
        let all = schema.get("allOf")?.as_array()?;
        match all.as_slice() {
            [only] => only.get("$ref")?.as_str(),
            _ => None,
        }
    })?;
    r.rsplit('/').next()
}

struct Compiler<'a> {
    defs: &'a Map<String, Value>,
    nodes: Vec<Node>,
    names: HashMap<String, usize>,
}

impl Compiler<'_> {
    fn def(&mut self, name: &str) -> usize {
        if let Some(id) = self.names.get(name) {
            return *id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::Any);
        self.names.insert(name.to_string(), id);
        if name == QUANTITY {
            self.nodes[id] = Node::Quantity;
            return id;
        }
        if name == ANY_JSON {
            return id;
        }
        if let Some(schema) = self.defs.get(name) {
            let node = self.node(schema);
            self.nodes[id] = node;
        }
        id
    }

    fn push(&mut self, schema: &Value) -> usize {
        if let Some(name) = ref_name(schema) {
            return self.def(name);
        }
        let node = self.node(schema);
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn node(&mut self, schema: &Value) -> Node {
        if let Some(name) = ref_name(schema) {
            let id = self.def(name);
            return self.nodes[id].clone();
        }
        if schema.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return Node::IntOrString;
        }
        let preserve = schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool)
            == Some(true);
        match schema.get("type").and_then(Value::as_str) {
            Some("object") | None
                if schema.get("properties").is_some()
                    || schema.get("additionalProperties").is_some() =>
            {
                self.object(schema, preserve)
            }
            Some("object") => Node::Object {
                props: HashMap::new(),
                additional: None,
                open: true,
                embedded: false,
                required: Vec::new(),
            },
            Some("array") => match schema.get("items") {
                Some(items) => Node::Array(self.push(items)),
                None => Node::Array(self.any()),
            },
            Some("string") => Node::Scalar(Scalar::String),
            Some("integer") => {
                Node::Scalar(Scalar::Integer(match schema.get("format").and_then(Value::as_str) {
                    Some("int32") => "int32",
                    _ => "int64",
                }))
            }
            Some("number") => Node::Scalar(Scalar::Number),
            Some("boolean") => Node::Scalar(Scalar::Boolean),
            _ => Node::Any,
        }
    }

    fn any(&mut self) -> usize {
        self.nodes.push(Node::Any);
        self.nodes.len() - 1
    }

    fn object(&mut self, schema: &Value, preserve: bool) -> Node {
        let mut props = HashMap::new();
        if let Some(p) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in p {
                let id = self.push(v);
                props.insert(k.clone(), id);
            }
        }
        let additional = match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => Some(self.any()),
            Some(v @ Value::Object(_)) => Some(self.push(v)),
            _ => None,
        };
        let embedded =
            schema.get("x-kubernetes-embedded-resource").and_then(Value::as_bool) == Some(true);
        let open = preserve || (props.is_empty() && additional.is_none());
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        Node::Object { props, additional, open, embedded, required }
    }
}

impl Schema {
    /// Compiles named definitions (as in `components.schemas`), starting from `roots`.
    pub fn compile(defs: &Map<String, Value>, roots: &[&str]) -> Self {
        let mut c = Compiler { defs, nodes: Vec::new(), names: HashMap::new() };
        for root in roots {
            c.def(root);
        }
        let round_trips = reaches_containers(&c.nodes);
        Self { nodes: c.nodes, names: c.names, round_trips }
    }

    /// Compiles one inline schema (a CRD's `openAPIV3Schema`) under the name `root`.
    pub fn compile_inline(root: &str, schema: &Value) -> Self {
        let mut defs = Map::new();
        defs.insert(root.to_string(), schema.clone());
        Self::compile(&defs, &[root])
    }

    /// The node of a named definition.
    pub fn root(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }

    /// Walks `value` from node `id`, collecting unknown fields and type mismatches; with
    /// `prune`, unknown fields and nulls are removed (as decoding into the typed object
    /// drops them).
    pub fn walk(
        &self,
        id: usize,
        value: &mut Value,
        path: &mut String,
        prune: bool,
        report: &mut Report,
    ) {
        match (&self.nodes[id], value) {
            (Node::Any, _) => {}
            // Checked (and canonicalized) by `round_trip`.
            (Node::Quantity, _) => {}
            (Node::IntOrString, Value::Number(_) | Value::String(_)) => {}
            (Node::IntOrString, v) => mismatch(report, path, "intstr.IntOrString", v),
            (Node::Scalar(s), v) => check_scalar(*s, v, path, report),
            (Node::Array(items), Value::Array(a)) => {
                let base = path.len();
                for (i, item) in a.iter_mut().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    self.walk(*items, item, path, prune, report);
                    path.truncate(base);
                }
            }
            (Node::Array(_), v) => mismatch(report, path, "array", v),
            (Node::Object { props, additional, open, embedded, .. }, Value::Object(map)) => {
                let mut unknown = Vec::new();
                let base = path.len();
                for (k, v) in map.iter_mut() {
                    if v.is_null() {
                        continue;
                    }
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if let Some(child) = props.get(k) {
                        self.walk(*child, v, path, prune, report);
                    } else if let Some(child) = additional {
                        self.walk(*child, v, path, prune, report);
                    } else if *embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                    {
                        // Embedded resources carry their own type meta and metadata.
                    } else if !open {
                        report.unknown.push(path.clone());
                        unknown.push(k.clone());
                    }
                    path.truncate(base);
                }
                if prune {
                    for k in unknown {
                        map.remove(&k);
                    }
                    map.retain(|_, v| !v.is_null());
                }
            }
            (Node::Object { .. }, v) => mismatch(report, path, "object", v),
        }
    }
}

/// Whether a node is a Go slice or map: omitted when empty, unless required.
fn omitted_when_empty(node: &Node) -> bool {
    matches!(node, Node::Array(_))
        || matches!(node, Node::Object { props, additional: Some(_), .. } if props.is_empty())
}

/// Which nodes reach a Quantity, a slice or a map, by a fixed point over the (possibly
/// cyclic) node graph.
fn reaches_containers(nodes: &[Node]) -> Vec<bool> {
    let mut reach: Vec<bool> =
        nodes.iter().map(|n| matches!(n, Node::Quantity) || omitted_when_empty(n)).collect();
    loop {
        let mut changed = false;
        for (i, node) in nodes.iter().enumerate() {
            if reach[i] {
                continue;
            }
            let found = match node {
                Node::Object { props, additional, .. } => {
                    props.values().any(|c| reach[*c]) || additional.is_some_and(|c| reach[c])
                }
                _ => false,
            };
            if found {
                reach[i] = true;
                changed = true;
            }
        }
        if !changed {
            return reach;
        }
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

impl Schema {
    /// What decoding into the Go type and encoding again does to a built-in object under
    /// node `id`: every Quantity rewritten in canonical form, and every empty slice or map
    /// of an `omitempty` field (`annotations: {}`, `data: {}`, `env: []`) dropped; empty
    /// structs (`securityContext: {}`) stay. The first quantity that does not parse is
    /// returned with its path.
    pub fn round_trip(
        &self,
        id: usize,
        value: &mut Value,
        path: &mut String,
    ) -> Result<(), (String, crate::quantity::QuantityError)> {
        if !self.round_trips[id] {
            return Ok(());
        }
        match (&self.nodes[id], value) {
            (Node::Quantity, Value::Null) => Ok(()),
            (Node::Quantity, v) => {
                let canonical =
                    crate::quantity::canonical_value(v).map_err(|e| (path.clone(), e))?;
                if v.as_str() != Some(canonical.as_str()) {
                    *v = Value::String(canonical);
                }
                Ok(())
            }
            (Node::Array(items), Value::Array(a)) => {
                let base = path.len();
                for (i, item) in a.iter_mut().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    self.round_trip(*items, item, path)?;
                    path.truncate(base);
                }
                Ok(())
            }
            (Node::Object { props, additional, required, .. }, Value::Object(map)) => {
                let base = path.len();
                let mut empty = Vec::new();
                for (k, v) in map.iter_mut() {
                    let field = props.get(k).copied();
                    let Some(child) = field.or(*additional) else { continue };
                    if !self.round_trips[child] {
                        continue;
                    }
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.round_trip(child, v, path)?;
                    path.truncate(base);
                    if field.is_some()
                        && is_empty_container(v)
                        && omitted_when_empty(&self.nodes[child])
                        && !required.contains(k)
                    {
                        empty.push(k.clone());
                    }
                }
                for k in empty {
                    map.remove(&k);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn mismatch(report: &mut Report, path: &str, expected: &str, v: &Value) {
    if !v.is_null() {
        report.mismatches.push(TypeMismatch {
            path: path.to_string(),
            expected: expected.to_string(),
            found: json_type(v),
        });
    }
}

fn check_scalar(s: Scalar, v: &Value, path: &str, report: &mut Report) {
    let ok = match (s, v) {
        (_, Value::Null) => true,
        (Scalar::String, Value::String(_)) => true,
        (Scalar::Integer(_), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Scalar::Number, Value::Number(_)) => true,
        (Scalar::Boolean, Value::Bool(_)) => true,
        _ => false,
    };
    if !ok {
        let expected = match s {
            Scalar::String => "string",
            Scalar::Integer(w) => w,
            Scalar::Number => "float64",
            Scalar::Boolean => "bool",
        };
        mismatch(report, path, expected, v);
    }
}

impl SchemaRef {
    /// The object as it reads back after decoding into its Go type (see
    /// [`Schema::round_trip`]).
    pub fn round_trip(
        &self,
        obj: &mut Value,
    ) -> Result<(), (String, crate::quantity::QuantityError)> {
        self.schema.round_trip(self.root, obj, &mut String::new())
    }

    /// Walks a whole object: `apiVersion` and `kind` are strings and `metadata` is always
    /// checked against `ObjectMeta` (CRD schemas leave it open), the rest against the kind.
    pub fn check(&self, obj: &mut Value, prune: bool) -> Report {
        let mut report = Report::default();
        let meta = builtin::object_meta();
        let mut path = String::new();
        if let Some(m) = obj.get_mut("metadata") {
            path.push_str("metadata");
            meta.schema.walk(meta.root, m, &mut path, prune, &mut report);
            path.clear();
        }
        if let Value::Object(map) = obj {
            let metadata = map.remove("metadata");
            let type_meta: Vec<(String, Value)> = ["apiVersion", "kind"]
                .iter()
                .filter_map(|k| map.remove(*k).map(|v| (k.to_string(), v)))
                .collect();
            self.schema.walk(self.root, obj, &mut path, prune, &mut report);
            if let Value::Object(map) = obj {
                for (k, v) in type_meta {
                    map.insert(k, v);
                }
                if let Some(m) = metadata {
                    map.insert("metadata".into(), m);
                }
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_walk_finds_unknown_fields_and_prunes() {
        let schema = builtin::schema_of("apps", "v1", "Deployment").unwrap();
        let mut obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"a": "b"}, "bogus": 1},
            "spec": {
                "replicas": 2, "extra": true,
                "template": {"spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyX": "x"}]}},
            },
        });
        let report = schema.check(&mut obj, true);
        assert_eq!(
            report.unknown,
            vec![
                "metadata.bogus",
                "spec.extra",
                "spec.template.spec.containers[0].imagePullPolicyX"
            ]
        );
        assert!(report.mismatches.is_empty());
        assert!(obj["spec"].get("extra").is_none());
        assert!(obj["metadata"].get("bogus").is_none());
        assert_eq!(obj["kind"], "Deployment");
    }

    #[test]
    fn type_mismatches() {
        let schema = builtin::schema_of("apps", "v1", "Deployment").unwrap();
        let mut obj = json!({"metadata": {"name": "web"}, "spec": {"replicas": "3", "template": {"metadata": {"labels": {"a": 1}}}}});
        let report = schema.check(&mut obj, false);
        assert_eq!(
            report.mismatches,
            vec![
                TypeMismatch {
                    path: "spec.replicas".into(),
                    expected: "int32".into(),
                    found: "string"
                },
                TypeMismatch {
                    path: "spec.template.metadata.labels.a".into(),
                    expected: "string".into(),
                    found: "number"
                },
            ]
        );
    }

    #[test]
    fn crd_schema_with_preserved_fields() {
        let crd = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "size": {"type": "integer"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "tags": {"type": "array", "items": {"type": "string"}},
            }},
        }});
        let s = SchemaRef {
            schema: Arc::new(Schema::compile_inline("w", &crd)),
            root: 0,
            type_name: "Widget".into(),
        };
        let mut obj = json!({"metadata": {"name": "w"}, "spec": {"size": 1, "free": {"x": {"y": 1}}, "tags": ["a"], "nope": 1}});
        let report = s.check(&mut obj, true);
        assert_eq!(report.unknown, vec!["spec.nope"]);
        assert_eq!(obj["spec"]["free"]["x"]["y"], 1);
    }
}
