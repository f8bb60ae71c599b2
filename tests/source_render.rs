//! Source feeding the renderer, as the daemon will: an app read from a mirror's commit (no
//! checkout) with a `git` dependency resolved through `GitDependencies`, over git:// on
//! loopback; the render reports the dependency's commit, and follows its ref when it moves.

#[path = "support/git.rs"]
mod git_support;

use cetus::render::{RenderInput, ResolvedDependency, render};
use cetus::source::git::{DependencyOptions, GitDependencies, Mirror, MirrorOptions};
use git_support::{GitDaemon, Upstream, git};

const POSTGRES: &str = "name: postgres\nimages:\n  pg: { repository: docker.io/library/postgres, tag: \"TAG\" }\nservices:\n  postgres:\n    image: pg\n    ports: [ { port: 5432 } ]\n";

fn images(rendered: &cetus::render::Rendered) -> Vec<String> {
    let mut found: Vec<String> = rendered
        .objects
        .iter()
        .filter_map(|o| {
            o.value.pointer("/spec/template/spec/containers/0/image")?.as_str().map(String::from)
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_git_dependency_resolves_at_render_time_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Upstream::new(dir.path(), "platform");
    let v1 = platform.commit_and_push(
        &[("postgres/cetus.yaml", &POSTGRES.replace("TAG", "16.4"))],
        "postgres 16.4",
    );
    git(&platform.work, &["tag", "v1"]);
    git(&platform.work, &["push", "-q", "origin", "v1"]);
    let daemon = GitDaemon::start(dir.path());
    let platform_url = daemon.url("platform.git");

    let config = Upstream::new(dir.path(), "config");
    let shop = format!(
        "name: shop\nimages:\n  web: {{ repository: registry.example.com/shop/web, tag: \"1.0\" }}\n\
         services:\n  web:\n    image: web\n    ports: [ {{ port: 80 }} ]\n\
         dependencies:\n  db: {{ git: \"{platform_url}\", ref: v1, path: postgres }}\n"
    );
    let c1 = config.commit_and_push(&[("apps/shop/cetus.yaml", &shop)], "shop");
    let mirror = Mirror::open(
        &dir.path().join("cache"),
        &daemon.url("config.git"),
        MirrorOptions::default(),
    )
    .unwrap();
    assert_eq!(mirror.update("main").unwrap().commit(), c1);
    let deps = GitDependencies::new(dir.path().join("deps"), DependencyOptions::default());
    let input = RenderInput { fetcher: Some(&deps), ..RenderInput::default() };

    // step: rendered from the commit, the dependency pinned to what v1 is now
    let tree = mirror.tree(&c1).unwrap();
    let rendered = render(&tree, "apps/shop", &input).unwrap().unwrap();
    let resolved = |commit: &str| ResolvedDependency {
        name: "db".into(),
        url: platform_url.clone(),
        reference: "v1".into(),
        commit: commit.into(),
    };
    assert_eq!(rendered.dependencies, [resolved(&v1)]);
    assert_eq!(
        images(&rendered),
        ["docker.io/library/postgres:16.4", "registry.example.com/shop/web:1.0"]
    );

    // step: the tag moves upstream; the same config commit now renders the new revision
    let v2 = platform.commit_and_push(
        &[("postgres/cetus.yaml", &POSTGRES.replace("TAG", "16.5"))],
        "postgres 16.5",
    );
    git(&platform.work, &["tag", "-f", "v1"]);
    git(&platform.work, &["push", "-q", "-f", "origin", "v1"]);
    let again = render(&tree, "apps/shop", &input).unwrap().unwrap();
    assert_eq!(again.dependencies, [resolved(&v2)]);
    assert_eq!(
        images(&again),
        ["docker.io/library/postgres:16.5", "registry.example.com/shop/web:1.0"]
    );
    assert_ne!(again.digest, rendered.digest);
}

#[test]
fn dependencies_on_a_file_url_and_on_a_path_render() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Upstream::new(dir.path(), "platform");
    let v1 = platform.commit_and_push(
        &[("postgres/cetus.yaml", &POSTGRES.replace("TAG", "16.4"))],
        "postgres 16.4",
    );
    let path = platform.bare.display().to_string();
    let deps = GitDependencies::new(dir.path().join("deps"), DependencyOptions::default());
    let input = RenderInput { fetcher: Some(&deps), ..RenderInput::default() };
    for url in [format!("file://{path}"), path.clone()] {
        let app = tempfile::tempdir().unwrap();
        let shop = format!(
            "name: shop\ndependencies:\n  db: {{ git: \"{url}\", ref: main, path: postgres }}\n"
        );
        std::fs::write(app.path().join("cetus.yaml"), shop).unwrap();
        let tree = cetus::source::LocalTree::new(app.path()).unwrap();

        let rendered = render(&tree, "", &input).unwrap().unwrap();
        let resolved = ResolvedDependency {
            name: "db".into(),
            url: url.clone(),
            reference: "main".into(),
            commit: v1.clone(),
        };
        assert_eq!(rendered.dependencies, [resolved], "{url}");
        assert_eq!(images(&rendered), ["docker.io/library/postgres:16.4"], "{url}");
    }
}
