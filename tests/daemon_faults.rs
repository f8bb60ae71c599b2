//! The daemon when the world misbehaves: the API server goes away and comes back, and the
//! config repository's history is rewritten by a force-push.

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/git.rs"]
mod git_support;

use cetus_sandbox::SandboxOptions;
use daemon::World;

const WEB: &str = "apps/web/cetus.yaml";

fn web(image: &str) -> String {
    format!("name: web\nservices:\n  web: {{ image: \"{image}\" }}\nprofiles:\n  staging: {{}}\n")
}

#[test]
fn a_dead_api_server_fails_syncs_that_are_retried_until_it_is_back() {
    let data = tempfile::tempdir().unwrap();
    let port = git_support::free_port();
    let options = || SandboxOptions {
        listen: ([127, 0, 0, 1], port).into(),
        data_dir: Some(data.path().to_path_buf()),
        ..SandboxOptions::default()
    };
    let mut world = World::new(&[(WEB, &web("web:1"))], options());
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("web", "the first sync", |e| e["outcome"] == "Succeeded");

    // The API server goes away; a commit arrives meanwhile: its sync fails, naming why.
    world.stop_sandbox();
    let commit = world.repo.commit_and_push(&[(WEB, &web("web:2"))], "web 2");
    let failed =
        d.wait_entry("web", "the sync against a dead server", |e| e["commit"] == commit.as_str());
    assert_eq!(failed["outcome"], "Failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("Connection refused"), "{failed}");

    // It comes back, and the same process completes the work: through its retry, the drift
    // check its re-listed watches trigger, or — if the outage outlasted the lease's renewal —
    // the start-up pass after it takes the lease again.
    world.start_sandbox(options());
    let done = d.wait_entry("web", "the work to complete", |e| {
        e["commit"] == commit.as_str() && e["outcome"] == "Succeeded"
    });
    let trigger = done["trigger"].as_str().unwrap();
    assert!(["retry", "drift", "startup"].contains(&trigger), "{done}");
    assert!(d.ready());
    assert_eq!(world.image("web", "web").as_deref(), Some("web:2"));
}

#[test]
fn a_force_push_is_followed_and_a_commit_it_removed_can_still_be_rolled_back_to() {
    let world = World::new(&[(WEB, &web("web:1"))], SandboxOptions::default());
    let d = world.serve(&["--repo-interval", "1s"]);
    d.wait_entry("web", "the first sync", |e| e["outcome"] == "Succeeded");
    let doomed = world.repo.commit_and_push(&[(WEB, &web("web:2"))], "web 2");
    let doomed_entry = d.wait_entry("web", "web 2", |e| {
        e["commit"] == doomed.as_str() && e["outcome"] == "Succeeded"
    });

    // History is rewritten: web 2 is gone from the branch, web 3 replaces it.
    git_support::git(&world.repo.work, &["reset", "-q", "--hard", "HEAD~1"]);
    world.repo.write(&[(WEB, &web("web:3"))]);
    let rewritten = world.repo.commit("web 3, rewritten");
    world.repo.force_push("main");
    d.wait_entry("web", "the rewritten branch", |e| {
        e["commit"] == rewritten.as_str() && e["outcome"] == "Succeeded"
    });
    assert_eq!(world.image("web", "web").as_deref(), Some("web:3"));

    // The removed commit's stored manifests still roll back exactly.
    let (code, answer) =
        d.post("/api/v1/apps/web/rollback", &format!("{{\"to\": \"{}\"}}", &doomed[..10]));
    assert_eq!(code, 202, "{answer}");
    assert_eq!(answer["pin"]["entry"], doomed_entry["id"]);
    d.wait_entry("web", "the rollback", |e| {
        e["trigger"] == "rollback" && e["outcome"] == "Succeeded"
    });
    assert_eq!(world.image("web", "web").as_deref(), Some("web:2"));
}
