//! `c=` connection addresses: IPv4, IPv6, host names (tolerated, never resolved, never
//! a pinhole) and the unspecified address of RFC 2543 hold (`0.0.0.0`).

use std::fmt;
use std::net::IpAddr;

use crate::inspect::sip::error::SdpError;
use crate::inspect::sip::host::{parse_ipv4, parse_ipv6};

/// Where a media stream is to be sent.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionAddress<'a> {
    /// A unicast or multicast address literal.
    Ip(IpAddr),
    /// `0.0.0.0` or `::`: hold (RFC 2543 style); nothing to open toward.
    Unspecified,
    /// A host name; the ALG does not resolve names, so it opens nothing toward it.
    Name(&'a [u8]),
}

impl ConnectionAddress<'_> {
    /// The address a pinhole can be opened toward, if any.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            ConnectionAddress::Ip(a) => Some(*a),
            ConnectionAddress::Unspecified | ConnectionAddress::Name(_) => None,
        }
    }
}

impl fmt::Debug for ConnectionAddress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionAddress::Ip(a) => write!(f, "{a}"),
            ConnectionAddress::Unspecified => f.write_str("unspecified"),
            ConnectionAddress::Name(n) => write!(f, "{}", String::from_utf8_lossy(n)),
        }
    }
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// `<nettype> <addrtype> <address>` (the c= value, or the tail of a=rtcp).
pub(crate) fn parse_address<'a>(
    net: &[u8],
    addr_type: &[u8],
    addr: &'a [u8],
) -> Result<ConnectionAddress<'a>, SdpError> {
    if net != b"IN" {
        return Err(SdpError::BadConnection);
    }
    // Multicast suffixes: IPv4 `/ttl[/count]`, IPv6 `/count`.
    let base = addr.split(|b| *b == b'/').next().unwrap_or_default();
    let suffix_ok = addr
        .get(base.len()..)
        .unwrap_or_default()
        .iter()
        .all(|b| b.is_ascii_digit() || *b == b'/');
    if !suffix_ok || base.is_empty() {
        return Err(SdpError::BadConnection);
    }
    let ip = match addr_type {
        b"IP4" => parse_ipv4(base).map(IpAddr::V4),
        b"IP6" => parse_ipv6(base).map(IpAddr::V6),
        _ => return Err(SdpError::BadConnection),
    };
    match ip {
        Some(a) if a.is_unspecified() => Ok(ConnectionAddress::Unspecified),
        Some(a) => Ok(ConnectionAddress::Ip(a)),
        None => {
            let is_name = base.iter().all(|b| is_name_char(*b))
                && base.iter().any(|b| b.is_ascii_alphabetic())
                && !base.starts_with(b".")
                && !base.starts_with(b"-");
            if is_name {
                Ok(ConnectionAddress::Name(base))
            } else {
                Err(SdpError::BadConnection)
            }
        }
    }
}

/// Parse a `c=` value.
pub(crate) fn parse_connection(value: &[u8]) -> Result<ConnectionAddress<'_>, SdpError> {
    let mut fields = value.split(|b| *b == b' ');
    match (fields.next(), fields.next(), fields.next(), fields.next()) {
        (Some(net), Some(addr_type), Some(addr), None) => parse_address(net, addr_type, addr),
        _ => Err(SdpError::BadConnection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse_connection(b"IN IP4 192.0.2.4").unwrap().ip(),
            Some("192.0.2.4".parse().unwrap())
        );
        assert_eq!(
            parse_connection(b"IN IP4 224.2.1.1/127/3").unwrap().ip(),
            Some("224.2.1.1".parse().unwrap())
        );
        assert_eq!(
            parse_connection(b"IN IP6 2001:db8::1").unwrap().ip(),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_connection(b"IN IP4 0.0.0.0").unwrap(),
            ConnectionAddress::Unspecified
        );
        assert_eq!(
            parse_connection(b"IN IP4 media.example.com").unwrap(),
            ConnectionAddress::Name(b"media.example.com")
        );
        assert!(parse_connection(b"IN IP4 192&168%s").is_err());
        assert!(parse_connection(b"IN IP4 2001:db8::1").is_err());
        assert!(parse_connection(b"IN IP4 999.1.1.1").is_err());
        assert!(parse_connection(b"IN IP4  192.0.2.4").is_err());
        assert!(parse_connection(b"ATM NSAP x").is_err());
    }
}
