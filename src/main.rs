//! The `cetus` command: parses the command line and hands it to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cetus::cli::Cli::parse();
    cetus::cli::run(cli)
}
