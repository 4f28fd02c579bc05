//! Measuring and wrapping text with the font's advance widths (`skrifa`).

use skrifa::{
    FontRef, MetadataProvider,
    instance::{LocationRef, Size},
};

pub(super) const ELLIPSIS: char = '…';

/// Advance-width metrics of one font, used to measure text for wrapping.
pub(super) struct Metrics {
    font: FontRef<'static>,
    /// Advance (in em) for code points below `FAST_LEN` (Latin, Greek, Cyrillic,
    /// Hebrew, Arabic ...); others are looked up in the font on demand.
    fast: Vec<f32>,
    upem: f32,
    notdef_adv: f32,
    /// Ascent in em (positive), used to place the baseline inside a line box.
    ascent: f32,
    descent: f32,
}

const FAST_LEN: u32 = 0x0800;

impl Metrics {
    pub(super) fn new(data: &'static [u8]) -> Result<Self, String> {
        let font = FontRef::new(data).map_err(|e| format!("font parse: {e}"))?;
        let m = font.metrics(Size::unscaled(), LocationRef::default());
        let upem = m.units_per_em as f32;
        let gm = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let charmap = font.charmap();
        let notdef_adv = gm.advance_width(skrifa::GlyphId::new(0)).unwrap_or(0.0) / upem;
        let fast = (0..FAST_LEN)
            .map(|cp| match char::from_u32(cp).and_then(|c| charmap.map(c)) {
                Some(g) => gm.advance_width(g).unwrap_or(0.0) / upem,
                None => notdef_adv,
            })
            .collect();
        Ok(Metrics { ascent: m.ascent / upem, descent: -m.descent / upem, font, fast, upem, notdef_adv })
    }

    /// Width of `c` in em units.
    #[inline]
    pub(super) fn char_em(&self, c: char) -> f32 {
        let cp = c as u32;
        if cp < FAST_LEN {
            return self.fast[cp as usize];
        }
        if is_zero_width(c) {
            return 0.0;
        }
        match self.font.charmap().map(c) {
            Some(g) => {
                let gm = self.font.glyph_metrics(Size::unscaled(), LocationRef::default());
                gm.advance_width(g).unwrap_or(0.0) / self.upem
            }
            None => self.notdef_adv,
        }
    }

    pub(super) fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.char_em(c)).sum::<f32>() * size
    }

    /// Baseline offset from the top of a line box of height `line_h`.
    pub(super) fn baseline(&self, size: f32, line_h: f32) -> f32 {
        let content = (self.ascent + self.descent) * size;
        (line_h - content) / 2.0 + self.ascent * size
    }
}

/// Characters that are not to be separated from the preceding character when an
/// over-long word has to be broken (combining marks, joiners, variation selectors).
fn is_extend(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2
        | 0x05C4..=0x05C5 | 0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670
        | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C..=0x200D | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F
        | 0xE0100..=0xE01EF)
}

fn is_zero_width(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0xFEFF) || is_extend(c)
}

/// Replace control characters (other than '\n') by spaces; '\r\n' and '\r' become '\n'.
fn sanitize(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    s.chars()
        .map(|c| match c {
            '\n' => '\n',
            '\r' => '\n',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Word-wrap `text` into lines no wider than `max_w` points at `size`.
/// Explicit newlines are honoured; runs of whitespace collapse to one space;
/// words wider than the column are broken between characters.
/// Always returns at least one (possibly empty) line.
pub(super) fn wrap(m: &Metrics, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let max_em = (max_w / size).max(0.0);
    let space_em = m.char_em(' ');
    let text = sanitize(text);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_em = 0.0f32;
        for word in para.split_whitespace() {
            let w_em: f32 = word.chars().map(|c| m.char_em(c)).sum();
            if !line.is_empty() {
                if line_em + space_em + w_em <= max_em {
                    line.push(' ');
                    line.push_str(word);
                    line_em += space_em + w_em;
                    continue;
                }
                out.push(std::mem::take(&mut line));
                line_em = 0.0;
            }
            if w_em <= max_em {
                line.push_str(word);
                line_em = w_em;
                continue;
            }
            // Over-long word: break it between characters (keeping combining marks attached).
            for c in word.chars() {
                let c_em = m.char_em(c);
                if !line.is_empty() && line_em + c_em > max_em && !is_extend(c) {
                    out.push(std::mem::take(&mut line));
                    line_em = 0.0;
                }
                line.push(c);
                line_em += c_em;
            }
        }
        out.push(line);
    }
    // Drop trailing empty lines produced by trailing newlines (but keep at least one line).
    while out.len() > 1 && out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

/// Shorten `lines` to `max_lines`, ending the last kept line with an ellipsis that fits.
pub(super) fn truncate_lines(m: &Metrics, lines: &mut Vec<String>, max_lines: usize, size: f32, max_w: f32) {
    if lines.len() <= max_lines {
        return;
    }
    lines.truncate(max_lines.max(1));
    let last = lines.last_mut().expect("at least one line");
    let max_em = max_w / size;
    let ell_em = m.char_em(ELLIPSIS);
    let mut em: f32 = last.chars().map(|c| m.char_em(c)).sum();
    while em + ell_em > max_em {
        match last.pop() {
            Some(c) => em -= m.char_em(c),
            None => break,
        }
    }
    while last.ends_with(char::is_whitespace) {
        last.pop();
    }
    last.push(ELLIPSIS);
}

pub(super) fn wrap_limited(m: &Metrics, text: &str, size: f32, max_w: f32, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(m, text, size, max_w);
    truncate_lines(m, &mut lines, max_lines, size, max_w);
    lines
}
