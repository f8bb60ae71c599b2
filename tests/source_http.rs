//! Mirrors over authenticated HTTP (`git http-backend` behind a loopback server): tokens and
//! user/password from files, fetching only when the head moved, clear credential errors.

#[path = "support/git_http.rs"]
mod git_http;
#[path = "support/git.rs"]
mod git_support;

use cetus::source::DependencyFetcher;
use cetus::source::git::{
    Auth, DependencyOptions, GitDependencies, GitError, HostAuth, Mirror, MirrorOptions, Update,
};
use git_http::GitHttp;
use git_support::{Upstream, git};
use std::path::{Path, PathBuf};

fn secret_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn token_auth_and_fetch_only_when_the_head_moved() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    let c1 = up.commit_and_push(&[("a.txt", "1")], "one");
    let server = GitHttp::start(dir.path(), "x-access-token", "s3cret");
    let token_file = secret_file(dir.path(), "token", "s3cret\n");
    let url = server.url("config.git");
    let auth = Auth::Token { token_file };
    let mirror = Mirror::open(&dir.path().join("cache"), &url, MirrorOptions { auth }).unwrap();

    // step: first update fetches
    assert_eq!(mirror.update("main").unwrap(), Update::Advanced { from: None, to: c1.clone() });
    assert_eq!(server.stats.fetches(), 1);
    let checks = server.stats.advertisements();
    // step: unchanged: a head check, no fetch
    assert_eq!(mirror.update("main").unwrap(), Update::Unchanged { commit: c1.clone() });
    assert_eq!(server.stats.fetches(), 1);
    assert_eq!(server.stats.advertisements(), checks + 1);
    // step: moved: one fetch
    let c2 = up.commit_and_push(&[("a.txt", "2")], "two");
    assert_eq!(mirror.update("main").unwrap(), Update::Advanced { from: Some(c1), to: c2 });
    assert_eq!(server.stats.fetches(), 2);
}

#[test]
fn user_and_password_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    let c1 = up.commit_and_push(&[("a.txt", "1")], "one");
    let server = GitHttp::start(dir.path(), "alice", "pa55 word");
    let auth = Auth::Basic {
        username_file: secret_file(dir.path(), "user", "alice\n"),
        password_file: secret_file(dir.path(), "password", "pa55 word\n"),
    };
    let mirror =
        Mirror::open(&dir.path().join("cache"), &server.url("config.git"), MirrorOptions { auth })
            .unwrap();
    assert_eq!(mirror.update("main").unwrap().commit(), c1);
}

#[test]
fn wrong_missing_or_unreadable_credentials_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    let c1 = up.commit_and_push(&[("a.txt", "1")], "one");
    let server = GitHttp::start(dir.path(), "x-access-token", "s3cret");
    let url = server.url("config.git");
    let token_file = secret_file(dir.path(), "token", "s3cret");
    let cache = dir.path().join("cache");
    let good = Mirror::open(
        &cache,
        &url,
        MirrorOptions { auth: Auth::Token { token_file: token_file.clone() } },
    )
    .unwrap();
    assert_eq!(good.update("main").unwrap().commit(), c1);

    let cause =
        |e: &GitError| std::error::Error::source(e).map(|c| c.to_string()).unwrap_or_default();
    // step: the token is rotated upstream-side but not here
    std::fs::write(&token_file, "stale").unwrap();
    up.commit_and_push(&[("a.txt", "2")], "two");
    let err = good.update("main").unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: cannot list remote refs"));
    assert!(cause(&err).contains("credentials rejected by the remote"), "{}", cause(&err));
    assert_eq!(good.last_good("main").unwrap(), Some(c1.clone()), "the last good commit stays");

    let none = Mirror::open(&cache, &url, MirrorOptions::default()).unwrap();
    let err = none.update("main").unwrap_err();
    assert!(
        cause(&err).contains("the remote asks for credentials and none are configured"),
        "{}",
        cause(&err)
    );

    let missing = dir.path().join("no-such-token");
    let auth = Auth::Token { token_file: missing.clone() };
    let err =
        Mirror::open(&cache, &url, MirrorOptions { auth }).unwrap().update("main").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: cannot read credentials for {url}", missing.display())
    );
    assert!(server.stats.refused() >= 3);
}

#[test]
fn dependencies_use_host_credentials_and_refetch_nothing_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "platform");
    let c1 = up.commit_and_push(&[("postgres/cetus.yaml", "name: postgres\n")], "v1");
    git(&up.work, &["tag", "v1"]);
    git(&up.work, &["push", "-q", "origin", "v1"]);
    let server = GitHttp::start(dir.path(), "x-access-token", "s3cret");
    let auth = Auth::Token { token_file: secret_file(dir.path(), "token", "s3cret") };
    let options = DependencyOptions {
        auth: vec![HostAuth { host: "127.0.0.1".into(), auth }],
        ..Default::default()
    };
    let deps = GitDependencies::new(dir.path().join("deps"), options);
    let url = server.url("platform.git");

    assert_eq!(deps.fetch(&url, "v1").unwrap().commit, c1);
    // A shallow fetch over stateless HTTP takes more than one request.
    let fetched = server.stats.fetches();
    assert!(fetched >= 1);
    assert_eq!(deps.fetch(&url, "v1").unwrap().commit, c1);
    assert_eq!(server.stats.fetches(), fetched, "an unchanged tag is not fetched again");
    let advertised = server.stats.advertisements();
    assert_eq!(deps.fetch(&url, &c1).unwrap().commit, c1);
    assert_eq!(server.stats.advertisements(), advertised, "a cached commit id needs no network");
}
