//! The bodies of the reports' and views' responses, as typed values rather than maps built by
//! key: a page of rows and its cursor, and for an event view its columns.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use trail_core::vocabulary::views::Column;

use crate::error::{ApiError, ApiResult};

/// One page of a report or of the link list: its rows and the next page's cursor (`null` on
/// the last page).
#[derive(Serialize)]
pub struct RowsPage<T> {
    pub rows: Vec<T>,
    pub next_cursor: Option<String>,
}

/// One page of an event view: its rows (`{seq, <column key>: value, ...}`), the next page's
/// cursor and the view's columns in order.
#[derive(Serialize)]
pub struct ViewPage<R> {
    pub rows: Vec<R>,
    pub next_cursor: Option<String>,
    pub columns: Vec<ColumnHead>,
}

/// A view's column as the API describes it.
#[derive(Serialize)]
pub struct ColumnHead {
    pub key: &'static str,
    pub title: &'static str,
}

impl From<&Column> for ColumnHead {
    fn from(c: &Column) -> ColumnHead {
        ColumnHead { key: c.key, title: c.title }
    }
}

/// The JSON body of `page`. Made through a [`Value`], whose objects keep their keys in
/// alphabetical order, rather than by serializing the structs straight out (their fields'
/// order): the responses' bytes stay what they have always been, keys sorted at every level.
pub fn body(page: impl Serialize) -> ApiResult<Json<Value>> {
    serde_json::to_value(page).map(Json).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        actor_id: &'static str,
    }

    /// Pins the bytes of a page: keys sorted at every level, whatever order the structs
    /// declare their fields in (as when the bodies were `json!` maps).
    #[test]
    fn keys_are_sorted_as_before() {
        let Json(page) =
            body(RowsPage { rows: vec![Row { name: "Asha", actor_id: "u_1" }], next_cursor: None }).unwrap();
        assert_eq!(page.to_string(), r#"{"next_cursor":null,"rows":[{"actor_id":"u_1","name":"Asha"}]}"#);
        let Json(view) = body(ViewPage::<Row> {
            rows: vec![],
            next_cursor: Some("c".into()),
            columns: vec![ColumnHead { key: "seq", title: "Seq" }],
        })
        .unwrap();
        assert_eq!(view.to_string(), r#"{"columns":[{"key":"seq","title":"Seq"}],"next_cursor":"c","rows":[]}"#);
    }
}
