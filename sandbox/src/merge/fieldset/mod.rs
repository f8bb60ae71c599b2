//! Sets of field paths, as Kubernetes records ownership in `metadata.managedFields`.
//!
//! A [`FieldSet`] is a tree: at each node, `members` are the path elements owned at that
//! position, `children` the path elements under which more is owned. A path element can be
//! both (an associative-list item owned as a whole *and* field by field: `".": {}` in
//! FieldsV1). This module owns the set algebra (union, difference, intersection, recursive
//! difference), iteration in structured-merge-diff's order and the exact FieldsV1 encoding
//! ([`fields_v1`]). It does not know schemas: building a set from a value is in `typed`.

pub mod fields_v1;
pub mod path;

pub use path::{DisplayPath, Path, PathElement};

/// A set of paths into an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Path elements owned at this position, sorted.
    members: Vec<PathElement>,
    /// Path elements with owned paths below them, sorted; never empty sets.
    children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Builds a set from paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a [PathElement]>) -> FieldSet {
        let mut set = FieldSet::new();
        for p in paths {
            set.insert(p);
        }
        set
    }

    /// Adds a path. The empty path is ignored (the root is never a member).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [pe] => self.insert_member(pe.clone()),
            [pe, rest @ ..] => self.child_mut(pe).insert(rest),
        }
    }

    /// Adds a member at this position.
    pub fn insert_member(&mut self, pe: PathElement) {
        if let Err(i) = self.members.binary_search(&pe) {
            self.members.insert(i, pe);
        }
    }

    /// Adds a whole set under `pe`, merging with what is there. Empty sets are not stored.
    pub fn insert_child(&mut self, pe: PathElement, set: FieldSet) {
        if set.is_empty() {
            return;
        }
        match self.children.binary_search_by(|(p, _)| p.cmp(&pe)) {
            Ok(i) => {
                let merged = self.children[i].1.union(&set);
                self.children[i].1 = merged;
            }
            Err(i) => self.children.insert(i, (pe, set)),
        }
    }

    fn child_mut(&mut self, pe: &PathElement) -> &mut FieldSet {
        let i = match self.children.binary_search_by(|(p, _)| p.cmp(pe)) {
            Ok(i) => i,
            Err(i) => {
                self.children.insert(i, (pe.clone(), FieldSet::new()));
                i
            }
        };
        &mut self.children[i].1
    }

    /// Whether `path` is a member of the set.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [pe] => self.members.binary_search(pe).is_ok(),
            [pe, rest @ ..] => self.with_prefix(pe).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether `pe` is a member at this position.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.binary_search(pe).is_ok()
    }

    /// The set of paths under `pe`, relative to it.
    pub fn with_prefix(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.binary_search_by(|(p, _)| p.cmp(pe)).ok().map(|i| &self.children[i].1)
    }

    /// Members at this position, sorted.
    pub fn members(&self) -> &[PathElement] {
        &self.members
    }

    /// Children at this position, sorted.
    pub fn children(&self) -> &[(PathElement, FieldSet)] {
        &self.children
    }

    /// Paths in both sets or either.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let members = merge_sorted(&self.members, &other.members);
        let mut children = Vec::with_capacity(self.children.len().max(other.children.len()));
        let (mut i, mut j) = (0, 0);
        while i < self.children.len() || j < other.children.len() {
            let ord = match (self.children.get(i), other.children.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match ord {
                std::cmp::Ordering::Less => {
                    children.push(self.children[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    children.push(other.children[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let set = self.children[i].1.union(&other.children[j].1);
                    children.push((self.children[i].0.clone(), set));
                    i += 1;
                    j += 1;
                }
            }
        }
        FieldSet { members, children }
    }

    /// Paths in `self` that are not in `other`. A member removed from `other` does not remove
    /// what is below it (see [`FieldSet::recursive_difference`]).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members =
            self.members.iter().filter(|pe| !other.has_member(pe)).cloned().collect::<Vec<_>>();
        let mut children = Vec::with_capacity(self.children.len());
        for (pe, set) in &self.children {
            match other.with_prefix(pe) {
                Some(o) => {
                    let d = set.difference(o);
                    if !d.is_empty() {
                        children.push((pe.clone(), d));
                    }
                }
                None => children.push((pe.clone(), set.clone())),
            }
        }
        FieldSet { members, children }
    }

    /// Whether every path of `self` is in `other`.
    pub fn is_subset_of(&self, other: &FieldSet) -> bool {
        self.members.iter().all(|pe| other.has_member(pe))
            && self
                .children
                .iter()
                .all(|(pe, set)| other.with_prefix(pe).is_some_and(|o| set.is_subset_of(o)))
    }

    /// Removes the paths of `other` from `self` in place (see [`FieldSet::difference`]).
    pub fn remove_all(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        self.members.retain(|pe| !other.has_member(pe));
        self.children.retain_mut(|(pe, set)| match other.with_prefix(pe) {
            Some(o) => {
                set.remove_all(o);
                !set.is_empty()
            }
            None => true,
        });
    }

    /// Removes the paths of `other` and everything below its members, in place (see
    /// [`FieldSet::recursive_difference`]).
    pub fn remove_all_recursive(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        self.members.retain(|pe| !other.has_member(pe));
        self.children.retain_mut(|(pe, set)| {
            if other.has_member(pe) {
                return false;
            }
            match other.with_prefix(pe) {
                Some(o) => {
                    set.remove_all_recursive(o);
                    !set.is_empty()
                }
                None => true,
            }
        });
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members =
            self.members.iter().filter(|pe| other.has_member(pe)).cloned().collect::<Vec<_>>();
        let mut children = Vec::new();
        for (pe, set) in &self.children {
            if let Some(o) = other.with_prefix(pe) {
                let x = set.intersection(o);
                if !x.is_empty() {
                    children.push((pe.clone(), x));
                }
            }
        }
        FieldSet { members, children }
    }

    /// Paths in `self` that are neither in `other` nor below a member of `other`.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members =
            self.members.iter().filter(|pe| !other.has_member(pe)).cloned().collect::<Vec<_>>();
        let mut children = Vec::with_capacity(self.children.len());
        for (pe, set) in &self.children {
            if other.has_member(pe) {
                continue;
            }
            match other.with_prefix(pe) {
                Some(o) => {
                    let d = set.recursive_difference(o);
                    if !d.is_empty() {
                        children.push((pe.clone(), d));
                    }
                }
                None => children.push((pe.clone(), set.clone())),
            }
        }
        FieldSet { members, children }
    }

    /// Every path of the set, in structured-merge-diff's iteration order: the members at a
    /// position first, then each child's paths in order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect_paths(&mut prefix, &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for pe in &self.members {
            let mut p = prefix.clone();
            p.push(pe.clone());
            out.push(p);
        }
        for (pe, set) in &self.children {
            prefix.push(pe.clone());
            set.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Number of paths in the set.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.iter().map(|(_, s)| s.len()).sum::<usize>()
    }

    pub(crate) fn children_mut(&mut self) -> &mut Vec<(PathElement, FieldSet)> {
        &mut self.children
    }
}

/// Merges two sorted vectors, keeping one copy of equal elements.
fn merge_sorted<T: Clone + Ord>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        s.split('.').filter(|x| !x.is_empty()).map(PathElement::field).collect()
    }

    fn set(paths: &[&str]) -> FieldSet {
        let paths: Vec<Path> = paths.iter().map(|s| p(s)).collect();
        FieldSet::from_paths(paths.iter().map(|x| x.as_slice()))
    }

    #[test]
    fn union_difference_intersection() {
        let a = set(&["spec.replicas", "spec.template", "metadata.labels.app"]);
        let b = set(&["spec.replicas", "spec.paused"]);
        assert_eq!(a.union(&b).len(), 4);
        assert_eq!(a.intersection(&b), set(&["spec.replicas"]));
        assert_eq!(a.difference(&b), set(&["spec.template", "metadata.labels.app"]));
        assert!(a.difference(&a).is_empty());
    }

    #[test]
    fn difference_keeps_children_of_removed_member_but_recursive_drops_them() {
        let a = set(&["status", "status.replicas", "spec.replicas"]);
        let ignored = set(&["status"]);
        assert_eq!(a.difference(&ignored), set(&["status.replicas", "spec.replicas"]));
        assert_eq!(a.recursive_difference(&ignored), set(&["spec.replicas"]));
    }

    #[test]
    fn iteration_lists_members_before_children() {
        let a = set(&["spec.template.spec.x", "spec.replicas", "apiVersion"]);
        let printed: Vec<String> = a.paths().iter().map(|x| DisplayPath(x).to_string()).collect();
        assert_eq!(printed, vec![".apiVersion", ".spec.replicas", ".spec.template.spec.x"]);
    }

    #[test]
    fn has_and_empty_child_not_stored() {
        let mut a = set(&["a.b"]);
        assert!(a.has(&p("a.b")));
        assert!(!a.has(&p("a")));
        a.insert_child(PathElement::field("c"), FieldSet::new());
        assert_eq!(a.children().len(), 1);
    }
}
