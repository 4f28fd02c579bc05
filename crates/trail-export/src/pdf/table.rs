//! Multi-page PDF table export (A4 landscape) built on `krilla`.
//!
//! * Fonts: DejaVu Sans (regular + bold) embedded (krilla subsets them) from the
//!   `dejavu` crate, covering Latin, Greek, Cyrillic, Hebrew and Arabic.
//! * Cell text is word-wrapped to the column width using the font's advance widths
//!   (read with `skrifa`); words wider than a column are broken between characters.
//! * A row is never split across pages; a row taller than a page is truncated with "…".
//! * The header row is repeated on every page; every page gets "Page N of M".
//! * Text is shaped with rustybuzz (one cached face + shape plans per font, which is
//!   ~2.5x faster than krilla's `draw_text`, which re-parses the font on every call);
//!   lines with RTL characters are reordered into bidi runs with `unicode-bidi`.
//!   Characters missing from DejaVu Sans (most emoji, CJK) render as the .notdef box.
//!
//! Rows are laid out (wrapped and paginated) when added and stored compactly as wrapped
//! lines in one string arena; the PDF is drawn in `finish` once the page count is known.

use super::{
    shaper::Shaper,
    text::{Metrics, truncate_lines, wrap, wrap_limited},
};
use krilla::Document;
use krilla::color::{luma, rgb};
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};

// ---- Page geometry (PDF points, origin top-left, y grows downwards in krilla) ----
const PAGE_W: f32 = 841.89; // A4 landscape: 297 mm
const PAGE_H: f32 = 595.28; // 210 mm
const MARGIN: f32 = 36.0;
const TABLE_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Lowest y that table content may reach; below it sits the footer.
const TABLE_BOTTOM: f32 = PAGE_H - MARGIN - 12.0;
const FOOTER_BASELINE: f32 = PAGE_H - MARGIN + 4.0;

const TITLE_SIZE: f32 = 14.0;
const TITLE_LINE_H: f32 = 18.0;
const INFO_SIZE: f32 = 9.0;
const INFO_LINE_H: f32 = 12.0;
const BODY_SIZE: f32 = 8.0;
const BODY_LINE_H: f32 = 10.0;
const FOOTER_SIZE: f32 = 8.0;
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 2.0;
const GAP_BEFORE_TABLE: f32 = 8.0;

const MAX_TITLE_LINES: usize = 2;
const MAX_INFO_LINES: usize = 3;
const MAX_HEADER_LINES: usize = 4;
/// Total lines of the info block (tenant, filters, ...) on the first page.
const MAX_INFO_TOTAL: usize = 12;

/// A PDF document consisting of a title block and a paginated table.
pub struct PdfTable {
    regular: Metrics,
    bold: Metrics,
    title: Vec<String>,
    info: Vec<Vec<String>>,
    /// Column x offsets (relative to the left margin) and widths, in points.
    col_x: Vec<f32>,
    col_w: Vec<f32>,
    header: Vec<Vec<String>>,
    header_h: f32,
    /// y where the table starts on the first page / on the following pages.
    first_table_top: f32,
    max_row_lines: usize,

    // ---- Laid-out rows, stored compactly ----
    /// Text of all wrapped lines, concatenated.
    arena: String,
    /// End offset in `arena` of each line.
    line_ends: Vec<usize>,
    /// Number of lines of each cell (row-major, `ncols` per row).
    cell_lines: Vec<u16>,
    /// Height (in lines) of each row.
    row_lines: Vec<u16>,
    /// Index of the first row of every page (page 0 always starts at row 0).
    page_starts: Vec<usize>,
    /// Height used by rows on the current (last) page.
    cur_page_used: f32,
}

impl PdfTable {
    /// `lines` are shown under the title on the first page (e.g. tenant, filters, generation
    /// time). `widths` are relative column widths; if they are unusable (wrong length,
    /// non-positive or non-finite) all columns get the same width.
    pub fn new(title: &str, lines: &[String], headers: &[&str], widths: &[f32]) -> Self {
        let regular = Metrics::new(dejavu::sans::regular()).expect("embedded DejaVu Sans parses");
        let bold = Metrics::new(dejavu::sans::bold()).expect("embedded DejaVu Sans Bold parses");
        let ncols = headers.len().max(1);
        let usable = widths.len() == ncols && widths.iter().all(|w| w.is_finite() && *w > 0.0);
        let rel: Vec<f32> = if usable { widths.to_vec() } else { vec![1.0; ncols] };
        let total: f32 = rel.iter().sum();
        let col_w: Vec<f32> = rel.iter().map(|w| w / total * TABLE_W).collect();
        let mut col_x = Vec::with_capacity(ncols);
        let mut x = 0.0;
        for w in &col_w {
            col_x.push(x);
            x += w;
        }

        let title_lines = wrap_limited(&bold, title, TITLE_SIZE, TABLE_W, MAX_TITLE_LINES);
        let mut info: Vec<Vec<String>> = Vec::new();
        let mut budget = MAX_INFO_TOTAL;
        for l in lines {
            if budget == 0 {
                break;
            }
            let w = wrap_limited(&regular, l, INFO_SIZE, TABLE_W, MAX_INFO_LINES.min(budget));
            budget -= w.len();
            info.push(w);
        }
        let header: Vec<Vec<String>> = (0..ncols)
            .map(|i| {
                let h = headers.get(i).copied().unwrap_or("");
                wrap_limited(&bold, h, BODY_SIZE, col_w[i] - 2.0 * PAD_X, MAX_HEADER_LINES)
            })
            .collect();
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
        let header_h = header_lines as f32 * BODY_LINE_H + 2.0 * PAD_Y;

        let info_line_count: usize = info.iter().map(Vec::len).sum();
        let first_table_top =
            MARGIN + title_lines.len() as f32 * TITLE_LINE_H + info_line_count as f32 * INFO_LINE_H + GAP_BEFORE_TABLE;
        let body_other = TABLE_BOTTOM - MARGIN - header_h;
        let max_row_lines = (((body_other - 2.0 * PAD_Y) / BODY_LINE_H).floor() as usize).max(1);

        PdfTable {
            regular,
            bold,
            title: title_lines,
            info,
            col_x,
            col_w,
            header,
            header_h,
            first_table_top,
            max_row_lines,
            arena: String::new(),
            line_ends: Vec::new(),
            cell_lines: Vec::new(),
            row_lines: Vec::new(),
            page_starts: vec![0],
            cur_page_used: 0.0,
        }
    }

    fn ncols(&self) -> usize {
        self.col_w.len()
    }

    fn body_top(&self, page: usize) -> f32 {
        let top = if page == 0 { self.first_table_top } else { MARGIN };
        top + self.header_h
    }

    /// Add a row. Missing cells are empty; cells beyond the number of columns are ignored.
    pub fn row(&mut self, cells: &[&str]) {
        let ncols = self.ncols();
        let mut wrapped: Vec<Vec<String>> = (0..ncols)
            .map(|i| {
                let text = cells.get(i).copied().unwrap_or("");
                wrap(&self.regular, text, BODY_SIZE, self.col_w[i] - 2.0 * PAD_X)
            })
            .collect();
        let row_h = |w: &[Vec<String>]| {
            let n = w.iter().map(Vec::len).max().unwrap_or(1).max(1);
            (n, n as f32 * BODY_LINE_H + 2.0 * PAD_Y)
        };
        // A row never exceeds the body of a continuation page.
        self.truncate_row(&mut wrapped, self.max_row_lines);
        let (mut n_lines, mut h) = row_h(&wrapped);

        // Paginate: never split a row; start a new page if it does not fit on this one.
        let page = self.page_starts.len() - 1;
        let avail = TABLE_BOTTOM - self.body_top(page);
        if self.cur_page_used + h > avail {
            if self.cur_page_used > 0.0 {
                self.page_starts.push(self.row_lines.len());
                self.cur_page_used = 0.0;
            } else {
                // First row of the first page, taller than the space left under the title
                // block: shorten it to fit rather than leaving the first page's table empty.
                let fit = ((avail - 2.0 * PAD_Y) / BODY_LINE_H).floor().max(1.0) as usize;
                self.truncate_row(&mut wrapped, fit);
                (n_lines, h) = row_h(&wrapped);
            }
        }
        self.cur_page_used += h;

        for lines in wrapped {
            self.cell_lines.push(lines.len() as u16);
            for l in lines {
                self.arena.push_str(&l);
                self.line_ends.push(self.arena.len());
            }
        }
        self.row_lines.push(n_lines as u16);
    }

    fn truncate_row(&self, wrapped: &mut [Vec<String>], max_lines: usize) {
        for (i, lines) in wrapped.iter_mut().enumerate() {
            let w = self.col_w[i] - 2.0 * PAD_X;
            truncate_lines(&self.regular, lines, max_lines, BODY_SIZE, w);
        }
    }

    /// Number of pages laid out so far.
    #[cfg(test)]
    pub fn page_count(&self) -> usize {
        self.page_starts.len()
    }

    /// Lay out all pages and return the PDF bytes.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        let mut regular = Shaper::new(dejavu::sans::regular())?;
        let mut bold = Shaper::new(dejavu::sans::bold())?;
        let mut doc = Document::new();
        doc.set_metadata(Metadata::new().title(self.title.join(" ")).creator("Trail".to_string()));

        let ncols = self.ncols();
        let n_pages = self.page_starts.len();
        let mut line_idx = 0usize; // index into line_ends of the next line to draw
        let mut line_start = 0usize; // byte offset in arena of that line
        let text_fill = Fill::default();
        let grid = Stroke { paint: luma::Color::new(150).into(), width: 0.4, ..Default::default() };
        let header_bg = Fill { paint: rgb::Color::new(225, 228, 235).into(), ..Default::default() };

        for page in 0..n_pages {
            let first_row = self.page_starts[page];
            let end_row = self.page_starts.get(page + 1).copied().unwrap_or(self.row_lines.len());
            let mut page_doc = doc.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size")?);
            let mut s = page_doc.surface();

            // Title block on the first page.
            let table_top = if page == 0 {
                let mut y = MARGIN;
                s.set_fill(Some(text_fill.clone()));
                for l in &self.title {
                    let b = y + self.bold.baseline(TITLE_SIZE, TITLE_LINE_H);
                    bold.draw_line(&mut s, TITLE_SIZE, MARGIN, MARGIN + TABLE_W, b, l);
                    y += TITLE_LINE_H;
                }
                for info in &self.info {
                    for l in info {
                        let b = y + self.regular.baseline(INFO_SIZE, INFO_LINE_H);
                        regular.draw_line(&mut s, INFO_SIZE, MARGIN, MARGIN + TABLE_W, b, l);
                        y += INFO_LINE_H;
                    }
                }
                self.first_table_top
            } else {
                MARGIN
            };

            // Header row background + text.
            s.set_stroke(None);
            s.set_fill(Some(header_bg.clone()));
            if let Some(p) = rect_path(MARGIN, table_top, TABLE_W, self.header_h) {
                s.draw_path(&p);
            }
            s.set_fill(Some(text_fill.clone()));
            for (c, lines) in self.header.iter().enumerate() {
                let x = MARGIN + self.col_x[c] + PAD_X;
                let right = MARGIN + self.col_x[c] + self.col_w[c] - PAD_X;
                for (i, l) in lines.iter().enumerate() {
                    let b = table_top + PAD_Y + i as f32 * BODY_LINE_H + self.bold.baseline(BODY_SIZE, BODY_LINE_H);
                    bold.draw_line(&mut s, BODY_SIZE, x, right, b, l);
                }
            }

            // Rows.
            let mut y = table_top + self.header_h;
            let mut row_bottoms = Vec::with_capacity(end_row - first_row);
            for r in first_row..end_row {
                for c in 0..ncols {
                    let n = self.cell_lines[r * ncols + c] as usize;
                    let x = MARGIN + self.col_x[c] + PAD_X;
                    let right = MARGIN + self.col_x[c] + self.col_w[c] - PAD_X;
                    for i in 0..n {
                        let end = self.line_ends[line_idx];
                        let l = &self.arena[line_start..end];
                        line_idx += 1;
                        line_start = end;
                        if !l.is_empty() {
                            let b = y + PAD_Y + i as f32 * BODY_LINE_H + self.regular.baseline(BODY_SIZE, BODY_LINE_H);
                            regular.draw_line(&mut s, BODY_SIZE, x, right, b, l);
                        }
                    }
                }
                y += self.row_lines[r] as f32 * BODY_LINE_H + 2.0 * PAD_Y;
                row_bottoms.push(y);
            }

            // Grid: one stroked path per page.
            let mut pb = PathBuilder::new();
            for &yy in std::iter::once(&table_top)
                .chain(std::iter::once(&(table_top + self.header_h)))
                .chain(row_bottoms.iter())
            {
                pb.move_to(MARGIN, yy);
                pb.line_to(MARGIN + TABLE_W, yy);
            }
            for c in 0..=ncols {
                let x = MARGIN + if c == ncols { TABLE_W } else { self.col_x[c] };
                pb.move_to(x, table_top);
                pb.line_to(x, y);
            }
            if let Some(p) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(grid.clone()));
                s.draw_path(&p);
                s.set_stroke(None);
            }

            // Footer.
            s.set_fill(Some(text_fill.clone()));
            let footer = format!("Page {} of {}", page + 1, n_pages);
            let fw = self.regular.width(&footer, FOOTER_SIZE);
            regular.draw_line(&mut s, FOOTER_SIZE, PAGE_W - MARGIN - fw, PAGE_W - MARGIN, FOOTER_BASELINE, &footer);

            s.finish();
            page_doc.finish();
        }
        doc.finish().map_err(|e| format!("PDF serialization failed: {e:?}"))
    }
}

fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn m() -> Metrics {
        Metrics::new(dejavu::sans::regular()).unwrap()
    }

    #[test]
    fn wraps_words_within_width() {
        let m = m();
        let lines = wrap(&m, "the quick brown fox jumps over the lazy dog", 10.0, 60.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(m.width(l, 10.0) <= 60.0, "{l:?} too wide");
        }
        assert_eq!(lines.join(" "), "the quick brown fox jumps over the lazy dog");
    }

    #[test]
    fn breaks_overlong_words() {
        let m = m();
        let word = "x".repeat(200);
        let lines = wrap(&m, &word, 8.0, 50.0);
        assert!(lines.len() > 5);
        assert_eq!(lines.concat(), word);
        for l in &lines {
            assert!(m.width(l, 8.0) <= 50.0);
        }
    }

    #[test]
    fn newlines_and_empty() {
        let m = m();
        assert_eq!(wrap(&m, "", 8.0, 50.0), vec![String::new()]);
        assert_eq!(wrap(&m, "a\r\nb\tc\n", 8.0, 500.0), vec!["a".to_string(), "b c".to_string()]);
    }

    #[test]
    fn truncates_with_ellipsis() {
        let m = m();
        let mut lines = wrap(&m, &"word ".repeat(500), 8.0, 60.0);
        truncate_lines(&m, &mut lines, 3, 8.0, 60.0);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'));
        assert!(m.width(&lines[2], 8.0) <= 60.0);
    }

    #[test]
    fn tall_row_is_truncated_and_not_split() {
        let mut t = PdfTable::new("t", &[], &["a", "b"], &[1.0, 1.0]);
        let huge = "lorem ipsum ".repeat(20_000);
        t.row(&["x", &huge]);
        assert_eq!(t.page_count(), 1, "first row stays on page 1 (truncated)");
        t.row(&["y", &huge]);
        t.row(&["z", "small"]);
        assert!(t.row_lines.iter().all(|&n| n as usize <= t.max_row_lines));
        assert_eq!(t.row_lines[1] as usize, t.max_row_lines);
        assert_eq!(t.page_starts, vec![0, 1, 2]);
        // rows on every page fit between the header and the footer
        for (p, w) in t.page_starts.windows(2).enumerate() {
            let h: f32 = t.row_lines[w[0]..w[1]].iter().map(|&n| n as f32 * BODY_LINE_H + 2.0 * PAD_Y).sum();
            assert!(t.body_top(p) + h <= TABLE_BOTTOM);
        }
        let pdf = t.finish().unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }

    #[test]
    fn odd_input_does_not_panic() {
        // widths of the wrong length fall back to equal widths; empty title and headers.
        let mut t = PdfTable::new("", &[String::new()], &["", "b", "c"], &[1.0]);
        t.row(&[]);
        t.row(&["only one"]);
        t.row(&["a", "b", "c", "ignored extra cell"]);
        t.row(&["\u{0301}lone combining mark", "\u{202E}bidi override", "\u{200B}\u{FEFF}"]);
        t.row(&["\0nul\x07bell\r\n\ttab", " \n \n ", &"مرحبا".repeat(200)]);
        t.row(&[&"😀🎉👍🏽👨‍👩‍👧".repeat(50), "漢字 (no CJK glyphs in DejaVu)", "עברית English عربي"]);
        let mut narrow = PdfTable::new("narrow", &[], &["a", "b"], &[1.0, 10_000.0]);
        narrow.row(&["abc def", "x"]);
        assert!(t.finish().unwrap().starts_with(b"%PDF"));
        assert!(narrow.finish().unwrap().starts_with(b"%PDF"));
        let empty = PdfTable::new("no rows", &[], &["a"], &[1.0]);
        assert!(empty.finish().unwrap().starts_with(b"%PDF"));
    }
}
