//! IP prefixes (networks) and their parsing.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network (address and prefix length), IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The network address (host bits are cleared by [`Prefix::new`]).
    pub addr: IpAddr,
    /// The prefix length in bits.
    pub len: u8,
}

/// Why a prefix string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("not an IP address")]
    BadAddress,
    /// The length is not a number or is too long for the address family.
    #[error("prefix length out of range")]
    BadLength,
}

impl Prefix {
    /// The prefix `addr/len`, host bits cleared; `None` when `len` is too long.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return None;
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(len)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(len)).into()),
        };
        Some(Prefix { addr, len })
    }

    /// A host prefix (/32 or /128).
    pub fn host(addr: IpAddr) -> Prefix {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        Prefix { addr, len }
    }

    /// Whether `ip` lies inside this prefix (an IPv4 address never matches an IPv6 prefix).
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let m = mask32(self.len);
                (u32::from(net) & m) == (u32::from(ip) & m)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let m = mask128(self.len);
                (u128::from(net) & m) == (u128::from(ip) & m)
            }
            _ => false,
        }
    }
}

fn mask32(len: u8) -> u32 {
    let len = u32::from(len.min(32));
    u32::MAX.checked_shl(32 - len).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    let len = u32::from(len.min(128));
    u128::MAX.checked_shl(128 - len).unwrap_or(0)
}

impl FromStr for Prefix {
    type Err = PrefixError;

    /// `a.b.c.d/len`, `x::y/len`, or a bare address (a host prefix).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| PrefixError::BadAddress)?;
        let len = match len {
            Some(l) => l.trim().parse::<u8>().map_err(|_| PrefixError::BadLength)?,
            None => Prefix::host(addr).len,
        };
        Prefix::new(addr, len).ok_or(PrefixError::BadLength)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p: Prefix = "10.1.0.0/16".parse().unwrap();
        assert!(p.contains("10.1.200.3".parse().unwrap()));
        assert!(!p.contains("10.2.0.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let any: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("192.0.2.1".parse().unwrap()));
        let v6: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert_eq!(
            "10.1.2.3/8".parse::<Prefix>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!("10.1.2.3".parse::<Prefix>().unwrap().len, 32);
        assert_eq!("10.0.0.0/33".parse::<Prefix>(), Err(PrefixError::BadLength));
        assert_eq!("10.0.0/8".parse::<Prefix>(), Err(PrefixError::BadAddress));
    }
}
