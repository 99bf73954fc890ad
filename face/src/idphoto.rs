//! Simulation of the ID-card chip photo (102×126 px): the face is pasted into a light-grey
//! portrait canvas which is then shrunk to the card photo's size.

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

pub const ID_PHOTO_WIDTH: u32 = 102;
pub const ID_PHOTO_HEIGHT: u32 = 126;
/// Light grey of the simulated photo background.
pub const CANVAS_GREY: [u8; 3] = [225, 225, 225];

/// Pastes `face` (for example a 150×150 chip) into a portrait canvas 10 % wider than it with the
/// card photo's aspect ratio (face centred horizontally, a little above the middle) and shrinks the
/// canvas to 102×126. A 150 px chip ends up with its face about 60–65 px wide.
pub fn simulate_id_photo(face: &RgbImage) -> RgbImage {
    let cw = (face.width() as f32 * 1.1).round() as u32;
    let ch = (cw as f32 * ID_PHOTO_HEIGHT as f32 / ID_PHOTO_WIDTH as f32).round() as u32;
    let ch = ch.max(face.height());
    let mut canvas = RgbImage::from_pixel(cw, ch, Rgb(CANVAS_GREY));
    let x = i64::from((cw - face.width()) / 2);
    let y = i64::from((ch - face.height()) * 2 / 5);
    imageops::replace(&mut canvas, face, x, y);
    imageops::resize(
        &canvas,
        ID_PHOTO_WIDTH,
        ID_PHOTO_HEIGHT,
        FilterType::Triangle,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_photo_has_card_size_and_grey_border() {
        let face = RgbImage::from_pixel(150, 150, Rgb([10, 20, 30]));
        let photo = simulate_id_photo(&face);
        assert_eq!(photo.dimensions(), (ID_PHOTO_WIDTH, ID_PHOTO_HEIGHT));
        assert_eq!(photo.get_pixel(0, 0).0, CANVAS_GREY);
        assert_eq!(photo.get_pixel(51, 55).0, [10, 20, 30]);
    }
}
