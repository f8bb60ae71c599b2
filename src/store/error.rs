//! The store's errors: what can go wrong opening a store, reading a record and writing one.
//!
//! It owns the error type only; which call raises which variant is documented at the call.

use std::path::PathBuf;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's directory could not be created or resolved.
    #[error("store {}: cannot create the directory", dir.display())]
    Create {
        /// The directory asked for.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the store: sled locks its directory, and one process owns it.
    #[error("store {}: in use by another process", dir.display())]
    InUse {
        /// The directory.
        dir: PathBuf,
    },
    /// This process already has the store open; clone that [`super::Store`] instead.
    #[error("store {}: already open in this process", dir.display())]
    OpenTwice {
        /// The directory.
        dir: PathBuf,
    },
    /// sled could not open the database (other than it being in use).
    #[error("store {}: cannot open", dir.display())]
    Open {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: sled::Error,
    },
    /// A read, write or flush failed in sled.
    #[error("store: database operation failed")]
    Sled(#[source] sled::Error),
    /// A record does not decode: the store was written by an incompatible version, or damaged.
    #[error("store tree {tree}, key {key:?}: corrupt record")]
    Corrupt {
        /// The tree holding it.
        tree: &'static str,
        /// Its key, as text.
        key: String,
        /// Why it does not decode.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A record could not be encoded (a manifest that is not representable as JSON text).
    #[error("store tree {tree}, key {key:?}: cannot encode the record")]
    Encode {
        /// The tree it was for.
        tree: &'static str,
        /// Its key, as text.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An app name or digest the store cannot use as a key part.
    #[error("{what} {name:?}: may not be empty or contain '/'")]
    InvalidName {
        /// `app` or `digest`.
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// No history entry of that id (never written, trimmed, or its app removed).
    #[error("app {app}, entry {id}: no such history entry")]
    UnknownEntry {
        /// The app.
        app: String,
        /// The id asked for.
        id: u64,
    },
    /// `finish_sync` on an entry that is not running (already finished, or recovered as
    /// interrupted).
    #[error("app {app}, entry {id}: not running")]
    NotRunning {
        /// The app.
        app: String,
        /// The entry.
        id: u64,
    },
    /// `finish_sync` with [`super::Outcome::Running`].
    #[error("app {app}, entry {id}: a sync cannot finish as Running")]
    FinishRunning {
        /// The app.
        app: String,
        /// The entry.
        id: u64,
    },
    /// `begin_sync` was given manifests but no digest to store them under.
    #[error("app {app}: manifests given without a digest")]
    ManifestsWithoutDigest {
        /// The app.
        app: String,
    },
    /// `begin_sync` named a digest whose manifests are neither given nor stored.
    #[error("app {app}, digest {digest}: manifests not stored")]
    MissingManifests {
        /// The app.
        app: String,
        /// The digest.
        digest: String,
    },
    /// `pin` on an entry without a digest (its render failed): there is nothing to re-apply.
    #[error("app {app}, entry {id}: has no rendered manifests to pin")]
    NothingToPin {
        /// The app.
        app: String,
        /// The entry.
        id: u64,
    },
    /// `entry_by_commit` with an abbreviation that matches more than one commit.
    #[error("app {app}, commit {prefix}: ambiguous, matches {}", commits.join(", "))]
    AmbiguousCommit {
        /// The app.
        app: String,
        /// The abbreviation given.
        prefix: String,
        /// The commits it matches, newest first.
        commits: Vec<String>,
    },
}

impl From<sled::Error> for StoreError {
    fn from(source: sled::Error) -> Self {
        StoreError::Sled(source)
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
