//! One repository read two ways, from its work tree (`LocalTree`) and from its commit
//! (`GitTree`): both follow symlinks by one rule, and every entry a tree cannot read is an
//! error naming it, never an entry left out. A render that silently reads less than the
//! repository holds would prune what it missed.

#[path = "support/git.rs"]
mod git_support;
#[path = "support/unreadable.rs"]
mod unreadable;

use cetus::source::git::GitTree;
use cetus::source::{EntryKind, LocalTree, Tree, TreeError};
use git_support::{Upstream, git};
use std::os::unix::fs::symlink;
use std::path::Path;

/// A repository: its work tree, and its commit of `files` and `links` (path, target).
fn repository(
    root: &Path,
    files: &[(&str, &str)],
    links: &[(&str, &str)],
) -> (Upstream, LocalTree, GitTree) {
    let up = Upstream::new(root, "config");
    up.write(files);
    for (path, target) in links {
        let full = up.work.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        symlink(target, full).unwrap();
    }
    let commit = up.commit("tree");
    let local = LocalTree::new(&up.work).unwrap();
    let git = GitTree::open(&up.work, &commit, "config").unwrap();
    (up, local, git)
}

/// An error with its causes, as the CLI prints it.
fn chain(error: &TreeError) -> String {
    let mut out = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}

/// What an operation on a tree answers, as text: the contents read, the entries listed,
/// the kind, or the error.
fn answer(tree: &dyn Tree, op: &str, path: &str) -> String {
    let result = match op {
        "read" => tree.read(path, 1 << 20).map(|b| String::from_utf8(b).unwrap()),
        "list" => tree.list(path).map(|entries| {
            let names: Vec<_> =
                entries.iter().map(|e| format!("{} {:?}", e.name, e.kind)).collect();
            names.join(", ")
        }),
        "kind" => tree.kind(path).map(|kind| format!("{kind:?}")),
        _ => unreachable!(),
    };
    result.unwrap_or_else(|e| chain(&e))
}

#[test]
fn symlinks_follow_one_rule_in_both_trees() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, local, git) = repository(
        dir.path(),
        &[("apps/web/cetus.yaml", "name: web\n"), ("apps/web/vars/region.txt", "eu\n")],
        &[
            ("apps/web/region", "vars/region.txt"),
            ("web", "apps/web"),
            ("bad/escape", "../../etc/passwd"),
            ("bad/absolute", "/etc/passwd"),
            ("bad/dangling.yaml", "missing.yaml"),
            ("bad/through", "../web/nothing.yaml"),
            ("bad/self", "."),
            ("bad/up", ".."),
            ("bad/ping", "pong"),
            ("bad/pong", "ping"),
        ],
    );
    let cases = [
        ("read", "apps/web/region", "eu\n"),
        ("read", "web/vars/region.txt", "eu\n"),
        ("list", "web", "cetus.yaml File, region File, vars Dir"),
        ("list", "apps", "web Dir"),
        ("kind", "web/nothing.yaml", "None"),
        ("kind", "web", "Some(Dir)"),
        ("read", "bad/escape", "bad/escape: symlink to ../../etc/passwd leaves the repository"),
        ("read", "bad/absolute", "bad/absolute: symlink to /etc/passwd leaves the repository"),
        (
            "read",
            "bad/dangling.yaml",
            "bad/dangling.yaml: symlink to missing.yaml is broken: nothing exists there",
        ),
        (
            "kind",
            "bad/dangling.yaml",
            "bad/dangling.yaml: symlink to missing.yaml is broken: nothing exists there",
        ),
        (
            "read",
            "bad/through",
            "bad/through: symlink to ../web/nothing.yaml is broken: nothing exists there",
        ),
        (
            "kind",
            "bad/self",
            "bad/self: symlink to . loops: it points at a directory that contains it",
        ),
        (
            "read",
            "bad/up/web/cetus.yaml",
            "bad/up: symlink to .. loops: it points at a directory that contains it",
        ),
        ("read", "bad/ping", "bad/ping: symlink to pong loops: more than 16 symlinks to follow"),
        // A listing reports the first entry, by name, that cannot be followed.
        ("list", "bad", "bad/absolute: symlink to /etc/passwd leaves the repository"),
    ];
    for (op, path, expected) in cases {
        assert_eq!(answer(&local, op, path), expected, "LocalTree: {op} {path}");
        assert_eq!(answer(&git, op, path), expected, "GitTree: {op} {path}");
    }
}

#[test]
fn names_that_are_not_utf8_are_errors_in_both_trees() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    up.write(&[("m/a.yaml", "a: 1\n")]);
    std::fs::write(up.work.join("m").join(std::ffi::OsStr::from_bytes(b"caf\xe9.yaml")), "b: 2\n")
        .unwrap();
    let commit = up.commit("latin-1 name");
    let local = LocalTree::new(&up.work).unwrap();
    let git = GitTree::open(&up.work, &commit, "config").unwrap();
    for tree in [&local as &dyn Tree, &git] {
        assert_eq!(answer(tree, "list", "m"), "m/caf\u{fffd}.yaml: file name is not UTF-8");
    }
    let err = git.files().unwrap_err();
    assert_eq!(err.to_string(), "m/caf\u{fffd}.yaml: file name is not UTF-8");
}

#[test]
fn files_over_the_limit_are_refused_in_both_trees() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, local, git) = repository(dir.path(), &[("big.yaml", "0123456789")], &[]);
    for tree in [&local as &dyn Tree, &git] {
        assert_eq!(tree.read("big.yaml", 10).unwrap(), b"0123456789");
        assert_eq!(
            tree.read("big.yaml", 9).unwrap_err().to_string(),
            "big.yaml: file is larger than 9 bytes, the most that is read from one file"
        );
    }
}

#[test]
fn an_unreadable_file_or_directory_on_disk_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let files = [("m/ok.yaml", "a: 1\n"), ("m/secret.yaml", "b: 2\n"), ("d/x.yaml", "c: 3\n")];
    for (path, text) in files.into_iter().chain([("r/y.yaml", "d: 4\n")]) {
        std::fs::create_dir_all(dir.path().join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    unreadable::make_unreadable(&dir.path().join("m/secret.yaml"));
    unreadable::make_unreadable(&dir.path().join("d"));
    // Readable but not searchable: its names can be listed, its entries not looked at.
    unreadable::make_readable(&dir.path().join("r"), 0o444);
    let tree = LocalTree::new(dir.path()).unwrap();
    let root = tree.label();

    let answers = unreadable::without_override(|| {
        [("read", "m/secret.yaml"), ("read", "d/x.yaml"), ("list", "d"), ("list", "r")]
            .into_iter()
            .chain([("read", "r/y.yaml"), ("read", "m/ok.yaml")])
            .map(|(op, path)| answer(&tree, op, path))
            .collect::<Vec<_>>()
    });
    let denied = "Permission denied (os error 13)";
    assert_eq!(
        answers,
        [
            format!("m/secret.yaml: cannot read from {root}: {denied}"),
            format!("d/x.yaml: cannot read from {root}: {denied}"),
            format!("d: cannot read from {root}: {denied}"),
            "y.yaml File".to_string(),
            format!("r/y.yaml: cannot read from {root}: {denied}"),
            "a: 1\n".to_string(),
        ]
    );
    unreadable::make_readable(&dir.path().join("d"), 0o755);
    unreadable::make_readable(&dir.path().join("r"), 0o755);
}

/// Removes the loose object `spec` (`<commit>:<path>`) names from the repository at `work`.
fn remove_object(work: &Path, spec: &str) -> String {
    let id = git(work, &["rev-parse", spec]);
    std::fs::remove_file(work.join(".git/objects").join(&id[..2]).join(&id[2..])).unwrap();
    id
}

#[test]
fn a_missing_git_object_is_an_error_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let (up, _, git_tree) = repository(
        dir.path(),
        &[("m/ok.yaml", "a: 1\n"), ("m/lost.yaml", "b: 2\n"), ("d/x.yaml", "c: 3\n")],
        &[],
    );
    let blob = remove_object(&up.work, "HEAD:m/lost.yaml");
    let tree = remove_object(&up.work, "HEAD:d");

    let label = format!("config@{}", git_tree.commit());
    let not_found = "class=Odb (9); code=NotFound (-3)";
    assert_eq!(
        answer(&git_tree, "read", "m/lost.yaml"),
        format!(
            "m/lost.yaml: cannot read from {label}: object not found - cannot read header for ({blob}); {not_found}"
        )
    );
    assert_eq!(
        answer(&git_tree, "list", "d"),
        format!(
            "d: cannot read from {label}: object not found - no match for id ({tree}); {not_found}"
        )
    );
    assert_eq!(answer(&git_tree, "read", "m/ok.yaml"), "a: 1\n");
}

#[test]
fn a_submodule_is_listed_as_other_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    up.write(&[("m/a.yaml", "a: 1\n")]);
    up.commit("one");
    // A gitlink entry, as `git submodule add` makes: a commit of another repository.
    let other = up.head();
    git(&up.work, &["update-index", "--add", "--cacheinfo", &format!("160000,{other},m/vendor")]);
    git(&up.work, &["commit", "-q", "-m", "submodule"]);
    let git_tree = GitTree::open(&up.work, &up.head(), "config").unwrap();

    assert_eq!(answer(&git_tree, "list", "m"), "a.yaml File, vendor Other");
    assert_eq!(git_tree.kind("m/vendor").unwrap(), Some(EntryKind::Other));
    assert_eq!(answer(&git_tree, "read", "m/vendor"), "m/vendor: is a git submodule");
    assert_eq!(answer(&git_tree, "list", "m/vendor"), "m/vendor: is not a directory");
}
