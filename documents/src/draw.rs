//! Laid-out pages → PDF bytes, with `krilla` (fonts embedded as subsets, text extractable).

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};

use crate::DocumentError;
use crate::fonts::{DocumentFonts, FontFace};

/// A4 in points.
pub const A4_WIDTH: f32 = 595.28;
/// A4 in points.
pub const A4_HEIGHT: f32 = 841.89;

/// Which face a text run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Body text.
    Body,
    /// Title.
    Title,
}

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Colour {
    /// Black.
    pub const BLACK: Colour = Colour(0, 0, 0);
    /// Grey for secondary text.
    pub const GREY: Colour = Colour(90, 90, 90);
    /// Light grey cell background.
    pub const SHADE: Colour = Colour(238, 238, 238);
    /// Seal red.
    pub const SEAL: Colour = Colour(200, 30, 30);
}

/// One drawing operation, coordinates in points from the top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text with its baseline starting at (x, y).
    Text {
        /// Left of the run.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Face.
        face: Face,
        /// Colour.
        colour: Colour,
        /// The words.
        text: String,
    },
    /// A filled rectangle.
    Fill {
        /// Left, top, width, height.
        rect: (f32, f32, f32, f32),
        /// Colour.
        colour: Colour,
    },
    /// A straight stroked line.
    Line {
        /// From.
        from: (f32, f32),
        /// To.
        to: (f32, f32),
        /// Width.
        width: f32,
        /// Colour.
        colour: Colour,
    },
    /// A stroked circle, optionally dashed.
    Circle {
        /// Centre.
        centre: (f32, f32),
        /// Radius.
        radius: f32,
        /// Colour.
        colour: Colour,
        /// Dashed outline.
        dashed: bool,
    },
}

/// Writes `pages` as one PDF.
pub fn pdf(
    pages: &[Vec<Op>],
    fonts: &DocumentFonts,
    title: &str,
) -> Result<Vec<u8>, DocumentError> {
    let body = krilla_font(&fonts.body)?;
    let title_font = krilla_font(&fonts.title)?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("e政务 kiosk".to_string()),
    );
    for ops in pages {
        let settings = PageSettings::from_wh(A4_WIDTH, A4_HEIGHT)
            .ok_or_else(|| DocumentError::Pdf("bad page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    face,
                    colour,
                    text,
                } => {
                    surface.set_fill(Some(fill(*colour)));
                    surface.set_stroke(None);
                    let font = match face {
                        Face::Body => body.clone(),
                        Face::Title => title_font.clone(),
                    };
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Fill { rect, colour } => {
                    let Some(r) = Rect::from_xywh(rect.0, rect.1, rect.2, rect.3) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(r);
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                    }
                }
                Op::Line {
                    from,
                    to,
                    width,
                    colour,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(from.0, from.1);
                    pb.line_to(to.0, to.1);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke(*colour, *width, false)));
                        surface.draw_path(&path);
                    }
                }
                Op::Circle {
                    centre,
                    radius,
                    colour,
                    dashed,
                } => {
                    if let Some(path) = circle(*centre, *radius) {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke(*colour, 1.2, *dashed)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}

fn krilla_font(face: &FontFace) -> Result<Font, DocumentError> {
    Font::new(face.data.clone().into(), face.index)
        .ok_or_else(|| DocumentError::Font("the PDF writer cannot use the CJK font".into()))
}

fn fill(c: Colour) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        ..Fill::default()
    }
}

fn stroke(c: Colour, width: f32, dashed: bool) -> Stroke {
    Stroke {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        width,
        dash: dashed.then(|| StrokeDash {
            array: vec![4.0, 3.0],
            offset: 0.0,
        }),
        ..Stroke::default()
    }
}

/// A circle from four cubic Béziers.
fn circle((cx, cy): (f32, f32), r: f32) -> Option<krilla::geom::Path> {
    const K: f32 = 0.552_284_8;
    let k = K * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    pb.finish()
}
