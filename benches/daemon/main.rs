//! Daemon bench (issue 9): `cetus serve` as a real process (the bench-profile binary) against
//! a config repo made with the git CLI and served by `git daemon`, and the sandbox API server
//! at 10 ms per request, in this process so its request counters can be read. Four figures,
//! each printed beside its target (not asserted):
//!
//! - webhook → applied, for one 10-object app: from sending a signed GitHub push webhook to
//!   the moment the new image's Deployment reaches the API server (seen by a watch of the
//!   bench's own), and to the moment the sync's history entry is recorded (health included);
//! - peak RSS of the daemon (`VmHWM`) with 500 apps × 10 objects synced;
//! - a commit that changes one app in that 500-app repo: webhook → applied and → recorded,
//!   and the API requests the daemon sent for it, in the app's namespace and elsewhere;
//! - the daemon at rest for a minute: every API request it sends, by verb and resource.
//!
//! `cargo bench --bench daemon` (about five minutes on the 2-core machine);
//! `CETUS_BENCH_QUICK=1` for a quick run (50 apps, fewer samples, ten seconds at rest);
//! `CETUS_BENCH_APPS=N` to change the number of apps, `CETUS_BENCH_COMMITS=N` the number of
//! one-app commits (many of them show whether memory settles). Figures in the README come from this
//! bench.
//!
//! Why the design: the figures are of a process a user runs, so the daemon is that process
//! (the test support's `World` and `Daemon`, shared with the daemon's end-to-end tests), and
//! the clock is read outside it. Each scenario is a sequence of commits on one repo, which
//! criterion's repeat-the-same-thing model does not fit; so this is a `harness = false` main
//! that takes its samples itself and prints percentiles.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/git.rs"]
mod git_support;

mod apps;
mod probe;

use cetus_sandbox::{SandboxHandle, SandboxOptions};
use daemon::{Daemon, World, try_http};
use probe::{Applied, Spread, mib, ms};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The sandbox's latency per request.
const LATENCY: Duration = Duration::from_millis(10);

/// How many apps, samples and seconds at rest one run takes.
struct Size {
    apps: usize,
    latency_samples: usize,
    change_samples: usize,
    rest: Duration,
}

impl Size {
    fn from_env() -> Size {
        let quick = std::env::var_os("CETUS_BENCH_QUICK").is_some();
        let apps = std::env::var("CETUS_BENCH_APPS").ok().and_then(|n| n.parse().ok());
        let commits = std::env::var("CETUS_BENCH_COMMITS").ok().and_then(|n| n.parse().ok());
        if quick {
            Size {
                apps: apps.unwrap_or(50),
                latency_samples: 10,
                change_samples: commits.unwrap_or(5),
                rest: Duration::from_secs(10),
            }
        } else {
            Size {
                apps: apps.unwrap_or(500),
                latency_samples: 50,
                change_samples: commits.unwrap_or(20),
                rest: Duration::from_secs(60),
            }
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (four figures only).
    let size = Size::from_env();
    println!("daemon bench: sandbox at {} per request\n", ms(LATENCY));
    webhook_to_applied(&size);
    at_scale(&size);
}

fn sandbox_options() -> SandboxOptions {
    SandboxOptions { latency: LATENCY, ..SandboxOptions::default() }
}

fn world(apps: usize) -> World {
    let files = apps::files(apps);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    World::new(&refs, sandbox_options())
}

/// One 10-object app: webhook → applied and → recorded, over many commits.
fn webhook_to_applied(size: &Size) {
    let world = world(1);
    let d = world.serve(&["--repo-interval", "1h"]);
    wait_all_synced(&d, 1, Duration::from_secs(120));
    let applied = Applied::watch(&world.kubeconfig);
    let mut to_applied = Vec::new();
    let mut to_recorded = Vec::new();
    for _ in 0..size.latency_samples {
        let (a, r) = one_change(&world, &d, &applied, 0);
        to_applied.push(a);
        to_recorded.push(r);
        std::thread::sleep(Duration::from_millis(100));
    }
    applied.stop();
    println!("webhook → applied, one app of {} objects:", apps::OBJECTS);
    println!("  applied   {}   (target p50 < 300 ms, p99 < 1 s)", Spread::of(to_applied).text());
    println!("  recorded  {}   (healthy, history entry written)\n", Spread::of(to_recorded).text());
}

/// Many apps: first sync, peak RSS, one-app commits, and the daemon at rest.
fn at_scale(size: &Size) {
    let apps = size.apps;
    let start = Instant::now();
    let world = world(apps);
    let made = start.elapsed();
    let start = Instant::now();
    let d = world.serve(&["--repo-interval", "1h"]);
    wait_all_synced(&d, apps, Duration::from_secs(1800));
    let first = start.elapsed();
    let pid = d.pid().expect("the daemon runs");
    let after_first = probe::peak_rss(pid);
    let (_, anon_first, file_first) = probe::rss(pid);
    println!("{apps} apps × {} objects (repo made in {}):", apps::OBJECTS, ms(made));
    println!("  first sync of every app       {:.1} s from start", first.as_secs_f64());
    println!(
        "  peak RSS after it             {}   (target < 100 MiB; now {} heap, {} file pages)",
        mib(after_first),
        mib(anon_first),
        mib(file_first)
    );

    let applied = Applied::watch(&world.kubeconfig);
    let sandbox = world.sandbox();
    let (mut to_applied, mut to_recorded) = (Vec::new(), Vec::new());
    let (mut inside, mut outside) = (0, BTreeMap::new());
    for n in 0..size.change_samples {
        let app = (n * 37 + 11) % apps;
        std::thread::sleep(Duration::from_millis(500));
        sandbox.reset_request_counts();
        let (a, r) = one_change(&world, &d, &applied, app);
        to_applied.push(a);
        to_recorded.push(r);
        // The sync's Event is written after the entry; let it land before counting.
        std::thread::sleep(Duration::from_millis(500));
        inside += sandbox.requests_in(&apps::name(app));
        for (key, count) in counts(sandbox) {
            *outside.entry(key).or_insert(0) += count;
        }
        for ((verb, resource), count) in counts_in(sandbox, &apps::name(app)) {
            let key = (verb, resource);
            let left = outside.get(&key).copied().unwrap_or(0).saturating_sub(count);
            outside.insert(key, left);
        }
    }
    applied.stop();
    // The lease's renewals go on whatever the commit; the at-rest figure shows them.
    outside.retain(|(_, resource), count| *count > 0 && resource != "leases");
    println!("  a commit changing one app:");
    println!("    applied   {}   (target < 1 s)", Spread::of(to_applied).text());
    println!("    recorded  {}", Spread::of(to_recorded).text());
    println!(
        "    requests  {:.1} per commit in the app's namespace; elsewhere (but the lease): {}",
        inside as f64 / size.change_samples as f64,
        text(&outside)
    );

    sandbox.reset_request_counts();
    std::thread::sleep(size.rest);
    let rest = counts(sandbox);
    let (lease, other): (BTreeMap<_, _>, BTreeMap<_, _>) =
        rest.into_iter().partition(|((_, resource), _)| resource == "leases");
    println!("  at rest for {} s:", size.rest.as_secs());
    println!("    requests  {}   (target 0)", text(&other));
    println!("    lease     {}   (leader election: renewed every 5 s)", text(&lease));
    let (now, anon, file) = probe::rss(pid);
    println!(
        "  peak RSS at the end           {} (now {}: {} heap, {} file pages)",
        mib(probe::peak_rss(pid)),
        mib(now),
        mib(anon),
        mib(file)
    );
}

/// Commits a new image tag for app `app` and sends the webhook; returns the time from the
/// webhook to the image at the API server, and to the history entry.
fn one_change(world: &World, d: &Daemon, applied: &Applied, app: usize) -> (Duration, Duration) {
    let tag = new_tag();
    let commit = world.repo.commit_and_push(
        &[(&apps::cetus_yaml_path(app), &apps::cetus_yaml(app, tag))],
        &format!("{}: tag {tag}", apps::name(app)),
    );
    let sent = Instant::now();
    let (code, answer) = d.push_webhook(&world.url(), &commit);
    assert_eq!(code, 202, "{answer}");
    let at = applied.wait_for(&apps::image(app, tag), Duration::from_secs(60));
    wait_recorded(d, &apps::name(app), &commit);
    (at.duration_since(sent), sent.elapsed())
}

/// A tag no earlier commit used (the repo starts at 1), so the watch has not seen it yet.
fn new_tag() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(2);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Waits until the app's newest history entry is `commit`'s and finished.
fn wait_recorded(d: &Daemon, app: &str, commit: &str) {
    let path = format!("/api/v1/apps/{app}/history?limit=1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let newest = match try_http(&d.url, "GET", &path, &[], "") {
            Some((200, Value::Array(entries))) => entries.into_iter().next(),
            _ => None,
        };
        if let Some(entry) = newest.filter(|e| e["commit"] == commit && e["outcome"] != "Running") {
            assert_eq!(entry["outcome"], "Succeeded", "{entry}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{app}'s sync of {commit} was not recorded:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `apps` apps are synced and healthy.
fn wait_all_synced(d: &Daemon, apps: usize, timeout: Duration) {
    d.wait("every app synced", timeout, |d| {
        match try_http(&d.url, "GET", "/api/v1/apps", &[], "") {
            Some((200, Value::Array(all))) => {
                all.iter().filter(|a| a["sync"] == "Synced" && a["health"] == "Healthy").count()
                    == apps
            }
            _ => false,
        }
    });
}

fn counts(sandbox: &SandboxHandle) -> BTreeMap<(String, String), u64> {
    sandbox.request_counts().into_iter().map(|c| ((c.verb, c.resource), c.count)).collect()
}

fn counts_in(sandbox: &SandboxHandle, namespace: &str) -> BTreeMap<(String, String), u64> {
    sandbox
        .request_counts_in(namespace)
        .into_iter()
        .map(|c| ((c.verb, c.resource), c.count))
        .collect()
}

/// `3 get leases, 3 update leases`, or `none`.
fn text(counts: &BTreeMap<(String, String), u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> =
        counts.iter().map(|((verb, resource), n)| format!("{n} {verb} {resource}")).collect();
    parts.join(", ")
}
