//! The kiosk refuses to start without a CJK font: Slint's software renderer would otherwise draw
//! Chinese text as nothing at all, silently.

use std::path::{Path, PathBuf};

/// Font file names that carry Simplified Chinese glyphs.
const CJK_FONT_MARKERS: &[&str] = &[
    "notosanscjk",
    "notoserifcjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "droidsansfallback",
    "uming",
    "ukai",
];

const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// Finds an installed CJK font file, or says why there is none.
///
/// `KIOSK_FONT_DIRS` (colon-separated) replaces the searched folders, for kiosks with fonts in
/// an unusual place and for tests.
pub fn find_cjk_font() -> Result<PathBuf, String> {
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
    for dir in &dirs {
        if let Some(found) = search(dir, 0) {
            return Ok(found);
        }
    }
    Err(format!(
        "no Chinese (CJK) font is installed, so Chinese text would be invisible. \
         Install one, e.g. `apt-get install fonts-noto-cjk` (looked in {})",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn search(dir: &Path, depth: usize) -> Option<PathBuf> {
    if depth > 6 {
        return None;
    }
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = search(&path, depth + 1) {
                return Some(found);
            }
        } else if is_cjk_font_file(&path) {
            return Some(path);
        }
    }
    None
}

fn is_cjk_font_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .to_lowercase()
                .replace(['-', '_', ' '], "")
        })
        .unwrap_or_default();
    let is_font = [".ttc", ".otf", ".ttf"]
        .iter()
        .any(|ext| name.ends_with(ext));
    is_font && CJK_FONT_MARKERS.iter().any(|m| name.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_cjk_font_files() {
        assert!(is_cjk_font_file(Path::new(
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
        )));
        assert!(is_cjk_font_file(Path::new("/x/wqy-microhei.ttc")));
        assert!(!is_cjk_font_file(Path::new("/x/DejaVuSans.ttf")));
        assert!(!is_cjk_font_file(Path::new("/x/NotoSansCJK.txt")));
    }
}
