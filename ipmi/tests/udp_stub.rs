//! Error paths that need a BMC misbehaving in ways the mock does not: a hand-written UDP stub on
//! 127.0.0.1 (ephemeral port) answers exactly what each test needs, with bytes written here from
//! the spec (not with this crate's encoder), and records what the client sent.
//!
//! The stub speaks cipher suite 3 up to an established session (RAKP 2 and RAKP 4 computed
//! here with the HMAC-SHA1 and AES primitives, not with the crate's crypto module), decrypts
//! and checks every in-session packet, and never answers one: what a BMC holding a session
//! whose replies are lost looks like.
//!
//! Longer than 600 lines: the stub BMC (written from the spec, with its own HMAC and AES) is
//! half of it, shared by every test here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes::Aes128;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::NoPadding};
use ferrofish_ipmi::{ChassisControl, CipherSuite, Error, IpmiClient, Privilege};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretString;
use sha1::Sha1;
use tokio::net::UdpSocket;

/// What the stub received, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Get Channel Authentication Capabilities with this channel byte (8Eh or 0Eh).
    AuthCaps(u8),
    /// Open Session proposing this authentication algorithm (3 = suite 17, 1 = suite 3).
    OpenSession(u8),
    /// RAKP 1.
    Rakp1,
    /// RAKP 3 with this status byte.
    Rakp3(u8),
    /// An in-session IPMI request that passed the integrity check under the session's K1.
    Command {
        /// The session ID in the header (the BMC's).
        session_id: u32,
        /// Request network function.
        net_fn: u8,
        /// Command byte.
        command: u8,
    },
    /// Close Session, authentic, in session `session_id`, naming `closes`.
    CloseSession {
        /// The session ID in the header.
        session_id: u32,
        /// The session ID the request data names.
        closes: u32,
    },
}

// Independent switches, one per misbehaviour a test needs.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Stay silent on 8Eh (answer 0Eh only).
    ignore_extended_auth_caps: bool,
    /// Answer a suite-17 proposal with suite 3's algorithms (status 00h).
    select_suite3_for_17: bool,
    /// Answer RAKP 1 with a valid suite-3 RAKP 2 (else stay silent).
    answer_rakp1: bool,
    /// Answer RAKP 3 with a valid RAKP 4 (else stay silent, as if RAKP 4 were lost).
    answer_rakp3: bool,
}

/// The stub's user.
const USER: &str = "admin";
const PASSWORD: &str = "password";
/// The BMC's random and GUID in every RAKP 2.
const BMC_RANDOM: [u8; 16] = [0x5A; 16];
const BMC_GUID: [u8; 16] = [0x6B; 16];
/// The first managed-system session ID; each Open Session gets the next one.
const FIRST_BMC_SID: u32 = 0x1122_3344;

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// What the stub remembers of one handshake, by managed-system session ID.
#[derive(Default, Clone)]
struct Pending {
    console_sid: [u8; 4],
    console_random: [u8; 16],
    role: u8,
    sik: Vec<u8>,
}

/// An unauthenticated RMCP+ packet of `payload_type`.
fn presession(payload_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0x06,
        0x00,
        0xFF,
        0x07,
        0x06,
        payload_type,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    out.extend((payload.len() as u16).to_le_bytes());
    out.extend(payload);
    out
}

/// RAKP 2 for RAKP 1 `rakp1` (§13.21): status 00h and the HMAC-SHA1 key exchange code keyed
/// by the password over `SIDm`, `SIDc`, `Rm`, `Rc`, `GUIDc`, role, name length and name.
fn rakp2_reply(rakp1: &[u8], pending: &mut Pending) -> Vec<u8> {
    pending.console_random.copy_from_slice(&rakp1[8..24]);
    pending.role = rakp1[24];
    let name = &rakp1[28..28 + usize::from(rakp1[27])];
    let name_len = [rakp1[27]];
    let role = [pending.role];
    let code = hmac_sha1(
        PASSWORD.as_bytes(),
        &[
            &pending.console_sid,
            &rakp1[4..8],
            &pending.console_random,
            &BMC_RANDOM,
            &BMC_GUID,
            &role,
            &name_len,
            name,
        ],
    );
    // No Kg: the SIK is keyed by the password too (§13.31).
    pending.sik = hmac_sha1(
        PASSWORD.as_bytes(),
        &[&pending.console_random, &BMC_RANDOM, &role, &name_len, name],
    );
    let mut payload = vec![rakp1[0], 0x00, 0, 0];
    payload.extend(pending.console_sid);
    payload.extend(BMC_RANDOM);
    payload.extend(BMC_GUID);
    payload.extend(code);
    presession(0x13, &payload)
}

/// RAKP 4 (§13.23): the integrity check value HMAC-SHA1-96 keyed by the SIK over `Rm`, `SIDc`
/// and `GUIDc`.
fn rakp4_reply(rakp3: &[u8], bmc_sid: u32, pending: &Pending) -> Vec<u8> {
    let icv = hmac_sha1(
        &pending.sik,
        &[&pending.console_random, &bmc_sid.to_le_bytes(), &BMC_GUID],
    );
    let mut payload = vec![rakp3[0], 0x00, 0, 0];
    payload.extend(pending.console_sid);
    payload.extend(&icv[..12]);
    presession(0x15, &payload)
}

/// Check and open an in-session suite-3 packet: HMAC-SHA1-96 under K1 over auth type through
/// next header, then AES-CBC-128 under K2 (§13.28-13.29). `None` when it does not verify.
fn open_in_session(packet: &[u8], sik: &[u8]) -> Option<(u8, u8, Vec<u8>)> {
    let k1 = hmac_sha1(sik, &[&[0x01; 20]]);
    let k2 = hmac_sha1(sik, &[&[0x02; 20]]);
    let (signed, code) = packet.split_at(packet.len().checked_sub(12)?);
    if hmac_sha1(&k1, &[&signed[4..]])[..12] != *code {
        return None;
    }
    let len = usize::from(u16::from_le_bytes([packet[14], packet[15]]));
    let payload = packet.get(16..16 + len)?;
    let (iv, ciphertext) = payload.split_at(16);
    let mut buffer = ciphertext.to_vec();
    let key: [u8; 16] = k2[..16].try_into().unwrap();
    let iv: [u8; 16] = iv.try_into().unwrap();
    let plain = cbc::Decryptor::<Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded::<NoPadding>(&mut buffer)
        .ok()?;
    let pad = usize::from(*plain.last()?);
    let message = &plain[..plain.len() - 1 - pad];
    // rsAddr, netFn/LUN, checksum, rqAddr, rqSeq/LUN, command, data..., checksum.
    Some((
        message[1] >> 2,
        message[5],
        message[6..message.len() - 1].to_vec(),
    ))
}

/// Two's complement checksum.
fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI 1.5 (unauthenticated) reply to Get Channel Authentication Capabilities.
fn auth_caps_reply(request_message: &[u8], extended: bool) -> Vec<u8> {
    let rq_seq = request_message[4];
    let data: [u8; 8] = if extended {
        // Channel 1, v2.0 extended data, non-null user names, supports IPMI 2.0.
        [0x01, 0x80, 0x04, 0x02, 0, 0, 0, 0]
    } else {
        // The IPMI 1.5 form: no extended data.
        [0x01, 0x00, 0x04, 0x00, 0, 0, 0, 0]
    };
    let mut message = vec![0x81, 0x07 << 2];
    message.push(checksum(&message));
    let body_start = message.len();
    message.extend([0x20, rq_seq, 0x38, 0x00]);
    message.extend(data);
    message.push(checksum(&message[body_start..]));
    let mut out = vec![0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    out.push(message.len() as u8);
    out.extend(message);
    out
}

/// An RMCP+ Open Session Response selecting `auth`/`integrity`/AES-CBC-128 and `bmc_sid`.
fn open_session_reply(request_payload: &[u8], auth: u8, integrity: u8, bmc_sid: u32) -> Vec<u8> {
    let mut payload = vec![request_payload[0], 0x00, 0x04, 0x00];
    payload.extend(&request_payload[4..8]);
    payload.extend(bmc_sid.to_le_bytes());
    payload.extend([0x00, 0, 0, 0x08, auth, 0, 0, 0]);
    payload.extend([0x01, 0, 0, 0x08, integrity, 0, 0, 0]);
    payload.extend([0x02, 0, 0, 0x08, 0x01, 0, 0, 0]);
    let mut out = vec![0x06, 0x00, 0xFF, 0x07, 0x06, 0x11, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend((payload.len() as u16).to_le_bytes());
    out.extend(payload);
    out
}

/// Starts the stub.
async fn stub(behaviour: Behaviour) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut buffer = [0u8; 1024];
        let mut next_sid = FIRST_BMC_SID;
        let mut handshakes: HashMap<u32, Pending> = HashMap::new();
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let packet = &buffer[..n];
            let reply = match packet.get(4..6) {
                // IPMI 1.5 framing: the message starts after the 14-byte headers.
                Some([0x00, _]) if n >= 23 && packet[19] == 0x38 => {
                    let message = &packet[14..];
                    let channel = message[6];
                    log.lock().unwrap().push(Seen::AuthCaps(channel));
                    let extended = channel & 0x80 != 0;
                    if extended && behaviour.ignore_extended_auth_caps {
                        None
                    } else {
                        Some(auth_caps_reply(message, extended))
                    }
                }
                Some([0x06, 0x10]) if n >= 16 + 32 => {
                    let payload = &packet[16..];
                    let auth = payload[12] & 0x3F;
                    log.lock().unwrap().push(Seen::OpenSession(auth));
                    let sid = next_sid;
                    next_sid += 1;
                    let console_sid = payload[4..8].try_into().unwrap();
                    handshakes.insert(
                        sid,
                        Pending {
                            console_sid,
                            ..Pending::default()
                        },
                    );
                    Some(if auth == 0x03 && behaviour.select_suite3_for_17 {
                        open_session_reply(payload, 0x01, 0x01, sid)
                    } else {
                        open_session_reply(payload, auth, payload[20] & 0x3F, sid)
                    })
                }
                Some([0x06, 0x12]) => {
                    log.lock().unwrap().push(Seen::Rakp1);
                    let rakp1 = &packet[16..];
                    let sid = u32::from_le_bytes(rakp1[4..8].try_into().unwrap());
                    match handshakes.get_mut(&sid) {
                        Some(pending) if behaviour.answer_rakp1 => {
                            Some(rakp2_reply(rakp1, pending))
                        }
                        _ => None,
                    }
                }
                Some([0x06, 0x14]) => {
                    let rakp3 = &packet[16..];
                    log.lock().unwrap().push(Seen::Rakp3(rakp3[1]));
                    let sid = u32::from_le_bytes(rakp3[4..8].try_into().unwrap());
                    match handshakes.get(&sid) {
                        Some(pending) if behaviour.answer_rakp3 && rakp3[1] == 0 => {
                            Some(rakp4_reply(rakp3, sid, pending))
                        }
                        _ => None,
                    }
                }
                // In session: authenticated and encrypted IPMI (C0h). Never answered.
                Some([0x06, 0xC0]) if n >= 16 + 32 + 12 => {
                    let session_id = u32::from_le_bytes(packet[6..10].try_into().unwrap());
                    let opened = handshakes
                        .get(&session_id)
                        .and_then(|pending| open_in_session(packet, &pending.sik));
                    if let Some((net_fn, command, data)) = opened {
                        log.lock()
                            .unwrap()
                            .push(if (net_fn, command) == (0x06, 0x3C) {
                                Seen::CloseSession {
                                    session_id,
                                    closes: u32::from_le_bytes(data[..4].try_into().unwrap()),
                                }
                            } else {
                                Seen::Command {
                                    session_id,
                                    net_fn,
                                    command,
                                }
                            });
                    }
                    None
                }
                _ => None,
            };
            if let Some(reply) = reply {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    (address, seen)
}

fn client(address: SocketAddr) -> ferrofish_ipmi::IpmiClientBuilder {
    IpmiClient::builder(address.to_string())
        .credentials("admin", SecretString::from("password"))
        .timeout(Duration::from_millis(200))
        .retries(1)
}

#[tokio::test]
async fn silence_after_rakp1_is_no_rakp2() {
    let (address, seen) = stub(Behaviour::default()).await;
    let bmc = client(address)
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    match &error {
        Error::NoRakp2 { attempts, .. } => assert_eq!(*attempts, 2),
        other => panic!("expected no rakp 2, got {other:?}"),
    }
    assert!(error.to_string().contains("unknown user"), "{error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("password"), "{shown}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );
}

#[tokio::test]
async fn algorithm_mismatch_for_17_falls_back_to_3_unless_pinned() {
    let behaviour = Behaviour {
        select_suite3_for_17: true,
        ..Behaviour::default()
    };
    let (address, seen) = stub(behaviour).await;
    // Default policy: the mismatching answer to suite 17 makes the client propose suite 3,
    // whose answer matches, so it goes on to RAKP 1 (where this stub goes silent).
    let bmc = client(address).build().unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(matches!(error, Error::NoRakp2 { .. }), "{error:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x03),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );

    // Pinned to 17 there is nothing to fall back to: the mismatch is the error.
    seen.lock().unwrap().clear();
    let pinned = client(address)
        .cipher_suite(CipherSuite::Suite17)
        .build()
        .unwrap();
    let error = pinned.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::AlgorithmMismatch {
                suite: CipherSuite::Suite17,
                auth: 1,
                integrity: 1,
                confidentiality: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Seen::AuthCaps(0x8E), Seen::OpenSession(0x03)]
    );
}

#[tokio::test]
async fn unanswered_8e_auth_capabilities_is_retried_once_with_0e() {
    let behaviour = Behaviour {
        ignore_extended_auth_caps: true,
        ..Behaviour::default()
    };
    let (address, seen) = stub(behaviour).await;
    let bmc = client(address)
        .cipher_suite(CipherSuite::Suite3)
        .build()
        .unwrap();
    // The 1.5-form answer says nothing about IPMI 2.0, so the client goes on to Open Session.
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(matches!(error, Error::NoRakp2 { .. }), "{error:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Seen::AuthCaps(0x8E),
            Seen::AuthCaps(0x8E),
            Seen::AuthCaps(0x0E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp1
        ]
    );
    let stats = bmc.stats();
    assert_eq!(stats.round_trips, 2, "{stats:?}");
}

#[tokio::test]
async fn a_bmc_silent_on_both_forms_times_out_after_both() {
    // No stub at all on this port: nothing answers 8Eh or 0Eh.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let bmc = client(address).build().unwrap();
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                stage: ferrofish_ipmi::Stage::AuthCapabilities,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
    // Two attempts of 8Eh, then two of 0Eh.
    assert_eq!(bmc.stats().datagrams_sent, 4);
    drop(socket);
}

/// A stub that completes the suite-3 handshake, and a client for it that asks for user
/// privilege (so that no Set Session Privilege Level is needed: the stub answers nothing in
/// session).
async fn session_stub(answer_rakp3: bool) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>, IpmiClient) {
    let behaviour = Behaviour {
        answer_rakp1: true,
        answer_rakp3,
        ..Behaviour::default()
    };
    let (address, seen) = stub(behaviour).await;
    let bmc = IpmiClient::builder(address.to_string())
        .credentials(USER, SecretString::from(PASSWORD))
        .cipher_suite(CipherSuite::Suite3)
        .privilege(Privilege::User)
        .timeout(Duration::from_millis(150))
        .retries(1)
        .build()
        .unwrap();
    (address, seen, bmc)
}

/// Waits (up to 10 s; the machine may be loaded) until `seen` holds `count` Close Sessions.
async fn wait_for_closes(seen: &Mutex<Vec<Seen>>, count: usize) -> Vec<Seen> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = seen.lock().unwrap().clone();
        let closes = log
            .iter()
            .filter(|s| matches!(s, Seen::CloseSession { .. }))
            .count();
        if closes >= count || Instant::now() > deadline {
            return log;
        }
        drop(log);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_handshake_restart_and_its_failure_close_the_sessions_the_bmc_may_hold() {
    // RAKP 4 never comes: the BMC activated the session on RAKP 3 and holds it. The client
    // restarts the handshake once, then gives up; each attempt's session is closed.
    let (_address, seen, bmc) = session_stub(false).await;
    let error = bmc.chassis_status().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                stage: ferrofish_ipmi::Stage::Rakp3,
                ..
            }
        ),
        "{error:?}"
    );
    let first = FIRST_BMC_SID;
    let second = FIRST_BMC_SID + 1;
    let log = wait_for_closes(&seen, 2).await;
    assert_eq!(
        log,
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp3(0),
            Seen::Rakp3(0),
            Seen::CloseSession {
                session_id: first,
                closes: first
            },
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp3(0),
            Seen::Rakp3(0),
            Seen::CloseSession {
                session_id: second,
                closes: second
            },
        ]
    );
}

#[tokio::test]
async fn a_close_cancelled_midway_still_closes_the_session_when_the_client_drops() {
    let (_address, seen, bmc) = session_stub(true).await;
    // The session opens; the stub answers no command, so this one times out (it is
    // idempotent and the session fresh: a plain timeout, the session is kept).
    let error = bmc.device_id().await.unwrap_err();
    assert!(
        error.is_timeout() && !error.is_outcome_unknown(),
        "{error:?}"
    );
    assert_eq!(bmc.stats().sessions_opened, 1);
    // The caller gives up on close() while it waits for the reply to Close Session.
    let cancelled = tokio::time::timeout(Duration::from_millis(50), bmc.close()).await;
    assert!(
        cancelled.is_err(),
        "close should still be waiting: {cancelled:?}"
    );
    let sid = FIRST_BMC_SID;
    let get_device_id = Seen::Command {
        session_id: sid,
        net_fn: 0x06,
        command: 0x01,
    };
    assert_eq!(
        wait_for_closes(&seen, 1).await,
        vec![
            Seen::AuthCaps(0x8E),
            Seen::OpenSession(0x01),
            Seen::Rakp1,
            Seen::Rakp3(0),
            get_device_id,
            get_device_id,
            Seen::CloseSession {
                session_id: sid,
                closes: sid
            },
        ]
    );
    // Dropping the client closes the session that close() did not finish closing.
    drop(bmc);
    let log = wait_for_closes(&seen, 2).await;
    let closes: Vec<_> = log
        .iter()
        .filter(|s| matches!(s, Seen::CloseSession { .. }))
        .collect();
    let expected = Seen::CloseSession {
        session_id: sid,
        closes: sid,
    };
    assert_eq!(closes, vec![&expected, &expected], "{log:?}");
}

#[tokio::test]
async fn an_unanswered_power_cycle_on_a_fresh_session_is_an_unknown_outcome_not_a_timeout() {
    let (_address, seen, bmc) = session_stub(true).await;
    let error = bmc
        .chassis_control(ChassisControl::PowerCycle)
        .await
        .unwrap_err();
    match &error {
        Error::OutcomeUnknown {
            command, attempts, ..
        } => {
            assert_eq!(*command, "chassis control");
            assert_eq!(*attempts, 2);
        }
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    assert!(error.is_outcome_unknown() && !error.is_timeout() && !error.is_retryable());
    // Sent twice in its own session (the retransmission), never again in another one.
    let log = seen.lock().unwrap().clone();
    let power_cycles = log
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Command {
                    net_fn: 0x00,
                    command: 0x02,
                    ..
                }
            )
        })
        .count();
    assert_eq!(power_cycles, 2, "{log:?}");
    assert_eq!(bmc.stats().sessions_opened, 1);
}

#[tokio::test]
async fn raw_refuses_a_net_fn_above_0x3f_and_oversized_data_before_sending_anything() {
    let (address, seen) = stub(Behaviour::default()).await;
    let bmc = client(address).build().unwrap();
    for (net_fn, len, argument) in [
        (0x40, 0, "net_fn"),
        (0xFF, 0, "net_fn"),
        (0x30, ferrofish_ipmi::wire::MAX_REQUEST_DATA_LEN + 1, "data"),
        (0x30, 70_000, "data"),
    ] {
        let error = bmc.raw(net_fn, 0x01, vec![0; len]).await.unwrap_err();
        match &error {
            Error::InvalidArgument { name, .. } => assert_eq!(*name, argument),
            other => panic!("expected invalid argument, got {other:?}"),
        }
        assert!(error.is_invalid_input());
    }
    assert_eq!(bmc.stats().datagrams_sent, 0);
    assert!(seen.lock().unwrap().is_empty());
}
