//! The `cetus` binary as scripts use it: exit codes, what goes to stdout and stderr, files.

#[path = "support/git.rs"]
mod git_support;
#[path = "support/unreadable.rs"]
mod unreadable;

use std::path::Path;
use std::process::{Command, Output};

fn cetus(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cetus")).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config-repo-example"))
}

#[test]
fn render_prints_manifests_and_exits_0() {
    let out = cetus(&["render", "apps/hello", "--profile", "prod"], example());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello-prod\n"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("\n---\n").count() + 1, 3, "Namespace, Service, Deployment");
}

#[test]
fn render_json_is_a_list_and_set_overrides_the_profile() {
    let out = cetus(
        &["render", "apps/hello", "-p", "prod", "--set", "services.hello.replicas=5", "-o", "json"],
        example(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let deployment =
        list["items"].as_array().unwrap().iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 5);
}

#[test]
fn render_of_a_directory_renders_every_app_and_notes_missing_profiles() {
    let out = cetus(&["render", ".", "--profile", "staging", "-o", "json"], example());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let namespaces: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(namespaces, ["wickedev--bookinfo", "hello", "payments--ledger"]);
    assert!(
        text(&out.stderr).contains("note: config-repo-example/lib/postgres: no profile `staging`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invalid_input_exits_1_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cetus.yaml"),
        "name: a\nservices:\n  web: { image: r:1, replicas: x }\n",
    )
    .unwrap();
    let out = cetus(&["render", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "error: cetus.yaml:3:32: services.web.replicas: invalid type: string \"x\", expected an integer\n"
    );
}

/// An app in a fresh directory with `manifests: [manifests]` and one good manifest.
fn app_with_manifests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    std::fs::write(dir.path().join("cetus.yaml"), "name: a\nmanifests: [manifests]\n").unwrap();
    std::fs::write(
        dir.path().join("manifests/ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ok }\n",
    )
    .unwrap();
    dir
}

#[test]
fn render_exits_1_naming_a_broken_symlink_under_manifests() {
    let dir = app_with_manifests();
    std::os::unix::fs::symlink("gone.yaml", dir.path().join("manifests/broken.yaml")).unwrap();
    let out = cetus(&["render", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    // Found while looking for apps, before the render: a directory that cannot be listed
    // in full might hide an app.
    assert_eq!(
        text(&out.stderr),
        "error: manifests/broken.yaml: symlink to gone.yaml is broken: nothing exists there\n"
    );
}

#[test]
fn render_exits_1_naming_an_unreadable_file_under_manifests() {
    let dir = app_with_manifests();
    std::fs::write(dir.path().join("manifests/secret.yaml"), "kind: Secret\n").unwrap();
    unreadable::make_unreadable(&dir.path().join("manifests/secret.yaml"));
    let root = dir.path().canonicalize().unwrap();
    // Started from a thread without CAP_DAC_OVERRIDE, so root meets the file's mode too.
    let out = unreadable::without_override(|| cetus(&["render", "."], dir.path()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: manifests/secret.yaml: cannot read from {}: Permission denied (os error 13)\n",
            root.display()
        )
    );
}

#[test]
fn render_exits_1_naming_a_file_over_the_size_cap() {
    let dir = app_with_manifests();
    std::fs::write(dir.path().join("manifests/big.yaml"), vec![b'#'; 1024 * 1024 + 1]).unwrap();
    let out = cetus(&["render", "."], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: manifests/big.yaml: file is larger than 1 MiB, the most that is read from one file\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = cetus(&["render", "--no-such-flag"], example());
    assert_eq!(out.status.code(), Some(2));
    let out = cetus(&["set-image", "web"], example());
    assert_eq!(out.status.code(), Some(2), "NAME=REF is required");
}

const COMMENTED: &str = r#"# Bookinfo's web front end.
name: web   # the app

images:
  # Bumped by CI on every merge to master.
  web:
    repository: registry.example.com/web   # our registry
    tag: 'master-1a2b3c4d'                 # quoted on purpose
  sidecar: { repository: envoyproxy/envoy, tag: v1.29.0 }

services:
  web: { image: web, ports: [ { port: 80 } ] }

profiles:
  staging:
    replace:
      images.web.tag: develop-9f8e7d6c     # staging follows develop
"#;

#[test]
fn set_image_changes_exactly_the_tag_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("apps/web/cetus.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, COMMENTED).unwrap();

    let out =
        cetus(&["set-image", "web=registry.example.com/web:master-5e6f7a8b", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "./apps/web/cetus.yaml: images.web.tag: master-1a2b3c4d → master-5e6f7a8b\n"
    );
    let expected = COMMENTED.replace("'master-1a2b3c4d'", "'master-5e6f7a8b'");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), expected);

    let out = cetus(
        &["set-image", "web=registry.example.com/web:develop-0", "--profile", "staging"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected =
        expected.replace("images.web.tag: develop-9f8e7d6c", "images.web.tag: develop-0");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), expected);
}

#[test]
fn set_image_exits_1_when_no_image_has_that_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cetus.yaml"), COMMENTED).unwrap();
    let out = cetus(&["set-image", "api=r/api:v2"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "error: no cetus.yaml has an image `api`\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("cetus.yaml")).unwrap(), COMMENTED);
}

#[test]
fn render_resolves_git_dependencies_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let lib = git_support::Upstream::new(dir.path(), "lib");
    lib.commit_and_push(
        &[("redis/cetus.yaml", "name: redis\nservices:\n  redis: { image: \"redis:7.2\" }\n")],
        "redis",
    );
    git_support::git(&lib.work, &["tag", "v1"]);
    git_support::git(&lib.work, &["push", "-q", "origin", "v1"]);
    let daemon = git_support::GitDaemon::start(dir.path());
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let spec = format!(
        "name: shop\ndependencies:\n  cache: {{ git: \"{}\", ref: v1, path: redis }}\n",
        daemon.url("lib.git")
    );
    std::fs::write(app.join("cetus.yaml"), spec).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["render", ".", "-o", "json"])
        .current_dir(&app)
        .env("CETUS_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let deployment =
        list["items"].as_array().unwrap().iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(
        deployment["metadata"]["namespace"], "shop",
        "rendered into the depending app's namespace"
    );
    assert!(dir.path().join("cache/git").is_dir(), "the mirror is cached");
}

#[test]
fn render_resolves_a_git_dependency_on_a_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let lib = git_support::Upstream::new(dir.path(), "lib");
    lib.commit_and_push(
        &[("redis/cetus.yaml", "name: redis\nservices:\n  redis: { image: \"redis:7.2\" }\n")],
        "redis",
    );
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let url = format!("file://{}", lib.bare.display());
    let spec = format!(
        "name: shop\ndependencies:\n  cache: {{ git: \"{url}\", ref: main, path: redis }}\n"
    );
    std::fs::write(app.join("cetus.yaml"), spec).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["render", ".", "-o", "json"])
        .current_dir(&app)
        .env("CETUS_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<_> =
        list["items"].as_array().unwrap().iter().map(|o| o["kind"].clone()).collect();
    assert_eq!(kinds, ["Namespace", "Deployment"]);
}

#[test]
fn stdin_vars_read_piped_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cetus.yaml"),
        "name: a\nvars:\n  token: { stdin: true }\nservices:\n  web:\n    image: r:1\n    env: { TOKEN: \"${token}\" }\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cetus"))
        .args(["render", ".", "-o", "json"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let deployment =
        list["items"].as_array().unwrap().iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["env"],
        serde_json::json!([{ "name": "TOKEN", "value": "s3cret" }])
    );
}
