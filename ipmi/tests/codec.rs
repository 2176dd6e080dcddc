//! Wire codec: golden packets written by hand from the spec, encode/decode round trips, and
//! decoders fed truncated and random bytes (errors, never panics).

mod common;

use common::hex;
use ferrofish_ipmi::commands::{
    BootDevice, BootFlags, BootOptions, ChassisControl, Command, CompletionCode,
    GetChannelAuthCapabilities, GetChannelCipherSuites, GetChassisStatus, GetDeviceId,
    GetSystemBootOptions, PowerRestorePolicy, SetSystemBootOptions, parse_cipher_suite_records,
};
use ferrofish_ipmi::crypto::{CipherSuite, SessionKeys};
use ferrofish_ipmi::wire::{
    self, AlgorithmTriple, AsfPong, Datagram, IpmiRequest, IpmiResponse, OpenSessionRequest,
    OpenSessionResponse, PayloadType, Rakp1, Rakp2, Rakp3, Rakp4, RmcpPlusHeader,
};
use ferrofish_ipmi::{DecodeError, Privilege};
use proptest::prelude::*;
use secrecy::SecretSlice;

#[test]
fn get_channel_auth_caps_request_is_byte_exact() {
    // What ipmitool sends first (trace: netfn 06 cmd 38 data 8e 04, IPMI 1.5, rqSeq 0).
    let cmd = GetChannelAuthCapabilities {
        channel: 0x0E,
        ipmi_v2_extended: true,
        privilege: Privilege::Administrator,
    };
    let req = IpmiRequest::to_bmc(0x06, 0x38, 0, cmd.request_data());
    let datagram = wire::encode_ipmi15_unauthenticated(&req.encode());
    assert_eq!(
        datagram,
        hex("0600ff07 00 00000000 00000000 09 2018c8 81 00 38 8e04 b5")
    );
}

#[test]
fn asf_ping_and_pong() {
    assert_eq!(
        wire::encode_asf_ping(0x42),
        hex("0600ff06 000011be 80 42 00 00")
    );
    let pong = hex("0600ff06 000011be 40 42 00 10 000011be 00000000 81 00 000000000000");
    let Datagram::AsfPong(p) = wire::decode_datagram(&pong, 0).unwrap() else {
        panic!()
    };
    assert_eq!((p.tag, p.iana, p.supported_entities), (0x42, 4542, 0x81));
    assert!(p.supports_ipmi());
    assert_eq!(wire::encode_asf_pong(&p), pong);
}

#[test]
fn checksums_reject_a_flipped_bit() {
    let good = hex("81 1c 63 20 04 01 00 01 00 00 00 da");
    let mut sum: u8 = 0;
    for b in &good[3..] {
        sum = sum.wrapping_add(*b);
    }
    let mut fixed = good.clone();
    let last = fixed.len() - 1;
    fixed[last] = fixed[last].wrapping_sub(sum);
    let r = IpmiResponse::decode(&fixed).unwrap();
    assert_eq!(
        (r.net_fn, r.command, r.rq_seq, r.data.as_slice()),
        (0x07, 0x01, 1, &[1, 0, 0, 0][..])
    );
    let mut bad = fixed.clone();
    bad[1] ^= 0x04;
    assert_eq!(
        IpmiResponse::decode(&bad),
        Err(DecodeError::BadChecksum {
            which: "checksum 1"
        })
    );
    let mut bad = fixed;
    bad[6] ^= 0x01;
    assert_eq!(
        IpmiResponse::decode(&bad),
        Err(DecodeError::BadChecksum {
            which: "checksum 2"
        })
    );
}

#[test]
fn integrity_pad_makes_the_signed_span_a_multiple_of_four() {
    for len in 0..40usize {
        let header = RmcpPlusHeader {
            encrypted: false,
            authenticated: true,
            payload_type: PayloadType::Ipmi,
            session_id: 7,
            sequence: 9,
        };
        let payload = vec![0xAB; len];
        let mut signed_len = 0;
        let sign = |span: &[u8]| {
            assert_eq!(span.len() % 4, 0);
            assert_eq!(span[span.len() - 1], 0x07, "next header");
            vec![0xEE; 12]
        };
        let d = wire::encode_rmcp_plus(&header, &payload, Some(&sign));
        let Datagram::RmcpPlus(p) = wire::decode_datagram(&d, 12).unwrap() else {
            panic!()
        };
        signed_len += p.trailer.as_ref().unwrap().signed.len();
        assert_eq!(signed_len % 4, 0);
        assert_eq!(p.payload, payload);
        assert_eq!(p.trailer.unwrap().auth_code, vec![0xEE; 12]);
    }
}

#[test]
fn confidentiality_pad_is_one_two_three() {
    assert_eq!(
        wire::confidentiality_pad(&[9; 8]),
        hex("0909090909090909 01020304050607 07")
    );
    assert_eq!(wire::confidentiality_pad(&[9; 15]).len(), 16);
    assert_eq!(wire::confidentiality_pad(&[9; 16]).len(), 32);
    assert_eq!(
        wire::confidentiality_unpad(&hex("aabb 01 01")).unwrap(),
        &[0xAA, 0xBB]
    );
    assert!(wire::confidentiality_unpad(&hex("aa 10")).is_err());
    assert!(wire::confidentiality_unpad(&[]).is_err());
}

#[test]
fn open_session_error_reply_without_tail_decodes() {
    // ipmi_sim's refusal of suite 17 (status 04h) may omit the tail.
    let r = OpenSessionResponse::decode(&hex("00 04 00 00 a4a3a2a0")).unwrap();
    assert_eq!((r.status, r.accepted), (0x04, None));
    assert!(
        OpenSessionResponse::decode(&hex("00 00 04 00 a4a3a2a0")).is_err(),
        "success needs 36 bytes"
    );
}

#[test]
fn device_id_chassis_status_and_boot_options_parse() {
    let id = GetDeviceId
        .parse_response(&hex("00 03 09 08 02 9f 911200 020f 00000000"))
        .unwrap();
    assert_eq!(
        (id.device_revision, id.firmware_major, id.firmware_minor),
        (3, 9, 8)
    );
    assert_eq!(
        (id.manufacturer_id, id.product_id, id.ipmi_version),
        (0x1291, 0x0F02, (2, 0))
    );
    assert_eq!(id.aux_firmware_revision, Some([0; 4]));
    assert!(
        GetDeviceId
            .parse_response(&hex("00 03 09 08 02 9f 9112 00 02"))
            .is_err()
    );

    let st = GetChassisStatus.parse_response(&hex("41 00 00")).unwrap();
    assert!(st.power_on);
    assert_eq!(st.restore_policy, PowerRestorePolicy::AlwaysOn);
    assert_eq!(st.front_panel, None);

    assert_eq!(ChassisControl::SoftOff.request_data(), vec![0x05]);
    assert_eq!(ChassisControl::PowerCycle.request_data(), vec![0x02]);

    // ipmitool's observed bytes: pxe efiboot a0 04, disk persistent+efi e0 08, cdrom 80 14.
    let pxe_efi = BootFlags::new(
        BootDevice::Pxe,
        BootOptions {
            persistent: false,
            efi: true,
        },
    );
    assert_eq!(
        SetSystemBootOptions(ferrofish_ipmi::commands::BootParameter::BootFlags(pxe_efi))
            .request_data(),
        hex("05 a0 04 00 00 00")
    );
    assert_eq!(
        BootFlags::new(
            BootDevice::Disk,
            BootOptions {
                persistent: true,
                efi: true
            }
        )
        .raw,
        [0xE0, 0x08, 0, 0, 0]
    );
    assert_eq!(
        BootFlags::new(BootDevice::Cdrom, BootOptions::default()).raw,
        [0x80, 0x14, 0, 0, 0]
    );
    assert_eq!(
        SetSystemBootOptions(ferrofish_ipmi::commands::BootParameter::ValidBitClearing(
            0x08
        ))
        .request_data(),
        vec![0x03, 0x08]
    );
    let got = GetSystemBootOptions { parameter: 5 }
        .parse_response(&hex("01 05 0004000000"))
        .unwrap();
    let flags = got.boot_flags().unwrap();
    assert_eq!(
        (flags.valid, flags.persistent, flags.efi, flags.device),
        (false, false, false, BootDevice::Pxe)
    );
    assert_eq!(
        GetSystemBootOptions { parameter: 5 }.request_data(),
        vec![0x05, 0, 0]
    );
}

#[test]
fn cipher_suite_records_parse() {
    // Suite 3 record C0 03 01 41 81, suite 17 record C0 11 03 44 81.
    let records = parse_cipher_suite_records(&hex("c0 03 01 41 81 c0 11 03 44 81")).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (
            records[0].id,
            records[0].auth,
            records[0].integrity,
            records[0].confidentiality
        ),
        (3, Some(1), Some(1), Some(1))
    );
    assert_eq!(
        (
            records[1].id,
            records[1].auth,
            records[1].integrity,
            records[1].confidentiality
        ),
        (17, Some(3), Some(4), Some(1))
    );
    assert!(parse_cipher_suite_records(&hex("07")).is_err());
    assert_eq!(
        GetChannelCipherSuites {
            channel: 0x0E,
            payload_type: 0,
            index: 2
        }
        .request_data(),
        vec![0x0E, 0x00, 0x82]
    );
}

#[test]
fn oem_cipher_suite_records_carry_the_suite_id_first_then_the_iana() {
    // Known answer, laid out as ipmitool's oem_cipher_suite_record_t and FreeIPMI's table
    // have it: C1h, suite ID, IANA (3 bytes, least significant first), then the algorithms.
    // Here an OEM suite 80h of enterprise 10876 (0x002A7C) with RAKP-HMAC-SHA1, HMAC-SHA1-96
    // and AES-CBC-128, between two standard records.
    let data = hex("c0 03 01 41 81  c1 80 7c 2a 00 01 41 81  c0 11 03 44 81");
    let records = parse_cipher_suite_records(&data).unwrap();
    let summary: Vec<_> = records
        .iter()
        .map(|r| (r.id, r.oem_iana, r.auth, r.integrity, r.confidentiality))
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, None, Some(1), Some(1), Some(1)),
            (0x80, Some(10876), Some(1), Some(1), Some(1)),
            (17, None, Some(3), Some(4), Some(1)),
        ]
    );
    // An OEM record cut inside its IANA is truncated, not misread.
    for cut in ["c1", "c1 80", "c1 80 7c 2a"] {
        assert!(
            matches!(
                parse_cipher_suite_records(&hex(cut)),
                Err(DecodeError::Truncated { .. })
            ),
            "{cut}"
        );
    }
    // A standard record needs only its ID.
    let bare = parse_cipher_suite_records(&hex("c0 11")).unwrap();
    assert_eq!((bare[0].id, bare[0].auth), (17, None));
}

#[test]
fn the_largest_request_fits_the_payload_length_field_and_one_udp_datagram() {
    use ferrofish_ipmi::session::Session;
    use ferrofish_ipmi::wire::MAX_REQUEST_DATA_LEN;

    // The worst case: suite 17 (AES and the 16-byte auth code).
    let keys = SessionKeys {
        sik: SecretSlice::from(vec![1; 32]),
        k1: SecretSlice::from(vec![2; 32]),
        k2: SecretSlice::from(vec![3; 32]),
    };
    let now = std::time::Instant::now();
    let mut session = Session::new("b".into(), CipherSuite::Suite17, keys, 1, 2, now);
    let datagram_len = |session: &mut Session, len: usize| {
        let request = IpmiRequest::to_bmc(0x2E, 0x01, 1, vec![0xA5; len]);
        let datagram = session.encode_request(&request, [0; 16]);
        let payload_len = usize::from(u16::from_le_bytes([datagram[14], datagram[15]]));
        (datagram.len(), payload_len)
    };
    let (largest, payload) = datagram_len(&mut session, MAX_REQUEST_DATA_LEN);
    // 65,507 bytes is the largest IPv4 UDP payload.
    assert_eq!((largest, payload), (65_492, 65_456));
    let (one_more, _) = datagram_len(&mut session, MAX_REQUEST_DATA_LEN + 1);
    assert!(one_more > 65_507, "{one_more}");
}

#[test]
fn completion_codes_have_meanings_and_round_trip() {
    for v in 0..=255u8 {
        let c = CompletionCode::from_u8(v);
        assert_eq!(c.to_u8(), v);
        assert!(!c.meaning().is_empty());
    }
    assert_eq!(
        CompletionCode::from_u8(0xD4),
        CompletionCode::InsufficientPrivilege
    );
    assert_eq!(
        CompletionCode::from_u8(0xC1).to_string(),
        "completion code 0xc1 (invalid command)"
    );
}

#[test]
fn suite_zero_is_refused_by_id() {
    assert!(matches!(
        CipherSuite::from_id(0),
        Err(ferrofish_ipmi::Error::CipherSuiteZeroRefused)
    ));
    assert_eq!(CipherSuite::from_id(17).unwrap(), CipherSuite::Suite17);
    assert!(matches!(
        CipherSuite::from_id(1),
        Err(ferrofish_ipmi::Error::UnsupportedCipherSuite(1))
    ));
}

fn algs() -> impl Strategy<Value = AlgorithmTriple> {
    (0u8..64, 0u8..64, 0u8..64).prop_map(|(auth, integrity, confidentiality)| AlgorithmTriple {
        auth,
        integrity,
        confidentiality,
    })
}

proptest! {
    #[test]
    fn ipmi_messages_round_trip(net_fn in 0u8..64, seq in 0u8..64, cmd: u8, cc: u8, data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let req = IpmiRequest::to_bmc(net_fn, cmd, seq, data.clone());
        prop_assert_eq!(IpmiRequest::decode(&req.encode()).unwrap(), req);
        let rsp = IpmiResponse { rq_addr: 0x81, net_fn, rq_lun: 0, rs_addr: 0x20, rq_seq: seq, rs_lun: 1, command: cmd, completion_code: cc, data };
        prop_assert_eq!(IpmiResponse::decode(&rsp.encode()).unwrap(), rsp);
    }

    #[test]
    fn session_setup_payloads_round_trip(tag: u8, status in 1u8.., sid_m: u32, sid_c: u32, rm: [u8; 16], rc: [u8; 16], role: u8,
                                         name in proptest::collection::vec(1u8.., 0..=16), code in proptest::collection::vec(any::<u8>(), 0..33), a in algs()) {
        let open = OpenSessionRequest { tag, max_privilege: role & 0x0F, console_session_id: sid_m, algorithms: a };
        prop_assert_eq!(OpenSessionRequest::decode(&open.encode()).unwrap(), open);
        let ok = OpenSessionResponse { tag, status: 0, max_privilege: role & 0x0F, console_session_id: Some(sid_m), accepted: Some((sid_c, a)) };
        prop_assert_eq!(OpenSessionResponse::decode(&ok.encode()).unwrap(), ok);
        let err = OpenSessionResponse { tag, status, max_privilege: 0, console_session_id: Some(sid_m), accepted: None };
        prop_assert_eq!(OpenSessionResponse::decode(&err.encode()).unwrap(), err);
        let r1 = Rakp1 { tag, bmc_session_id: sid_c, console_random: rm, role, username: name };
        prop_assert_eq!(Rakp1::decode(&r1.encode()).unwrap(), r1);
        let r2 = Rakp2 { tag, status: 0, console_session_id: sid_m, bmc_random_and_guid: Some((rc, rm)), key_exchange_code: code.clone() };
        prop_assert_eq!(Rakp2::decode(&r2.encode()).unwrap(), r2);
        let r3 = Rakp3 { tag, status, bmc_session_id: sid_c, key_exchange_code: code.clone() };
        prop_assert_eq!(Rakp3::decode(&r3.encode()).unwrap(), r3);
        let r4 = Rakp4 { tag, status: 0, console_session_id: sid_m, integrity_check: code };
        prop_assert_eq!(Rakp4::decode(&r4.encode()).unwrap(), r4);
    }

    #[test]
    fn rmcp_plus_packets_round_trip(encrypted: bool, authenticated: bool, ty in prop_oneof![Just(0u8), Just(1), 0x10u8..0x16],
                                    sid: u32, seq: u32, payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let header = RmcpPlusHeader { encrypted, authenticated, payload_type: PayloadType::from_bits(ty), session_id: sid, sequence: seq };
        let sign = |span: &[u8]| span.iter().take(16).copied().chain(std::iter::repeat(0x5A)).take(16).collect::<Vec<u8>>();
        let d = wire::encode_rmcp_plus(&header, &payload, Some(&sign));
        let Datagram::RmcpPlus(p) = wire::decode_datagram(&d, 16).unwrap() else { panic!("framing") };
        prop_assert_eq!((p.encrypted, p.authenticated, p.payload_type, p.session_id, p.sequence), (encrypted, authenticated, header.payload_type, sid, seq));
        prop_assert_eq!(&p.payload, &payload);
        prop_assert_eq!(p.trailer.is_some(), authenticated);
        // Every strict prefix is an error, never a panic and never a different packet.
        for cut in 0..d.len() {
            prop_assert!(wire::decode_datagram(&d[..cut], 16).is_err(), "prefix {} decoded", cut);
        }
    }

    #[test]
    fn aes_round_trips_with_any_key(k2 in proptest::collection::vec(any::<u8>(), 20..=32), iv: [u8; 16], data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let keys = SessionKeys { sik: SecretSlice::from(vec![1u8; 20]), k1: SecretSlice::from(vec![2u8; 20]), k2: SecretSlice::from(k2) };
        let enc = keys.encrypt(iv, &data);
        prop_assert_eq!(&enc[..16], &iv[..]);
        prop_assert_eq!((enc.len() - 16) % 16, 0);
        prop_assert_eq!(keys.decrypt(&enc).unwrap(), data);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), len in 0usize..40) {
        let _ = wire::decode_datagram(&bytes, len);
        let _ = IpmiRequest::decode(&bytes);
        let _ = IpmiResponse::decode(&bytes);
        let _ = OpenSessionRequest::decode(&bytes);
        let _ = OpenSessionResponse::decode(&bytes);
        let _ = Rakp1::decode(&bytes);
        let _ = Rakp2::decode(&bytes);
        let _ = Rakp3::decode(&bytes);
        let _ = Rakp4::decode(&bytes);
        let _ = wire::confidentiality_unpad(&bytes);
        let _ = GetDeviceId.parse_response(&bytes);
        let _ = GetChassisStatus.parse_response(&bytes);
        let _ = GetSystemBootOptions { parameter: 5 }.parse_response(&bytes).map(|p| p.boot_flags());
        let _ = GetChannelAuthCapabilities { channel: 14, ipmi_v2_extended: true, privilege: Privilege::User }.parse_response(&bytes);
        let _ = parse_cipher_suite_records(&bytes);
        let keys = SessionKeys { sik: SecretSlice::from(vec![1u8; 20]), k1: SecretSlice::from(vec![2u8; 20]), k2: SecretSlice::from(vec![3u8; 20]) };
        let _ = keys.decrypt(&bytes);
    }

    #[test]
    fn random_rmcp_plus_bodies_never_panic(ty: u8, body in proptest::collection::vec(any::<u8>(), 0..120), len in 0usize..40) {
        // Valid RMCP + auth type 06h prefix so the fuzzing reaches the RMCP+ decoder.
        let mut d = vec![0x06, 0x00, 0xFF, 0x07, 0x06, ty];
        d.extend(body);
        let _ = wire::decode_datagram(&d, len);
    }

    #[test]
    fn asf_pong_round_trips(tag: u8, iana: u32, oem: u32, ent: u8, inter: u8) {
        let pong = AsfPong { tag, iana, oem, supported_entities: ent, supported_interactions: inter };
        prop_assert_eq!(wire::decode_datagram(&wire::encode_asf_pong(&pong), 0).unwrap(), Datagram::AsfPong(pong));
    }
}
