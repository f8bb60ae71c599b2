//! Where each part of a document came from, kept true while profiles edit the document.
//!
//! A cetus.yaml is edited before it is checked (profile `replace` and `patch`, `--set`), so an
//! error found afterwards must still point at the text that caused it: the original line for
//! untouched parts, the `replace` or `patch` entry for the parts those wrote. [`Origins`]
//! maps JSON pointers to positions and moves them along with every edit.

use crate::yaml::{Document, NodeSpans, Position};
use std::fmt;

/// Where one node came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in the document's file.
    At(Position),
    /// A command-line flag, such as `--set services.web.replicas=3`.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::At(p) => write!(f, "{p}"),
            Origin::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// The origins of the nodes of one document, by JSON pointer.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Sorted by pointer: built by one sort, and a subtree (`/a` and everything under `/a/`)
    /// is a contiguous run.
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
struct Node {
    pointer: String,
    value: Origin,
    key: Option<Origin>,
}

impl From<&NodeSpans> for Node {
    fn from(n: &NodeSpans) -> Self {
        Node {
            pointer: n.pointer.clone(),
            value: Origin::At(n.value.start),
            key: n.key.as_ref().map(|k| Origin::At(k.start)),
        }
    }
}

impl Origins {
    /// The positions of a freshly parsed document.
    pub fn of(doc: &Document) -> Self {
        Self::sorted(doc.nodes().iter().map(Node::from).collect())
    }

    /// Splits a parsed document into its value and the origins of its nodes, without copying.
    pub fn split(doc: Document) -> (serde_json::Value, Self) {
        let (value, spans) = doc.into_parts();
        let nodes = spans
            .into_iter()
            .map(|n| Node {
                value: Origin::At(n.value.start),
                key: n.key.map(|k| Origin::At(k.start)),
                pointer: n.pointer,
            })
            .collect();
        (value, Self::sorted(nodes))
    }

    fn sorted(mut nodes: Vec<Node>) -> Self {
        nodes.sort_unstable_by(|a, b| a.pointer.cmp(&b.pointer));
        Self { nodes }
    }

    fn get(&self, pointer: &str) -> Option<&Node> {
        let i = self.nodes.binary_search_by(|n| n.pointer.as_str().cmp(pointer)).ok()?;
        Some(&self.nodes[i])
    }

    /// The origin of the value at `pointer`, or of its nearest ancestor that has one.
    pub fn value(&self, pointer: &str) -> Option<&Origin> {
        let mut p = pointer;
        loop {
            if let Some(node) = self.get(p) {
                return Some(&node.value);
            }
            p = &p[..p.rfind('/')?];
        }
    }

    /// The origin of the key of `pointer` (for "unknown key" errors), else of its value.
    pub fn key(&self, pointer: &str) -> Option<&Origin> {
        self.get(pointer).and_then(|n| n.key.as_ref()).or_else(|| self.value(pointer))
    }

    /// Forgets everything at and under `pointer` (the node was removed).
    pub fn remove(&mut self, pointer: &str) {
        self.nodes.retain(|n| !in_subtree(&n.pointer, pointer));
    }

    /// Records that the node at `to` is now a copy of the node that was at `from`, so its
    /// errors point where `from` was written (a `replace` value, a patch op's `value`, the
    /// source of a `move`).
    pub fn copy(&mut self, from: &str, to: &str) {
        let mut moved: Vec<Node> = self
            .nodes
            .iter()
            .filter(|n| in_subtree(&n.pointer, from))
            .map(|n| Node { pointer: format!("{to}{}", &n.pointer[from.len()..]), ..n.clone() })
            .collect();
        let fallback = self.value(from).cloned();
        self.remove(to);
        if let Some(value) = fallback
            && !moved.iter().any(|n| n.pointer == to)
        {
            moved.push(Node { pointer: to.to_string(), value, key: None });
        }
        self.insert(moved);
    }

    /// Records that the node at `pointer` was written by something outside the file.
    pub fn set(&mut self, pointer: &str, origin: Origin) {
        self.remove(pointer);
        self.insert(vec![Node { pointer: pointer.to_string(), value: origin, key: None }]);
    }

    fn insert(&mut self, nodes: Vec<Node>) {
        self.nodes.extend(nodes);
        self.nodes.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    }
}

/// Whether `pointer` is `root` or under it (`/a/x` is under `/a`; `/ab` is not).
fn in_subtree(pointer: &str, root: &str) -> bool {
    pointer.strip_prefix(root).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn line(o: Option<&Origin>) -> usize {
        match o {
            Some(Origin::At(p)) => p.line,
            other => panic!("no position: {other:?}"),
        }
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let doc = parse_document("a:\n  b: 1\n").unwrap();
        let o = Origins::of(&doc);
        assert_eq!(line(o.value("/a/b/c/d")), 2);
        assert_eq!(line(o.key("/a/b")), 2);
    }

    #[test]
    fn copy_moves_a_subtree_without_touching_siblings() {
        let doc = parse_document("a:\n  x: 1\n  xy: 2\nr:\n  x: 3\n").unwrap();
        let mut o = Origins::of(&doc);
        o.copy("/r", "/a/x");
        assert_eq!(line(o.value("/a/x")), 5);
        assert_eq!(line(o.value("/a/x/x")), 5);
        assert_eq!(line(o.value("/a/xy")), 3, "a sibling sharing a prefix is untouched");
        o.remove("/a");
        assert_eq!(line(o.value("/a/xy")), 1, "only the document itself is left");
    }
}
