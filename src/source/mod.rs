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
//!
//! # What a tree shows, and what it refuses
//!
//! A render that silently reads less than the repository holds is a deletion waiting to
//! happen (the engine prunes what a render lacks), so a tree never leaves an entry out: what
//! it cannot read is an error naming the path.
//!
//! - **Symlinks**, one rule for both trees: a symlink to a file or a directory inside the
//!   repository reads as its target (a linked directory is listed and walked as if it were
//!   there). The target is resolved relative to the link's directory, inside the tree: on
//!   disk under the tree's root, in git within the commit's tree (never the disk). A link
//!   that leaves the repository (an absolute target, or `..` above the root), dangles (its
//!   target does not exist), or loops (more than [`MAX_LINKS`] links on one path, or a link to
//!   a directory that contains it, which a walk would follow forever) is a
//!   [`TreeError::Symlink`] naming the link.
//! - **Names** must be UTF-8 ([`TreeError::NotUtf8`]): paths are strings everywhere else.
//! - **Anything else** that cannot be read (permissions, a missing git object) is a
//!   [`TreeError::Io`] naming the path, with the cause.
//! - Entries that are neither files nor directories (a git submodule, whose files are in
//!   another repository; a socket or device on disk) are listed as [`EntryKind::Other`] and
//!   never read, so each walker decides: the renderer refuses one under `manifests:`.
//! - [`Tree::read`] takes a size limit, checked before the contents are loaded
//!   ([`TreeError::TooLarge`]).

mod changes;
pub mod git;
mod links;
mod local;
mod repo_url;
pub mod trigger;
pub mod watch;

pub use changes::{AppGraph, AppRefs};
pub use links::MAX_LINKS;
pub use local::LocalTree;
pub use repo_url::{RepoKey, same_repo};

use std::fmt;
use std::sync::Arc;

/// What a path inside a [`Tree`] is, once symlinks are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a symlink to one).
    File,
    /// A directory (or a symlink to one).
    Dir,
    /// Neither, and never read: a git submodule, or a socket, FIFO or device on disk.
    Other,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// The entry's name, without its directory.
    pub name: String,
    /// File or directory.
    pub kind: EntryKind,
}

/// An error reading from a [`Tree`]. Each names the repo-relative path concerned; see
/// [`TreeError::path`] and [`TreeError::reason`] for the two halves of the message.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The path does not exist in this tree.
    NotFound {
        /// The repo-relative path asked for.
        path: String,
        /// The tree's label (see [`Tree::label`]).
        tree: String,
    },
    /// The path is not valid inside a tree (absolute, or leaves the root), or is the wrong
    /// kind of entry for the operation.
    InvalidPath {
        /// The path as given.
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A symlink that cannot be followed: it leaves the repository, dangles, or loops.
    Symlink {
        /// The link's path (as reached from the path asked for).
        path: String,
        /// What the link points at, as written in it.
        target: String,
        /// What is wrong with it.
        problem: LinkProblem,
    },
    /// A name in the tree is not UTF-8, so it cannot be addressed by a path.
    NotUtf8 {
        /// The path, with the offending bytes replaced by U+FFFD.
        path: String,
    },
    /// A file is larger than the reader allows.
    TooLarge {
        /// The repo-relative path of the file.
        path: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The underlying storage failed.
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

/// Why a symlink cannot be followed (see [`TreeError::Symlink`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Its target is absolute, or climbs above the repository's root.
    LeavesRepository,
    /// Nothing exists at its target.
    Dangles,
    /// It points at a directory that contains it: walking it would never end.
    ContainsItself,
    /// Following it takes more than [`MAX_LINKS`] links.
    TooManyLinks,
    /// Its target is not UTF-8 (shown with U+FFFD in its place).
    NotUtf8,
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkProblem::LeavesRepository => f.write_str("leaves the repository"),
            LinkProblem::Dangles => f.write_str("is broken: nothing exists there"),
            LinkProblem::ContainsItself => {
                f.write_str("loops: it points at a directory that contains it")
            }
            LinkProblem::TooManyLinks => {
                write!(f, "loops: more than {MAX_LINKS} symlinks to follow")
            }
            LinkProblem::NotUtf8 => f.write_str("is not UTF-8"),
        }
    }
}

impl TreeError {
    /// The repo-relative path the error is about.
    pub fn path(&self) -> &str {
        match self {
            TreeError::NotFound { path, .. }
            | TreeError::InvalidPath { path, .. }
            | TreeError::Symlink { path, .. }
            | TreeError::NotUtf8 { path }
            | TreeError::TooLarge { path, .. }
            | TreeError::Io { path, .. } => path,
        }
    }

    /// What is wrong with [`path`](Self::path), without the path (the cause of an
    /// [`Io`](TreeError::Io) error stays in its `source`).
    pub fn reason(&self) -> String {
        match self {
            TreeError::NotFound { tree, .. } => format!("no such file or directory in {tree}"),
            TreeError::InvalidPath { reason, .. } => (*reason).to_string(),
            TreeError::Symlink { target, problem, .. } => format!("symlink to {target} {problem}"),
            TreeError::NotUtf8 { .. } => "file name is not UTF-8".to_string(),
            TreeError::TooLarge { limit, .. } => {
                format!(
                    "file is larger than {}, the most that is read from one file",
                    format_bytes(*limit)
                )
            }
            TreeError::Io { tree, .. } => format!("cannot read from {tree}"),
        }
    }
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path(), self.reason())
    }
}

/// A byte count for messages: `1 MiB`, `64 KiB`, else `1500 bytes`.
pub fn format_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match n {
        0 => "0 bytes".to_string(),
        n if n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n % KIB == 0 => format!("{} KiB", n / KIB),
        n => format!("{n} bytes"),
    }
}

/// A read-only view of the files of one revision of a repository.
///
/// Paths are relative to the tree's root, `/`-separated, without `.` or `..` segments; the
/// empty string is the root. Use [`normalize`] to turn a user-written path into one.
///
/// Symlinks are followed by the rule in the [module documentation](self), the same for every
/// tree; nothing that exists is ever left out of a listing without an error.
pub trait Tree: Send + Sync {
    /// Reads a whole file of at most `limit` bytes; a larger one is [`TreeError::TooLarge`],
    /// found before its contents are loaded.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError>;
    /// Lists a directory, sorted by name: every entry, or an error naming the one that
    /// cannot be listed.
    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError>;
    /// Says what `path` is, or `None` when nothing is there. A broken symlink on the way is
    /// an error, not `None`.
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
