//! The one symlink rule of every [`Tree`](super::Tree): resolving a path and listing a
//! directory, link by link.
//!
//! A tree hands over its raw entries through [`Store`] (a directory on disk, a git tree
//! object) and this module follows the links, so [`LocalTree`](super::LocalTree) and
//! [`GitTree`](super::git::GitTree) cannot disagree on what a link means: a link reads as its
//! target, resolved relative to the link's directory inside the tree; one that leaves the
//! repository, dangles or loops is a [`TreeError::Symlink`] naming the link. It does not read
//! file contents.

use super::{EntryKind, LinkProblem, TreeEntry, TreeError, join, normalize};

/// How many symlinks one path may go through before it is taken for a loop.
pub const MAX_LINKS: usize = 16;

/// One entry of a directory, before links are followed.
pub(crate) enum Raw<N> {
    /// A regular file.
    File(N),
    /// A directory.
    Dir(N),
    /// A symlink, with its target as written.
    Link(String),
    /// Anything else (a git submodule, a socket or device).
    Other(N),
}

/// A directory's entries by name, before links are followed.
pub(crate) type Entries<N> = Vec<(String, Raw<N>)>;

/// The raw entries of a tree, as one kind of storage holds them.
pub(crate) trait Store {
    /// A handle on one entry: a path on disk, a git object id.
    type Node;
    /// The tree's root directory.
    fn root(&self) -> Self::Node;
    /// The tree's label, for [`TreeError::NotFound`].
    fn tree_label(&self) -> String;
    /// The entry `name` of the directory `dir`, or `None`. `shown` names it in errors.
    fn child(
        &self,
        dir: &Self::Node,
        name: &str,
        shown: &str,
    ) -> Result<Option<Raw<Self::Node>>, TreeError>;
    /// Every entry of the directory `dir`, in any order. `shown` names the directory in errors.
    fn entries(&self, dir: &Self::Node, shown: &str) -> Result<Entries<Self::Node>, TreeError>;
}

/// A path with every link on it followed.
pub(crate) struct Resolved<N> {
    /// What is there.
    pub node: N,
    /// File, directory or other.
    pub kind: EntryKind,
    /// Its path with no link on it, from the root.
    pub real: String,
    /// How many links were followed to get there.
    pub links: usize,
}

/// Resolves `path` (normalized first), following links; `None` if nothing is there.
pub(crate) fn resolve<S: Store>(
    store: &S,
    path: &str,
) -> Result<Option<Resolved<S::Node>>, TreeError> {
    walk(store, &normalize("", path)?, 0)
}

/// Lists the directory at `dir`, every entry's kind found by following its links.
pub(crate) fn list<S: Store>(store: &S, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
    let dir = normalize("", dir)?;
    let found = resolve(store, &dir)?
        .ok_or_else(|| TreeError::NotFound { path: dir.clone(), tree: store.tree_label() })?;
    if found.kind != EntryKind::Dir {
        return Err(TreeError::InvalidPath { path: dir, reason: "is not a directory" });
    }
    let mut raws = store.entries(&found.node, &dir)?;
    // By name first, so that the first entry that cannot be followed is the one reported,
    // whatever order the storage lists them in.
    raws.sort_by(|a, b| a.0.cmp(&b.0));
    let mut entries = Vec::with_capacity(raws.len());
    for (name, raw) in raws {
        let kind = match raw {
            Raw::File(_) => EntryKind::File,
            Raw::Dir(_) => EntryKind::Dir,
            Raw::Other(_) => EntryKind::Other,
            Raw::Link(target) => {
                let shown = join(&dir, &name);
                follow(store, &found.real, &target, &shown, found.links)?.kind
            }
        };
        entries.push(TreeEntry { name, kind });
    }
    Ok(entries)
}

/// Resolves a normalized `path` from the root; a link met on the way is named by the part of
/// `path` that reaches it. `links` were already followed to get here.
fn walk<S: Store>(
    store: &S,
    path: &str,
    mut links: usize,
) -> Result<Option<Resolved<S::Node>>, TreeError> {
    let mut current =
        Resolved { node: store.root(), kind: EntryKind::Dir, real: String::new(), links };
    let mut end = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        end += if end == 0 { segment.len() } else { segment.len() + 1 };
        if current.kind != EntryKind::Dir {
            return Ok(None);
        }
        let shown = &path[..end];
        let Some(raw) = store.child(&current.node, segment, shown)? else { return Ok(None) };
        let real = join(&current.real, segment);
        current = match raw {
            Raw::File(node) => Resolved { node, kind: EntryKind::File, real, links },
            Raw::Dir(node) => Resolved { node, kind: EntryKind::Dir, real, links },
            Raw::Other(node) => Resolved { node, kind: EntryKind::Other, real, links },
            Raw::Link(target) => follow(store, &current.real, &target, shown, links)?,
        };
        links = current.links;
    }
    Ok(Some(current))
}

/// Follows the link `shown`, which sits in the directory `dir` (a real path) and points at
/// `target`, after `links` links already followed.
fn follow<S: Store>(
    store: &S,
    dir: &str,
    target: &str,
    shown: &str,
    links: usize,
) -> Result<Resolved<S::Node>, TreeError> {
    let fail = |problem| TreeError::Symlink {
        path: shown.to_string(),
        target: target.to_string(),
        problem,
    };
    if links >= MAX_LINKS {
        return Err(fail(LinkProblem::TooManyLinks));
    }
    // Absolute targets are refused even when they happen to point under the root: in a git
    // tree they could not be resolved at all, and both trees must read alike.
    let path = normalize(dir, target).map_err(|_| fail(LinkProblem::LeavesRepository))?;
    let found = walk(store, &path, links + 1)?.ok_or_else(|| fail(LinkProblem::Dangles))?;
    if found.kind == EntryKind::Dir && contains(&found.real, dir) {
        return Err(fail(LinkProblem::ContainsItself));
    }
    Ok(found)
}

/// Whether the tree path `path` is `ancestor` or under it.
fn contains(ancestor: &str, path: &str) -> bool {
    ancestor.is_empty()
        || path.strip_prefix(ancestor).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A tree in memory: path → entry, to test the rule without any storage.
    struct Memory(BTreeMap<&'static str, Entry>);

    enum Entry {
        File,
        Dir,
        Link(&'static str),
    }

    impl Memory {
        fn new(entries: &[(&'static str, &'static str)]) -> Self {
            let map = entries
                .iter()
                .map(|(path, what)| {
                    let entry = match *what {
                        "file" => Entry::File,
                        "dir" => Entry::Dir,
                        target => Entry::Link(target.strip_prefix("-> ").expect("-> target")),
                    };
                    (*path, entry)
                })
                .collect();
            Self(map)
        }

        fn raw(&self, path: String) -> Option<Raw<String>> {
            Some(match self.0.get(path.as_str())? {
                Entry::File => Raw::File(path),
                Entry::Dir => Raw::Dir(path),
                Entry::Link(target) => Raw::Link(target.to_string()),
            })
        }
    }

    impl Store for Memory {
        type Node = String;

        fn root(&self) -> String {
            String::new()
        }

        fn tree_label(&self) -> String {
            "memory".into()
        }

        fn child(
            &self,
            dir: &String,
            name: &str,
            _: &str,
        ) -> Result<Option<Raw<String>>, TreeError> {
            Ok(self.raw(join(dir, name)))
        }

        fn entries(&self, dir: &String, _: &str) -> Result<Entries<String>, TreeError> {
            let under = self.0.keys().filter(|p| crate::source::parent(p) == dir.as_str());
            Ok(under
                .map(|p| {
                    (p.rsplit('/').next().unwrap().to_string(), self.raw(p.to_string()).unwrap())
                })
                .collect())
        }
    }

    fn tree() -> Memory {
        Memory::new(&[
            ("apps", "dir"),
            ("apps/web", "dir"),
            ("apps/web/a.yaml", "file"),
            ("apps/web/link.yaml", "-> a.yaml"),
            ("apps/web/chain.yaml", "-> link.yaml"),
            ("apps/web/self", "-> ."),
            ("apps/web/up", "-> ../.."),
            ("apps/web/escape", "-> ../../../etc/passwd"),
            ("apps/web/absolute", "-> /etc/passwd"),
            ("apps/web/dangling", "-> missing.yaml"),
            ("apps/web/through", "-> ../db/gone"),
            ("apps/db", "dir"),
            ("apps/db/gone", "-> nothing"),
            ("web", "-> apps/web"),
            ("ping", "-> pong"),
            ("pong", "-> ping"),
        ])
    }

    fn error(path: &str) -> String {
        match resolve(&tree(), path) {
            Err(e) => e.to_string(),
            Ok(found) => panic!("{path}: resolved to {:?}", found.map(|f| f.real)),
        }
    }

    #[test]
    fn links_read_as_their_targets() {
        let tree = tree();
        let real = |path: &str| resolve(&tree, path).unwrap().map(|r| (r.real, r.kind));
        assert_eq!(real("apps/web/link.yaml"), Some(("apps/web/a.yaml".into(), EntryKind::File)));
        assert_eq!(real("apps/web/chain.yaml"), Some(("apps/web/a.yaml".into(), EntryKind::File)));
        assert_eq!(real("web/a.yaml"), Some(("apps/web/a.yaml".into(), EntryKind::File)));
        assert_eq!(real("web"), Some(("apps/web".into(), EntryKind::Dir)));
        assert_eq!(real("web/nothing.yaml"), None, "a missing file behind a good link is absent");
        assert_eq!(real("apps/web/a.yaml/x"), None);
    }

    #[test]
    fn broken_escaping_and_looping_links_are_errors_naming_the_link() {
        for (path, expected) in [
            (
                "apps/web/dangling",
                "apps/web/dangling: symlink to missing.yaml is broken: nothing exists there",
            ),
            (
                "web/dangling",
                "web/dangling: symlink to missing.yaml is broken: nothing exists there",
            ),
            (
                "apps/web/escape",
                "apps/web/escape: symlink to ../../../etc/passwd leaves the repository",
            ),
            (
                "apps/web/absolute",
                "apps/web/absolute: symlink to /etc/passwd leaves the repository",
            ),
            (
                "apps/web/self",
                "apps/web/self: symlink to . loops: it points at a directory that contains it",
            ),
            (
                "apps/web/up/x",
                "apps/web/up: symlink to ../.. loops: it points at a directory that contains it",
            ),
            ("ping", "ping: symlink to pong loops: more than 16 symlinks to follow"),
            // The link whose own target is missing is named, not the one that led to it.
            (
                "apps/web/through",
                "apps/db/gone: symlink to nothing is broken: nothing exists there",
            ),
        ] {
            assert_eq!(error(path), expected, "{path}");
        }
    }

    #[test]
    fn a_listing_names_the_link_it_cannot_follow() {
        let tree = Memory::new(&[("m", "dir"), ("m/a.yaml", "file"), ("m/b.yaml", "-> a.yaml")]);
        let names: Vec<_> =
            list(&tree, "m").unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
        assert_eq!(names, [("a.yaml".into(), EntryKind::File), ("b.yaml".into(), EntryKind::File)]);
        let err = list(&self::tree(), "web").unwrap_err();
        assert_eq!(err.to_string(), "web/absolute: symlink to /etc/passwd leaves the repository");
    }

    #[test]
    fn links_to_each_other_stop_after_max_links() {
        let tree =
            Memory::new(&[("a", "dir"), ("a/x", "-> ../b"), ("b", "dir"), ("b/y", "-> ../a")]);
        // Walking a/x/y/x/y/... lists a new directory each time, until the links run out.
        let mut path = "a".to_string();
        let err = loop {
            match list(&tree, &path) {
                Ok(entries) => path = join(&path, &entries[0].name),
                Err(e) => break e,
            }
        };
        assert_eq!(path.matches('/').count(), MAX_LINKS);
        assert!(
            matches!(err, TreeError::Symlink { problem: LinkProblem::TooManyLinks, .. }),
            "{err}"
        );
    }
}
