//! The tokio UDP server: one task and one socket per node.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::config::{IpmiConfig, IpmiFaults};
use super::node::IpmiNode;
use super::responder::Responder;
use crate::error::MockBmcError;

/// Largest datagram read; RMCP+ packets of this server's commands are far smaller.
const MAX_DATAGRAM: usize = 1024;

/// Starts IPMI servers.
#[derive(Debug)]
pub struct IpmiServer;

impl IpmiServer {
    /// Binds a UDP socket on `address` (port 0 picks a free port) and serves `node` on it
    /// until every clone of the returned handle is dropped or [`IpmiServerHandle::shutdown`]
    /// is called. Must be called within a tokio runtime.
    pub async fn bind(
        address: SocketAddr,
        node: Arc<dyn IpmiNode>,
        config: IpmiConfig,
    ) -> Result<IpmiServerHandle, MockBmcError> {
        if config.cipher_suites.is_empty() {
            return Err(MockBmcError::NoCipherSuite);
        }
        let socket = UdpSocket::bind(address)
            .await
            .map_err(|source| MockBmcError::IpmiBind { address, source })?;
        let local_addr = socket
            .local_addr()
            .map_err(|source| MockBmcError::IpmiBind { address, source })?;
        let entropy = Box::new(|buffer: &mut [u8]| rand::fill(buffer));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                responder: Responder::new(config, entropy),
                replies: 0,
                in_session_replies_to_drop: 0,
                restarts_seen: node.restart_count(),
            }),
        });
        let task = tokio::spawn(serve(
            Arc::new(socket),
            Arc::clone(&node),
            Arc::clone(&shared),
        ));
        Ok(IpmiServerHandle {
            inner: Arc::new(HandleInner {
                local_addr,
                shared,
                node,
                task,
            }),
        })
    }
}

/// A running IPMI server. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct IpmiServerHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    /// The node served, to see its restarts from the handle too.
    node: Arc<dyn IpmiNode>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for HandleInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandleInner")
            .field("local_addr", &self.local_addr)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl IpmiServerHandle {
    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The faults currently injected.
    pub fn faults(&self) -> IpmiFaults {
        self.inner.shared.lock().responder.faults.clone()
    }

    /// Replaces the injected faults; takes effect from the next datagram. Also restarts the
    /// reply counter of `drop_every_nth_reply`.
    pub fn set_faults(&self, faults: IpmiFaults) {
        let mut state = self.inner.shared.lock();
        state.responder.faults = faults;
        state.replies = 0;
    }

    /// Drops the next `count` replies sent inside a session (command replies, Set Session
    /// Privilege Level, Close Session) while still running the commands; handshake and
    /// pre-session replies still go out. This is a BMC that executed a command but whose replies
    /// were lost, e.g. while the return path flapped: the case where re-sending a power cycle
    /// in a new session would run it twice (pitfall P6). Replaces any count still pending.
    pub fn drop_next_in_session_replies(&self, count: u32) {
        self.inner.shared.lock().in_session_replies_to_drop = count;
    }

    /// Sessions currently open or opening (idle ones past the timeout are not counted).
    pub fn session_count(&self) -> usize {
        let mut state = self.inner.shared.lock();
        state.follow_restarts(self.inner.node.as_ref());
        state.responder.session_count(Instant::now())
    }

    /// Stops the server; its port is released shortly after.
    pub fn shutdown(&self) {
        self.inner.task.abort();
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: each datagram is handled whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct State {
    responder: Responder,
    /// Replies produced since the faults were last set (for `drop_every_nth_reply`).
    replies: u64,
    /// In-session replies still to drop ([`IpmiServerHandle::drop_next_in_session_replies`]).
    in_session_replies_to_drop: u32,
    /// The node's [`IpmiNode::restart_count`] the sessions belong to.
    restarts_seen: u64,
}

impl State {
    /// Forgets the sessions when the node has restarted since they were opened.
    fn follow_restarts(&mut self, node: &dyn IpmiNode) {
        let restarts = node.restart_count();
        if restarts != self.restarts_seen {
            self.restarts_seen = restarts;
            self.responder.forget_sessions();
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("replies", &self.replies)
            .finish_non_exhaustive()
    }
}

/// Whether `reply` is an in-session RMCP+ packet (authenticated payload) rather than a
/// pre-session or handshake reply.
fn is_in_session(reply: &[u8]) -> bool {
    matches!(reply, [_, _, _, _, 0x06, payload_type, ..] if payload_type & 0x40 != 0)
}

/// Whether reply number `count` (1-based) is dropped when every `nth` is.
fn drops_reply(nth: Option<u32>, count: u64) -> bool {
    match nth {
        None => false,
        Some(n) => count.is_multiple_of(u64::from(n.max(1))),
    }
}

async fn serve(socket: Arc<UdpSocket>, node: Arc<dyn IpmiNode>, shared: Arc<Shared>) {
    let mut buffer = vec![0; MAX_DATAGRAM];
    loop {
        let (length, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(error) => {
                // ICMP errors from earlier replies surface here on some systems; keep serving.
                tracing::debug!(%error, "ipmi: receive failed");
                continue;
            }
        };
        let Some(datagram) = buffer.get(..length) else {
            continue;
        };
        if !node.is_reachable() {
            tracing::debug!(%peer, "ipmi: bmc unreachable, datagram dropped");
            continue;
        }
        let (reply, delay) = {
            let mut state = shared.lock();
            state.follow_restarts(node.as_ref());
            let Some(reply) = state
                .responder
                .handle(datagram, peer, Instant::now(), node.as_ref())
            else {
                continue;
            };
            state.replies += 1;
            if state.in_session_replies_to_drop > 0 && is_in_session(&reply) {
                state.in_session_replies_to_drop -= 1;
                tracing::debug!(%peer, "ipmi: fault injection dropped an in-session reply");
                continue;
            }
            let faults = &state.responder.faults;
            if drops_reply(faults.drop_every_nth_reply, state.replies) {
                tracing::debug!(%peer, "ipmi: fault injection dropped a reply");
                continue;
            }
            (reply, faults.reply_delay)
        };
        if delay.is_zero() {
            send(&socket, &reply, peer).await;
        } else {
            let socket = Arc::clone(&socket);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                send(&socket, &reply, peer).await;
            });
        }
    }
}

async fn send(socket: &UdpSocket, reply: &[u8], peer: SocketAddr) {
    if let Err(error) = socket.send_to(reply, peer).await {
        tracing::debug!(%error, %peer, "ipmi: send failed");
    }
}

#[cfg(test)]
mod tests {
    use super::{drops_reply, is_in_session};

    #[test]
    fn in_session_replies_are_told_from_handshake_ones() {
        // RMCP header, auth type 06h, payload type C0h (encrypted, authenticated IPMI).
        assert!(is_in_session(&[0x06, 0, 0xFF, 0x07, 0x06, 0xC0, 1, 2]));
        // RAKP 2 (13h, unauthenticated), and an IPMI 1.5 pre-session reply.
        assert!(!is_in_session(&[0x06, 0, 0xFF, 0x07, 0x06, 0x13, 0, 0]));
        assert!(!is_in_session(&[0x06, 0, 0xFF, 0x07, 0x00, 0x00, 0, 0]));
        assert!(!is_in_session(&[0x06, 0, 0xFF]));
    }

    #[test]
    fn every_nth_reply_is_dropped() {
        let dropped: Vec<u64> = (1..=9).filter(|&c| drops_reply(Some(3), c)).collect();
        assert_eq!(dropped, vec![3, 6, 9]);
        assert!((1..=5).all(|c| drops_reply(Some(1), c)));
        assert!((1..=5).all(|c| drops_reply(Some(0), c)));
        assert!((1..=5).all(|c| !drops_reply(None, c)));
    }
}
