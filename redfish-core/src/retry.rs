//! Retry decisions, backoff and `Retry-After`: pure functions, time and randomness passed in.

use std::time::{Duration, SystemTime};

use reqwest::Method;

/// How failed requests are retried.
///
/// Idempotent requests (GET, HEAD, PUT, PATCH, DELETE) are retried on connect errors and on
/// 429, 502, 503 and 504. POST is retried only on connect errors (nothing reached the BMC) and
/// on the known-transient BMC messages of [`crate::Quirks::transient_post_message_ids`].
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first one; 0 disables retries.
    pub max_retries: u32,
    /// The delay before the first retry; it doubles each time.
    pub initial_backoff: Duration,
    /// The longest delay between two attempts, also the cap for `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttemptOutcome<'a> {
    /// The connection could not be established; nothing reached the BMC.
    ConnectFailed,
    /// The BMC answered with an error status and these short message ids.
    Status {
        status: u16,
        short_message_ids: &'a [&'a str],
    },
}

/// The retry decision for one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up and report the failure.
    GiveUp,
}

/// Statuses that mean "try again later" for an idempotent request.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

fn is_idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}

/// Whether a request the BMC lost with its connection (closed or reset before any answer,
/// quirk `stale_keep_alive_connection`) is sent again: once, and only when it is idempotent, since the BMC may have
/// acted on it.
pub(crate) fn replay_on_stale_connection(method: &Method, already_replayed: bool) -> bool {
    !already_replayed && is_idempotent(method)
}

/// Decides whether attempt number `retries_done + 1` should happen, and after what delay.
/// `jitter` is a random number in `[0, 1)`; `retry_after` is the parsed header, if any.
pub(crate) fn decide(
    policy: &RetryPolicy,
    method: &Method,
    outcome: AttemptOutcome<'_>,
    retries_done: u32,
    retry_after: Option<Duration>,
    transient_post_message_ids: &[String],
    jitter: f64,
) -> RetryDecision {
    if retries_done >= policy.max_retries {
        return RetryDecision::GiveUp;
    }
    let retryable = match outcome {
        AttemptOutcome::ConnectFailed => true,
        AttemptOutcome::Status {
            status,
            short_message_ids,
        } => {
            let transient_message = short_message_ids
                .iter()
                .any(|id| transient_post_message_ids.iter().any(|t| t == id));
            (is_idempotent(method) && (is_retryable_status(status) || transient_message))
                || (*method == Method::POST && transient_message)
        }
    };
    if !retryable {
        return RetryDecision::GiveUp;
    }
    let delay = match retry_after {
        Some(wait) => wait.min(policy.max_backoff),
        None => backoff(policy, retries_done, jitter),
    };
    RetryDecision::RetryAfter(delay)
}

/// Exponential backoff with "equal jitter": half the exponential delay, plus a random part of
/// the other half, capped at `max_backoff`.
pub(crate) fn backoff(policy: &RetryPolicy, retries_done: u32, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(retries_done.min(16));
    let full = policy
        .initial_backoff
        .saturating_mul(factor)
        .min(policy.max_backoff);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    full / 2 + (full / 2).mul_f64(jitter)
}

/// Parses `Retry-After` (delay seconds or an HTTP date), capped at `cap`. A date in the past
/// means "now"; anything unparseable is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_connection_replays_idempotent_requests_once_and_never_post() {
        assert!(replay_on_stale_connection(&Method::GET, false));
        assert!(replay_on_stale_connection(&Method::DELETE, false));
        assert!(!replay_on_stale_connection(&Method::GET, true));
        assert!(!replay_on_stale_connection(&Method::POST, false));
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }

    fn status(code: u16) -> AttemptOutcome<'static> {
        AttemptOutcome::Status {
            status: code,
            short_message_ids: &[],
        }
    }

    #[test]
    fn idempotent_requests_retry_on_transient_statuses() {
        for code in [429, 502, 503, 504] {
            for method in [Method::GET, Method::PATCH, Method::DELETE] {
                assert!(
                    matches!(
                        decide(&policy(), &method, status(code), 0, None, &[], 0.0),
                        RetryDecision::RetryAfter(_)
                    ),
                    "{method} {code}"
                );
            }
        }
        for code in [400, 401, 404, 409, 412, 500] {
            assert_eq!(
                decide(&policy(), &Method::GET, status(code), 0, None, &[], 0.0),
                RetryDecision::GiveUp
            );
        }
    }

    #[test]
    fn post_is_not_retried_on_503() {
        assert_eq!(
            decide(&policy(), &Method::POST, status(503), 0, None, &[], 0.5),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn post_is_retried_on_known_transient_messages_only() {
        let table = vec![
            "SYS518".to_owned(),
            "InvalidOperationForSystemState".to_owned(),
        ];
        let sys518 = AttemptOutcome::Status {
            status: 400,
            short_message_ids: &["SYS518"],
        };
        assert_eq!(
            decide(&policy(), &Method::POST, sys518, 0, None, &table, 0.0),
            RetryDecision::RetryAfter(Duration::from_millis(50))
        );
        let other = AttemptOutcome::Status {
            status: 400,
            short_message_ids: &["PropertyUnknown"],
        };
        assert_eq!(
            decide(&policy(), &Method::POST, other, 0, None, &table, 0.0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(&policy(), &Method::POST, sys518, 0, None, &[], 0.0),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn connect_failures_are_retried_for_every_method() {
        for method in [Method::GET, Method::POST] {
            assert!(matches!(
                decide(
                    &policy(),
                    &method,
                    AttemptOutcome::ConnectFailed,
                    2,
                    None,
                    &[],
                    0.0
                ),
                RetryDecision::RetryAfter(_)
            ));
        }
    }

    #[test]
    fn retries_are_bounded() {
        assert_eq!(
            decide(&policy(), &Method::GET, status(503), 3, None, &[], 0.0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(
                &RetryPolicy::none(),
                &Method::GET,
                status(503),
                0,
                None,
                &[],
                0.0
            ),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        assert_eq!(
            decide(
                &policy(),
                &Method::GET,
                status(503),
                0,
                Some(Duration::from_secs(1)),
                &[],
                0.9
            ),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            decide(
                &policy(),
                &Method::GET,
                status(503),
                0,
                Some(Duration::from_secs(600)),
                &[],
                0.0
            ),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_caps() {
        let p = policy();
        assert_eq!(backoff(&p, 0, 0.0), Duration::from_millis(50));
        assert_eq!(backoff(&p, 0, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(&p, 1, 0.0), Duration::from_millis(100));
        assert_eq!(backoff(&p, 2, 0.5), Duration::from_millis(300));
        assert_eq!(backoff(&p, 10, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(&p, u32::MAX, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(&p, 0, f64::NAN), Duration::from_millis(50));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cap = Duration::from_secs(60);
        assert_eq!(
            parse_retry_after(" 5 ", now, cap),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("3600", now, cap), Some(cap));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(20));
        assert_eq!(
            parse_retry_after(&later, now, cap),
            Some(Duration::from_secs(20))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(20));
        assert_eq!(parse_retry_after(&earlier, now, cap), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now, cap), None);
        assert_eq!(parse_retry_after("-1", now, cap), None);
    }
}
