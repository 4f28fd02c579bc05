//! The web console over HTTP: sign-in, sessions and CSRF, throttling, what each role
//! sees, escaping, and the audit events of viewing. The browser tests (`e2e/`) drive the same
//! pages in Chromium; these pin the server's side of the contract without a browser.

use std::collections::HashMap;

use reqwest::{Client, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use crate::helpers::*;

/// A browser without a browser: keeps cookies, does not follow redirects.
struct Browser<'a> {
    server: &'a TestServer,
    client: Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Page {
    /// The value of the first `name="..." value="..."` hidden input.
    fn hidden(&self, name: &str) -> String {
        let at = self
            .body
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no {name} in {}", self.body));
        let rest = &self.body[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The seqs of the table's rows, in order.
    fn seqs(&self) -> Vec<u64> {
        self.body.split("data-seq=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap()).collect()
    }

    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// The user agent every [`Browser`] sends.
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

impl<'a> Browser<'a> {
    fn new(server: &'a TestServer) -> Self {
        let client = Client::builder().redirect(Policy::none()).user_agent(FIREFOX).build().unwrap();
        Browser { server, client, cookies: HashMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let resp = req.header(header::COOKIE, self.cookie_header()).send().await.unwrap();
        for c in resp.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let (status, headers) = (resp.status(), resp.headers().clone());
        Page { status, headers, body: resp.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(self.server.url(path));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(self.server.url(path)).form(form);
        self.send(req).await
    }

    /// Signs in through the form; returns the answer to the form's POST.
    async fn sign_in(&mut self, tenant: &str, email: &str, password: &str) -> Page {
        let form = self.get(&format!("/console/sign-in?tenant={tenant}")).await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.hidden("csrf");
        self.post("/console/sign-in", &[("csrf", &csrf), ("tenant", tenant), ("email", email), ("password", password)])
            .await
    }
}

async fn member(s: &TestServer, tenant: &str, email: &str, role: &str, actor_id: Option<&str>) {
    let mut body = json!({"email": email, "name": email.split('@').next().unwrap(), "role": role, "password": "correct horse battery"});
    if let Some(a) = actor_id {
        body["actor_id"] = json!(a);
    }
    let (st, b) = s.post(&format!("/v1/tenants/{tenant}/members"), OPERATOR, &body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn signing_in_opens_a_session_cookie_and_signing_out_ends_it() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let mut b = Browser::new(&s);
    assert_eq!(b.get("/console/activity").await.location(), "/console/sign-in", "signed out: to the sign-in page");

    let resp = b.sign_in("acme", "Maya@Acme.example", "correct horse battery").await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    assert_eq!(resp.location(), "/console/activity");
    let set: Vec<&str> = resp.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    let session = set.iter().find(|c| c.starts_with("trail_session=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: no Secure flag, or the browser would drop it");

    let page = b.get("/console/activity").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Activity</h1>"));
    let csp = page.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");

    // Signing out needs the session's CSRF token, then the cookie is gone and so is the session.
    let token = page.hidden("csrf");
    let stale = b.cookies.get("trail_session").unwrap().clone();
    assert_eq!(b.post("/console/sign-out", &[("csrf", "forged")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/console/activity").await.status, StatusCode::OK, "still signed in");
    assert_eq!(b.post("/console/sign-out", &[("csrf", &token)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/console/activity").await.location(), "/console/sign-in");
    // The old cookie, replayed, opens nothing.
    b.cookies.insert("trail_session".into(), stale);
    assert_eq!(b.get("/console/activity").await.location(), "/console/sign-in");
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_tls() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    let form = client.get(s.url("/console/sign-in")).header("x-forwarded-proto", "https").send().await.unwrap();
    let form_cookie = form.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(form_cookie.contains("Secure"), "{form_cookie}");
    let page = Page { status: form.status(), headers: form.headers().clone(), body: form.text().await.unwrap() };
    let resp = client
        .post(s.url("/console/sign-in"))
        .header("x-forwarded-proto", "https")
        .header(header::COOKIE, form_cookie.split(';').next().unwrap())
        .form(&[
            ("csrf", page.hidden("csrf").as_str()),
            ("tenant", "acme"),
            ("email", "maya@acme.example"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session: Vec<&str> = resp.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(session.iter().any(|c| c.starts_with("trail_session=") && c.contains("Secure")), "{session:?}");
}

#[tokio::test]
async fn sign_in_needs_the_form_token_and_wrong_passwords_are_throttled() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let mut b = Browser::new(&s);
    // A form posted from elsewhere carries no token of ours.
    let forged = b
        .post(
            "/console/sign-in",
            &[("csrf", "x"), ("tenant", "acme"), ("email", "maya@acme.example"), ("password", "correct horse battery")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("trail_session"));

    // Unknown account and wrong password read the same.
    let unknown = b.sign_in("acme", "nobody@acme.example", "correct horse battery").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    for _ in 0..4 {
        let wrong = b.sign_in("acme", "maya@acme.example", "wrong password!!").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("do not match"), "{}", wrong.body);
    }
    let fifth = b.sign_in("acme", "maya@acme.example", "wrong password!!").await;
    assert_eq!(fifth.status, StatusCode::UNAUTHORIZED);
    // Five failures: now even the right password waits.
    let sixth = b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS, "{}", sixth.body);
    assert!(sixth.body.contains("try again in"), "{}", sixth.body);
    assert!(!b.cookies.contains_key("trail_session"));
}

#[tokio::test]
async fn activity_shows_exactly_what_the_api_returns_for_the_same_filters() {
    let s = TestServer::start().await;
    s.tenant_in("acme", "Asia/Kolkata").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let mut events = Vec::new();
    for i in 0..130 {
        let who = ["u_1", "u_2", "u_3"][i % 3];
        let action = ["document.signed", "auth.login.failed", "file.uploaded"][i % 4 % 3];
        let word = if i % 5 == 0 { "contract" } else { "invoice" };
        events.push(json!({"action": action, "actor": {"id": who, "name": format!("User {who}")},
            "description": format!("{word} number {i}"), "context": {"ip": format!("203.0.113.{}", i % 200)}}));
    }
    s.ingest("acme", Value::Array(events)).await;
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in("acme", "maya@acme.example", "correct horse battery").await.status, StatusCode::SEE_OTHER);

    // The form as a browser sends it: empty fields, several users and report types.
    let form = "q=invoice&range=last_7_days&from=&to=&actor=u_1&actor=u_2&action=document.signed&action=file.uploaded";
    let api = "q=invoice&range=last_7_days&actor=u_1&actor=u_2&action=document.signed&action=file.uploaded";
    let want = seqs(&s.events("acme", api).await);
    assert!(want.len() > 50, "more than a page: {}", want.len());
    let page = b.get(&format!("/console/activity?{form}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut shown = page.seqs();
    assert_eq!(shown, want[..50], "the first page, newest first");
    // Load more: the rows endpoint, following its next links until there are none.
    let mut next = page.body.split("data-rows=\"").nth(1).map(|r| r[..r.find('"').unwrap()].replace("&#38;", "&"));
    while let Some(path) = next {
        let more = b.get(&path).await;
        assert_eq!(more.status, StatusCode::OK);
        shown.extend(more.seqs());
        next = more.headers.get("x-next-rows").map(|v| v.to_str().unwrap().to_owned());
    }
    assert_eq!(shown, want);
    // The downloads are of exactly this view.
    assert!(
        page.body.contains(&format!("href=\"/v1/tenants/acme/export?format=csv&#38;{}\"", api.replace('&', "&#38;"))),
        "{}",
        page.body
    );
    // The chart counts the same events.
    assert!(page.body.contains(&format!("{} events,", want.len())), "caption");
    // Selected choices stay selected.
    assert!(page.body.contains("<option value=\"u_2\" selected>"));
    assert!(page.body.contains("<option value=\"file.uploaded\" selected>"));
    assert!(page.body.contains("<option value=\"last_7_days\" selected>"));

    // Custom dates are used only with range=custom; a bad filter says what is wrong.
    let custom = b.get("/console/activity?range=custom&from=2020-01-01&to=2020-01-02").await;
    assert_eq!(custom.seqs(), Vec::<u64>::new());
    assert!(custom.body.contains("No events match"));
    let bad = b.get("/console/activity?q=%22unclosed").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("role=\"alert\""), "{}", bad.body);
}

#[tokio::test]
async fn everything_shown_is_escaped() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let r = s
        .ingest(
            "acme",
            json!({"action": "document.signed", "actor": {"id": "u_\"x", "name": evil, "email": "e@x.example"},
            "targets": [{"type": "document", "id": "d1", "name": evil}], "description": evil, "metadata": {"k": evil}}),
        )
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    for path in ["/console/activity".to_string(), format!("/console/events/{seq}"), "/console/users".into()] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains("<script>alert") && !page.body.contains("<img src=x"), "{path}: {}", page.body);
        assert!(page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{path} shows it as text");
        assert_eq!(page.body.matches("<script").count(), 1, "{path}: only the console's own script");
    }
    let activity = b.get(&format!("/console/activity?actor={}", "u_%22x")).await;
    assert!(activity.body.contains("value=\"u_&#34;x\" selected"), "attribute values escaped too");
}

/// Regression: the event page of a stored event that cannot be decoded answered 500 (its
/// proof read the damaged record); it shows the placeholder and a failed proof.
#[tokio::test]
async fn a_damaged_event_has_a_page_saying_so() {
    let s = TestServer::start().await;
    if !s.store_is_in_dir() {
        return; // the record is damaged through the SQLite file
    }
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let r = s.ingest("acme", json!([{"action": "a.b"}, {"action": "a.c"}, {"action": "a.d"}])).await;
    let bad = r["events"][1]["seq"].as_u64().unwrap();
    crate::integrity::wait_for_checkpoint(&s, "acme", r["tree_size"].as_u64().unwrap()).await;
    trail_store_sqlite::tamper::garble_event(s.dir(), "acme", bad).unwrap();
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let page = b.get(&format!("/console/events/{bad}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Proof failed") && page.body.contains("cannot be read"), "{}", page.body);
}

#[tokio::test]
async fn a_member_sees_only_their_own_events_and_pages() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "asha@acme.example", "member", Some("u_1")).await;
    let r = s
        .ingest(
            "acme",
            json!([
                {"action": "file.uploaded", "actor": {"id": "u_1"}, "description": "mine"},
                {"action": "file.uploaded", "actor": {"id": "u_2"}, "description": "theirs"},
                {"action": "file.uploaded", "actor": {"id": "u_1"}, "description": "mine too"}
            ]),
        )
        .await;
    let [mine, theirs, mine_too] = [0, 1, 2].map(|i| r["events"][i]["seq"].as_u64().unwrap());
    let mut b = Browser::new(&s);
    b.sign_in("acme", "asha@acme.example", "correct horse battery").await;
    let page = b.get("/console/activity").await;
    assert!(page.body.contains("<h1>My activity</h1>"));
    assert_eq!(page.seqs(), [mine_too, mine]);
    assert!(!page.body.contains("name=\"actor\""), "no user picker for a member");
    // Asking for someone else's events by URL still shows only their own.
    assert_eq!(b.get("/console/activity?actor=u_2").await.seqs(), Vec::<u64>::new());
    assert_eq!(b.get(&format!("/console/events/{theirs}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/console/events/{mine}")).await.status, StatusCode::OK);
    assert_eq!(b.get("/console/users").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/console/integrity").await.status, StatusCode::NOT_FOUND);
    // Their downloads are narrowed the same way by the export route.
    let csv = b.get("/v1/tenants/acme/export?format=csv&range=all").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("mine") && !csv.body.contains("theirs"), "{}", csv.body);
}

#[tokio::test]
async fn a_viewer_token_link_signs_in() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let r = s
        .ingest("acme", json!([{"action": "a.b", "actor": {"id": "u_1"}}, {"action": "a.b", "actor": {"id": "u_2"}}]))
        .await;
    let theirs = r["events"][1]["seq"].as_u64().unwrap();
    let (st, t) =
        s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "u_2"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let mut b = Browser::new(&s);
    let opened = b.get(t["url"].as_str().unwrap()).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert_eq!(opened.location(), "/console/activity");
    let page = b.get("/console/activity").await;
    assert!(page.body.contains("<h1>My activity</h1>"));
    // Their own events: the one ingested, and their viewing of the log (a viewer acts as the
    // SaaS user the token names, so it is their own event too), shown when asked for.
    let own = s.events("acme", "range=all&actor=u_2").await;
    assert_eq!(own.iter().map(|e| e["action"].as_str().unwrap()).collect::<Vec<_>>(), ["trail.logs.viewed", "a.b"]);
    assert_eq!(own[1]["seq"], theirs);
    assert_eq!(page.seqs(), [theirs], "Trail's own events are hidden by default");
    assert_eq!(b.get("/console/activity?range=all&show_trail=1").await.seqs(), seqs(&own));
    // A manager's token naming a SaaS user: what they do is attributed to that user.
    let (_, m) = s
        .post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "manager", "actor_id": "u_7", "name": "Sam"}))
        .await;
    let mut manager = Browser::new(&s);
    manager.get(m["url"].as_str().unwrap()).await;
    let all = manager.get("/console/activity?range=all&show_trail=1").await;
    assert!(all.seqs().len() >= 3, "a manager sees everyone's events");
    let theirs = s.events("acme", "range=all&actor=u_7").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(
        (theirs[0]["action"].as_str(), theirs[0]["actor"]["name"].as_str()),
        (Some("trail.logs.viewed"), Some("Sam"))
    );
    // A token changed by one character opens nothing.
    let mut forged = t["token"].as_str().unwrap().to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let mut other = Browser::new(&s);
    assert_eq!(other.get(&format!("/console/viewer?token={forged}")).await.status, StatusCode::UNAUTHORIZED);
    assert!(!other.cookies.contains_key("trail_session"));
}

/// Regression: a viewer link with role admin reached Settings and could create a permanent
/// admin API key there. The page shows without its forms, and a change posted anyway is refused.
#[tokio::test]
async fn an_admin_viewer_link_sees_settings_but_changes_nothing() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let (st, t) = s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "admin", "name": "Ada"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let mut b = Browser::new(&s);
    b.get(t["url"].as_str().unwrap()).await;
    let page = b.get("/console/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"viewer-read-only\""), "{}", page.body);
    for form in ["/console/settings/keys\"", "/console/settings/members\"", "/console/settings/account\""] {
        assert!(!page.body.contains(form), "no form posting to {form}");
    }
    let csrf = page.hidden("csrf");
    let tries = [
        b.post("/console/settings/keys", &[("csrf", &csrf), ("name", "forever"), ("scope", "admin")]).await,
        b.post(
            "/console/settings/members",
            &[
                ("csrf", &csrf),
                ("email", "eve@acme.example"),
                ("name", "Eve"),
                ("role", "admin"),
                ("password", "another long password"),
            ],
        )
        .await,
        b.post("/console/settings/account", &[("csrf", &csrf), ("name", "Taken"), ("time_zone", "UTC")]).await,
    ];
    for got in tries {
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
        assert!(got.body.contains("viewer token is for viewing"), "{}", got.body);
        assert!(!got.body.contains("new-token"), "no key was made");
    }
    let (_, keys) = s.get("/v1/tenants/acme/keys", OPERATOR).await;
    assert!(keys["keys"].as_array().unwrap().is_empty(), "{keys}");
    let (_, members) = s.get("/v1/tenants/acme/members", OPERATOR).await;
    assert!(members["members"].as_array().unwrap().is_empty(), "{members}");
    let (_, tenant) = s.get("/v1/tenants/acme", OPERATOR).await;
    assert_eq!(tenant["name"], "Tenant acme");
}

/// Regression: one event dated 1970 made the chart of `range=all` "No events in this range."
/// (its days were more than the timeline allows); it now counts by month.
#[tokio::test]
async fn the_chart_of_all_time_counts_an_event_from_1970() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    s.ingest("acme", json!([{"action": "a.x", "occurred_at": "1970-01-01T00:00:00Z"}, {"action": "a.x"}])).await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let page = b.get("/console/activity?range=all&action=a.x").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("2 events, 1 Jan 1970 to "), "{}", page.body);
    assert!(page.body.contains("Jan 1970"), "bars labelled by month");
}

// Regression: every change of filter, every new session and every return to a page wrote
// another `trail.logs.viewed`, so the top of Activity was the console's own traffic. Now one
// per person and view in ten minutes.
#[tokio::test]
async fn viewing_the_log_is_logged_once_per_person_and_view() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    s.ingest("acme", json!([{"action": "a.b", "actor": {"id": "u_1"}}])).await;
    let seq = s.events("acme", "range=all&action=a.b").await[0]["seq"].as_u64().unwrap();
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let viewed = || async { s.events("acme", "range=all&action=trail.logs.viewed").await };
    // The same page three times, with other filters, around an event's page, and from a
    // second session: one event for Activity.
    let page = b.get("/console/activity?range=all&actor=u_1").await;
    assert_eq!(page.status, StatusCode::OK);
    b.get("/console/activity?range=all&actor=u_1").await;
    b.get(&format!("/console/events/{seq}")).await;
    b.get("/console/activity?range=today&q=invoice").await;
    let mut again = Browser::new(&s);
    again.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    again.get("/console/activity").await;
    let v = viewed().await;
    let views: Vec<&Value> = v.iter().map(|e| &e["metadata"]["view"]).collect();
    assert_eq!(views, [&json!("event"), &json!("activity")], "{v:?}");
    // The event holds the first view's filters, who viewed, and from where.
    assert_eq!(v[1]["metadata"]["filters"], json!({"range": "all", "actor": "u_1", "q": "-category:trail"}));
    assert_eq!(v[1]["actor"]["name"], "maya");
    assert_eq!(v[1]["context"]["ip"], "127.0.0.1");
    assert_eq!(v[0]["metadata"], json!({"view": "event", "seq": seq}));
    // Load more and the rows alone are the same view.
    if let Some(r) = page.body.split("data-rows=\"").nth(1) {
        b.get(&r[..r.find('"').unwrap()].replace("&#38;", "&")).await;
    }
    assert_eq!(b.get("/console/activity/rows?range=all&q=nothing-like-this").await.status, StatusCode::OK);
    b.get(&format!("/console/events/{seq}")).await;
    assert_eq!(viewed().await.len(), 2);
    // Another person's view of the same page is theirs.
    member(&s, "acme", "dana@acme.example", "manager", None).await;
    let mut dana = Browser::new(&s);
    dana.sign_in("acme", "dana@acme.example", "correct horse battery").await;
    dana.get("/console/activity").await;
    assert_eq!(viewed().await.len(), 3);
}

// Regression: console sign-ins, key creation and exports carried no address or user agent,
// unlike every product event, so Trail's own events could not be traced to a place or client.
#[tokio::test]
async fn trails_own_events_carry_the_requests_address_and_user_agent() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "dana@acme.example", "admin", None).await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "dana@acme.example", "correct horse battery").await;
    let csrf = b.get("/console/settings").await.hidden("csrf");
    let created = b.post("/console/settings/keys", &[("csrf", &csrf), ("name", "prod"), ("scope", "read")]).await;
    assert!(created.body.contains("new-token"), "{}", created.body);
    assert_eq!(b.get("/v1/tenants/acme/export?format=csv&range=all").await.status, StatusCode::OK);
    for action in ["trail.member.signed_in", "trail.key.created", "trail.logs.exported"] {
        let e = s.events("acme", &format!("range=all&action={action}")).await;
        assert_eq!(e.len(), 1, "{action}");
        let ctx = &e[0]["context"];
        assert_eq!(ctx["ip"], "127.0.0.1", "{action}: {e:?}");
        assert_eq!(ctx["user_agent"], FIREFOX, "{action}");
        // Enriched like an ingested event: the client comes from the user agent.
        assert_eq!(ctx["client"]["browser"].as_str().map(|b| b.starts_with("Firefox")), Some(true), "{action}: {ctx}");
    }
    // From the API too; the operator's client sends no user agent.
    let (st, _) = s.post("/v1/tenants/acme/keys", OPERATOR, &json!({"name": "ci", "scopes": ["ingest"]})).await;
    assert_eq!(st, StatusCode::CREATED);
    let e = s.events("acme", "range=all&action=trail.key.created").await;
    assert_eq!(e[0]["context"], json!({"ip": "127.0.0.1"}));
}

// Regression: a failed console sign-in left no trace in the account's log.
#[tokio::test]
async fn failed_sign_ins_are_logged_with_the_email_and_address_at_most_once_a_minute() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let members = s.get("/v1/tenants/acme/members", OPERATOR).await.1;
    let maya_id = members["members"][0]["id"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&s);
    let failed = || async { s.events("acme", "range=all&action=trail.member.sign_in_failed").await };

    let unknown = b.sign_in("acme", "Nobody@acme.example", "correct horse battery").await;
    let wrong = b.sign_in("acme", "maya@acme.example", "wrong password!!").await;
    // The person signing in is told the same either way.
    assert_eq!((unknown.status, wrong.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert!(unknown.body.contains("do not match") && wrong.body.contains("do not match"));
    let f = failed().await;
    assert_eq!(f.len(), 2, "{f:?}");
    let (w, u) = (&f[0], &f[1]);
    assert_eq!(u["actor"], json!({"email": "nobody@acme.example", "type": "user"}));
    assert_eq!(u["metadata"], json!({"reason": "unknown_member", "attempts": 1}));
    assert_eq!((u["outcome"].as_str(), u["category"].as_str()), (Some("failure"), Some("trail")));
    assert_eq!(u["context"]["ip"], "127.0.0.1");
    assert_eq!(u["context"]["user_agent"], FIREFOX);
    assert_eq!(w["actor"]["id"], maya_id.as_str(), "a member's failure names the member");
    assert_eq!(w["actor"]["email"], "maya@acme.example");
    assert_eq!(w["metadata"]["reason"], "wrong_password");

    // More failures for the same e-mail from the same address within the minute are held
    // back (counted, not written now), and the throttle still stops the attempts.
    for _ in 0..4 {
        assert_eq!(b.sign_in("acme", "maya@acme.example", "wrong password!!").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(failed().await.len(), 2, "at most one a minute per address and e-mail");
    let sixth = b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(failed().await.len(), 2, "a refused attempt is not checked and not written");
    // An account that does not exist has no log to write to.
    assert_eq!(b.sign_in("nosuch", "maya@acme.example", "x").await.status, StatusCode::UNAUTHORIZED);
}

// Regression: the activity view listed Trail's own events (sign-ins, views, exports) among the
// product's, newest first, so the console's own traffic buried what people came to see.
#[tokio::test]
async fn activity_hides_trails_own_events_until_asked() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    member(&s, "acme", "asha@acme.example", "member", Some("u_1")).await;
    let r = s.ingest("acme", json!([{"action": "a.b", "actor": {"id": "u_1"}}, {"action": "c.d"}])).await;
    let product: Vec<u64> = (0..2).rev().map(|i| r["events"][i]["seq"].as_u64().unwrap()).collect();
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;

    let page = b.get("/console/activity?range=all").await;
    assert_eq!(page.seqs(), product, "only the product's events");
    assert!(page.body.contains("name=\"show_trail\" value=\"1\" id=\"show-trail\">"), "the toggle, off");
    // The table is what the API gives for the same view, and the downloads say so.
    let api = s.events("acme", "range=all&q=-category:trail").await;
    assert_eq!(page.seqs(), seqs(&api));
    assert!(page.body.contains("export?format=csv&#38;range=all&#38;q=-category%3Atrail\""), "{}", page.body);

    // One click shows them, and the toggle stays on in the URL of the next pages.
    let shown = b.get("/console/activity?range=all&show_trail=1").await;
    let everything = s.events("acme", "range=all").await;
    assert!(everything.iter().any(|e| e["action"] == "trail.member.signed_in"));
    assert_eq!(shown.seqs(), seqs(&everything));
    assert!(shown.body.contains("id=\"show-trail\" checked>"), "the toggle, on");
    // Asking for Trail's actions by name shows them without the toggle.
    let asked = b.get("/console/activity?range=all&action=trail.member.signed_in").await;
    assert_eq!(asked.seqs(), seqs(&s.events("acme", "range=all&action=trail.member.signed_in").await));
    assert_eq!(asked.seqs().len(), 1);

    // My activity: the same default.
    let mut asha = Browser::new(&s);
    asha.sign_in("acme", "asha@acme.example", "correct horse battery").await;
    assert_eq!(asha.get("/console/activity?range=all").await.seqs(), [product[1]]);
}

#[tokio::test]
async fn an_event_page_shows_every_field_and_its_proof() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let r = s
        .ingest("acme", json!({"action": "document.signed", "actor": {"id": "u_1", "name": "Asha Rao"},
            "description": "signed NDA", "context": {"ip": "203.0.113.7", "session_id": "s_77"}, "metadata": {"sign_type": "aadhaar"}}))
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    // Checkpoints are signed within a second of new events.
    let mut page = b.get(&format!("/console/events/{seq}")).await;
    for _ in 0..50 {
        if page.body.contains("data-proven=\"true\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = b.get(&format!("/console/events/{seq}")).await;
    }
    assert!(page.body.contains("data-proven=\"true\""), "{}", page.body);
    for text in ["Asha Rao", "signed NDA", "203.0.113.7", "s_77", "sign_type: aadhaar", "Document signed"] {
        assert!(page.body.contains(text), "{text} missing");
    }
    assert_eq!(b.get("/console/events/999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/console/events/nope").await.status, StatusCode::NOT_FOUND);

    // Verify now checks the whole log, with the session's form token only.
    let integrity = b.get("/console/integrity").await;
    assert_eq!(integrity.status, StatusCode::OK);
    assert_eq!(b.post("/console/integrity/verify", &[("csrf", "forged")]).await.status, StatusCode::FORBIDDEN);
    let verified = b.post("/console/integrity/verify", &[("csrf", &integrity.hidden("csrf"))]).await;
    assert!(verified.body.contains("data-ok=\"true\""), "{}", verified.body);
    assert_eq!(s.events("acme", "range=all&action=trail.integrity.verified").await.len(), 1);
}

#[tokio::test]
async fn users_lists_everyone_seen_with_a_logs_link() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let r = s
        .ingest("acme", json!([
            {"action": "auth.login.succeeded", "actor": {"id": "u_1", "name": "Asha Rao", "email": "asha@acme.example"}},
            {"action": "auth.login.failed", "actor": {"email": "ben@acme.example"}}
        ]))
        .await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let page = b.get("/console/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/v1/tenants/acme/export?format=csv&#38;view=users&#38;range=all"), "{}", page.body);
    assert!(page.body.contains("data-actor=\"u_1\"") && page.body.contains("data-actor=\"ben@acme.example\""));
    assert!(page.body.contains("href=\"/console/activity?range=all&#38;actor=ben%40acme.example\""), "{}", page.body);
    let logs = b.get("/console/activity?range=all&actor=ben%40acme.example").await;
    assert_eq!(logs.seqs(), [r["events"][1]["seq"].as_u64().unwrap()]);
}

#[tokio::test]
async fn admins_manage_the_account_members_and_keys_in_settings() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "dana@acme.example", "admin", None).await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let mut manager = Browser::new(&s);
    manager.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    assert_eq!(manager.get("/console/settings").await.status, StatusCode::NOT_FOUND);
    assert!(!manager.get("/console/activity").await.body.contains("/console/settings"), "no Settings link");

    let mut b = Browser::new(&s);
    b.sign_in("acme", "dana@acme.example", "correct horse battery").await;
    let page = b.get("/console/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.hidden("csrf");
    assert!(page.body.contains("maya@acme.example") && page.body.contains("enterprise"));

    // Without the form token nothing changes.
    let forged = b.post("/console/settings/account", &[("csrf", "x"), ("name", "Hacked"), ("time_zone", "UTC")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let saved = b
        .post("/console/settings/account", &[("csrf", &csrf), ("name", "Acme Ltd"), ("time_zone", "Asia/Kolkata")])
        .await;
    assert!(saved.body.contains("data-ok=\"true\""), "{}", saved.body);
    let (_, t) = s.get("/v1/tenants/acme", OPERATOR).await;
    assert_eq!((t["name"].as_str(), t["time_zone"].as_str()), (Some("Acme Ltd"), Some("Asia/Kolkata")));
    let bad_zone =
        b.post("/console/settings/account", &[("csrf", &csrf), ("name", "Acme Ltd"), ("time_zone", "Mars/Base")]).await;
    assert_eq!(bad_zone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_zone.body.contains("Mars/Base"), "says what is wrong: {}", bad_zone.body);

    // A member added here can sign in; an admin cannot add an owner.
    let added = b
        .post(
            "/console/settings/members",
            &[
                ("csrf", &csrf),
                ("email", "asha@acme.example"),
                ("name", "Asha"),
                ("role", "member"),
                ("actor_id", "u_1"),
                ("password", "another long password"),
            ],
        )
        .await;
    assert!(added.body.contains("Added Asha"), "{}", added.body);
    assert_eq!(
        Browser::new(&s).sign_in("acme", "asha@acme.example", "another long password").await.status,
        StatusCode::SEE_OTHER
    );
    let owner = b
        .post(
            "/console/settings/members",
            &[
                ("csrf", &csrf),
                ("email", "o@acme.example"),
                ("name", "O"),
                ("role", "owner"),
                ("password", "another long password"),
            ],
        )
        .await;
    assert_eq!(owner.status, StatusCode::FORBIDDEN, "only owners touch owners");

    // A key's token is shown once, and revoking it stops it.
    let created = b
        .post("/console/settings/keys", &[("csrf", &csrf), ("name", "prod"), ("scope", "ingest"), ("scope", "read")])
        .await;
    let token = created
        .body
        .split("<code id=\"new-token\">")
        .nth(1)
        .map(|t| t[..t.find('<').unwrap()].to_owned())
        .expect("token shown");
    assert!(token.starts_with("trail_key_"));
    assert_eq!(s.post("/v1/tenants/acme/events", &token, &json!({"action": "a.b"})).await.0, StatusCode::CREATED);
    assert_eq!(s.get("/v1/tenants/acme/events", &token).await.0, StatusCode::OK, "both scopes granted");
    let again = b.get("/console/settings").await;
    assert!(!again.body.contains(&token), "never shown again");
    let key_id = again.body.split("data-key=\"").nth(1).map(|k| k[..k.find('"').unwrap()].to_owned()).unwrap();
    let revoked = b.post(&format!("/console/settings/keys/{key_id}/revoke"), &[("csrf", &csrf)]).await;
    assert!(revoked.body.contains("Revoked API key prod"), "{}", revoked.body);
    assert_eq!(s.post("/v1/tenants/acme/events", &token, &json!({"action": "a.b"})).await.0, StatusCode::UNAUTHORIZED);

    // Each change is in the tenant's own log.
    let logged: Vec<String> = s
        .events("acme", "range=all&category=trail")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for a in ["trail.settings.changed", "trail.member.added", "trail.key.created", "trail.key.revoked"] {
        assert!(logged.iter().any(|l| l == a), "{a} in {logged:?}");
    }
}

#[tokio::test]
async fn sign_in_refuses_huge_forms_and_sms_phones_are_masked_for_managers() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let mut b = Browser::new(&s);
    let form = b.get("/console/sign-in?tenant=acme").await;
    let csrf = form.hidden("csrf");
    let huge = "a".repeat(100_000);
    let resp =
        b.post("/console/sign-in", &[("csrf", &csrf), ("tenant", "acme"), ("email", &huge), ("password", "x")]).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE, "console forms are small");
    let long = format!("{}@acme.example", "a".repeat(300));
    let resp =
        b.post("/console/sign-in", &[("csrf", &csrf), ("tenant", "acme"), ("email", &long), ("password", "x")]).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);

    let r = s
        .ingest("acme", json!({"action": "sms.failed", "metadata": {"phone": "+447700900123", "gateway": "g1"}}))
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let page = b.get(&format!("/console/events/{seq}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("7700900123") && page.body.contains("0123"), "masked for a manager: {}", page.body);
}

#[tokio::test]
async fn logins_shows_the_login_report_with_logs_links() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    member(&s, "acme", "asha@acme.example", "member", Some("u_1")).await;
    let ago = |h: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(h)).to_string();
    s.ingest("acme", json!([
        {"action": "auth.login.failed", "occurred_at": ago(3), "actor": {"id": "u_1", "name": "Asha <Rao>"}, "context": {"ip": "203.0.113.7", "location": {"country": "IN", "city": "Bengaluru"}}},
        {"action": "auth.login.failed", "occurred_at": ago(2), "actor": {"id": "u_1", "name": "Asha <Rao>"}, "context": {"ip": "203.0.113.7"}},
        {"action": "auth.login.succeeded", "occurred_at": ago(1), "actor": {"id": "u_2", "name": "Ben"}, "context": {"ip": "198.51.100.4"}}
    ]))
    .await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let page = b.get("/console/logins?range=last_7_days").await;
    assert_eq!(page.status, StatusCode::OK);
    let (_, api) = s.get("/v1/tenants/acme/reports/logins?range=last_7_days", OPERATOR).await;
    let names: Vec<&str> = api["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ben", "Asha <Rao>"]);
    let ben = page.body.find(">Ben<").expect("Ben listed");
    let asha = page.body.find("Asha &#60;Rao&#62;").expect("Asha listed, escaped");
    assert!(ben < asha, "latest attempt first");
    assert!(page.body.contains("<td class=\"num\">2</td>"), "Asha's two failures");
    assert!(page.body.contains("href=\"/console/activity?range=last_7_days&#38;actor=u_1&#38;action=auth.login.succeeded&#38;action=auth.login.failed\""));
    // The page's CSV download is the login report's rows.
    let href = "/v1/tenants/acme/export?format=csv&view=logins&range=last_7_days";
    assert!(page.body.contains(&href.replace('&', "&#38;")), "{}", page.body);
    let (st, csv) = s.get(href, OPERATOR).await;
    assert_eq!(st, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("User,Email,Last Status,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "a header and two people: {csv}");
    assert!(csv.contains("Asha <Rao>") && csv.contains(",failed,"));
    let mut m = Browser::new(&s);
    m.sign_in("acme", "asha@acme.example", "correct horse battery").await;
    assert_eq!(m.get("/console/logins").await.status, StatusCode::NOT_FOUND, "not for members");
}

#[tokio::test]
async fn category_pages_show_only_what_the_tenant_has_and_match_the_api() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    member(&s, "acme", "asha@acme.example", "member", Some("u_1")).await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    // No events yet: no category tabs.
    let empty = b.get("/console/activity").await;
    for tab in ["/console/files", "/console/links", "/console/logs/sms", "/console/logins"] {
        assert!(!empty.body.contains(&format!("href=\"{tab}\"")), "{tab} shown without events");
    }
    let ago = |h: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(h)).to_string();
    s.ingest("acme", json!([
        {"action": "file.uploaded", "occurred_at": ago(5), "actor": {"id": "u_1", "name": "Asha <Rao>"}, "metadata": {"size_bytes": 2048}},
        {"action": "file.uploaded", "occurred_at": ago(4), "actor": {"id": "u_2", "name": "Ben"}, "metadata": {"size_bytes": 10}},
        {"action": "link.created", "occurred_at": ago(4), "actor": {"id": "u_1"}, "targets": [{"type": "link", "id": "l/1", "name": "Pack <1>"}]},
        {"action": "link.viewed", "occurred_at": ago(3), "targets": [{"type": "link", "id": "l/1"}], "context": {"session_id": "raw-session"}},
        {"action": "sms.sent", "occurred_at": ago(2), "metadata": {"phone": "+44 7700 900123", "campaign": "<b>Spring</b>"}}
    ]))
    .await;
    let page = b.get("/console/activity").await;
    for tab in ["/console/files", "/console/links", "/console/logs/sms"] {
        assert!(page.body.contains(&format!("href=\"{tab}\"")), "{tab} not shown");
    }
    assert!(!page.body.contains("href=\"/console/logins\""), "no auth events, no Logins tab");

    let files = b.get("/console/files?range=last_7_days").await;
    assert_eq!(files.status, StatusCode::OK);
    let (_, api) = s.get("/v1/tenants/acme/reports/usage?range=last_7_days", OPERATOR).await;
    let keys: Vec<&str> = api["rows"].as_array().unwrap().iter().map(|r| r["actor_id"].as_str().unwrap()).collect();
    let shown: Vec<&str> = files.body.split("data-key=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert_eq!(shown, keys);
    assert!(files.body.contains("Asha &#60;Rao&#62;") && files.body.contains("2.0 KiB"));
    assert!(
        files.body.contains("/v1/tenants/acme/export?view=usage&#38;format=csv&#38;range=last_7_days"),
        "{}",
        files.body
    );

    let links = b.get("/console/links").await;
    assert!(links.body.contains("Pack &#60;1&#62;"));
    assert!(links.body.contains("href=\"/console/links/l%2F1?range=all\""), "{}", links.body);
    let log = b.get("/console/links/l%2F1?range=all").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains(">Viewed<") && !log.body.contains("raw-session"));
    assert_eq!(b.get("/console/links/nope").await.status, StatusCode::NOT_FOUND);

    let sms = b.get("/console/logs/sms").await;
    assert!(sms.body.contains("&#60;b&#62;Spring&#60;/b&#62;") && !sms.body.contains("<b>Spring"));
    assert!(sms.body.contains("+** **** **0123") && !sms.body.contains("7700"), "managers see masked phones");
    assert_eq!(b.get("/console/logs/nope").await.status, StatusCode::NOT_FOUND);
    let viewed = s.events("acme", "action=trail.logs.viewed&range=all").await;
    assert!(viewed.iter().any(|e| e["metadata"]["view"] == "sms"), "viewing a log is logged");

    let mut m = Browser::new(&s);
    m.sign_in("acme", "asha@acme.example", "correct horse battery").await;
    for path in ["/console/files", "/console/links", "/console/logs/sms", "/console/links/l%2F1"] {
        assert_eq!(m.get(path).await.status, StatusCode::NOT_FOUND, "{path} is not for members");
    }
}

#[tokio::test]
async fn a_users_statistics_and_a_messages_entry_have_pages() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    member(&s, "acme", "maya@acme.example", "manager", None).await;
    let ago = |h: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(h)).to_string();
    let m = json!([{"type": "message", "id": "m 1", "name": "Offer <v2>"}]);
    s.ingest("acme", json!([
        {"action": "message.sent", "occurred_at": ago(5), "actor": {"id": "u_1", "name": "Asha"}, "targets": m, "metadata": {"recipients": ["x@client.example"]}},
        {"action": "message.opened", "occurred_at": ago(4), "actor": {"email": "x@client.example"}, "targets": m, "context": {"ip": "203.0.113.9"}},
        {"action": "message.opened", "occurred_at": ago(3), "actor": {"email": "x@client.example"}, "targets": m},
        {"action": "document.signed", "occurred_at": ago(2), "actor": {"id": "u_1", "name": "Asha"}}
    ]))
    .await;
    let mut b = Browser::new(&s);
    b.sign_in("acme", "maya@acme.example", "correct horse battery").await;
    let users = b.get("/console/users").await;
    assert!(users.body.contains("href=\"/console/users/u_1?range=all\""), "{}", users.body);
    let stats = b.get("/console/users/u_1?range=last_7_days").await;
    assert_eq!(stats.status, StatusCode::OK);
    let (_, api) = s.get("/v1/tenants/acme/reports/users/u_1/stats?range=last_7_days", OPERATOR).await;
    for a in api["by_action"].as_array().unwrap() {
        let action = a["action"].as_str().unwrap();
        assert!(stats.body.contains(&format!("data-key=\"{action}\"")), "{action}");
    }
    assert_eq!(api["event_count"], 2);
    assert!(stats.body.contains("2 events in the range"));
    assert_eq!(b.get("/console/users/nobody").await.status, StatusCode::NOT_FOUND);

    let messages = b.get("/console/logs/messages").await;
    assert!(messages.body.contains("href=\"/console/messages/m%201\""), "{}", messages.body);
    let entry = b.get("/console/messages/m%201").await;
    assert_eq!(entry.status, StatusCode::OK);
    assert!(entry.body.contains("Offer &#60;v2&#62;"));
    assert!(entry.body.contains("<td id=\"opens\">2</td>"), "{}", entry.body);
    assert!(entry.body.contains("203.0.113.9") && entry.body.contains("x@client.example"));
    assert_eq!(b.get("/console/messages/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_basic_plan_shows_link_access_dates_only_and_csv_downloads_only() {
    let s = TestServer::start().await;
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": "small", "plan": "basic"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    member(&s, "small", "maya@small.example", "admin", None).await;
    let ago = |h: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(h)).to_string();
    let link = json!([{"type": "link", "id": "l1", "name": "Pack"}]);
    s.ingest("small", json!([
        {"action": "link.created", "occurred_at": ago(3), "targets": link},
        {"action": "link.viewed", "occurred_at": ago(2), "targets": link, "actor": {"email": "visitor@client.example"},
         "context": {"ip": "203.0.113.77", "location": {"country": "GB", "city": "London"}}}
    ]))
    .await;
    let mut b = Browser::new(&s);
    b.sign_in("small", "maya@small.example", "correct horse battery").await;
    let log = b.get("/console/links/l1?range=all").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains(">Viewed<"));
    for secret in ["visitor@client.example", "203.0.113.77", "London"] {
        assert!(!log.body.contains(secret), "{secret} shown on a basic plan");
    }
    let activity = b.get("/console/activity?range=all").await;
    for secret in ["visitor@client.example", "203.0.113.77"] {
        let at = activity.body.find(secret);
        assert!(at.is_none(), "{secret}: {}", &activity.body[at.unwrap().saturating_sub(300)..at.unwrap() + 50]);
    }
    assert!(activity.body.contains("data-format=\"csv\"") && !activity.body.contains("data-format=\"xlsx\""));
    assert!(activity.body.contains("downloads need plan professional"), "{}", activity.body);
}
