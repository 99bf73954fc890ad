//! The payload of the 30 01 (read base info) reply: text length, photo length, text, photo
//! (reference §1.5), and decoding a captured reply written as hex text.

use super::error::IdCardError;
use super::frame::{FrameAssembler, Reply, parse_hex};
use super::identity::ResidentIdentity;
use super::sam_status::SamStatus;
use super::text_block::{PHOTO_LEN, TEXT_BLOCK_LEN, parse_resident};

/// Split 30 01 reply data into (text block, photo) using its two big-endian length fields.
pub fn split_base_info(data: &[u8]) -> Result<(&[u8], &[u8]), IdCardError> {
    let [tl_h, tl_l, pl_h, pl_l, rest @ ..] = data else {
        return Err(IdCardError::Framing(
            "read reply has no length fields".to_owned(),
        ));
    };
    let text_len = usize::from(u16::from_be_bytes([*tl_h, *tl_l]));
    let photo_len = usize::from(u16::from_be_bytes([*pl_h, *pl_l]));
    if text_len != TEXT_BLOCK_LEN || photo_len != PHOTO_LEN {
        return Err(IdCardError::Framing(format!(
            "read reply declares text {text_len} / photo {photo_len} bytes, expected {TEXT_BLOCK_LEN} / {PHOTO_LEN}"
        )));
    }
    if rest.len() < text_len + photo_len {
        return Err(IdCardError::Framing(format!(
            "read reply holds {} bytes, its lengths need {}",
            rest.len(),
            text_len + photo_len
        )));
    }
    Ok((&rest[..text_len], &rest[text_len..text_len + photo_len]))
}

/// Build the 30 01 reply data from a text block and photo.
pub fn join_base_info(text: &[u8], photo: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(4 + text.len() + photo.len());
    data.extend_from_slice(&(text.len() as u16).to_be_bytes());
    data.extend_from_slice(&(photo.len() as u16).to_be_bytes());
    data.extend_from_slice(text);
    data.extend_from_slice(photo);
    data
}

/// The identity in a successful 30 01 reply.
pub fn identity_from_read_reply(reply: &Reply) -> Result<ResidentIdentity, IdCardError> {
    match SamStatus::from_code(reply.sw3) {
        Some(SamStatus::Success) => {}
        Some(status) => return Err(IdCardError::Status(status)),
        None => return Err(IdCardError::UnrecognisedStatus(reply.sw3)),
    }
    let (text, photo) = split_base_info(&reply.data)?;
    parse_resident(text, photo)
}

/// Decode a captured 30 01 reply written as hex text (spaces, newlines, commas and `0x`
/// allowed) into the identity.
pub fn decode_reply_hex(text: &str) -> Result<ResidentIdentity, IdCardError> {
    let bytes = parse_hex(text)?;
    if bytes.is_empty() {
        return Err(IdCardError::Framing(
            "no bytes in captured reply".to_owned(),
        ));
    }
    let mut assembler = FrameAssembler::new();
    assembler.push(&bytes);
    match assembler.next_frame() {
        Some(Ok(body)) => identity_from_read_reply(&Reply::from_body(&body)?),
        Some(Err(error)) => Err(error.into()),
        None if assembler.frame_started() => Err(IdCardError::Truncated {
            command: "30 01 read base info",
            received: assembler.pending(),
        }),
        None => Err(IdCardError::Framing(
            "no frame preamble AA AA AA 96 69 in captured reply".to_owned(),
        )),
    }
}
