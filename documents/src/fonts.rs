//! The fonts embedded in certificates: Noto Sans CJK (body) and Noto Serif CJK Bold (title),
//! the Simplified Chinese face of each collection. `KIOSK_FONT_DIRS` (colon-separated) replaces
//! the searched folders, as for the kiosk UI.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::DocumentError;

const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];
const BODY_FILES: &[&str] = &["NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf"];
const TITLE_FILES: &[&str] = &[
    "NotoSerifCJK-Bold.ttc",
    "NotoSerifCJKsc-Bold.otf",
    "NotoSansCJK-Bold.ttc",
];

/// One font face: the file's bytes and the face index inside a collection.
#[derive(Clone)]
pub struct FontFace {
    /// The whole font file.
    pub data: Arc<Vec<u8>>,
    /// Face index (0 for a single-face file).
    pub index: u32,
    units_per_em: f32,
}

impl std::fmt::Debug for FontFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontFace")
            .field("bytes", &self.data.len())
            .field("index", &self.index)
            .finish()
    }
}

impl FontFace {
    /// Loads a font file and picks its Simplified Chinese face (family name ending "SC"),
    /// or face 0.
    pub fn load(path: &Path) -> Result<FontFace, DocumentError> {
        let data = std::fs::read(path)
            .map_err(|e| DocumentError::Font(format!("cannot read {}: {e}", path.display())))?;
        let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let index = (0..faces)
            .find(|&i| family_name(&data, i).is_some_and(|n| n.ends_with(" SC")))
            .unwrap_or(0);
        let face = ttf_parser::Face::parse(&data, index)
            .map_err(|e| DocumentError::Font(format!("{}: {e}", path.display())))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(FontFace {
            data: Arc::new(data),
            index,
            units_per_em,
        })
    }

    /// Width of `text` at `size` points (advance widths, no kerning).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(face) = ttf_parser::Face::parse(&self.data, self.index) else {
            return 0.0;
        };
        let units: f32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map(f32::from)
                    .unwrap_or(self.units_per_em / 2.0)
            })
            .sum();
        units / self.units_per_em * size
    }

    /// Whether the face has a glyph for every character of `text`.
    pub fn covers(&self, text: &str) -> bool {
        let Ok(face) = ttf_parser::Face::parse(&self.data, self.index) else {
            return false;
        };
        text.chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| face.glyph_index(c).is_some())
    }
}

fn family_name(data: &[u8], index: u32) -> Option<String> {
    let face = ttf_parser::Face::parse(data, index).ok()?;
    face.names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
        .find_map(|n| n.to_string())
}

/// The two faces a certificate uses.
#[derive(Debug, Clone)]
pub struct DocumentFonts {
    /// Body text.
    pub body: FontFace,
    /// Title.
    pub title: FontFace,
}

impl DocumentFonts {
    /// Finds the installed CJK fonts, or says which package to install.
    pub fn find() -> Result<DocumentFonts, DocumentError> {
        let dirs = font_dirs();
        let body = find_file(&dirs, BODY_FILES).ok_or_else(|| {
            DocumentError::Font(format!(
                "no Noto Sans CJK font for certificates: install `fonts-noto-cjk` \
                 (scripts/setup-system.sh does); looked in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let body = FontFace::load(&body)?;
        let title = match find_file(&dirs, TITLE_FILES) {
            Some(path) => FontFace::load(&path)?,
            None => body.clone(),
        };
        Ok(DocumentFonts { body, title })
    }
}

fn font_dirs() -> Vec<PathBuf> {
    match std::env::var_os("KIOSK_FONT_DIRS") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => FONT_DIRS.iter().map(PathBuf::from).collect(),
    }
}

fn find_file(dirs: &[PathBuf], names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .find_map(|name| dirs.iter().find_map(|d| search(d, name, 0)))
}

fn search(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    if depth > 6 {
        return None;
    }
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            subdirs.push(path);
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    subdirs.iter().find_map(|d| search(d, name, depth + 1))
}
