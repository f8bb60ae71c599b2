//! The daemon's HTTP API and the CLI commands that are its clients: every endpoint, the
//! bearer token, unknown apps and entries, JSON errors, the per-sync diff, metrics and probes.

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/git.rs"]
mod git_support;

use cetus_sandbox::SandboxOptions;
use daemon::{Daemon, World};
use serde_json::{Value, json};
use std::process::{Command, Output};

const WEB: &str = "apps/web/cetus.yaml";

fn web(tag: &str) -> String {
    format!(
        "name: web\nimages:\n  web: {{ repository: registry.example.com/web, tag: {tag} }}\nservices:\n  web: {{ image: web, ports: [ {{ port: 80 }} ] }}\nmanifests: [ extra/ ]\nprofiles:\n  staging: {{}}\n"
    )
}

const SECRET_V1: &str =
    "apiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { password: hunter2 }\n";

fn started() -> (World, Daemon) {
    let world = World::new(
        &[(WEB, &web("v1")), ("apps/web/extra/secret.yaml", SECRET_V1)],
        SandboxOptions::default(),
    );
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("web", "the first sync", |e| e["outcome"] == "Succeeded");
    synced(&d);
    (world, d)
}

/// Waits until the status says Synced (the history entry is finished a moment before).
fn synced(d: &Daemon) {
    d.wait("the app to be synced", std::time::Duration::from_secs(30), |d| {
        d.status("web")["sync"] == "Synced"
    });
}

fn cetus(d: &Daemon, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(args)
        .args(["--server", &d.url])
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn probes_metrics_and_reads() {
    let (_world, d) = started();
    assert_eq!(d.get("/healthz"), (200, Value::String("ok\n".into())));
    assert_eq!(d.get("/readyz"), (200, Value::String("ready\n".into())));
    let (code, metrics) = d.get("/metrics");
    assert_eq!(code, 200);
    let metrics = metrics.as_str().unwrap();
    for line in [
        "cetus_sync_total{app=\"web\",outcome=\"Succeeded\"} 1",
        "cetus_app_health{app=\"web\",health=\"Healthy\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} not in\n{metrics}");
    }
    for name in [
        "cetus_sync_duration_seconds_count",
        "cetus_git_fetch_duration_seconds_count",
        "cetus_kube_requests_total{verb=\"patch\",code=\"201\"}",
    ] {
        assert!(metrics.contains(name), "{name} not in\n{metrics}");
    }

    let (code, apps) = d.get("/api/v1/apps");
    assert_eq!(code, 200);
    assert_eq!(apps.as_array().unwrap().len(), 1);
    assert_eq!(apps[0]["name"], "web");
    assert_eq!(apps[0]["sync"], "Synced");
    assert!(apps[0].get("objects").is_none());
    let app = d.status("web");
    assert_eq!(app["health"], "Healthy");
    assert_eq!(app["objects"]["objects"].as_array().unwrap().len(), 4, "{app}");
    let (code, entry) = d.get("/api/v1/apps/web/history/1");
    assert_eq!(code, 200);
    assert_eq!(entry["id"], 1);
    assert_eq!(entry["trigger"], "startup");

    assert_eq!(d.get("/api/v1/apps/nope"), (404, json!({"error": "app \"nope\" not found"})));
    assert_eq!(
        d.get("/api/v1/apps/nope/history"),
        (404, json!({"error": "app \"nope\" not found"}))
    );
    assert_eq!(
        d.get("/api/v1/apps/web/history/99"),
        (404, json!({"error": "app \"web\" has no history entry 99"}))
    );
    assert_eq!(d.get("/api/v1/nothing"), (404, json!({"error": "no such route"})));
}

#[test]
fn posts_need_the_bearer_token() {
    let (_world, d) = started();
    for action in ["sync", "rollback", "unpin"] {
        let path = format!("/api/v1/apps/web/{action}");
        assert_eq!(
            d.post_with(&path, &[], ""),
            (401, json!({"error": "missing or wrong bearer token"})),
            "{action}"
        );
        let wrong = [("Authorization", "Bearer nope")];
        assert_eq!(d.post_with(&path, &wrong, "").0, 401, "{action}");
    }
    assert_eq!(
        d.post("/api/v1/apps/nope/sync", ""),
        (404, json!({"error": "app \"nope\" not found"}))
    );
    let (code, answer) = d.post("/api/v1/apps/web/rollback", "");
    assert_eq!(code, 400, "one entry, nothing before it: {answer}");
    assert_eq!(answer, json!({"error": "app \"web\" has no successful entry before entry 1"}));
    assert_eq!(
        d.post("/api/v1/apps/web/rollback", "{\"to\": 42}"),
        (404, json!({"error": "app \"web\" has no history entry 42"}))
    );
    assert_eq!(d.post("/api/v1/apps/web/rollback", "nope").0, 400);
    let (code, answer) = d.post("/api/v1/apps/web/sync", "");
    assert_eq!((code, &answer["status"]), (202, &json!("queued")));
}

#[test]
fn the_history_diff_of_a_tag_bump_shows_exactly_that_line_and_masks_secrets() {
    let (world, d) = started();
    let commit = world.repo.commit_and_push(
        &[
            (WEB, &web("v2")),
            ("apps/web/extra/secret.yaml", &SECRET_V1.replace("hunter2", "correct-horse")),
        ],
        "web v2, new password",
    );
    let entry = d.wait_entry("web", "v2", |e| e["commit"] == commit.as_str());
    let (code, diffs) = d.get(&format!("/api/v1/apps/web/history/{}/diff", entry["id"]));
    assert_eq!(code, 200);
    let texts: Vec<&str> =
        diffs.as_array().unwrap().iter().map(|d| d["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    let deployment =
        texts.iter().find(|t| t.starts_with("changed apps/Deployment web/web")).unwrap();
    let changed: Vec<&str> = deployment
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-      - image: registry.example.com/web:v1",
            "+      - image: registry.example.com/web:v2"
        ]
    );
    let secret = texts.iter().find(|t| t.starts_with("changed Secret web/creds")).unwrap();
    assert!(secret.contains("+  password: (masked, changed)"), "{secret}");
    for leak in ["hunter2", "correct-horse", "aHVudGVyMg", "Y29ycmVjdC1ob3Jz"] {
        assert!(!diffs.to_string().contains(leak), "{leak}");
    }

    // The CLI shows the same.
    let out = cetus(&d, &["history", "web", &entry["id"].to_string(), "--diff"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("+      - image: registry.example.com/web:v2\n"),
        "{}",
        stdout(&out)
    );

    // And the live diff is empty: the cluster runs what the branch says.
    let (code, live) = d.get("/api/v1/apps/web/diff");
    assert_eq!((code, live), (200, json!([])));
}

#[test]
fn the_cli_shows_status_and_history_and_rolls_back_and_unpins() {
    let (world, d) = started();
    let commit = world.repo.commit_and_push(&[(WEB, &web("v2"))], "web v2");
    d.wait_entry("web", "v2", |e| e["commit"] == commit.as_str() && e["outcome"] == "Succeeded");
    synced(&d);

    let status = cetus(&d, &["status"]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let text = stdout(&status);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("APP  REVISION  SYNC    HEALTH   PINNED  LAST SYNC"), "{text}");
    assert!(lines[1].starts_with(&format!("web  {}  Synced  Healthy  -", &commit[..8])), "{text}");
    let json: Value = serde_json::from_slice(&cetus(&d, &["status", "-o", "json"]).stdout).unwrap();
    assert_eq!(json[0]["revision"], commit.as_str());

    let history = stdout(&cetus(&d, &["history", "web"]));
    assert!(
        history
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("2   {}  poll     Succeeded", &commit[..8])),
        "{history}"
    );

    let refused = cetus(&d, &["rollback", "web"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&refused.stderr), "error: missing or wrong bearer token\n");

    let rolled = cetus(&d, &["rollback", "web", "--token", daemon::TOKEN]);
    assert!(rolled.status.success(), "{}", String::from_utf8_lossy(&rolled.stderr));
    assert!(stdout(&rolled).starts_with("web: pinned to entry 1 ("), "{}", stdout(&rolled));
    d.wait_entry("web", "the rollback", |e| e["trigger"] == "rollback");
    assert_eq!(world.image("web", "web").as_deref(), Some("registry.example.com/web:v1"));
    assert!(stdout(&cetus(&d, &["status", "web"])).contains("entry 1"));
    let pinned_line = stdout(&cetus(&d, &["history", "web"]));
    assert!(pinned_line.contains("Succeeded (pinned)"), "{pinned_line}");

    let unpinned = cetus(&d, &["unpin", "web", "--token", daemon::TOKEN]);
    assert!(unpinned.status.success());
    assert_eq!(
        stdout(&unpinned),
        "web: unpinned from entry 1; syncing the branch's newest revision\n"
    );
    d.wait_entry("web", "the unpinned sync", |e| {
        e["trigger"] == "manual" && e["outcome"] == "Succeeded"
    });
    assert_eq!(world.image("web", "web").as_deref(), Some("registry.example.com/web:v2"));

    let unknown = cetus(&d, &["status", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    let gone = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["status", "--server", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&gone.stderr)
            .starts_with("error: cannot reach the daemon at http://127.0.0.1:9")
    );
}
