//! Exports over a store: planning (what a reader may export, and how: [`ExportPlan`]), the
//! streaming query that feeds `trail_export`'s writers, and the `trail.logs.exported` event
//! every export leaves in the tenant's log. Used by the HTTP route (`trail-server`'s
//! `api/export.rs`, which only streams the bytes into a response) and by `trail export`.
//!
//! Writers are synchronous (`std::io::Write`, as the format crates are), so an export runs on a
//! blocking thread and pulls pages from the async store through a runtime handle: the page
//! being written and the next one being read ([`PAGE`] events each) are all an export holds,
//! however many rows the file gets. CSV and NDJSON pages
//! come from the store as rows already rendered ([`Store::query_rendered`]: the store formats
//! each event on the thread that decoded it, so both cores format rows); XLSX, PDF and DOCX
//! writers take events.

use std::{collections::VecDeque, io::Write, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};
use serde_json::json;
use sha2::{Digest, Sha256};
use trail_core::{
    TenantId,
    event::{Fields, StoredEvent},
    filter::{Cursor, Filter, Page},
    vocabulary::actions,
};
use trail_export::{
    Format, Meta, RowRenderer,
    views::{View, ViewKind},
};
use trail_store::{RenderRow, Store, StoreError, Tenant};

use crate::{
    AppConfig, AppError, AppResult, Invalid, access::Principal, own_events::Origin, redact::Redaction, reports,
};

/// Events a query page holds while exporting: a few megabytes of events or of rendered rows
/// (NDJSON rows are whole events). Each page starts a read transaction and a walk of the index from its cursor,
/// and ends with one thread finishing the last chunk while the other waits; pages of 5,000
/// made a CSV export 11% faster than pages of 1,000 (median of ten runs each).
pub const PAGE: usize = 5000;

/// Pages of a query, newest first, fetched one at a time from a blocking thread. The next page
/// is asked for as soon as one arrives, so the store reads it while the writer formats this one
/// (on two cores, the two halves of the work overlap).
pub struct Prefetch<T> {
    handle: tokio::runtime::Handle,
    fetch: Fetch<T>,
    page: Page,
    pending: Option<Pending<T>>,
    done: bool,
}

/// A page being fetched: what it holds and where the next starts.
type Pending<T> = tokio::task::JoinHandle<Result<(T, Option<Cursor>), StoreError>>;

/// Asks the store for one page (on the runtime).
type Fetch<T> = Box<dyn Fn(Page) -> Pending<T> + Send>;

/// The events matching a filter, a page at a time, which the writer reads in place.
pub type BlockingPages = Prefetch<Vec<StoredEvent>>;

/// Rows rendered by the store, a page at a time: pieces of whole rows, each with how many
/// rows it holds.
pub type RenderedPages = Prefetch<Vec<(Vec<u8>, u64)>>;

impl BlockingPages {
    /// Pages of the events `filter` selects, whose events need hold only `fields` (see
    /// [`Store::query_fields`]).
    pub fn new(
        handle: tokio::runtime::Handle,
        store: Arc<dyn Store>,
        tenant: TenantId,
        filter: Filter,
        fields: Fields,
    ) -> Self {
        let (h, filter) = (handle.clone(), Arc::new(filter));
        Prefetch::with(
            handle,
            Box::new(move |page| {
                let (store, tenant, filter) = (store.clone(), tenant.clone(), filter.clone());
                h.spawn(async move {
                    let p = store.query_fields(&tenant, &filter, page, fields).await?;
                    Ok((p.events, p.next_cursor))
                })
            }),
        )
    }
}

impl RenderedPages {
    /// Pages of the rows `render` makes of the events `filter` selects (see
    /// [`Store::query_rendered`]).
    pub fn rendered(
        handle: tokio::runtime::Handle,
        store: Arc<dyn Store>,
        tenant: TenantId,
        filter: Filter,
        fields: Fields,
        render: Arc<dyn RenderRow>,
    ) -> Self {
        let (h, filter) = (handle.clone(), Arc::new(filter));
        Prefetch::with(
            handle,
            Box::new(move |page| {
                let (store, tenant, filter, render) = (store.clone(), tenant.clone(), filter.clone(), render.clone());
                h.spawn(async move {
                    let p = store.query_rendered(&tenant, &filter, page, fields, render).await?;
                    Ok((p.pieces, p.next_cursor))
                })
            }),
        )
    }
}

impl<T> Prefetch<T> {
    fn with(handle: tokio::runtime::Handle, fetch: Fetch<T>) -> Self {
        Prefetch { handle, fetch, page: Page { limit: PAGE, cursor: None }, pending: None, done: false }
    }
}

impl<T> Iterator for Prefetch<T> {
    type Item = Result<T, ExportFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let fetching = self.pending.take().unwrap_or_else(|| (self.fetch)(self.page));
        let result = match self.handle.block_on(fetching) {
            Ok(result) => result,
            Err(e) => Err(StoreError::Internal(format!("the export's query stopped: {e}").into())),
        };
        match result {
            Ok((items, next_cursor)) => {
                match next_cursor {
                    Some(c) => {
                        self.page.cursor = Some(c);
                        self.pending = Some((self.fetch)(self.page));
                    }
                    None => self.done = true,
                }
                Some(Ok(items))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ExportFailure::Store(e)))
            }
        }
    }
}

/// An export's rows as the store renders them: each event redacted for the reader, then
/// rendered in the file's format.
struct ExportRows {
    renderer: RowRenderer,
    redaction: Redaction,
}

impl RenderRow for ExportRows {
    fn render(&self, event: &mut StoredEvent, out: &mut Vec<u8>) {
        crate::redact::event(event, self.redaction);
        self.renderer.render(event, out);
    }

    fn renders_records(&self) -> bool {
        self.renderer.renders_activity()
    }

    /// The activity row read straight from the record: a record the borrowed reader declines
    /// (erased fields, another form, damage it finds) or a row the reader's redaction changes
    /// is left to the store's typed decoding and [`ExportRows::render`] (the store reports a
    /// record that does not decode).
    fn render_record(&self, seq: u64, record: &[u8], out: &mut Vec<u8>) -> Option<Timestamp> {
        let activity = trail_store::record::activity(record).ok()??;
        if crate::redact::changes_activity(self.redaction, &activity) {
            return None;
        }
        let occurred_at = activity.occurred_at;
        self.renderer.render_activity(seq, activity, out).then_some(occurred_at)
    }
}

/// [`BlockingPages`] one event at a time.
pub struct BlockingEvents {
    pages: BlockingPages,
    buffered: VecDeque<StoredEvent>,
}

impl BlockingEvents {
    pub fn new(handle: tokio::runtime::Handle, store: Arc<dyn Store>, tenant: TenantId, filter: Filter) -> Self {
        BlockingEvents {
            pages: BlockingPages::new(handle, store, tenant, filter, Fields::All),
            buffered: VecDeque::new(),
        }
    }
}

impl Iterator for BlockingEvents {
    type Item = Result<StoredEvent, ExportFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.buffered.is_empty() {
            match self.pages.next()? {
                Ok(page) => self.buffered = page.into(),
                Err(e) => return Some(Err(e)),
            }
        }
        self.buffered.pop_front().map(Ok)
    }
}

/// The rows of a report view (logins, usage, users), fetched a page at a time from a blocking
/// thread, in the report's order.
struct ReportRows {
    handle: tokio::runtime::Handle,
    store: Arc<dyn Store>,
    tenant: TenantId,
    filter: Filter,
    kind: ViewKind,
    after: Option<(Timestamp, String)>,
    done: bool,
}

impl ReportRows {
    fn new(
        handle: tokio::runtime::Handle,
        store: Arc<dyn Store>,
        tenant: TenantId,
        filter: Filter,
        kind: ViewKind,
    ) -> Self {
        ReportRows { handle, store, tenant, filter, kind, after: None, done: false }
    }
}

impl Iterator for ReportRows {
    type Item = Result<Vec<serde_json::Map<String, serde_json::Value>>, ExportFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let page = reports::report_page(self.kind, &*self.store, &self.tenant, &self.filter, PAGE, self.after.take());
        match self.handle.block_on(page) {
            Ok((rows, next)) => {
                match next.as_deref().and_then(reports::parse_cursor) {
                    Some(after) => self.after = Some(after),
                    None => self.done = true,
                }
                Some(Ok(rows))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ExportFailure::Report(e.to_string())))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("the report stopped: {0}")]
    Report(String),
    #[error(transparent)]
    Export(#[from] trail_export::ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a failed export tells a client: a document over its row limit is the client's to fix
/// (a narrower range); anything else is Trail's failure.
impl From<ExportFailure> for AppError {
    fn from(e: ExportFailure) -> AppError {
        match e {
            ExportFailure::Store(e) => e.into(),
            ExportFailure::Export(e @ trail_export::ExportError::TooManyRows { .. }) => {
                AppError::TooManyRows(e.to_string())
            }
            ExportFailure::Export(e) => AppError::internal(e),
            ExportFailure::Report(m) => AppError::Internal(m),
        }
    }
}

/// Everything an export needs to know before its first row.
pub struct ExportPlan {
    pub tenant: Tenant,
    pub tz: TimeZone,
    pub filter: Filter,
    pub format: Format,
    pub view: View,
    pub meta: Meta,
    pub file_name: String,
    /// The filters as given (`name`, `value`), recorded in the `trail.logs.exported` event.
    pub given: Vec<(String, String)>,
    /// What the reader may not see (applied to every event before it becomes a row).
    pub redaction: Redaction,
}

impl ExportPlan {
    /// Plans an export of `view` in `format` of the events `filter` selects. `given` are the
    /// filter parameters as the caller wrote them; `link_key` keys the link access log's
    /// session ids.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tenant: Tenant,
        tz: TimeZone,
        mut filter: Filter,
        format: Format,
        kind: ViewKind,
        given: Vec<(String, String)>,
        link_key: [u8; 32],
        redaction: Redaction,
    ) -> ExportPlan {
        if !kind.is_report() {
            filter = crate::views::view_filter(kind, filter);
        }
        // The rows match what the file shows (the operator's `trail export` too).
        filter.redaction = redaction;
        let now = Timestamp::now();
        let mut shown: Vec<String> = given.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        if !given.iter().any(|(k, _)| matches!(k.as_str(), "range" | "from" | "to")) {
            shown.insert(0, "range: last_30_days (the default)".into());
        }
        let meta = Meta {
            title: kind.title().to_string(),
            tenant: format!("{} ({})", tenant.name, tenant.id),
            filters: shown,
            generated_at: now.to_zoned(tz.clone()),
        };
        let file_name = trail_export::file_name(tenant.id.as_str(), kind.name(), &filter.time, &tz, now, format);
        let view = View { kind, tz: tz.clone(), link_key, mask_phone: redaction.mask_phones };
        ExportPlan { tenant, tz, filter, format, view, meta, file_name, given, redaction }
    }

    /// Plans `who`'s export of view `kind` in `format` (as the request names it) of `tenant`'s
    /// events that `filter` selects, in time zone `tz`, refusing what the tenant's plan or the
    /// caller's role does not allow: a format the plan does not export, a report view for a
    /// `member` (who exports their own events), a report view with filters it cannot apply.
    /// `pairs` are the request's parameters (recorded in the `trail.logs.exported` event, but
    /// `format`, `view`, `limit` and `cursor`); `extra` are filters the route itself set (a
    /// link id), recorded with them.
    #[allow(clippy::too_many_arguments)]
    pub fn for_reader(
        config: &AppConfig,
        who: &Principal,
        tenant: Tenant,
        tz: TimeZone,
        filter: Filter,
        pairs: &[(String, String)],
        format: &str,
        kind: ViewKind,
        extra: Vec<(String, String)>,
    ) -> AppResult<ExportPlan> {
        let format =
            Format::parse(format).map_err(|m| AppError::invalid(Invalid::Parameter, m).with_field("format"))?;
        if let Some(refused) = crate::plans::export_refused(&config.plans, &tenant.plan, format.extension()) {
            return Err(refused);
        }
        if kind.is_report() {
            if who.owner().is_some() {
                return Err(AppError::Forbidden(format!(
                    "the {} report is for managers and up: role member exports its own events (view=activity)",
                    kind.name()
                )));
            }
            reports::only_time_filters(&filter, kind.name(), true)?;
        }
        let mut given: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "format" | "view" | "limit" | "cursor"))
            .cloned()
            .collect();
        given.extend(extra);
        // Phone numbers show whole only to those who may administer the tenant; link access
        // detail only on plans that have it.
        let redaction = crate::redact::of(who, &tenant.id, config, &tenant.plan);
        let key = link_key(&config.signing_key);
        Ok(ExportPlan::new(tenant, tz, filter, format, kind, given, key, redaction))
    }

    /// Runs the export on the calling (blocking) thread into `out`; `progress` sees the row
    /// count as it grows. Returns the rows written.
    pub fn run<W: Write + Send + 'static>(
        &self,
        handle: tokio::runtime::Handle,
        store: Arc<dyn Store>,
        out: W,
        progress: impl FnMut(u64),
    ) -> Result<u64, ExportFailure> {
        if self.view.kind.is_report() {
            let rows = ReportRows::new(handle, store, self.tenant.id.clone(), self.filter.clone(), self.view.kind);
            return trail_export::export_pages(self.format, &self.view, &self.meta, rows, out, progress);
        }
        let redaction = self.redaction;
        // The activity columns show part of each event; NDJSON writes whole events. A reader
        // with phones masked needs the metadata too: the phone, masked wherever the event writes
        // it, is found there (only SMS events and rows the fast path declines pay for it when
        // the filter is a time range alone).
        let fields = if self.view.kind == ViewKind::Activity && self.format != Format::Ndjson && !redaction.mask_phones
        {
            Fields::Activity
        } else {
            Fields::All
        };
        let (tenant, filter) = (self.tenant.id.clone(), self.filter.clone());
        // CSV and NDJSON rows stand alone: the store renders each where it decodes it.
        if let Some(renderer) = RowRenderer::new(self.format, &self.view) {
            let render = Arc::new(ExportRows { renderer: renderer.clone(), redaction });
            let pages = RenderedPages::rendered(handle, store, tenant, filter, fields, render);
            return trail_export::export_rendered(&renderer, pages, out, progress);
        }
        let pages = BlockingPages::new(handle, store, tenant, filter, fields).map(move |page| {
            page.map(|mut page| {
                page.iter_mut().for_each(|e| crate::redact::event(e, redaction));
                page
            })
        });
        trail_export::export_pages(self.format, &self.view, &self.meta, pages, out, progress)
    }

    /// Writes the `trail.logs.exported` event: who exported, what, with which filters, how
    /// many rows, and whether the file was finished (a download cut short is recorded too).
    pub async fn record(
        &self,
        app: &crate::App,
        origin: &Origin,
        actor: serde_json::Value,
        rows: u64,
        completed: bool,
    ) -> Result<u64, StoreError> {
        let filters: serde_json::Map<String, serde_json::Value> =
            self.given.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let description = format!(
            "Exported {rows} rows of the {} as {}",
            self.view.kind.title().to_lowercase(),
            self.format.extension().to_uppercase()
        );
        let metadata = json!({
            "format": self.format.extension(),
            "view": self.view.kind.name(),
            "filters": filters,
            "rows": rows,
            "completed": completed,
            "file_name": self.file_name,
        });
        crate::own_events::record(
            app,
            &self.tenant.id,
            origin,
            actor,
            actions::TRAIL_LOGS_EXPORTED,
            description,
            metadata,
        )
        .await
    }
}

/// The key of link access session ids: derived from the server's signing key, so it is secret,
/// stable across restarts, and needs no file of its own.
pub fn link_key(signing_key: &ed25519_dalek::SigningKey) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"trail-link-session-key\0");
    h.update(signing_key.to_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use trail_core::event::{Activity, Client, NewEvent};

    use super::*;

    /// Events with every activity column filled or empty, text that needs CSV quoting or
    /// formula neutralisation, IPv6, and a link access event.
    fn events() -> Vec<StoredEvent> {
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        [
            r#"{"action":"document.signed","actor":{"id":"u1","name":"Asha \"A\" Rao","email":"asha@acme.example"},"description":"=HYPERLINK(\"x\")\nsecond line, 😀 עברית","targets":[{"type":"document","id":"d9","name":"NDA, 2026.pdf"},{"type":"folder","id":"f1"}],"context":{"ip":"203.0.113.7","location":{"country":"IN","region":"Karnataka","city":"Bengaluru"}}}"#,
            r#"{"action":"link.viewed","actor":{"email":"guest@example.org"},"context":{"ip":"2001:db8::7","session_id":"s1"}}"#,
            r#"{"action":"user.login","outcome":"failure","actor":{"id":"-u2","type":"api_key"}}"#,
            r#"{"action":"a"}"#,
            r#"{"action":"sms.sent","actor":{"id":"u3"},"metadata":{"phone":"+44 7700 900123"},"context":{"ip":"10.0.0.1"}}"#,
            r#"{"action":"sms.failed","description":"SMS to 447700900123 failed","targets":[{"type":"contact","id":"c1","name":"+44 7700 900123"}],"metadata":{"phone":"+44 7700 900123"}}"#,
            r#"{"action":"sms.sent","description":"Order 55555 confirmed","metadata":{"phone":"+44 7700 900123"}}"#,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, json)| {
            let mut body = NewEvent::from_json(json, now).unwrap().into_body(now);
            if let Some(c) = body.context.as_mut() {
                c.client = Some(Client { os: Some("+Windows".into()), browser: Some("Firefox 120".into()), device: None });
            }
            StoredEvent { tenant: tenant.clone(), seq: i as u64 + 1, body }
        })
        .collect()
    }

    fn record(e: &StoredEvent) -> Vec<u8> {
        let (canonical, layout) = trail_core::canonical::write(&e.body);
        trail_store::record::encode(&[7; 16], &layout, &canonical)
    }

    /// `changes_activity` says when redaction may change what the activity columns show: it
    /// does whenever they change, and exactly when for link access.
    #[test]
    fn redaction_changes_the_activity_fields_only_where_it_says() {
        for (mask_phones, hide_link_detail) in [(false, false), (true, false), (false, true), (true, true)] {
            let r = Redaction { mask_phones, hide_link_detail };
            for e in events() {
                let mut redacted = e.clone();
                crate::redact::event(&mut redacted, r);
                let same = Activity::of(&e.body) == Activity::of(&redacted.body);
                let changes = crate::redact::changes_activity(r, &Activity::of(&e.body));
                assert!(same || changes, "{r:?} {e:?}");
                if !e.body.action.as_str().starts_with("sms.") {
                    assert_eq!(same, !changes, "{r:?} {e:?}");
                }
            }
        }
        // Regression: a phone in an SMS event's description showed in the activity columns, and
        // the fast path did not know (it looked at the action alone, and at links alone).
        let sms = &events()[5];
        let masked = Redaction { mask_phones: true, hide_link_detail: false };
        assert!(crate::redact::changes_activity(masked, &Activity::of(&sms.body)));
        let mut redacted = sms.clone();
        crate::redact::event(&mut redacted, masked);
        assert_eq!(redacted.body.description.as_deref(), Some("SMS to ********0123 failed"));
        assert_eq!(redacted.body.targets[0].name.as_deref(), Some("+** **** **0123"));
        // An SMS event whose texts cannot hold a masked phone stays on the fast path.
        assert!(!crate::redact::changes_activity(masked, &Activity::of(&events()[4].body)));
    }

    /// A document over its row limit is the client's to narrow (a 422 at the API); any other
    /// failure of the writer is Trail's.
    #[test]
    fn only_too_many_rows_is_the_clients_to_fix() {
        let over = ExportFailure::Export(trail_export::ExportError::TooManyRows { format: Format::Pdf, limit: 10 });
        assert!(matches!(AppError::from(over), AppError::TooManyRows(m) if m.contains("holds at most 10 rows")));
        let io = ExportFailure::Export(std::io::Error::other("disk").into());
        assert!(matches!(AppError::from(io), AppError::Internal(c) if c.contains("disk")));
        let report = ExportFailure::Report("the store went away".into());
        assert!(matches!(AppError::from(report), AppError::Internal(c) if c == "the store went away"));
    }

    /// A row made from the record is the row made from the typed event, byte for byte; a row
    /// the reader's redaction changes, and every format or view but the activity CSV, is left
    /// to the typed event.
    #[test]
    fn rows_from_records_are_the_typed_rows() {
        let view = View::new(ViewKind::Activity, TimeZone::get("Asia/Kolkata").unwrap());
        let hidden = Redaction { mask_phones: true, hide_link_detail: true };
        for redaction in [Redaction::NONE, hidden] {
            let rows = ExportRows { renderer: RowRenderer::new(Format::Csv, &view).unwrap(), redaction };
            assert!(rows.renders_records());
            for e in events() {
                let mut typed = Vec::new();
                rows.render(&mut e.clone(), &mut typed);
                let mut direct = Vec::new();
                let made = rows.render_record(e.seq, &record(&e), &mut direct);
                if crate::redact::changes_activity(redaction, &Activity::of(&e.body)) {
                    assert_eq!(made, None);
                    assert!(direct.is_empty(), "nothing appended when declined");
                    let typed = String::from_utf8(typed).unwrap();
                    assert!(!typed.contains("900123") && !typed.contains("guest@"), "{typed}");
                    continue;
                }
                assert_eq!(made, Some(e.body.occurred_at));
                assert_eq!(String::from_utf8(direct).unwrap(), String::from_utf8(typed).unwrap());
            }
        }
        let ndjson =
            ExportRows { renderer: RowRenderer::new(Format::Ndjson, &view).unwrap(), redaction: Redaction::NONE };
        let api = View::new(ViewKind::Api, TimeZone::UTC);
        let api = ExportRows { renderer: RowRenderer::new(Format::Csv, &api).unwrap(), redaction: Redaction::NONE };
        for other in [ndjson, api] {
            assert!(!other.renders_records());
            let e = &events()[0];
            let mut out = Vec::new();
            assert_eq!(other.render_record(e.seq, &record(e), &mut out), None);
            assert!(out.is_empty());
        }
    }
}
