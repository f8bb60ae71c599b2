//! The `cetus` command: parses the command line and hands it to the library.

use clap::Parser;

// Rendering and diffing allocate many small maps and strings; mimalloc makes a render about a
// quarter faster than glibc's allocator (benches/render.rs uses it too, to measure the binary).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cetus::cli::Cli::parse();
    cetus::cli::run(cli)
}
