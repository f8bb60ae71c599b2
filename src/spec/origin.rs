//! Where each part of a document came from, kept true while profiles edit the document.
//!
//! A cetus.yaml is edited before it is checked (profile `replace` and `patch`, `--set`), so an
//! error found afterwards must still point at the text that caused it: the original line for
//! untouched parts, the `replace` or `patch` entry for the parts those wrote. [`Origins`]
//! maps JSON pointers to positions and moves them along with every edit.

use crate::yaml::{Document, Position};
use std::collections::BTreeMap;
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
    values: BTreeMap<String, Origin>,
    keys: BTreeMap<String, Origin>,
}

impl Origins {
    /// The positions of a freshly parsed document.
    pub fn of(doc: &Document) -> Self {
        let at = |(p, s): (&str, &crate::yaml::Span)| (p.to_string(), Origin::At(s.start));
        Self {
            values: doc.value_spans().map(at).collect(),
            keys: doc.key_spans().map(at).collect(),
        }
    }

    /// Splits a parsed document into its value and the origins of its nodes, without copying.
    pub fn split(doc: Document) -> (serde_json::Value, Self) {
        let (value, values, keys) = doc.into_parts();
        let at = |(p, s): (String, crate::yaml::Span)| (p, Origin::At(s.start));
        (
            value,
            Self {
                values: values.into_iter().map(at).collect(),
                keys: keys.into_iter().map(at).collect(),
            },
        )
    }

    /// The origin of the value at `pointer`, or of its nearest ancestor that has one.
    pub fn value(&self, pointer: &str) -> Option<&Origin> {
        let mut p = pointer;
        loop {
            if let Some(origin) = self.values.get(p) {
                return Some(origin);
            }
            p = &p[..p.rfind('/')?];
        }
    }

    /// The origin of the key of `pointer` (for "unknown key" errors), else of its value.
    pub fn key(&self, pointer: &str) -> Option<&Origin> {
        self.keys.get(pointer).or_else(|| self.value(pointer))
    }

    /// Forgets everything at and under `pointer` (the node was removed).
    pub fn remove(&mut self, pointer: &str) {
        for map in [&mut self.values, &mut self.keys] {
            let doomed: Vec<String> = subtree(map, pointer).map(|(k, _)| k.clone()).collect();
            for k in doomed {
                map.remove(&k);
            }
        }
    }

    /// Records that the node at `to` is now a copy of the node that was at `from`, so its
    /// errors point where `from` was written (a `replace` value, a patch op's `value`, the
    /// source of a `move`).
    pub fn copy(&mut self, from: &str, to: &str) {
        let moved: Vec<(bool, String, Origin)> = [(true, &self.values), (false, &self.keys)]
            .into_iter()
            .flat_map(|(is_value, map)| {
                subtree(map, from)
                    .map(move |(k, o)| (is_value, format!("{to}{}", &k[from.len()..]), o.clone()))
            })
            .collect();
        let fallback = self.value(from).cloned();
        self.remove(to);
        for (is_value, k, o) in moved {
            if is_value { &mut self.values } else { &mut self.keys }.insert(k, o);
        }
        if let Some(o) = fallback {
            self.values.entry(to.to_string()).or_insert(o);
        }
    }

    /// Records that the node at `pointer` was written by something outside the file.
    pub fn set(&mut self, pointer: &str, origin: Origin) {
        self.remove(pointer);
        self.values.insert(pointer.to_string(), origin);
    }
}

/// Entries at `pointer` and below it.
fn subtree<'a>(
    map: &'a BTreeMap<String, Origin>,
    pointer: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Origin)> {
    map.range(pointer.to_string()..)
        .take_while(move |(k, _)| k.starts_with(pointer))
        .filter(move |(k, _)| k.len() == pointer.len() || k.as_bytes()[pointer.len()] == b'/')
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
