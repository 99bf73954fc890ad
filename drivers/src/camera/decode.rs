//! What cameras send, turned into RGB24: MJPEG (each frame a JPEG), YUYV 4:2:2, NV12 4:2:0,
//! 8-bit grey, RGB24 and BGR24. YUV is taken as BT.601 limited range (Y 16–235), which is
//! what UVC webcams send.

use crate::camera::frame::rgb24_len;

/// Pixel layout of a raw camera frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Motion JPEG: every frame a complete JPEG image.
    Mjpeg,
    /// YUYV 4:2:2 packed: Y0 U Y1 V for each pair of pixels.
    Yuyv,
    /// NV12 4:2:0: the Y plane, then interleaved U V for each 2 × 2 block.
    Nv12,
    /// Three bytes per pixel, R G B.
    Rgb24,
    /// Three bytes per pixel, B G R.
    Bgr24,
    /// One byte per pixel, grey.
    Gray,
}

impl PixelFormat {
    /// The V4L2 four-character code.
    pub fn fourcc(self) -> &'static str {
        match self {
            PixelFormat::Mjpeg => "MJPG",
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Nv12 => "NV12",
            PixelFormat::Rgb24 => "RGB3",
            PixelFormat::Bgr24 => "BGR3",
            PixelFormat::Gray => "GREY",
        }
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.fourcc())
    }
}

/// Why a raw frame could not be turned into RGB24.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the format and size need.
    #[error("{format} frame {width}x{height} needs {needed} bytes, got {got}")]
    Short {
        /// The frame's pixel format.
        format: PixelFormat,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// Bytes the format needs.
        needed: usize,
        /// Bytes received.
        got: usize,
    },
    /// A size the format cannot have (zero, or odd where pixels come in pairs).
    #[error("{format} cannot be {width}x{height}")]
    BadSize {
        /// The frame's pixel format.
        format: PixelFormat,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// The JPEG decoder refused the frame.
    #[error("bad MJPEG frame: {0}")]
    Jpeg(String),
}

/// Decodes one raw frame of `width` × `height` into RGB24 pixels. For MJPEG the JPEG's own
/// size wins; the returned triple is (width, height, pixels).
pub fn to_rgb24(
    format: PixelFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<(u32, u32, Vec<u8>), DecodeError> {
    if format == PixelFormat::Mjpeg {
        return decode_jpeg(data);
    }
    let pixels = width as usize * height as usize;
    let bad_size = DecodeError::BadSize {
        format,
        width,
        height,
    };
    if pixels == 0 {
        return Err(bad_size);
    }
    let needed = match format {
        PixelFormat::Yuyv => {
            if !width.is_multiple_of(2) {
                return Err(bad_size);
            }
            pixels * 2
        }
        PixelFormat::Nv12 => {
            if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
                return Err(bad_size);
            }
            pixels + pixels / 2
        }
        PixelFormat::Rgb24 | PixelFormat::Bgr24 => pixels * 3,
        PixelFormat::Gray => pixels,
        PixelFormat::Mjpeg => unreachable!("handled above"),
    };
    if data.len() < needed {
        return Err(DecodeError::Short {
            format,
            width,
            height,
            needed,
            got: data.len(),
        });
    }
    let data = &data[..needed];
    let rgb = match format {
        PixelFormat::Yuyv => yuyv_to_rgb(data),
        PixelFormat::Nv12 => nv12_to_rgb(data, width as usize, height as usize),
        PixelFormat::Rgb24 => data.to_vec(),
        PixelFormat::Bgr24 => data
            .chunks_exact(3)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect(),
        PixelFormat::Gray => data.iter().flat_map(|&g| [g, g, g]).collect(),
        PixelFormat::Mjpeg => unreachable!("handled above"),
    };
    debug_assert_eq!(rgb.len(), rgb24_len(width, height));
    Ok((width, height, rgb))
}

fn decode_jpeg(data: &[u8]) -> Result<(u32, u32, Vec<u8>), DecodeError> {
    let image = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
        .map_err(|e| DecodeError::Jpeg(e.to_string()))?
        .into_rgb8();
    Ok((image.width(), image.height(), image.into_raw()))
}

/// One pixel from Y, U, V (BT.601, limited range), in 8.8 fixed point.
fn yuv_pixel(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    ]
}

fn yuyv_to_rgb(data: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(data.len() / 2 * 3);
    for quad in data.chunks_exact(4) {
        let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
        rgb.extend_from_slice(&yuv_pixel(y0, u, v));
        rgb.extend_from_slice(&yuv_pixel(y1, u, v));
    }
    rgb
}

fn nv12_to_rgb(data: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (luma, chroma) = data.split_at(width * height);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for row in 0..height {
        let uv_row = &chroma[(row / 2) * width..(row / 2) * width + width];
        for col in 0..width {
            let y = luma[row * width + col];
            let pair = (col / 2) * 2;
            rgb.extend_from_slice(&yuv_pixel(y, uv_row[pair], uv_row[pair + 1]));
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuv_reference_colours() {
        // Limited-range black, white and the primaries (BT.601), within rounding.
        assert_eq!(yuv_pixel(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_pixel(235, 128, 128), [255, 255, 255]);
        let close = |got: [u8; 3], want: [u8; 3]| {
            got.iter()
                .zip(want)
                .all(|(&g, w)| (i32::from(g) - i32::from(w)).abs() <= 2)
        };
        assert!(close(yuv_pixel(81, 90, 240), [255, 0, 0]), "red");
        assert!(close(yuv_pixel(145, 54, 34), [0, 255, 0]), "green");
        assert!(close(yuv_pixel(41, 240, 110), [0, 0, 255]), "blue");
    }

    #[test]
    fn yuyv_pairs_share_chroma() {
        let data = [16, 128, 235, 128, 81, 90, 81, 240];
        let (w, h, rgb) = to_rgb24(PixelFormat::Yuyv, 4, 1, &data).unwrap();
        assert_eq!((w, h), (4, 1));
        assert_eq!(&rgb[..6], &[0, 0, 0, 255, 255, 255]);
        assert_eq!(rgb[6..9], rgb[9..12]);
    }

    #[test]
    fn nv12_uses_one_chroma_pair_per_block() {
        // 2 x 2 white block, then the 1 chroma pair.
        let data = [235, 235, 235, 235, 128, 128];
        let (_, _, rgb) = to_rgb24(PixelFormat::Nv12, 2, 2, &data).unwrap();
        assert_eq!(rgb, vec![255; 12]);
    }

    #[test]
    fn grey_and_bgr() {
        let (_, _, rgb) = to_rgb24(PixelFormat::Gray, 2, 1, &[7, 9]).unwrap();
        assert_eq!(rgb, vec![7, 7, 7, 9, 9, 9]);
        let (_, _, rgb) = to_rgb24(PixelFormat::Bgr24, 1, 1, &[1, 2, 3]).unwrap();
        assert_eq!(rgb, vec![3, 2, 1]);
    }

    #[test]
    fn short_and_odd_frames_are_errors() {
        let short = to_rgb24(PixelFormat::Yuyv, 4, 2, &[0; 15]).unwrap_err();
        assert_eq!(short.to_string(), "YUYV frame 4x2 needs 16 bytes, got 15");
        assert!(matches!(
            to_rgb24(PixelFormat::Yuyv, 3, 2, &[0; 12]),
            Err(DecodeError::BadSize { .. })
        ));
        assert!(matches!(
            to_rgb24(PixelFormat::Gray, 0, 2, &[]),
            Err(DecodeError::BadSize { .. })
        ));
        assert!(matches!(
            to_rgb24(PixelFormat::Mjpeg, 2, 2, b"not a jpeg"),
            Err(DecodeError::Jpeg(_))
        ));
    }

    #[test]
    fn mjpeg_frames_decode() {
        let mut jpeg = Vec::new();
        let image = image::RgbImage::from_pixel(8, 6, image::Rgb([250, 250, 250]));
        image::DynamicImage::ImageRgb8(image)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let (w, h, rgb) = to_rgb24(PixelFormat::Mjpeg, 640, 480, &jpeg).unwrap();
        assert_eq!((w, h), (8, 6), "the JPEG's own size wins");
        assert!(rgb.iter().all(|&b| b >= 240));
    }
}
