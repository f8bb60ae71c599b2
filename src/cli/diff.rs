//! `cetus diff [DIR] --profile P`: what a sync would change, as unified diffs of live objects
//! against the server's dry-run answer, Secret values masked, in colour on a terminal.
//!
//! Exit codes, as `diff` and `kubectl diff`: 0 no difference, 1 differences, 2 an error
//! (invalid input included: nothing could be compared).

use super::cluster::ClusterArgs;
use super::{Failure, Output, render::render_dir};
use crate::engine::{SyncRequest, diff};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `cetus diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An app directory (holding cetus.yaml), or a directory whose apps are all compared.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The environment to compare.
    #[arg(long, short)]
    pub profile: String,
    /// Also show what a `sync --prune` would delete.
    #[arg(long)]
    pub prune: bool,
    /// Read inventories and memories from this store (as `cetus sync --store` keeps them).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format (`json`: a list of `{key, change, text}`).
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Runs `cetus diff`; `Ok(true)` when there are differences.
pub fn run(args: Args) -> Result<bool, Failure> {
    let as_error = |f: Failure| Failure::io(f.message);
    let rendered = render_dir(&args.dir, Some(&args.profile), Vec::new()).map_err(as_error)?;
    let store =
        args.store.as_ref().filter(|d| d.exists()).map(|d| super::open_store(d)).transpose()?;
    let runtime = super::runtime()?;
    let diffs = runtime.block_on(async {
        let engine = args.cluster.engine().await?;
        let mut all = Vec::new();
        for app in &rendered {
            let kept = match &store {
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
            let diffs = engine
                .diff(request, args.prune)
                .await
                .map_err(|e| Failure::io(format!("{}: {e}", app.app)))?;
            all.extend(diffs);
        }
        Ok::<_, Failure>(all)
    })?;
    let text = match args.output {
        Output::Json => format!("{}\n", serde_json::to_string_pretty(&diffs).unwrap_or_default()),
        Output::Text => diff::render(&diffs, std::io::stdout().is_terminal()),
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| Failure::io(e.to_string()))?;
    Ok(!diffs.is_empty())
}
