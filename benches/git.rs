//! Git source benchmarks, over `git daemon` on loopback:
//! - the head check of an unchanged remote (what every poll costs; target < 5 ms);
//! - fetching one new commit (head check, fetch, classification);
//! - `changed_apps` between two commits of a 1,000-app repository (target < 20 ms).
//!
//! Run: `cargo bench -p cetus --bench git`.

#[path = "../tests/support/git.rs"]
mod git_support;

use cetus::source::git::{Mirror, MirrorOptions, Update};
use cetus::source::{AppGraph, AppRefs};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use git_support::{GitDaemon, Upstream};
use std::hint::black_box;
use std::path::Path;

/// Commits a change to `file` on `main` of the bare repository, in-process (the git CLI
/// would dominate the batch setup).
fn commit_upstream(bare: &Path, file: &str, content: &str) -> String {
    let repo = git2::Repository::open_bare(bare).unwrap();
    let parent = repo.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    let blob = repo.blob(content.as_bytes()).unwrap();
    let mut builder = repo.treebuilder(Some(&parent.tree().unwrap())).unwrap();
    builder.insert(file, blob, 0o100644).unwrap();
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let sig = git2::Signature::now("Bench", "bench@example.com").unwrap();
    let id = repo.commit(Some("refs/heads/main"), &sig, &sig, "bench", &tree, &[&parent]).unwrap();
    id.to_string()
}

/// Connects, asks for `upload-pack` of `path`, reads the ref advertisement up to its flush
/// packet, and says goodbye with a flush.
fn raw_advertisement(port: u16, path: &str) -> usize {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!("git-upload-pack {path}\0host=127.0.0.1:{port}\0");
    stream.write_all(format!("{:04x}{request}", request.len() + 4).as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 65536];
    while !received.ends_with(b"0000") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "advertisement cut short");
        received.extend_from_slice(&buf[..n]);
    }
    stream.write_all(b"0000").unwrap();
    received.len()
}

fn head_check_and_fetch(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    up.commit_and_push(&[("apps/web/cetus.yaml", "name: web\n")], "initial");
    let daemon = GitDaemon::start(dir.path());
    let mirror = Mirror::open(
        &dir.path().join("cache"),
        &daemon.url("config.git"),
        MirrorOptions::default(),
    )
    .unwrap();
    mirror.update("main").unwrap();

    // The floor: the same exchange by a minimal client, i.e. what `git daemon` itself costs
    // (it spawns `git upload-pack` per connection).
    c.bench_function("ref advertisement, minimal client (git daemon baseline)", |b| {
        b.iter(|| black_box(raw_advertisement(daemon.port, "/config.git")))
    });

    c.bench_function("head check, unchanged remote (git://)", |b| {
        b.iter(|| {
            let update = mirror.update("main").unwrap();
            assert!(matches!(update, Update::Unchanged { .. }));
            black_box(update)
        })
    });

    let mut n = 0;
    c.bench_function("fetch one new commit (git://)", |b| {
        b.iter_batched(
            || {
                n += 1;
                commit_upstream(&up.bare, "counter.txt", &n.to_string())
            },
            |pushed| {
                let update = mirror.update("main").unwrap();
                assert_eq!(update.commit(), pushed);
                update
            },
            BatchSize::PerIteration,
        )
    });
}

fn changed_apps_1000(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::new(dir.path(), "config");
    let mut files = Vec::new();
    for i in 0..1000 {
        files.push((format!("apps/app-{i:04}/cetus.yaml"), format!("name: app-{i:04}\n")));
        files.push((format!("apps/app-{i:04}/extra/cm.yaml"), format!("kind: ConfigMap # {i}\n")));
    }
    for lib in 0..20 {
        files.push((format!("libs/lib-{lib:02}/cetus.yaml"), format!("name: lib-{lib:02}\n")));
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let old = up.commit_and_push(&borrowed, "1000 apps");
    up.write(&[
        ("apps/app-0003/cetus.yaml", "name: app-0003\n# changed\n"),
        ("apps/app-0777/extra/cm.yaml", "kind: ConfigMap # changed\n"),
        ("libs/lib-07/cetus.yaml", "name: lib-07\n# changed\n"),
    ]);
    let new = up.commit("two apps and a shared library");
    up.push("main");
    let daemon = GitDaemon::start(dir.path());
    let mirror = Mirror::open(
        &dir.path().join("cache"),
        &daemon.url("config.git"),
        MirrorOptions::default(),
    )
    .unwrap();
    mirror.update("main").unwrap();

    // Every app depends on one of 20 libraries; every tenth reads a shared var file.
    let mut graph = AppGraph::new();
    for i in 0..1000 {
        let reads = if i % 10 == 0 { vec!["shared/region.txt".to_string()] } else { vec![] };
        let refs = AppRefs {
            dir: format!("apps/app-{i:04}"),
            dependencies: vec![format!("libs/lib-{:02}", i % 20)],
            reads,
        };
        graph.add_app(format!("app-{i:04}"), refs);
    }
    let fresh = graph.clone(); // before any query: no index built yet
    let changed = mirror.changed_apps(Some(&old), &new, &graph).unwrap();
    assert_eq!(changed.paths.len(), 3);
    assert_eq!(changed.apps.len(), 2 + 50, "two apps, and the 50 using lib-07");

    c.bench_function("changed_apps, 1000-app repo", |b| {
        b.iter(|| black_box(mirror.changed_apps(Some(&old), &new, &graph).unwrap()))
    });
    c.bench_function("changed_apps, 1000-app repo, first query (graph index built)", |b| {
        b.iter_batched(
            || fresh.clone(),
            |graph| black_box(mirror.changed_apps(Some(&old), &new, &graph).unwrap()),
            BatchSize::SmallInput,
        )
    });
    drop(daemon);
}

criterion_group!(benches, head_check_and_fetch, changed_apps_1000);
criterion_main!(benches);
