//! `GET /v1/tenants/{t}/export`: the file holds exactly what the query returns for the same
//! filters, streamed with the right type and name; limits, errors and the audit event.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The export as (status, headers, bytes).
async fn download(s: &TestServer, path: &str, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = s.client.get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// 2,500 events (more than two query pages), every third a document event.
async fn seed(s: &TestServer) {
    s.tenant_in("acme", "Asia/Kolkata").await;
    let events: Vec<Value> = (0..2500)
        .map(|i| {
            let action = if i % 3 == 0 { "document.signed" } else { "file.downloaded" };
            json!({
                "action": action,
                "actor": {"id": format!("u{}", i % 7), "name": format!("User, \"{}\"", i % 7), "email": format!("u{}@acme.example", i % 7)},
                "description": format!("event {i}\nsecond line"),
                "context": {"ip": "203.0.113.7"},
            })
        })
        .collect();
    s.ingest("acme", Value::Array(events)).await;
}

#[tokio::test]
async fn csv_holds_exactly_the_queried_events_in_order_and_the_export_is_recorded() {
    let s = TestServer::start().await;
    seed(&s).await;
    let filters = "range=all&action=document.*&actor=u3";
    let expected = s.events("acme", filters).await;
    assert!(expected.len() > 100);
    let (status, headers, bytes) =
        download(&s, &format!("/v1/tenants/acme/export?format=csv&{filters}"), OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Kolkata").unwrap());
    assert_eq!(
        disposition,
        format!("attachment; filename=\"trail-acme-activity-start-{}.csv\"", today.strftime("%Y-%m-%d"))
    );
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expected.len());
    for (row, e) in rows.iter().zip(&expected) {
        assert_eq!(row[0], e["seq"].to_string());
        assert_eq!(&row[2], e["actor"]["name"].as_str().unwrap());
        assert_eq!(&row[6], e["description"].as_str().unwrap());
        assert!(row[1].ends_with("+05:30"), "dates in the tenant's zone: {}", &row[1]);
    }

    // The export is in the log: who, what, which filters, how many rows.
    let recorded = s.events("acme", "range=all&action=trail.logs.exported").await;
    assert_eq!(recorded.len(), 1);
    let m = &recorded[0]["metadata"];
    assert_eq!(m["format"], "csv");
    assert_eq!(m["view"], "activity");
    assert_eq!(m["rows"], expected.len());
    assert_eq!(m["completed"], true);
    assert_eq!(m["filters"], json!({"range": "all", "action": "document.*", "actor": "u3"}));
    assert_eq!(recorded[0]["actor"]["type"], "system");

    // A time range alone (on SQLite the rows are made straight from the stored records, not
    // from typed events): every event, the same cells.
    let expected = s.events("acme", "range=all").await;
    let (status, _, bytes) = download(&s, "/v1/tenants/acme/export?format=csv&range=all", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&bytes[..]).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expected.len());
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    for (row, e) in rows.iter().zip(&expected) {
        assert_eq!(row[0], e["seq"].to_string());
        assert!(row[1].ends_with("+05:30"), "dates in the tenant's zone: {}", &row[1]);
        let user = if e["actor"]["name"].is_string() { &e["actor"]["name"] } else { &e["actor"]["id"] };
        assert_eq!(row[2], text(user));
        assert_eq!(row[3], text(&e["actor"]["email"]));
        assert_eq!(row[4], text(&e["report_type"]));
        assert_eq!(row[5], text(&e["category"]));
        assert_eq!(row[6], text(&e["description"]));
        assert_eq!(row[8], text(&e["context"]["ip"]));
        assert_eq!(row[14], text(&e["outcome"]));
    }
}

#[tokio::test]
async fn every_format_streams_with_its_type_and_the_same_rows() {
    let s = TestServer::start().await;
    seed(&s).await;
    // (Each export adds a `trail.logs.exported` event, so the view leaves those out.)
    let filters = "range=all&action=document.*&action=file.*";
    let expected = s.events("acme", filters).await.len();
    assert_eq!(expected, 2500);
    for (format, content_type) in [
        ("ndjson", "application/x-ndjson"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ] {
        let (status, headers, bytes) =
            download(&s, &format!("/v1/tenants/acme/export?format={format}&{filters}"), OPERATOR).await;
        assert_eq!(status, StatusCode::OK, "{format}: {}", String::from_utf8_lossy(&bytes[..200.min(bytes.len())]));
        assert_eq!(headers["content-type"], content_type);
        assert!(headers["content-disposition"].to_str().unwrap().ends_with(&format!(".{format}\"")));
        match format {
            "ndjson" => {
                let lines: Vec<Value> = bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::from_slice(l).unwrap())
                    .collect();
                assert_eq!(lines.len(), expected);
                assert_eq!(lines[0]["tenant"], "acme");
            }
            "xlsx" => {
                use calamine::Reader;
                let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
                let range = book.worksheet_range("Events 1").unwrap();
                assert_eq!(range.height(), expected + 1);
            }
            "pdf" => assert!(bytes.starts_with(b"%PDF-")),
            _ => assert!(bytes.starts_with(b"PK")),
        }
    }
}

#[tokio::test]
async fn paged_formats_over_their_limit_are_a_clear_422() {
    let s = TestServer::start().await;
    s.tenant("big").await;
    let batch: Vec<Value> = (0..10_000).map(|_| json!({"action": "api.request"})).collect();
    for _ in 0..10 {
        s.ingest("big", Value::Array(batch.clone())).await;
    }
    s.ingest("big", json!({"action": "api.request"})).await;
    for format in ["pdf", "docx"] {
        let (status, _, bytes) = download(&s, &format!("/v1/tenants/big/export?format={format}"), OPERATOR).await;
        assert_error(
            &(status, serde_json::from_slice(&bytes).unwrap()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_rows",
            None,
        );
        let message: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(message["error"]["message"].as_str().unwrap().contains("CSV or XLSX"));
    }
    // The same view narrowed fits.
    let (status, _, _) = download(&s, "/v1/tenants/big/export?format=docx&q=nothing-matches", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_requests_say_what_to_fix_and_other_tenants_stay_hidden() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.tenant("other").await;
    let get = |path: &'static str, token: String| {
        let s = &s;
        async move {
            let (status, _, bytes) = download(s, path, &token).await;
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let op = OPERATOR.to_string();
    assert_error(
        &get("/v1/tenants/acme/export", op.clone()).await,
        StatusCode::BAD_REQUEST,
        "missing_parameter",
        Some("format"),
    );
    assert_error(
        &get("/v1/tenants/acme/export?format=xls", op.clone()).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("format"),
    );
    assert_error(
        &get("/v1/tenants/acme/export?format=csv&view=nope", op.clone()).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("view"),
    );
    assert_error(
        &get("/v1/tenants/acme/export?format=csv&range=someday", op.clone()).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("range"),
    );
    let other_key = s.key("other", &["read"]).await;
    assert_error(&get("/v1/tenants/acme/export?format=csv", other_key).await, StatusCode::NOT_FOUND, "not_found", None);
    let ingest_only = s.key("acme", &["ingest"]).await;
    assert_error(
        &get("/v1/tenants/acme/export?format=csv", ingest_only).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
}

#[tokio::test]
async fn exported_cells_never_run_as_formulas() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let starts = ["=", "+", "-", "@", "\t", "\r", "\n"];
    let events: Vec<Value> = starts
        .iter()
        .map(|c| {
            json!({
                "action": "document.signed",
                "actor": {"id": format!("{c}u"), "name": format!("{c}cmd|'/c calc'!A0"), "email": "x@acme.example"},
                "description": format!("{c}HYPERLINK(\"http://evil.example\")"),
                "targets": [{"type": "document", "name": format!("{c}SUM(A1:A9)")}],
                "context": {"user_agent": format!("{c}Mozilla/5.0")},
            })
        })
        .collect();
    s.ingest("acme", Value::Array(events)).await;
    let (status, _, bytes) = download(&s, "/v1/tenants/acme/export?format=csv", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), starts.len());
    for row in &rows {
        for field in row {
            assert!(!trail_export::safety::is_risky(field), "a cell a spreadsheet would run: {field:?}");
        }
        assert!(row[2].starts_with('\'') && row[6].starts_with('\''), "names and remarks are defused: {row:?}");
    }
}

#[tokio::test]
async fn phones_show_whole_only_to_admins() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest("acme", json!({"action": "sms.sent", "metadata": {"phone": "+44 7700 900123", "campaign": "Spring"}}))
        .await;
    s.ingest("acme", json!({"action": "document.signed"})).await;
    // More SMS than one chunk the store renders together (32), each with its own number.
    let more: Vec<_> = (0..70)
        .map(|i| json!({"action": "sms.sent", "metadata": {"phone": format!("+44 7700 9{i:05}"), "campaign": "Bulk"}}))
        .collect();
    s.ingest("acme", json!(more)).await;
    let reader = s.key("acme", &["read"]).await;
    let (_, _, masked) = download(&s, "/v1/tenants/acme/export?format=csv&view=sms", &reader).await;
    let masked = String::from_utf8(masked).unwrap();
    assert!(masked.starts_with("Seq,Date,Message Id,Campaign,Phone,Gateway,Status,Error,User\n"), "{masked}");
    assert!(masked.contains("'+** **** **0123"), "{masked}");
    for i in 0..70 {
        assert!(masked.contains(&format!("'+** **** **{:04}", i % 10_000)), "number {i} masked: {masked}");
    }
    assert!(!masked.contains("7700"));
    assert_eq!(masked.lines().count(), 72, "only SMS events are in the SMS view");
    let (_, _, whole) = download(&s, "/v1/tenants/acme/export?format=csv&view=sms", OPERATOR).await;
    assert!(String::from_utf8(whole).unwrap().contains("'+44 7700 900123"));
}
