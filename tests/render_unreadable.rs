//! What a render cannot read fails it, from a directory (`LocalTree`) and from a commit
//! (`GitTree`) alike, with an error naming the file: a broken, escaping or looping symlink,
//! an unreadable file, a submodule, a name that is not UTF-8, a file over the size cap, a
//! "billion laughs" document, a render over its total caps. A render that left such a file
//! out would be smaller than the repository, and the engine prunes what a render lacks.

#[path = "support/git.rs"]
mod git_support;
#[path = "support/unreadable.rs"]
mod unreadable;

use cetus::render::{Limits, RenderInput, render};
use cetus::source::git::GitTree;
use cetus::source::{LocalTree, Tree};
use git_support::{Upstream, git};
use std::os::unix::fs::symlink;
use tempfile::TempDir;

const APP: &str = "name: a\nmanifests: [manifests]\n";
const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ok }\n";
/// Where `manifests` sits in [`APP`], for errors about its entry.
const ENTRY: &str = "apps/a/cetus.yaml:2:13: manifests[0]";

/// A repository holding app `apps/a` (with `manifests/ok.yaml`) plus `files` and `links`,
/// committed; its work tree and its commit are the two trees rendered.
struct Repo {
    _dir: TempDir,
    up: Upstream,
}

impl Repo {
    fn new(files: &[(&str, &str)], links: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let up = Upstream::new(dir.path(), "config");
        up.write(&[("apps/a/cetus.yaml", APP), ("apps/a/manifests/ok.yaml", CONFIG_MAP)]);
        up.write(files);
        for (path, target) in links {
            symlink(target, up.work.join(path)).unwrap();
        }
        up.commit("repo");
        Self { _dir: dir, up }
    }

    fn local(&self) -> LocalTree {
        LocalTree::new(&self.up.work).unwrap()
    }

    fn git(&self) -> GitTree {
        GitTree::open(&self.up.work, &self.up.head(), "config").unwrap()
    }
}

/// Renders `apps/a` from `tree`; the error text, or the names of what rendered.
fn outcome(tree: &dyn Tree, limits: &Limits) -> Result<Vec<String>, String> {
    let input = RenderInput { limits: limits.clone(), ..RenderInput::default() };
    match render(tree, "apps/a", &input) {
        Ok(rendered) => Ok(rendered.unwrap().objects.iter().map(|o| o.key.to_string()).collect()),
        Err(e) => Err(e.to_string()),
    }
}

/// Renders from both trees and checks both fail with `expected`.
fn fails_alike(repo: &Repo, limits: &Limits, expected: &str) {
    assert_eq!(outcome(&repo.local(), limits), Err(expected.to_string()), "from the directory");
    assert_eq!(outcome(&repo.git(), limits), Err(expected.to_string()), "from the commit");
}

#[test]
fn a_symlink_inside_the_repository_reads_as_its_target() {
    let shared = CONFIG_MAP.replace("ok", "shared");
    let repo = Repo::new(
        &[("shared/cm.yaml", &shared)],
        &[("apps/a/manifests/shared.yaml", "../../../shared/cm.yaml")],
    );
    for tree in [&repo.local() as &dyn Tree, &repo.git()] {
        let names = outcome(tree, &Limits::default()).unwrap();
        assert_eq!(names, ["Namespace a", "ConfigMap a/ok", "ConfigMap a/shared"]);
    }
}

#[test]
fn symlinks_that_cannot_be_followed_fail_the_render() {
    for (link, target, problem) in [
        ("broken.yaml", "gone.yaml", "is broken: nothing exists there"),
        ("escape.yaml", "../../../../etc/hostname", "leaves the repository"),
        ("again", ".", "loops: it points at a directory that contains it"),
    ] {
        let repo = Repo::new(&[], &[(&format!("apps/a/manifests/{link}"), target)]);
        let expected = format!("{ENTRY}: apps/a/manifests/{link}: symlink to {target} {problem}");
        fails_alike(&repo, &Limits::default(), &expected);
    }
}

#[test]
fn a_broken_symlink_to_a_dependency_fails_the_render() {
    let app = "name: a\ndependencies:\n  db: { path: ../../lib/db }\n";
    let repo = Repo::new(
        &[("apps/a/cetus.yaml", app), ("lib/db/.keep", "")],
        &[("lib/db/cetus.yaml", "../postgres/cetus.yaml")],
    );
    let expected = "apps/a/cetus.yaml:3:7: dependencies.db: lib/db/cetus.yaml: symlink to ../postgres/cetus.yaml is broken: nothing exists there";
    fails_alike(&repo, &Limits::default(), expected);
}

#[test]
fn a_file_over_the_size_cap_fails_the_render() {
    let big = format!("# {}\n{CONFIG_MAP}", "x".repeat(1024 * 1024));
    let repo = Repo::new(&[("apps/a/manifests/big.yaml", &big)], &[]);
    let expected =
        "apps/a/manifests/big.yaml: file is larger than 1 MiB, the most that is read from one file";
    fails_alike(&repo, &Limits::default(), expected);

    let app = "name: a\nvars:\n  blob: { file: blob.txt }\n";
    let repo = Repo::new(&[("apps/a/cetus.yaml", app), ("apps/a/blob.txt", &big)], &[]);
    let expected = "apps/a/cetus.yaml:3:17: vars.blob.file: apps/a/blob.txt: file is larger than 1 MiB, the most that is read from one file";
    fails_alike(&repo, &Limits::default(), expected);
}

#[test]
fn a_billion_laughs_fails_the_render_naming_the_file() {
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let aliases = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{aliases}]\n"));
    }
    let repo = Repo::new(&[("apps/a/manifests/bomb.yaml", &bomb)], &[]);
    let expected = "apps/a/manifests/bomb.yaml:6:10: aliases copy more than 100000 nodes, the most one file may expand to";
    fails_alike(&repo, &Limits::default(), expected);
}

#[test]
fn a_render_over_its_total_caps_fails_naming_the_file_that_crossed_them() {
    let files: Vec<(String, String)> = (1..=3)
        .map(|i| {
            (format!("apps/a/manifests/cm{i}.yaml"), CONFIG_MAP.replace("ok", &format!("cm{i}")))
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let repo = Repo::new(&files, &[]);
    // cetus.yaml, cm1, cm2 and cm3 fit; ok.yaml, the fifth, does not.
    let limits = Limits { max_files: 4, ..Limits::default() };
    let expected = "apps/a/manifests/ok.yaml: the render would read more than 4 files, the most one render reads";
    fails_alike(&repo, &limits, expected);
    // cetus.yaml is 34 bytes and each manifest 58 (ok.yaml 56).
    let limits = Limits { max_total_bytes: 100, ..Limits::default() };
    let expected = "apps/a/manifests/cm2.yaml: with this file the render reads more than 100 bytes, the most one render reads";
    fails_alike(&repo, &limits, expected);
}

#[test]
fn a_name_that_is_not_utf8_fails_the_render() {
    use std::os::unix::ffi::OsStrExt;
    let repo = Repo::new(&[], &[]);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
    std::fs::write(repo.up.work.join("apps/a/manifests").join(name), CONFIG_MAP).unwrap();
    repo.up.commit("latin-1");
    let expected = format!("{ENTRY}: apps/a/manifests/caf\u{fffd}.yaml: file name is not UTF-8");
    fails_alike(&repo, &Limits::default(), &expected);
}

#[test]
fn a_submodule_under_manifests_fails_the_render() {
    let repo = Repo::new(&[], &[]);
    let other = repo.up.head();
    let entry = format!("160000,{other},apps/a/manifests/vendor");
    git(&repo.up.work, &["update-index", "--add", "--cacheinfo", &entry]);
    git(&repo.up.work, &["commit", "-q", "-m", "submodule"]);
    let expected = format!(
        "{ENTRY}: apps/a/manifests/vendor: neither a file nor a directory (a git submodule, a socket or a device)"
    );
    assert_eq!(outcome(&repo.git(), &Limits::default()), Err(expected));
}

#[test]
fn an_unreadable_file_on_disk_fails_the_render() {
    let repo = Repo::new(&[("apps/a/manifests/secret.yaml", CONFIG_MAP)], &[]);
    unreadable::make_unreadable(&repo.up.work.join("apps/a/manifests/secret.yaml"));
    let tree = repo.local();
    let denied = format!("cannot read from {}: Permission denied (os error 13)", tree.label());
    let got = unreadable::without_override(|| outcome(&tree, &Limits::default()));
    assert_eq!(got, Err(format!("apps/a/manifests/secret.yaml: {denied}")));
}

#[test]
fn a_directory_whose_entries_cannot_be_looked_at_fails_the_render() {
    // Readable but not searchable: the names list, the files behind them do not open. Such a
    // directory's entries used to be left out without a word.
    let repo = Repo::new(&[], &[]);
    let manifests = repo.up.work.join("apps/a/manifests");
    unreadable::make_readable(&manifests, 0o444);
    let tree = repo.local();
    let denied = format!("cannot read from {}: Permission denied (os error 13)", tree.label());
    let got = unreadable::without_override(|| outcome(&tree, &Limits::default()));
    unreadable::make_readable(&manifests, 0o755);
    assert_eq!(got, Err(format!("apps/a/manifests/ok.yaml: {denied}")));
}

#[test]
fn a_missing_git_object_fails_the_render() {
    let repo = Repo::new(
        &[("apps/a/manifests/lost.yaml", CONFIG_MAP.replace("ok", "lost").as_str())],
        &[],
    );
    let id = git(&repo.up.work, &["rev-parse", "HEAD:apps/a/manifests/lost.yaml"]);
    std::fs::remove_file(repo.up.work.join(".git/objects").join(&id[..2]).join(&id[2..])).unwrap();
    let tree = repo.git();
    let expected = format!(
        "apps/a/manifests/lost.yaml: cannot read from config@{}: object not found - cannot read header for ({id}); class=Odb (9); code=NotFound (-3)",
        tree.commit()
    );
    assert_eq!(outcome(&tree, &Limits::default()), Err(expected));
}
