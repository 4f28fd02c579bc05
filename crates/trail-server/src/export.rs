//! Exports over a store: the streaming query that feeds `trail_export`'s writers, and the
//! `trail.logs.exported` event every export leaves in the tenant's log. Used by the HTTP route
//! (`api/export.rs`) and by `trail export`.
//!
//! Writers are synchronous (`std::io::Write`, as the format crates are), so an export runs on a
//! blocking thread and pulls pages of events from the async store through a runtime handle:
//! one page of [`PAGE`] events is held at a time, however many rows the file gets.

use std::{collections::VecDeque, io::Write, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};
use serde_json::json;
use sha2::{Digest, Sha256};
use trail_core::{
    TenantId,
    event::{Fields, StoredEvent},
    filter::{Filter, Page},
};
use trail_export::{
    Format, Meta,
    views::{View, ViewKind},
};
use trail_store::{EventPage, Store, StoreError, Tenant};

use crate::redact::Redaction;

/// Events a query page holds while exporting.
pub const PAGE: usize = 1000;

/// The events matching a filter, newest first, fetched a page at a time from a blocking thread.
/// The next page is asked for as soon as one arrives, so the store reads it while the writer
/// formats this one (on two cores, the two halves of the work overlap). Yields whole pages,
/// which the writer reads in place.
pub struct BlockingPages {
    handle: tokio::runtime::Handle,
    store: Arc<dyn Store>,
    tenant: TenantId,
    filter: Arc<Filter>,
    page: Page,
    fields: Fields,
    pending: Option<tokio::task::JoinHandle<Result<EventPage, StoreError>>>,
    done: bool,
}

impl BlockingPages {
    pub fn new(handle: tokio::runtime::Handle, store: Arc<dyn Store>, tenant: TenantId, filter: Filter) -> Self {
        BlockingPages {
            handle,
            store,
            tenant,
            filter: Arc::new(filter),
            page: Page { limit: PAGE, cursor: None },
            fields: Fields::All,
            pending: None,
            done: false,
        }
    }

    /// Pages whose events need hold only `fields` (see [`Store::query_fields`]).
    pub fn with_fields(mut self, fields: Fields) -> Self {
        self.fields = fields;
        self
    }

    fn fetch(&self) -> tokio::task::JoinHandle<Result<EventPage, StoreError>> {
        let (store, tenant, filter, page) = (self.store.clone(), self.tenant.clone(), self.filter.clone(), self.page);
        let fields = self.fields;
        self.handle.spawn(async move { store.query_fields(&tenant, &filter, page, fields).await })
    }
}

impl Iterator for BlockingPages {
    type Item = Result<Vec<StoredEvent>, ExportFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let fetching = self.pending.take().unwrap_or_else(|| self.fetch());
        let result = match self.handle.block_on(fetching) {
            Ok(result) => result,
            Err(e) => Err(StoreError::Internal(format!("the export's query stopped: {e}").into())),
        };
        match result {
            Ok(result) => {
                match result.next_cursor {
                    Some(c) => {
                        self.page.cursor = Some(c);
                        self.pending = Some(self.fetch());
                    }
                    None => self.done = true,
                }
                Some(Ok(result.events))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ExportFailure::Store(e)))
            }
        }
    }
}

/// [`BlockingPages`] one event at a time.
pub struct BlockingEvents {
    pages: BlockingPages,
    buffered: VecDeque<StoredEvent>,
}

impl BlockingEvents {
    pub fn new(handle: tokio::runtime::Handle, store: Arc<dyn Store>, tenant: TenantId, filter: Filter) -> Self {
        BlockingEvents { pages: BlockingPages::new(handle, store, tenant, filter), buffered: VecDeque::new() }
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
        let page =
            crate::api::report_page(self.kind, &*self.store, &self.tenant, &self.filter, PAGE, self.after.take());
        match self.handle.block_on(page) {
            Ok((rows, next)) => {
                match next.as_deref().and_then(crate::api::parse_report_cursor) {
                    Some(after) => self.after = Some(after),
                    None => self.done = true,
                }
                Some(Ok(rows))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ExportFailure::Report(e.message)))
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
    ) -> Result<ExportPlan, String> {
        if !kind.is_report() {
            filter = crate::api::view_filter(kind, filter);
        }
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
        Ok(ExportPlan { tenant, tz, filter, format, view, meta, file_name, given, redaction })
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
        // The activity columns show part of each event; NDJSON writes whole events.
        let fields = if self.view.kind == ViewKind::Activity && self.format != Format::Ndjson {
            Fields::Activity
        } else {
            Fields::All
        };
        let pages = BlockingPages::new(handle, store, self.tenant.id.clone(), self.filter.clone());
        let pages = pages.with_fields(fields).map(move |page| {
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
        store: &dyn Store,
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
        crate::audit::record(store, &self.tenant.id, actor, "trail.logs.exported", description, metadata).await
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
