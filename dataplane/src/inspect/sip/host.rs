//! Hosts and ports as they appear in SIP URIs, Via sent-by and parameters: IPv4 and
//! bracketed IPv6 literals, or host names (tolerated, never resolved).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::take_while1;

use super::lex::{fail, PResult};

/// A host: an address literal or an unresolved name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// An IPv6 literal (written `[...]` in SIP).
    Ipv6(Ipv6Addr),
    /// A host name; the ALG never resolves it.
    Name(&'a [u8]),
}

impl Host<'_> {
    /// The address, when the host is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
            Host::Name(n) => write!(f, "{}", String::from_utf8_lossy(n)),
        }
    }
}

fn is_hostname_char(b: u8) -> bool {
    // '_' is not in RFC 3261's hostname, but real deployments use it in names.
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// Parse an IPv6 literal's text (no brackets).
pub(crate) fn parse_ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Parse an IPv4 dotted quad.
pub(crate) fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Check a host name's shape: non-empty labels separated by single dots (one trailing
/// dot allowed), not starting with '-' or '.'. A name made only of digits and dots that
/// is not a valid IPv4 address is refused (RFC 3261: a top label starts with a letter).
fn valid_hostname(name: &[u8]) -> bool {
    let trimmed = name.strip_suffix(b".").unwrap_or(name);
    if trimmed.is_empty() {
        return false;
    }
    if trimmed.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return false;
    }
    trimmed
        .split(|b| *b == b'.')
        .all(|label| !label.is_empty() && label.first() != Some(&b'-'))
}

/// `host`: `[IPv6]`, IPv4 or a host name.
pub(crate) fn host(i: &[u8]) -> PResult<'_, Host<'_>> {
    if let Some(rest) = i.strip_prefix(b"[") {
        let end = match rest.iter().position(|b| *b == b']') {
            Some(e) => e,
            None => return fail(i),
        };
        let (text, after) = rest.split_at(end);
        let after = after.get(1..).unwrap_or_default();
        return match parse_ipv6(text) {
            Some(a) => Ok((after, Host::Ipv6(a))),
            None => fail(i),
        };
    }
    let (rest, text) = take_while1(is_hostname_char)(i)?;
    if let Some(a) = parse_ipv4(text) {
        return Ok((rest, Host::Ipv4(a)));
    }
    if valid_hostname(text) {
        Ok((rest, Host::Name(text)))
    } else {
        fail(i)
    }
}

/// A port: 1 to 5 digits, at most 65535.
pub(crate) fn port(i: &[u8]) -> PResult<'_, u16> {
    let (rest, digits) = take_while1(|b: u8| b.is_ascii_digit())(i)?;
    if digits.len() > 5 {
        return fail(i);
    }
    let value = digits
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    match u16::try_from(value) {
        Ok(p) => Ok((rest, p)),
        Err(_) => fail(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_names() {
        assert_eq!(
            host(b"192.0.2.1;x").unwrap(),
            (&b";x"[..], Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(host(b"[2001:db8::1]:5060").unwrap().0, b":5060");
        assert_eq!(
            host(b"chair-dnrc.example.com").unwrap().1,
            Host::Name(b"chair-dnrc.example.com")
        );
        assert!(host(b"999.1.1.1").is_err());
        assert!(host(b"[2001:db8::1").is_err());
        assert!(host(b"-bad.example.com").is_err());
        assert!(host(b"a..b").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(port(b"5060").unwrap().1, 5060);
        assert!(port(b"65536").is_err());
        assert!(port(b"000005060").is_err());
    }
}
