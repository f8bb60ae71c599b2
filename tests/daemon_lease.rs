//! Two daemons against one cluster and one config repository: the Lease lets exactly one
//! reconcile; the other waits, and takes over when the leader is killed (within the lease's
//! duration) or stops (at once: it releases the lease). History never shows two syncs at once.

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/git.rs"]
mod git_support;

use cetus_sandbox::SandboxOptions;
use daemon::World;
use serde_json::Value;
use std::time::{Duration, Instant};

fn app(image: &str) -> String {
    format!("name: web\nservices:\n  web: {{ image: \"{image}\" }}\nprofiles:\n  staging: {{}}\n")
}

const WEB: &str = "apps/web/cetus.yaml";

/// Entries never overlap in time, and ids are unique.
fn assert_serial(history: &[Value]) {
    let mut entries: Vec<&Value> = history.iter().collect();
    entries.sort_by_key(|e| e["id"].as_u64());
    for pair in entries.windows(2) {
        assert!(pair[0]["id"].as_u64() < pair[1]["id"].as_u64(), "{pair:?}");
        if let Some(finished) = pair[0]["finished"].as_str() {
            assert!(finished <= pair[1]["started"].as_str().unwrap(), "syncs interleave: {pair:?}");
        }
    }
}

#[test]
fn one_daemon_leads_and_the_other_takes_over_when_it_dies_or_stops() {
    let world = World::new(&[(WEB, &app("web:1"))], SandboxOptions::default());
    let flags = ["--repo-interval", "1s"];
    let mut first = world.serve(&flags);
    first.wait_entry("web", "the first sync", |e| e["outcome"] == "Succeeded");
    let second = world.serve_standby(&flags);
    first.wait("the second to say it waits", Duration::from_secs(20), |_| {
        second.log().contains("waiting for the lease: another daemon holds it")
    });
    assert!(!second.ready());
    let (code, body) = second.get("/api/v1/apps");
    assert_eq!(code, 503, "{body}");

    // SIGKILL: the lease is not released; the other takes over once it expires (15 s).
    first.kill();
    let commit = world.repo.commit_and_push(&[(WEB, &app("web:2"))], "web 2");
    let killed = Instant::now();
    second.wait("the second to lead", Duration::from_secs(30), |d| d.ready());
    second.wait_entry("web", "the commit, applied by the second", |e| {
        e["commit"] == commit.as_str() && e["outcome"] == "Succeeded"
    });
    assert!(killed.elapsed() < Duration::from_secs(20), "took over after {:?}", killed.elapsed());
    assert_eq!(world.image("web", "web").as_deref(), Some("web:2"));

    // SIGTERM: the lease is released; a new standby takes over within a few seconds.
    let third = world.serve_standby(&flags);
    second.wait("the third to wait", Duration::from_secs(20), |_| {
        third.log().contains("waiting for the lease")
    });
    let history = second.history("web");
    assert!(second.stop(), "SIGTERM is a clean exit");
    // The time from the old leader's exit to the new one holding the lease: the released
    // lease is taken at the next retry (1 s), not after the lease duration (15 s).
    let exited = Instant::now();
    third.wait("the third to hold the lease", Duration::from_secs(10), |d| {
        d.log().contains("holding the lease")
    });
    assert!(exited.elapsed() < Duration::from_secs(3), "took over after {:?}", exited.elapsed());
    third.wait("the third to be ready", Duration::from_secs(30), |d| d.ready());
    let commit = world.repo.commit_and_push(&[(WEB, &app("web:3"))], "web 3");
    third.wait_entry("web", "the commit, applied by the third", |e| {
        e["commit"] == commit.as_str() && e["outcome"] == "Succeeded"
    });

    let all = third.history("web");
    assert!(all.len() > history.len());
    assert_serial(&all);
}
