//! `cetus install [--namespace N] [--config F] [--image I] [--dry-run]` and `cetus uninstall
//! [--dry-run]`, each with `--kubeconfig F` and `--context C`.
//!
//! Both drive [`crate::install`]: install applies the manifests embedded in the binary as the
//! app `cetus` (idempotent; pruning what this version no longer ships) and then names the
//! Secrets its config reads that the namespace lacks; uninstall deletes that app's objects
//! except its Namespace, and leaves every app Cetus deployed in place. Nothing is kept
//! locally: each run finds the install by its labels. Output is one line per object and a
//! summary, as `cetus sync` prints them.
//!
//! Exit codes: 0 done; 1 a bad `--config`, or objects that could not be applied or deleted;
//! 2 the cluster could not be reached (or a file read).

use super::cluster::{ClusterArgs, chain};
use super::{Failure, Output};
use crate::engine::{Engine, EngineOptions};
use crate::install::{
    self, DEFAULT_NAMESPACE, InstallOptions, MANIFESTS, Outcome, UninstallOptions,
};
use std::path::PathBuf;

/// Arguments of `cetus install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The namespace to install into (an install already elsewhere is moved here).
    #[arg(long, short, default_value = DEFAULT_NAMESPACE, value_parser = namespace)]
    pub namespace: String,
    /// The daemon's config file (cetusd.yaml) to install; default: the example config, whose
    /// repo.url and profile are to be replaced.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The daemon's image (default: cetus:<this version>, to be pushed to a registry the
    /// cluster pulls from).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Ask the server what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Arguments of `cetus uninstall`.
#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// Say what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn namespace(text: &str) -> Result<String, String> {
    match crate::spec::is_dns_label(text, 63) {
        true => Ok(text.to_string()),
        false => Err(format!("{text:?} is not a namespace name (a DNS-1123 label)")),
    }
}

/// Runs `cetus install`.
pub fn install(args: InstallArgs) -> Result<(), Failure> {
    let config = match &args.config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::io(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let options = InstallOptions {
        namespace: args.namespace.clone(),
        config,
        image: args.image.clone(),
        dry_run: args.dry_run,
    };
    // Refuse a bad config before connecting.
    install::manifests::objects(MANIFESTS, &options).map_err(|e| Failure::input(chain(&e)))?;
    super::runtime()?.block_on(async {
        let engine = connect(&args.cluster).await?;
        let done = install::install(&engine, MANIFESTS, &options)
            .await
            .map_err(|e| Failure::io(chain(&e)))?;
        print(&done, args.output, args.dry_run);
        if let Some(error) = &done.report.error {
            return Err(Failure::input(format!("{}: {error}", install::APP_NAME)));
        }
        if args.output == Output::Text {
            for namespace in &done.kept {
                eprintln!(
                    "note: {namespace} kept: the install is in {} now; `kubectl delete namespace {}` removes the old one",
                    options.namespace, namespace.name
                );
            }
        }
        if !args.dry_run {
            secret_notes(&engine, &options).await;
        }
        Ok(())
    })
}

/// Runs `cetus uninstall`.
pub fn uninstall(args: UninstallArgs) -> Result<(), Failure> {
    super::runtime()?.block_on(async {
        let engine = connect(&args.cluster).await?;
        let options = UninstallOptions { dry_run: args.dry_run };
        let done = install::uninstall(&engine, &options)
            .await
            .map_err(|e| Failure::io(chain(&e)))?;
        print(&done, args.output, args.dry_run);
        if args.output == Output::Text {
            for namespace in &done.kept {
                eprintln!(
                    "note: {namespace} kept, with what else is in it (the Secrets you created); `kubectl delete namespace {}` removes it",
                    namespace.name
                );
            }
            eprintln!("note: the apps Cetus deployed are left as they are, no longer reconciled");
        }
        match &done.report.error {
            Some(error) => Err(Failure::input(format!("{}: {error}", install::APP_NAME))),
            None => Ok(()),
        }
    })
}

async fn connect(cluster: &ClusterArgs) -> Result<Engine, Failure> {
    let client = cluster.client().await?;
    Engine::new(client, EngineOptions::default()).await.map_err(|e| Failure::io(chain(&e)))
}

fn print(done: &Outcome, output: Output, dry_run: bool) {
    let report = &done.report;
    if output == Output::Json {
        let kept: Vec<String> = done.kept.iter().map(ToString::to_string).collect();
        let json = serde_json::json!({
            "app": install::APP_NAME,
            "dryRun": dry_run,
            "changes": report.changes,
            "counts": report.changes.counts(),
            "kept": kept,
            "error": report.error.as_ref().map(ToString::to_string),
        });
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return;
    }
    let suffix = if dry_run { " (dry run)" } else { "" };
    for change in &report.changes.changes {
        println!("{change}{suffix}");
    }
    println!("{}: {}{suffix}", install::APP_NAME, report.changes.counts());
}

/// Tells which Secrets the installed config reads that are not there yet, and how to make
/// them. Only a note: the daemon's pod names the missing file in its log too.
async fn secret_notes(engine: &Engine, options: &InstallOptions) {
    let Some(config) = install::manifests::config_text(MANIFESTS, options) else { return };
    let namespace = &options.namespace;
    match install::missing_secrets(engine, namespace, &config).await {
        Ok(missing) => {
            for secret in missing {
                eprintln!(
                    "note: Secret {namespace}/{name} is missing and the config reads {dir}/: kubectl -n {namespace} create secret generic {name} {create}",
                    name = secret.secret,
                    dir = secret.dir,
                    create = secret.create,
                );
            }
        }
        Err(e) => eprintln!("note: cannot check the Secrets the config reads: {}", e.chain()),
    }
}
