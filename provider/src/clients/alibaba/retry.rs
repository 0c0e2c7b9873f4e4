//! When to send an Alibaba Cloud call again and how long to wait. Pure logic, so the rules are
//! tested without a server.
//!
//! - Throttling (`Throttling`, `Throttling.*` codes, HTTP 429): retried for every call. The API
//!   gateway refuses a throttled request before the operation runs (the official SDKs' retry
//!   policies retry it regardless of the operation), so a repeat cannot act twice.
//! - Server errors (5xx, `ServiceUnavailable`, `InternalError`) and lost answers (timeouts,
//!   connection resets, a body cut short): retried for [`Retry::Idempotent`] calls and for
//!   [`Retry::SafeWithToken`] calls that carry a client token; a [`Retry::Never`] call may have
//!   taken effect, so the error is returned (callers look before retrying, see `send_checked`).
//! - Nothing sent (connection refused, DNS, TLS handshake): retried for every call.
//! - Any other answer (4xx) is final.
//!
//! Waits grow exponentially with "full jitter" (uniformly random between zero and the current
//! cap), so clients that failed together spread out; a server-requested wait
//! (`x-acs-retry-after`, `Retry-After`) is honoured, bounded.

use std::time::Duration;

/// Whether a call may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Repeating it has no further effect (reads, deletes that tolerate "not found", puts of a
    /// whole state).
    Idempotent,
    /// A repeat could act twice: retried only when the request surely did not take effect.
    Never,
    /// Not idempotent by nature, but the call carries a `ClientToken` (RPC) or `client_token`
    /// (ROA) parameter the service deduplicates by, so it is retried like [`Retry::Idempotent`].
    /// Without such a parameter the client treats it as [`Retry::Never`].
    SafeWithToken,
}

impl Retry {
    /// The rule actually applied: `SafeWithToken` needs the token to be there.
    pub fn effective(self, has_client_token: bool) -> Retry {
        match self {
            Retry::SafeWithToken if has_client_token => Retry::Idempotent,
            Retry::SafeWithToken => Retry::Never,
            other => other,
        }
    }
}

/// How one attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Refused unprocessed because of a rate limit.
    Throttled,
    /// A 5xx answer: the operation may or may not have run.
    ServerError,
    /// Sent, but no complete answer (timeout, connection reset): it may have run.
    Lost,
    /// Nothing reached the service (connect error).
    NotSent,
    /// Any other answer: final.
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Cap of the first wait; doubles with every attempt.
    pub base_delay: Duration,
    /// Upper bound of a computed wait.
    pub max_delay: Duration,
    /// Upper bound of a server-requested wait, so a misbehaving server cannot stall an apply.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Whether `failure` of attempt number `attempt` (1-based) deserves another attempt under
    /// the (effective) rule `retry`.
    pub fn should_retry(&self, failure: Failure, retry: Retry, attempt: u32) -> bool {
        if attempt >= self.max_attempts {
            return false;
        }
        match failure {
            Failure::Throttled | Failure::NotSent => true,
            Failure::ServerError | Failure::Lost => retry == Retry::Idempotent,
            Failure::Final => false,
        }
    }

    /// The wait before attempt `attempt + 1`; `jitter` is a random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        if let Some(server) = retry_after {
            return server.min(self.max_retry_after) + self.base_delay.mul_f64(jitter);
        }
        let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.base_delay.saturating_mul(exp).min(self.max_delay).mul_f64(jitter)
    }
}

/// The server's requested wait: `x-acs-retry-after` (milliseconds, what the official SDKs read)
/// or `Retry-After` (seconds).
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    get("x-acs-retry-after")
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .or_else(|| get("retry-after").map(Duration::from_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_failures_are_retried() {
        let p = RetryPolicy::default();
        for retry in [Retry::Idempotent, Retry::Never] {
            assert!(p.should_retry(Failure::Throttled, retry, 1), "{retry:?}");
            assert!(p.should_retry(Failure::NotSent, retry, 1), "{retry:?}");
            assert!(!p.should_retry(Failure::Final, retry, 1), "{retry:?}");
        }
        assert!(p.should_retry(Failure::ServerError, Retry::Idempotent, 1));
        assert!(p.should_retry(Failure::Lost, Retry::Idempotent, 1));
        assert!(!p.should_retry(Failure::ServerError, Retry::Never, 1));
        assert!(!p.should_retry(Failure::Lost, Retry::Never, 1));
    }

    #[test]
    fn a_client_token_makes_a_create_retryable() {
        let p = RetryPolicy::default();
        let with = Retry::SafeWithToken.effective(true);
        let without = Retry::SafeWithToken.effective(false);
        assert!(p.should_retry(Failure::Lost, with, 1));
        assert!(!p.should_retry(Failure::Lost, without, 1));
        assert_eq!(Retry::Never.effective(true), Retry::Never);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy { max_attempts: 3, ..Default::default() };
        assert!(p.should_retry(Failure::Throttled, Retry::Idempotent, 2));
        assert!(!p.should_retry(Failure::Throttled, Retry::Idempotent, 3));
    }

    #[test]
    fn full_jitter_waits_grow_and_are_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 0.0), Duration::ZERO);
        assert_eq!(p.delay(1, None, 1.0), p.base_delay);
        assert_eq!(p.delay(3, None, 1.0), p.base_delay * 4);
        assert_eq!(p.delay(3, None, 0.5), p.base_delay * 2);
        assert_eq!(p.delay(40, None, 1.0), p.max_delay);
        assert!(p.delay(40, None, 0.999) <= p.max_delay);
    }

    #[test]
    fn server_wait_is_honoured_but_bounded() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some(Duration::from_secs(2)), 0.0), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.0), p.max_retry_after);
        let mut h = http::HeaderMap::new();
        h.insert("x-acs-retry-after", "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
