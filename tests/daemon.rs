//! `cetus serve` end to end: a real config repository served by `git daemon`, the daemon as a
//! real process, the sandbox as its cluster. Commit → webhook or poll → applied → history;
//! revert, rollback and pin, auto-rollback, a broken app among good ones, drift, a kill in
//! the middle of a sync, coalescing, and per-app request isolation.

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/git.rs"]
mod git_support;

use cetus_sandbox::SandboxOptions;
use daemon::{Daemon, World, github_push};
use serde_json::Value;
use std::time::Duration;

fn web(image: &str, test_image: &str) -> String {
    format!(
        r#"name: web
services:
  web:
    image: {image}
    ports: [ {{ port: 80 }} ]
test:
  - {{ name: smoke, image: "{test_image}", command: [curl, -fsS, http://web/] }}
profiles:
  staging: {{}}
"#
    )
}

fn api_app(image: &str) -> String {
    format!("name: api\nservices:\n  api: {{ image: \"{image}\" }}\nprofiles:\n  staging: {{}}\n")
}

const WEB: &str = "apps/web/cetus.yaml";
const API: &str = "apps/api/cetus.yaml";
const CURL: &str = "curlimages/curl:8.5.0";

fn world() -> World {
    let files = [(WEB, web("nginx:1.27", CURL).as_str()), (API, api_app("api:1").as_str())]
        .map(|(p, c)| (p, c.to_string()));
    let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    World::new(&files, SandboxOptions::default())
}

fn succeeded(entry: &Value) -> bool {
    entry["outcome"] == "Succeeded"
}

#[test]
fn a_commit_announced_by_a_signed_github_webhook_is_applied_and_recorded() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1h"]);
    d.wait_entry("web", "the first sync", succeeded);
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));

    let commit = world.repo.commit_and_push(&[(WEB, &web("nginx:1.28", CURL))], "web: nginx 1.28");
    let (code, answer) = d.push_webhook(&world.url(), &commit);
    assert_eq!(code, 202, "{answer}");
    assert_eq!(answer["status"], "queued");

    let entry = d.wait_entry("web", "the webhook's sync", |e| e["commit"] == commit.as_str());
    assert_eq!(entry["outcome"], "Succeeded", "{entry}");
    assert_eq!(entry["trigger"], "webhook");
    assert_eq!(entry["subject"], "web: nginx 1.28");
    assert_eq!(entry["health"], "Healthy");
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.28"));
    // The other app's render did not change: no new entry for it.
    assert_eq!(d.history("api").len(), 1);

    // A bad signature is refused and triggers nothing.
    let bad = [
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", "sha256=00"),
        ("Content-Type", "application/json"),
    ];
    let body = github_push(&world.url(), &commit);
    let (code, answer) = d.post_with("/webhooks/github", &bad, &body);
    assert_eq!(code, 401, "{answer}");
}

#[test]
fn polling_alone_picks_up_a_commit_and_a_revert_restores_the_previous_state() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("web", "the first sync", succeeded);
    let bad = world.repo.commit_and_push(&[(WEB, &web("nginx:1.28", CURL))], "web: nginx 1.28");
    let entry = d.wait_entry("web", "the poll's sync", |e| e["commit"] == bad.as_str());
    assert_eq!(entry["trigger"], "poll");
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.28"));

    git_support::git(&world.repo.work, &["revert", "--no-edit", "HEAD"]);
    world.repo.push("main");
    let revert = world.repo.head();
    let entry = d.wait_entry("web", "the revert's sync", |e| e["commit"] == revert.as_str());
    assert_eq!(entry["outcome"], "Succeeded");
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));
}

#[test]
fn a_rollback_pins_through_new_commits_and_unpin_applies_the_newest() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1s"]);
    let first = d.wait_entry("web", "the first sync", succeeded);
    let second = world.repo.commit_and_push(&[(WEB, &web("nginx:1.28", CURL))], "1.28");
    d.wait_entry("web", "1.28", |e| e["commit"] == second.as_str() && succeeded(e));

    let (code, answer) =
        d.post("/api/v1/apps/web/rollback", &format!("{{\"to\": {}}}", first["id"]));
    assert_eq!(code, 202, "{answer}");
    assert_eq!(answer["pin"]["entry"], first["id"]);
    let entry = d.wait_entry("web", "the rollback", |e| e["trigger"] == "rollback");
    assert_eq!(entry["outcome"], "Succeeded", "{entry}");
    assert_eq!(entry["restores"], first["id"]);
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));
    assert_eq!(d.status("web")["pinned"]["entry"], first["id"]);

    // Two new commits: the pin holds.
    world.repo.commit_and_push(&[(WEB, &web("nginx:1.29", CURL))], "1.29");
    let newest = world.repo.commit_and_push(&[(WEB, &web("nginx:1.30", CURL))], "1.30");
    d.wait("the daemon to see the newest commit", Duration::from_secs(30), |d| {
        d.status("web")["latest"] == newest.as_str()
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));
    assert_eq!(d.history("web")[0]["trigger"], "rollback", "{:?}", d.history("web")[0]);

    let (code, answer) = d.post("/api/v1/apps/web/unpin", "");
    assert_eq!(code, 202, "{answer}");
    let entry = d.wait_entry("web", "the unpinned sync", |e| e["commit"] == newest.as_str());
    assert_eq!(entry["outcome"], "Succeeded");
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.30"));
    assert!(d.status("web")["pinned"].is_null());
}

#[test]
fn a_failing_test_job_rolls_back_and_the_bad_revision_is_not_retried() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1s"]);
    let good = d.wait_entry("web", "the first sync", succeeded);
    let bad = world
        .repo
        .commit_and_push(&[(WEB, &web("nginx:1.28", "curlimages/curl:fail"))], "web: broken test");
    d.wait("the rollback", Duration::from_secs(60), |d| {
        let history = d.history("web");
        history.len() >= 3
            && history[0]["outcome"] != "Running"
            && history[0]["trigger"] == "auto-rollback"
    });
    let history = d.history("web");
    let (restore, failed) = (&history[0], &history[1]);
    assert_eq!(failed["commit"], bad.as_str());
    assert_eq!(failed["outcome"], "RolledBack", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("tests failed"), "{failed}");
    assert_eq!(restore["outcome"], "Succeeded", "{restore}");
    assert_eq!(restore["restores"], good["id"]);
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));

    // Three polls later: nothing re-applied.
    let count = history.len();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(d.history("web").len(), count, "{:?}", d.history("web")[0]);
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.27"));
    let status = d.status("web");
    let message = status["message"].as_str().unwrap();
    assert!(message.starts_with("rolled back: this revision is not retried until the render changes: tests failed: batch/Job web/smoke-"), "{status}");
    assert_eq!(status["sync"], "OutOfSync");

    // `kubectl get events` tells the story: the rollback, with the app, both entries, the reason.
    let events = world.kubectl(&["-n", "web", "get", "events"]);
    let rolled: Vec<&str> = events.lines().filter(|l| l.contains("RolledBack")).collect();
    assert_eq!(rolled.len(), 1, "{events}");
    let expected = format!(
        "app web: entry {} (commit {}) rolled back to entry {} (commit {}): tests failed",
        failed["id"],
        &bad[..8],
        good["id"],
        &good["commit"].as_str().unwrap()[..8]
    );
    assert!(rolled[0].contains(&expected), "{expected} not in {events}");
    assert!(rolled[0].contains("Warning"), "{events}");
}

#[test]
fn a_broken_cetus_yaml_fails_that_app_alone() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("api", "the first sync", succeeded);
    d.wait_entry("web", "the first sync", succeeded);
    let commit = world.repo.commit_and_push(
        &[(WEB, "name: web\nservices: { web: { image: nginx, replcas: 2 } }\nprofiles: { staging: {} }\n"), (API, &api_app("api:2"))],
        "break web, bump api",
    );
    let api = d.wait_entry("api", "api's sync", |e| e["commit"] == commit.as_str());
    assert_eq!(api["outcome"], "Succeeded");
    let web = d.wait_entry("web", "web's failure", |e| e["commit"] == commit.as_str());
    assert_eq!(web["outcome"], "Failed");
    assert!(web["error"].as_str().unwrap().contains("unknown key `replcas`"), "{web}");
    assert_eq!(
        world.image("web", "web").as_deref(),
        Some("nginx:1.27"),
        "nothing of web was applied"
    );
    assert_eq!(d.status("web")["sync"], "Failed");
    // The failure is recorded once, not on every poll.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(d.history("web").len(), 2);

    // A second directory claiming api's name fails alone; api keeps its objects.
    let copy = world
        .repo
        .commit_and_push(&[("apps/api-copy/cetus.yaml", &api_app("api:evil"))], "copy api");
    let dup = d.wait_entry("api@apps-api-copy", "the duplicate's failure", |e| {
        e["commit"] == copy.as_str()
    });
    assert_eq!(dup["outcome"], "Failed");
    assert_eq!(
        dup["error"],
        "render failed: apps/api-copy/cetus.yaml: app name `api` is already used by apps/api/cetus.yaml"
    );
    assert_eq!(world.image("api", "api").as_deref(), Some("api:2"));
}

#[test]
fn drift_is_reverted_with_self_heal_and_only_reported_without() {
    for self_heal in [true, false] {
        let world = world();
        let flag = self_heal.to_string();
        let d = world.serve(&["--repo-interval", "1h", "--self-heal", &flag]);
        d.wait_entry("web", "the first sync", succeeded);
        world.kubectl(&["-n", "web", "set", "image", "deployment/web", "web=nginx:evil"]);
        if self_heal {
            d.wait("drift to be reverted", Duration::from_secs(30), |_| {
                world.image("web", "web").as_deref() == Some("nginx:1.27")
            });
            let entry = d.wait_entry("web", "the drift sync", |e| e["trigger"] == "drift");
            assert_eq!(entry["outcome"], "Succeeded");
        } else {
            d.wait("drift to be reported", Duration::from_secs(30), |d| {
                d.status("web")["sync"] == "OutOfSync"
            });
            assert_eq!(world.image("web", "web").as_deref(), Some("nginx:evil"));
            assert_eq!(d.history("web").len(), 1);
        }
    }
}

#[test]
fn a_kill_during_a_sync_leaves_consistent_history_and_the_restart_finishes_the_work() {
    let world = world();
    let mut d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("web", "the first sync", succeeded);
    // Writes to the app's namespace hang, so the next sync is caught in the middle.
    world.sandbox().hang_requests(
        cetus_sandbox::RequestMatch {
            namespace: Some("web".into()),
            verb: Some("patch".into()),
            ..Default::default()
        },
        1000,
    );
    let commit = world.repo.commit_and_push(&[(WEB, &web("nginx:1.28", CURL))], "1.28");
    d.wait("the sync to start", Duration::from_secs(30), |d| {
        d.history("web")[0]["outcome"] == "Running"
    });
    let killed = d.history("web")[0]["id"].clone();
    d.kill();
    world.sandbox().clear_faults();
    let d = d.restart();
    let history = d.history("web");
    let interrupted = history.iter().find(|e| e["id"] == killed).expect("the killed sync's entry");
    assert_eq!(interrupted["commit"], commit.as_str());
    assert_eq!(interrupted["outcome"], "Failed");
    assert_eq!(interrupted["error"], "interrupted");
    let done = d.wait_entry("web", "the sync after the restart", |e| {
        e["commit"] == commit.as_str() && succeeded(e)
    });
    assert!(done["id"].as_u64() > interrupted["id"].as_u64());
    assert_eq!(world.image("web", "web").as_deref(), Some("nginx:1.28"));
    let ids: Vec<u64> = d.history("web").iter().map(|e| e["id"].as_u64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "ids are unique and newest first");
}

#[test]
fn two_triggers_in_the_same_millisecond_make_one_sync() {
    let world = world();
    let d = world.serve(&["--repo-interval", "1h"]);
    d.wait_entry("web", "the first sync", succeeded);
    let commit = world.repo.commit_and_push(&[(WEB, &web("nginx:1.28", CURL))], "1.28");
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert_eq!(d.push_webhook(&world.url(), &commit).0, 202));
        }
    });
    d.wait_entry("web", "the sync", |e| e["commit"] == commit.as_str());
    std::thread::sleep(Duration::from_secs(2));
    let syncs = d.history("web").iter().filter(|e| e["commit"] == commit.as_str()).count();
    assert_eq!(syncs, 1);
}

#[test]
fn a_commit_to_one_app_of_fifty_sends_requests_for_that_app_alone() {
    let mut files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("apps/a{i}/cetus.yaml"), format!("name: a{i}\nservices:\n  s: {{ image: \"img:1\" }}\nprofiles:\n  staging: {{}}\n")))
        .collect();
    files.push((WEB.into(), web("nginx:1.27", CURL)));
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let world = World::new(&refs, SandboxOptions::default());
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait("every app synced", Duration::from_secs(120), |d| {
        (0..50).all(|i| d.history_len(&format!("a{i}")) >= 1)
    });
    std::thread::sleep(Duration::from_secs(2));
    // The Pods and ReplicaSets the Deployments made carry the apps' label, but are not
    // Cetus's: it neither lists nor watches them (its cache would hold every pod).
    let sandbox = world.sandbox();
    assert!(sandbox.request_count("watch", "deployments") > 0);
    for resource in ["pods", "replicasets", "endpointslices"] {
        let reads =
            sandbox.request_count("list", resource) + sandbox.request_count("watch", resource);
        assert_eq!(reads, 0, "{resource}");
    }
    assert!(world.kubectl(&["get", "pods", "-n", "a7", "-o", "name"]).contains("pod/"));
    world.sandbox().reset_request_counts();
    let commit = world.repo.commit_and_push(
        &[(
            "apps/a7/cetus.yaml",
            "name: a7\nservices:\n  s: { image: \"img:2\" }\nprofiles:\n  staging: {}\n",
        )],
        "a7: img 2",
    );
    d.wait_entry("a7", "a7's sync", |e| e["commit"] == commit.as_str() && succeeded(e));
    std::thread::sleep(Duration::from_secs(2));
    assert!(world.sandbox().requests_in("a7") > 0);
    for i in (0..50).filter(|i| *i != 7) {
        assert_eq!(
            world.sandbox().requests_in(&format!("a{i}")),
            0,
            "a{i}: {:?}",
            world.sandbox().request_counts_in(&format!("a{i}"))
        );
    }
}

impl Daemon {
    fn history_len(&self, app: &str) -> usize {
        match daemon::try_http(&self.url, "GET", &format!("/api/v1/apps/{app}/history"), &[], "") {
            Some((200, Value::Array(entries))) => {
                entries.iter().filter(|e| e["outcome"] != "Running").count()
            }
            _ => 0,
        }
    }
}

#[test]
fn a_moved_branch_of_a_git_dependency_re_renders_the_app_that_uses_it() {
    let world = world();
    let lib = git_support::Upstream::new(world.dir.path(), "lib");
    lib.commit_and_push(
        &[("cetus.yaml", "name: lib\nservices:\n  cache: { image: \"redis:7.0\" }\n")],
        "lib 7.0",
    );
    let uses = format!(
        "name: api\nservices:\n  api: {{ image: \"api:1\" }}\ndependencies:\n  lib: {{ git: \"{}\", ref: main }}\nprofiles:\n  staging: {{}}\n",
        world.git.url("lib.git")
    );
    world.repo.commit_and_push(&[(API, &uses)], "api uses lib");
    let d = world.serve(&["--repo-interval", "1s"]);
    let first = d.wait_entry("api", "the first sync", succeeded);
    assert_eq!(first["dependencies"][0]["name"], "lib");
    assert_eq!(world.image("api", "cache").as_deref(), Some("redis:7.0"));

    let moved = lib.commit_and_push(
        &[("cetus.yaml", "name: lib\nservices:\n  cache: { image: \"redis:7.2\" }\n")],
        "lib 7.2",
    );
    let entry =
        d.wait_entry("api", "the re-render", |e| e["dependencies"][0]["commit"] == moved.as_str());
    assert_eq!(entry["outcome"], "Succeeded", "{entry}");
    assert_eq!(world.image("api", "cache").as_deref(), Some("redis:7.2"));
    // The app without the dependency was not synced again.
    assert_eq!(d.history("web").len(), 1);
}
