//! `trail serve --demo`: a tenant `demo` full of realistic activity.
//!
//! Six weeks of a small legal-services firm using a secure file exchange with e-signatures,
//! messages, shared links and SMS reminders: staff sign in on weekdays (now and then mistyping a
//! password), while password-spraying bots fail from abroad; documents are created, sent,
//! signed, rejected and completed; clients open messages and view or save shared links; an
//! integration calls the API; an SMS gateway sometimes fails. The generator is seeded, so every
//! demo has the same story relative to today, and every event goes through the same validation
//! as an event sent over HTTP.

use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};
use trail_app::{
    App,
    access::Principal,
    members::{self, MemberRequest},
    own_events::Origin,
    tenants::{self, TenantRequest},
};
use trail_core::{TenantId, event::NewEvent, vocabulary::actions};
use trail_store::PreparedEvent;

pub const TENANT: &str = "demo";

/// The demo's console accounts: e-mail, name, role, password, actor id. The passwords are
/// printed at start; they exist only in the demo tenant.
pub const MEMBERS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("admin@acme-legal.example", "Dana Admin", "admin", "trail-demo-admin", None),
    ("manager@acme-legal.example", "Maya Manager", "manager", "trail-demo-manager", None),
    ("asha.rao@acme-legal.example", "Asha Rao", "member", "trail-demo-member", Some("u_1001")),
];
const DAYS: i64 = 42;

struct Person {
    id: &'static str,
    name: &'static str,
    email: &'static str,
    ip: &'static str,
    country: &'static str,
    region: &'static str,
    city: &'static str,
    ua: &'static str,
}

const STAFF: &[Person] = &[
    Person {
        id: "u_1001",
        name: "Asha Rao",
        email: "asha.rao@acme-legal.example",
        ip: "203.0.113.7",
        country: "IN",
        region: "Karnataka",
        city: "Bengaluru",
        ua: UA_CHROME_WIN,
    },
    Person {
        id: "u_1002",
        name: "Ben Khan",
        email: "ben.khan@acme-legal.example",
        ip: "198.51.100.23",
        country: "GB",
        region: "England",
        city: "London",
        ua: UA_SAFARI_MAC,
    },
    Person {
        id: "u_1003",
        name: "Carla Mendes",
        email: "carla.mendes@acme-legal.example",
        ip: "192.0.2.44",
        country: "PT",
        region: "Lisboa",
        city: "Lisbon",
        ua: UA_FIREFOX_LINUX,
    },
    Person {
        id: "u_1004",
        name: "Δήμητρα Παπαδοπούλου",
        email: "dimitra.p@acme-legal.example",
        ip: "203.0.113.88",
        country: "GR",
        region: "Attica",
        city: "Athens",
        ua: UA_EDGE_WIN,
    },
    Person {
        id: "u_1005",
        name: "Елена Петрова",
        email: "elena.petrova@acme-legal.example",
        ip: "198.51.100.140",
        country: "DE",
        region: "Berlin",
        city: "Berlin",
        ua: UA_CHROME_ANDROID,
    },
    Person {
        id: "u_1006",
        name: "Farid Haddad",
        email: "farid.haddad@acme-legal.example",
        ip: "192.0.2.201",
        country: "AE",
        region: "Dubai",
        city: "Dubai",
        ua: UA_SAFARI_IPHONE,
    },
];

const CLIENTS: &[(&str, &str)] = &[
    ("Grace Liu", "grace.liu@northwind.example"),
    ("Hiro Tanaka", "hiro@tanaka-trading.example"),
    ("Isabel García", "isabel.garcia@contoso.example"),
    ("Jonas Berg", "jonas.berg@fabrikam.example"),
    ("Kwame Mensah", "kwame@mensah-co.example"),
];

/// Password-spraying bots: (ip, country, region, city, user agent).
const ATTACKERS: &[(&str, &str, &str, &str, &str)] = &[
    ("185.220.101.34", "RU", "Moscow", "Moscow", "python-requests/2.31.0"),
    ("45.155.205.99", "NL", "North Holland", "Amsterdam", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
    ("103.75.190.12", "VN", "Ho Chi Minh", "Ho Chi Minh City", "curl/8.4.0"),
    ("177.54.144.7", "BR", "São Paulo", "São Paulo", "Go-http-client/1.1"),
    ("222.186.30.112", "CN", "Jiangsu", "Nanjing", "Mozilla/5.0 zgrab/0.x"),
];

const UA_CHROME_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const UA_SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const UA_FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const UA_EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const UA_CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36";
const UA_SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const UA_CLIENT_BROWSERS: &[&str] = &[UA_CHROME_WIN, UA_SAFARI_MAC, UA_SAFARI_IPHONE, UA_EDGE_WIN, UA_CHROME_ANDROID];

const DOCUMENTS: &[&str] = &[
    "NDA 2026.pdf",
    "Master Services Agreement.pdf",
    "Lease renewal - Unit 4B.pdf",
    "Share purchase agreement.docx",
    "Power of attorney.pdf",
    "Employment contract - K. Mensah.pdf",
    "Settlement terms v3.pdf",
    "Board resolution 2026-11.pdf",
];
const FILES: &[(&str, u64)] = &[
    ("Q3 accounts.xlsx", 482_113),
    ("Due diligence pack.zip", 48_220_991),
    ("Scanned ID.jpg", 2_310_551),
    ("Title deed.pdf", 1_204_776),
    ("Witness statement.docx", 88_412),
    ("Invoice 2026-118.pdf", 61_004),
    ("Site photos.zip", 151_880_302),
    ("Court bundle.pdf", 12_009_774),
];
const PANEL_PAGES: &[(&str, &str)] = &[
    ("/dashboard", "GET"),
    ("/documents", "GET"),
    ("/documents/new", "POST"),
    ("/contacts", "GET"),
    ("/settings/profile", "PATCH"),
    ("/files", "GET"),
    ("/links", "GET"),
    ("/messages/compose", "POST"),
    ("/templates", "GET"),
    ("/reports/usage", "GET"),
];
const API_ROUTES: &[(&str, &str, u16)] = &[
    ("/api/v2/documents", "GET", 200),
    ("/api/v2/documents", "POST", 201),
    ("/api/v2/contacts", "GET", 200),
    ("/api/v2/contacts/import", "POST", 202),
    ("/api/v2/webhooks", "GET", 200),
    ("/api/v2/documents/doc_0000", "GET", 404),
    ("/api/v2/files", "POST", 413),
    ("/api/v2/templates", "GET", 200),
    ("/api/v2/documents", "POST", 422),
];
const SMS_ERRORS: &[&str] =
    &["30003 unreachable handset", "30005 unknown destination", "30007 carrier filtered", "21610 recipient opted out"];

struct Gen {
    rng: StdRng,
    events: Vec<(Timestamp, Value)>,
    n: u64,
}

fn person_json(p: &Person) -> Value {
    json!({"id": p.id, "name": p.name, "email": p.email, "type": "user"})
}

fn ctx(p: &Person, extra: Value) -> Value {
    let mut c = json!({
        "ip": p.ip, "user_agent": p.ua,
        "location": {"country": p.country, "region": p.region, "city": p.city}
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut c, extra) {
        c.extend(e);
    }
    c
}

impl Gen {
    fn push(&mut self, at: Timestamp, mut event: Value) {
        self.n += 1;
        event["id"] = json!(format!("demo_{:06}", self.n));
        event["occurred_at"] = json!(at.to_string());
        self.events.push((at, event));
    }

    fn jitter(&mut self, at: Timestamp, max_secs: i64) -> Timestamp {
        at + SignedDuration::from_secs(self.rng.random_range(1..=max_secs.max(1)))
    }

    fn session(&mut self) -> String {
        format!("s_{:08x}", self.rng.random::<u32>())
    }

    fn staff_day(&mut self, p: &Person, start: Timestamp, day: i64) {
        let session = self.session();
        let mut t = start;
        // A mistyped password now and then.
        if self.rng.random_bool(0.12) {
            self.push(
                t,
                json!({
                    "action": actions::AUTH_LOGIN_FAILED, "outcome": "failure", "actor": person_json(p),
                    "description": format!("{} failed to sign in: wrong password", p.name),
                    "context": ctx(p, json!({"session_id": session})), "metadata": {"reason": "wrong_password"}
                }),
            );
            t = self.jitter(t, 40);
        }
        self.push(
            t,
            json!({
                "action": actions::AUTH_LOGIN_SUCCEEDED, "actor": person_json(p),
                "description": format!("{} signed in", p.name), "context": ctx(p, json!({"session_id": session}))
            }),
        );
        let actions = self.rng.random_range(6..16);
        for _ in 0..actions {
            t = self.jitter(t, 1500);
            let (url, method) = *PANEL_PAGES.choose(&mut self.rng).unwrap();
            self.push(
                t,
                json!({
                    "action": actions::PANEL_REQUEST, "actor": person_json(p),
                    "description": format!("{method} {url}"),
                    "context": ctx(p, json!({"session_id": session, "url": url, "method": method, "status": 200}))
                }),
            );
            let roll: f64 = self.rng.random();
            if roll < 0.18 {
                self.file_activity(p, t, &session);
            } else if roll < 0.30 {
                self.document_flow(p, t, &session, day);
            } else if roll < 0.38 {
                self.message_flow(p, t, &session);
            } else if roll < 0.44 {
                self.link_flow(p, t, &session);
            } else if roll < 0.47 {
                let (action, desc) = *[
                    ("template.created", "created template \"Engagement letter\""),
                    ("contact.imported", "imported 48 contacts from CSV"),
                    ("stamp.applied", "applied the company stamp to Board resolution 2026-11.pdf"),
                    ("workflow.started", "started the \"New client onboarding\" workflow"),
                    ("payment.succeeded", "paid invoice 2026-118 (EUR 1,250.00)"),
                ]
                .choose(&mut self.rng)
                .unwrap();
                self.push(
                    t,
                    json!({
                        "action": action, "actor": person_json(p), "description": format!("{} {desc}", p.name),
                        "context": ctx(p, json!({"session_id": session}))
                    }),
                );
            }
        }
        if self.rng.random_bool(0.7) {
            t = self.jitter(t, 3600);
            self.push(
                t,
                json!({
                    "action": actions::AUTH_LOGOUT, "actor": person_json(p), "description": format!("{} signed out", p.name),
                    "context": ctx(p, json!({"session_id": session}))
                }),
            );
        }
    }

    fn file_activity(&mut self, p: &Person, t: Timestamp, session: &str) {
        let (name, size) = *FILES.choose(&mut self.rng).unwrap();
        let fid = format!("file_{:05}", self.rng.random_range(0..99_999));
        let action = *[
            actions::FILE_UPLOADED,
            actions::FILE_UPLOADED,
            actions::FILE_DOWNLOADED,
            actions::FILE_DOWNLOADED,
            actions::FILE_DELETED,
        ]
        .choose(&mut self.rng)
        .unwrap();
        let verb = &action[5..];
        let mut e = json!({
            "action": action, "actor": person_json(p), "targets": [{"type": "file", "id": fid, "name": name}],
            "description": format!("{} {verb} {name}", p.name), "context": ctx(p, json!({"session_id": session}))
        });
        if action != actions::FILE_DOWNLOADED {
            e["metadata"] = json!({"size_bytes": size});
        }
        let at = self.jitter(t, 20);
        self.push(at, e);
    }

    fn document_flow(&mut self, p: &Person, t: Timestamp, session: &str, day: i64) {
        let name = *DOCUMENTS.choose(&mut self.rng).unwrap();
        let did = format!("doc_{day:02}{:04}", self.rng.random_range(0..9999));
        let (client, client_email) = *CLIENTS.choose(&mut self.rng).unwrap();
        let target = json!([{"type": "document", "id": did, "name": name}]);
        let mut at = self.jitter(t, 30);
        self.push(
            at,
            json!({
                "action": actions::DOCUMENT_CREATED, "actor": person_json(p), "targets": target,
                "description": format!("{} created {name}", p.name), "context": ctx(p, json!({"session_id": session}))
            }),
        );
        at = self.jitter(at, 300);
        let sign_type = *["electronic", "aadhaar", "dsc"].choose(&mut self.rng).unwrap();
        self.push(
            at,
            json!({
                "action": actions::DOCUMENT_INVITED, "actor": person_json(p), "targets": target,
                "description": format!("{} invited {client} to sign {name}", p.name),
                "context": ctx(p, json!({"session_id": session})),
                "metadata": {"invitee": client_email, "sign_type": sign_type}
            }),
        );
        let ua = *UA_CLIENT_BROWSERS.choose(&mut self.rng).unwrap();
        let client_ctx = json!({"ip": format!("198.51.100.{}", self.rng.random_range(1..250)), "user_agent": ua});
        let client_actor = json!({"name": client, "email": client_email, "type": "user"});
        at = self.jitter(at, 20_000);
        let roll: f64 = self.rng.random();
        if roll < 0.72 {
            self.push(
                at,
                json!({
                    "action": actions::DOCUMENT_SIGNED, "actor": client_actor, "targets": target,
                    "description": format!("{client} signed {name}"), "context": client_ctx
                }),
            );
            at = self.jitter(at, 60);
            self.push(at, json!({
                "action": actions::DOCUMENT_COMPLETED, "actor": {"type": "system", "name": "Signing service"}, "targets": target,
                "description": format!("{name} completed: all parties signed")
            }));
        } else if roll < 0.85 {
            self.push(at, json!({
                "action": actions::DOCUMENT_REJECTED, "outcome": "failure", "actor": client_actor, "targets": target,
                "description": format!("{client} rejected {name}: \"clause 7 needs changes\""), "context": client_ctx
            }));
        } else if roll < 0.93 {
            self.push(at, json!({
                "action": actions::DOCUMENT_VERIFICATION_FAILED, "outcome": "failure", "actor": client_actor, "targets": target,
                "description": format!("{client} failed identity verification for {name}"), "context": client_ctx
            }));
        } else {
            self.push(at, json!({
                "action": actions::DOCUMENT_INVITATION_TIMED_OUT, "outcome": "failure", "actor": {"type": "system", "name": "Signing service"},
                "targets": target, "description": format!("the invitation to {client} for {name} timed out")
            }));
        }
    }

    fn message_flow(&mut self, p: &Person, t: Timestamp, session: &str) {
        let mid = format!("msg_{:06}", self.rng.random_range(0..999_999));
        let (client, client_email) = *CLIENTS.choose(&mut self.rng).unwrap();
        let subject = *["Engagement letter", "Draft contract for review", "Your documents", "Invoice 2026-118"]
            .choose(&mut self.rng)
            .unwrap();
        let target = json!([{"type": "message", "id": mid, "name": subject}]);
        let mut at = self.jitter(t, 30);
        let expires = at + SignedDuration::from_hours(24 * 14);
        self.push(
            at,
            json!({
                "action": actions::MESSAGE_SENT, "actor": person_json(p), "targets": target,
                "description": format!("{} sent \"{subject}\" to {client_email}", p.name),
                "context": ctx(p, json!({"session_id": session})),
                "metadata": {"recipients": [client_email], "expires_at": expires.to_string()}
            }),
        );
        let ua = *UA_CLIENT_BROWSERS.choose(&mut self.rng).unwrap();
        let ip = format!("192.0.2.{}", self.rng.random_range(1..250));
        let client_actor = json!({"name": client, "email": client_email});
        for action in
            [actions::MESSAGE_OPENED, actions::MESSAGE_OPENED, actions::MESSAGE_DOWNLOADED, actions::MESSAGE_SIGNED]
        {
            if self.rng.random_bool(0.6) {
                at = self.jitter(at, 30_000);
                self.push(
                    at,
                    json!({
                        "action": action, "actor": client_actor, "targets": target,
                        "description": format!("{client} {} \"{subject}\"", &action[8..]),
                        "context": {"ip": ip, "user_agent": ua}
                    }),
                );
            }
        }
    }

    fn link_flow(&mut self, p: &Person, t: Timestamp, session: &str) {
        let lid = format!("lnk_{:06}", self.rng.random_range(0..999_999));
        let (file, _) = *FILES.choose(&mut self.rng).unwrap();
        let require_email = self.rng.random_bool(0.5);
        let targets = json!([{"type": "link", "id": lid}, {"type": "file", "id": format!("file_{lid}"), "name": file}]);
        let mut at = self.jitter(t, 30);
        self.push(at, json!({
            "action": actions::LINK_CREATED, "actor": person_json(p), "targets": targets,
            "description": format!("{} shared {file} by link", p.name), "context": ctx(p, json!({"session_id": session})),
            "metadata": {"expires_at": (at + SignedDuration::from_hours(24 * 7)).to_string(), "require_email": require_email}
        }));
        for _ in 0..self.rng.random_range(0..6) {
            at = self.jitter(at, 40_000);
            let (_, email) = *CLIENTS.choose(&mut self.rng).unwrap();
            let ua = *UA_CLIENT_BROWSERS.choose(&mut self.rng).unwrap();
            let visitor_session = self.session();
            let ip = format!("203.0.113.{}", self.rng.random_range(1..250));
            let place = *[
                ("US", "California", "San Diego"),
                ("GB", "England", "London"),
                ("IN", "Maharashtra", "Mumbai"),
                ("DE", "Hesse", "Frankfurt"),
            ]
            .choose(&mut self.rng)
            .unwrap();
            let actor =
                if require_email { json!({"email": email, "type": "anonymous"}) } else { json!({"type": "anonymous"}) };
            let action = if self.rng.random_bool(0.35) { actions::LINK_SAVED } else { actions::LINK_VIEWED };
            self.push(at, json!({
                "action": action, "actor": actor, "targets": targets,
                "description": format!("{file} {} through a shared link", if action == actions::LINK_SAVED { "saved" } else { "viewed" }),
                "context": {"ip": ip, "user_agent": ua, "session_id": visitor_session,
                            "location": {"country": place.0, "region": place.1, "city": place.2}}
            }));
        }
        if self.rng.random_bool(0.3) {
            at = self.jitter(at, 50_000);
            self.push(
                at,
                json!({
                    "action": actions::LINK_REVOKED, "actor": person_json(p), "targets": targets,
                    "description": format!("{} revoked the link to {file}", p.name), "context": ctx(p, json!({}))
                }),
            );
        }
    }

    fn api_traffic(&mut self, day_start: Timestamp) {
        for _ in 0..self.rng.random_range(20..60) {
            let at = self.jitter(day_start, 86_000);
            let (url, method, status) = *API_ROUTES.choose(&mut self.rng).unwrap();
            self.push(at, json!({
                "action": actions::API_REQUEST, "outcome": if status < 400 { "success" } else { "failure" },
                "actor": {"id": "key_crm_sync", "name": "CRM sync", "type": "api_key"},
                "description": format!("{method} {url} -> {status}"),
                "context": {"ip": "198.51.100.250", "user_agent": "acme-crm-sync/3.2 (+https://crm.example)", "url": url, "method": method, "status": status}
            }));
        }
    }

    fn sms_campaign(&mut self, day_start: Timestamp, day: i64) {
        let campaign = *["Signature reminder", "Appointment reminder", "Document ready"].choose(&mut self.rng).unwrap();
        let start = self.jitter(day_start + SignedDuration::from_hours(9), 3600 * 6);
        for i in 0..self.rng.random_range(10..40) {
            let at = start + SignedDuration::from_millis(i * 350);
            let phone = format!("+4477009{:05}", self.rng.random_range(0..99_999));
            let message_id = format!("SM{day:02}{i:04}{:04x}", self.rng.random::<u16>());
            if self.rng.random_bool(0.08) {
                let error = *SMS_ERRORS.choose(&mut self.rng).unwrap();
                self.push(at, json!({
                    "action": actions::SMS_FAILED, "outcome": "failure", "actor": {"type": "system", "name": "SMS gateway"},
                    "description": format!("SMS to {phone} failed: {error}"),
                    "metadata": {"message_id": message_id, "campaign": campaign, "phone": phone, "gateway": "twilio", "error": error}
                }));
            } else {
                self.push(at, json!({
                    "action": actions::SMS_SENT, "actor": {"type": "system", "name": "SMS gateway"},
                    "description": format!("SMS \"{campaign}\" sent to {phone}"),
                    "metadata": {"message_id": message_id, "campaign": campaign, "phone": phone, "gateway": "twilio"}
                }));
            }
        }
    }

    fn attacks(&mut self, day_start: Timestamp) {
        let (ip, country, region, city, ua) = *ATTACKERS.choose(&mut self.rng).unwrap();
        let start = self.jitter(day_start, 80_000);
        for i in 0..self.rng.random_range(3..25) {
            let victim = STAFF.choose(&mut self.rng).unwrap();
            let at = start + SignedDuration::from_secs(i * self.rng.random_range(2..20));
            let reason = *["wrong_password", "unknown_user", "account_locked"].choose(&mut self.rng).unwrap();
            self.push(at, json!({
                "action": actions::AUTH_LOGIN_FAILED, "outcome": "failure",
                "actor": {"email": victim.email, "type": "user"},
                "description": format!("failed sign-in for {} from {city}: {}", victim.email, reason.replace('_', " ")),
                "context": {"ip": ip, "user_agent": ua, "location": {"country": country, "region": region, "city": city}},
                "metadata": {"reason": reason}
            }));
        }
    }
}

/// Generates the demo's events, oldest first, ending at `now`.
pub fn events(now: Timestamp, tz: &TimeZone) -> Vec<(Timestamp, Value)> {
    let mut g = Gen { rng: StdRng::seed_from_u64(2026), events: Vec::new(), n: 0 };
    let today = now.to_zoned(tz.clone()).date();
    for back in (0..DAYS).rev() {
        let date = today.checked_sub(back.days()).expect("date in range");
        let Some(day_start) = trail_core::time::start_of_day(Some(date), tz) else { continue };
        let weekend = matches!(date.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday);
        for p in STAFF {
            if !weekend && g.rng.random_bool(0.85) || weekend && g.rng.random_bool(0.1) {
                let start = day_start + SignedDuration::from_mins(g.rng.random_range(7 * 60 + 30..10 * 60));
                g.staff_day(p, start, DAYS - back);
            }
        }
        g.api_traffic(day_start);
        if !weekend {
            g.sms_campaign(day_start, DAYS - back);
        }
        if g.rng.random_bool(0.6) {
            g.attacks(day_start);
        }
    }
    g.events.retain(|(at, _)| *at <= now);
    g.events.sort_by_key(|(at, _)| *at);
    g.events
}

/// Creates the `demo` tenant with its history (enriched by `app`'s enricher, appended through
/// `app`) and its console members, unless it exists. Returns whether it was created and how many
/// events it holds.
pub async fn seed(app: &App) -> anyhow::Result<(bool, u64)> {
    let (store, config, enricher) = (&**app.store(), app.config(), app.enricher());
    let id = TenantId::parse(TENANT)?;
    if let Some(t) = store.tenant(&id).await? {
        return Ok((false, t.event_count));
    }
    let plan = if config.plans.contains_key("business") { "business" } else { config.default_plan.as_str() };
    let req = TenantRequest {
        id: TENANT.into(),
        name: Some("Acme Legal (demo)".into()),
        plan: Some(plan.into()),
        time_zone: Some("Europe/London".into()),
    };
    tenants::create_tenant(store, config, req).await?;
    let tz = trail_core::time::time_zone("Europe/London").map_err(anyhow::Error::msg)?;
    let now = Timestamp::now();
    let all = events(now, &tz);
    let mut total = 0;
    for chunk in all.chunks(1000) {
        let batch = chunk
            .iter()
            .map(|(at, v)| {
                let received = trail_core::time::truncate_us(*at + SignedDuration::from_millis(40));
                let e = NewEvent::from_json(&v.to_string(), now)
                    .map_err(|e| anyhow::anyhow!("demo event {v}: {}", e.message))?;
                Ok(PreparedEvent::new(e, received, |body| enricher.enrich(body)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        total = app.append(&id, batch).await?.tree_size;
    }
    for (email, name, role, password, actor_id) in MEMBERS {
        let req = MemberRequest {
            email: (*email).into(),
            name: (*name).into(),
            role: (*role).into(),
            password: (*password).into(),
            actor_id: actor_id.map(str::to_owned),
        };
        members::add_member(app, &Origin::none(), &Principal::Operator, &id, req).await?;
    }
    let total = store.tenant(&id).await?.map_or(total, |t| t.event_count);
    Ok((true, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_demo_covers_every_category_and_validates() {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let evs = events(now, &TimeZone::UTC);
        assert!(evs.len() > 5_000, "{} events", evs.len());
        let mut categories = BTreeSet::new();
        for (_, v) in &evs {
            let e = NewEvent::from_json(&v.to_string(), now).unwrap_or_else(|e| panic!("{v}: {e:?}"));
            categories.insert(e.action.default_category().as_str().to_owned());
        }
        for c in ["auth", "panel", "api", "message", "sms", "link", "file", "document"] {
            assert!(categories.contains(c), "no {c} events in {categories:?}");
        }
        let first = evs.first().unwrap().0;
        assert!(now.duration_since(first) > SignedDuration::from_hours(24 * 35), "weeks of history");
        let failed_abroad = evs
            .iter()
            .filter(|(_, v)| v["action"] == "auth.login.failed" && v["context"]["location"]["country"] == "RU")
            .count();
        assert!(failed_abroad > 0);
    }

    /// The demo's history, its members and their `trail.member.added` events all enter the log
    /// through `App::append`: the bus's notices, heard from before the seeding starts, cover
    /// every event of the tenant exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_demo_event_is_announced_once_on_the_bus() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(trail_store_sqlite::SqliteStore::open(dir.path()).unwrap());
        let config = trail_app::AppConfig {
            server_name: "test".into(),
            plans: trail_app::plans::builtin(),
            default_plan: "enterprise".into(),
            limits: trail_core::event::Limits::default(),
            signing_key: std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[7; 32])),
            checkpoint_journal: None,
        };
        let app = App::new(store, config);
        let mut bus = app.subscribe();
        let (created, count) = seed(&app).await.unwrap();
        assert!(created);
        let mut notices = Vec::new();
        loop {
            match bus.try_recv() {
                Ok(n) => notices.push(n),
                Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                Err(e) => panic!("the bus lost notices: {e}"),
            }
        }
        let id = TenantId::parse(TENANT).unwrap();
        assert!(notices.iter().all(|n| n.tenant == id), "only the demo tenant was appended to");
        notices.sort_by_key(|n| n.first_seq);
        let announced: u64 = notices.iter().map(|n| n.last_seq - n.first_seq + 1).sum();
        let stored = app.store().tenant(&id).await.unwrap().unwrap().event_count;
        assert_eq!((announced, stored), (count, count), "{} notices", notices.len());
        // Sorted, each notice starts right after the one before: no gap and no overlap.
        let mut next = 1;
        for n in &notices {
            assert_eq!(n.first_seq, next, "{n:?}");
            next = n.last_seq + 1;
        }
        assert_eq!(notices.last().map(|n| n.tree_size), Some(count));
        let members = app.store().members(&id).await.unwrap();
        assert_eq!(members.len(), MEMBERS.len());
    }
}
