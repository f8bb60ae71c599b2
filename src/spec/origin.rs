//! Where each part of a document came from, kept true while profiles edit the document.
//!
//! A cetus.yaml is edited before it is checked (profile `replace` and `patch`, `--set`), so an
//! error found afterwards must still point at the text that caused it: the original line for
//! untouched parts, the `replace` or `patch` entry for the parts those wrote. [`Origins`]
//! maps JSON pointers to positions and moves them along with every edit.

use crate::yaml::{Document, Position};
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
    values: PointerMap,
    keys: PointerMap,
}

impl Origins {
    /// The positions of a freshly parsed document.
    pub fn of(doc: &Document) -> Self {
        let at = |(p, s): (&str, &crate::yaml::Span)| (p.to_string(), Origin::At(s.start));
        Self {
            values: PointerMap::new(doc.value_spans().map(at).collect()),
            keys: PointerMap::new(doc.key_spans().map(at).collect()),
        }
    }

    /// Splits a parsed document into its value and the origins of its nodes, without copying.
    pub fn split(doc: Document) -> (serde_json::Value, Self) {
        let (value, values, keys) = doc.into_parts();
        let at = |(p, s): (String, crate::yaml::Span)| (p, Origin::At(s.start));
        let values = PointerMap::new(values.into_iter().map(at).collect());
        let keys = PointerMap::new(keys.into_iter().map(at).collect());
        (value, Self { values, keys })
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
        self.values.remove_subtree(pointer);
        self.keys.remove_subtree(pointer);
    }

    /// Records that the node at `to` is now a copy of the node that was at `from`, so its
    /// errors point where `from` was written (a `replace` value, a patch op's `value`, the
    /// source of a `move`).
    pub fn copy(&mut self, from: &str, to: &str) {
        let rebase = |map: &PointerMap| -> Vec<(String, Origin)> {
            map.subtree(from)
                .iter()
                .map(|(k, o)| (format!("{to}{}", &k[from.len()..]), o.clone()))
                .collect()
        };
        let (values, keys) = (rebase(&self.values), rebase(&self.keys));
        let fallback = self.value(from).cloned();
        self.remove(to);
        self.values.extend(values);
        self.keys.extend(keys);
        if let Some(o) = fallback
            && self.values.get(to).is_none()
        {
            self.values.extend([(to.to_string(), o)]);
        }
    }

    /// Records that the node at `pointer` was written by something outside the file.
    pub fn set(&mut self, pointer: &str, origin: Origin) {
        self.remove(pointer);
        self.values.extend([(pointer.to_string(), origin)]);
    }
}

/// Origins sorted by pointer: built once per document by one sort, cheaper than a tree map,
/// and a subtree (`/a` and everything under `/a/`) is a contiguous run.
#[derive(Debug, Clone, Default)]
struct PointerMap(Vec<(String, Origin)>);

impl PointerMap {
    fn new(mut entries: Vec<(String, Origin)>) -> Self {
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Self(entries)
    }

    fn get(&self, pointer: &str) -> Option<&Origin> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(pointer)).ok()?;
        Some(&self.0[i].1)
    }

    /// Entries at `pointer` and below it. In byte order `/a` sorts before `/a/x`, but `/a!`
    /// (any byte below `/`) sorts between them; those are skipped.
    fn subtree(&self, pointer: &str) -> Vec<&(String, Origin)> {
        let start = self.0.partition_point(|(k, _)| k.as_str() < pointer);
        self.0[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(pointer))
            .filter(|(k, _)| k.len() == pointer.len() || k.as_bytes()[pointer.len()] == b'/')
            .collect()
    }

    fn remove_subtree(&mut self, pointer: &str) {
        let start = self.0.partition_point(|(k, _)| k.as_str() < pointer);
        let end =
            start + self.0[start..].iter().take_while(|(k, _)| k.starts_with(pointer)).count();
        let in_subtree = |k: &str| k.len() == pointer.len() || k.as_bytes()[pointer.len()] == b'/';
        let mut i = start;
        let mut end = end;
        while i < end {
            if in_subtree(&self.0[i].0) {
                self.0.remove(i);
                end -= 1;
            } else {
                i += 1;
            }
        }
    }

    fn extend(&mut self, entries: impl IntoIterator<Item = (String, Origin)>) {
        for (k, o) in entries {
            match self.0.binary_search_by(|(e, _)| e.as_str().cmp(&k)) {
                Ok(i) => self.0[i].1 = o,
                Err(i) => self.0.insert(i, (k, o)),
            }
        }
    }
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
