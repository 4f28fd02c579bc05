//! [`ExportReads`]: the export side's read path, kept apart from the storage roles on purpose.
//!
//! An export reads a tenant's events a large page at a time and turns each into a row. Two
//! shortcuts make that fast, and both are about exports, not about storing events: reading only
//! the fields the rows show ([`ExportReads::query_fields`]), and having the store format each
//! row on the thread that decoded its event ([`ExportReads::query_rendered`], with
//! [`RenderRow`] and [`RenderedPage`]). They are not part of [`EventLog`], whose contract is the
//! log's: a store that only keeps a log gets them for nothing, as whole events rendered on a
//! blocking thread (the default bodies below), and only a backend with a faster way (SQLite)
//! overrides them. The conformance suite checks that every backend's answers are
//! [`EventLog::query`]'s.

use async_trait::async_trait;
use trail_core::{
    TenantId,
    filter::{Filter, Page},
};

use crate::{EventLog, EventPage, RenderRow, RenderedPage, StoreError, StoreResult};

/// How exports read a log; every [`EventLog`] can, by the default bodies.
#[async_trait]
pub trait ExportReads: EventLog {
    /// [`EventLog::query`] for a reader that looks only at `fields` of each event (an export of
    /// the activity columns): the events may lack the other fields, which a backend need not
    /// decode. Matches are the same as [`EventLog::query`]'s. By default, whole events.
    async fn query_fields(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: trail_core::event::Fields,
    ) -> StoreResult<EventPage> {
        let _ = fields;
        self.query(tenant, filter, page).await
    }
    /// [`ExportReads::query_fields`] with each matching event rendered by `render` (an export's
    /// rows; see [`RenderedPage`]): the same events, in the same order, with the same cursor. By
    /// default the page is rendered on a blocking thread of the runtime (formatting thousands
    /// of rows would hold up the tasks of an async worker); SQLite renders each event on the
    /// thread that decoded it.
    async fn query_rendered(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: trail_core::event::Fields,
        render: std::sync::Arc<dyn RenderRow>,
    ) -> StoreResult<RenderedPage> {
        let events = self.query_fields(tenant, filter, page, fields).await?;
        tokio::task::spawn_blocking(move || RenderedPage::of_events(events, &*render))
            .await
            .map_err(|e| StoreError::Internal(format!("rendering a page of rows stopped: {e}").into()))
    }
}
