//! Pure wire codec of the server side: RMCP, ASF ping/pong, IPMI 1.5 and RMCP+ session
//! headers, IPMI messages, Open Session and RAKP payloads. No I/O, no clock, no randomness.
//!
//! All multi-byte IPMI/RMCP+ fields are little-endian; only the ASF IANA number is big-endian.
//!
//! Over 600 lines: the codec is about 530 (one encoder/decoder pair per message); the rest
//! are its round-trip tests.

/// Why an incoming datagram was not understood. Such datagrams are dropped (a BMC does not
/// answer garbage); the reason only goes to the debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) &'static str);

type Decoded<T> = Result<T, DecodeError>;

/// RMCP version 1.0 (the only one).
const RMCP_VERSION: u8 = 0x06;
/// RMCP message class: ASF.
const CLASS_ASF: u8 = 0x06;
/// RMCP message class: IPMI.
const CLASS_IPMI: u8 = 0x07;
/// The ASF IANA enterprise number, 4542, big-endian on the wire.
const ASF_IANA: [u8; 4] = [0x00, 0x00, 0x11, 0xBE];
/// ASF message type: presence ping.
const ASF_PRESENCE_PING: u8 = 0x80;
/// ASF message type: presence pong.
const ASF_PRESENCE_PONG: u8 = 0x40;
/// Session header auth type of RMCP+ packets.
pub(crate) const AUTH_TYPE_RMCPP: u8 = 0x06;
/// Payload type byte flag: payload is encrypted.
pub(crate) const PAYLOAD_ENCRYPTED: u8 = 0x80;
/// Payload type byte flag: packet carries an integrity trailer.
pub(crate) const PAYLOAD_AUTHENTICATED: u8 = 0x40;

/// RMCP+ payload types (bits 5:0 of the payload type byte, Table 13-16).
pub(crate) mod payload {
    /// An IPMI message.
    pub(crate) const IPMI: u8 = 0x00;
    /// RMCP+ Open Session Request.
    pub(crate) const OPEN_SESSION_REQUEST: u8 = 0x10;
    /// RMCP+ Open Session Response.
    pub(crate) const OPEN_SESSION_RESPONSE: u8 = 0x11;
    /// RAKP message 1.
    pub(crate) const RAKP1: u8 = 0x12;
    /// RAKP message 2.
    pub(crate) const RAKP2: u8 = 0x13;
    /// RAKP message 3.
    pub(crate) const RAKP3: u8 = 0x14;
    /// RAKP message 4.
    pub(crate) const RAKP4: u8 = 0x15;
}

/// One parsed UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Datagram<'a> {
    /// ASF presence ping.
    AsfPing {
        /// RMCP sequence number, echoed in the pong.
        rmcp_sequence: u8,
        /// ASF message tag, echoed in the pong.
        tag: u8,
    },
    /// IPMI 1.5 session framing with auth type none (what Get Channel Authentication
    /// Capabilities arrives in, even for lanplus).
    Ipmi15 {
        /// Session ID (0 before a session).
        session_id: u32,
        /// The IPMI message.
        message: &'a [u8],
    },
    /// RMCP+ (IPMI 2.0) framing.
    Rmcpp(RmcppPacket<'a>),
}

/// An RMCP+ packet, with the integrity trailer still unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RmcppPacket<'a> {
    /// The whole payload type byte, including the encrypted/authenticated bits.
    pub(crate) payload_type: u8,
    /// The session ID in the header (the BMC's ID, or 0 before a session).
    pub(crate) session_id: u32,
    /// The session sequence number.
    pub(crate) sequence: u32,
    /// The payload as sent (IV and ciphertext when encrypted).
    pub(crate) payload: &'a [u8],
    /// The whole datagram, for the integrity check.
    pub(crate) datagram: &'a [u8],
}

impl RmcppPacket<'_> {
    /// Bits 5:0 of the payload type byte.
    pub(crate) fn kind(&self) -> u8 {
        self.payload_type & 0x3F
    }

    /// Whether the encrypted bit is set.
    pub(crate) fn encrypted(&self) -> bool {
        self.payload_type & PAYLOAD_ENCRYPTED != 0
    }

    /// Whether the authenticated bit is set.
    pub(crate) fn authenticated(&self) -> bool {
        self.payload_type & PAYLOAD_AUTHENTICATED != 0
    }

    /// Splits the datagram for an integrity check with an `auth_code_len`-byte auth code:
    /// returns (the span from the auth type byte through Next Header, the auth code). Checks
    /// the pad length, the `FFh` pad bytes and the `07h` Next Header.
    pub(crate) fn integrity_parts(&self, auth_code_len: usize) -> Decoded<(&[u8], &[u8])> {
        let payload_end = RMCPP_HEADER_LEN + self.payload.len();
        let trailer = self
            .datagram
            .get(payload_end..)
            .ok_or(DecodeError("trailer missing"))?;
        let fixed = auth_code_len + 2;
        let pad_len = trailer
            .len()
            .checked_sub(fixed)
            .ok_or(DecodeError("trailer shorter than its auth code"))?;
        let (pad_and_fields, auth_code) = trailer.split_at(pad_len + 2);
        match pad_and_fields {
            [pad @ .., declared, 0x07]
                if usize::from(*declared) == pad_len && pad.iter().all(|&b| b == 0xFF) =>
            {
                let span = self
                    .datagram
                    .get(4..self.datagram.len() - auth_code_len)
                    .ok_or(DecodeError("trailer span"))?;
                Ok((span, auth_code))
            }
            _ => Err(DecodeError("malformed integrity pad or next header")),
        }
    }
}

/// Length of RMCP header + RMCP+ session header (without OEM fields).
const RMCPP_HEADER_LEN: usize = 16;

fn le32(bytes: &[u8], at: usize) -> Decoded<u32> {
    bytes
        .get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or(DecodeError("truncated 32-bit field"))
}

fn byte(bytes: &[u8], at: usize) -> Decoded<u8> {
    bytes
        .get(at)
        .copied()
        .ok_or(DecodeError("truncated byte field"))
}

/// Parses one datagram's framing. The payload is not interpreted.
pub(crate) fn parse_datagram(datagram: &[u8]) -> Decoded<Datagram<'_>> {
    let [version, _reserved, rmcp_sequence, class, rest @ ..] = datagram else {
        return Err(DecodeError("shorter than an rmcp header"));
    };
    if *version != RMCP_VERSION {
        return Err(DecodeError("unknown rmcp version"));
    }
    match class & 0x1F {
        CLASS_ASF => parse_asf(*rmcp_sequence, rest),
        CLASS_IPMI => parse_ipmi_session(datagram),
        _ => Err(DecodeError("unsupported rmcp class")),
    }
}

fn parse_asf(rmcp_sequence: u8, asf: &[u8]) -> Decoded<Datagram<'_>> {
    match asf {
        [i0, i1, i2, i3, ASF_PRESENCE_PING, tag, _reserved, _len, ..]
            if [*i0, *i1, *i2, *i3] == ASF_IANA =>
        {
            Ok(Datagram::AsfPing {
                rmcp_sequence,
                tag: *tag,
            })
        }
        _ => Err(DecodeError("not an asf presence ping")),
    }
}

fn parse_ipmi_session(datagram: &[u8]) -> Decoded<Datagram<'_>> {
    let auth_type = byte(datagram, 4)?;
    if auth_type == AUTH_TYPE_RMCPP {
        let payload_type = byte(datagram, 5)?;
        if payload_type & 0x3F == 0x02 {
            return Err(DecodeError("oem explicit payloads are not supported"));
        }
        let session_id = le32(datagram, 6)?;
        let sequence = le32(datagram, 10)?;
        let length = datagram
            .get(14..16)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or(DecodeError("truncated payload length"))?;
        let payload = datagram
            .get(RMCPP_HEADER_LEN..RMCPP_HEADER_LEN + length)
            .ok_or(DecodeError("payload shorter than its declared length"))?;
        return Ok(Datagram::Rmcpp(RmcppPacket {
            payload_type,
            session_id,
            sequence,
            payload,
            datagram,
        }));
    }
    if auth_type != 0x00 {
        // IPMI 1.5 sessions (MD2/MD5/straight password) are not offered by this BMC.
        return Err(DecodeError(
            "ipmi 1.5 authenticated packets are not supported",
        ));
    }
    let session_id = le32(datagram, 9)?;
    let length = usize::from(byte(datagram, 13)?);
    let message = datagram
        .get(14..14 + length)
        .ok_or(DecodeError("message shorter than its declared length"))?;
    Ok(Datagram::Ipmi15 {
        session_id,
        message,
    })
}

/// The ASF presence pong answering a ping: IPMI supported, ASF 1.0, no interactions.
pub(crate) fn asf_pong(rmcp_sequence: u8, tag: u8) -> Vec<u8> {
    let mut out = vec![RMCP_VERSION, 0x00, rmcp_sequence, CLASS_ASF];
    out.extend_from_slice(&ASF_IANA);
    out.extend_from_slice(&[ASF_PRESENCE_PONG, tag, 0x00, 0x10]);
    out.extend_from_slice(&ASF_IANA); // IANA enterprise number of the OEM fields
    out.extend_from_slice(&[0x00; 4]); // OEM-defined
    out.push(0x81); // supported entities: IPMI supported, ASF version 1.0
    out.push(0x00); // supported interactions: none
    out.extend_from_slice(&[0x00; 6]);
    out
}

/// An IPMI 1.5 packet without a session (auth type none, sequence and ID 0).
pub(crate) fn ipmi15_packet(message: &[u8]) -> Vec<u8> {
    let mut out = vec![RMCP_VERSION, 0x00, 0xFF, CLASS_IPMI, 0x00];
    out.extend_from_slice(&[0; 8]);
    out.push(message.len() as u8);
    out.extend_from_slice(message);
    out
}

/// The RMCP header and RMCP+ session header.
pub(crate) fn rmcpp_header(
    payload_type: u8,
    session_id: u32,
    sequence: u32,
    payload_len: usize,
) -> Vec<u8> {
    let mut out = vec![
        RMCP_VERSION,
        0x00,
        0xFF,
        CLASS_IPMI,
        AUTH_TYPE_RMCPP,
        payload_type,
    ];
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&(payload_len as u16).to_le_bytes());
    out
}

/// An RMCP+ packet outside a session (ID 0, sequence 0, no trailer).
pub(crate) fn rmcpp_unauthenticated(payload_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = rmcpp_header(payload_type, 0, 0, payload.len());
    out.extend_from_slice(payload);
    out
}

/// How many `FFh` pad bytes make `span_len` (auth type through payload) plus pad, pad length and
/// Next Header a multiple of 4.
pub(crate) fn integrity_pad_len(span_len: usize) -> usize {
    (4 - (span_len + 2) % 4) % 4
}

/// Two's-complement checksum: `sum(bytes) + checksum == 0 (mod 256)`.
pub(crate) fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, &b| sum.wrapping_add(b))
        .wrapping_neg()
}

/// An IPMI request message (Figure 13-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    /// Responder address (20h for the BMC).
    pub(crate) rs_addr: u8,
    /// Network function (even: a request).
    pub(crate) net_fn: u8,
    /// Responder LUN.
    pub(crate) rs_lun: u8,
    /// Requester address (81h for remote console software).
    pub(crate) rq_addr: u8,
    /// Requester sequence (6 bits).
    pub(crate) rq_seq: u8,
    /// Requester LUN.
    pub(crate) rq_lun: u8,
    /// Command.
    pub(crate) command: u8,
    /// Request data.
    pub(crate) data: &'a [u8],
}

/// Parses an IPMI request and checks both checksums.
pub(crate) fn parse_request(message: &[u8]) -> Decoded<Request<'_>> {
    let [
        responder,
        net_fn_lun,
        checksum1,
        requester,
        seq_lun,
        command,
        data @ ..,
        checksum2,
    ] = message
    else {
        return Err(DecodeError("ipmi message shorter than 7 bytes"));
    };
    if checksum(&[*responder, *net_fn_lun]) != *checksum1 {
        return Err(DecodeError("bad header checksum"));
    }
    if checksum(&message[3..message.len() - 1]) != *checksum2 {
        return Err(DecodeError("bad data checksum"));
    }
    if net_fn_lun >> 2 & 1 != 0 {
        return Err(DecodeError(
            "odd network function: a response, not a request",
        ));
    }
    Ok(Request {
        rs_addr: *responder,
        net_fn: net_fn_lun >> 2,
        rs_lun: net_fn_lun & 0x03,
        rq_addr: *requester,
        rq_seq: seq_lun >> 2,
        rq_lun: seq_lun & 0x03,
        command: *command,
        data,
    })
}

/// Builds the response message to `request`: completion code first, then `data`.
pub(crate) fn build_response(request: &Request<'_>, completion_code: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![
        request.rq_addr,
        (request.net_fn + 1) << 2 | request.rq_lun,
        0,
        request.rs_addr,
        request.rq_seq << 2 | request.rs_lun,
        request.command,
        completion_code,
    ];
    out[2] = checksum(&out[..2]);
    out.extend_from_slice(data);
    out.push(checksum(&out[3..]));
    out
}

/// One algorithm record of an Open Session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlgorithmProposal {
    /// The proposed algorithm, or `None` when the record has payload length 0 ("BMC picks").
    pub(crate) algorithm: Option<u8>,
}

/// RMCP+ Open Session Request (Table 13-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenSessionRequest {
    /// Message tag, echoed.
    pub(crate) tag: u8,
    /// Requested maximum privilege (low nibble; 0 = highest available).
    pub(crate) requested_privilege: u8,
    /// The console's session ID.
    pub(crate) console_session_id: u32,
    /// Authentication algorithm proposal.
    pub(crate) authentication: AlgorithmProposal,
    /// Integrity algorithm proposal.
    pub(crate) integrity: AlgorithmProposal,
    /// Confidentiality algorithm proposal.
    pub(crate) confidentiality: AlgorithmProposal,
}

fn algorithm_record(record: &[u8], expected_type: u8) -> Decoded<AlgorithmProposal> {
    match record {
        [kind, _, _, length, algorithm, _, _, _] if *kind == expected_type => {
            Ok(AlgorithmProposal {
                algorithm: (*length != 0).then_some(algorithm & 0x3F),
            })
        }
        _ => Err(DecodeError("malformed algorithm record")),
    }
}

/// Parses an Open Session Request payload.
pub(crate) fn parse_open_session_request(payload: &[u8]) -> Decoded<OpenSessionRequest> {
    if payload.len() < 32 {
        return Err(DecodeError("open session request shorter than 32 bytes"));
    }
    Ok(OpenSessionRequest {
        tag: payload[0],
        requested_privilege: payload[1] & 0x0F,
        console_session_id: le32(payload, 4)?,
        authentication: algorithm_record(&payload[8..16], 0x00)?,
        integrity: algorithm_record(&payload[16..24], 0x01)?,
        confidentiality: algorithm_record(&payload[24..32], 0x02)?,
    })
}

/// What a successful Open Session Response carries besides tag and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenSessionGrant {
    /// Maximum privilege granted.
    pub(crate) max_privilege: u8,
    /// The console's session ID.
    pub(crate) console_session_id: u32,
    /// The BMC's session ID.
    pub(crate) managed_session_id: u32,
    /// (authentication, integrity, confidentiality) algorithms selected.
    pub(crate) algorithms: (u8, u8, u8),
}

/// Builds an Open Session Response payload: the full 36 bytes on success, the 8-byte form
/// (tag, status, privilege 0, reserved, console session ID) on error.
pub(crate) fn open_session_response(
    tag: u8,
    status: u8,
    console_session_id: u32,
    grant: Option<&OpenSessionGrant>,
) -> Vec<u8> {
    let mut out = vec![tag, status, 0, 0];
    out.extend_from_slice(&console_session_id.to_le_bytes());
    if let Some(grant) = grant {
        out[2] = grant.max_privilege;
        out.extend_from_slice(&grant.managed_session_id.to_le_bytes());
        let (auth, integrity, confidentiality) = grant.algorithms;
        for (kind, algorithm) in [(0u8, auth), (1, integrity), (2, confidentiality)] {
            out.extend_from_slice(&[kind, 0, 0, 0x08, algorithm, 0, 0, 0]);
        }
    }
    out
}

/// RAKP Message 1 (Table 13-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rakp1<'a> {
    /// Message tag, echoed.
    pub(crate) tag: u8,
    /// The BMC's session ID.
    pub(crate) managed_session_id: u32,
    /// The console's random number Rm.
    pub(crate) console_random: [u8; 16],
    /// The role byte exactly as sent (privilege in bits 3:0, name-only lookup in bit 4).
    pub(crate) role: u8,
    /// The user name bytes (length checked by the caller: at most 16 is valid).
    pub(crate) name: &'a [u8],
}

/// Parses a RAKP Message 1 payload.
pub(crate) fn parse_rakp1(payload: &[u8]) -> Decoded<Rakp1<'_>> {
    if payload.len() < 28 {
        return Err(DecodeError("rakp 1 shorter than 28 bytes"));
    }
    let name_len = usize::from(payload[27]);
    let name = payload
        .get(28..28 + name_len)
        .ok_or(DecodeError("rakp 1 shorter than its user name"))?;
    let mut console_random = [0; 16];
    console_random.copy_from_slice(&payload[8..24]);
    Ok(Rakp1 {
        tag: payload[0],
        managed_session_id: le32(payload, 4)?,
        console_random,
        role: payload[24],
        name,
    })
}

/// Builds a RAKP Message 2 payload. On error only the first 8 bytes are sent.
pub(crate) fn rakp2(
    tag: u8,
    status: u8,
    console_session_id: u32,
    success: Option<(&[u8; 16], &[u8; 16], &[u8])>,
) -> Vec<u8> {
    let mut out = vec![tag, status, 0, 0];
    out.extend_from_slice(&console_session_id.to_le_bytes());
    if let Some((bmc_random, guid, auth_code)) = success {
        out.extend_from_slice(bmc_random);
        out.extend_from_slice(guid);
        out.extend_from_slice(auth_code);
    }
    out
}

/// RAKP Message 3 (Table 13-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rakp3<'a> {
    /// Message tag, echoed.
    pub(crate) tag: u8,
    /// The console's verdict on RAKP 2 (0 = accepted).
    pub(crate) status: u8,
    /// The BMC's session ID.
    pub(crate) managed_session_id: u32,
    /// The key exchange authentication code (empty when the status is an error).
    pub(crate) auth_code: &'a [u8],
}

/// Parses a RAKP Message 3 payload.
pub(crate) fn parse_rakp3(payload: &[u8]) -> Decoded<Rakp3<'_>> {
    if payload.len() < 8 {
        return Err(DecodeError("rakp 3 shorter than 8 bytes"));
    }
    Ok(Rakp3 {
        tag: payload[0],
        status: payload[1],
        managed_session_id: le32(payload, 4)?,
        auth_code: &payload[8..],
    })
}

/// Builds a RAKP Message 4 payload (the integrity check value is empty on error).
pub(crate) fn rakp4(tag: u8, status: u8, console_session_id: u32, icv: &[u8]) -> Vec<u8> {
    let mut out = vec![tag, status, 0, 0];
    out.extend_from_slice(&console_session_id.to_le_bytes());
    out.extend_from_slice(icv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Get Channel Authentication Capabilities request ipmitool 1.8.19 sends first
    /// (IPMI 1.5 framing, data 8e 04), assembled from the fields of the traces.
    const IPMITOOL_AUTH_CAPS: [u8; 23] = [
        0x06, 0x00, 0xff, 0x07, // RMCP
        0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, // 1.5 session header, length 9
        0x20, 0x18, 0xc8, 0x81, 0x00, 0x38, 0x8e, 0x04, 0xb5, // message
    ];

    #[test]
    fn parses_ipmitool_auth_caps_request() {
        let Ok(Datagram::Ipmi15 {
            session_id,
            message,
        }) = parse_datagram(&IPMITOOL_AUTH_CAPS)
        else {
            panic!("not ipmi 1.5");
        };
        assert_eq!(session_id, 0);
        let request = parse_request(message).unwrap();
        assert_eq!((request.net_fn, request.command), (0x06, 0x38));
        assert_eq!(
            (request.rs_addr, request.rq_addr, request.rq_seq),
            (0x20, 0x81, 0)
        );
        assert_eq!(request.data, &[0x8e, 0x04]);
    }

    #[test]
    fn response_header_and_checksums_match_the_spec_layout() {
        let request = parse_request(&IPMITOOL_AUTH_CAPS[14..]).unwrap();
        let response = build_response(&request, 0x00, &[0x01]);
        // rqAddr, netFn 07h << 2, checksum, rsAddr, rqSeq << 2, cmd, cc, data, checksum.
        assert_eq!(
            response,
            vec![0x81, 0x1c, 0x63, 0x20, 0x00, 0x38, 0x00, 0x01, 0xa7]
        );
        assert_eq!(checksum(&response[..3]), 0);
        assert_eq!(checksum(&response[3..]), 0);
    }

    #[test]
    fn corrupted_checksums_and_truncations_are_decode_errors() {
        let mut bad = IPMITOOL_AUTH_CAPS;
        bad[22] ^= 1;
        let Ok(Datagram::Ipmi15 { message, .. }) = parse_datagram(&bad) else {
            panic!("framing should still parse");
        };
        assert_eq!(
            parse_request(message),
            Err(DecodeError("bad data checksum"))
        );
        for len in 0..IPMITOOL_AUTH_CAPS.len() {
            // Every truncation is an error or a shorter message, never a panic.
            if let Ok(Datagram::Ipmi15 { message, .. }) = parse_datagram(&IPMITOOL_AUTH_CAPS[..len])
            {
                assert!(parse_request(message).is_err());
            }
        }
    }

    #[test]
    fn asf_ping_gets_a_pong_with_the_same_tag() {
        let ping = [
            0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x2a, 0x00, 0x00,
        ];
        let parsed = parse_datagram(&ping).unwrap();
        assert_eq!(
            parsed,
            Datagram::AsfPing {
                rmcp_sequence: 0xff,
                tag: 0x2a
            }
        );
        let reply = asf_pong(0xff, 0x2a);
        assert_eq!(reply.len(), 28);
        assert_eq!(
            &reply[..12],
            &[
                0x06, 0x00, 0xff, 0x06, 0, 0, 0x11, 0xbe, 0x40, 0x2a, 0, 0x10
            ]
        );
        assert_eq!(reply[20], 0x81);
    }

    #[test]
    fn integrity_pad_matches_the_traces() {
        // Trace C17: 12-byte header + 32-byte payload → ff ff 02 07 (48 bytes in all).
        assert_eq!(integrity_pad_len(12 + 32), 2);
        for span in 0..64 {
            let pad = integrity_pad_len(span);
            assert!(pad < 4);
            assert_eq!((span + pad + 2) % 4, 0);
        }
    }

    #[test]
    fn open_session_request_is_parsed_field_by_field() {
        // ipmitool -C 17: tag 0, privilege 0 (highest), console ID A0A2A3A4h.
        let mut payload = vec![0x00, 0x00, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0];
        payload.extend_from_slice(&[0x00, 0, 0, 0x08, 0x03, 0, 0, 0]);
        payload.extend_from_slice(&[0x01, 0, 0, 0x08, 0x04, 0, 0, 0]);
        payload.extend_from_slice(&[0x02, 0, 0, 0x00, 0x01, 0, 0, 0]);
        let request = parse_open_session_request(&payload).unwrap();
        assert_eq!(request.console_session_id, 0xa0a2_a3a4);
        assert_eq!(request.authentication.algorithm, Some(0x03));
        assert_eq!(request.integrity.algorithm, Some(0x04));
        assert_eq!(request.confidentiality.algorithm, None);
        payload[16] = 0x05;
        assert!(parse_open_session_request(&payload).is_err());
        assert!(parse_open_session_request(&payload[..31]).is_err());
    }

    #[test]
    fn open_session_response_layout() {
        let grant = OpenSessionGrant {
            max_privilege: 4,
            console_session_id: 0xa0a2_a3a4,
            managed_session_id: 0xf902_0747,
            algorithms: (0x03, 0x04, 0x01),
        };
        let ok = open_session_response(7, 0, grant.console_session_id, Some(&grant));
        assert_eq!(ok.len(), 36);
        assert_eq!(
            &ok[..12],
            &[7, 0, 4, 0, 0xa4, 0xa3, 0xa2, 0xa0, 0x47, 0x07, 0x02, 0xf9]
        );
        assert_eq!(&ok[12..20], &[0, 0, 0, 8, 3, 0, 0, 0]);
        assert_eq!(&ok[28..36], &[2, 0, 0, 8, 1, 0, 0, 0]);
        let refused = open_session_response(7, 0x11, 0xa0a2_a3a4, None);
        assert_eq!(refused, vec![7, 0x11, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0]);
    }

    #[test]
    fn rakp1_fields_and_bounds() {
        let mut payload = vec![0x00, 0, 0, 0, 0x47, 0x07, 0x02, 0xf9];
        payload.extend_from_slice(&[0xa9; 16]);
        payload.extend_from_slice(&[0x14, 0, 0, 5]);
        payload.extend_from_slice(b"admin");
        let rakp1 = parse_rakp1(&payload).unwrap();
        assert_eq!(rakp1.managed_session_id, 0xf902_0747);
        assert_eq!(rakp1.role, 0x14);
        assert_eq!(rakp1.name, b"admin");
        assert!(parse_rakp1(&payload[..32]).is_err());
    }

    #[test]
    fn rmcpp_trailer_is_split_and_checked() {
        let payload = [0xAA; 32];
        let mut packet = rmcpp_header(0xc0, 1, 3, payload.len());
        packet.extend_from_slice(&payload);
        packet.extend_from_slice(&[0xff, 0xff, 0x02, 0x07]);
        packet.extend_from_slice(&[0x55; 16]);
        let Ok(Datagram::Rmcpp(parsed)) = parse_datagram(&packet) else {
            panic!("not rmcp+");
        };
        assert!(parsed.encrypted() && parsed.authenticated());
        assert_eq!((parsed.session_id, parsed.sequence), (1, 3));
        let (span, code) = parsed.integrity_parts(16).unwrap();
        assert_eq!(span.len(), 48);
        assert_eq!(span[0], AUTH_TYPE_RMCPP);
        assert_eq!(code, &[0x55; 16]);
        // A 12-byte auth code does not fit this trailer's declared pad.
        assert!(parsed.integrity_parts(12).is_err());
    }
}
