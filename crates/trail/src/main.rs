//! `trail`: the one binary. Parses the command line, settles the configuration, opens the store
//! and hands over to a command. The only crate that uses `anyhow`: errors are printed here with
//! their whole chain.

mod cli;
mod commands;
mod config;
mod demo;
mod demokey;
mod keyfile;
mod open;
mod startlog;

use clap::Parser;

/// mimalloc instead of the system allocator: ingest allocates many small strings per event on
/// several threads, where it measured about 25% faster than glibc's malloc (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging();
    // `serve` prints its banner first; its start-up log lines follow it (startlog.rs).
    if matches!(cli.command, cli::Command::Serve(_)) {
        startlog::hold();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => {
            startlog::release();
            code
        }
        Err(e) => {
            startlog::release();
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TRAIL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| startlog::Writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
