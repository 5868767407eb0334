//! The SDP attributes an ALG acts on: direction, `a=rtcp` (RFC 3605) and `a=rtcp-mux`
//! (RFC 5761).

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
}
