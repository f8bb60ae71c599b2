//! `cetus sync [DIR] --profile P [--prune] [--dry-run] [--wait] [--timeout D] [--store DIR]`.
//!
//! Renders the app in DIR (or every app below it) and makes the cluster match, printing one
//! line per object and a summary per app. Without `--store`, nothing is kept between runs:
//! the inventory a prune needs is rebuilt from the cluster's labels and unchanged objects are
//! found by server-side dry runs. With `--store DIR`, the inventory, what the engine remembers
//! of each object (so a no-op run writes nothing and lists once per kind) and a history entry
//! per sync are kept in that sled directory, as the daemon keeps them.
//!
//! Exit codes: 0 synced (and healthy, with `--wait`); 1 invalid input, or a sync that failed,
//! timed out or ended degraded; 2 the cluster or the store could not be reached.

use super::cluster::ClusterArgs;
use super::progress::ProgressDisplay;
use super::{Failure, Output, render::render_dir};
use crate::engine::{Engine, SyncOptions, SyncReport, SyncRequest};
use crate::render::Rendered;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `cetus sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An app directory (holding cetus.yaml), or a directory whose apps are all synced.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The environment to sync.
    #[arg(long, short)]
    pub profile: String,
    /// Delete what the last sync applied and the render no longer has.
    #[arg(long)]
    pub prune: bool,
    /// Ask the server what would change; change nothing in the cluster or the store.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until the apps are healthy (exit 1 if one is degraded or the timeout passes).
    #[arg(long)]
    pub wait: bool,
    /// How long each wait may take.
    #[arg(long, default_value = "5m", value_parser = super::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Let a render with no objects prune everything the last sync left.
    #[arg(long)]
    pub allow_empty: bool,
    /// Keep inventories, memories and history in this directory between runs.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Runs `cetus sync`.
pub fn run(args: Args) -> Result<(), Failure> {
    let rendered = render_dir(&args.dir, Some(&args.profile), Vec::new())?;
    let store = match &args.store {
        Some(dir) if !args.dry_run || dir.exists() => Some(super::open_store(dir)?),
        _ => None,
    };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let engine = args.cluster.engine().await?;
        let mut failed = Vec::new();
        for app in &rendered {
            let report = sync_one(&engine, app, &args, store.as_ref()).await?;
            print(app, &report, &args);
            if let Some(error) = &report.error {
                failed.push(format!("{}: {error}", app.app));
            }
        }
        if let Some(store) = &store {
            store.flush().map_err(|e| Failure::io(super::cluster::chain(&e)))?;
        }
        if failed.is_empty() { Ok(()) } else { Err(Failure::input(failed.join("\n"))) }
    })
}

async fn sync_one(
    engine: &Engine,
    app: &Rendered,
    args: &Args,
    store: Option<&crate::store::Store>,
) -> Result<SyncReport, Failure> {
    let options = SyncOptions {
        prune: args.prune,
        dry_run: args.dry_run,
        allow_empty: args.allow_empty,
        wait: args.wait,
        timeout: args.timeout,
        progress: args
            .wait
            .then(|| ProgressDisplay::new(std::io::stderr().is_terminal()).callback()),
        ..SyncOptions::default()
    };
    let kept = match store {
        Some(store) => super::store_state::Kept::load(store, &app.app)?,
        None => super::store_state::Kept::default(),
    };
    let request = SyncRequest {
        app: &app.app,
        namespace: &app.namespace,
        objects: &app.objects,
        previous: kept.inventory.as_ref(),
        memory: &kept.memory,
    };
    match store.filter(|_| !args.dry_run) {
        Some(store) => {
            super::store_state::recorded(store, engine, app, &args.dir, request, &options).await
        }
        None => Ok(engine.sync(request, &options).await),
    }
}

fn print(app: &Rendered, report: &SyncReport, args: &Args) {
    if args.output == Output::Json {
        let json = serde_json::json!({
            "app": app.app,
            "namespace": app.namespace,
            "digest": app.digest,
            "dryRun": args.dry_run,
            "changes": report.changes,
            "counts": report.changes.counts(),
            "health": report.health,
            "error": report.error.as_ref().map(ToString::to_string),
        });
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return;
    }
    let suffix = if args.dry_run { " (dry run)" } else { "" };
    for change in &report.changes.changes {
        println!("{change}{suffix}");
    }
    let health = match &report.health {
        Some(health) => format!(", {}", health.status),
        None => String::new(),
    };
    println!("{}: {}{health}{suffix}", app.app, report.changes.counts());
}
