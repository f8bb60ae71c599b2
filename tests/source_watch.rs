//! The local source: a git repository followed by its commits, a plain directory by its
//! files, as a stream of revisions, driven by committing and editing in temp dirs.

#[path = "support/git.rs"]
mod git_support;

use cetus::source::watch::{LocalKind, LocalWatch, Revision, WatchOptions};
use git_support::git;
use std::path::Path;
use std::time::Duration;

/// Far above the debounce; only a lost event reaches it.
const WAIT: Duration = Duration::from_secs(60);

async fn next(watch: &mut LocalWatch) -> Revision {
    tokio::time::timeout(WAIT, watch.next())
        .await
        .expect("a revision in time")
        .expect("watch running")
        .unwrap()
}

/// Revisions up to and including the first that satisfies `done`: edits made in several
/// steps may be seen half-way, when the machine is slow enough to split them.
async fn until(watch: &mut LocalWatch, done: impl Fn(&Revision) -> bool) -> Vec<Revision> {
    let mut seen = Vec::new();
    loop {
        let revision = next(watch).await;
        let stop = done(&revision);
        seen.push(revision);
        if stop {
            return seen;
        }
    }
}

/// Replaces a file by renaming a finished copy over it, so that no scan sees it half-written
/// (`fs::write` truncates first).
fn put(root: &Path, path: &str, content: &str) {
    let staging = tempfile::NamedTempFile::new_in(root.parent().unwrap()).unwrap();
    std::fs::write(staging.path(), content).unwrap();
    staging.persist(root.join(path)).unwrap();
}

fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, content) in files {
        std::fs::write(dir.join(path), content).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn read(watch: &LocalWatch, revision: &Revision, path: &str) -> String {
    String::from_utf8(watch.tree(revision).unwrap().read(path, 1 << 20).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_repo_reports_each_new_commit_and_ignores_uncommitted_edits() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let c1 = commit(dir.path(), &[("cetus.yaml", "name: one\n")], "one");
    let mut watch = LocalWatch::start(dir.path(), WatchOptions::default()).unwrap();
    assert_eq!(watch.kind(), LocalKind::Git);

    // step: the current commit comes first
    let first = next(&mut watch).await;
    assert_eq!(first, Revision::Commit { id: c1.clone() });

    // step: an uncommitted edit, then a commit: only the commit is reported
    std::fs::write(dir.path().join("cetus.yaml"), "name: draft\n").unwrap();
    let c2 = commit(dir.path(), &[("cetus.yaml", "name: two\n")], "two");
    let second = next(&mut watch).await;
    assert_eq!(second, Revision::Commit { id: c2.clone() });
    assert_eq!(read(&watch, &second, "cetus.yaml"), "name: two\n");

    // step: the work tree is not what a commit revision reads
    std::fs::write(dir.path().join("cetus.yaml"), "name: uncommitted\n").unwrap();
    assert_eq!(read(&watch, &second, "cetus.yaml"), "name: two\n");
    assert_eq!(read(&watch, &first, "cetus.yaml"), "name: one\n");

    // step: two quick commits end on the last one (the first may be coalesced)
    let c3 = commit(dir.path(), &[("cetus.yaml", "name: three\n")], "three");
    let c4 = commit(dir.path(), &[("cetus.yaml", "name: four\n")], "four");
    let mut got = next(&mut watch).await;
    if got == (Revision::Commit { id: c3.clone() }) {
        got = next(&mut watch).await;
    }
    assert_eq!(got, Revision::Commit { id: c4.clone() });

    // step: moving HEAD without committing (checkout, reset) is a new revision too
    git(dir.path(), &["checkout", "-q", "-b", "old", &c1]);
    assert_eq!(next(&mut watch).await, Revision::Commit { id: c1 });
    git(dir.path(), &["checkout", "-q", "main"]);
    assert_eq!(next(&mut watch).await, Revision::Commit { id: c4 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repo_without_commits_reports_its_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let mut watch = LocalWatch::start(dir.path(), WatchOptions::default()).unwrap();
    let c1 = commit(dir.path(), &[("a.txt", "1")], "one");
    assert_eq!(next(&mut watch).await, Revision::Commit { id: c1 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_directory_reports_content_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    put(dir.path(), "app/cetus.yaml", "name: one\n");
    let mut watch = LocalWatch::start(dir.path(), WatchOptions::default()).unwrap();
    assert_eq!(watch.kind(), LocalKind::Dir);

    let first = next(&mut watch).await;
    assert!(
        matches!(&first, Revision::Snapshot { digest } if digest.starts_with("sha256:") && digest.len() == 71)
    );

    // step: an edit is a new snapshot, read from the directory
    put(dir.path(), "app/cetus.yaml", "name: two\n");
    let second = next(&mut watch).await;
    assert_ne!(second, first);
    assert_eq!(read(&watch, &second, "app/cetus.yaml"), "name: two\n");

    // step: rewriting identical contents reports nothing; the next real change comes next.
    // The new directory is moved in whole, so no scan can see it half-written.
    put(dir.path(), "app/cetus.yaml", "name: two\n");
    let staging = tempfile::tempdir_in(dir.path().parent().unwrap()).unwrap();
    std::fs::create_dir(staging.path().join("extra")).unwrap();
    std::fs::write(staging.path().join("extra/cm.yaml"), "kind: ConfigMap\n").unwrap();
    std::fs::rename(staging.path().join("extra"), dir.path().join("app/extra")).unwrap();
    let third = next(&mut watch).await;
    assert!(third != second && third != first, "{third:?}");
    assert_eq!(read(&watch, &third, "app/extra/cm.yaml"), "kind: ConfigMap\n");

    // step: back to the first contents is the first digest again (maybe via the second)
    std::fs::rename(dir.path().join("app/extra"), staging.path().join("extra")).unwrap();
    put(dir.path(), "app/cetus.yaml", "name: one\n");
    let seen = until(&mut watch, |r| *r == first).await;
    assert!(seen.iter().all(|r| *r == second || *r == first), "{seen:?}");
}

#[tokio::test]
async fn a_missing_directory_is_an_error() {
    let err = LocalWatch::start("/nonexistent/cetus-repo", WatchOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/cetus-repo: cannot read local source");
}
