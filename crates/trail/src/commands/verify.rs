//! `trail verify`: the offline integrity check (see `trail_store_sqlite::verify` and
//! `trail_store_postgres::verify`).

use std::{process::ExitCode, time::Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::VerifyingKey;
use indicatif::{ProgressBar, ProgressStyle};
use trail_store::StoreLocation;

use crate::{cli::VerifyArgs, config::Config, keyfile, open};

/// Reads a public key: base64 of 32 bytes, or a note verifier key `name+hash+base64(0x01||key)`.
/// (Base64 itself holds `+`, so the plain form is tried first, and a verifier key is split
/// at its first two `+` only: a key name cannot contain one.)
fn parse_public_key(text: &str) -> anyhow::Result<VerifyingKey> {
    let text = text.trim();
    let bytes = match STANDARD.decode(text) {
        Ok(raw) if raw.len() == 32 => raw,
        _ => match text.splitn(3, '+').collect::<Vec<_>>()[..] {
            [_, _, key] => match STANDARD.decode(key) {
                Ok(raw) if raw.len() == 33 && raw[0] == 0x01 => raw[1..].to_vec(),
                _ => bail!("the verifier key's last part is not base64 of 0x01 and a 32-byte Ed25519 key"),
            },
            _ => bail!(
                "the public key is base64 of 32 bytes (`public_key` of GET /v1/keys/public) or a note verifier key (`verifier_key`)"
            ),
        },
    };
    let raw: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("an Ed25519 public key has 32 bytes"))?;
    VerifyingKey::from_bytes(&raw).context("not an Ed25519 public key")
}

pub async fn run(config: Config, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    open::ensure_existing(&config)?;
    let location = open::location(&config)?;
    let public = match &args.public_key {
        Some(k) => parse_public_key(k)?,
        None => keyfile::load(&keyfile::path(config.signing_key.as_deref(), &config.data))
            .context("give --public-key, or run this where the signing key is (--signing-key, TRAIL_SIGNING_KEY)")?
            .verifying_key(),
    };
    let bar = |total| {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template("verifying [{bar:40}] {human_pos}/{human_len} events ({per_sec}, {eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        )
    };
    let started = Instant::now();
    let (reports, pb) = match &location {
        StoreLocation::Sqlite(dir) => {
            let threads =
                args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
            let pb = bar(trail_store_sqlite::verify::event_count(dir, args.tenant.as_deref())?);
            let reports =
                trail_store_sqlite::verify::verify(dir, args.tenant.as_deref(), &public, threads, &|n| pb.inc(n))?;
            (reports, pb)
        }
        StoreLocation::Postgres(url) => {
            let store = open::postgres(url).await?;
            let only = args
                .tenant
                .as_deref()
                .map(trail_core::TenantId::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
            let pb = bar(trail_store_postgres::verify::event_count(&store, only.as_ref()).await?);
            let reports = trail_store_postgres::verify::verify(&store, only.as_ref(), &public, &|n| pb.inc(n)).await?;
            (reports, pb)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_the_public_key_are_read() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]).verifying_key();
        let plain = STANDARD.encode(key.as_bytes());
        assert!(plain.contains('+'), "a key whose base64 holds '+', as this one does, is the case that matters");
        assert_eq!(parse_public_key(&plain).unwrap(), key);
        let note = trail_core::checkpoint::verifier_key("trail/demo", &key);
        assert_eq!(parse_public_key(&note).unwrap(), key);
        assert!(parse_public_key("not a key").unwrap_err().to_string().contains("verifier key"));
        assert!(parse_public_key(&STANDARD.encode([1u8; 31])).is_err());
    }
}
