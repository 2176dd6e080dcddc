//! The pure session machine with a simulated clock: sequence windows, duplicates, retransmission
//! framing, idle expiry, foreign and forged packets.

use std::time::{Duration, Instant};

use ferrofish_ipmi::crypto::{CipherSuite, HashAlgorithm, SessionKeys};
use ferrofish_ipmi::session::{SequenceWindow, Session};
use ferrofish_ipmi::wire::{
    self, Datagram, IpmiRequest, IpmiResponse, PayloadType, RmcpPlusHeader,
};
use secrecy::SecretSlice;

const CONSOLE_SID: u32 = 0x1111_2222;
const BMC_SID: u32 = 0x3333_4444;

fn keys() -> SessionKeys {
    SessionKeys {
        sik: SecretSlice::from(vec![0x11; 32]),
        k1: SecretSlice::from(vec![0x22; 32]),
        k2: SecretSlice::from(vec![0x33; 32]),
    }
}

fn session(now: Instant) -> Session {
    Session::new(
        "bmc".into(),
        CipherSuite::Suite17,
        keys(),
        BMC_SID,
        CONSOLE_SID,
        now,
    )
}

/// What a BMC would send: an encrypted, integrity-protected reply.
fn bmc_reply(seq: u32, rq_seq: u8, session_id: u32, sign_key: u8) -> Vec<u8> {
    let message = IpmiResponse {
        rq_addr: 0x81,
        net_fn: 0x01,
        rq_lun: 0,
        rs_addr: 0x20,
        rq_seq,
        rs_lun: 0,
        command: 0x01,
        completion_code: 0,
        data: vec![0x01, 0x00, 0x00],
    }
    .encode();
    let payload = keys().encrypt([0x44; 16], &message);
    let header = RmcpPlusHeader {
        encrypted: true,
        authenticated: true,
        payload_type: PayloadType::Ipmi,
        session_id,
        sequence: seq,
    };
    let signer = SessionKeys {
        sik: SecretSlice::from(vec![0; 32]),
        k1: SecretSlice::from(vec![sign_key; 32]),
        k2: SecretSlice::from(vec![0; 32]),
    };
    let sign = |span: &[u8]| signer.auth_code(HashAlgorithm::Sha256, 16, span);
    wire::encode_rmcp_plus(&header, &payload, Some(&sign))
}

#[test]
fn window_takes_new_and_late_packets_once_and_drops_the_rest() {
    let mut w = SequenceWindow::default();
    assert!(!w.accept(0), "sequence 0 is never valid in a session");
    assert!(w.accept(10));
    assert!(!w.accept(10), "duplicate");
    assert!(w.accept(11));
    assert!(w.accept(15), "forward jump (replies to lost requests)");
    assert!(w.accept(13), "late but inside the window");
    assert!(!w.accept(13), "late duplicate");
    assert!(w.accept(12));
    assert!(!w.accept(7), "more than 8 behind");
    assert!(!w.accept(15));
    // Wrap-around.
    let mut w = SequenceWindow::default();
    assert!(w.accept(u32::MAX - 1));
    assert!(w.accept(u32::MAX));
    assert!(w.accept(1));
    assert!(!w.accept(u32::MAX), "duplicate across the wrap");
}

#[test]
fn replies_are_verified_decrypted_and_deduplicated() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let reply = s
        .decode_response(&bmc_reply(1, 5, CONSOLE_SID, 0x22), t0)
        .unwrap()
        .unwrap();
    assert_eq!(
        (reply.rq_seq, reply.command, reply.data.as_slice()),
        (5, 0x01, &[1, 0, 0][..])
    );
    assert!(
        s.decode_response(&bmc_reply(1, 5, CONSOLE_SID, 0x22), t0)
            .unwrap()
            .is_none(),
        "duplicate dropped"
    );
    assert!(
        s.decode_response(&bmc_reply(2, 6, 0xDEAD_BEEF, 0x22), t0)
            .unwrap()
            .is_none(),
        "other session dropped"
    );
    assert!(
        s.decode_response(&bmc_reply(3, 6, CONSOLE_SID, 0x99), t0)
            .is_err(),
        "wrong K1 rejected"
    );
    // The forged sequence 3 did not consume the slot: the genuine one is taken.
    assert!(
        s.decode_response(&bmc_reply(3, 6, CONSOLE_SID, 0x22), t0)
            .unwrap()
            .is_some()
    );
    // An unauthenticated packet in an authenticated session is refused.
    let plain = wire::encode_rmcp_plus(
        &RmcpPlusHeader {
            encrypted: false,
            authenticated: false,
            payload_type: PayloadType::Ipmi,
            session_id: CONSOLE_SID,
            sequence: 4,
        },
        &[0x81, 0x1C, 0x63, 0x20, 0x04, 0x01, 0x00, 0xDB],
        None,
    );
    assert!(s.decode_response(&plain, t0).is_err());
}

#[test]
fn retransmission_keeps_rq_seq_and_takes_a_new_session_sequence() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let rq_seq = s.take_rq_seq();
    let request = IpmiRequest::to_bmc(0x00, 0x01, rq_seq, vec![]);
    let first = s.encode_request(&request, [1; 16]);
    let retry = s.encode_request(&request, [2; 16]);
    let open = |d: &[u8]| {
        let Datagram::RmcpPlus(p) = wire::decode_datagram(d, 16).unwrap() else {
            panic!()
        };
        let t = p.trailer.clone().unwrap();
        assert!(keys().verify_auth_code(HashAlgorithm::Sha256, 16, &t.signed, &t.auth_code));
        assert_eq!(p.session_id, BMC_SID);
        (
            p.sequence,
            IpmiRequest::decode(&keys().decrypt(&p.payload).unwrap()).unwrap(),
        )
    };
    let (seq1, req1) = open(&first);
    let (seq2, req2) = open(&retry);
    assert_eq!(
        (seq1, seq2),
        (1, 2),
        "in-session sequence starts at 1 and advances per datagram"
    );
    assert_eq!(req1.rq_seq, req2.rq_seq);
    assert_eq!(req1, request);
    // The next request gets the next rqSeq; rqSeq cycles within 6 bits.
    assert_eq!(s.take_rq_seq(), rq_seq + 1);
    for _ in 0..200 {
        let q = s.take_rq_seq();
        assert!((1..=63).contains(&q));
    }
}

#[test]
fn outbound_sequence_skips_zero_on_wrap() {
    let mut s = session(Instant::now());
    s.set_next_sequence(u32::MAX);
    let req = IpmiRequest::to_bmc(0, 1, 1, vec![]);
    let seq = |d: &[u8]| match wire::decode_datagram(d, 16).unwrap() {
        Datagram::RmcpPlus(p) => p.sequence,
        _ => panic!(),
    };
    assert_eq!(seq(&s.encode_request(&req, [0; 16])), u32::MAX);
    assert_eq!(seq(&s.encode_request(&req, [0; 16])), 1);
}

#[test]
fn idle_expiry_follows_the_simulated_clock() {
    let t0 = Instant::now();
    let idle = Duration::from_secs(20);
    let mut s = session(t0);
    assert!(!s.idle_expired(t0 + Duration::from_secs(19), idle));
    assert!(s.idle_expired(t0 + Duration::from_secs(20), idle));
    // A verified reply at t0+15 s counts as activity.
    s.decode_response(
        &bmc_reply(1, 1, CONSOLE_SID, 0x22),
        t0 + Duration::from_secs(15),
    )
    .unwrap()
    .unwrap();
    assert!(!s.idle_expired(t0 + Duration::from_secs(34), idle));
    assert!(s.idle_expired(t0 + Duration::from_secs(35), idle));
    // A duplicate or forged packet does not.
    let _ = s.decode_response(
        &bmc_reply(1, 1, CONSOLE_SID, 0x22),
        t0 + Duration::from_secs(30),
    );
    let _ = s.decode_response(
        &bmc_reply(2, 1, CONSOLE_SID, 0x77),
        t0 + Duration::from_secs(30),
    );
    assert!(s.idle_expired(t0 + Duration::from_secs(35), idle));
}
