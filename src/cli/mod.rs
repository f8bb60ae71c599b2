//! The command line: argument types (clap) and one file per subcommand.
//!
//! Each subcommand returns an [`ExitCode`]; errors become a message on stderr and exit 1 (bad
//! input) or 2 (usage), so scripts and CI can tell them apart. This layer is the only place
//! that prints to stdout.

pub mod sandbox;

use clap::{Parser, Subcommand};
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
    /// Run the sandbox Kubernetes API server (for tests and the quickstart).
    Sandbox(sandbox::Args),
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Sandbox(args) => sandbox::run(args),
    }
}
