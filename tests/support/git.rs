//! Test helpers: git repositories made with the git CLI, and `git daemon` on loopback.
//!
//! Include with `#[path = "support/git.rs"] mod git_support;`.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long any helper waits for a process to get ready; generous for a loaded machine.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs git with a clean, fixed environment in `dir` and returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A git command with identity and configuration isolated from the machine's.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

/// An upstream bare repository (`<root>/<name>.git`) and a work tree that pushes to it.
pub struct Upstream {
    pub bare: PathBuf,
    pub work: PathBuf,
}

impl Upstream {
    /// Creates `<root>/<name>.git` (bare, default branch `main`) and `<root>/<name>-work`.
    pub fn new(root: &Path, name: &str) -> Self {
        let bare = root.join(format!("{name}.git"));
        let work = root.join(format!("{name}-work"));
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Self { bare, work }
    }

    /// Writes files (creating directories) in the work tree.
    pub fn write(&self, files: &[(&str, &str)]) {
        for (path, content) in files {
            let full = self.work.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
    }

    /// Removes files from the work tree.
    pub fn remove(&self, paths: &[&str]) {
        for path in paths {
            std::fs::remove_file(self.work.join(path)).unwrap();
        }
    }

    /// Commits everything in the work tree and returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// Writes, commits and pushes to `main`; returns the commit id.
    pub fn commit_and_push(&self, files: &[(&str, &str)], message: &str) -> String {
        self.write(files);
        let id = self.commit(message);
        self.push("main");
        id
    }

    /// Pushes the work tree's HEAD to `branch`.
    pub fn push(&self, branch: &str) {
        git(&self.work, &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")]);
    }

    /// Force-pushes the work tree's HEAD to `branch`.
    pub fn force_push(&self, branch: &str) {
        git(&self.work, &["push", "-q", "--force", "origin", &format!("HEAD:refs/heads/{branch}")]);
    }

    /// Deletes `branch` upstream.
    pub fn delete_branch(&self, branch: &str) {
        git(&self.work, &["push", "-q", "origin", &format!(":refs/heads/{branch}")]);
    }

    /// The work tree's HEAD commit.
    pub fn head(&self) -> String {
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

/// A git helper program (`git-daemon`, `git-http-backend`) by its full path. Started through
/// the `git` wrapper it would run as a grandchild that killing the wrapper leaves behind.
pub fn git_program(name: &str) -> PathBuf {
    let out = Command::new("git").arg("--exec-path").output().expect("run git --exec-path");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join(name)
}

/// A free loopback port. Another process may take it before it is used; callers retry.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `git daemon` serving every repository under a base path, on loopback. Killed on drop.
pub struct GitDaemon {
    pub port: u16,
    child: Child,
}

impl GitDaemon {
    /// Starts a daemon exporting everything under `base`, and waits until it listens.
    pub fn start(base: &Path) -> Self {
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new(git_program("git-daemon"))
                .args(["--verbose", "--reuseaddr", "--export-all", "--informative-errors"])
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", base.display()))
                .arg(base)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn git daemon");
            let stderr = child.stderr.take().unwrap();
            let (ready_tx, ready_rx) = mpsc::channel();
            // Drains stderr for the daemon's whole life, so that its pipe never fills.
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("Ready to rumble") {
                        let _ = ready_tx.send(true);
                    } else if line.contains("unable to allocate any listen sockets") {
                        let _ = ready_tx.send(false);
                    }
                }
            });
            match ready_rx.recv_timeout(READY_TIMEOUT) {
                Ok(true) => return Self { port, child },
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("git daemon did not start");
    }

    /// The git:// URL of `<base>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
