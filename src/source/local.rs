//! [`Tree`] over a directory on disk.

use super::{EntryKind, Tree, TreeEntry, TreeError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The files under a directory on disk, read as a [`Tree`].
///
/// Symlinks are followed; a path that resolves outside the root is refused, so a link cannot
/// smuggle a file from outside the repository into a render.
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

    fn resolve(&self, path: &str) -> Result<Option<PathBuf>, TreeError> {
        let full = self.root.join(path);
        match full.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(Some(real)),
            Ok(_) => Err(TreeError::InvalidPath {
                path: path.to_string(),
                reason: "path resolves outside the repository (through a symlink)",
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(path, e)),
        }
    }

    fn io(&self, path: &str, e: std::io::Error) -> TreeError {
        TreeError::Io { path: path.to_string(), tree: self.label(), source: Box::new(e) }
    }

    fn not_found(&self, path: &str) -> TreeError {
        TreeError::NotFound { path: path.to_string(), tree: self.label() }
    }
}

impl Tree for LocalTree {
    fn read(&self, path: &str) -> Result<Vec<u8>, TreeError> {
        let real = self.resolve(path)?.ok_or_else(|| self.not_found(path))?;
        std::fs::read(&real).map_err(|e| self.io(path, e))
    }

    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
        let real = self.resolve(dir)?.ok_or_else(|| self.not_found(dir))?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(|e| self.io(dir, e))? {
            let entry = entry.map_err(|e| self.io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Follow symlinks for the kind, as `read` does.
            let kind = match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_dir() => EntryKind::Dir,
                Ok(_) => EntryKind::File,
                Err(_) => continue, // a dangling symlink is not an entry we can read
            };
            entries.push(TreeEntry { name, kind });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError> {
        Ok(self.resolve(path)?.map(
            |real| {
                if real.is_dir() { EntryKind::Dir } else { EntryKind::File }
            },
        ))
    }

    fn label(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_and_refuses_symlink_escape() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/cetus.yaml"), "name: a\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("app/link"))
            .unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();

        assert_eq!(tree.read("app/cetus.yaml").unwrap(), b"name: a\n");
        assert_eq!(tree.kind("app").unwrap(), Some(EntryKind::Dir));
        assert_eq!(tree.kind("nope").unwrap(), None);
        let names: Vec<_> = tree.list("app").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["cetus.yaml", "link"]);
        assert!(matches!(tree.read("app/link"), Err(TreeError::InvalidPath { .. })));
        assert!(matches!(tree.read("app/missing"), Err(TreeError::NotFound { .. })));
    }
}
