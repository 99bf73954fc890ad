//! The kiosk refuses to start without a CJK font: Slint's software renderer would otherwise draw
//! Chinese text as nothing at all, silently. The search is the receipt renderer's (same folders,
//! same `KIOSK_FONT_DIRS` override, same preference for Noto Sans CJK).

use std::path::PathBuf;

/// Finds an installed CJK font file, or says why there is none.
pub fn find_cjk_font() -> Result<PathBuf, String> {
    kiosk_drivers::escpos::render::font::find_cjk_font_file().map_err(|e| {
        let looked = e
            .to_string()
            .split_once("(looked in ")
            .map(|(_, rest)| rest.split(')').next().unwrap_or_default().to_string())
            .unwrap_or_default();
        format!(
            "no Chinese (CJK) font is installed, so Chinese text would be invisible. \
             Install one, e.g. `apt-get install fonts-noto-cjk` (looked in {looked})"
        )
    })
}
