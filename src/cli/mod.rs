//! The command line: argument types (clap) and one file per subcommand.
//!
//! Each subcommand returns `Ok` or a [`Failure`] that says which exit code it deserves: 1 for
//! bad input, 2 for usage errors (clap's own) and failures to run at all, so scripts and CI
//! can tell them apart. This layer is the only place that prints.

mod cluster;
mod diff;
mod install;
mod progress;
mod remote;
mod render;
mod sandbox;
mod serve;
mod set_image;
mod store_state;
mod sync;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Cetus: a pull-based GitOps reconciler for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "cetus", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render apps to Kubernetes manifests.
    Render(render::Args),
    /// Show what a sync would change in the cluster (exit 0: nothing, 1: differences, 2: error).
    Diff(diff::Args),
    /// Make the cluster match the rendered apps.
    Sync(sync::Args),
    /// Run the daemon: follow a config repository and keep the cluster in step with it.
    Serve(Box<crate::daemon::config::ServeArgs>),
    /// Show the daemon's apps: revision, sync, health, pin, last sync.
    Status(remote::StatusArgs),
    /// Show an app's sync history, one entry, or what one sync changed (`--diff`).
    History(remote::HistoryArgs),
    /// Pin an app to an earlier history entry and apply it.
    Rollback(remote::RollbackArgs),
    /// Remove an app's pin: follow the branch again.
    Unpin(remote::UnpinArgs),
    /// Point an image at a new tag in cetus.yaml files, keeping their layout.
    SetImage(set_image::Args),
    /// Run the sandbox Kubernetes API server (for tests and the quickstart).
    Sandbox(sandbox::Args),
    /// Install (or upgrade) Cetus in a cluster: the daemon, its RBAC, config and store.
    Install(install::InstallArgs),
    /// Remove what `cetus install` applied; the apps Cetus deployed stay.
    Uninstall(install::UninstallArgs),
}

/// Output formats of commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// YAML documents.
    Yaml,
    /// JSON.
    Json,
}

/// Output formats of commands that report what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// JSON.
    Json,
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Invalid input (exit 1).
    pub fn input(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    /// The command could not do its work (exit 2): I/O, unreachable servers.
    pub fn io(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Render(args) => render::run(args),
        Command::Diff(args) => match diff::run(args) {
            Ok(false) => Ok(()),
            Ok(true) => return ExitCode::from(1),
            Err(failure) => Err(Failure { code: 2, ..failure }),
        },
        Command::Sync(args) => sync::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Status(args) => remote::status(args),
        Command::History(args) => remote::history(args),
        Command::Rollback(args) => remote::rollback(args),
        Command::Unpin(args) => remote::unpin(args),
        Command::SetImage(args) => set_image::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            for line in failure.message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(failure.code)
        }
    }
}

/// Where the CLI caches fetched repositories (`git` dependencies): `$CETUS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/cetus`, else `~/.cache/cetus`, else a directory under the system temp dir.
pub fn cache_dir() -> PathBuf {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("CETUS_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("cetus")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/cetus")))
        .unwrap_or_else(|| std::env::temp_dir().join("cetus-cache"))
}

/// The repository a path belongs to: the nearest ancestor holding `.git`, else the path.
pub fn repo_root(dir: &Path) -> PathBuf {
    dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(dir).to_path_buf()
}

/// A Go-style duration (`90s`, `5m`, `1h30m`), as kubectl's flags take them.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    cetus_sandbox::parse_duration(text).map_err(|e| e.to_string())
}

/// The async runtime of the commands that talk to a cluster.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new()
        .map_err(|e| Failure::io(format!("cannot start the async runtime: {e}")))
}

/// Opens a store directory (creating it), or says why not.
fn open_store(dir: &Path) -> Result<crate::store::Store, Failure> {
    crate::store::Store::open(dir).map_err(|e| Failure::io(cluster::chain(&e)))
}

/// The commit checked out where `dir` is, for history.
struct HeadCommit {
    id: String,
    author: String,
    subject: String,
}

/// `HEAD` of the git repository `dir` is in, if it is in one.
fn commit_of(dir: &Path) -> Option<HeadCommit> {
    let repo = git2::Repository::discover(dir).ok()?;
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    let author = commit.author();
    Some(HeadCommit {
        id: commit.id().to_string(),
        author: format!(
            "{} <{}>",
            author.name().unwrap_or_default(),
            author.email().unwrap_or_default()
        ),
        subject: commit.summary().ok().flatten().unwrap_or_default().to_string(),
    })
}
