//! The real `cetus sync` binary, one process per app, with `--store` so that inventories and
//! memories persist between runs in sled, as a pipeline that keeps its store would run it. It
//! owns the processes and the parsing of what they print; it renders nothing itself (the
//! binary renders the app from the repo, as a user's run does, and that is timed).
//!
//! Its HTTP requests are not counted client-side (the process's client is its own); the
//! sandbox's counters are.

use crate::measure::{Measured, take_counts};
use crate::repo::Repo;
use cetus_sandbox::SandboxHandle;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `cetus sync` against one sandbox.
pub struct CetusCli {
    kubeconfig: PathBuf,
    store: PathBuf,
}

impl CetusCli {
    /// Writes the sandbox's kubeconfig under `scratch`; the store goes there too.
    pub fn new(sandbox: &SandboxHandle, scratch: &Path) -> CetusCli {
        let dir = scratch.join("cetus-cli");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let kubeconfig = dir.join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).expect("write the kubeconfig");
        CetusCli { kubeconfig, store: dir.join("store") }
    }

    /// Runs `cetus sync APP --profile P --prune --store S` for each app, one after another.
    pub fn sync(&self, sandbox: &SandboxHandle, apps: &[usize], repo: &Repo) -> Measured {
        let mut measured = Measured::default();
        for &i in apps {
            sandbox.reset_request_counts();
            let mut command = Command::new(env!("CARGO_BIN_EXE_cetus"));
            command
                .arg("sync")
                .arg(repo.app_dir(i))
                .args(["--profile", crate::repo::PROFILE, "--prune"])
                .arg("--store")
                .arg(&self.store)
                .arg("--kubeconfig")
                .arg(&self.kubeconfig);
            let start = Instant::now();
            let out = command.output().expect("cetus runs");
            let wall = start.elapsed();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "cetus sync {} failed ({}): {}{}",
                Repo::name(i),
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
            measured.add_run(wall, take_counts(sandbox), None);
            measured.add_changes(&summary(&stdout, &Repo::name(i)));
        }
        measured
    }
}

/// The counts of the summary line `app00: 1 applied, 19 unchanged, 0 pruned, ...`.
fn summary(stdout: &str, app: &str) -> Vec<(&'static str, usize)> {
    let prefix = format!("{app}: ");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("cetus sync printed no summary for {app}: {stdout}"));
    let count = |word: &str| {
        line.split(", ").find_map(|part| part.strip_suffix(word)?.trim().parse().ok()).unwrap_or(0)
    };
    ["applied", "unchanged", "pruned", "skipped"].map(|w| (w, count(w))).to_vec()
}
