//! [`Tree`] over a directory on disk.
//!
//! Links are followed by the rule every tree shares (see [`super::links`]), entry by entry
//! with `lstat` and `readlink`, never by the operating system's own resolution: a link is
//! resolved inside the root, as in a git tree, so the same repository reads the same from a
//! checkout and from a commit. It does not watch the directory (see [`super::watch`]).

use super::links::{self, Entries, Raw, Store};
use super::{EntryKind, LinkProblem, Tree, TreeEntry, TreeError, join};
use std::fs::FileType;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// The files under a directory on disk, read as a [`Tree`].
#[derive(Debug, Clone)]
pub struct LocalTree {
    root: PathBuf,
}

impl LocalTree {
    /// A tree rooted at `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = root.as_ref().canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(ErrorKind::NotADirectory, "not a directory"));
        }
        Ok(Self { root })
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(&self, path: &str, e: std::io::Error) -> TreeError {
        TreeError::Io { path: path.to_string(), tree: self.label(), source: Box::new(e) }
    }

    /// What `full` (named `shown`) is, with its type already known.
    fn raw(&self, full: PathBuf, kind: FileType, shown: &str) -> Result<Raw<PathBuf>, TreeError> {
        Ok(if kind.is_symlink() {
            let target = std::fs::read_link(&full).map_err(|e| self.io(shown, e))?;
            let target =
                target.into_os_string().into_string().map_err(|target| TreeError::Symlink {
                    path: shown.to_string(),
                    target: target.to_string_lossy().into_owned(),
                    problem: LinkProblem::NotUtf8,
                })?;
            Raw::Link(target)
        } else if kind.is_dir() {
            Raw::Dir(full)
        } else if kind.is_file() {
            Raw::File(full)
        } else {
            Raw::Other(full)
        })
    }
}

impl Store for LocalTree {
    type Node = PathBuf;

    fn root(&self) -> PathBuf {
        self.root.clone()
    }

    fn tree_label(&self) -> String {
        Tree::label(self)
    }

    fn child(
        &self,
        dir: &PathBuf,
        name: &str,
        shown: &str,
    ) -> Result<Option<Raw<PathBuf>>, TreeError> {
        let full = dir.join(name);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) => self.raw(full, meta.file_type(), shown).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(shown, e)),
        }
    }

    fn entries(&self, dir: &PathBuf, shown: &str) -> Result<Entries<PathBuf>, TreeError> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| self.io(shown, e))? {
            let entry = entry.map_err(|e| self.io(shown, e))?;
            let name = entry.file_name().into_string().map_err(|name| TreeError::NotUtf8 {
                path: join(shown, &name.to_string_lossy()),
            })?;
            let path = join(shown, &name);
            let kind = entry.file_type().map_err(|e| self.io(&path, e))?;
            let raw = self.raw(entry.path(), kind, &path)?;
            entries.push((name, raw));
        }
        Ok(entries)
    }
}

impl Tree for LocalTree {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError> {
        let found = links::resolve(self, path)?
            .ok_or_else(|| TreeError::NotFound { path: path.to_string(), tree: self.label() })?;
        match found.kind {
            EntryKind::File => {}
            EntryKind::Dir => {
                return Err(TreeError::InvalidPath { path: path.into(), reason: "is a directory" });
            }
            EntryKind::Other => {
                return Err(TreeError::InvalidPath {
                    path: path.into(),
                    reason: "is not a regular file",
                });
            }
        }
        let too_large = || TreeError::TooLarge { path: path.to_string(), limit };
        let file = std::fs::File::open(&found.node).map_err(|e| self.io(path, e))?;
        let size = file.metadata().map_err(|e| self.io(path, e))?.len();
        if size > limit {
            return Err(too_large());
        }
        // The file may grow between the size check and the read: never read past the limit.
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| self.io(path, e))?;
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        Ok(bytes)
    }

    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
        links::list(self, dir)
    }

    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError> {
        Ok(links::resolve(self, path)?.map(|found| found.kind))
    }

    fn label(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn reads_lists_and_follows_links_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app/vars")).unwrap();
        std::fs::write(dir.path().join("app/cetus.yaml"), "name: a\n").unwrap();
        std::fs::write(dir.path().join("app/vars/region"), "eu\n").unwrap();
        symlink("vars/region", dir.path().join("app/region")).unwrap();
        symlink("app/vars", dir.path().join("vars")).unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();

        assert_eq!(tree.read("app/cetus.yaml", 100).unwrap(), b"name: a\n");
        assert_eq!(tree.read("app/region", 100).unwrap(), b"eu\n");
        assert_eq!(tree.read("vars/region", 100).unwrap(), b"eu\n");
        assert_eq!(tree.kind("app").unwrap(), Some(EntryKind::Dir));
        assert_eq!(tree.kind("vars").unwrap(), Some(EntryKind::Dir));
        assert_eq!(tree.kind("nope").unwrap(), None);
        let entries: Vec<_> =
            tree.list("").unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
        assert_eq!(entries, [("app".into(), EntryKind::Dir), ("vars".into(), EntryKind::Dir)]);
        let err = tree.read("app/missing", 100).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("app/missing: no such file or directory in {}", tree.label())
        );
        let err = tree.read("app", 100).unwrap_err();
        assert_eq!(err.to_string(), "app: is a directory");
    }

    #[test]
    fn a_link_out_of_the_root_is_refused_even_to_an_existing_file() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        symlink("../../../../../../../etc/hostname", dir.path().join("climb")).unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();

        let err = tree.read("link", 100).unwrap_err();
        let target = outside.path().join("secret").display().to_string();
        assert_eq!(err.to_string(), format!("link: symlink to {target} leaves the repository"));
        let err = tree.list("").unwrap_err();
        assert_eq!(
            err.to_string(),
            "climb: symlink to ../../../../../../../etc/hostname leaves the repository"
        );
    }

    #[test]
    fn the_size_limit_is_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "12345").unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();
        assert_eq!(tree.read("f", 5).unwrap(), b"12345");
        let err = tree.read("f", 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f: file is larger than 4 bytes, the most that is read from one file"
        );
    }

    #[test]
    fn special_files_are_listed_as_other_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let socket = std::os::unix::net::UnixListener::bind(dir.path().join("s.yaml")).unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();
        let entries: Vec<_> =
            tree.list("").unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
        assert_eq!(entries, [("s.yaml".into(), EntryKind::Other)]);
        assert_eq!(
            tree.read("s.yaml", 100).unwrap_err().to_string(),
            "s.yaml: is not a regular file"
        );
        drop(socket);
    }

    #[test]
    fn a_name_that_is_not_utf8_is_an_error_naming_it() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
        std::fs::write(dir.path().join("m").join(name), "a: 1\n").unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();
        assert_eq!(
            tree.list("m").unwrap_err().to_string(),
            "m/caf\u{fffd}.yaml: file name is not UTF-8"
        );
    }
}
