//! How each path of an object merges: the per-kind knowledge server-side apply and strategic
//! merge patch need.
//!
//! A [`Schema`] is a graph of nodes in an arena. Objects are either *structs* (keys are named
//! fields; unknown keys of built-in structs are treated as fields of an open struct) or *maps*
//! (keys are entries, owned as `f:<key>` members even when their value has children). Lists
//! are atomic (replaced whole, the default), sets of scalars, or associative lists keyed by
//! fields (with defaults for missing key fields, e.g. port `protocol: TCP`). Untyped parts
//! (`x-kubernetes-preserve-unknown-fields`, unknown kinds) are *deduced*: objects are granular
//! maps, lists atomic. Each node also carries the strategic-merge-patch metadata of the Go
//! struct tags (`patchStrategy`, `patchMergeKey`), which can differ from the
//! server-side-apply list type.
//!
//! Built-in kinds come from [`Schema::builtin`] (transcribed from the structured-merge-diff
//! schema kube-apiserver uses); CRDs from [`Schema::from_crd`]; anything else from
//! [`Schema::generic`]. This module does not walk values (see `typed`).

mod builtin;
mod crd;
mod zero;

use serde_json::Value;
use std::sync::Arc;

pub use crd::SchemaError;

/// Index of a node in a schema's arena.
pub(crate) type NodeId = u32;

/// A scalar leaf.
pub(crate) const SCALAR: NodeId = 0;
/// An untyped value in a built-in struct: objects are open structs, lists atomic.
pub(crate) const OPEN: NodeId = 1;
/// An untyped deduced value: objects are granular maps, lists atomic.
pub(crate) const DEDUCED: NodeId = 2;
/// An untyped value owned as a whole.
pub(crate) const ATOMIC_ANY: NodeId = 3;
const OPEN_OBJ: NodeId = 4;
const DEDUCED_OBJ: NodeId = 5;
const ATOMIC_OBJ: NodeId = 6;
const ATOMIC_LIST: NodeId = 7;

/// One node of the schema graph.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Scalar,
    Open,
    Deduced,
    AtomicAny,
    Object(ObjectNode),
    List(ListNode),
}

/// A struct or a map.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectNode {
    /// Declared fields, sorted by name.
    pub(crate) fields: Vec<(String, NodeId)>,
    /// The type of keys that are not declared fields.
    pub(crate) rest: NodeId,
    /// Whether undeclared keys are named fields (open struct) rather than map entries.
    pub(crate) rest_are_fields: bool,
    /// Owned and replaced as a whole.
    pub(crate) atomic: bool,
}

/// How a list merges under server-side apply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// How a list merges under strategic merge patch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatchStrategy {
    Replace,
    /// Merge items by this key (maps) or as a set (scalars, key `None`).
    Merge(Option<String>),
}

/// A list.
#[derive(Debug, Clone)]
pub(crate) struct ListNode {
    pub(crate) elem: NodeId,
    pub(crate) list_type: ListType,
    /// Defaults of key fields that may be omitted (`protocol: TCP`).
    pub(crate) key_defaults: Vec<(String, Value)>,
    pub(crate) patch: PatchStrategy,
}

/// The node arena of one or more schemas.
#[derive(Debug)]
pub(crate) struct Arena {
    pub(crate) nodes: Vec<Node>,
}

impl Arena {
    /// An arena holding the well-known untyped nodes at their fixed ids.
    pub(crate) fn new() -> Arena {
        let open_obj = ObjectNode { rest: OPEN, rest_are_fields: true, ..Default::default() };
        let deduced_obj = ObjectNode { rest: DEDUCED, ..Default::default() };
        let atomic_obj = ObjectNode { rest: ATOMIC_ANY, atomic: true, ..Default::default() };
        Arena {
            nodes: vec![
                Node::Scalar,
                Node::Open,
                Node::Deduced,
                Node::AtomicAny,
                Node::Object(open_obj),
                Node::Object(deduced_obj),
                Node::Object(atomic_obj),
                Node::List(ListNode {
                    elem: ATOMIC_ANY,
                    list_type: ListType::Atomic,
                    key_defaults: Vec::new(),
                    patch: PatchStrategy::Replace,
                }),
            ],
        }
    }

    pub(crate) fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }
}

/// What a node is for a given value.
pub(crate) enum Atom<'a> {
    Scalar,
    Object(&'a ObjectNode),
    List(&'a ListNode),
}

/// The merge schema of one kind.
#[derive(Debug, Clone)]
pub struct Schema {
    arena: Arc<Arena>,
    root: NodeId,
    status_subresource: bool,
    builtin: bool,
    zero: Arc<Value>,
}

impl Schema {
    /// The schema of a built-in kind, or `None` for kinds this module does not know.
    pub fn builtin(api_version: &str, kind: &str) -> Option<Schema> {
        builtin::lookup(api_version, kind)
    }

    /// The schema for objects of unknown kinds: every object a granular map, every list atomic,
    /// and no status subresource.
    pub fn generic() -> Schema {
        static ARENA: std::sync::OnceLock<Arc<Arena>> = std::sync::OnceLock::new();
        let arena = ARENA.get_or_init(|| Arc::new(Arena::new())).clone();
        Schema::new(arena, DEDUCED, false, false, Arc::new(Value::Object(Default::default())))
    }

    /// The built-in schema of a kind, else the generic one.
    pub fn for_kind(api_version: &str, kind: &str) -> Schema {
        Schema::builtin(api_version, kind).unwrap_or_else(Schema::generic)
    }

    pub(crate) fn new(
        arena: Arc<Arena>,
        root: NodeId,
        status_subresource: bool,
        builtin: bool,
        zero: Arc<Value>,
    ) -> Schema {
        Schema { arena, root, status_subresource, builtin, zero }
    }

    /// Whether `status` is a subresource: applies and updates to the main resource leave it
    /// alone, and `/status` writes leave `spec` and `metadata.labels` alone.
    pub fn has_status_subresource(&self) -> bool {
        self.status_subresource
    }

    /// Whether this is the schema of a built-in kind (strategic merge patch is available).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The kind's zero object: what kube-apiserver compares a created object against when it
    /// records the creator's fields (`status: {}`, `selector: null`, ...).
    pub fn zero_object(&self) -> &Value {
        &self.zero
    }

    pub(crate) fn root(&self) -> NodeId {
        self.root
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.arena.nodes[id as usize]
    }

    /// Resolves a node for a value: untyped nodes become concrete by the value's shape, and a
    /// value of the wrong shape is treated as a scalar leaf.
    pub(crate) fn atom(&self, id: NodeId, v: Option<&Value>) -> Atom<'_> {
        let concrete = match (self.node(id), v) {
            (Node::Open, Some(Value::Object(_))) => OPEN_OBJ,
            (Node::Deduced, Some(Value::Object(_))) => DEDUCED_OBJ,
            (Node::AtomicAny, Some(Value::Object(_))) => ATOMIC_OBJ,
            (Node::Open | Node::Deduced | Node::AtomicAny, Some(Value::Array(_))) => ATOMIC_LIST,
            (Node::Open | Node::Deduced | Node::AtomicAny, _) => SCALAR,
            (Node::Object(_), Some(Value::Object(_) | Value::Null) | None) => id,
            (Node::List(_), Some(Value::Array(_) | Value::Null) | None) => id,
            _ => SCALAR,
        };
        match self.node(concrete) {
            Node::Object(o) => Atom::Object(o),
            Node::List(l) => Atom::List(l),
            _ => Atom::Scalar,
        }
    }

    /// Like [`Schema::atom`] for a pair of values: the shape of whichever is not null.
    pub(crate) fn atom2(&self, id: NodeId, a: Option<&Value>, b: Option<&Value>) -> Atom<'_> {
        let pick = match (a, b) {
            (_, Some(v)) if !v.is_null() => Some(v),
            (Some(v), _) => Some(v),
            (None, v) => v,
        };
        self.atom(id, pick)
    }

    /// The type of `key` in an object and whether it is a named field (not a map entry).
    pub(crate) fn field(&self, obj: &ObjectNode, key: &str) -> (NodeId, bool) {
        match obj.fields.binary_search_by(|(n, _)| n.as_str().cmp(key)) {
            Ok(i) => (obj.fields[i].1, true),
            Err(_) => (obj.rest, obj.rest_are_fields),
        }
    }

    /// The lists of this kind that merge other than atomically, or by key under strategic
    /// merge patch, with their paths from the root (`[]` stands for a list's items), as
    /// OpenAPI's `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
    /// `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` describe them.
    pub fn list_extensions(&self) -> Vec<(Vec<String>, serde_json::Map<String, Value>)> {
        let mut out = Vec::new();
        self.collect_lists(self.root, &mut Vec::new(), &mut out);
        out
    }

    fn collect_lists(
        &self,
        id: NodeId,
        path: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, serde_json::Map<String, Value>)>,
    ) {
        // The schemas of built-in kinds are trees a few levels deep; this bounds recursion
        // through shared nodes.
        if path.len() > 24 {
            return;
        }
        match self.node(id) {
            Node::Object(o) => {
                for (name, child) in &o.fields {
                    path.push(name.clone());
                    self.collect_lists(*child, path, out);
                    path.pop();
                }
            }
            Node::List(l) => {
                let mut ext = serde_json::Map::new();
                match &l.list_type {
                    ListType::Atomic => {}
                    ListType::Set => {
                        ext.insert("x-kubernetes-list-type".into(), "set".into());
                    }
                    ListType::Map(keys) => {
                        ext.insert("x-kubernetes-list-type".into(), "map".into());
                        ext.insert("x-kubernetes-list-map-keys".into(), keys.clone().into());
                    }
                }
                if let PatchStrategy::Merge(key) = &l.patch {
                    ext.insert("x-kubernetes-patch-strategy".into(), "merge".into());
                    if let Some(k) = key {
                        ext.insert("x-kubernetes-patch-merge-key".into(), k.clone().into());
                    }
                }
                if !ext.is_empty() {
                    out.push((path.clone(), ext));
                }
                path.push("[]".into());
                self.collect_lists(l.elem, path, out);
                path.pop();
            }
            _ => {}
        }
    }

    /// The type at a path of field names, if every step is an object field.
    #[cfg(test)]
    pub(crate) fn node_at(&self, names: &[&str]) -> Option<NodeId> {
        let mut id = self.root;
        for name in names {
            match self.node(id) {
                Node::Object(o) => id = self.field(o, name).0,
                Node::Open => id = OPEN,
                Node::Deduced => id = DEDUCED,
                _ => return None,
            }
        }
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_deployment_knows_containers_and_selector() {
        let s = Schema::builtin("apps/v1", "Deployment").unwrap();
        assert!(s.has_status_subresource());
        let containers = s.node_at(&["spec", "template", "spec", "containers"]).unwrap();
        match s.node(containers) {
            Node::List(l) => {
                assert_eq!(l.list_type, ListType::Map(vec!["name".to_string()]));
                assert_eq!(l.patch, PatchStrategy::Merge(Some("name".to_string())));
            }
            other => panic!("containers is {other:?}"),
        }
        let selector = s.node_at(&["spec", "selector"]).unwrap();
        assert!(matches!(s.node(selector), Node::Object(o) if o.atomic));
        assert!(Schema::builtin("v1", "ConfigMap").is_some_and(|s| !s.has_status_subresource()));
        assert!(Schema::builtin("example.com/v1", "Widget").is_none());
    }
}
