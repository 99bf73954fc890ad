//! Lays out a certificate on A4 pages: title (and English title), issuing department and
//! certificate number, the certifying statement, the body table, notes, then the verification
//! QR code beside the issuer, date of issue and seal area; "第 1 页 / 共 N 页" on every page.
//! A long table continues on the next page under a "（续）" heading.

use kiosk_core::flow::DocumentContent;
use kiosk_core::text::{Language, LocalizedText};

use crate::DocumentError;
use crate::draw::{self, A4_HEIGHT, A4_WIDTH, Colour, Face, Op};
use crate::fonts::DocumentFonts;
use crate::text_layout::wrap;

const MARGIN_X: f32 = 62.0;
const TOP: f32 = 72.0;
/// Lowest baseline of body content; the footer sits below.
const CONTENT_BOTTOM: f32 = A4_HEIGHT - 72.0;
const FOOTER_BASELINE: f32 = A4_HEIGHT - 36.0;
const CONTENT_WIDTH: f32 = A4_WIDTH - 2.0 * MARGIN_X;
const LABEL_WIDTH: f32 = 150.0;
const CELL_PAD: f32 = 8.0;
const BODY_SIZE: f32 = 12.0;
const BODY_LEADING: f32 = 19.0;
const SMALL_SIZE: f32 = 9.0;
const SMALL_LEADING: f32 = 13.0;
const QR_SIDE: f32 = 96.0;
const SEAL_RADIUS: f32 = 52.0;
/// Height of the QR / issuer / seal block at the end.
const CLOSING_HEIGHT: f32 = QR_SIDE + 2.0 * SMALL_LEADING + 24.0;

/// The certificate as PDF bytes.
pub fn certificate_pdf(
    content: &DocumentContent,
    language: Language,
    fonts: &DocumentFonts,
) -> Result<Vec<u8>, DocumentError> {
    let pages = layout(content, language, fonts)?;
    draw::pdf(&pages, fonts, &content.title.zh)
}

/// The drawing operations of every page.
pub fn layout(
    content: &DocumentContent,
    language: Language,
    fonts: &DocumentFonts,
) -> Result<Vec<Vec<Op>>, DocumentError> {
    let english = language == Language::En;
    let mut pager = Pager::new(content, english, fonts);
    pager.heading();
    if let Some(statement) = &content.statement {
        pager.paragraph(
            &format!("　　{}", statement.zh),
            BODY_SIZE,
            BODY_LEADING,
            Colour::BLACK,
        );
        if english && !statement.en.is_empty() {
            pager.paragraph(&statement.en, SMALL_SIZE + 1.0, SMALL_LEADING, Colour::GREY);
        }
        pager.y += 8.0;
    }
    pager.table();
    if !content.notes.is_empty() {
        pager.y += 10.0;
        for (i, note) in content.notes.iter().enumerate() {
            let prefix = if i == 0 { "注：" } else { "　　" };
            pager.paragraph(
                &format!("{prefix}{}. {}", i + 1, note.zh),
                SMALL_SIZE + 1.0,
                SMALL_LEADING + 1.0,
                Colour::BLACK,
            );
            if english && !note.en.is_empty() {
                pager.paragraph(&note.en, SMALL_SIZE, SMALL_LEADING, Colour::GREY);
            }
        }
    }
    pager.closing()?;
    Ok(pager.finish())
}

struct Pager<'a> {
    content: &'a DocumentContent,
    english: bool,
    fonts: &'a DocumentFonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'a> Pager<'a> {
    fn new(content: &'a DocumentContent, english: bool, fonts: &'a DocumentFonts) -> Self {
        Pager {
            content,
            english,
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("at least one page")
    }

    fn text(&mut self, x: f32, y: f32, size: f32, face: Face, colour: Colour, text: &str) {
        if text.is_empty() {
            return;
        }
        self.ops().push(Op::Text {
            x,
            y,
            size,
            face,
            colour,
            text: text.to_string(),
        });
    }

    fn centred(&mut self, y: f32, size: f32, face: Face, colour: Colour, text: &str) {
        let font = match face {
            Face::Body => &self.fonts.body,
            Face::Title => &self.fonts.title,
        };
        let x = (A4_WIDTH - font.width(text, size)) / 2.0;
        self.text(x, y, size, face, colour, text);
    }

    fn right(&mut self, right: f32, y: f32, size: f32, colour: Colour, text: &str) {
        let x = right - self.fonts.body.width(text, size);
        self.text(x, y, size, Face::Body, colour, text);
    }

    fn rule(&mut self, y: f32, width: f32) {
        self.ops().push(Op::Line {
            from: (MARGIN_X, y),
            to: (A4_WIDTH - MARGIN_X, y),
            width,
            colour: Colour::BLACK,
        });
    }

    /// Starts a new page when `height` more points do not fit.
    fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
            let title = format!("{}（续）", self.content.title.zh);
            self.centred(self.y, 14.0, Face::Title, Colour::BLACK, &title);
            self.y += 24.0;
        }
    }

    fn heading(&mut self) {
        let c = self.content;
        self.y += 10.0;
        self.centred(
            self.y,
            26.0,
            Face::Title,
            Colour::BLACK,
            &spaced(&c.title.zh),
        );
        self.y += 24.0;
        if !c.title.en.is_empty() {
            self.centred(self.y, 11.0, Face::Body, Colour::GREY, &c.title.en);
            self.y += 22.0;
        }
        let issuer = with_en("出具单位：", "Issued by: ", &c.issuer, self.english);
        self.text(MARGIN_X, self.y, 10.5, Face::Body, Colour::BLACK, &issuer);
        let number = if self.english {
            format!("编号 No.：{}", c.transaction_id)
        } else {
            format!("编号：{}", c.transaction_id)
        };
        self.right(A4_WIDTH - MARGIN_X, self.y, 10.5, Colour::BLACK, &number);
        self.y += 8.0;
        self.rule(self.y, 1.4);
        self.rule(self.y + 2.5, 0.5);
        self.y += 26.0;
    }

    fn paragraph(&mut self, text: &str, size: f32, leading: f32, colour: Colour) {
        for line in wrap(text, &self.fonts.body, size, CONTENT_WIDTH) {
            self.ensure(leading);
            self.text(MARGIN_X, self.y, size, Face::Body, colour, &line);
            self.y += leading;
        }
    }

    fn table(&mut self) {
        let value_width = CONTENT_WIDTH - LABEL_WIDTH - 2.0 * CELL_PAD;
        let label_width = LABEL_WIDTH - 2.0 * CELL_PAD;
        let mut top = self.y - BODY_SIZE - CELL_PAD;
        for row in &self.content.rows {
            let mut label = cell_lines(&row.label, self.english, self.fonts, label_width);
            let mut value = cell_lines(&row.value, self.english, self.fonts, value_width);
            if !self.english {
                label.truncate(label.iter().filter(|l| !l.secondary).count());
                value.truncate(value.iter().filter(|l| !l.secondary).count());
            }
            let height = 2.0 * CELL_PAD + cell_height(&label).max(cell_height(&value));
            if top + height > CONTENT_BOTTOM {
                self.y = CONTENT_BOTTOM + 1.0;
                self.ensure(height);
                top = self.y - BODY_SIZE - CELL_PAD;
            }
            self.ops().push(Op::Fill {
                rect: (MARGIN_X, top, LABEL_WIDTH, height),
                colour: Colour::SHADE,
            });
            let right = A4_WIDTH - MARGIN_X;
            let mid = MARGIN_X + LABEL_WIDTH;
            for (from, to) in [
                ((MARGIN_X, top), (right, top)),
                ((MARGIN_X, top + height), (right, top + height)),
                ((MARGIN_X, top), (MARGIN_X, top + height)),
                ((mid, top), (mid, top + height)),
                ((right, top), (right, top + height)),
            ] {
                self.ops().push(Op::Line {
                    from,
                    to,
                    width: 0.8,
                    colour: Colour::BLACK,
                });
            }
            self.cell(MARGIN_X + CELL_PAD, top + CELL_PAD, &label);
            self.cell(mid + CELL_PAD, top + CELL_PAD, &value);
            top += height;
        }
        self.y = top + BODY_SIZE + CELL_PAD;
    }

    fn cell(&mut self, x: f32, top: f32, lines: &[CellLine]) {
        let mut y = top;
        for line in lines {
            let (size, leading, colour) = if line.secondary {
                (SMALL_SIZE, SMALL_LEADING, Colour::GREY)
            } else {
                (BODY_SIZE, BODY_LEADING, Colour::BLACK)
            };
            self.text(x, y + size, size, Face::Body, colour, &line.text);
            y += leading;
        }
    }

    /// The verification QR code (left), issuer, date and seal area (right).
    fn closing(&mut self) -> Result<(), DocumentError> {
        self.y += 18.0;
        self.ensure(CLOSING_HEIGHT);
        let top = self.y;
        let c = self.content;
        self.qr(MARGIN_X, top, &c.verify.url)?;
        let mut caption_y = top + QR_SIDE + SMALL_LEADING;
        for line in wrap(&c.verify.caption.zh, &self.fonts.body, SMALL_SIZE, 220.0) {
            self.text(
                MARGIN_X,
                caption_y,
                SMALL_SIZE,
                Face::Body,
                Colour::BLACK,
                &line,
            );
            caption_y += SMALL_LEADING;
        }
        if self.english {
            self.text(
                MARGIN_X,
                caption_y,
                SMALL_SIZE,
                Face::Body,
                Colour::GREY,
                &c.verify.caption.en,
            );
        }

        let right = A4_WIDTH - MARGIN_X - 10.0;
        let seal_centre = (right - SEAL_RADIUS, top + SEAL_RADIUS + 6.0);
        self.ops().push(Op::Circle {
            centre: seal_centre,
            radius: SEAL_RADIUS,
            colour: Colour::SEAL,
            dashed: true,
        });
        let seal_label = "（电子印章处）";
        let w = self.fonts.body.width(seal_label, SMALL_SIZE);
        self.text(
            seal_centre.0 - w / 2.0,
            seal_centre.1 + SEAL_RADIUS - 10.0,
            SMALL_SIZE,
            Face::Body,
            Colour::SEAL,
            seal_label,
        );
        let issuer_y = top + SEAL_RADIUS;
        self.right(right, issuer_y, 13.0, Colour::BLACK, &c.issuer.zh);
        self.right(
            right,
            issuer_y + 22.0,
            12.0,
            Colour::BLACK,
            &chinese_date(&c.issued_on),
        );
        if self.english {
            self.right(
                right,
                issuer_y + 38.0,
                SMALL_SIZE,
                Colour::GREY,
                &c.issuer.en,
            );
        }
        if let Some(until) = &c.valid_until {
            let line = if self.english {
                format!("有效期至 Valid until {until}")
            } else {
                format!("有效期至 {until}")
            };
            self.right(
                right,
                top + 2.0 * SEAL_RADIUS + 30.0,
                SMALL_SIZE + 1.0,
                Colour::BLACK,
                &line,
            );
        }
        self.y = top + CLOSING_HEIGHT;
        Ok(())
    }

    fn qr(&mut self, x: f32, y: f32, payload: &str) -> Result<(), DocumentError> {
        let code =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
                .map_err(|e| DocumentError::Qr(e.to_string()))?;
        let n = code.width();
        let module = QR_SIDE / n as f32;
        let colors = code.to_colors();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                self.ops().push(Op::Fill {
                    // A hair wider so neighbouring runs leave no seams when rasterised.
                    rect: (
                        x + start as f32 * module,
                        y + row as f32 * module,
                        (col - start) as f32 * module + 0.05,
                        module + 0.05,
                    ),
                    colour: Colour::BLACK,
                });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<Vec<Op>> {
        let total = self.pages.len();
        let english = self.english;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let mut footer = format!("第 {} 页 / 共 {} 页", i + 1, total);
            if english {
                footer.push_str(&format!("  Page {} of {}", i + 1, total));
            }
            let x = (A4_WIDTH - self.fonts.body.width(&footer, SMALL_SIZE)) / 2.0;
            page.push(Op::Text {
                x,
                y: FOOTER_BASELINE,
                size: SMALL_SIZE,
                face: Face::Body,
                colour: Colour::GREY,
                text: footer,
            });
        }
        self.pages
    }
}

/// One line inside a table cell; `secondary` lines are the English under the Chinese.
struct CellLine {
    text: String,
    secondary: bool,
}

fn cell_lines(
    text: &LocalizedText,
    english: bool,
    fonts: &DocumentFonts,
    width: f32,
) -> Vec<CellLine> {
    let mut lines: Vec<CellLine> = wrap(&text.zh, &fonts.body, BODY_SIZE, width)
        .into_iter()
        .map(|text| CellLine {
            text,
            secondary: false,
        })
        .collect();
    if english && !text.en.is_empty() && text.en != text.zh {
        lines.extend(
            wrap(&text.en, &fonts.body, SMALL_SIZE, width)
                .into_iter()
                .map(|text| CellLine {
                    text,
                    secondary: true,
                }),
        );
    }
    lines
}

fn cell_height(lines: &[CellLine]) -> f32 {
    let h: f32 = lines
        .iter()
        .map(|l| {
            if l.secondary {
                SMALL_LEADING
            } else {
                BODY_LEADING
            }
        })
        .sum();
    // The last line needs its glyph height, not a full leading.
    h - BODY_LEADING + BODY_SIZE + 4.0
}

fn with_en(zh_label: &str, en_label: &str, text: &LocalizedText, english: bool) -> String {
    if english && !text.en.is_empty() {
        format!("{zh_label}{}  {en_label}{}", text.zh, text.en)
    } else {
        format!("{zh_label}{}", text.zh)
    }
}

/// 临时身份证明 → 临 时 身 份 证 明 for short titles, as official titles are set.
fn spaced(title: &str) -> String {
    if title.chars().count() <= 8 && title.chars().all(crate::text_layout::is_cjk) {
        title
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        title.to_string()
    }
}

/// `2026-11-22` → `2026年11月22日`.
fn chinese_date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!(
            "{y}年{}月{}日",
            m.trim_start_matches('0'),
            d.trim_start_matches('0')
        ),
        _ => iso.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_titles() {
        assert_eq!(chinese_date("2026-01-05"), "2026年1月5日");
        assert_eq!(spaced("临时身份证明"), "临 时 身 份 证 明");
        assert_eq!(
            spaced("原产地证书（自助打印件）"),
            "原产地证书（自助打印件）"
        );
    }
}
