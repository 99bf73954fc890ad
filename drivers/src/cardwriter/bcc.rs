//! The block check character both dispenser families use: XOR of every byte from STX through
//! ETX (reference §3.1 and §3.3).

/// XOR of all of `bytes`.
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_of_all_bytes() {
        assert_eq!(bcc(&[]), 0);
        assert_eq!(bcc(&[0xF2, 0x00, 0x00, 0x03, 0x43, 0x31, 0x30, 0x03]), 0xB0);
        assert_eq!(bcc(&[0xFF, 0x0F]), 0xF0);
    }
}
