//! What one render may read: [`Limits`] on file size, total bytes, file count and YAML alias
//! expansion, and the [`Reader`] every file of a render is read through, which counts.
//!
//! A repository is input from whoever can push to it; these caps keep one render from eating
//! the machine, and each breach is an error naming the file that crossed it. This module
//! does not parse anything.

use crate::source::{Tree, TreeError, format_bytes};
use crate::spec::Diagnostic;
use std::cell::Cell;

/// Caps on what one render reads. Dependencies count against the render that uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest file a render reads (a cetus.yaml, a var file, a manifest): 1 MiB.
    pub max_file_bytes: u64,
    /// The most bytes one render reads, all files together: 32 MiB.
    pub max_total_bytes: u64,
    /// The most files one render reads: 4,096.
    pub max_files: usize,
    /// The most nodes YAML aliases may copy in one file (see [`crate::yaml::Limits`]):
    /// 100,000, so a "billion laughs" document fails in milliseconds.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024,
            max_total_bytes: 32 * 1024 * 1024,
            max_files: 4096,
            max_alias_nodes: crate::yaml::Limits::default().max_alias_nodes,
        }
    }
}

/// Reads the files of one render, counting them against its [`Limits`].
pub(crate) struct Reader<'l> {
    limits: &'l Limits,
    files: Cell<usize>,
    bytes: Cell<u64>,
    exhausted: Cell<bool>,
}

impl<'l> Reader<'l> {
    /// A reader that has read nothing yet.
    pub fn new(limits: &'l Limits) -> Self {
        Self { limits, files: Cell::new(0), bytes: Cell::new(0), exhausted: Cell::new(false) }
    }

    /// Reads `path` of `tree` as UTF-8 text. A failure is a diagnostic about `path` (or about
    /// the path the tree names, for a link on the way).
    pub fn text(&self, tree: &dyn Tree, path: &str) -> Result<String, Diagnostic> {
        let whole = |file: &str, message: String| Diagnostic {
            file: file.to_string(),
            origin: None,
            field: None,
            message,
        };
        let limits = self.limits;
        if self.files.get() >= limits.max_files {
            self.exhausted.set(true);
            let message = format!(
                "the render would read more than {} files, the most one render reads",
                limits.max_files
            );
            return Err(whole(path, message));
        }
        self.files.set(self.files.get() + 1);
        let content = tree
            .read(path, limits.max_file_bytes)
            .map_err(|e| whole(e.path(), with_causes(e.reason(), &e)))?;
        let total = self.bytes.get() + content.len() as u64;
        self.bytes.set(total);
        if total > limits.max_total_bytes {
            self.exhausted.set(true);
            let message = format!(
                "with this file the render reads more than {}, the most one render reads",
                format_bytes(limits.max_total_bytes)
            );
            return Err(whole(path, message));
        }
        String::from_utf8(content).map_err(|_| whole(path, "not UTF-8 text".into()))
    }

    /// Whether a render-wide limit was reached: every further read would fail too.
    pub fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    /// The YAML limits for each file read.
    pub fn yaml(&self) -> crate::yaml::Limits {
        crate::yaml::Limits { max_alias_nodes: self.limits.max_alias_nodes }
    }
}

/// A tree error as one line: its message and every cause after it.
pub(crate) fn tree_message(error: &TreeError) -> String {
    with_causes(error.to_string(), error)
}

fn with_causes(message: String, error: &dyn std::error::Error) -> String {
    let mut out = message;
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
