//! The card photo: 1024 bytes of proprietary WLT, decoded to 102 × 126 RGB by a plug-in
//! (reference §1.8, DESIGN §5).
//!
//! * [`PhotoDecoder`]: the trait the face check uses.
//! * [`VendorWltDecoder`]: loads a vendor shared library at run time (`libloading`) and calls
//!   its `unpack` entry point.
//! * [`SimulatedPhotoDecoder`]: decodes the simulator's test-card photos into a deterministic
//!   synthetic face, so the face check can run in demos and tests.
//!
//! A decoded photo lives in memory only: [`DecodedPhoto`] has no serialisation, its `Debug`
//! shows only its size, and nothing here writes to disk (the vendor flag asking the library
//! to save a BMP file is always 0 by default).

use std::ffi::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::test_card::WLT_PREFIX;
use super::text_block::PHOTO_LEN;

/// Width of a decoded card photo.
pub const PHOTO_WIDTH: usize = 102;
/// Height of a decoded card photo.
pub const PHOTO_HEIGHT: usize = 126;
/// Bytes of a decoded photo as packed RGB (3 × 102 × 126 = 38 556).
pub const RGB_LEN: usize = 3 * PHOTO_WIDTH * PHOTO_HEIGHT;
/// Bytes of the BMP most vendor libraries write: 54-byte header, rows padded to 308 bytes.
pub const BMP_LEN: usize = 54 + BMP_ROW * PHOTO_HEIGHT;
const BMP_ROW: usize = (3 * PHOTO_WIDTH).div_ceil(4) * 4;

/// Marks a WLT written by the simulator's test cards (after the 10-byte WLT prefix), followed
/// by a little-endian u32 seed.
pub const SIM_PHOTO_MARKER: [u8; 8] = *b"KIOSKSIM";

/// A decoded card photo: 102 × 126 pixels, packed RGB, top row first. Memory only.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodedPhoto {
    rgb: Vec<u8>,
}

impl DecodedPhoto {
    /// Wrap 38 556 bytes of packed RGB, top row first.
    pub fn from_rgb(rgb: Vec<u8>) -> Result<Self, PhotoError> {
        if rgb.len() != RGB_LEN {
            return Err(PhotoError::BadOutput(format!(
                "{} RGB bytes, expected {RGB_LEN}",
                rgb.len()
            )));
        }
        Ok(DecodedPhoto { rgb })
    }

    /// Width in pixels (102).
    pub fn width(&self) -> usize {
        PHOTO_WIDTH
    }

    /// Height in pixels (126).
    pub fn height(&self) -> usize {
        PHOTO_HEIGHT
    }

    /// Packed RGB, top row first.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The pixel at (`x`, `y`), `None` outside the photo.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= PHOTO_WIDTH || y >= PHOTO_HEIGHT {
            return None;
        }
        let at = 3 * (y * PHOTO_WIDTH + x);
        Some([self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]])
    }

    /// Decode the 24-bit BMP vendor libraries write (bottom-up BGR rows, 4-byte padded).
    pub fn from_bmp(bmp: &[u8]) -> Result<Self, PhotoError> {
        let bad =
            |reason: &str| PhotoError::BadOutput(format!("not a 102×126 24-bit BMP: {reason}"));
        if bmp.len() < 54 || &bmp[..2] != b"BM" {
            return Err(bad("no BM header"));
        }
        let u32_at =
            |at: usize| u32::from_le_bytes([bmp[at], bmp[at + 1], bmp[at + 2], bmp[at + 3]]);
        let i32_at = |at: usize| u32_at(at) as i32;
        let data_offset = u32_at(10) as usize;
        let width = i32_at(18);
        let height = i32_at(22);
        let bits = u16::from_le_bytes([bmp[28], bmp[29]]);
        let compression = u32_at(30);
        if width != PHOTO_WIDTH as i32 || height.unsigned_abs() as usize != PHOTO_HEIGHT {
            return Err(bad(&format!("{width}×{height}")));
        }
        if bits != 24 || compression != 0 {
            return Err(bad(&format!("{bits} bits, compression {compression}")));
        }
        if data_offset < 54 || bmp.len() < data_offset + BMP_ROW * PHOTO_HEIGHT {
            return Err(bad("pixel data cut short"));
        }
        let top_down = height < 0;
        let mut rgb = Vec::with_capacity(RGB_LEN);
        for y in 0..PHOTO_HEIGHT {
            let row = if top_down { y } else { PHOTO_HEIGHT - 1 - y };
            let start = data_offset + row * BMP_ROW;
            for px in bmp[start..start + 3 * PHOTO_WIDTH].chunks_exact(3) {
                rgb.extend_from_slice(&[px[2], px[1], px[0]]);
            }
        }
        DecodedPhoto::from_rgb(rgb)
    }

    /// Packed BGR, top row first (the raw output of some libraries) to RGB.
    pub fn from_raw_bgr(bgr: &[u8]) -> Result<Self, PhotoError> {
        if bgr.len() != RGB_LEN {
            return Err(PhotoError::BadOutput(format!(
                "{} BGR bytes, expected {RGB_LEN}",
                bgr.len()
            )));
        }
        let rgb = bgr
            .chunks_exact(3)
            .flat_map(|px| [px[2], px[1], px[0]])
            .collect();
        DecodedPhoto::from_rgb(rgb)
    }
}

impl std::fmt::Debug for DecodedPhoto {
    /// The size only: a face is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecodedPhoto({PHOTO_WIDTH}×{PHOTO_HEIGHT} RGB)")
    }
}

/// Why a photo could not be decoded. Messages carry no image data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// The WLT is not 1024 bytes.
    #[error("card photo is {0} bytes, expected {PHOTO_LEN}")]
    BadInput(usize),
    /// The vendor library could not be loaded.
    #[error("cannot load photo decoder library {path}: {reason}")]
    LibraryMissing {
        /// Configured path.
        path: String,
        /// The loader's message.
        reason: String,
    },
    /// The library has no such entry point.
    #[error("photo decoder library {path} has no symbol {symbol}")]
    MissingSymbol {
        /// Configured path.
        path: String,
        /// The entry point looked for.
        symbol: String,
    },
    /// The library returned a failure code.
    #[error("photo decoder returned error code {0}")]
    DecoderFailed(i32),
    /// The library claimed success but its output is not a photo.
    #[error("photo decoder returned garbage: {0}")]
    BadOutput(String),
    /// The simulator's decoder was given a photo that did not come from a test card.
    #[error("not a simulator test-card photo (no decoder for real WLT photos is configured)")]
    NotSimulated,
}

/// Turns a card's 1024-byte WLT photo into a 102 × 126 RGB image.
pub trait PhotoDecoder: Send + Sync {
    /// Decode `wlt`.
    fn decode(&self, wlt: &[u8]) -> Result<DecodedPhoto, PhotoError>;
}

/// What the vendor library writes into `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VendorOutput {
    /// A 38 862-byte 24-bit BMP (54-byte header, bottom-up BGR rows padded to 308 bytes): what
    /// `libwlt2bmp.so`-style libraries write.
    #[default]
    Bmp,
    /// 38 556 bytes of packed BGR, top row first.
    RawBgr,
}

/// How to load and call the vendor library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorDecoderConfig {
    /// Path of the shared library (e.g. `/opt/vendor/lib/libwlt2bmp.so`).
    pub library: PathBuf,
    /// Entry point name (default `unpack`).
    pub symbol: String,
    /// The third argument. `0` by default: on the usual libraries a non-zero value asks the
    /// library to also save a BMP file, and the photo must stay in memory only.
    pub flag: i32,
    /// The return value meaning success (default `1`).
    pub success_code: i32,
    /// What the library writes.
    pub output: VendorOutput,
}

impl VendorDecoderConfig {
    /// The usual settings for the library at `library`.
    pub fn new(library: impl Into<PathBuf>) -> Self {
        VendorDecoderConfig {
            library: library.into(),
            symbol: "unpack".to_owned(),
            flag: 0,
            success_code: 1,
            output: VendorOutput::Bmp,
        }
    }
}

/// The assumed C signature of the vendor entry point:
///
/// ```c
/// int unpack(char *src, char *dst, int flag);
/// ```
///
/// `src` points at the 1024 WLT bytes, `dst` at a caller-owned buffer the library fills (a
/// 38 862-byte BMP, or 38 556 bytes of BGR), `flag` is the "also save a BMP file" switch.
/// It returns `success_code` (usually 1) on success.
pub type UnpackFn = unsafe extern "C" fn(src: *mut c_char, dst: *mut c_char, flag: c_int) -> c_int;

/// `dst` is this large, far beyond any photo, so a library that writes more than it should
/// does not overrun the buffer; the bytes past the photo are checked afterwards.
const DST_CAPACITY: usize = 64 * 1024;
const SENTINEL: u8 = 0xA5;

/// The vendor WLT decoder, loaded at run time.
pub struct VendorWltDecoder {
    config: VendorDecoderConfig,
    unpack: UnpackFn,
    /// Vendor libraries are rarely thread-safe: one call at a time. Declared before
    /// `_library` so the function pointer is never used after the library is unloaded.
    call_lock: Mutex<()>,
    _library: libloading::Library,
}

impl VendorWltDecoder {
    /// Load the library and look up its entry point. Fails clearly when the file is missing
    /// or not a library, or lacks the symbol.
    pub fn load(config: VendorDecoderConfig) -> Result<Self, PhotoError> {
        let path = config.library.display().to_string();
        if !Path::new(&config.library).exists() {
            return Err(PhotoError::LibraryMissing {
                path,
                reason: "no such file".to_owned(),
            });
        }
        // SAFETY: loading a library runs its initialisers; the path is the operator's
        // configured vendor decoder, trusted like the rest of the kiosk's installation.
        let library = unsafe { libloading::Library::new(&config.library) }.map_err(|e| {
            PhotoError::LibraryMissing {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
        // SAFETY: the symbol is assumed to have the documented `UnpackFn` signature; the
        // pointer is copied out and only used while `library` (kept in the struct) is loaded.
        let unpack: UnpackFn = unsafe {
            *library
                .get::<UnpackFn>(config.symbol.as_bytes())
                .map_err(|_| PhotoError::MissingSymbol {
                    path: path.clone(),
                    symbol: config.symbol.clone(),
                })?
        };
        tracing::info!(library = %path, symbol = %config.symbol, "photo decoder loaded");
        Ok(VendorWltDecoder {
            config,
            unpack,
            call_lock: Mutex::new(()),
            _library: library,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &VendorDecoderConfig {
        &self.config
    }
}

impl PhotoDecoder for VendorWltDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<DecodedPhoto, PhotoError> {
        if wlt.len() != PHOTO_LEN {
            return Err(PhotoError::BadInput(wlt.len()));
        }
        let mut src = wlt.to_vec();
        let mut dst = vec![SENTINEL; DST_CAPACITY];
        let code = {
            let _one_at_a_time = self
                .call_lock
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // SAFETY: `src` holds the 1024 WLT bytes and `dst` 64 KiB, more than any photo
            // (38 862 bytes); both outlive the call. The signature is the documented one.
            unsafe {
                (self.unpack)(
                    src.as_mut_ptr().cast::<c_char>(),
                    dst.as_mut_ptr().cast::<c_char>(),
                    self.config.flag,
                )
            }
        };
        if code != self.config.success_code {
            return Err(PhotoError::DecoderFailed(code));
        }
        let expected = match self.config.output {
            VendorOutput::Bmp => BMP_LEN,
            VendorOutput::RawBgr => RGB_LEN,
        };
        if dst[expected..].iter().any(|&b| b != SENTINEL) {
            return Err(PhotoError::BadOutput(format!(
                "wrote past the {expected} bytes of a photo"
            )));
        }
        match self.config.output {
            VendorOutput::Bmp => DecodedPhoto::from_bmp(&dst[..BMP_LEN]),
            VendorOutput::RawBgr => {
                if dst[..RGB_LEN].iter().all(|&b| b == SENTINEL) {
                    return Err(PhotoError::BadOutput("wrote nothing".to_owned()));
                }
                DecodedPhoto::from_raw_bgr(&dst[..RGB_LEN])
            }
        }
    }
}

/// Decodes the simulator's test-card photos (WLT prefix, [`SIM_PHOTO_MARKER`], seed) into a
/// deterministic synthetic face: a light background, shoulders, a face oval with hair, eyes
/// and a mouth, colours chosen by the seed. Never a real person's photo; refuses anything
/// else with [`PhotoError::NotSimulated`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedPhotoDecoder;

impl SimulatedPhotoDecoder {
    /// The seed a simulator WLT carries, if it is one.
    pub fn seed_of(wlt: &[u8]) -> Option<u32> {
        let marker_at = WLT_PREFIX.len();
        let seed_at = marker_at + SIM_PHOTO_MARKER.len();
        if wlt.len() != PHOTO_LEN
            || !wlt.starts_with(&WLT_PREFIX)
            || wlt[marker_at..seed_at] != SIM_PHOTO_MARKER
        {
            return None;
        }
        let seed = &wlt[seed_at..seed_at + 4];
        Some(u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]))
    }

    /// The synthetic face for `seed`.
    pub fn render(seed: u32) -> DecodedPhoto {
        let [s0, s1, s2, s3] = seed.to_le_bytes();
        let background = [230 - s0 % 30, 235 - s1 % 20, 245];
        let skin = [200 + s1 % 50, 160 + s2 % 50, 120 + s3 % 50];
        let hair = [20 + s2 % 60, 15 + s3 % 40, 10 + s0 % 30];
        let shirt = [s3 % 128, s0 % 128, 64 + s1 % 128];
        let (cx, cy) = (51.0f32, 58.0f32);
        let (rx, ry) = (26.0 + f32::from(s0 % 6), 34.0 + f32::from(s1 % 6));
        let mut rgb = Vec::with_capacity(RGB_LEN);
        for y in 0..PHOTO_HEIGHT {
            for x in 0..PHOTO_WIDTH {
                let (fx, fy) = (x as f32, y as f32);
                let face = ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2);
                let shoulders = ((fx - cx) / 48.0).powi(2) + ((fy - 140.0) / 40.0).powi(2);
                let eye = |ex: f32| (fx - ex).powi(2) + (fy - (cy - 6.0)).powi(2) <= 9.0;
                let mouth = (fy - (cy + 16.0)).abs() <= 1.0 && (fx - cx).abs() <= 8.0;
                let colour = if face <= 1.0 {
                    if fy < cy - ry * 0.55 {
                        hair
                    } else if eye(cx - 10.0) || eye(cx + 10.0) {
                        [30, 30, 40]
                    } else if mouth {
                        [170, 60, 60]
                    } else {
                        skin
                    }
                } else if shoulders <= 1.0 {
                    shirt
                } else {
                    background
                };
                rgb.extend_from_slice(&colour);
            }
        }
        DecodedPhoto { rgb }
    }
}

impl PhotoDecoder for SimulatedPhotoDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<DecodedPhoto, PhotoError> {
        if wlt.len() != PHOTO_LEN {
            return Err(PhotoError::BadInput(wlt.len()));
        }
        let seed = Self::seed_of(wlt).ok_or(PhotoError::NotSimulated)?;
        Ok(Self::render(seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idcard::test_card::simulated_wlt;

    #[test]
    fn simulated_photo_is_deterministic_and_face_like() {
        let wlt = simulated_wlt(0x1234_5678);
        let a = SimulatedPhotoDecoder.decode(&wlt).expect("decodes");
        let b = SimulatedPhotoDecoder.decode(&wlt).expect("decodes");
        assert_eq!(a, b);
        assert_eq!(a.rgb().len(), RGB_LEN);
        let other = SimulatedPhotoDecoder
            .decode(&simulated_wlt(7))
            .expect("decodes");
        assert_ne!(a, other);
        // Background in the corner, skin in the cheek, shirt at the bottom.
        assert_ne!(a.pixel(0, 0), a.pixel(40, 70));
        assert_ne!(a.pixel(51, 125), a.pixel(0, 0));
        assert_eq!(format!("{a:?}"), "DecodedPhoto(102×126 RGB)");
    }

    #[test]
    fn simulated_decoder_refuses_other_photos() {
        let mut wlt = simulated_wlt(1);
        wlt[12] ^= 0xFF;
        assert_eq!(
            SimulatedPhotoDecoder.decode(&wlt),
            Err(PhotoError::NotSimulated)
        );
        assert_eq!(
            SimulatedPhotoDecoder.decode(&[0u8; 10]),
            Err(PhotoError::BadInput(10))
        );
    }

    #[test]
    fn bmp_round_trip_and_rejections() {
        let photo = SimulatedPhotoDecoder::render(99);
        let mut bmp = vec![0u8; BMP_LEN];
        bmp[..2].copy_from_slice(b"BM");
        bmp[2..6].copy_from_slice(&(BMP_LEN as u32).to_le_bytes());
        bmp[10..14].copy_from_slice(&54u32.to_le_bytes());
        bmp[14..18].copy_from_slice(&40u32.to_le_bytes());
        bmp[18..22].copy_from_slice(&(PHOTO_WIDTH as i32).to_le_bytes());
        bmp[22..26].copy_from_slice(&(PHOTO_HEIGHT as i32).to_le_bytes());
        bmp[26..28].copy_from_slice(&1u16.to_le_bytes());
        bmp[28..30].copy_from_slice(&24u16.to_le_bytes());
        for y in 0..PHOTO_HEIGHT {
            for x in 0..PHOTO_WIDTH {
                let [r, g, b] = photo.pixel(x, y).expect("pixel");
                let at = 54 + (PHOTO_HEIGHT - 1 - y) * BMP_ROW + 3 * x;
                bmp[at..at + 3].copy_from_slice(&[b, g, r]);
            }
        }
        assert_eq!(DecodedPhoto::from_bmp(&bmp), Ok(photo));
        bmp[28] = 8;
        assert!(matches!(
            DecodedPhoto::from_bmp(&bmp),
            Err(PhotoError::BadOutput(_))
        ));
        assert!(DecodedPhoto::from_bmp(b"BM").is_err());
    }
}
