//! The command line (docs/cli.md).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "trail",
    version,
    about = "Trail: a self-hosted, tamper-evident activity and audit log service",
    long_about = "Trail keeps your product's activity events durably and tamper-evidently and serves them to your \
customers' administrators.\n\nStart here: `trail serve --demo`, then open the address it prints.\n\
Configuration comes from defaults, then --config FILE (TOML), then TRAIL_* environment variables, then flags."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "TRAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded store [default: ./trail-data; env TRAIL_DATA].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...) to use instead of the embedded store [env TRAIL_DATABASE].
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (API, and later the console).
    Serve(ServeArgs),
    /// Create the data directory and the operator key (printed once).
    Init(InitArgs),
    /// Create, list and show tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Create, list and revoke a tenant's API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Load events from NDJSON or JSON-array files (or - for standard input) into a tenant.
    Ingest(IngestArgs),
    /// Find a tenant's events: a table on a terminal, JSON lines when piped.
    Query(Box<QueryArgs>),
    /// Write a tenant's filtered events to a CSV, XLSX, PDF, DOCX or NDJSON file.
    Export(Box<ExportArgs>),
    /// Check, offline, that every event is what the signed Merkle trees say; exit 1 naming the
    /// first bad seq if not.
    Verify(VerifyArgs),
    /// Run retention now: remove each tenant's events older than its plan keeps, and link
    /// access events of links that ended long enough ago (the tree keeps their leaf hashes).
    Purge(PurgeArgs),
    /// Erase one person's personal data (e-mail, name, IP address, descriptions) from a
    /// tenant's events, the remarks naming them and the reports, keeping the tree valid.
    Erase(EraseArgs),
}

#[derive(Args, Debug)]
#[command(
    group = clap::ArgGroup::new("person").required(true).args(["actor", "email"]),
    after_help = "Example:\n  trail erase --tenant acme --email asha.rao@acme.example\n  trail verify --tenant acme\n\n\
An interrupted erasure is finished by running the same command again."
)]
pub struct EraseArgs {
    /// The tenant whose log holds the person's events.
    #[arg(long)]
    pub tenant: String,
    /// The person's actor id.
    #[arg(long, value_name = "ID")]
    pub actor: Option<String>,
    /// The person's e-mail.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The public key checkpoints must be signed with: base64 of the 32-byte key, or the
    /// verifier key `name+hash+base64` from `GET /v1/keys/public` [default: derived from the
    /// data directory's signing key].
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
    /// Threads recomputing leaves [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// A signed checkpoint saved earlier, to hold the log to (repeatable): a file with the
    /// signed note (the `note` of `GET /v1/tenants/{t}/tree/checkpoint`, or that whole JSON
    /// answer), or a checkpoint journal. The log must still make the tree each one signs: a
    /// rewritten or truncated log fails, even if its own checkpoints were rewritten too.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Vec<std::path::PathBuf>,
    /// The checkpoint journal the server keeps beside its signing key [default:
    /// checkpoints.log beside the signing key, when it exists]. Every entry must be in the
    /// database and match the log.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<std::path::PathBuf>,
    /// Events received longer ago than this (seconds) must be in a signed checkpoint: a server
    /// signs within a second, so a log whose last events no checkpoint covers had its
    /// checkpoints removed, or was written without a server.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub unsigned_grace: u64,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080; env TRAIL_LISTEN].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Also create a tenant `demo` full of realistic activity, and print how to look at it.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Replace the stored operator key with a new one (the old one stops working).
    #[arg(long)]
    pub new_operator_key: bool,
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Tenant id: 1-63 characters of a-z, 0-9, '_' and '-' (usually your own account id).
        id: String,
        /// Display name [default: the id].
        #[arg(long)]
        name: Option<String>,
        /// Plan (basic, professional, business, enterprise, or one from the config) [default: enterprise].
        #[arg(long)]
        plan: Option<String>,
        /// IANA time zone for day boundaries and displayed times [default: UTC].
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// List tenants.
    List,
    /// Show one tenant.
    Show { id: String },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key; its token is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        /// What the key is for (shown in lists).
        #[arg(long)]
        name: String,
        /// Scope: ingest, read or admin (admin includes the others); repeatable.
        #[arg(long = "scope", value_name = "SCOPE", required = true)]
        scopes: Vec<String>,
    },
    /// List a tenant's keys (never their tokens).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key; requests with it are refused from now on.
    Revoke {
        #[arg(long)]
        tenant: String,
        key_id: String,
    },
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    #[arg(long)]
    pub tenant: String,
    /// Files of events: NDJSON (one event a line) or one JSON array; - reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Events per write (each write is all or nothing).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch: u64,
}

/// The event filters (docs/api.md), as flags.
#[derive(Args, Debug, Default)]
pub struct FilterArgs {
    /// today, yesterday, last_7_days, last_30_days (default), last_90_days or all.
    #[arg(long)]
    pub range: Option<String>,
    /// Start: RFC 3339 time or YYYY-MM-DD (in the tenant's time zone).
    #[arg(long)]
    pub from: Option<String>,
    /// End: RFC 3339 time or YYYY-MM-DD (a date includes that whole day).
    #[arg(long)]
    pub to: Option<String>,
    /// Time zone for dates and presets [default: the tenant's].
    #[arg(long)]
    pub tz: Option<String>,
    /// Actor id or e-mail; repeatable.
    #[arg(long)]
    pub actor: Vec<String>,
    /// Action, or a prefix ending in * (document.*); repeatable.
    #[arg(long)]
    pub action: Vec<String>,
    /// Category; repeatable.
    #[arg(long)]
    pub category: Vec<String>,
    /// success or failure; repeatable.
    #[arg(long)]
    pub outcome: Vec<String>,
    /// Target: type:id or a bare id; repeatable.
    #[arg(long)]
    pub target: Vec<String>,
    /// IP address or CIDR block (203.0.113.0/24); repeatable.
    #[arg(long)]
    pub ip: Vec<String>,
    /// Country code (GB); repeatable.
    #[arg(long)]
    pub country: Vec<String>,
    /// Session id; repeatable.
    #[arg(long)]
    pub session: Vec<String>,
    /// Search text: words, "phrases", qualifiers (actor:, action:, ...) and -negation.
    #[arg(long, short = 'q')]
    pub q: Option<String>,
}

impl FilterArgs {
    /// The flags as query parameters, for the shared parser.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut one = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        };
        one("range", &self.range);
        one("from", &self.from);
        one("to", &self.to);
        one("tz", &self.tz);
        one("q", &self.q);
        for (k, vs) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("category", &self.category),
            ("outcome", &self.outcome),
            ("target", &self.target),
            ("ip", &self.ip),
            ("country", &self.country),
            ("session", &self.session),
        ] {
            out.extend(vs.iter().map(|v| (k, v.clone())));
        }
        out
    }
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long)]
    pub tenant: String,
    /// csv, xlsx, pdf, docx or ndjson [default: from the -o file's extension].
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// The file to write [default: trail-{tenant}-{view}-{from}-{to}.{ext}, the range's first and
    /// last days, in the current directory]; - for standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// activity, api, panel, messages, sms or link-access: which columns (and, for the
    /// catalogue's views, which actions).
    #[arg(long, default_value = "activity")]
    pub view: String,
    /// Show phone numbers whole in the SMS view (as an admin sees them).
    #[arg(long)]
    pub unmask_phones: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[arg(long)]
    pub tenant: String,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Events per page (1-1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Follow the cursor to the last matching event.
    #[arg(long)]
    pub all: bool,
    /// Start after this cursor (printed after a page on a terminal).
    #[arg(long)]
    pub cursor: Option<String>,
    /// JSON lines even on a terminal.
    #[arg(long)]
    pub json: bool,
}
