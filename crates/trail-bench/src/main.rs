//! Trail's benchmark harness (BENCHMARKS.md).
//!
//! Every figure is printed beside a baseline measured in the same run on the same machine, with
//! the ratio between them: this machine is noisy, so only same-run ratios mean much. Timings
//! are never asserted in tests; they are measured here and written into `BENCHMARKS.md`.
//!
//! Run: `cargo run --release -p trail-bench -- ingest`, `... -- query`, `... -- integrity`, `... -- export`, `... -- console`, `... -- tails`, `... -- overload` and `... -- erase`

mod console;
mod data;
mod dataset;
mod erase;
mod export;
mod ingest;
mod integrity;
mod overload;
mod postgres;
mod procstat;
mod query;
mod report;
mod reports;
mod server;
mod stats;
mod tails;

use clap::{Parser, Subcommand};

/// The same allocator as the `trail` binary, so figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "trail-bench", about = "Trail's benchmarks: figures and ratios against same-run baselines")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Durable ingest through HTTP beside raw SQLite inserts with no index, and the Merkle
    /// tree's cost (with it against without it, in events per second and per CPU-second).
    Ingest(ingest::Args),
    /// 10 million events: the query mix, ingest with all indexes, bytes per event, beside a
    /// hand-rolled PostgreSQL audit table.
    Query(query::Args),
    /// 10 million events in one tenant: ingest with the Merkle tree beside without it, `trail
    /// verify` beside a bare scan, inclusion and consistency proofs beside reading one event.
    Integrity(integrity::Args),
    /// 1 million events exported by `trail export` in CSV, NDJSON and XLSX (the newest 95,000 or so
    /// in PDF and DOCX): rows per second and peak memory, beside the csv crate, the streaming
    /// query and rust_xlsxwriter alone.
    Export(export::Args),
    /// The console's Activity page with 5 million events in the tenant, beside the API's
    /// answer for the same view.
    Console(console::Args),
    /// The login report with 1 million people's login events in one tenant.
    Reports(reports::Args),
    /// Live streams: CPU, threads and memory with 1 and 250 streams on one tenant at 100
    /// events/s, and after the clients have gone.
    Tails(tails::Args),
    /// Overload: query latency idle beside under ingest from many connections, and how many
    /// requests were told to back off (503 overloaded).
    Overload(overload::Args),
    /// Erasure: one person's 200,000 events (or `--events N`) erased by `trail erase`, its time
    /// and peak memory beside an export of the same events, then `trail verify`.
    Erase(erase::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.bench {
        Bench::Ingest(args) => rt.block_on(ingest::run(args)),
        Bench::Query(args) => rt.block_on(query::run(args)),
        Bench::Integrity(args) => rt.block_on(integrity::run(args)),
        Bench::Export(args) => rt.block_on(export::run(args)),
        Bench::Console(args) => rt.block_on(console::run(args)),
        Bench::Reports(args) => rt.block_on(reports::run(args)),
        Bench::Tails(args) => rt.block_on(tails::run(args)),
        Bench::Overload(args) => rt.block_on(overload::run(args)),
        Bench::Erase(args) => rt.block_on(erase::run(args)),
    }
}
