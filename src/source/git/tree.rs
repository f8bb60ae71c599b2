//! [`Tree`] over one commit, read straight from a repository's object database.
//!
//! No checkout: files are blobs looked up by path in the commit's tree. Symlinks are followed
//! by the rule every tree shares (see [`crate::source`]): resolved within the commit's tree,
//! never on the disk, and one that leaves the repository, dangles or loops is an error naming
//! it. Submodules are not part of the repository's objects: they are listed as
//! [`EntryKind::Other`] and never read.

use super::{GitError, Result};
use crate::source::links::{self, Entries, Raw, Store};
use crate::source::{EntryKind, LinkProblem, Tree, TreeEntry, TreeError, join};
use git2::{ObjectType, Oid, Repository, TreeEntry as GitEntry};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// git's file mode of a symlink.
const LINK_MODE: i32 = 0o120000;

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
        Ok(match links::resolve(&self.objects(&repo), path)? {
            Some(found) if found.kind == EntryKind::File => Some(found.node.to_string()),
            _ => None,
        })
    }

    /// Every file of the commit, sorted by path, with blob ids. Symlinks and submodules are
    /// left out; a name that is not UTF-8 is an error. A walk of tree objects only: cheap
    /// even for thousands of files.
    pub fn files(&self) -> Result<Vec<FileEntry>, TreeError> {
        let repo = self.lock();
        let tree = repo.find_tree(self.tree).map_err(|e| self.io("", e))?;
        let mut files = Vec::new();
        let mut not_utf8 = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == LINK_MODE {
                return git2::TreeWalkResult::Ok;
            }
            match entry.name() {
                Ok(name) => files
                    .push(FileEntry { path: format!("{dir}{name}"), blob: entry.id().to_string() }),
                Err(_) => {
                    let name = String::from_utf8_lossy(entry.name_bytes());
                    not_utf8 = Some(TreeError::NotUtf8 { path: format!("{dir}{name}") });
                    return git2::TreeWalkResult::Abort;
                }
            }
            git2::TreeWalkResult::Ok
        })
        .or_else(|e| if not_utf8.is_some() { Ok(()) } else { Err(e) })
        .map_err(|e| self.io("", e))?;
        if let Some(error) = not_utf8 {
            return Err(error);
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    fn lock(&self) -> MutexGuard<'_, Repository> {
        // A panic while reading leaves nothing half-written in a read-only handle.
        self.repo.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The object database under `repo`'s lock, as the shared link rule reads it.
    fn objects<'a>(&'a self, repo: &'a Repository) -> Objects<'a> {
        Objects { tree: self, repo }
    }

    fn io(&self, path: &str, e: git2::Error) -> TreeError {
        TreeError::Io { path: path.to_string(), tree: self.label.clone(), source: Box::new(e) }
    }

    fn not_found(&self, path: &str) -> TreeError {
        TreeError::NotFound { path: path.to_string(), tree: self.label.clone() }
    }
}

/// A [`GitTree`]'s objects, with the repository locked: tree objects are directories, blobs
/// files, blobs of mode 120000 symlinks, commits submodules.
struct Objects<'a> {
    tree: &'a GitTree,
    repo: &'a Repository,
}

impl Objects<'_> {
    fn raw(&self, entry: &GitEntry<'_>, shown: &str) -> Result<Raw<Oid>, TreeError> {
        if entry.filemode() == LINK_MODE {
            let blob = self.repo.find_blob(entry.id()).map_err(|e| self.tree.io(shown, e))?;
            let target = std::str::from_utf8(blob.content()).map_err(|_| TreeError::Symlink {
                path: shown.to_string(),
                target: String::from_utf8_lossy(blob.content()).into_owned(),
                problem: LinkProblem::NotUtf8,
            })?;
            return Ok(Raw::Link(target.to_string()));
        }
        Ok(match entry.kind() {
            Some(ObjectType::Tree) => Raw::Dir(entry.id()),
            Some(ObjectType::Blob) => Raw::File(entry.id()),
            _ => Raw::Other(entry.id()),
        })
    }
}

impl Store for Objects<'_> {
    type Node = Oid;

    fn root(&self) -> Oid {
        self.tree.tree
    }

    fn tree_label(&self) -> String {
        self.tree.label.clone()
    }

    fn child(&self, dir: &Oid, name: &str, shown: &str) -> Result<Option<Raw<Oid>>, TreeError> {
        let tree = self.repo.find_tree(*dir).map_err(|e| self.tree.io(shown, e))?;
        tree.get_name(name).map(|entry| self.raw(&entry, shown)).transpose()
    }

    fn entries(&self, dir: &Oid, shown: &str) -> Result<Entries<Oid>, TreeError> {
        let tree = self.repo.find_tree(*dir).map_err(|e| self.tree.io(shown, e))?;
        let mut entries = Vec::with_capacity(tree.len());
        for entry in tree.iter() {
            let Ok(name) = entry.name() else {
                let name = String::from_utf8_lossy(entry.name_bytes());
                return Err(TreeError::NotUtf8 { path: join(shown, &name) });
            };
            let raw = self.raw(&entry, &join(shown, name))?;
            entries.push((name.to_string(), raw));
        }
        Ok(entries)
    }
}

impl Tree for GitTree {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError> {
        let repo = self.lock();
        let found = links::resolve(&self.objects(&repo), path)?;
        let oid = match found {
            Some(found) if found.kind == EntryKind::File => found.node,
            Some(found) => {
                let reason = if found.kind == EntryKind::Dir {
                    "is a directory"
                } else {
                    "is a git submodule"
                };
                return Err(TreeError::InvalidPath { path: path.to_string(), reason });
            }
            None => return Err(self.not_found(path)),
        };
        // The header gives the size without inflating the blob.
        let odb = repo.odb().map_err(|e| self.io(path, e))?;
        let (size, _) = odb.read_header(oid).map_err(|e| self.io(path, e))?;
        if size as u64 > limit {
            return Err(TreeError::TooLarge { path: path.to_string(), limit });
        }
        Ok(repo.find_blob(oid).map_err(|e| self.io(path, e))?.content().to_vec())
    }

    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
        let repo = self.lock();
        links::list(&self.objects(&repo), dir)
    }

    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError> {
        let repo = self.lock();
        Ok(links::resolve(&self.objects(&repo), path)?.map(|found| found.kind))
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
