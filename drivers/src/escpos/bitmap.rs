//! One-bit images in the printer's raster layout: rows of `width_bytes` bytes, most significant
//! bit leftmost, 1 = black (GS v 0, reference §2.6).

/// A black-and-white image, packed the way GS v 0 sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonoBitmap {
    width: u32,
    height: u32,
    packed: Vec<u8>,
}

impl MonoBitmap {
    /// An all-white image.
    pub fn new(width: u32, height: u32) -> Self {
        let width_bytes = width.div_ceil(8) as usize;
        MonoBitmap {
            width,
            height,
            packed: vec![0; width_bytes * height as usize],
        }
    }

    /// An image whose pixel (x, y) is black when `black(x, y)`.
    pub fn from_fn(width: u32, height: u32, mut black: impl FnMut(u32, u32) -> bool) -> Self {
        let mut image = MonoBitmap::new(width, height);
        for y in 0..height {
            for x in 0..width {
                if black(x, y) {
                    image.set(x, y, true);
                }
            }
        }
        image
    }

    /// An image from packed rows (`width_bytes` per row, MSB leftmost); `None` when the data
    /// does not hold exactly `width_bytes * height` bytes. The width is `width_bytes * 8`.
    pub fn from_packed(width_bytes: u16, height: u16, packed: &[u8]) -> Option<Self> {
        (packed.len() == usize::from(width_bytes) * usize::from(height)).then(|| MonoBitmap {
            width: u32::from(width_bytes) * 8,
            height: u32::from(height),
            packed: packed.to_vec(),
        })
    }

    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row: ceil(width / 8).
    pub fn width_bytes(&self) -> u32 {
        self.width.div_ceil(8)
    }

    /// The packed rows.
    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    /// Whether (x, y) is black; outside the image is white.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let index = (y * self.width_bytes() + x / 8) as usize;
        self.packed[index] & (0x80 >> (x % 8)) != 0
    }

    /// Make (x, y) black or white; outside the image nothing happens.
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let index = (y * self.width_bytes() + x / 8) as usize;
        let mask = 0x80 >> (x % 8);
        if black {
            self.packed[index] |= mask;
        } else {
            self.packed[index] &= !mask;
        }
    }

    /// Rows `from..from + count` (clamped) as a new image of the same width.
    pub fn rows(&self, from: u32, count: u32) -> MonoBitmap {
        let from = from.min(self.height);
        let count = count.min(self.height - from);
        let wb = self.width_bytes() as usize;
        MonoBitmap {
            width: self.width,
            height: count,
            packed: self.packed[from as usize * wb..(from + count) as usize * wb].to_vec(),
        }
    }

    /// Number of black pixels.
    pub fn black_count(&self) -> usize {
        self.packed.iter().map(|b| b.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_msb_first_and_slices_rows() {
        let mut image = MonoBitmap::new(10, 3);
        assert_eq!(image.width_bytes(), 2);
        image.set(0, 0, true);
        image.set(9, 2, true);
        assert_eq!(image.packed(), &[0x80, 0x00, 0x00, 0x00, 0x00, 0x40]);
        assert!(image.get(9, 2) && !image.get(8, 2) && !image.get(50, 50));
        assert_eq!(image.rows(2, 5).packed(), &[0x00, 0x40]);
        assert_eq!(image.black_count(), 2);
        assert_eq!(MonoBitmap::from_packed(1, 2, &[0xC0]), None);
    }
}
