//! The payload of the 30 01 (read base info) reply: text length, photo length, text, photo
//! (reference §1.5), and decoding a captured reply written as hex text.

use serde_json::{Value, json};

use super::card_identity::CardIdentity;
use super::error::IdCardError;
use super::frame::{FrameAssembler, Reply, parse_hex};
use super::identity::ResidentIdentity;
use super::sam_id::SamId;
use super::sam_status::SamStatus;
use super::text_block::{
    FieldSpan, PHOTO_LEN, TEXT_BLOCK_LEN, decode_field, parse_card, parse_resident,
};

/// Bytes of one fingerprint template.
pub const FINGERPRINT_TEMPLATE_LEN: usize = 512;
/// Bytes of the additional-address payload of 30 03 (35 UCS-2 characters).
pub const ADDITIONAL_ADDRESS_LEN: usize = 70;

/// The fingerprint data of a 30 10 read: 0, 1 or 2 templates of 512 bytes. Biometric data:
/// `Debug` shows only the count, and it is never logged or stored by this crate.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct FingerprintData {
    bytes: Vec<u8>,
}

impl FingerprintData {
    /// Wrap fingerprint bytes (0, 512 or 1024).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, IdCardError> {
        if !matches!(bytes.len(), 0 | 512 | 1024) {
            return Err(IdCardError::Framing(format!(
                "fingerprint data is {} bytes, expected 0, 512 or 1024",
                bytes.len()
            )));
        }
        Ok(FingerprintData { bytes })
    }
    /// The raw template bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// How many templates the card holds (0, 1 or 2).
    pub fn template_count(&self) -> usize {
        self.bytes.len() / FINGERPRINT_TEMPLATE_LEN
    }
    /// Each template.
    pub fn templates(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes.chunks_exact(FINGERPRINT_TEMPLATE_LEN)
    }
}

impl std::fmt::Debug for FingerprintData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FingerprintData({} templates)", self.template_count())
    }
}

/// What a 30 10 read returns: the identity and the fingerprint templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardWithFingerprint {
    /// The card's identity.
    pub identity: CardIdentity,
    /// Its fingerprint data (possibly no templates).
    pub fingerprint: FingerprintData,
}

/// Text block, photo and fingerprint bytes of a 30 10 reply.
pub type TextPhotoFingerprint<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Split 30 10 reply data into (text block, photo, fingerprint) using its three big-endian
/// length fields (fingerprint 0, 512 or 1024 bytes; reference §1.5).
pub fn split_base_info_fingerprint(data: &[u8]) -> Result<TextPhotoFingerprint<'_>, IdCardError> {
    let [tl_h, tl_l, pl_h, pl_l, fl_h, fl_l, rest @ ..] = data else {
        return Err(IdCardError::Framing(
            "fingerprint read reply has no length fields".to_owned(),
        ));
    };
    let text_len = usize::from(u16::from_be_bytes([*tl_h, *tl_l]));
    let photo_len = usize::from(u16::from_be_bytes([*pl_h, *pl_l]));
    let fp_len = usize::from(u16::from_be_bytes([*fl_h, *fl_l]));
    if text_len != TEXT_BLOCK_LEN || photo_len != PHOTO_LEN || !matches!(fp_len, 0 | 512 | 1024) {
        return Err(IdCardError::Framing(format!(
            "fingerprint read reply declares text {text_len} / photo {photo_len} / fingerprint {fp_len} bytes"
        )));
    }
    if rest.len() < text_len + photo_len + fp_len {
        return Err(IdCardError::Framing(format!(
            "fingerprint read reply holds {} bytes, its lengths need {}",
            rest.len(),
            text_len + photo_len + fp_len
        )));
    }
    let (text, rest) = rest.split_at(text_len);
    let (photo, rest) = rest.split_at(photo_len);
    Ok((text, photo, &rest[..fp_len]))
}

/// Build 30 10 reply data.
pub fn join_base_info_fingerprint(text: &[u8], photo: &[u8], fingerprint: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(6 + text.len() + photo.len() + fingerprint.len());
    for len in [text.len(), photo.len(), fingerprint.len()] {
        data.extend_from_slice(&(len as u16).to_be_bytes());
    }
    data.extend_from_slice(text);
    data.extend_from_slice(photo);
    data.extend_from_slice(fingerprint);
    data
}

fn require_success(reply: &Reply) -> Result<(), IdCardError> {
    match SamStatus::from_code(reply.sw3) {
        Some(SamStatus::Success) => Ok(()),
        Some(status) => Err(IdCardError::Status(status)),
        None => Err(IdCardError::UnrecognisedStatus(reply.sw3)),
    }
}

/// Any card's identity in a successful 30 01 reply.
pub fn card_from_read_reply(reply: &Reply) -> Result<CardIdentity, IdCardError> {
    require_success(reply)?;
    let (text, photo) = split_base_info(&reply.data)?;
    parse_card(text, photo)
}

/// Identity and fingerprints in a successful 30 10 reply.
pub fn card_from_fingerprint_reply(reply: &Reply) -> Result<CardWithFingerprint, IdCardError> {
    require_success(reply)?;
    let (text, photo, fingerprint) = split_base_info_fingerprint(&reply.data)?;
    Ok(CardWithFingerprint {
        identity: parse_card(text, photo)?,
        fingerprint: FingerprintData::from_bytes(fingerprint.to_vec())?,
    })
}

/// The additional address in a 30 03 reply: `None` for "no content" (SW3 0x91).
pub fn additional_address_from_reply(reply: &Reply) -> Result<Option<String>, IdCardError> {
    if reply.sw3 == SamStatus::NoContent.code() {
        return Ok(None);
    }
    require_success(reply)?;
    let len = reply.data.len().min(ADDITIONAL_ADDRESS_LEN);
    if len == 0 || !len.is_multiple_of(2) {
        return Err(IdCardError::Framing(format!(
            "additional address is {} bytes",
            reply.data.len()
        )));
    }
    let text = decode_field(&reply.data, FieldSpan { offset: 0, len })?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// A captured reply of any kind, decoded by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedReply {
    /// A status-only reply (11 bytes), e.g. 0x90 to 11 FF or 0x80 to 20 01.
    Status(SamStatus),
    /// 20 01 OK (SW3 0x9F and 4 data bytes).
    CardFound,
    /// 20 02 OK with its 8-byte card serial.
    CardSelected([u8; 8]),
    /// 12 FF: the SAM id.
    SamId(SamId),
    /// 30 03: the additional address (personal data).
    AdditionalAddress(String),
    /// 30 01: the card.
    BaseInfo(CardIdentity),
    /// 30 10: the card and its fingerprints.
    BaseInfoWithFingerprint(CardWithFingerprint),
}

impl DecodedReply {
    /// For screens and logs: personal data masked.
    pub fn masked_json(&self) -> Value {
        self.json(true)
    }

    /// Everything unmasked, for the operator's explicit `--unmasked` output only.
    pub fn full_json(&self) -> Value {
        self.json(false)
    }

    fn json(&self, masked: bool) -> Value {
        let identity = |card: &CardIdentity| {
            if masked {
                card.masked_json()
            } else {
                card.full_json()
            }
        };
        match self {
            DecodedReply::Status(status) => json!({
                "reply": "status",
                "sw3": format!("{:#04x}", status.code()),
                "zh": status.zh_message(),
                "en": status.en_message(),
            }),
            DecodedReply::CardFound => json!({"reply": "card_found"}),
            DecodedReply::CardSelected(serial) => json!({
                "reply": "card_selected",
                "serial": serial.iter().map(|b| format!("{b:02X}")).collect::<String>(),
            }),
            DecodedReply::SamId(id) => json!({"reply": "sam_id", "sam_id": id.printed()}),
            DecodedReply::AdditionalAddress(address) => json!({
                "reply": "additional_address",
                "additional_address": if masked {
                    let shown: String = address.chars().take(6).collect();
                    format!("{shown}****")
                } else {
                    address.clone()
                },
            }),
            DecodedReply::BaseInfo(card) => json!({"reply": "base_info", "card": identity(card)}),
            DecodedReply::BaseInfoWithFingerprint(read) => json!({
                "reply": "base_info_fingerprint",
                "card": identity(&read.identity),
                "fingerprint_templates": read.fingerprint.template_count(),
            }),
        }
    }
}

fn first_reply(text: &str) -> Result<Reply, IdCardError> {
    let bytes = parse_hex(text)?;
    if bytes.is_empty() {
        return Err(IdCardError::Framing(
            "no bytes in captured reply".to_owned(),
        ));
    }
    let mut assembler = FrameAssembler::new();
    assembler.push(&bytes);
    match assembler.next_frame() {
        Some(Ok(body)) => Ok(Reply::from_body(&body)?),
        Some(Err(error)) => Err(error.into()),
        None if assembler.frame_started() => Err(IdCardError::Truncated {
            command: "captured reply",
            received: assembler.pending(),
        }),
        None => Err(IdCardError::Framing(
            "no frame preamble AA AA AA 96 69 in captured reply".to_owned(),
        )),
    }
}

/// Decode a captured reply of any kind (status-only, find, select, SAM id, additional
/// address, 30 01, 30 10 with any fingerprint length) written as hex text.
pub fn decode_any_reply_hex(text: &str) -> Result<DecodedReply, IdCardError> {
    decode_any_reply(&first_reply(text)?)
}

/// Decode a reply by its status and data length.
pub fn decode_any_reply(reply: &Reply) -> Result<DecodedReply, IdCardError> {
    let status =
        SamStatus::from_code(reply.sw3).ok_or(IdCardError::UnrecognisedStatus(reply.sw3))?;
    let data = &reply.data;
    match (status, data.len()) {
        (_, 0) => Ok(DecodedReply::Status(status)),
        (SamStatus::FindCardOk, 4) => Ok(DecodedReply::CardFound),
        (SamStatus::Success, 8) => {
            let mut serial = [0u8; 8];
            serial.copy_from_slice(data);
            Ok(DecodedReply::CardSelected(serial))
        }
        (SamStatus::Success, 16) => {
            let mut id = [0u8; 16];
            id.copy_from_slice(data);
            Ok(DecodedReply::SamId(SamId::from_bytes(id)))
        }
        (SamStatus::Success, ADDITIONAL_ADDRESS_LEN) => additional_address_from_reply(reply)?
            .map(DecodedReply::AdditionalAddress)
            .ok_or_else(|| IdCardError::Framing("additional address is blank".to_owned())),
        (SamStatus::Success, len) if len == 4 + TEXT_BLOCK_LEN + PHOTO_LEN => {
            card_from_read_reply(reply).map(DecodedReply::BaseInfo)
        }
        (SamStatus::Success, len) if len >= 6 + TEXT_BLOCK_LEN + PHOTO_LEN => {
            card_from_fingerprint_reply(reply).map(DecodedReply::BaseInfoWithFingerprint)
        }
        (status, len) => Err(IdCardError::Framing(format!(
            "unexpected reply: status {:#04x} with {len} data bytes",
            status.code()
        ))),
    }
}

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
/// Only resident cards: other card types are [`IdCardError::UnsupportedCardType`]; use
/// [`decode_any_reply_hex`] for every card type and reply kind.
pub fn decode_reply_hex(text: &str) -> Result<ResidentIdentity, IdCardError> {
    let reply = first_reply(text).map_err(|error| match error {
        IdCardError::Truncated { received, .. } => IdCardError::Truncated {
            command: "30 01 read base info",
            received,
        },
        other => other,
    })?;
    identity_from_read_reply(&reply)
}
