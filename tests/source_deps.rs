//! `git` dependencies through the renderer's seam, over git:// on loopback: tags, branches,
//! commits and `HEAD` resolve to commits; refs move; an outage falls back to the cache.

#[path = "support/git.rs"]
mod git_support;

use cetus::source::git::{DependencyOptions, GitDependencies};
use cetus::source::{DependencyFetcher, FetchedTree};
use git_support::{GitDaemon, Upstream, git};

fn read(fetched: &FetchedTree, path: &str) -> String {
    String::from_utf8(fetched.tree.read(path, 1 << 20).unwrap()).unwrap()
}

#[test]
fn tags_branches_commits_and_head_resolve_to_commits() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "platform");
    let c0 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v0\n")], "v0");
    let c1 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v1\n")], "v1");
    git(&up.work, &["tag", "-a", "v1", "-m", "release v1"]);
    let c2 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v2\n")], "v2");
    git(&up.work, &["tag", "v2"]);
    git(&up.work, &["push", "-q", "origin", "--tags"]);
    let daemon = GitDaemon::start(dir.path());
    let url = daemon.url("platform.git");
    let deps = GitDependencies::new(dir.path().join("deps"), DependencyOptions::default());
    let fetcher: &dyn DependencyFetcher = &deps;

    let v1 = fetcher.fetch(&url, "v1").unwrap();
    assert_eq!(v1.commit, c1, "an annotated tag is peeled to its commit");
    assert_eq!(read(&v1, "postgres/cetus.yaml"), "name: postgres\n# v1\n");
    assert_eq!(v1.tree.label(), format!("{url}@{c1}"));
    let mirrors: Vec<_> =
        std::fs::read_dir(dir.path().join("deps")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(mirrors.len(), 1);
    let shallow = std::fs::read_to_string(mirrors[0].join("shallow")).expect("a shallow mirror");
    assert_eq!(shallow.trim(), c1, "only the tag's commit was fetched");
    assert_eq!(fetcher.fetch(&url, "v2").unwrap().commit, c2);
    assert_eq!(fetcher.fetch(&url, "main").unwrap().commit, c2);
    assert_eq!(fetcher.fetch(&url, "refs/heads/main").unwrap().commit, c2);
    assert_eq!(fetcher.fetch(&url, "HEAD").unwrap().commit, c2);
    assert_eq!(fetcher.fetch(&url, &c1).unwrap().commit, c1, "a cached commit id");
    // c0 is below the shallow tips fetched so far: the cache is deepened to find it.
    let old = fetcher.fetch(&url, &c0).unwrap();
    assert_eq!(
        (old.commit.as_str(), read(&old, "postgres/cetus.yaml").as_str()),
        (c0.as_str(), "name: postgres\n# v0\n")
    );
    assert_eq!(fetcher.fetch(&url, &c0[..10]).unwrap().commit, c0, "an abbreviated commit id");
    assert!(!mirrors[0].join("shallow").exists(), "deepened to full history");

    let err = fetcher.fetch(&url, "v9").err().unwrap();
    assert_eq!(err.to_string(), format!("{url}@v9: no such branch, tag or commit"));
    let err = fetcher.fetch(&url, "0123456789abcdef0123456789abcdef01234567").err().unwrap();
    assert_eq!(
        err.to_string(),
        format!("{url}@0123456789abcdef0123456789abcdef01234567: no such branch, tag or commit")
    );

    // step: the branch moves upstream; the next render sees it
    let c3 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v3\n")], "v3");
    let main = fetcher.fetch(&url, "main").unwrap();
    assert_eq!(
        (main.commit.as_str(), read(&main, "postgres/cetus.yaml").as_str()),
        (c3.as_str(), "name: postgres\n# v3\n")
    );
    // step: a tag moved by force is followed too
    git(&up.work, &["tag", "-f", "v2", &c3]);
    git(&up.work, &["push", "-q", "-f", "origin", "refs/tags/v2"]);
    assert_eq!(fetcher.fetch(&url, "v2").unwrap().commit, c3);
}

#[test]
fn an_outage_falls_back_to_cached_refs_only() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "platform");
    let c1 = up.commit_and_push(&[("a.txt", "1")], "one");
    git(&up.work, &["tag", "v1"]);
    git(&up.work, &["push", "-q", "origin", "v1"]);
    let daemon = GitDaemon::start(dir.path());
    let url = daemon.url("platform.git");
    let deps = GitDependencies::new(dir.path().join("deps"), DependencyOptions::default());
    let strict = GitDependencies::new(
        dir.path().join("deps"),
        DependencyOptions { offline_fallback: false, ..DependencyOptions::default() },
    );
    assert_eq!(deps.fetch(&url, "v1").unwrap().commit, c1);

    drop(daemon);
    let cached = deps.fetch(&url, "v1").unwrap();
    assert_eq!(
        (cached.commit.as_str(), cached.tree.read("a.txt", 100).unwrap()),
        (c1.as_str(), b"1".to_vec())
    );
    let err = deps.fetch(&url, "main").err().unwrap();
    let prefix = format!("{url}@main: cannot list remote refs: ");
    assert!(err.to_string().starts_with(&prefix), "{err}");
    let err = strict.fetch(&url, "v1").err().unwrap();
    assert!(err.to_string().starts_with(&format!("{url}@v1: cannot list remote refs: ")), "{err}");
}

#[test]
fn repositories_on_this_machine_are_fetched_in_full() {
    // libgit2's local transport cannot fetch shallow: these used to fail with "shallow fetch
    // is not supported by the local transport".
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "platform");
    let c1 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v1\n")], "v1");
    git(&up.work, &["tag", "v1"]);
    git(&up.work, &["push", "-q", "origin", "v1"]);
    let c2 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n# v2\n")], "v2");
    let path = up.bare.to_str().unwrap().to_string();
    for (i, url) in [format!("file://{path}"), path.clone()].into_iter().enumerate() {
        let cache = dir.path().join(format!("deps{i}"));
        let deps = GitDependencies::new(&cache, DependencyOptions::default());
        let v1 = deps.fetch(&url, "v1").unwrap();
        assert_eq!(
            (v1.commit.as_str(), read(&v1, "postgres/cetus.yaml").as_str()),
            (c1.as_str(), "name: postgres\n# v1\n"),
            "{url}"
        );
        assert_eq!(deps.fetch(&url, "main").unwrap().commit, c2, "{url}");
        assert_eq!(deps.fetch(&url, "HEAD").unwrap().commit, c2, "{url}");
        assert_eq!(deps.fetch(&url, &c1).unwrap().commit, c1, "{url}");
        let mirror = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
        assert!(!mirror.join("shallow").exists(), "{url}: fetched in full");
    }
}
