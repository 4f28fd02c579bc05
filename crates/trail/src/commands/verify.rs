//! `trail verify`: the offline integrity check (see `trail_store_sqlite::verify`).

use std::{process::ExitCode, time::Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::VerifyingKey;
use indicatif::{ProgressBar, ProgressStyle};
use trail_store::StoreLocation;

use crate::{cli::VerifyArgs, config::Config, keyfile, open};

/// Reads a public key: base64 of 32 bytes, or a note verifier key `name+hash+base64(0x01||key)`.
fn parse_public_key(text: &str) -> anyhow::Result<VerifyingKey> {
    let b64 = match text.split('+').collect::<Vec<_>>()[..] {
        [_, _, key] => key,
        [key] => key,
        _ => bail!("the public key is base64 of 32 bytes, or name+hash+base64 as GET /v1/keys/public shows"),
    };
    let mut bytes = STANDARD.decode(b64.trim()).context("the public key is not base64")?;
    if bytes.len() == 33 && bytes[0] == 0x01 {
        bytes.remove(0);
    }
    let raw: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("an Ed25519 public key has 32 bytes"))?;
    VerifyingKey::from_bytes(&raw).context("not an Ed25519 public key")
}

pub fn run(config: Config, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dir = match open::location(&config)? {
        StoreLocation::Sqlite(dir) => dir,
        StoreLocation::Postgres(_) => bail!("verifying a PostgreSQL database arrives with the PostgreSQL backend"),
    };
    let public = match &args.public_key {
        Some(k) => parse_public_key(k)?,
        None => keyfile::load(&keyfile::path(config.signing_key.as_deref(), &config.data))
            .context("give --public-key, or run this where the data directory's signing key is")?
            .verifying_key(),
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let total = trail_store_sqlite::verify::event_count(&dir, args.tenant.as_deref())?;
    let pb = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("verifying [{bar:40}] {human_pos}/{human_len} events ({per_sec}, {eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let reports = trail_store_sqlite::verify::verify(&dir, args.tenant.as_deref(), &public, threads, &|n| pb.inc(n))?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let mut bad = 0;
    for r in &reports {
        match &r.problem {
            None => println!("{}: {} events, {} checkpoints: OK", r.tenant, r.events, r.checkpoints),
            Some(p) => {
                bad += 1;
                println!("{}: FIRST BAD SEQ {}: {}", r.tenant, p.seq, p.message);
            }
        }
    }
    let events: u64 = reports.iter().map(|r| r.events).sum();
    println!(
        "Verified {events} events of {} tenants in {secs:.1}s ({:.0} events/s): {}",
        reports.len(),
        events as f64 / secs.max(1e-9),
        if bad == 0 { "everything verifies".to_owned() } else { format!("{bad} tenants do NOT verify") }
    );
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
