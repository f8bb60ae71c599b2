//! Which apps a set of changed paths affects.
//!
//! Source cannot parse cetus.yaml, so the caller (the daemon, through `crate::spec`) describes
//! what each app reads as plain data, an [`AppGraph`], and this module maps the changed paths
//! of a commit (see [`git::Mirror::changed_paths`](super::git::Mirror::changed_paths)) to the
//! apps they affect, transitively through `path` dependencies. It is pure: no I/O, no git.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

/// What one cetus.yaml reads from its repository. All paths are tree paths (see
/// [`normalize`](super::normalize)): `/`-separated, relative to the repository root, `""` for
/// the root itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppRefs {
    /// The directory that holds the cetus.yaml; everything under it counts as read.
    pub dir: String,
    /// The directories of its `path` dependencies (each holds a cetus.yaml).
    pub dependencies: Vec<String>,
    /// Other files or directories it reads outside `dir`: var files, `manifests` entries.
    pub reads: Vec<String>,
}

/// The apps of a repository and what each reads, for [`AppGraph::affected`].
///
/// Nodes are cetus.yaml directories: deployed apps ([`AppGraph::add_app`]) and cetus.yaml
/// files that are only used as dependencies ([`AppGraph::add_dependency`]), whose own reads
/// and dependencies must propagate to the apps that use them. A dependency directory with no
/// node is still followed: a change under it affects the apps depending on it.
#[derive(Debug, Default, Clone)]
pub struct AppGraph {
    units: HashMap<String, Unit>,
    index: OnceLock<Index>,
}

#[derive(Debug, Clone)]
struct Unit {
    app: Option<String>,
    refs: AppRefs,
}

/// Lookup tables built from the units on first query, dropped on every change.
#[derive(Debug, Default, Clone)]
struct Index {
    /// A watched path (a directory or file) → the nodes (unit or dependency dirs) it dirties.
    watchers: HashMap<String, Vec<String>>,
    /// A node's directory → the units that depend on it.
    dependents: HashMap<String, Vec<String>>,
}

impl AppGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the deployed app `name` whose cetus.yaml is in `refs.dir`.
    pub fn add_app(&mut self, name: impl Into<String>, refs: AppRefs) {
        self.insert(Some(name.into()), refs);
    }

    /// Adds (or replaces) a cetus.yaml used only as a `path` dependency of apps. Does not
    /// turn an app already added at that directory into a mere dependency.
    pub fn add_dependency(&mut self, refs: AppRefs) {
        let dir = clean(&refs.dir);
        let app = self.units.get(&dir).and_then(|u| u.app.clone());
        self.insert(app, refs);
    }

    /// Removes the node at `dir` (an app or a dependency), e.g. when its cetus.yaml is deleted.
    pub fn remove(&mut self, dir: &str) {
        if self.units.remove(&clean(dir)).is_some() {
            self.index = OnceLock::new();
        }
    }

    /// The names of all apps, sorted.
    pub fn apps(&self) -> BTreeSet<String> {
        self.units.values().filter_map(|u| u.app.clone()).collect()
    }

    /// The apps affected by changes to `changed` paths: an app is affected when a changed
    /// path is its directory or under it, is or is under one of its `reads`, or affects one of
    /// its dependencies (transitively; cycles are harmless here).
    ///
    /// New apps are not reported: a changed path that creates a cetus.yaml matches no node,
    /// and discovering apps is the caller's job.
    pub fn affected<S: AsRef<str>>(&self, changed: &[S]) -> BTreeSet<String> {
        let index = self.index.get_or_init(|| self.build_index());
        let mut dirty: HashSet<&str> = HashSet::new();
        let mut queue: Vec<&str> = Vec::new();
        for path in changed {
            for prefix in ancestors(path.as_ref()) {
                for node in index.watchers.get(prefix).into_iter().flatten() {
                    if dirty.insert(node) {
                        queue.push(node);
                    }
                }
            }
        }
        while let Some(node) = queue.pop() {
            for dependent in index.dependents.get(node).into_iter().flatten() {
                if dirty.insert(dependent) {
                    queue.push(dependent);
                }
            }
        }
        dirty.iter().filter_map(|dir| self.units.get(*dir)?.app.clone()).collect()
    }

    fn insert(&mut self, app: Option<String>, mut refs: AppRefs) {
        refs.dir = clean(&refs.dir);
        refs.dependencies = refs.dependencies.iter().map(|d| clean(d)).collect();
        refs.reads = refs.reads.iter().map(|r| clean(r)).collect();
        self.units.insert(refs.dir.clone(), Unit { app, refs });
        self.index = OnceLock::new();
    }

    fn build_index(&self) -> Index {
        let mut index = Index::default();
        let mut watch = |path: &str, node: &str| {
            let nodes = index.watchers.entry(path.to_string()).or_default();
            if !nodes.iter().any(|n| n == node) {
                nodes.push(node.to_string());
            }
        };
        for (dir, unit) in &self.units {
            watch(dir, dir);
            for read in &unit.refs.reads {
                watch(read, dir);
            }
            for dep in &unit.refs.dependencies {
                // A dependency directory is a node of its own, whether or not it was added.
                watch(dep, dep);
            }
        }
        for (dir, unit) in &self.units {
            for dep in &unit.refs.dependencies {
                index.dependents.entry(dep.clone()).or_default().push(dir.clone());
            }
        }
        index
    }
}

/// `a/b/c` → `a/b/c`, `a/b`, `a`, `` (the root last).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let path = path.trim_matches('/');
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = if current.is_empty() { None } else { Some(super::parent(current)) };
        Some(current)
    })
}

fn clean(path: &str) -> String {
    path.split('/').filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(dir: &str, dependencies: &[&str], reads: &[&str]) -> AppRefs {
        AppRefs {
            dir: dir.to_string(),
            dependencies: dependencies.iter().map(|s| s.to_string()).collect(),
            reads: reads.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn graph() -> AppGraph {
        let mut g = AppGraph::new();
        g.add_app("web", refs("apps/web", &["apps/api"], &["shared/vars/region.txt"]));
        g.add_app("api", refs("apps/api", &["libs/db"], &[]));
        g.add_app("batch", refs("apps/batch", &["libs/queue"], &["manifests/batch/"]));
        g.add_app("admin", refs("apps/admin", &[], &[]));
        g.add_dependency(refs("libs/db", &["libs/pg"], &[]));
        g
    }

    #[test]
    fn affected_table() {
        let g = graph();
        let cases: &[(&[&str], &[&str])] = &[
            (&["apps/web/cetus.yaml"], &["web"]),
            (&["apps/api/extra/x.yaml"], &["api", "web"]),
            (&["libs/db/cetus.yaml"], &["api", "web"]),
            (&["libs/pg/values.txt"], &["api", "web"]),
            (&["libs/queue/cetus.yaml"], &["batch"]),
            (&["manifests/batch/job.yaml"], &["batch"]),
            (&["manifests/batchx/job.yaml"], &[]),
            (&["shared/vars/region.txt"], &["web"]),
            (&["shared/vars/other.txt"], &[]),
            (&["apps/webx/cetus.yaml", "README.md"], &[]),
            (&["apps/admin/cetus.yaml", "apps/web/cetus.yaml"], &["admin", "web"]),
        ];
        for (changed, want) in cases {
            let got: Vec<_> = g.affected(changed).into_iter().collect();
            assert_eq!(got, *want, "changed {changed:?}");
        }
    }

    #[test]
    fn root_app_sees_everything_and_cycles_terminate() {
        let mut g = AppGraph::new();
        g.add_app("root", refs("", &[], &[]));
        g.add_app("a", refs("a", &["b"], &[]));
        g.add_app("b", refs("b", &["a"], &[]));
        assert_eq!(g.affected(&["b/x"]).into_iter().collect::<Vec<_>>(), ["a", "b", "root"]);
    }

    #[test]
    fn replacing_and_removing_nodes_updates_answers() {
        let mut g = graph();
        assert!(g.affected(&["libs/queue/x"]).contains("batch"));
        g.add_app("batch", refs("apps/batch", &[], &[]));
        assert!(g.affected(&["libs/queue/x"]).is_empty());
        g.add_dependency(refs("apps/admin", &["libs/queue"], &[]));
        assert_eq!(g.apps().len(), 4, "an app stays an app when added as a dependency");
        assert!(g.affected(&["libs/queue/x"]).contains("admin"));
        g.remove("apps/admin/");
        assert!(g.affected(&["apps/admin/cetus.yaml"]).is_empty());
    }
}
