//! Test helpers for the daemon: a config repository (git CLI) served by `git daemon`, a
//! sandbox in the test process (so its request counters can be read), and `cetus serve` as a
//! real process against both, with a small HTTP client for its API and the sandbox's.
//!
//! Include with `#[path = "support/git.rs"] mod git_support;` and
//! `#[path = "support/daemon.rs"] mod daemon;`.
#![allow(dead_code)] // each test binary uses a different subset

use super::git_support::{GitDaemon, Upstream, free_port};
use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The API token and webhook secret every test daemon uses.
pub const TOKEN: &str = "test-token";
/// The webhook secret.
pub const SECRET: &str = "test-secret";

/// A config repository, a sandbox, and the files a daemon needs.
pub struct World {
    pub dir: tempfile::TempDir,
    sandbox: Option<SandboxHandle>,
    pub repo: Upstream,
    pub git: GitDaemon,
    pub kubeconfig: PathBuf,
}

impl World {
    /// A repository holding `files` (committed and pushed), a sandbox with `options`.
    pub fn new(files: &[(&str, &str)], options: SandboxOptions) -> World {
        let dir = tempfile::tempdir().unwrap();
        let repo = Upstream::new(dir.path(), "config");
        repo.commit_and_push(files, "initial");
        let git = GitDaemon::start(dir.path());
        let sandbox = Sandbox::spawn(options).expect("the sandbox starts");
        let kubeconfig = dir.path().join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).unwrap();
        std::fs::write(dir.path().join("token"), TOKEN).unwrap();
        std::fs::write(dir.path().join("secret"), SECRET).unwrap();
        World { dir, sandbox: Some(sandbox), repo, git, kubeconfig }
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &SandboxHandle {
        self.sandbox.as_ref().expect("the sandbox runs")
    }

    /// Stops the sandbox, its data flushed: the API server goes away.
    pub fn stop_sandbox(&mut self) {
        let old = self.sandbox.take().expect("the sandbox runs");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(old.shutdown()).expect("the sandbox stops");
    }

    /// Starts the sandbox again with `options`: for objects to survive and clients to find
    /// it, they name the first start's `data_dir` and its fixed `listen` address.
    pub fn start_sandbox(&mut self, options: SandboxOptions) {
        self.sandbox = Some(Sandbox::spawn(options).expect("the sandbox starts again"));
    }

    /// The config repository's URL.
    pub fn url(&self) -> String {
        self.git.url("config.git")
    }

    /// Starts `cetus serve` with the usual flags and `extra` ones; waits until it is ready.
    pub fn serve(&self, extra: &[&str]) -> Daemon {
        self.daemon(extra).started("/readyz")
    }

    /// Starts `cetus serve` and waits only until it answers (it may be waiting for the lease).
    pub fn serve_standby(&self, extra: &[&str]) -> Daemon {
        self.daemon(extra).started("/healthz")
    }

    /// Starts `cetus serve` without `--kubeconfig`, with `env` set (`None` removes a
    /// variable), as in a pod; waits until it is ready.
    pub fn serve_in_cluster(&self, env: &[(&str, Option<&str>)], extra: &[&str]) -> Daemon {
        let mut daemon = self.daemon(extra);
        let at = daemon.args.iter().position(|a| a == "--kubeconfig").unwrap();
        daemon.args.drain(at..at + 2);
        daemon.env = env.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect();
        daemon.started("/readyz")
    }

    fn daemon(&self, extra: &[&str]) -> Daemon {
        let port = free_port();
        let path = |p: &str| self.dir.path().join(p).display().to_string();
        let log = self.dir.path().join(format!("daemon-{port}.log"));
        let mut args: Vec<String> = [
            "serve",
            "--repo-url",
            &self.url(),
            "--profile",
            "staging",
            "--apps",
            "apps/*/cetus.yaml",
            "--store",
            &path("store"),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--kubeconfig",
            &path("kubeconfig"),
            "--api-token-file",
            &path("token"),
            "--webhook-secret-file",
            &path("secret"),
            "--health-timeout",
            "10s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let url = format!("http://127.0.0.1:{port}");
        Daemon { child: None, url, args, env: Vec::new(), log }
    }

    /// GET on the sandbox's API: the object as JSON, or `None` for 404.
    pub fn object(&self, path: &str) -> Option<Value> {
        let (code, body) = http(&self.sandbox().url(), "GET", path, &[], "");
        match code {
            200 => Some(body),
            404 => None,
            other => panic!("GET {path}: {other} {body}"),
        }
    }

    /// A Deployment's first container image.
    pub fn image(&self, namespace: &str, name: &str) -> Option<String> {
        let path = format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
        self.object(&path).map(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_string()
        })
    }

    /// Runs kubectl against the sandbox.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A `cetus serve` process (killed on drop).
pub struct Daemon {
    child: Option<Child>,
    pub url: String,
    args: Vec<String>,
    env: Vec<(String, Option<String>)>,
    log: PathBuf,
}

impl Daemon {
    fn started(mut self, probe: &str) -> Daemon {
        let log = std::fs::File::create(&self.log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cetus"));
        command.args(&self.args).env("RUST_LOG", "info,cetus=debug");
        for (name, value) in &self.env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let child = command.stdout(Stdio::null()).stderr(log).spawn().expect("cetus serve starts");
        self.child = Some(child);
        self.wait("the daemon to answer", Duration::from_secs(60), |d| {
            d.try_get(probe).is_some_and(|(c, _)| c == 200)
        });
        self
    }

    /// Starts the same daemon again (same store, same flags).
    pub fn restart(mut self) -> Daemon {
        self.kill();
        let again = Daemon {
            child: None,
            url: self.url.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            log: self.log.clone(),
        };
        again.started("/readyz")
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether its `/readyz` answers 200 (it leads and its first pass is done).
    pub fn ready(&self) -> bool {
        self.try_get("/readyz").is_some_and(|(c, _)| c == 200)
    }

    /// SIGTERM, then waits for the exit; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        child.wait().unwrap().success()
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn try_get(&self, path: &str) -> Option<(u16, Value)> {
        try_http(&self.url, "GET", path, &[], "")
    }

    /// GET on the daemon's API.
    pub fn get(&self, path: &str) -> (u16, Value) {
        http(&self.url, "GET", path, &[], "")
    }

    /// POST with the token.
    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {TOKEN}");
        http(&self.url, "POST", path, &[("Authorization", &auth)], body)
    }

    /// POST with these headers.
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        http(&self.url, "POST", path, headers, body)
    }

    /// Sends a GitHub push webhook, signed with [`SECRET`], for `commit` of `clone_url`.
    pub fn push_webhook(&self, clone_url: &str, commit: &str) -> (u16, Value) {
        let body = github_push(clone_url, commit);
        let signature = github_signature(&body);
        let headers = [
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", signature.as_str()),
            ("Content-Type", "application/json"),
        ];
        self.post_with("/webhooks/github", &headers, &body)
    }

    /// An app's history, newest first.
    pub fn history(&self, app: &str) -> Vec<Value> {
        let (code, body) = self.get(&format!("/api/v1/apps/{app}/history"));
        assert_eq!(code, 200, "{body}");
        body.as_array().unwrap().clone()
    }

    /// An app's status.
    pub fn status(&self, app: &str) -> Value {
        let (code, body) = self.get(&format!("/api/v1/apps/{app}"));
        assert_eq!(code, 200, "{body}");
        body
    }

    /// Waits until `done` holds, failing with the daemon's log after `timeout`.
    pub fn wait(&self, what: &str, timeout: Duration, done: impl Fn(&Daemon) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; daemon log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the app's newest history entry is finished and `check` accepts it.
    pub fn wait_entry(&self, app: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        self.wait(what, Duration::from_secs(60), |d| {
            d.history_or_empty(app).first().is_some_and(|e| e["outcome"] != "Running" && check(e))
        });
        self.history(app)[0].clone()
    }

    fn history_or_empty(&self, app: &str) -> Vec<Value> {
        match self.try_get(&format!("/api/v1/apps/{app}/history")) {
            Some((200, body)) => body.as_array().cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request; panics if the server cannot be reached.
pub fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    try_http(base, method, path, headers, body)
        .unwrap_or_else(|| panic!("{method} {base}{path}: no answer"))
}

/// One HTTP/1.1 request; `None` if the server cannot be reached. A body that is not JSON is
/// returned as a JSON string.
pub fn try_http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, Value)> {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let code = text.get(9..12)?.parse().ok()?;
    let (head, raw) = text.split_once("\r\n\r\n")?;
    let raw = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_string()
    };
    let value = serde_json::from_str(&raw).unwrap_or(Value::String(raw));
    Some((code, value))
}

fn dechunk(mut raw: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        raw = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The `X-Hub-Signature-256` of a body.
pub fn github_signature(body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A GitHub push event body.
pub fn github_push(clone_url: &str, after: &str) -> String {
    serde_json::json!({
        "ref": "refs/heads/main",
        "before": "0000000000000000000000000000000000000000",
        "after": after,
        "repository": {"clone_url": clone_url},
        "commits": [],
    })
    .to_string()
}
