//! Pure wire codec: RMCP, ASF presence ping/pong, IPMI 1.5 and RMCP+ (2.0) session framing,
//! IPMI messages with checksums, Open Session, RAKP 1–4 and the confidentiality padding.
//!
//! Nothing here knows a key or touches a socket. Where a trailer must be signed, the caller
//! passes a closure that computes the auth code over the bytes this module hands it. Every
//! decoder takes arbitrary bytes and returns a [`DecodeError`] instead of panicking.
//!
//! Byte order: RMCP/ASF fields are big-endian, every IPMI/RMCP+ field is little-endian.
//!
//! Longer than 600 lines on purpose: one small encoder/decoder pair per message of the
//! protocol, all of the same shape, so the whole byte-level format reads in one place. The
//! error type and the plain protocol values live in submodules (`wire/`).

mod decode_error;
mod session_values;

pub use decode_error::DecodeError;
pub use session_values::{Privilege, RmcpPlusStatus};

/// RMCP version byte (RMCP 1.0 as used by IPMI).
pub const RMCP_VERSION: u8 = 0x06;
/// RMCP sequence number meaning "no RMCP ACK wanted".
pub const RMCP_SEQ_NO_ACK: u8 = 0xFF;
/// RMCP message class: ASF.
pub const RMCP_CLASS_ASF: u8 = 0x06;
/// RMCP message class: IPMI.
pub const RMCP_CLASS_IPMI: u8 = 0x07;
/// The ASF IANA enterprise number (big-endian on the wire).
pub const ASF_IANA: u32 = 4542;
/// Session trailer "next header" value.
pub const NEXT_HEADER: u8 = 0x07;
/// Slave address of the BMC.
pub const BMC_ADDRESS: u8 = 0x20;
/// Software ID of a remote console.
pub const CONSOLE_SOFTWARE_ID: u8 = 0x81;

/// The largest network function a request can carry: the field has six bits (§13.8).
pub const MAX_NET_FN: u8 = 0x3F;

/// The most request data bytes one in-session request can carry in every cipher suite.
///
/// The IPMI message adds 7 bytes to the data; AES-CBC-128 adds a 16-byte IV and pads the message
/// plus its pad-length byte to a multiple of 16; the RMCP+ payload length field has 16 bits, and
/// the whole datagram (4 RMCP + 12 session header bytes, payload, 2 integrity pad bytes, pad
/// length, next header and a 16-byte HMAC-SHA256-128 auth code) must fit one UDP datagram over
/// IPv4 (65,507 bytes). The datagram is the tighter bound: 65,432 data bytes make a
/// 65,456-byte payload and a 65,492-byte datagram; one more byte adds a whole AES block
/// (65,508 bytes).
pub const MAX_REQUEST_DATA_LEN: usize = 65_432;

/// Session header authentication type byte.
pub mod auth_type {
    /// No authentication (IPMI 1.5).
    pub const NONE: u8 = 0x00;
    /// MD2 (IPMI 1.5).
    pub const MD2: u8 = 0x01;
    /// MD5 (IPMI 1.5).
    pub const MD5: u8 = 0x02;
    /// Straight password (IPMI 1.5).
    pub const STRAIGHT: u8 = 0x04;
    /// OEM (IPMI 1.5).
    pub const OEM: u8 = 0x05;
    /// RMCP+ (IPMI 2.0) framing.
    pub const RMCP_PLUS: u8 = 0x06;
}

/// RMCP+ payload types (bits 5:0 of the payload type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadType {
    /// An IPMI message.
    Ipmi,
    /// Serial over LAN.
    Sol,
    /// OEM explicit (carries an IANA and a payload id in the header).
    OemExplicit,
    /// RMCP+ Open Session Request.
    OpenSessionRequest,
    /// RMCP+ Open Session Response.
    OpenSessionResponse,
    /// RAKP message 1.
    Rakp1,
    /// RAKP message 2.
    Rakp2,
    /// RAKP message 3.
    Rakp3,
    /// RAKP message 4.
    Rakp4,
    /// Any other value.
    Other(u8),
}

impl PayloadType {
    /// The 6-bit type value.
    pub fn to_bits(self) -> u8 {
        match self {
            PayloadType::Ipmi => 0x00,
            PayloadType::Sol => 0x01,
            PayloadType::OemExplicit => 0x02,
            PayloadType::OpenSessionRequest => 0x10,
            PayloadType::OpenSessionResponse => 0x11,
            PayloadType::Rakp1 => 0x12,
            PayloadType::Rakp2 => 0x13,
            PayloadType::Rakp3 => 0x14,
            PayloadType::Rakp4 => 0x15,
            PayloadType::Other(v) => v & 0x3F,
        }
    }

    /// Decode the low six bits of a payload type byte.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0x3F {
            0x00 => PayloadType::Ipmi,
            0x01 => PayloadType::Sol,
            0x02 => PayloadType::OemExplicit,
            0x10 => PayloadType::OpenSessionRequest,
            0x11 => PayloadType::OpenSessionResponse,
            0x12 => PayloadType::Rakp1,
            0x13 => PayloadType::Rakp2,
            0x14 => PayloadType::Rakp3,
            0x15 => PayloadType::Rakp4,
            v => PayloadType::Other(v),
        }
    }
}

fn u16_le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn array16(b: &[u8], at: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&b[at..at + 16]);
    out
}

// ---------------------------------------------------------------------------------------------
// Datagram level
// ---------------------------------------------------------------------------------------------

/// An ASF presence pong (reply to a presence ping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsfPong {
    /// Message tag echoed from the ping.
    pub tag: u8,
    /// IANA enterprise number of the OEM-defined data (4542 when none).
    pub iana: u32,
    /// OEM-defined value.
    pub oem: u32,
    /// Supported entities; bit 7 = IPMI supported.
    pub supported_entities: u8,
    /// Supported interactions; bit 5 = RMCP security extensions (RMCP+).
    pub supported_interactions: u8,
}

impl AsfPong {
    /// Whether the managed system says it supports IPMI.
    pub fn supports_ipmi(&self) -> bool {
        self.supported_entities & 0x80 != 0
    }
}

/// An IPMI 1.5 session-framed packet (pre-session packets such as Get Channel Authentication
/// Capabilities use this framing with authentication type "none").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipmi15Packet {
    /// Authentication type byte.
    pub auth_type: u8,
    /// Session sequence number.
    pub sequence: u32,
    /// Session ID.
    pub session_id: u32,
    /// 16-byte auth code, present when `auth_type` is not none.
    pub auth_code: Option<[u8; 16]>,
    /// The IPMI message.
    pub message: Vec<u8>,
}

/// The trailer of an authenticated RMCP+ packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityTrailer {
    /// The bytes the auth code covers: from the auth type byte through Next Header.
    pub signed: Vec<u8>,
    /// The auth code as received.
    pub auth_code: Vec<u8>,
}

/// An RMCP+ (IPMI 2.0) session-framed packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RmcpPlusPacket {
    /// Payload is encrypted (bit 7).
    pub encrypted: bool,
    /// Packet carries an integrity trailer (bit 6).
    pub authenticated: bool,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Session ID (the receiver's ID for this session).
    pub session_id: u32,
    /// Session sequence number.
    pub sequence: u32,
    /// Payload bytes as on the wire (still encrypted when `encrypted`).
    pub payload: Vec<u8>,
    /// Integrity trailer, present when `authenticated`.
    pub trailer: Option<IntegrityTrailer>,
}

/// One decoded UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datagram {
    /// An ASF presence pong.
    AsfPong(AsfPong),
    /// An ASF presence ping (seen by servers, decoded for completeness).
    AsfPing {
        /// Message tag.
        tag: u8,
    },
    /// IPMI 1.5 framing.
    Ipmi15(Ipmi15Packet),
    /// RMCP+ framing.
    RmcpPlus(RmcpPlusPacket),
}

/// Encode an ASF presence ping with the given message tag.
pub fn encode_asf_ping(tag: u8) -> Vec<u8> {
    let mut out = vec![RMCP_VERSION, 0x00, RMCP_SEQ_NO_ACK, RMCP_CLASS_ASF];
    out.extend_from_slice(&ASF_IANA.to_be_bytes());
    out.extend_from_slice(&[0x80, tag, 0x00, 0x00]);
    out
}

/// Encode an ASF presence pong (used by tests and servers).
pub fn encode_asf_pong(pong: &AsfPong) -> Vec<u8> {
    let mut out = vec![RMCP_VERSION, 0x00, RMCP_SEQ_NO_ACK, RMCP_CLASS_ASF];
    out.extend_from_slice(&ASF_IANA.to_be_bytes());
    out.extend_from_slice(&[0x40, pong.tag, 0x00, 0x10]);
    out.extend_from_slice(&pong.iana.to_be_bytes());
    out.extend_from_slice(&pong.oem.to_be_bytes());
    out.push(pong.supported_entities);
    out.push(pong.supported_interactions);
    out.extend_from_slice(&[0; 6]);
    out
}

/// Encode an IPMI 1.5 packet with authentication type none (pre-session).
pub fn encode_ipmi15_unauthenticated(message: &[u8]) -> Vec<u8> {
    let mut out = vec![
        RMCP_VERSION,
        0x00,
        RMCP_SEQ_NO_ACK,
        RMCP_CLASS_IPMI,
        auth_type::NONE,
    ];
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(message.len() as u8);
    out.extend_from_slice(message);
    out
}

/// The RMCP+ session header fields a sender chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RmcpPlusHeader {
    /// Set the encrypted bit.
    pub encrypted: bool,
    /// Set the authenticated bit (a trailer follows).
    pub authenticated: bool,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Receiver's session ID (0 pre-session).
    pub session_id: u32,
    /// Session sequence number (0 pre-session).
    pub sequence: u32,
}

/// Number of 0xFF integrity pad bytes so that the span from the auth type byte through Next Header
/// is a multiple of four. `unpadded_len` is that span's length without pad.
pub fn integrity_pad_len(unpadded_len: usize) -> usize {
    (4 - unpadded_len % 4) % 4
}

/// Computes the auth code over the signed span of a packet.
pub type Signer<'a> = &'a dyn Fn(&[u8]) -> Vec<u8>;

/// Encode an RMCP+ packet. When `header.authenticated` is set, `sign` receives the bytes from the
/// auth type byte through Next Header and returns the auth code to append.
///
/// Payloads longer than 65535 bytes cannot be framed; callers never build such payloads (IPMI
/// messages are at most a few hundred bytes), so the length is truncated to 16 bits.
pub fn encode_rmcp_plus(
    header: &RmcpPlusHeader,
    payload: &[u8],
    sign: Option<Signer<'_>>,
) -> Vec<u8> {
    let mut out = vec![
        RMCP_VERSION,
        0x00,
        RMCP_SEQ_NO_ACK,
        RMCP_CLASS_IPMI,
        auth_type::RMCP_PLUS,
    ];
    let mut type_byte = header.payload_type.to_bits();
    if header.encrypted {
        type_byte |= 0x80;
    }
    if header.authenticated {
        type_byte |= 0x40;
    }
    out.push(type_byte);
    out.extend_from_slice(&header.session_id.to_le_bytes());
    out.extend_from_slice(&header.sequence.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    out.extend_from_slice(payload);
    if header.authenticated {
        // Span = everything after the RMCP header, plus pad, pad length and next header.
        let pad = integrity_pad_len(out.len() - 4 + 2);
        out.extend(std::iter::repeat_n(0xFF, pad));
        out.push(pad as u8);
        out.push(NEXT_HEADER);
        if let Some(sign) = sign {
            let code = sign(&out[4..]);
            out.extend_from_slice(&code);
        }
    }
    out
}

/// Decode one datagram. `auth_code_len` is the auth code length of the current session's
/// integrity algorithm (0 pre-session or without integrity); it is needed to find where the
/// integrity pad ends.
pub fn decode_datagram(bytes: &[u8], auth_code_len: usize) -> Result<Datagram, DecodeError> {
    DecodeError::need("rmcp header", 4, bytes.len())?;
    if bytes[0] != RMCP_VERSION {
        return Err(DecodeError::InvalidValue {
            what: "rmcp version",
            value: bytes[0].into(),
        });
    }
    match bytes[3] & 0x7F {
        RMCP_CLASS_ASF => decode_asf(&bytes[4..]),
        RMCP_CLASS_IPMI => {
            DecodeError::need("session header", 5, bytes.len())?;
            match bytes[4] {
                auth_type::RMCP_PLUS => {
                    decode_rmcp_plus(bytes, auth_code_len).map(Datagram::RmcpPlus)
                }
                auth_type::NONE
                | auth_type::MD2
                | auth_type::MD5
                | auth_type::STRAIGHT
                | auth_type::OEM => decode_ipmi15(&bytes[4..]).map(Datagram::Ipmi15),
                other => Err(DecodeError::InvalidValue {
                    what: "auth type",
                    value: other.into(),
                }),
            }
        }
        other => Err(DecodeError::InvalidValue {
            what: "rmcp class",
            value: other.into(),
        }),
    }
}

fn decode_asf(b: &[u8]) -> Result<Datagram, DecodeError> {
    DecodeError::need("asf header", 8, b.len())?;
    let iana = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if iana != ASF_IANA {
        return Err(DecodeError::InvalidValue {
            what: "asf iana",
            value: iana,
        });
    }
    let (kind, tag, len) = (b[4], b[5], usize::from(b[7]));
    DecodeError::need("asf data", 8 + len, b.len())?;
    match kind {
        0x80 => Ok(Datagram::AsfPing { tag }),
        0x40 => {
            DecodeError::need("asf pong data", 16, len)?;
            let d = &b[8..];
            Ok(Datagram::AsfPong(AsfPong {
                tag,
                iana: u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
                oem: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
                supported_entities: d[8],
                supported_interactions: d[9],
            }))
        }
        other => Err(DecodeError::InvalidValue {
            what: "asf message type",
            value: other.into(),
        }),
    }
}

fn decode_ipmi15(b: &[u8]) -> Result<Ipmi15Packet, DecodeError> {
    DecodeError::need("ipmi 1.5 session header", 10, b.len())?;
    let auth = b[0];
    let sequence = u32_le(b, 1);
    let session_id = u32_le(b, 5);
    let (auth_code, len_at) = if auth == auth_type::NONE {
        (None, 9)
    } else {
        DecodeError::need("ipmi 1.5 session header", 26, b.len())?;
        (Some(array16(b, 9)), 25)
    };
    let len = usize::from(b[len_at]);
    let body = &b[len_at + 1..];
    // A legacy pad byte may follow the message; more than that is a mismatch.
    if body.len() < len || body.len() > len + 1 {
        return Err(DecodeError::LengthMismatch {
            what: "ipmi 1.5 message",
            declared: len,
            actual: body.len(),
        });
    }
    Ok(Ipmi15Packet {
        auth_type: auth,
        sequence,
        session_id,
        auth_code,
        message: body[..len].to_vec(),
    })
}

fn decode_rmcp_plus(bytes: &[u8], auth_code_len: usize) -> Result<RmcpPlusPacket, DecodeError> {
    let b = &bytes[4..];
    DecodeError::need("rmcp+ session header", 12, b.len())?;
    let type_byte = b[1];
    let payload_type = PayloadType::from_bits(type_byte);
    let mut at = 2;
    if payload_type == PayloadType::OemExplicit {
        // OEM IANA (4) and OEM payload ID (2) follow the payload type.
        DecodeError::need("rmcp+ oem session header", 18, b.len())?;
        at += 6;
    }
    let session_id = u32_le(b, at);
    let sequence = u32_le(b, at + 4);
    let len = usize::from(u16_le(b, at + 8));
    let body_at = at + 10;
    let rest = &b[body_at..];
    if rest.len() < len {
        return Err(DecodeError::LengthMismatch {
            what: "rmcp+ payload",
            declared: len,
            actual: rest.len(),
        });
    }
    let payload = rest[..len].to_vec();
    let authenticated = type_byte & 0x40 != 0;
    let after = &rest[len..];
    let trailer = if authenticated {
        // pad (0-3) + pad length + next header + auth code
        if after.len() < 2 + auth_code_len {
            return Err(DecodeError::Truncated {
                what: "integrity trailer",
                needed: 2 + auth_code_len,
                got: after.len(),
            });
        }
        let pad = after.len() - 2 - auth_code_len;
        if pad > 3 || usize::from(after[pad]) != pad {
            return Err(DecodeError::InvalidValue {
                what: "integrity pad length",
                value: after[pad].into(),
            });
        }
        if after[pad + 1] != NEXT_HEADER {
            return Err(DecodeError::InvalidValue {
                what: "next header",
                value: after[pad + 1].into(),
            });
        }
        let signed_end = bytes.len() - auth_code_len;
        Some(IntegrityTrailer {
            signed: bytes[4..signed_end].to_vec(),
            auth_code: bytes[signed_end..].to_vec(),
        })
    } else {
        if !after.is_empty() {
            return Err(DecodeError::LengthMismatch {
                what: "rmcp+ packet",
                declared: len,
                actual: rest.len(),
            });
        }
        None
    };
    Ok(RmcpPlusPacket {
        encrypted: type_byte & 0x80 != 0,
        authenticated,
        payload_type,
        session_id,
        sequence,
        payload,
        trailer,
    })
}

// ---------------------------------------------------------------------------------------------
// IPMI messages
// ---------------------------------------------------------------------------------------------

/// Two's-complement checksum: the sum of `bytes` plus the result is 0 modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI request message (console → BMC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpmiRequest {
    /// Responder's slave address (20h = BMC).
    pub rs_addr: u8,
    /// Network function (even).
    pub net_fn: u8,
    /// Responder's LUN.
    pub rs_lun: u8,
    /// Requester's address (81h = remote console software ID).
    pub rq_addr: u8,
    /// 6-bit request sequence number that matches replies to requests.
    pub rq_seq: u8,
    /// Requester's LUN.
    pub rq_lun: u8,
    /// Command.
    pub command: u8,
    /// Request data.
    pub data: Vec<u8>,
}

impl IpmiRequest {
    /// A request from the remote console to the BMC, LUN 0.
    pub fn to_bmc(net_fn: u8, command: u8, rq_seq: u8, data: Vec<u8>) -> Self {
        IpmiRequest {
            rs_addr: BMC_ADDRESS,
            net_fn,
            rs_lun: 0,
            rq_addr: CONSOLE_SOFTWARE_ID,
            rq_seq,
            rq_lun: 0,
            command,
            data,
        }
    }

    /// Encode with both checksums.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.data.len());
        out.push(self.rs_addr);
        out.push((self.net_fn << 2) | (self.rs_lun & 0x03));
        out.push(checksum(&out[0..2]));
        out.push(self.rq_addr);
        out.push((self.rq_seq << 2) | (self.rq_lun & 0x03));
        out.push(self.command);
        out.extend_from_slice(&self.data);
        out.push(checksum(&out[3..]));
        out
    }

    /// Decode and verify both checksums.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let (h, body) = split_message(b)?;
        Ok(IpmiRequest {
            rs_addr: h[0],
            net_fn: h[1] >> 2,
            rs_lun: h[1] & 0x03,
            rq_addr: h[3],
            rq_seq: h[4] >> 2,
            rq_lun: h[4] & 0x03,
            command: h[5],
            data: body.to_vec(),
        })
    }
}

/// An IPMI response message (BMC → console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpmiResponse {
    /// Requester's address (81h for a remote console).
    pub rq_addr: u8,
    /// Network function (odd: request netFn + 1).
    pub net_fn: u8,
    /// Requester's LUN.
    pub rq_lun: u8,
    /// Responder's address.
    pub rs_addr: u8,
    /// Request sequence number being answered.
    pub rq_seq: u8,
    /// Responder's LUN.
    pub rs_lun: u8,
    /// Command being answered.
    pub command: u8,
    /// Completion code.
    pub completion_code: u8,
    /// Response data after the completion code.
    pub data: Vec<u8>,
}

impl IpmiResponse {
    /// Encode with both checksums.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.data.len());
        out.push(self.rq_addr);
        out.push((self.net_fn << 2) | (self.rq_lun & 0x03));
        out.push(checksum(&out[0..2]));
        out.push(self.rs_addr);
        out.push((self.rq_seq << 2) | (self.rs_lun & 0x03));
        out.push(self.command);
        out.push(self.completion_code);
        out.extend_from_slice(&self.data);
        out.push(checksum(&out[3..]));
        out
    }

    /// Decode and verify both checksums.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let (h, body) = split_message(b)?;
        let Some((&completion_code, data)) = body.split_first() else {
            return Err(DecodeError::Truncated {
                what: "ipmi response",
                needed: 8,
                got: b.len(),
            });
        };
        Ok(IpmiResponse {
            rq_addr: h[0],
            net_fn: h[1] >> 2,
            rq_lun: h[1] & 0x03,
            rs_addr: h[3],
            rq_seq: h[4] >> 2,
            rs_lun: h[4] & 0x03,
            command: h[5],
            completion_code,
            data: data.to_vec(),
        })
    }
}

/// Check both checksums; return the six header bytes and the data between them and checksum 2.
fn split_message(b: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    DecodeError::need("ipmi message", 7, b.len())?;
    if checksum(&b[0..3]) != 0 {
        return Err(DecodeError::BadChecksum {
            which: "checksum 1",
        });
    }
    if checksum(&b[3..]) != 0 {
        return Err(DecodeError::BadChecksum {
            which: "checksum 2",
        });
    }
    Ok((&b[..6], &b[6..b.len() - 1]))
}

// ---------------------------------------------------------------------------------------------
// RMCP+ session setup payloads
// ---------------------------------------------------------------------------------------------

/// The three algorithm numbers of a cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgorithmTriple {
    /// Authentication algorithm (RAKP).
    pub auth: u8,
    /// Integrity algorithm.
    pub integrity: u8,
    /// Confidentiality algorithm.
    pub confidentiality: u8,
}

fn push_algorithm_records(out: &mut Vec<u8>, algs: AlgorithmTriple) {
    for (kind, alg) in [
        (0u8, algs.auth),
        (1, algs.integrity),
        (2, algs.confidentiality),
    ] {
        out.extend_from_slice(&[kind, 0, 0, 0x08, alg & 0x3F, 0, 0, 0]);
    }
}

fn read_algorithm_records(b: &[u8]) -> Result<AlgorithmTriple, DecodeError> {
    DecodeError::need("algorithm records", 24, b.len())?;
    let mut algs = [0u8; 3];
    for (i, alg) in algs.iter_mut().enumerate() {
        let rec = &b[i * 8..i * 8 + 8];
        if usize::from(rec[0]) != i {
            return Err(DecodeError::InvalidValue {
                what: "algorithm record payload type",
                value: rec[0].into(),
            });
        }
        *alg = rec[4] & 0x3F;
    }
    Ok(AlgorithmTriple {
        auth: algs[0],
        integrity: algs[1],
        confidentiality: algs[2],
    })
}

/// RMCP+ Open Session Request (console → BMC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSessionRequest {
    /// Message tag, echoed in the response.
    pub tag: u8,
    /// Requested maximum privilege (0 = highest the BMC allows).
    pub max_privilege: u8,
    /// The console's session ID (non-zero).
    pub console_session_id: u32,
    /// Proposed algorithms.
    pub algorithms: AlgorithmTriple,
}

impl OpenSessionRequest {
    /// Encode the 32-byte payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.max_privilege & 0x0F, 0, 0];
        out.extend_from_slice(&self.console_session_id.to_le_bytes());
        push_algorithm_records(&mut out, self.algorithms);
        out
    }

    /// Decode the payload.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("open session request", 32, b.len())?;
        Ok(OpenSessionRequest {
            tag: b[0],
            max_privilege: b[1] & 0x0F,
            console_session_id: u32_le(b, 4),
            algorithms: read_algorithm_records(&b[8..])?,
        })
    }
}

/// RMCP+ Open Session Response (BMC → console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSessionResponse {
    /// Message tag from the request.
    pub tag: u8,
    /// RMCP+ status code (0 = success).
    pub status: u8,
    /// Maximum privilege granted (some BMCs report 0).
    pub max_privilege: u8,
    /// The console's session ID, echoed (absent on some error replies).
    pub console_session_id: Option<u32>,
    /// The BMC's session ID and the selected algorithms (success only).
    pub accepted: Option<(u32, AlgorithmTriple)>,
}

impl OpenSessionResponse {
    /// Encode the payload (36 bytes on success).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status, self.max_privilege, 0];
        if let Some(id) = self.console_session_id {
            out.extend_from_slice(&id.to_le_bytes());
            if let Some((bmc_id, algs)) = &self.accepted {
                out.extend_from_slice(&bmc_id.to_le_bytes());
                push_algorithm_records(&mut out, *algs);
            }
        }
        out
    }

    /// Decode the payload; on an error status the tail may be missing.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("open session response", 2, b.len())?;
        let (tag, status) = (b[0], b[1]);
        let max_privilege = b.get(2).map_or(0, |p| p & 0x0F);
        let console_session_id = if b.len() >= 8 {
            Some(u32_le(b, 4))
        } else {
            None
        };
        let accepted = if status == 0 {
            DecodeError::need("open session response", 36, b.len())?;
            Some((u32_le(b, 8), read_algorithm_records(&b[12..])?))
        } else {
            None
        };
        Ok(OpenSessionResponse {
            tag,
            status,
            max_privilege,
            console_session_id,
            accepted,
        })
    }
}

/// RAKP message 1 (console → BMC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp1 {
    /// Message tag.
    pub tag: u8,
    /// The BMC's session ID.
    pub bmc_session_id: u32,
    /// Console random number Rm.
    pub console_random: [u8; 16],
    /// Role byte exactly as sent: privilege in bits 3:0, name-only lookup in bit 4.
    pub role: u8,
    /// User name (0–16 bytes).
    pub username: Vec<u8>,
}

impl Rakp1 {
    /// Encode the payload (28 bytes + user name).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, 0, 0, 0];
        out.extend_from_slice(&self.bmc_session_id.to_le_bytes());
        out.extend_from_slice(&self.console_random);
        out.extend_from_slice(&[self.role, 0, 0, self.username.len() as u8]);
        out.extend_from_slice(&self.username);
        out
    }

    /// Decode the payload.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("rakp 1", 28, b.len())?;
        let len = usize::from(b[27]);
        if len > 16 {
            return Err(DecodeError::InvalidValue {
                what: "rakp 1 user name length",
                value: b[27].into(),
            });
        }
        if b.len() != 28 + len {
            return Err(DecodeError::LengthMismatch {
                what: "rakp 1 user name",
                declared: len,
                actual: b.len() - 28,
            });
        }
        Ok(Rakp1 {
            tag: b[0],
            bmc_session_id: u32_le(b, 4),
            console_random: array16(b, 8),
            role: b[24],
            username: b[28..].to_vec(),
        })
    }
}

/// RAKP message 2 (BMC → console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp2 {
    /// Message tag.
    pub tag: u8,
    /// RMCP+ status code.
    pub status: u8,
    /// The console's session ID.
    pub console_session_id: u32,
    /// BMC random number Rc and GUID (success only).
    pub bmc_random_and_guid: Option<([u8; 16], [u8; 16])>,
    /// Key exchange authentication code (length depends on the algorithm; may be empty).
    pub key_exchange_code: Vec<u8>,
}

impl Rakp2 {
    /// Encode the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status, 0, 0];
        out.extend_from_slice(&self.console_session_id.to_le_bytes());
        if let Some((rc, guid)) = &self.bmc_random_and_guid {
            out.extend_from_slice(rc);
            out.extend_from_slice(guid);
        }
        out.extend_from_slice(&self.key_exchange_code);
        out
    }

    /// Decode the payload; on an error status only tag and status are required.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("rakp 2", 2, b.len())?;
        let (tag, status) = (b[0], b[1]);
        if status != 0 {
            let console_session_id = if b.len() >= 8 { u32_le(b, 4) } else { 0 };
            return Ok(Rakp2 {
                tag,
                status,
                console_session_id,
                bmc_random_and_guid: None,
                key_exchange_code: Vec::new(),
            });
        }
        DecodeError::need("rakp 2", 40, b.len())?;
        Ok(Rakp2 {
            tag,
            status,
            console_session_id: u32_le(b, 4),
            bmc_random_and_guid: Some((array16(b, 8), array16(b, 24))),
            key_exchange_code: b[40..].to_vec(),
        })
    }
}

/// RAKP message 3 (console → BMC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp3 {
    /// Message tag.
    pub tag: u8,
    /// The console's verdict on RAKP 2 (0 = ok).
    pub status: u8,
    /// The BMC's session ID.
    pub bmc_session_id: u32,
    /// Key exchange authentication code (empty on error).
    pub key_exchange_code: Vec<u8>,
}

impl Rakp3 {
    /// Encode the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status, 0, 0];
        out.extend_from_slice(&self.bmc_session_id.to_le_bytes());
        out.extend_from_slice(&self.key_exchange_code);
        out
    }

    /// Decode the payload.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("rakp 3", 8, b.len())?;
        Ok(Rakp3 {
            tag: b[0],
            status: b[1],
            bmc_session_id: u32_le(b, 4),
            key_exchange_code: b[8..].to_vec(),
        })
    }
}

/// RAKP message 4 (BMC → console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp4 {
    /// Message tag.
    pub tag: u8,
    /// RMCP+ status code.
    pub status: u8,
    /// The console's session ID.
    pub console_session_id: u32,
    /// Integrity check value (truncated HMAC; may be empty).
    pub integrity_check: Vec<u8>,
}

impl Rakp4 {
    /// Encode the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag, self.status, 0, 0];
        out.extend_from_slice(&self.console_session_id.to_le_bytes());
        out.extend_from_slice(&self.integrity_check);
        out
    }

    /// Decode the payload; on an error status only tag and status are required.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::need("rakp 4", 2, b.len())?;
        if b[1] != 0 && b.len() < 8 {
            return Ok(Rakp4 {
                tag: b[0],
                status: b[1],
                console_session_id: 0,
                integrity_check: Vec::new(),
            });
        }
        DecodeError::need("rakp 4", 8, b.len())?;
        Ok(Rakp4 {
            tag: b[0],
            status: b[1],
            console_session_id: u32_le(b, 4),
            integrity_check: b[8..].to_vec(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Confidentiality padding (AES-CBC-128, §13.29)
// ---------------------------------------------------------------------------------------------

/// Append the confidentiality pad (01h, 02h, … N) and pad length so the result is a multiple of
/// 16 bytes.
pub fn confidentiality_pad(data: &[u8]) -> Vec<u8> {
    let pad = (16 - (data.len() + 1) % 16) % 16;
    let mut out = Vec::with_capacity(data.len() + pad + 1);
    out.extend_from_slice(data);
    out.extend((1..=pad).map(|i| i as u8));
    out.push(pad as u8);
    out
}

/// Strip the confidentiality pad from decrypted bytes. The pad length must fit; the pad bytes
/// themselves are not checked (some BMCs pad with zeros; the integrity check already covered
/// the ciphertext).
pub fn confidentiality_unpad(plain: &[u8]) -> Result<&[u8], DecodeError> {
    let Some((&pad, rest)) = plain.split_last() else {
        return Err(DecodeError::Truncated {
            what: "confidentiality trailer",
            needed: 1,
            got: 0,
        });
    };
    let pad = usize::from(pad);
    if pad > 15 || pad > rest.len() {
        return Err(DecodeError::InvalidValue {
            what: "confidentiality pad length",
            value: pad as u32,
        });
    }
    Ok(&rest[..rest.len() - pad])
}
