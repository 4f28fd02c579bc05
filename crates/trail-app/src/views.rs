//! The catalogue's event views (`api`, `panel`, `messages`, `sms`, `documents`, `link-access`,
//! `activity`): the events query with the view's actions unless the caller narrows by
//! `action`, and each event projected to the columns the view's exports have, keyed as in
//! NDJSON report rows (`GET /v1/tenants/{t}/views/{view}`, the console's logs, exports). SMS
//! phones are masked for everyone but admins, as in exports.

use jiff::tz::TimeZone;
use serde_json::{Map, Value};
use trail_core::{
    TenantId,
    filter::{ActionPattern, Filter, Page},
};
use trail_export::{
    Cell,
    views::{View, ViewKind},
};
use trail_store::Store;

use crate::{AppConfig, AppError, AppResult, export::link_key, redact::Redaction};

/// The event view named `name`; a report's name (`logins`, `usage`, `users`) is not one, and
/// the error says where that report is.
pub fn event_view(t: &TenantId, name: &str) -> AppResult<ViewKind> {
    let kind = ViewKind::parse(name).map_err(|m| AppError::NotFound(format!("view {name:?}: {m}")))?;
    if kind.is_report() {
        return Err(AppError::NotFound(format!(
            "view {name:?}: it is a report, at /v1/tenants/{t}/reports/{}",
            kind.name()
        )));
    }
    Ok(kind)
}

/// How view `kind` shows events to a reader with `redaction`, in time zone `tz`: link access
/// sessions keyed by the server's signing key ([`link_key`]), phones masked as the reader's
/// redaction says.
pub fn view_for(kind: ViewKind, tz: TimeZone, config: &AppConfig, redaction: Redaction) -> View {
    View { kind, tz, link_key: link_key(&config.signing_key), mask_phone: redaction.mask_phones }
}

/// Narrows `filter` to the view's actions, unless the caller chose actions.
pub fn view_filter(kind: ViewKind, mut filter: Filter) -> Filter {
    if let (Some(actions), true) = (kind.actions(), filter.actions.is_empty()) {
        filter.actions =
            actions.iter().map(|a| ActionPattern::parse(a).expect("the views' action patterns are valid")).collect();
    }
    filter
}

/// One page of an event view: each event as `{seq, <column key>: value, ...}` (dates as RFC
/// 3339 in the tenant's time zone), and the next page's cursor.
pub async fn view_rows(
    store: &dyn Store,
    t: &TenantId,
    view: &View,
    redaction: Redaction,
    filter: Filter,
    page: Page,
) -> AppResult<(Vec<Map<String, Value>>, Option<String>)> {
    let mut filter = view_filter(view.kind, filter);
    // What the rows show is what the filter matches.
    filter.redaction = redaction;
    let mut result = store.query(t, &filter, page).await?;
    result.events.iter_mut().for_each(|e| crate::redact::event(e, redaction));
    let mut cells = Vec::new();
    let rows = result
        .events
        .iter()
        .map(|e| {
            cells.clear();
            view.cells(e, &mut cells);
            let mut row = Map::new();
            row.insert("seq".into(), e.seq.into());
            for (c, cell) in view.kind.columns().iter().zip(cells.drain(..)) {
                row.insert(c.key.into(), json_of(cell));
            }
            row
        })
        .collect();
    Ok((rows, result.next_cursor.map(|c| c.encode())))
}

fn json_of(cell: Cell<'_>) -> Value {
    match cell {
        Cell::Empty => Value::Null,
        Cell::Text(s) => Value::String(s.into_owned()),
        Cell::Int(n) => n.into(),
        Cell::Date(z) => Value::String(z.strftime("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_not_an_event_view_and_the_error_says_where_it_is() {
        let t = TenantId::parse("acme").unwrap();
        assert_eq!(event_view(&t, "sms").unwrap(), ViewKind::Sms);
        let report = event_view(&t, "logins").unwrap_err();
        assert!(
            matches!(&report, AppError::NotFound(m) if m.ends_with("/v1/tenants/acme/reports/logins")),
            "{report:?}"
        );
        assert!(matches!(event_view(&t, "nope"), Err(AppError::NotFound(m)) if m.starts_with("view \"nope\"")));
    }

    #[test]
    fn a_view_narrows_to_its_actions_unless_the_caller_chose_some() {
        let sms = view_filter(ViewKind::Sms, Filter::default());
        assert!(!sms.actions.is_empty());
        let chosen = vec![ActionPattern::parse("sms.failed").unwrap()];
        let narrowed = view_filter(ViewKind::Sms, Filter { actions: chosen.clone(), ..Filter::default() });
        assert_eq!(narrowed.actions, chosen);
        assert!(view_filter(ViewKind::Activity, Filter::default()).actions.is_empty());
    }
}
