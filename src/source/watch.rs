//! The local source for development (`cetus serve --repo ./some/repo`): a stream of "new
//! revision" events for a directory on disk.
//!
//! - A git repository is followed by its committed `HEAD`: notify watches the git directory
//!   and its refs, and every commit, checkout, reset or rebase that moves `HEAD` becomes one
//!   [`Revision::Commit`] as soon as the burst of file events settles (a short debounce).
//!   Uncommitted edits are ignored, as the daemon would ignore them in a remote.
//! - Any other directory is followed by its files: after edits settle, the contents are
//!   hashed, and a [`Revision::Snapshot`] is sent when the hash changed.
//!
//! The first event is the revision current when watching started (none for a repository
//! without commits yet). This module reports revisions; it does not render or sync them.

use super::git::{GitError, GitTree};
use super::{LocalTree, Tree};
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// However busy the directory, it is re-read at least once per this many debounce periods.
const MAX_DEBOUNCES: u32 = 20;

/// Options of [`LocalWatch`].
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How long file events must pause before the revision is re-read. Short, so commits
    /// are reported "at once", but long enough to see a rebase or a save-all as one change.
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { debounce: Duration::from_millis(100) }
    }
}

/// A revision of a local source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// The commit `HEAD` of a local git repository points at (full id).
    Commit {
        /// The commit id.
        id: String,
    },
    /// The contents of a plain directory, identified by their hash.
    Snapshot {
        /// `sha256:<hex>` over every file's path and contents.
        digest: String,
    },
}

impl Revision {
    /// The commit id or the snapshot digest.
    pub fn id(&self) -> &str {
        match self {
            Revision::Commit { id } => id,
            Revision::Snapshot { digest } => digest,
        }
    }
}

/// What kind of directory a [`LocalWatch`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalKind {
    /// A git repository (its work tree or git directory): commits are followed.
    Git,
    /// A plain directory: files are followed.
    Dir,
}

/// An error of the local source.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The directory does not exist or cannot be read.
    #[error("{}: cannot read local source", path.display())]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The git repository could not be read.
    #[error("{}: cannot read git repository", path.display())]
    Git {
        /// The repository.
        path: PathBuf,
        /// Why.
        #[source]
        source: git2::Error,
    },
    /// Watching for changes failed.
    #[error("{}: cannot watch for changes", path.display())]
    Notify {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: notify::Error,
    },
    /// Reading the files of a revision failed.
    #[error("{}: cannot open revision", path.display())]
    Tree {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: GitError,
    },
}

/// A running watch of a local directory; dropping it stops watching.
pub struct LocalWatch {
    path: PathBuf,
    kind: LocalKind,
    events: mpsc::Receiver<Result<Revision, WatchError>>,
    // Kept for its `Drop`, which stops the OS watches.
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl LocalWatch {
    /// Starts watching `path`. Must be called inside a Tokio runtime.
    pub fn start(path: impl AsRef<Path>, options: WatchOptions) -> Result<Self, WatchError> {
        let path = path.as_ref();
        let path = path
            .canonicalize()
            .map_err(|source| WatchError::Read { path: path.to_path_buf(), source })?;
        let (watched, kind) = match git2::Repository::open(&path) {
            Ok(repo) => (git_watches(&repo), LocalKind::Git),
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                (vec![(path.clone(), RecursiveMode::Recursive)], LocalKind::Dir)
            }
            Err(source) => return Err(WatchError::Git { path, source }),
        };
        let initial = current(&path, kind)?;
        let (raw_tx, raw_rx) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // The receiver is gone only when the watch is being dropped.
                let _ = raw_tx.send(event);
            })
            .map_err(|source| WatchError::Notify { path: path.clone(), source })?;
        for (dir, mode) in &watched {
            watcher
                .watch(dir, *mode)
                .map_err(|source| WatchError::Notify { path: dir.clone(), source })?;
        }
        let (tx, events) = mpsc::channel(16);
        let task = tokio::spawn(follow(path.clone(), kind, initial, options.debounce, raw_rx, tx));
        Ok(Self { path, kind, events, _watcher: watcher, task })
    }

    /// The next revision, or an error reading one (the watch goes on after errors). `None`
    /// only if the watch stopped. Cancel-safe.
    pub async fn next(&mut self) -> Option<Result<Revision, WatchError>> {
        self.events.recv().await
    }

    /// What kind of directory is followed.
    pub fn kind(&self) -> LocalKind {
        self.kind
    }

    /// The followed directory, canonical.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files of `revision`: the commit's tree for a repository (never the work tree),
    /// the directory itself for a snapshot (its current contents).
    pub fn tree(&self, revision: &Revision) -> Result<Arc<dyn Tree>, WatchError> {
        match revision {
            Revision::Commit { id } => {
                let label = self.path.display().to_string();
                let tree = GitTree::open(&self.path, id, &label)
                    .map_err(|source| WatchError::Tree { path: self.path.clone(), source })?;
                Ok(Arc::new(tree))
            }
            Revision::Snapshot { .. } => LocalTree::new(&self.path)
                .map(|t| Arc::new(t) as Arc<dyn Tree>)
                .map_err(|source| WatchError::Read { path: self.path.clone(), source }),
        }
    }
}

impl Drop for LocalWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for LocalWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWatch")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// HEAD lives in the git directory; refs and packed-refs in the common directory (they
/// differ for linked worktrees). Files are replaced by rename, so directories are watched.
fn git_watches(repo: &git2::Repository) -> Vec<(PathBuf, RecursiveMode)> {
    let mut watches = vec![(repo.path().to_path_buf(), RecursiveMode::NonRecursive)];
    let common = repo.commondir().to_path_buf();
    if common != repo.path() {
        watches.push((common.clone(), RecursiveMode::NonRecursive));
    }
    watches.push((common.join("refs"), RecursiveMode::Recursive));
    watches
}

async fn follow(
    path: PathBuf,
    kind: LocalKind,
    mut last: Option<Revision>,
    debounce: Duration,
    mut raw: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    tx: mpsc::Sender<Result<Revision, WatchError>>,
) {
    if let Some(first) = &last
        && tx.send(Ok(first.clone())).await.is_err()
    {
        return;
    }
    while let Some(event) = raw.recv().await {
        match event {
            Ok(event) if !relevant(&event.kind) => continue,
            Ok(_) => {}
            Err(source) => {
                if tx.send(Err(WatchError::Notify { path: path.clone(), source })).await.is_err() {
                    return;
                }
                continue;
            }
        }
        // Let the burst settle: wait until no event came for `debounce`, but not forever, so
        // that a directory written to without pause still gets scanned.
        let deadline = tokio::time::Instant::now() + debounce * MAX_DEBOUNCES;
        loop {
            let quiet = (tokio::time::Instant::now() + debounce).min(deadline);
            match tokio::time::timeout_at(quiet, raw.recv()).await {
                Ok(Some(_)) if tokio::time::Instant::now() < deadline => continue,
                Ok(None) => return,
                Ok(Some(_)) | Err(_) => break,
            }
        }
        let read = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || current(&path, kind)).await
        };
        let revision = match read {
            Ok(Ok(revision)) => revision,
            Ok(Err(error)) => {
                if tx.send(Err(error)).await.is_err() {
                    return;
                }
                continue;
            }
            Err(_) => return, // the runtime is shutting down
        };
        if let Some(revision) = revision.filter(|r| last.as_ref() != Some(r)) {
            last = Some(revision.clone());
            if tx.send(Ok(revision)).await.is_err() {
                return;
            }
        }
    }
}

/// Reads do not change a revision; inotify reports opens, which our own reads cause.
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn current(path: &Path, kind: LocalKind) -> Result<Option<Revision>, WatchError> {
    match kind {
        LocalKind::Git => head_commit(path),
        LocalKind::Dir => snapshot(path).map(|digest| Some(Revision::Snapshot { digest })),
    }
}

fn head_commit(path: &Path) -> Result<Option<Revision>, WatchError> {
    let git = |source| WatchError::Git { path: path.to_path_buf(), source };
    let repo = git2::Repository::open(path).map_err(git)?;
    match repo.head() {
        Ok(head) => {
            let commit = head.peel_to_commit().map_err(git)?;
            Ok(Some(Revision::Commit { id: commit.id().to_string() }))
        }
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => {
            Ok(None)
        }
        Err(e) => Err(git(e)),
    }
}

/// `sha256:` of every entry's relative path, type and contents, in path order. Symlinks are
/// hashed by their target, not followed, so a link loop cannot hang the scan.
fn snapshot(root: &Path) -> Result<String, WatchError> {
    let mut entries = Vec::new();
    collect(root, root, &mut entries)?;
    entries.sort();
    let mut hash = Sha256::new();
    for (rel, kind, contents) in entries {
        for part in [rel.as_bytes(), &[kind], &(contents.len() as u64).to_le_bytes(), &contents] {
            hash.update(part);
        }
        hash.update([0]);
    }
    Ok(format!("sha256:{}", hex::encode(hash.finalize())))
}

fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, u8, Vec<u8>)>,
) -> Result<(), WatchError> {
    let read = |path: &Path, source| WatchError::Read { path: path.to_path_buf(), source };
    for entry in std::fs::read_dir(dir).map_err(|e| read(dir, e))? {
        let entry = entry.map_err(|e| read(dir, e))?;
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(|e| read(&path, e))?;
        if file_type.is_dir() {
            out.push((rel, b'd', Vec::new()));
            collect(root, &path, out)?;
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| read(&path, e))?;
            out.push((rel, b'l', target.to_string_lossy().into_owned().into_bytes()));
        } else {
            match std::fs::read(&path) {
                Ok(contents) => out.push((rel, b'f', contents)),
                // Deleted between listing and reading: the next event rescans.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(read(&path, e)),
            }
        }
    }
    Ok(())
}
