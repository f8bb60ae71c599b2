//! Where configuration comes from: a read-only view of the files of one revision.
//!
//! This module owns the [`Tree`] abstraction the renderer reads through, so that an app can be
//! rendered from a directory on disk or straight from a git commit without a checkout, and the
//! [`DependencyFetcher`] seam through which the renderer resolves `git` dependencies. It does
//! not parse or render anything.
//!
//! Around them: [`git`] (mirrors of remotes, commit trees, diffs, the git dependency
//! fetcher), [`AppGraph`] (which apps a set of changed paths affects), [`watch`] (following a
//! local directory or repository for development), [`trigger`] (the coalescing channel of
//! "check this repository now" requests) and [`RepoKey`] (matching repository URLs).

mod changes;
pub mod git;
mod local;
mod repo_url;
pub mod trigger;
pub mod watch;

pub use changes::{AppGraph, AppRefs};
pub use local::LocalTree;
pub use repo_url::{RepoKey, same_repo};

use std::sync::Arc;

/// What a path inside a [`Tree`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a symlink to one, for local trees).
    File,
    /// A directory.
    Dir,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// The entry's name, without its directory.
    pub name: String,
    /// File or directory.
    pub kind: EntryKind,
}

/// An error reading from a [`Tree`].
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The path does not exist in this tree.
    #[error("{path}: no such file or directory in {tree}")]
    NotFound {
        /// The repo-relative path asked for.
        path: String,
        /// The tree's label (see [`Tree::label`]).
        tree: String,
    },
    /// The path is not valid inside a tree (absolute, or leaves the root).
    #[error("{path}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The underlying storage failed.
    #[error("{path}: cannot read from {tree}")]
    Io {
        /// The repo-relative path asked for.
        path: String,
        /// The tree's label.
        tree: String,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A read-only view of the files of one revision of a repository.
///
/// Paths are relative to the tree's root, `/`-separated, without `.` or `..` segments; the
/// empty string is the root. Use [`normalize`] to turn a user-written path into one.
pub trait Tree: Send + Sync {
    /// Reads a whole file.
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError>;
    /// Lists a directory, sorted by name.
    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError>;
    /// Says whether `path` is a file, a directory, or absent (`None`).
    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError>;
    /// A short label for messages: a directory path, or `<url>@<commit>`.
    fn label(&self) -> String;
}

/// A tree fetched for a `git` dependency, pinned to the commit its ref resolved to.
#[derive(Clone)]
pub struct FetchedTree {
    /// The full commit id the ref resolved to.
    pub commit: String,
    /// The files of that commit.
    pub tree: Arc<dyn Tree>,
}

/// An error fetching a `git` dependency.
#[derive(Debug, thiserror::Error)]
#[error("{url}@{reference}: {message}")]
pub struct FetchError {
    /// The repository URL.
    pub url: String,
    /// The branch, tag or commit asked for.
    pub reference: String,
    /// What went wrong, for the user.
    pub message: String,
}

/// Resolves the `git` dependencies of a cetus.yaml (`dependencies.x.git` / `ref`).
///
/// The renderer asks for `(url, ref)` and gets the commit it resolved to plus its files, so
/// that history can record the exact dependency revisions.
pub trait DependencyFetcher: Send + Sync {
    /// Resolves `reference` (a branch, tag or commit) of `url` and returns its tree.
    fn fetch(&self, url: &str, reference: &str) -> Result<FetchedTree, FetchError>;
}

/// Normalizes a `/`-separated path relative to `base` (a tree path), resolving `.` and `..`.
///
/// Fails if the path is absolute or climbs above the tree's root: configuration may not
/// read files outside its repository.
pub fn normalize(base: &str, path: &str) -> Result<String, TreeError> {
    if path.starts_with('/') {
        return Err(TreeError::InvalidPath {
            path: path.to_string(),
            reason: "absolute paths are not allowed; paths are relative to the cetus.yaml",
        });
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(TreeError::InvalidPath {
                        path: path.to_string(),
                        reason: "path leaves the repository",
                    });
                }
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// Joins two tree paths (`""` is the root).
pub fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{name}"),
    }
}

/// The directory part of a tree path (`""` for a top-level entry).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_refuses_escape() {
        assert_eq!(normalize("apps/web", "../db").unwrap(), "apps/db");
        assert_eq!(normalize("apps/web", "./vars/x.txt").unwrap(), "apps/web/vars/x.txt");
        assert_eq!(normalize("", "a//b/").unwrap(), "a/b");
        assert!(matches!(
            normalize("apps", "../../etc/passwd"),
            Err(TreeError::InvalidPath { .. })
        ));
        assert!(matches!(normalize("apps", "/etc"), Err(TreeError::InvalidPath { .. })));
    }

    #[test]
    fn join_and_parent() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("c"), "");
    }
}
