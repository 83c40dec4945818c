//! The address people reach the ledger at, from configuration (`serve --public-url`,
//! `GRANT_LEDGER_PUBLIC_URL`), never from the request: a request's `Host` is whatever its
//! sender wrote. The pages refuse a form whose `Origin` names another origin, and mark the
//! session cookie `Secure` when this address is https.

use std::net::{IpAddr, SocketAddr};

/// The origins a form may be posted from (`scheme://host[:port]`, as browsers write
/// `Origin`), and whether the ledger is reached over https.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// The first is the one configured or derived; the rest are other spellings of a
    /// loopback address for a ledger reached on this machine.
    origins: Vec<String>,
    https: bool,
}

impl PublicUrl {
    /// Parses `--public-url`: `http://` or `https://`, a host, perhaps a port, and no path
    /// (the ledger is served at the root of its address).
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not a URL: write it as https://ledger.example.org"))?;
        let scheme = scheme.to_ascii_lowercase();
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(format!("{url:?} must start with https:// or http://")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "{url:?} must be a scheme and a host (and perhaps a port) with no path: the ledger is served at the root"
            ));
        }
        let authority = authority.to_ascii_lowercase();
        let (host, port) = split_port(&authority)?;
        let default_port = if https { 443 } else { 80 };
        // Browsers leave a scheme's default port out of `Origin`.
        let origin = match port {
            Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        };
        Ok(PublicUrl { origins: vec![origin], https })
    }

    /// The default: `http://` and the address the server listens on. A loopback or
    /// unspecified address is also reached as `localhost` and `127.0.0.1` (and `[::1]`) on
    /// the same port, from this machine only, so those spellings are accepted too.
    pub fn for_listener(addr: SocketAddr) -> PublicUrl {
        let port = addr.port();
        let main = format!("http://{addr}");
        let mut origins = vec![main];
        if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            for host in ["127.0.0.1", "localhost", "[::1]"] {
                let o = format!("http://{host}:{port}");
                if !origins.contains(&o) {
                    origins.push(o);
                }
            }
        }
        PublicUrl { origins, https: false }
    }

    /// True when `origin` (an `Origin` header's value) is this ledger's.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin.trim()))
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The origin as configured or derived, for messages.
    pub fn origin(&self) -> &str {
        &self.origins[0]
    }
}

/// `host[:port]`, the host a name, an IPv4 address or a bracketed IPv6 address.
fn split_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = || format!("{authority:?} has a port that is not a number from 1 to 65535");
    if let Some(rest) = authority.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(|| format!("{authority:?}: an IPv6 address needs its ]"))?;
        ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("{authority:?}: {ip:?} is not an IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad_port)?),
            None if after.is_empty() => None,
            None => return Err(bad_port()),
        };
        return Ok((format!("[{ip}]"), port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad_port)?)),
        None => (authority, None),
    };
    let name_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with(['-', '.']);
    if !name_ok && host.parse::<IpAddr>().is_err() {
        return Err(format!("{authority:?}: {host:?} is not a host name"));
    }
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_url_is_one_origin_written_as_browsers_write_it() {
        let u = PublicUrl::parse("https://Ledger.Example.org/").unwrap();
        assert!(u.is_https());
        assert_eq!(u.origin(), "https://ledger.example.org");
        assert!(u.allows("https://ledger.example.org"));
        assert!(!u.allows("http://ledger.example.org"), "another scheme is another origin");
        assert!(!u.allows("https://ledger.example.org.evil.example"));
        assert!(!u.allows("null"));
        assert_eq!(PublicUrl::parse("https://l.example:443").unwrap().origin(), "https://l.example");
        assert_eq!(PublicUrl::parse("http://l.example:80").unwrap().origin(), "http://l.example");
        assert_eq!(PublicUrl::parse("http://l.example:8443").unwrap().origin(), "http://l.example:8443");
        assert_eq!(PublicUrl::parse("http://[::1]:8080").unwrap().origin(), "http://[::1]:8080");
        assert!(!PublicUrl::parse("http://l.example").unwrap().is_https());
    }

    #[test]
    fn a_url_that_is_not_an_origin_is_refused() {
        for bad in [
            "ledger.example.org",
            "ftp://ledger.example.org",
            "https://",
            "https://ledger.example.org/ledger",
            "https://ledger.example.org?x=1",
            "https://user@ledger.example.org",
            "https://ledger.example.org:0",
            "https://ledger.example.org:99999",
            "https://ledger.example.org:http",
            "https://[::1",
            "https://le dger.example.org",
            "https://-x.example",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_default_is_the_listener_with_its_loopback_spellings() {
        let u = PublicUrl::for_listener("127.0.0.1:8080".parse().unwrap());
        assert_eq!(u.origin(), "http://127.0.0.1:8080");
        for ok in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"] {
            assert!(u.allows(ok), "{ok}");
        }
        for refused in ["http://127.0.0.1:8081", "https://127.0.0.1:8080", "http://evil.example", "null"] {
            assert!(!u.allows(refused), "{refused}");
        }
        let lan = PublicUrl::for_listener("192.0.2.10:8080".parse().unwrap());
        assert!(lan.allows("http://192.0.2.10:8080"));
        assert!(!lan.allows("http://localhost:8080"), "only a loopback listener is reached as localhost");
    }
}
