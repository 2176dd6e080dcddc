//! Thin tokio UDP layer: one connected socket per BMC, per-attempt timeout, bounded
//! retransmission. What to send and what to accept is decided by an [`Exchange`] (pure code in
//! [`crate::session`]); this module only moves datagrams and counts them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::error::{Error, Stage};
use crate::wire::DecodeError;

/// Largest datagram accepted (IPMI packets are far smaller).
const MAX_DATAGRAM: usize = 2048;

/// Timeout per attempt and how many times to retransmit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long to wait for a reply to one datagram.
    pub timeout: Duration,
    /// Retransmissions after the first attempt.
    pub retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            timeout: Duration::from_secs(1),
            retries: 3,
        }
    }
}

/// Counters of what went over the wire. Round trips count exchanges that got their reply, so
/// they are deterministic even when datagrams are lost.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub round_trips: AtomicU64,
    pub datagrams_sent: AtomicU64,
    pub retransmissions: AtomicU64,
    pub sessions_opened: AtomicU64,
}

/// What [`Transport::exchange`] does with a received datagram.
pub(crate) enum Verdict<T> {
    /// This is the reply.
    Take(T),
    /// Not the reply (stale, duplicate, foreign or malformed); keep waiting.
    Drop(Option<DecodeError>),
    /// The reply is an error; stop.
    Fail(Error),
}

/// One request/reply exchange: the datagram for each attempt and the judge of replies.
pub(crate) trait Exchange {
    type Output;
    /// The datagram for attempt `attempt` (0 = first). Retransmissions may differ (a new
    /// session sequence number).
    fn datagram(&mut self, attempt: u32) -> Vec<u8>;
    /// Judge a received datagram.
    fn judge(&mut self, bytes: &[u8], now: Instant) -> Verdict<Self::Output>;
}

/// A UDP socket connected to one BMC.
#[derive(Debug)]
pub(crate) struct Transport {
    socket: UdpSocket,
    address: String,
}

impl Transport {
    /// Resolve `address` (host:port) and connect a fresh socket to it.
    pub async fn connect(address: &str) -> Result<Self, Error> {
        let mut addrs =
            tokio::net::lookup_host(address)
                .await
                .map_err(|source| Error::Resolve {
                    address: address.to_owned(),
                    source,
                })?;
        let Some(target) = addrs.next() else {
            return Err(Error::Resolve {
                address: address.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
            });
        };
        let io = |source| Error::Io {
            address: address.to_owned(),
            source,
        };
        let local = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local).await.map_err(io)?;
        socket.connect(target).await.map_err(io)?;
        Ok(Transport {
            socket,
            address: address.to_owned(),
        })
    }

    /// Send without waiting for anything (best-effort Close Session from `Drop`).
    pub fn send_now(&self, datagram: &[u8]) {
        let _ = self.socket.try_send(datagram);
    }

    /// Run one exchange: send, wait up to the timeout for a datagram the exchange takes,
    /// retransmit up to `policy.retries` times.
    pub async fn exchange<E: Exchange>(
        &self,
        stage: Stage,
        policy: RetryPolicy,
        counters: &Counters,
        exchange: &mut E,
    ) -> Result<E::Output, Error> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut last_rejected = None;
        for attempt in 0..=policy.retries {
            let datagram = exchange.datagram(attempt);
            self.socket
                .send(&datagram)
                .await
                .map_err(|source| Error::Io {
                    address: self.address.clone(),
                    source,
                })?;
            counters.datagrams_sent.fetch_add(1, Ordering::Relaxed);
            if attempt > 0 {
                counters.retransmissions.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(bmc = %self.address, %stage, attempt, "retransmitting");
            }
            let deadline = tokio::time::Instant::now() + policy.timeout;
            loop {
                let received = match tokio::time::timeout_at(deadline, self.socket.recv(&mut buf))
                    .await
                {
                    Err(_elapsed) => break,
                    // ICMP port unreachable surfaces as a receive error on a connected socket:
                    // treat it like silence so that retries still apply.
                    Ok(Err(e)) => {
                        tracing::debug!(bmc = %self.address, error = %e, "receive error");
                        if tokio::time::Instant::now() >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(
                            deadline.min(tokio::time::Instant::now() + Duration::from_millis(50)),
                        )
                        .await;
                        continue;
                    }
                    Ok(Ok(n)) => &buf[..n],
                };
                match exchange.judge(received, Instant::now()) {
                    Verdict::Take(out) => {
                        counters.round_trips.fetch_add(1, Ordering::Relaxed);
                        return Ok(out);
                    }
                    Verdict::Drop(reason) => {
                        if let Some(reason) = reason {
                            tracing::debug!(bmc = %self.address, %stage, %reason, "dropped datagram");
                            last_rejected = Some(reason);
                        }
                    }
                    Verdict::Fail(e) => {
                        counters.round_trips.fetch_add(1, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
        }
        Err(Error::Timeout {
            address: self.address.clone(),
            stage,
            attempts: policy.retries.saturating_add(1),
            timeout: policy.timeout,
            last_rejected,
        })
    }
}
