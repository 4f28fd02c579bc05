//! `GET /v1/tenants/{t}/export?format=F&view=V&<filters>`: a file of the filtered view. What
//! may be exported and how is planned by `trail_app::export`; here its bytes become a response.
//!
//! CSV, NDJSON and XLSX stream: the export runs on a blocking thread and its bytes flow through
//! a bounded channel into the response body, so memory stays flat and a slow client slows the
//! export rather than filling memory. (XLSX bytes start once the workbook is zipped, from its
//! temporary file.) PDF and DOCX are laid out whole first, so a view over their row limit is a
//! clean 422 before any byte is sent. Either way a `trail.logs.exported` event is written with
//! the row count and whether the export finished, before the file's last bytes are sent: a
//! client that holds the whole file can be sure the log says so.

use std::io::Write;

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use tokio::sync::mpsc;
use trail_app::{AppError, export::ExportPlan, own_events::Origin};
use trail_core::ids::Scope;
use trail_export::views::ViewKind;

use super::{
    events::{Filtered, filtered},
    extract::TenantPath,
};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};

/// Bytes a chunk of the body holds, and chunks the channel holds: at most ~1 MiB in flight.
const CHUNK: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 16;

pub async fn export(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Response> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["format", "view"]).await?;
    let Some(format) = f.param("format").map(str::to_owned) else {
        return Err(ApiError::bad_request(
            "missing_parameter",
            "format is required: add format=csv, xlsx, pdf, docx or ndjson",
        )
        .with_field("format"));
    };
    let kind = match f.param("view") {
        Some(v) => ViewKind::parse(v).map_err(|m| ApiError::bad_request("invalid_parameter", m).with_field("view"))?,
        None => ViewKind::Activity,
    };
    respond(&s, &who, &origin, f, &format, kind, Vec::new()).await
}

/// The file of `kind` in `format` over the filtered request `f` (the export route, and the
/// link access log's `format=`). `extra` are filters the route itself set (a link id), recorded
/// in the `trail.logs.exported` event with the caller's, and `origin` in its context.
pub(crate) async fn respond(
    s: &AppState,
    who: &Principal,
    origin: &Origin,
    f: Filtered,
    format: &str,
    kind: ViewKind,
    extra: Vec<(String, String)>,
) -> ApiResult<Response> {
    let plan = ExportPlan::for_reader(s.app.config(), who, f.tenant, f.tz, f.filter, &f.pairs, format, kind, extra)?;
    let format = plan.format;
    let actor = who.actor();
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", plan.file_name)),
        (header::CACHE_CONTROL, "no-store".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    let handle = tokio::runtime::Handle::current();

    if format.row_limit().is_some() {
        // Laid out whole: run it, then answer with the file or a 422.
        let store = s.store.clone();
        let (plan, result) = tokio::task::spawn_blocking(move || {
            let out = SharedVec::default();
            let result = plan.run(handle, store, out.clone(), |_| {}).map(|rows| (rows, out.take()));
            (plan, result)
        })
        .await
        .map_err(ApiError::internal)?;
        return match result {
            Ok((rows, bytes)) => {
                plan.record(&s.app, origin, actor, rows, true).await?;
                Ok((headers, bytes).into_response())
            }
            // A document over its row limit is a 422 (`AppError::TooManyRows`).
            Err(e) => Err(AppError::from(e).into()),
        };
    }

    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let store = s.store.clone();
    let state = s.clone();
    let origin = origin.clone();
    tokio::task::spawn_blocking(move || {
        // The last bytes are held back until the export is recorded, so a client holding the
        // whole file means the log already says so.
        let tail = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK), tail: tail.clone() };
        let mut written = 0;
        let result = plan.run(handle.clone(), store, out, |n| written = n);
        let (rows, completed) = match &result {
            Ok(rows) => (*rows, true),
            Err(e) => {
                tracing::warn!(tenant = %plan.tenant.id, error = %e, "export stopped");
                (written, false)
            }
        };
        if let Err(e) = handle.block_on(plan.record(&state.app, &origin, actor, rows, completed)) {
            tracing::error!(tenant = %plan.tenant.id, error = %e, "could not record the export");
        }
        let last = if completed {
            Ok(Bytes::from(std::mem::take(&mut *tail.lock().expect("not poisoned"))))
        } else {
            // The body ends with an error, so the client sees a failed download, never a
            // file silently cut short.
            Err(std::io::Error::other("the export stopped"))
        };
        let _ = tx.blocking_send(last);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Ok((StatusCode::OK, headers, Body::from_stream(stream)).into_response())
}

/// Sends what is written to the response body in chunks; blocks while the channel is full (so
/// a slow client slows the export), and fails once the client has gone (so the export stops).
/// What is left when it is dropped goes to `tail`, for the caller to send last.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
    tail: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        if let Ok(mut tail) = self.tail.lock() {
            *tail = std::mem::take(&mut self.buf);
        }
    }
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client closed the download"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    /// Sends nothing: full chunks go as they fill, and the last partial one is the tail.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Write` whose bytes the caller takes afterwards (PDF and DOCX, laid out whole).
#[derive(Clone, Default)]
struct SharedVec(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedVec {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.lock().expect("not poisoned"))
    }
}

impl Write for SharedVec {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
