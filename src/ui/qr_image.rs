//! QR codes drawn for the screen (other channels of an item, the online channel after a
//! failure): black modules on white with the standard four-module quiet zone.

use qrcode::{Color, QrCode};
use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

const QUIET_ZONE: usize = 4;

/// A QR code of `text`, `scale` pixels per module; `None` when the text cannot be encoded.
pub fn qr_image(text: &str, scale: usize) -> Option<Image> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * scale;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let pixels = buffer.make_mut_slice();
    for p in pixels.iter_mut() {
        *p = Rgb8Pixel {
            r: 255,
            g: 255,
            b: 255,
        };
    }
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            for x in mx * scale..(mx + 1) * scale {
                pixels[y * side + x] = Rgb8Pixel { r: 0, g: 0, b: 0 };
            }
        }
    }
    Some(Image::from_rgb8(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_square_code_with_a_quiet_zone() {
        let image = qr_image("https://www.gjzwfw.gov.cn/", 4).unwrap();
        let size = image.size();
        assert_eq!(size.width, size.height);
        let buffer = image.to_rgb8().unwrap();
        let px = buffer.as_slice();
        let side = size.width as usize;
        // Quiet zone is white, the top-left finder pattern starts dark.
        assert_eq!(
            px[0],
            Rgb8Pixel {
                r: 255,
                g: 255,
                b: 255
            }
        );
        let start = QUIET_ZONE * 4;
        assert_eq!(px[start * side + start], Rgb8Pixel { r: 0, g: 0, b: 0 });
    }
}
