//! The session table: half-open and established RMCP+ sessions, sequence windows, idle expiry.
//! Pure: time is passed in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::config::{CipherSuite, IpmiUser, Privilege};
use super::crypto::SessionKeys;

/// Inbound session sequence numbers accepted around the highest one seen: up to this many
/// behind (if not seen yet; duplicates are dropped) ...
const WINDOW_BEHIND: u32 = 16;
/// ... and up to this many ahead (a console skips numbers when it retransmits).
const WINDOW_AHEAD: u32 = 32;

/// Sliding-window replay protection for inbound session sequence numbers (§6.12.13).
#[derive(Debug, Clone, Default)]
pub(crate) struct SequenceWindow {
    /// Highest sequence number accepted; `None` before the first packet.
    highest: Option<u32>,
    /// Bit `i` set: `highest - i` was seen.
    seen: u32,
}

impl SequenceWindow {
    /// Whether to accept `sequence`; records it when accepted. Zero is never valid in a
    /// session, and the first number is accepted whatever it is (ipmitool counts its RAKP
    /// messages, so its first in-session number is 3).
    pub(crate) fn accept(&mut self, sequence: u32) -> bool {
        if sequence == 0 {
            return false;
        }
        let Some(highest) = self.highest else {
            self.highest = Some(sequence);
            self.seen = 1;
            return true;
        };
        let ahead = sequence.wrapping_sub(highest);
        if (1..=WINDOW_AHEAD).contains(&ahead) {
            self.seen = self.seen.checked_shl(ahead).unwrap_or(0) | 1;
            self.highest = Some(sequence);
            return true;
        }
        let behind = highest.wrapping_sub(sequence);
        if behind < WINDOW_BEHIND {
            let bit = 1u32 << behind;
            if self.seen & bit == 0 {
                self.seen |= bit;
                return true;
            }
        }
        false
    }
}

/// A session's progress through the handshake.
#[derive(Debug)]
pub(crate) enum SessionState {
    /// Open Session answered; waiting for RAKP 1.
    Opened {
        /// Where the request came from.
        peer: SocketAddr,
        /// The Open Session request payload, to recognise a retransmission.
        request: Vec<u8>,
        /// The Open Session response payload, resent for a retransmission.
        reply: Vec<u8>,
    },
    /// RAKP 2 sent; waiting for RAKP 3.
    Authenticating(Box<Handshake>),
    /// RAKP 4 sent: the session is established.
    Active(Box<ActiveSession>),
}

/// What RAKP 1 established, needed to check RAKP 3 and derive the keys.
#[derive(Debug)]
pub(crate) struct Handshake {
    /// The user found by name.
    pub(crate) user: IpmiUser,
    /// Rm.
    pub(crate) console_random: [u8; 16],
    /// Rc.
    pub(crate) bmc_random: [u8; 16],
    /// The RAKP 1 role byte as sent.
    pub(crate) role: u8,
    /// The privilege limit the role byte asked for.
    pub(crate) privilege_limit: Privilege,
    /// The RAKP 1 payload, to recognise a retransmission.
    pub(crate) rakp1: Vec<u8>,
    /// The RAKP 2 payload, resent for a retransmission.
    pub(crate) rakp2: Vec<u8>,
}

/// An established session.
#[derive(Debug)]
pub(crate) struct ActiveSession {
    /// K1 and K2.
    pub(crate) keys: SessionKeys,
    /// The highest privilege Set Session Privilege Level may grant.
    pub(crate) privilege_limit: Privilege,
    /// The current privilege (sessions start at user, or lower if the limit is lower).
    pub(crate) privilege: Privilege,
    /// Replay protection for inbound packets.
    pub(crate) inbound: SequenceWindow,
    /// The last outbound session sequence number used.
    pub(crate) outbound_sequence: u32,
    /// The RAKP 3 payload, to recognise a retransmission.
    pub(crate) rakp3: Vec<u8>,
    /// The RAKP 4 payload, resent for a retransmission.
    pub(crate) rakp4: Vec<u8>,
    /// The last request message and its response message, so a retransmitted request (same
    /// rqSeq, new session sequence) is answered again without running it twice.
    pub(crate) last_exchange: Option<(Vec<u8>, Vec<u8>)>,
}

impl ActiveSession {
    /// The next outbound session sequence number: starts at 1, never 0.
    pub(crate) fn next_outbound_sequence(&mut self) -> u32 {
        self.outbound_sequence = self.outbound_sequence.wrapping_add(1).max(1);
        self.outbound_sequence
    }
}

/// One session, half-open or established.
#[derive(Debug)]
pub(crate) struct Session {
    /// The console's session ID (what outbound packets carry).
    pub(crate) console_session_id: u32,
    /// The suite agreed in Open Session.
    pub(crate) suite: CipherSuite,
    /// The maximum privilege Open Session granted.
    pub(crate) granted_privilege: Privilege,
    /// When the last valid packet of this session arrived.
    pub(crate) last_activity: Instant,
    /// Handshake progress.
    pub(crate) state: SessionState,
}

/// All sessions of one server, by the BMC's session ID.
#[derive(Debug, Default)]
pub(crate) struct SessionTable {
    sessions: HashMap<u32, Session>,
}

impl SessionTable {
    /// Drops sessions idle for `timeout` or longer.
    pub(crate) fn expire(&mut self, now: Instant, timeout: Duration) {
        self.sessions
            .retain(|_, session| now.duration_since(session.last_activity) < timeout);
    }

    /// Number of sessions, half-open ones included.
    pub(crate) fn clear(&mut self) {
        self.sessions.clear();
    }

    /// Number of sessions, half-open ones included.
    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether `id` is in use.
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.sessions.contains_key(&id)
    }

    /// The session with the BMC's session ID `id`.
    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    /// Adds a session.
    pub(crate) fn insert(&mut self, id: u32, session: Session) {
        self.sessions.insert(id, session);
    }

    /// Removes a session; whether it existed.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        self.sessions.remove(&id).is_some()
    }

    /// The cached Open Session reply of a half-open session opened by exactly this request
    /// from the same address.
    pub(crate) fn retransmitted_open(&self, request: &[u8], from: SocketAddr) -> Option<&[u8]> {
        self.sessions
            .values()
            .find_map(|session| match &session.state {
                SessionState::Opened {
                    peer,
                    request: seen,
                    reply,
                } if *peer == from && seen.as_slice() == request => Some(reply.as_slice()),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_accepts_the_first_number_then_slides() {
        let mut window = SequenceWindow::default();
        assert!(!window.accept(0));
        assert!(window.accept(3));
        assert!(!window.accept(3), "duplicate");
        assert!(window.accept(4));
        assert!(window.accept(7), "skipped numbers are fine");
        assert!(window.accept(5), "late but unseen, inside the window");
        assert!(!window.accept(5), "late duplicate");
        assert!(!window.accept(7 + WINDOW_AHEAD + 1), "too far ahead");
        assert!(window.accept(7 + WINDOW_AHEAD));
        assert!(!window.accept(7), "too far behind now");
    }

    #[test]
    fn window_handles_wrap_around() {
        let mut window = SequenceWindow::default();
        assert!(window.accept(u32::MAX - 1));
        assert!(window.accept(u32::MAX));
        assert!(window.accept(1), "0 is skipped on wrap");
        assert!(!window.accept(u32::MAX));
    }

    #[test]
    fn outbound_sequence_starts_at_one_and_skips_zero() {
        let mut session = ActiveSession {
            keys: SessionKeys::derive(super::super::crypto::SuiteHash::Sha1, &[0; 20]),
            privilege_limit: Privilege::Administrator,
            privilege: Privilege::User,
            inbound: SequenceWindow::default(),
            outbound_sequence: 0,
            rakp3: Vec::new(),
            rakp4: Vec::new(),
            last_exchange: None,
        };
        assert_eq!(session.next_outbound_sequence(), 1);
        session.outbound_sequence = u32::MAX;
        assert_eq!(session.next_outbound_sequence(), 1);
    }

    #[test]
    fn idle_sessions_expire() {
        let start = Instant::now();
        let mut table = SessionTable::default();
        table.insert(
            7,
            Session {
                console_session_id: 1,
                suite: CipherSuite::Suite3,
                granted_privilege: Privilege::Administrator,
                last_activity: start,
                state: SessionState::Opened {
                    peer: ([127, 0, 0, 1], 9).into(),
                    request: vec![1],
                    reply: vec![2],
                },
            },
        );
        let timeout = Duration::from_secs(30);
        table.expire(start + Duration::from_secs(29), timeout);
        assert!(table.contains(7));
        assert_eq!(
            table.retransmitted_open(&[1], ([127, 0, 0, 1], 9).into()),
            Some(&[2][..])
        );
        assert_eq!(
            table.retransmitted_open(&[1], ([127, 0, 0, 1], 10).into()),
            None
        );
        table.expire(start + Duration::from_secs(30), timeout);
        assert_eq!(table.len(), 0);
    }
}
