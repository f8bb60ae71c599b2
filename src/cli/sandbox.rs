//! `cetus sandbox`: runs the sandbox API server (crate `cetus-sandbox`) until Ctrl-C or
//! SIGTERM, printing its address and optionally writing a kubeconfig for it (and, with
//! `--tls`, its CA next to it).

use super::Failure;
use anyhow::Context;
use cetus_sandbox::{Sandbox, SandboxOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `cetus sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Write a kubeconfig pointing at the sandbox to this file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Persist objects in this directory (sled); without it everything is in memory.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Latency added to every API request, e.g. `10ms`.
    #[arg(long, value_parser = parse_latency, value_name = "DURATION")]
    pub latency: Option<Duration>,
    /// Serve https only, with a CA and a serving certificate generated at start.
    #[arg(long)]
    pub tls: bool,
    /// Require this bearer token on every API request (the kubeconfig carries it).
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub token: Option<String>,
}

fn parse_token(text: &str) -> Result<String, String> {
    if text.is_empty() || text.trim() != text {
        return Err("a token must not be empty nor start or end with white space".into());
    }
    Ok(text.to_string())
}

fn parse_latency(text: &str) -> Result<Duration, String> {
    cetus_sandbox::parse_duration(text).map_err(|e| e.to_string())
}

/// Runs the sandbox until a signal arrives.
pub fn run(args: Args) -> Result<(), Failure> {
    serve(args).map_err(|e| Failure::io(format!("{e:#}")))
}

fn serve(args: Args) -> anyhow::Result<()> {
    // Another layer may have installed a subscriber already; keep it then.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let options = SandboxOptions {
            listen: args.listen,
            data_dir: args.data,
            latency: args.latency.unwrap_or_default(),
            tls: args.tls,
            token: args.token,
            ..SandboxOptions::default()
        };
        let handle = Sandbox::start(options).await?;
        say(&format!("sandbox listening on {}", handle.url()));
        if let Some(path) = &args.kubeconfig_out {
            handle.write_kubeconfig(path)?;
            say(&format!("kubeconfig written to {}", path.display()));
            if handle.ca_pem().is_some() {
                let ca = cetus_sandbox::ca_path(path);
                say(&format!("CA certificate written to {}", ca.display()));
            }
        }
        wait_for_signal().await?;
        handle.shutdown().await?;
        Ok(())
    })
}

/// Prints a line; a reader that went away (a closed pipe) must not stop the server.
fn say(line: &str) {
    use std::io::Write;
    // Ignored on purpose: stdout is informational, the server keeps serving without it.
    let _ = writeln!(std::io::stdout(), "{line}");
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}
