//! The SAM module id returned by 12 FF (16 data bytes), in its printed form
//! (reference §1.5): a version, then three numbers of 8, 10 and 10 digits (`05.01-20101020-0012345678-1234567890`).

/// A SAM module id as read from the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SamId {
    bytes: [u8; 16],
}

impl SamId {
    /// Wrap the 16 data bytes of a 12 FF reply.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SamId { bytes }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> [u8; 16] {
        self.bytes
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.bytes;
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// The printed form, e.g. `05.01-20130588-0012345678-1234567890`: bytes 0 and 2 as two
    /// two-digit version numbers, then the little-endian u32s at bytes 4, 8 and 12 as 8, 10
    /// and 10 zero-padded digits (bytes 1 and 3 are zero on every module seen).
    pub fn printed(&self) -> String {
        format!(
            "{:02}.{:02}-{:08}-{:010}-{:010}",
            self.bytes[0],
            self.bytes[2],
            self.u32_at(4),
            self.u32_at(8),
            self.u32_at(12)
        )
    }
}

impl std::fmt::Display for SamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.printed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_form_has_the_published_shape() {
        let id = SamId::from_bytes([
            0x05, 0x00, 0x01, 0x00, 0x1C, 0x2B, 0x33, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xD2, 0x02,
            0x96, 0x49,
        ]);
        assert_eq!(id.to_string(), "05.01-20130588-0012345678-1234567890");
        assert_eq!(
            SamId::from_bytes([0; 16]).printed(),
            "00.00-00000000-0000000000-0000000000"
        );
    }
}
