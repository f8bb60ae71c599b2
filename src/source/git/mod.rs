//! Git repositories on git2: mirrors of remotes, trees of commits, diffs between commits,
//! and `git` dependencies for the renderer.
//!
//! - [`Mirror`]: a bare mirror of one remote in a cache directory. [`Mirror::update`] checks
//!   the remote head first (the `ls-remote` equivalent) and fetches only when it moved, then
//!   says whether the branch advanced, was rewritten (force-push) or is gone. The local branch
//!   ref is the last good commit: a failed fetch or a deleted branch never moves it.
//! - [`GitTree`]: the files of one commit, read straight from the object database.
//! - [`Mirror::changed_paths`] / [`Mirror::changed_apps`]: a tree diff, mapped to apps through
//!   an [`AppGraph`](super::AppGraph).
//! - [`GitDependencies`]: the [`DependencyFetcher`](super::DependencyFetcher) for the renderer.
//! - [`Auth`]: https tokens or user/password, ssh keys with a known_hosts file, from files.
//! - [`set_network_timeouts`]: connect and read/write timeouts of every network operation.
//!
//! Everything here blocks the calling thread; async callers use `spawn_blocking`. It does not
//! schedule polls or parse cetus.yaml.

mod auth;
mod deps;
mod diff;
mod known_hosts;
mod mirror;
mod timeouts;
mod tree;

pub use auth::Auth;
pub use deps::{DependencyOptions, GitDependencies, HostAuth};
pub use diff::ChangedApps;
pub use known_hosts::HostKeyError;
pub use mirror::{Mirror, MirrorOptions, RemoteRef, Update};
pub use timeouts::{NetworkTimeouts, TimeoutsAlreadySet, set_network_timeouts};
pub use tree::{FileEntry, GitTree};

use std::path::PathBuf;

/// An error of a git operation. Messages lead with the repository (and ref) concerned.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The local mirror or repository could not be created or opened.
    #[error("{path}: cannot open git repository")]
    Open {
        /// The repository's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: git2::Error,
    },
    /// Listing the remote's refs failed: unreachable, refused, timed out, bad credentials.
    #[error("{url}: cannot list remote refs")]
    HeadCheck {
        /// The remote URL.
        url: String,
        /// Why.
        #[source]
        source: git2::Error,
    },
    /// Fetching failed; the last good commit is unchanged.
    #[error("{url}@{reference}: fetch failed")]
    Fetch {
        /// The remote URL.
        url: String,
        /// The ref being fetched.
        reference: String,
        /// Why.
        #[source]
        source: git2::Error,
    },
    /// The followed branch no longer exists on the remote. The mirror keeps its last good
    /// commit, readable through [`Mirror::last_good`].
    #[error("{url}@{branch}: branch is gone from the remote; last good commit {}",
        last_good.as_deref().unwrap_or("none"))]
    BranchGone {
        /// The remote URL.
        url: String,
        /// The branch that disappeared.
        branch: String,
        /// The commit the mirror still has for it, if it ever fetched it.
        last_good: Option<String>,
    },
    /// A branch, tag or commit does not exist (on the remote, or in the mirror).
    #[error("{url}@{reference}: no such branch, tag or commit")]
    UnknownRef {
        /// The repository URL or path.
        url: String,
        /// The ref asked for.
        reference: String,
    },
    /// The ssh host key is unknown or does not match the known_hosts file.
    #[error("{url}: ssh host key rejected")]
    HostKey {
        /// The remote URL.
        url: String,
        /// Why.
        #[source]
        source: HostKeyError,
    },
    /// A credentials file could not be read.
    #[error("{}: cannot read credentials for {url}", path.display())]
    Credentials {
        /// The remote URL.
        url: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A blocking operation was dropped before it ran: the runtime is shutting down.
    #[error("{url}: git operation cancelled")]
    Cancelled {
        /// The remote URL.
        url: String,
    },
    /// Reading objects (commits, trees, diffs) from the local repository failed.
    #[error("{repo}: cannot read {what}")]
    Object {
        /// The repository URL or path.
        repo: String,
        /// What was being read, e.g. `commit 1a2b3c`.
        what: String,
        /// Why.
        #[source]
        source: git2::Error,
    },
}

/// A shorthand for results of this module.
pub type Result<T, E = GitError> = std::result::Result<T, E>;

/// Says whether `s` looks like a full commit id (SHA-1 or SHA-256, hex).
fn is_full_commit_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}
