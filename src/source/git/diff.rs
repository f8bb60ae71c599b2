//! What changed between two commits: a tree diff, not a render.
//!
//! git stores identical subtrees once, so comparing two commits walks only the directories
//! whose tree ids differ; a commit touching two apps of a thousand reads a handful of trees.

use super::{GitError, Result};
use crate::source::AppGraph;
use git2::{DiffOptions, Oid, Repository};
use std::collections::BTreeSet;

/// The outcome of [`Mirror::changed_apps`](super::Mirror::changed_apps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedApps {
    /// Every path added, modified, deleted or changed in type, sorted. A rename is its old and
    /// its new path.
    pub paths: Vec<String>,
    /// The apps of the graph those paths affect.
    pub apps: BTreeSet<String>,
}

impl ChangedApps {
    /// Maps `paths` to apps through `graph`.
    pub fn new(paths: Vec<String>, graph: &AppGraph) -> Self {
        let apps = graph.affected(&paths);
        Self { paths, apps }
    }
}

/// The paths that differ between commits `old` and `new` of `repo` (`label` names it in
/// errors). `old` may be `None` for "nothing before": every file of `new` then counts.
pub(crate) fn changed_paths(
    repo: &Repository,
    label: &str,
    old: Option<&str>,
    new: &str,
) -> Result<Vec<String>> {
    let tree_of = |commit: &str| -> Result<git2::Tree<'_>> {
        let oid = Oid::from_str(commit).map_err(|_| GitError::UnknownRef {
            url: label.to_string(),
            reference: commit.to_string(),
        })?;
        repo.find_commit(oid).and_then(|c| c.tree()).map_err(|source| GitError::Object {
            repo: label.to_string(),
            what: format!("commit {commit}"),
            source,
        })
    };
    let old_tree = old.map(tree_of).transpose()?;
    let new_tree = tree_of(new)?;
    let mut options = DiffOptions::new();
    options.include_typechange(true).skip_binary_check(true);
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
        .map_err(|source| GitError::Object {
            repo: label.to_string(),
            what: format!("diff {}..{new}", old.unwrap_or("(empty)")),
            source,
        })?;
    let mut paths = BTreeSet::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path().and_then(|p| p.to_str()) {
                paths.insert(path.to_string());
            }
        }
    }
    Ok(paths.into_iter().collect())
}
