//! The CJK font the renderer (and the rare-character image lines) draw glyphs with: the
//! system's Noto Sans CJK (Debian `fonts-noto-cjk`, installed by scripts/setup-system.sh),
//! rasterised in pure Rust (`ab_glyph`) into one-bit printer cells.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};

use super::RenderError;
use crate::escpos::bitmap::MonoBitmap;
use crate::escpos::layout::CellKind;

/// Font file names that carry Simplified Chinese glyphs, best first.
const CJK_FONT_MARKERS: &[&str] = &[
    "notosanscjkregular",
    "notosansmonocjk",
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "droidsansfallback",
    "notoserifcjk",
    "uming",
    "ukai",
];

const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// Coverage above which a rasterised pixel is printed black.
const INK_THRESHOLD: f32 = 0.42;

/// A loaded CJK font face.
pub struct CjkFont {
    font: FontVec,
    path: PathBuf,
    face_index: u32,
    face_name: String,
}

impl std::fmt::Debug for CjkFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CjkFont")
            .field("path", &self.path)
            .field("face_index", &self.face_index)
            .field("face_name", &self.face_name)
            .finish()
    }
}

/// The installed CJK font file, searched in `KIOSK_FONT_DIRS` (colon-separated) when set,
/// otherwise in /usr/share/fonts, /usr/local/share/fonts, ~/.fonts and ~/.local/share/fonts.
pub fn find_cjk_font_file() -> Result<PathBuf, RenderError> {
    let dirs: Vec<PathBuf> = match std::env::var_os("KIOSK_FONT_DIRS") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => {
            let mut dirs: Vec<PathBuf> = FONT_DIRS.iter().map(PathBuf::from).collect();
            if let Some(home) = std::env::var_os("HOME") {
                dirs.push(Path::new(&home).join(".fonts"));
                dirs.push(Path::new(&home).join(".local/share/fonts"));
            }
            dirs
        }
    };
    find_cjk_font_in(&dirs)
}

/// The best CJK font file in `dirs` (searched recursively), or why there is none.
pub fn find_cjk_font_in(dirs: &[PathBuf]) -> Result<PathBuf, RenderError> {
    let mut found = Vec::new();
    for dir in dirs {
        collect(dir, 0, &mut found);
    }
    found
        .into_iter()
        .min_by_key(|(rank, path)| (*rank, path.clone()))
        .map(|(_, path)| path)
        .ok_or_else(|| {
            RenderError::NoFont(format!(
                "no Chinese (CJK) font found to render receipts with (looked in {}); \
                 run scripts/setup-system.sh (it installs fonts-noto-cjk) or set KIOSK_FONT_DIRS",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn collect(dir: &Path, depth: usize, found: &mut Vec<(usize, PathBuf)>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, depth + 1, found);
        } else if let Some(rank) = font_rank(&path) {
            found.push((rank, path));
        }
    }
}

/// Preference of a font file (lower is better), `None` when it is no CJK font.
fn font_rank(path: &Path) -> Option<usize> {
    let name = path
        .file_name()?
        .to_string_lossy()
        .to_lowercase()
        .replace(['-', '_', ' '], "");
    if ![".ttc", ".otf", ".ttf"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return None;
    }
    let marker = CJK_FONT_MARKERS.iter().position(|m| name.contains(m))?;
    // Regular weights before bold and light ones.
    let heavy = ["bold", "black", "light", "thin", "medium"]
        .iter()
        .any(|w| name.contains(w));
    Some(marker * 2 + usize::from(heavy))
}

/// The system CJK font, loaded once per process.
pub fn system_font() -> Result<Arc<CjkFont>, RenderError> {
    static SYSTEM: OnceLock<Result<Arc<CjkFont>, RenderError>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let path = find_cjk_font_file()?;
            CjkFont::load(&path).map(Arc::new)
        })
        .clone()
}

impl CjkFont {
    /// Load a font file. In a collection the face "Noto Sans Mono CJK SC" is preferred (its
    /// Latin letters are half width, like font A), then any Simplified Chinese face, then the
    /// first face.
    pub fn load(path: &Path) -> Result<Self, RenderError> {
        let bad = |reason: String| RenderError::BadFont {
            path: path.display().to_string(),
            reason,
        };
        let data = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let mut best: Option<(u32, u32, String)> = None;
        for index in 0..faces {
            let Ok(face) = ttf_parser::Face::parse(&data, index) else {
                continue;
            };
            let family = face
                .names()
                .into_iter()
                .filter(|n| n.name_id == ttf_parser::name_id::FAMILY)
                .find_map(|n| n.to_string())
                .unwrap_or_default();
            let has_chinese = face.glyph_index('中').is_some();
            let score = u32::from(has_chinese)
                + 2 * u32::from(family.contains(" SC"))
                + u32::from(family.contains("Mono"));
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, index, family));
            }
        }
        let (_, face_index, face_name) = best.ok_or_else(|| bad("no font face".to_owned()))?;
        let font =
            FontVec::try_from_vec_and_index(data, face_index).map_err(|e| bad(e.to_string()))?;
        Ok(CjkFont {
            font,
            path: path.to_owned(),
            face_index,
            face_name,
        })
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The face used (family name).
    pub fn face_name(&self) -> &str {
        &self.face_name
    }

    /// Whether the font has a glyph for `ch`.
    pub fn has_glyph(&self, ch: char) -> bool {
        self.font.glyph_id(ch).0 != 0
    }

    /// `ch` drawn into an unscaled printer cell of `kind` (12 × 24, 9 × 17 or 24 × 24), the
    /// way a printer's character generator holds it. A character the font lacks is drawn as
    /// an empty box; spaces stay blank.
    pub fn glyph_cell(&self, ch: char, kind: CellKind) -> MonoBitmap {
        let (cell_w, cell_h) = kind.cell();
        let mut cell = MonoBitmap::new(cell_w, cell_h);
        if ch.is_whitespace() || ch.is_control() {
            return cell;
        }
        let id = self.font.glyph_id(ch);
        if id.0 == 0 {
            draw_box(&mut cell);
            return cell;
        }
        // Glyph em in pixels; ab_glyph scales by ascent − descent, not by the em.
        let em = cell_h as f32 * 0.95;
        let units_per_em = self.font.units_per_em().unwrap_or(1000.0);
        let size = em * self.font.height_unscaled() / units_per_em;
        let advance = self.font.as_scaled(PxScale::from(size)).h_advance(id);
        // Proportional letters wider than the cell are narrowed to fit it.
        let size_x = if advance > cell_w as f32 {
            size * cell_w as f32 / advance
        } else {
            size
        };
        let drawn_advance = advance * size_x / size;
        let left = (cell_w as f32 - drawn_advance) / 2.0;
        let baseline = match kind {
            // The ideographic em box: 0.88 em above the baseline, 0.12 below.
            CellKind::Chinese => (cell_h as f32 - em) / 2.0 + 0.88 * em,
            CellKind::FontA | CellKind::FontB => cell_h as f32 * 0.79,
        };
        let glyph =
            id.with_scale_and_position(PxScale { x: size_x, y: size }, point(left, baseline));
        if let Some(outlined) = self.font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                if coverage > INK_THRESHOLD {
                    let x = bounds.min.x as i64 + i64::from(gx);
                    let y = bounds.min.y as i64 + i64::from(gy);
                    if x >= 0 && y >= 0 {
                        cell.set(x as u32, y as u32, true);
                    }
                }
            });
        }
        cell
    }
}

/// The hollow box printers show for a character their font lacks.
fn draw_box(cell: &mut MonoBitmap) {
    let (w, h) = (cell.width(), cell.height());
    for x in 2..w.saturating_sub(2) {
        cell.set(x, 2, true);
        cell.set(x, h - 3, true);
    }
    for y in 2..h.saturating_sub(2) {
        cell.set(2, y, true);
        cell.set(w - 3, y, true);
    }
}

/// `cell` emboldened the way a printer double-strikes: each black dot also one to the right.
pub fn embolden(cell: &MonoBitmap) -> MonoBitmap {
    let mut bold = cell.clone();
    for y in 0..cell.height() {
        for x in 0..cell.width() {
            if cell.get(x, y) {
                bold.set(x + 1, y, true);
            }
        }
    }
    bold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_cjk_font_files() {
        let rank = |p: &str| font_rank(Path::new(p));
        assert!(
            rank("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
                < rank("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
        );
        assert!(rank("/x/NotoSansCJK-Regular.ttc") < rank("/x/wqy-microhei.ttc"));
        assert_eq!(rank("/x/DejaVuSans.ttf"), None);
        assert_eq!(rank("/x/NotoSansCJK.txt"), None);
    }

    #[test]
    fn a_missing_font_names_the_setup_script() {
        let empty = std::env::temp_dir().join(format!("kiosk-no-fonts-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("dir");
        let error = find_cjk_font_in(std::slice::from_ref(&empty)).expect_err("no font there");
        assert!(matches!(error, RenderError::NoFont(_)));
        assert!(
            error.to_string().contains("scripts/setup-system.sh"),
            "{error}"
        );
        std::fs::remove_dir_all(&empty).expect("clean up");
    }

    #[test]
    fn the_system_font_draws_chinese_cells() {
        let font = system_font().expect("CJK font (run scripts/setup-system.sh)");
        let cell = font.glyph_cell('回', CellKind::Chinese);
        assert_eq!((cell.width(), cell.height()), (24, 24));
        assert!(cell.black_count() > 60);
        let latin = font.glyph_cell('M', CellKind::FontA);
        assert_eq!((latin.width(), latin.height()), (12, 24));
        assert!(latin.black_count() > 20);
        assert_eq!(font.glyph_cell(' ', CellKind::FontA).black_count(), 0);
    }
}
