//! [`Tree`] over one commit, read straight from a repository's object database.
//!
//! No checkout: files are blobs looked up by path in the commit's tree. Symlinks are followed
//! inside the tree, like [`LocalTree`](crate::source::LocalTree) does on disk, and one that
//! leaves the repository is refused. Submodules are not part of the repository's objects and
//! read as absent.

use super::{GitError, Result};
use crate::source::{EntryKind, Tree, TreeEntry, TreeError, join, normalize};
use git2::{ObjectType, Oid, Repository};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// How many symlinks one lookup may follow before it is taken as a loop.
const MAX_LINKS: usize = 16;

/// One file of a commit, with the id of its blob (see [`GitTree::files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its tree path.
    pub path: String,
    /// The hex id of its blob: equal ids mean equal contents, across commits.
    pub blob: String,
}

/// The files of one commit as a [`Tree`].
pub struct GitTree {
    // `Repository` is `Send` but not `Sync`; reads are short, so one lock is enough.
    repo: Mutex<Repository>,
    path: PathBuf,
    commit: Oid,
    tree: Oid,
    label: String,
}

impl GitTree {
    /// Opens the commit `commit` (a full or abbreviated id) of the repository at `repo_path`
    /// (bare or not). `url` names the repository in labels and errors.
    pub fn open(repo_path: &Path, commit: &str, url: &str) -> Result<Self> {
        let repo = Repository::open(repo_path)
            .map_err(|source| GitError::Open { path: repo_path.to_path_buf(), source })?;
        let found =
            repo.revparse_single(commit).and_then(|o| o.peel_to_commit()).map_err(|_| {
                GitError::UnknownRef { url: url.to_string(), reference: commit.to_string() }
            })?;
        let (commit, tree) = (found.id(), found.tree_id());
        drop(found);
        Ok(Self {
            repo: Mutex::new(repo),
            path: repo_path.to_path_buf(),
            commit,
            tree,
            label: format!("{url}@{commit}"),
        })
    }

    /// The full id of the commit.
    pub fn commit(&self) -> String {
        self.commit.to_string()
    }

    /// The repository directory this tree reads from.
    pub fn repo_path(&self) -> &Path {
        &self.path
    }

    /// The blob id of the file at `path`, or `None` if there is no file there. Cheap: no
    /// content is read. Lets a caller cache what it parsed from a file across commits.
    pub fn blob_id(&self, path: &str) -> Result<Option<String>, TreeError> {
        let repo = self.lock();
        Ok(match self.resolve(&repo, path)? {
            Some((oid, ObjectType::Blob)) => Some(oid.to_string()),
            _ => None,
        })
    }

    /// Every file of the commit, sorted by path, with blob ids. Symlinks and submodules are
    /// left out. A walk of tree objects only: cheap even for thousands of files.
    pub fn files(&self) -> Result<Vec<FileEntry>, TreeError> {
        let repo = self.lock();
        let tree = repo.find_tree(self.tree).map_err(|e| self.io("", e))?;
        let mut files = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && entry.filemode() != 0o120000
                && let Ok(name) = entry.name()
            {
                files
                    .push(FileEntry { path: format!("{dir}{name}"), blob: entry.id().to_string() });
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| self.io("", e))?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    fn lock(&self) -> MutexGuard<'_, Repository> {
        // A panic while reading leaves nothing half-written in a read-only handle.
        self.repo.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Finds the object at `path`, following symlinks; `None` if absent.
    fn resolve(
        &self,
        repo: &Repository,
        path: &str,
    ) -> Result<Option<(Oid, ObjectType)>, TreeError> {
        let mut pending: Vec<String> =
            normalize("", path)?.split('/').filter(|s| !s.is_empty()).map(String::from).collect();
        pending.reverse();
        let mut done: Vec<String> = Vec::new();
        let mut current = (self.tree, ObjectType::Tree);
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if current.1 != ObjectType::Tree {
                return Ok(None);
            }
            let tree = repo.find_tree(current.0).map_err(|e| self.io(path, e))?;
            let Some(entry) = tree.get_name(&name) else { return Ok(None) };
            if entry.filemode() == 0o120000 {
                links += 1;
                let target = self.link_target(repo, path, entry.id(), links)?;
                // Resolve the target relative to the link's directory, from the root again.
                let base = done.join("/");
                let resolved = normalize(&base, &target).map_err(|_| TreeError::InvalidPath {
                    path: path.to_string(),
                    reason: "symlink points outside the repository",
                })?;
                for segment in resolved.split('/').rev().filter(|s| !s.is_empty()) {
                    pending.push(segment.to_string());
                }
                done.clear();
                current = (self.tree, ObjectType::Tree);
                continue;
            }
            match entry.kind() {
                Some(kind @ (ObjectType::Tree | ObjectType::Blob)) => current = (entry.id(), kind),
                _ => return Ok(None), // a submodule: its objects live in another repository
            }
            done.push(name);
        }
        Ok(Some(current))
    }

    fn link_target(
        &self,
        repo: &Repository,
        path: &str,
        blob: Oid,
        links: usize,
    ) -> Result<String, TreeError> {
        if links > MAX_LINKS {
            return Err(TreeError::InvalidPath {
                path: path.to_string(),
                reason: "too many levels of symlinks",
            });
        }
        let blob = repo.find_blob(blob).map_err(|e| self.io(path, e))?;
        Ok(String::from_utf8_lossy(blob.content()).into_owned())
    }

    fn io(&self, path: &str, e: git2::Error) -> TreeError {
        let source = GitError::Object {
            repo: self.label.clone(),
            what: format!("path {path:?}"),
            source: e,
        };
        TreeError::Io { path: path.to_string(), tree: self.label.clone(), source: Box::new(source) }
    }

    fn not_found(&self, path: &str) -> TreeError {
        TreeError::NotFound { path: path.to_string(), tree: self.label.clone() }
    }
}

impl Tree for GitTree {
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError> {
        let repo = self.lock();
        match self.resolve(&repo, path)? {
            Some((oid, ObjectType::Blob)) => {
                Ok(repo.find_blob(oid).map_err(|e| self.io(path, e))?.content().to_vec())
            }
            Some(_) => {
                Err(TreeError::InvalidPath { path: path.to_string(), reason: "is a directory" })
            }
            None => Err(self.not_found(path)),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
        let repo = self.lock();
        let oid = match self.resolve(&repo, dir)? {
            Some((oid, ObjectType::Tree)) => oid,
            Some(_) => {
                return Err(TreeError::InvalidPath {
                    path: dir.to_string(),
                    reason: "is not a directory",
                });
            }
            None => return Err(self.not_found(dir)),
        };
        let tree = repo.find_tree(oid).map_err(|e| self.io(dir, e))?;
        let dir = normalize("", dir)?;
        let mut entries = Vec::new();
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue }; // not UTF-8: not addressable by path
            let kind = if entry.filemode() == 0o120000 {
                // Follow the link, as `read` does; a dangling link is not an entry we can read.
                match self.resolve(&repo, &join(&dir, name)) {
                    Ok(Some((_, ObjectType::Tree))) => EntryKind::Dir,
                    Ok(Some(_)) => EntryKind::File,
                    Ok(None) | Err(_) => continue,
                }
            } else {
                match entry.kind() {
                    Some(ObjectType::Tree) => EntryKind::Dir,
                    Some(ObjectType::Blob) => EntryKind::File,
                    _ => continue,
                }
            };
            entries.push(TreeEntry { name: name.to_string(), kind });
        }
        // git sorts directories as if their name ended in `/`; the trait wants plain names.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError> {
        let repo = self.lock();
        Ok(self.resolve(&repo, path)?.map(|(_, kind)| {
            if kind == ObjectType::Tree { EntryKind::Dir } else { EntryKind::File }
        }))
    }

    fn label(&self) -> String {
        self.label.clone()
    }
}

impl std::fmt::Debug for GitTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitTree").field("label", &self.label).finish_non_exhaustive()
    }
}
