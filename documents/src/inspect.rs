//! Reads a PDF back the way a person checking it would: its text (`pdftotext -layout`), its
//! page count (`pdfinfo`), and the QR codes on its pages (rendered by `pdftoppm`, decoded with
//! `rqrr`). Needs Debian's `poppler-utils` (scripts/setup-system.sh installs it).
//!
//! A PDF that went through CUPS and cups-pdf (PDF → PostScript → Ghostscript → PDF) keeps its
//! looks but not its text layer: CJK glyphs come back as Type 3 fonts without Unicode mapping.
//! [`ocr_pdf`] reads such a PDF the way a person does, with Tesseract (`tesseract-ocr`,
//! `tesseract-ocr-chi-sim`).

use std::path::Path;
use std::process::Command;

/// What a PDF says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfReading {
    /// Extracted text, layout kept.
    pub text: String,
    /// Number of pages.
    pub pages: usize,
    /// Every QR code payload found, page by page.
    pub qr_codes: Vec<String>,
}

/// Reads the PDF file at `path`.
pub fn read_pdf(path: &Path) -> Result<PdfReading, String> {
    let text = run("pdftotext", &["-layout", &arg(path), "-"])?;
    let info = run("pdfinfo", &[&arg(path)])?;
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("pdfinfo gave no page count for {}", path.display()))?;
    let dir = std::env::temp_dir().join(format!(
        "kiosk-pdf-pages-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let prefix = dir.join("page");
    let rendered = run(
        "pdftoppm",
        &["-r", "150", "-gray", "-png", &arg(path), &arg(&prefix)],
    );
    let mut qr_codes = Vec::new();
    if rendered.is_ok() {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            qr_codes.extend(decode_qr_png(&file)?);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    rendered?;
    Ok(PdfReading {
        text,
        pages,
        qr_codes,
    })
}

/// The text of every page, read by OCR (Simplified Chinese and English) twice: at 300 dpi for
/// body text and at 150 dpi, where large spaced-out titles are read reliably.
pub fn ocr_pdf(path: &Path) -> Result<String, String> {
    let mut text = ocr_pdf_at(path, 300)?;
    text.push('\n');
    text.push_str(&ocr_pdf_at(path, 150)?);
    Ok(text)
}

fn ocr_pdf_at(path: &Path, dpi: u32) -> Result<String, String> {
    let dir =
        std::env::temp_dir().join(format!("kiosk-pdf-ocr-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        run(
            "pdftoppm",
            &[
                "-r",
                &dpi.to_string(),
                "-gray",
                "-png",
                &arg(path),
                &arg(&dir.join("page")),
            ],
        )?;
        let mut pages: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .collect();
        pages.sort();
        let mut text = String::new();
        for page in pages {
            text.push_str(
                &run("tesseract", &[&arg(&page), "-", "-l", "chi_sim+eng"]).map_err(|e| {
                    format!("{e} (install tesseract-ocr and tesseract-ocr-chi-sim)")
                })?,
            );
        }
        Ok(text)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Reads PDF bytes (written to a temporary file first).
pub fn read_pdf_bytes(pdf: &[u8]) -> Result<PdfReading, String> {
    let path =
        std::env::temp_dir().join(format!("kiosk-pdf-{}-{}.pdf", std::process::id(), unique()));
    std::fs::write(&path, pdf).map_err(|e| e.to_string())?;
    let reading = read_pdf(&path);
    let _ = std::fs::remove_file(&path);
    reading
}

/// Every QR code in a grey or RGB PNG image.
pub fn decode_qr_png(path: &Path) -> Result<Vec<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("image too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let luma = |x: usize, y: usize| -> u8 {
        let at = (y * w + x) * channels;
        match channels {
            1 | 2 => buf[at],
            _ => ((u32::from(buf[at]) + u32::from(buf[at + 1]) + u32::from(buf[at + 2])) / 3) as u8,
        }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    Ok(image
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect())
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        format!("cannot run {program}: {e} (install poppler-utils; scripts/setup-system.sh does)")
    })?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn arg(path: &Path) -> String {
    path.display().to_string()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
