//! Failed authentication, counted per client address (and, for sign-in by password, per
//! account as well, `account`): after `FAILURES_MAX` wrong bearer
//! tokens or sign-ins within `WINDOW`, that address is answered 429 `rate_limited` with
//! `Retry-After` until the window ends, whatever token it sends. In memory only: a restart
//! forgets, which costs an attacker nothing they could not get by waiting.
//!
//! The address is the TCP peer (axum's `ConnectInfo`). Behind the TLS proxy the README
//! recommends, every peer is the proxy; so when the peer is one of the configured trusted
//! proxies (`serve --trusted-proxy`), the client is read from `X-Forwarded-For`: the
//! right-most address there that is not itself a trusted proxy, which is the one the nearest
//! trusted proxy saw. Addresses left of it are the client's own writing and never read.
//! Without trusted proxies the header is ignored. Without a peer (tests drive the router
//! directly) every request counts as "local".

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
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
    trusted: TrustedProxies,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(FAILURES_MAX, WINDOW, ADDRESSES_MAX)
    }
}

/// An address or a CIDR range of them (`10.0.0.0/8`, `2001:db8::/32`): a trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let net: IpAddr =
            addr.parse().map_err(|_| format!("{text:?} is not an IP address or a CIDR range such as 10.0.0.0/8"))?;
        let net = net.to_canonical();
        let bits = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be a number from 0 to {bits}"))?,
        };
        Ok(IpRange { net, prefix })
    }
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip) = match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(n.to_bits()) << 96, u128::from(i.to_bits()) << 96),
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits()),
            _ => return false,
        };
        // Both as the top bits of 128, so the prefix counts from the left for either family.
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        net & mask == ip & mask
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty, no one's.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    pub fn new(ranges: Vec<IpRange>) -> TrustedProxies {
        TrustedProxies(ranges)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then, walking
    /// `X-Forwarded-For` from the right, the first address that is not trusted. An entry
    /// that is not an address stops the walk at the last trusted hop, so text a client wrote
    /// can never choose its key.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        let mut hops = forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')).map(str::trim);
        while self.trusts(client) {
            let Some(hop) = hops.next() else { break };
            match parse_hop(hop) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip())).map(|ip| ip.to_canonical())
}

/// The key one account's failed sign-ins are counted under, beside the addresses': the
/// username case-folded, whether or not such a user exists, so a refusal says nothing of it.
pub fn account(username: &str) -> String {
    format!("account:{}", crate::model::users::fold(username))
}

/// The client address as an extractor, for handlers that authenticate themselves (sign-in).
pub struct Client(pub String);

impl axum::extract::FromRequestParts<super::AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &super::AppState) -> Result<Self, Self::Rejection> {
        Ok(Client(state.throttle.client(parts)))
    }
}

impl AuthThrottle {
    pub fn new(failures_max: u32, window: Duration, addresses_max: usize) -> AuthThrottle {
        AuthThrottle {
            failures_max,
            window,
            addresses_max,
            table: Mutex::new(HashMap::new()),
            trusted: TrustedProxies::default(),
        }
    }

    /// The same throttle, reading the client from `X-Forwarded-For` behind these proxies.
    pub fn behind(self, trusted: TrustedProxies) -> AuthThrottle {
        AuthThrottle { trusted, ..self }
    }

    /// The address a request is counted under: the client's IP (not its port, which changes
    /// with every connection), or `LOCAL` without a peer.
    pub fn client(&self, parts: &Parts) -> String {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return LOCAL.into();
        };
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        self.trusted.client(peer.ip(), &forwarded).to_string()
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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_right_most_untrusted_forwarded_address() {
        let ranges = ["10.0.0.0/8", "192.0.2.7", "fd00::/8"].map(|r| r.parse::<IpRange>().unwrap());
        let t = TrustedProxies::new(ranges.to_vec());
        // From a trusted proxy: the address it saw.
        assert_eq!(t.client(ip("10.1.2.3"), &["203.0.113.5"]), ip("203.0.113.5"));
        // What a client wrote left of that is never read.
        assert_eq!(t.client(ip("10.1.2.3"), &["198.51.100.9, 203.0.113.5"]), ip("203.0.113.5"));
        // Through two trusted proxies, in one header or in two.
        assert_eq!(t.client(ip("10.1.2.3"), &["203.0.113.5, 192.0.2.7"]), ip("203.0.113.5"));
        assert_eq!(t.client(ip("10.1.2.3"), &["198.51.100.9, 203.0.113.5", "192.0.2.7"]), ip("203.0.113.5"));
        // A peer that is not trusted is the client, whatever it writes.
        assert_eq!(t.client(ip("203.0.113.5"), &["198.51.100.9"]), ip("203.0.113.5"));
        // No header, or text that is not an address: the last trusted hop.
        assert_eq!(t.client(ip("10.1.2.3"), &[]), ip("10.1.2.3"));
        assert_eq!(t.client(ip("10.1.2.3"), &["unknown"]), ip("10.1.2.3"));
        assert_eq!(t.client(ip("10.1.2.3"), &["198.51.100.9, nonsense, 192.0.2.7"]), ip("192.0.2.7"));
        // Every hop trusted: the left-most.
        assert_eq!(t.client(ip("10.1.2.3"), &["10.9.9.9"]), ip("10.9.9.9"));
        // Ports, IPv6, and an IPv4 peer seen by a dual-stack listener.
        assert_eq!(t.client(ip("::ffff:10.1.2.3"), &["[2001:db8::1]:4711"]), ip("2001:db8::1"));
        assert_eq!(t.client(ip("fd00::1"), &["203.0.113.5:4711"]), ip("203.0.113.5"));
        assert_eq!(t.client(ip("fd00::1"), &["::ffff:203.0.113.5"]), ip("203.0.113.5"));
        // Without trusted proxies the header is ignored.
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.1.2.3"), &["203.0.113.5"]), ip("10.1.2.3"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidr_ranges() {
        let r = |t: &str| t.parse::<IpRange>();
        assert!(r("10.0.0.0/8").unwrap().contains(ip("10.255.0.1")));
        assert!(!r("10.0.0.0/8").unwrap().contains(ip("11.0.0.1")));
        assert!(r("10.0.0.0/8").unwrap().contains(ip("::ffff:10.0.0.1")), "a mapped IPv4 address is IPv4");
        assert!(r("192.0.2.7").unwrap().contains(ip("192.0.2.7")));
        assert!(!r("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
        assert!(r("0.0.0.0/0").unwrap().contains(ip("203.0.113.5")));
        assert!(!r("0.0.0.0/0").unwrap().contains(ip("2001:db8::1")), "IPv4 ranges hold no IPv6 address");
        assert!(r("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::1")));
        assert!(!r("2001:db8::/32").unwrap().contains(ip("2001:db9::1")));
        assert!(r(" ::1 ").unwrap().contains(ip("::1")));
        for bad in ["", "nonsense", "10.0.0.1/33", "10.0.0.1/x", "::1/129", "10.0.0.0/8/8", "10.0.0"] {
            assert!(r(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
