//! `trail verify`: the offline integrity check (see `trail_store_sqlite::verify` and
//! `trail_store_postgres::verify`).

use std::{process::ExitCode, time::Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::VerifyingKey;
use indicatif::{ProgressBar, ProgressStyle};
use trail_store::{
    StoreLocation,
    verify::{OutsideCheckpoint, VerifyOptions},
};

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

/// Exit codes, as docs/cli.md lists them.
const EXIT_TAMPERED: u8 = 1;
const EXIT_CANNOT_CHECK: u8 = 2;
const EXIT_WRONG_KEY: u8 = 3;

/// `trail verify`: exits 0 when every tenant verifies, 1 when a log does not (a problem
/// named by its first bad seq), 2 when the check could not run, 3 when the public key given
/// signed none of a tenant's checkpoints (a wrong key, not a tampered log).
pub async fn run(config: Config, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    match check(config, args).await {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            Ok(ExitCode::from(EXIT_CANNOT_CHECK))
        }
    }
}

/// The checkpoints kept outside the database: the journal beside the signing key (or
/// `--journal`), and every `--checkpoint` file.
fn outside_checkpoints(config: &Config, args: &VerifyArgs) -> anyhow::Result<Vec<OutsideCheckpoint>> {
    let mut out = Vec::new();
    let journal = match &args.journal {
        Some(p) => {
            anyhow::ensure!(p.exists(), "--journal {}: no such file", p.display());
            Some(p.clone())
        }
        None => Some(open::checkpoint_journal(config)).filter(|p| p.exists()),
    };
    if let Some(path) = journal {
        let source = format!("the checkpoint journal {}", path.display());
        for e in trail_store::journal::read(&path)? {
            out.push(OutsideCheckpoint {
                source: source.clone(),
                tenant: e.tenant,
                size: e.size,
                note: e.note,
                journaled: true,
            });
        }
    }
    for path in &args.checkpoint {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read --checkpoint {}", path.display()))?;
        out.extend(saved_checkpoints(&format!("--checkpoint {}", path.display()), &text)?);
    }
    Ok(out)
}

/// The checkpoints a saved file holds: the JSON answer of `GET .../tree/checkpoint` (its
/// `note`), a checkpoint journal (one JSON entry a line), or a signed note as text.
fn saved_checkpoints(source: &str, text: &str) -> anyhow::Result<Vec<OutsideCheckpoint>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(serde_json::Value::Object(answer)) = serde_json::from_str::<serde_json::Value>(trimmed)
            && let Some(serde_json::Value::String(note)) = answer.get("note")
        {
            return OutsideCheckpoint::from_note(source, note).map(|c| vec![c]).map_err(anyhow::Error::msg);
        }
        let entries = trail_store::journal::parse(text)
            .map_err(|(line, e)| anyhow::anyhow!("{source}: line {line} is not a checkpoint journal entry: {e}"))?;
        return Ok(entries
            .into_iter()
            .map(|e| OutsideCheckpoint {
                source: source.to_owned(),
                tenant: e.tenant,
                size: e.size,
                note: e.note,
                journaled: false,
            })
            .collect());
    }
    OutsideCheckpoint::from_note(source, text).map(|c| vec![c]).map_err(anyhow::Error::msg)
}

async fn check(config: Config, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    open::ensure_existing(&config)?;
    let location = open::location(&config)?;
    let public = match &args.public_key {
        Some(k) => parse_public_key(k)?,
        None => keyfile::load(&keyfile::path(config.signing_key.as_deref(), &config.data))
            .context("give --public-key, or run this where the signing key is (--signing-key, TRAIL_SIGNING_KEY)")?
            .verifying_key(),
    };
    let options = VerifyOptions {
        outside: outside_checkpoints(&config, &args)?,
        unsigned_grace: std::time::Duration::from_secs(args.unsigned_grace),
        now: jiff::Timestamp::now(),
    };
    if let Some(t) = &args.tenant {
        for o in options.outside.iter().filter(|o| !o.journaled && &o.tenant != t) {
            eprintln!("note: {} is a checkpoint of tenant {}, not checked with --tenant {t}", o.source, o.tenant);
        }
    }
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
                trail_store_sqlite::verify::verify(dir, args.tenant.as_deref(), &public, &options, threads, &|n| {
                    pb.inc(n)
                })?;
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
            let reports =
                trail_store_postgres::verify::verify(&store, only.as_ref(), &public, &options, &|n| pb.inc(n)).await?;
            (reports, pb)
        }
    };
    pb.finish_and_clear();
    // A saved checkpoint of a tenant the log does not hold at all: the tenant was removed.
    let mut missing_tenants = Vec::new();
    for o in options.outside.iter().filter(|o| args.tenant.as_ref().is_none_or(|t| t == &o.tenant)) {
        if !reports.iter().any(|r| r.tenant == o.tenant) && !missing_tenants.contains(&o.tenant) {
            println!(
                "{}: NOT FOUND: {} holds a signed checkpoint of {} events of this tenant, but the log has no such tenant",
                o.tenant, o.source, o.size
            );
            missing_tenants.push(o.tenant.clone());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (mut bad, mut wrong_key) = (missing_tenants.len(), 0);
    for r in &reports {
        match (&r.checked.wrong_key, &r.problem) {
            (Some(why), _) => {
                wrong_key += 1;
                println!("{}: WRONG KEY: {why}", r.tenant);
            }
            (None, None) => println!("{}: {} events, {} checkpoints: OK", r.tenant, r.events, r.checkpoints),
            (None, Some(p)) => {
                bad += 1;
                println!("{}: FIRST BAD SEQ {}: {}", r.tenant, p.seq, p.message);
            }
        }
    }
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let verdict = match (bad, wrong_key) {
        (0, 0) => "everything verifies".to_owned(),
        (0, k) => format!(
            "the public key given ({}) did not sign the checkpoints of {k} tenants: give the key the server \
             signs with (`verifier_key` of GET /v1/keys/public)",
            STANDARD.encode(public.as_bytes())
        ),
        (b, 0) => format!("{b} tenants do NOT verify"),
        (b, k) => format!("{b} tenants do NOT verify, and the key given did not sign the checkpoints of {k}"),
    };
    println!(
        "Verified {events} events of {} tenants in {secs:.1}s ({:.0} events/s): {verdict}",
        reports.len(),
        events as f64 / secs.max(1e-9),
    );
    Ok(match (bad, wrong_key) {
        (0, 0) => ExitCode::SUCCESS,
        (0, _) => ExitCode::from(EXIT_WRONG_KEY),
        _ => ExitCode::from(EXIT_TAMPERED),
    })
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
