//! The SDP attributes an ALG acts on: direction, `a=rtcp` (RFC 3605), `a=rtcp-mux`
//! (RFC 5761) and `a=crypto` (RFC 4568), whose key material is never shown.

use std::fmt;

use super::connection::{parse_address, ConnectionAddress};
use crate::inspect::sip::error::SdpError;
use crate::inspect::sip::host::port;

/// Media direction (RFC 4566 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    #[default]
    SendRecv,
    /// `a=sendonly` (hold, announced by the holder).
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The direction named by a property attribute, if it is one.
    pub(crate) fn from_attribute(name: &[u8]) -> Option<Direction> {
        match name {
            b"sendrecv" => Some(Direction::SendRecv),
            b"sendonly" => Some(Direction::SendOnly),
            b"recvonly" => Some(Direction::RecvOnly),
            b"inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// `a=rtcp:<port> [IN IP4|IP6 <address>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtcpAttr<'a> {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when given.
    pub address: Option<ConnectionAddress<'a>>,
}

/// Parse the value of `a=rtcp:`.
pub(crate) fn parse_rtcp(value: &[u8]) -> Result<RtcpAttr<'_>, SdpError> {
    let mut fields = value.split(|b| *b == b' ').filter(|f| !f.is_empty());
    let port_text = fields.next().ok_or(SdpError::BadRtcp)?;
    let p = match port(port_text) {
        Ok((b"", p)) => p,
        _ => return Err(SdpError::BadRtcp),
    };
    let address = match (fields.next(), fields.next(), fields.next(), fields.next()) {
        (None, ..) => None,
        (Some(net), Some(addr_type), Some(addr), None) => {
            Some(parse_address(net, addr_type, addr).map_err(|_| SdpError::BadRtcp)?)
        }
        _ => return Err(SdpError::BadRtcp),
    };
    Ok(RtcpAttr { port: p, address })
}

/// An `a=crypto` line. Only the tag and suite are readable; the key parameters stay
/// inside and no formatting ever shows them (requirement 19: never log secrets).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CryptoAttr<'a> {
    /// The tag, when numeric.
    pub tag: Option<u32>,
    /// The crypto-suite name.
    pub suite: &'a [u8],
    key_params: &'a [u8],
}

impl<'a> CryptoAttr<'a> {
    /// The key parameters (inline keys). Handle as a secret: never log or print them.
    pub fn expose_key_params(&self) -> &'a [u8] {
        self.key_params
    }
}

impl fmt::Debug for CryptoAttr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a=crypto:<redacted>")
    }
}

/// Parse the value of `a=crypto:`; a line we cannot split is still recognised (and
/// still redacted), with an empty suite.
pub(crate) fn parse_crypto(value: &[u8]) -> CryptoAttr<'_> {
    let mut fields = value.splitn(3, |b| *b == b' ');
    let tag = fields
        .next()
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok());
    let suite = fields.next().unwrap_or_default();
    let key_params = fields.next().unwrap_or_default();
    CryptoAttr {
        tag,
        suite,
        key_params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn rtcp_forms() {
        assert_eq!(
            parse_rtcp(b"53020").unwrap(),
            RtcpAttr {
                port: 53020,
                address: None
            }
        );
        let r = parse_rtcp(b"53020 IN IP4 126.16.64.4").unwrap();
        assert_eq!(
            r.address,
            Some(ConnectionAddress::Ip(IpAddr::V4(Ipv4Addr::new(
                126, 16, 64, 4
            ))))
        );
        assert!(parse_rtcp(b"x").is_err());
        assert!(parse_rtcp(b"70000").is_err());
        assert!(parse_rtcp(b"5000 IN IP4").is_err());
    }

    #[test]
    fn crypto_is_redacted() {
        let c = parse_crypto(
            b"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
        );
        assert_eq!(c.tag, Some(1));
        assert_eq!(c.suite, b"AES_CM_128_HMAC_SHA1_80");
        let shown = format!("{c:?}");
        assert_eq!(shown, "a=crypto:<redacted>");
        assert!(!shown.contains("PS1uQCVee"));
    }
}
