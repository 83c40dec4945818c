//! Failed authentication, counted per client address: after `FAILURES_MAX` wrong bearer
//! tokens or sign-ins within `WINDOW`, that address is answered 429 `rate_limited` with
//! `Retry-After` until the window ends, whatever token it sends. In memory only: a restart
//! forgets, which costs an attacker nothing they could not get by waiting.
//!
//! The address is the TCP peer (axum's `ConnectInfo`), never a forwarded header a client can
//! write; behind a proxy every client shares the proxy's count. Without a peer (tests drive
//! the router directly) every request counts as "local".

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use super::error::AppError;

/// Failures allowed from one address within one window.
pub const FAILURES_MAX: u32 = 10;
/// How long an address's failures are remembered, from its first.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Addresses remembered at once, so a flood of addresses cannot exhaust memory.
pub const ADDRESSES_MAX: usize = 10_000;

/// The key requests from no known peer share.
pub const LOCAL: &str = "local";

struct Window {
    started: Instant,
    failures: u32,
}

pub struct AuthThrottle {
    failures_max: u32,
    window: Duration,
    addresses_max: usize,
    table: Mutex<HashMap<String, Window>>,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(FAILURES_MAX, WINDOW, ADDRESSES_MAX)
    }
}

/// The address a request is counted under: the peer's IP (not its port, which changes with
/// every connection), or `LOCAL`.
pub fn client(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| LOCAL.into())
}

/// The client address as an extractor, for handlers that authenticate themselves (sign-in).
pub struct Client(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client(parts)))
    }
}

impl AuthThrottle {
    pub fn new(failures_max: u32, window: Duration, addresses_max: usize) -> AuthThrottle {
        AuthThrottle { failures_max, window, addresses_max, table: Mutex::new(HashMap::new()) }
    }

    /// Refuses an address that has failed too often in its current window.
    pub fn check(&self, client: &str) -> Result<(), AppError> {
        self.check_at(client, Instant::now())
    }

    /// Counts one failed authentication from `client`.
    pub fn failed(&self, client: &str) {
        self.failed_at(client, Instant::now());
    }

    pub fn check_at(&self, client: &str, now: Instant) -> Result<(), AppError> {
        let table = self.table.lock().expect("throttle table is never poisoned");
        match table.get(client) {
            Some(w) if w.failures >= self.failures_max && now < w.started + self.window => {
                let left = (w.started + self.window).saturating_duration_since(now);
                Err(AppError::RateLimited { retry_after: left.as_secs().max(1) })
            }
            _ => Ok(()),
        }
    }

    pub fn failed_at(&self, client: &str, now: Instant) {
        let mut table = self.table.lock().expect("throttle table is never poisoned");
        if !table.contains_key(client) && table.len() >= self.addresses_max {
            self.make_room(&mut table, now);
        }
        let w = table.entry(client.to_owned()).or_insert(Window { started: now, failures: 0 });
        if now >= w.started + self.window {
            *w = Window { started: now, failures: 0 };
        }
        w.failures = w.failures.saturating_add(1);
    }

    /// Drops windows that have ended; if none has, the oldest, which is nearest its end.
    fn make_room(&self, table: &mut HashMap<String, Window>, now: Instant) {
        table.retain(|_, w| now < w.started + self.window);
        if table.len() >= self.addresses_max
            && let Some(oldest) = table.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| k.clone())
        {
            table.remove(&oldest);
        }
    }

    /// Addresses remembered now.
    pub fn len(&self) -> usize {
        self.table.lock().expect("throttle table is never poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(t: &AuthThrottle, client: &str, now: Instant) -> bool {
        t.check_at(client, now).is_err()
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let t = AuthThrottle::new(3, Duration::from_secs(60), 100);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(!limited(&t, "a", start));
            t.failed_at("a", start);
        }
        assert!(limited(&t, "a", start + Duration::from_secs(59)));
        assert!(!limited(&t, "b", start), "another address is not touched");
        match t.check_at("a", start + Duration::from_secs(30)) {
            Err(AppError::RateLimited { retry_after }) => assert_eq!(retry_after, 30),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        assert!(!limited(&t, "a", start + Duration::from_secs(60)), "the window ended");
        t.failed_at("a", start + Duration::from_secs(61));
        assert!(!limited(&t, "a", start + Duration::from_secs(61)), "a new window counts from one");
    }

    #[test]
    fn the_table_never_holds_more_than_its_bound() {
        let t = AuthThrottle::new(3, Duration::from_secs(60), 50);
        let start = Instant::now();
        for i in 0..500u64 {
            t.failed_at(&format!("10.0.{}.{}", i / 256, i % 256), start + Duration::from_millis(i));
        }
        assert_eq!(t.len(), 50);
        // A throttled address survives a flood of others only as long as it is not the oldest;
        // the bound wins over memory, by design.
        for _ in 0..3 {
            t.failed_at("x", start + Duration::from_secs(1));
        }
        assert!(limited(&t, "x", start + Duration::from_secs(1)));
        assert_eq!(t.len(), 50);
    }
}
