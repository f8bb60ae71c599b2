//! Mirrors over git:// (`git daemon` on loopback): following a branch through new commits,
//! force-pushes, deletion and outages; reading commit trees; diffs mapped to apps.

#[path = "support/git.rs"]
mod git_support;

use cetus::source::git::{GitError, GitTree, Mirror, MirrorOptions, Update};
use cetus::source::{AppGraph, AppRefs, EntryKind, Tree, TreeEntry, TreeError};
use git_support::{GitDaemon, Upstream, git};
use std::collections::BTreeSet;
use tempfile::TempDir;

struct Setup {
    _dir: TempDir,
    upstream: Upstream,
    daemon: GitDaemon,
    mirror: Mirror,
    url: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Upstream::new(dir.path(), "config");
    let daemon = GitDaemon::start(dir.path());
    let url = daemon.url("config.git");
    let mirror = Mirror::open(&dir.path().join("cache"), &url, MirrorOptions::default()).unwrap();
    Setup { _dir: dir, upstream, daemon, mirror, url }
}

fn read(tree: &dyn Tree, path: &str) -> String {
    String::from_utf8(tree.read(path, 1 << 20).unwrap()).unwrap()
}

#[test]
fn follows_new_commits_and_reports_unchanged() {
    let s = setup();
    let c1 = s.upstream.commit_and_push(&[("apps/web/cetus.yaml", "name: web\n")], "one");

    // step: first fetch
    assert_eq!(s.mirror.update("main").unwrap(), Update::Advanced { from: None, to: c1.clone() });
    // step: nothing moved
    assert_eq!(s.mirror.update("main").unwrap(), Update::Unchanged { commit: c1.clone() });
    assert_eq!(s.mirror.remote_head("main").unwrap(), Some(c1.clone()));
    // step: a new commit
    let c2 = s.upstream.commit_and_push(&[("apps/web/cetus.yaml", "name: web2\n")], "two");
    let update = s.mirror.update("main").unwrap();
    assert_eq!(update, Update::Advanced { from: Some(c1.clone()), to: c2.clone() });
    assert_eq!(update.commit(), c2);
    assert_eq!(read(&s.mirror.tree(&c2).unwrap(), "apps/web/cetus.yaml"), "name: web2\n");
    assert_eq!(read(&s.mirror.tree(&c1).unwrap(), "apps/web/cetus.yaml"), "name: web\n");
    assert_eq!(s.mirror.last_good("main").unwrap(), Some(c2.clone()));

    // The branch the bare mirror's HEAD names can be followed too (no checkout to protect).
    let head = std::fs::read_to_string(s.mirror.path().join("HEAD")).unwrap();
    let head_branch = head.trim().strip_prefix("ref: refs/heads/").unwrap().to_string();
    s.upstream.push(&head_branch);
    assert_eq!(s.mirror.update(&head_branch).unwrap(), Update::Advanced { from: None, to: c2 });
}

#[test]
fn force_push_is_reported_as_rewritten_and_followed() {
    let s = setup();
    let c1 = s.upstream.commit_and_push(&[("a.txt", "1")], "one");
    let c2 = s.upstream.commit_and_push(&[("a.txt", "2")], "two");
    assert_eq!(s.mirror.update("main").unwrap().commit(), c2);

    // step: history rewritten upstream: c2 replaced by c3 on top of c1
    git(&s.upstream.work, &["reset", "-q", "--hard", &c1]);
    s.upstream.write(&[("a.txt", "3")]);
    let c3 = s.upstream.commit("three, rewritten");
    s.upstream.force_push("main");
    assert_eq!(
        s.mirror.update("main").unwrap(),
        Update::Rewritten { from: c2.clone(), to: c3.clone() }
    );
    assert_eq!(read(&s.mirror.tree(&c3).unwrap(), "a.txt"), "3");
    // The dropped commit stays readable (history may point at it).
    assert_eq!(read(&s.mirror.tree(&c2).unwrap(), "a.txt"), "2");

    // step: force-push back to an ancestor is a rewrite too, not an advance
    git(&s.upstream.work, &["reset", "-q", "--hard", &c1]);
    s.upstream.force_push("main");
    assert_eq!(s.mirror.update("main").unwrap(), Update::Rewritten { from: c3, to: c1.clone() });
    assert_eq!(s.mirror.last_good("main").unwrap(), Some(c1));
}

#[test]
fn deleted_branch_keeps_the_last_good_commit_and_reports_it() {
    let s = setup();
    s.upstream.commit_and_push(&[("a.txt", "main")], "main");
    s.upstream.write(&[("a.txt", "feature")]);
    let c1 = s.upstream.commit("feature");
    s.upstream.push("feature");
    assert_eq!(
        s.mirror.update("feature").unwrap(),
        Update::Advanced { from: None, to: c1.clone() }
    );

    // step: the branch is deleted upstream
    s.upstream.delete_branch("feature");
    let err = s.mirror.update("feature").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}@feature: branch is gone from the remote; last good commit {c1}", s.url)
    );
    assert!(matches!(&err, GitError::BranchGone { last_good: Some(c), .. } if *c == c1));
    assert_eq!(s.mirror.last_good("feature").unwrap(), Some(c1.clone()));
    assert_eq!(read(&s.mirror.tree(&c1).unwrap(), "a.txt"), "feature");

    // step: recreated on top of the last good commit, it advances again
    s.upstream.write(&[("a.txt", "feature 2")]);
    let c2 = s.upstream.commit("feature 2");
    s.upstream.push("feature");
    assert_eq!(s.mirror.update("feature").unwrap(), Update::Advanced { from: Some(c1), to: c2 });

    // A branch that never existed has no last good commit.
    let err = s.mirror.update("never").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}@never: branch is gone from the remote; last good commit none", s.url)
    );
}

#[test]
fn unreachable_remote_keeps_the_last_good_commit() {
    let Setup { _dir, upstream, daemon, mirror, url } = setup();
    let c1 = upstream.commit_and_push(&[("a.txt", "1")], "one");
    assert_eq!(mirror.update("main").unwrap().commit(), c1);

    drop(daemon);
    upstream.commit_and_push(&[("a.txt", "2")], "two");
    let err = mirror.update("main").unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: cannot list remote refs"));
    let cause = std::error::Error::source(&err).expect("a cause").to_string();
    assert!(!cause.is_empty());
    assert_eq!(mirror.last_good("main").unwrap(), Some(c1.clone()));
    assert_eq!(read(&mirror.tree(&c1).unwrap(), "a.txt"), "1");
}

#[test]
fn git_tree_reads_files_and_directories_without_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    up.write(&[
        ("README.md", "hi\n"),
        ("apps/web/cetus.yaml", "name: web\n"),
        ("apps/web/vars/region.txt", "eu\n"),
        ("apps/db/cetus.yaml", "name: db\n"),
    ]);
    std::os::unix::fs::symlink("vars/region.txt", up.work.join("apps/web/region")).unwrap();
    std::os::unix::fs::symlink("apps/web", up.work.join("web")).unwrap();
    let c = up.commit("tree");
    let tree = GitTree::open(&up.work, &c, "test-repo").unwrap();

    assert_eq!(tree.label(), format!("test-repo@{c}"));
    assert_eq!(tree.commit(), c);
    assert_eq!(read(&tree, "apps/web/cetus.yaml"), "name: web\n");
    assert_eq!(read(&tree, "apps/web/region"), "eu\n", "a symlink is followed");
    assert_eq!(read(&tree, "web/vars/region.txt"), "eu\n", "through a linked directory");
    assert_eq!(read(&tree, "./apps/db/../web/cetus.yaml"), "name: web\n");
    let entries = tree.list("").unwrap();
    let want = [("README.md", EntryKind::File), ("apps", EntryKind::Dir), ("web", EntryKind::Dir)];
    let want: Vec<_> =
        want.iter().map(|(n, k)| TreeEntry { name: n.to_string(), kind: *k }).collect();
    assert_eq!(entries, want, "sorted by name, links followed");
    let names: Vec<_> = tree.list("apps/web").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["cetus.yaml", "region", "vars"]);
    assert_eq!(tree.kind("apps").unwrap(), Some(EntryKind::Dir));
    assert_eq!(tree.kind("apps/web/region").unwrap(), Some(EntryKind::File));
    assert_eq!(tree.kind("nope/x").unwrap(), None);
    assert_eq!(tree.kind("README.md/x").unwrap(), None);

    let label = format!("test-repo@{c}");
    let err = tree.read("apps/missing.yaml", 100).unwrap_err();
    assert_eq!(err.to_string(), format!("apps/missing.yaml: no such file or directory in {label}"));
    assert!(matches!(
        tree.read("apps", 100),
        Err(TreeError::InvalidPath { reason: "is a directory", .. })
    ));
    assert!(matches!(tree.read("../x", 100), Err(TreeError::InvalidPath { .. })));

    let blob = git(&up.work, &["rev-parse", &format!("{c}:apps/web/cetus.yaml")]);
    assert_eq!(tree.blob_id("apps/web/cetus.yaml").unwrap(), Some(blob.clone()));
    assert_eq!(tree.blob_id("apps/web").unwrap(), None);
    let files: Vec<_> = tree.files().unwrap().into_iter().map(|f| (f.path, f.blob)).collect();
    let paths: Vec<_> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["README.md", "apps/db/cetus.yaml", "apps/web/cetus.yaml", "apps/web/vars/region.txt"]
    );
    assert_eq!(files[2].1, blob);

    let err = GitTree::open(&up.work, "0123456789abcdef0123456789abcdef01234567", "test-repo")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "test-repo@0123456789abcdef0123456789abcdef01234567: no such branch, tag or commit"
    );
}

fn refs(dir: &str, dependencies: &[&str], reads: &[&str]) -> AppRefs {
    AppRefs {
        dir: dir.to_string(),
        dependencies: dependencies.iter().map(|s| s.to_string()).collect(),
        reads: reads.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn changed_apps_on_fifty_apps() {
    let s = setup();
    let mut files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("apps/app-{i:02}/cetus.yaml"), format!("name: app-{i:02}\n")))
        .collect();
    files.push(("libs/db/cetus.yaml".into(), "name: db\n".into()));
    files.push(("libs/queue/cetus.yaml".into(), "name: queue\n".into()));
    files.push(("shared/region.txt".into(), "eu\n".into()));
    let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let c1 = s.upstream.commit_and_push(&files, "fifty apps");

    let mut graph = AppGraph::new();
    for i in 0..50 {
        let dir = format!("apps/app-{i:02}");
        let app = format!("app-{i:02}");
        match i {
            7 => graph.add_app(app, refs(&dir, &["libs/db"], &[])),
            20 => graph.add_app(app, refs(&dir, &[], &["shared/region.txt"])),
            30 => graph.add_app(app, refs(&dir, &["libs/queue"], &[])),
            _ => graph.add_app(app, refs(&dir, &[], &[])),
        }
    }

    // step: two apps and the shared dependency of a third
    s.upstream.write(&[
        ("apps/app-03/cetus.yaml", "name: app-03\nimages: {}\n"),
        ("apps/app-42/extra/x.yaml", "kind: ConfigMap\n"),
        ("libs/db/cetus.yaml", "name: db\nvars: {}\n"),
    ]);
    let c2 = s.upstream.commit("touch two apps and libs/db");
    s.upstream.push("main");
    assert_eq!(s.mirror.update("main").unwrap(), Update::Advanced { from: None, to: c2.clone() });
    let changed = s.mirror.changed_apps(Some(&c1), &c2, &graph).unwrap();
    assert_eq!(
        changed.paths,
        ["apps/app-03/cetus.yaml", "apps/app-42/extra/x.yaml", "libs/db/cetus.yaml"]
    );
    assert_eq!(
        changed.apps,
        BTreeSet::from(["app-03".to_string(), "app-07".into(), "app-42".into()])
    );

    // step: a rename is a change to both apps; a delete counts
    git(&s.upstream.work, &["mv", "apps/app-42/extra/x.yaml", "apps/app-11/x.yaml"]);
    s.upstream.remove(&["shared/region.txt"]);
    let c3 = s.upstream.commit("move and delete");
    s.upstream.push("main");
    s.mirror.update("main").unwrap();
    let changed = s.mirror.changed_apps(Some(&c2), &c3, &graph).unwrap();
    assert_eq!(
        changed.paths,
        ["apps/app-11/x.yaml", "apps/app-42/extra/x.yaml", "shared/region.txt"]
    );
    assert_eq!(
        changed.apps,
        BTreeSet::from(["app-11".to_string(), "app-20".into(), "app-42".into()])
    );

    // Nothing before: every app. The same commit twice: nothing.
    assert_eq!(s.mirror.changed_apps(None, &c1, &graph).unwrap().apps.len(), 50);
    assert_eq!(s.mirror.changed_apps(Some(&c3), &c3, &graph).unwrap(), Default::default());

    // blob ids let the caller re-parse only the cetus.yaml files that changed
    let (old, new) = (s.mirror.tree(&c1).unwrap(), s.mirror.tree(&c2).unwrap());
    let changed_specs: Vec<_> = new
        .files()
        .unwrap()
        .into_iter()
        .filter(|f| {
            f.path.ends_with("/cetus.yaml")
                && old.blob_id(&f.path).unwrap().as_ref() != Some(&f.blob)
        })
        .map(|f| f.path)
        .collect();
    assert_eq!(changed_specs, ["apps/app-03/cetus.yaml", "libs/db/cetus.yaml"]);
    drop(s.daemon);
}

#[tokio::test]
async fn update_from_async_code_runs_on_the_blocking_pool() {
    let s = setup();
    let c1 = s.upstream.commit_and_push(&[("a.txt", "1")], "one");
    let mirror = std::sync::Arc::new(s.mirror);
    let update =
        tokio::time::timeout(std::time::Duration::from_secs(60), mirror.update_async("main")).await;
    assert_eq!(update.expect("in time").unwrap(), Update::Advanced { from: None, to: c1 });
}
