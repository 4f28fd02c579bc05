//! `trail serve`.

use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use trail_app::keys::{OperatorKey, operator_key};
use trail_server::{AppState, ServerConfig, serve_with_listener};

use crate::{cli::ServeArgs, config::Config, demo, demokey, open};

pub async fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.listen = crate::config::parse_listen(&listen)?;
    }
    let location = open::location(&config)?;
    let store = open::store(&config).await?;
    // With --demo and no configured key, the demo's own key, kept across restarts, is printed
    // on every start: a demo should always say how to get in (demokey.rs).
    let demo_key = match args.demo && config.operator_key.is_none() {
        true => Some(demokey::settle(&*store, &location).await?),
        false => None,
    };
    let key = match &demo_key {
        Some(d) => d.operator_key(),
        None => operator_key(&*store, config.operator_key.as_ref().map(|k| k.expose()), false).await?,
    };
    let (signing_key, new_signing_key) = open::signing_key(&config)?;
    let server_config = server_config(&config, key.hash(), signing_key);
    let enricher = open::enricher(&config)?;
    // One application for the process: the demo's history and everything the server appends.
    let app =
        std::sync::Arc::new(trail_app::App::new(store, server_config.app.clone()).with_enricher(enricher.clone()));
    let demo_events = if args.demo {
        let (created, n) = demo::seed(&app).await.context("cannot create the demo tenant")?;
        Some((created, n))
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| {
        format!("cannot listen on {}: is another server using it? choose another with --listen", config.listen)
    })?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    println!("Trail {} listening on {base} ({})", env!("CARGO_PKG_VERSION"), location.describe());
    match &key {
        OperatorKey::Generated { token, .. } => match &demo_key {
            Some(d) => println!("Operator key ({}): {token}", d.describe()),
            None => println!("Operator key (shown only now; keep it safe): {token}"),
        },
        OperatorKey::Configured(_) => println!("Operator key: the one configured (TRAIL_OPERATOR_KEY or operator_key)"),
        OperatorKey::Stored(_) => {
            println!("Operator key: the one printed at first start (lost it? `trail init --new-operator-key`)")
        }
    }
    if let Some((created, n)) = demo_events {
        let key_text = match &key {
            OperatorKey::Generated { token, .. } => token.clone(),
            _ => "$TRAIL_OPERATOR_KEY".into(),
        };
        println!(
            "Demo tenant `{}` {} with {n} events. Try:\n  curl -s -H 'Authorization: Bearer {key_text}' '{base}/v1/tenants/demo/events?range=last_7_days&limit=5'\n  curl -s -H 'Authorization: Bearer {key_text}' '{base}/v1/tenants/demo/events?action=auth.login.failed&limit=5'",
            demo::TENANT,
            if created { "created" } else { "already present" }
        );
        println!("Console: {base}/console/sign-in?tenant={}  (account `{}`)", demo::TENANT, demo::TENANT);
        for (email, _, role, password, _) in demo::MEMBERS {
            println!("  {role:<8} {email}  password {password}");
        }
    }
    if new_signing_key {
        println!(
            "Created the checkpoint signing key: {}",
            crate::keyfile::path(config.signing_key.as_deref(), &config.data).display()
        );
    }
    if !args.demo {
        println!("Console: {base}/console (add people with POST /v1/tenants/{{t}}/members)");
    }
    println!("Health: {base}/healthz   API reference: docs/api.md   Stop with Ctrl-C");
    if let Some(g) = &enricher.geoip {
        println!("GeoIP: {} ({})", g.path().display(), g.database_type());
    }
    // The banner is out: now the start-up log lines held until it was (startlog.rs).
    crate::startlog::release();
    tracing::info!(%addr, "serving");
    let state = AppState::with_app(app, server_config);
    serve_with_listener(state, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The server's settings from the configuration, the settled operator key and the signing key.
fn server_config(config: &Config, operator_key_hash: [u8; 32], signing_key: SigningKey) -> ServerConfig {
    ServerConfig { app: open::app_config(config, signing_key), operator_key_hash, admission: config.admission }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
