//! DOCX: a real Word table (`w:tbl`) under a title and the file's details, the header row
//! marked to repeat on every page, A4 landscape.
//!
//! The WordprocessingML is written here, row by row, straight into the zip entry (`zip`, the
//! crate `rust_xlsxwriter` already uses): a document model such as `docx-rs` holds every cell
//! as a tree of structs, about a kilobyte each, which at 100,000 rows of 15 columns is more
//! memory than the rest of Trail. Written this way, memory stays flat.

use std::io::{Seek, SeekFrom, Write};

use trail_core::event::StoredEvent;
use zip::{ZipWriter, write::SimpleFileOptions};

use crate::{Cell, Column, ExportError, Meta, RowWriter};

/// A4 landscape in twentieths of a point, with 1.5 cm margins.
const PAGE_W: u32 = 16838;
const PAGE_H: u32 = 11906;
const MARGIN: u32 = 850;

pub struct DocxWriter<W: Write> {
    zip: ZipWriter<std::fs::File>,
    out: W,
    /// The document part is being written (opened lazily, at the first row or at the end).
    started: bool,
    meta: Meta,
    columns: Vec<Column>,
    /// Each column's width in twentieths of a point.
    widths: Vec<u32>,
    buf: String,
}

fn err(e: impl std::fmt::Display) -> ExportError {
    ExportError::Format { format: crate::Format::Docx, message: e.to_string() }
}

impl<W: Write> DocxWriter<W> {
    pub fn new(meta: &Meta, columns: &[Column], out: W) -> Result<Self, ExportError> {
        let usable = (PAGE_W - 2 * MARGIN) as f32;
        let total: f32 = columns.iter().map(|c| c.width).sum::<f32>().max(1.0);
        let widths = columns.iter().map(|c| (usable * c.width / total) as u32).collect();
        Ok(DocxWriter {
            zip: ZipWriter::new(tempfile::tempfile()?),
            out,
            started: false,
            meta: meta.clone(),
            columns: columns.to_vec(),
            widths,
            buf: String::with_capacity(16 * 1024),
        })
    }

    fn options() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
    }

    /// The package parts around the document, then the document's start: title, details, the
    /// table's properties and its header row.
    fn start(&mut self) -> Result<(), ExportError> {
        self.started = true;
        for (name, body) in [
            ("[Content_Types].xml", CONTENT_TYPES.to_string()),
            ("_rels/.rels", RELS.to_string()),
            ("word/_rels/document.xml.rels", DOC_RELS.to_string()),
            ("word/styles.xml", STYLES.to_string()),
            ("docProps/core.xml", core_props(&self.meta)),
        ] {
            self.zip.start_file(name, Self::options()).map_err(err)?;
            self.zip.write_all(body.as_bytes())?;
        }
        self.zip.start_file("word/document.xml", Self::options()).map_err(err)?;
        let mut head = String::from(DOC_START);
        paragraph(&mut head, "Title", &self.meta.title);
        for line in self.meta.lines() {
            paragraph(&mut head, "Details", &line);
        }
        head.push_str(
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="TrailTable"/><w:tblW w:w="0" w:type="auto"/><w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>"#,
        );
        for w in &self.widths {
            head.push_str(&format!(r#"<w:gridCol w:w="{w}"/>"#));
        }
        head.push_str("</w:tblGrid>");
        // The header row repeats at the top of every page (`w:tblHeader`).
        head.push_str(r#"<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>"#);
        let titles: Vec<String> = self.columns.iter().map(|c| c.title.to_string()).collect();
        for (title, w) in titles.iter().zip(&self.widths) {
            cell(&mut head, *w, title, true);
        }
        head.push_str("</w:tr>");
        self.zip.write_all(head.as_bytes())?;
        Ok(())
    }
}

impl<W: Write + Send> RowWriter for DocxWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], _event: Option<&StoredEvent>) -> Result<(), ExportError> {
        if !self.started {
            self.start()?;
        }
        self.buf.clear();
        self.buf.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for (c, w) in cells.iter().zip(&self.widths) {
            cell(&mut self.buf, *w, &c.display(), false);
        }
        self.buf.push_str("</w:tr>");
        self.zip.write_all(self.buf.as_bytes())?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        if !self.started {
            self.start()?;
        }
        let end = format!(
            r#"</w:tbl><w:p/><w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/><w:pgSz w:w="{PAGE_W}" w:h="{PAGE_H}" w:orient="landscape"/><w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{MARGIN}" w:left="{MARGIN}" w:header="425" w:footer="425" w:gutter="0"/></w:sectPr></w:body></w:document>"#
        );
        self.zip.write_all(end.as_bytes())?;
        self.zip.start_file("word/footer1.xml", Self::options()).map_err(err)?;
        self.zip.write_all(FOOTER.as_bytes())?;
        let mut file = self.zip.finish().map_err(err)?;
        file.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut file, &mut self.out)?;
        self.out.flush()?;
        Ok(())
    }
}

/// Escapes text for XML, dropping the control characters XML 1.0 cannot hold.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// Runs of text: line breaks and tabs become Word's own elements.
fn runs(out: &mut String, text: &str, bold: bool) {
    out.push_str("<w:r>");
    if bold {
        out.push_str("<w:rPr><w:b/></w:rPr>");
    }
    // CR LF, a lone CR and LF are each one line break (XML would turn a CR kept in the text
    // into a line feed anyway).
    for (i, line) in text.split("\r\n").flat_map(|l| l.split(['\r', '\n'])).enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        for (j, part) in line.split('\t').enumerate() {
            if j > 0 {
                out.push_str("<w:tab/>");
            }
            out.push_str(r#"<w:t xml:space="preserve">"#);
            escape(out, part);
            out.push_str("</w:t>");
        }
    }
    out.push_str("</w:r>");
}

fn cell(out: &mut String, width: u32, text: &str, bold: bool) {
    out.push_str(&format!(r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>"#));
    runs(out, text, bold);
    out.push_str("</w:p></w:tc>");
}

fn paragraph(out: &mut String, style: &str, text: &str) {
    out.push_str(&format!(r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>"#));
    runs(out, text, false);
    out.push_str("</w:p>");
}

fn core_props(meta: &Meta) -> String {
    let mut title = String::new();
    escape(&mut title, &meta.title);
    let mut subject = String::new();
    escape(&mut subject, &meta.tenant);
    let created = meta.generated_at.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject><dc:creator>Trail</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created></cp:coreProperties>"#
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

const DOC_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>"#;

/// Page numbers: `Page N of M`, Word's own fields.
const FOOTER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:t xml:space="preserve"> of </w:t></w:r><w:fldSimple w:instr="NUMPAGES"><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p></w:ftr>"#;

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/><w:sz w:val="16"/><w:szCs w:val="16"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="120"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Details"><w:name w:val="Details"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="40"/></w:pPr><w:rPr><w:color w:val="555555"/><w:sz w:val="18"/></w:rPr></w:style><w:style w:type="table" w:styleId="TrailTable"><w:name w:val="Trail Table"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/><w:left w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/><w:right w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="BBBBBB"/></w:tblBorders><w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style></w:styles>"#;
