//! Via header elements: `SIP / 2.0 / transport sent-by *(; via-param)`, with LWS allowed
//! around every separator (RFC 4475 wsinv). The typed parameters an ALG uses are
//! checked here: `received` must be an address, `rport` a port (or empty), `maddr` a host.

use std::net::IpAddr;

use nom::combinator::all_consuming;

use super::host::{host as parse_host, parse_ipv4, parse_ipv6, port as parse_port, Host};
use super::lex::{eq_ic, iter_params, lws0, lws1, param_list, sep, token, PResult};

/// One Via element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport token (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ... as written).
    pub transport: &'a [u8],
    /// The sent-by host.
    pub host: Host<'a>,
    /// The sent-by port, when written.
    pub port: Option<u16>,
    /// The `branch` parameter.
    pub branch: Option<&'a [u8]>,
    /// The `received` parameter.
    pub received: Option<IpAddr>,
    /// The `rport` parameter: `Some(None)` when present without a value.
    pub rport: Option<Option<u16>>,
    /// The `maddr` parameter.
    pub maddr: Option<Host<'a>>,
    /// All parameters, starting with ';'.
    pub params: &'a [u8],
}

fn sent_protocol(i: &[u8]) -> PResult<'_, (&[u8], &[u8], &[u8])> {
    let (i, name) = token(i)?;
    let (i, ()) = sep(b'/')(i)?;
    let (i, version) = token(i)?;
    let (i, ()) = sep(b'/')(i)?;
    let (i, transport) = token(i)?;
    Ok((i, (name, version, transport)))
}

/// transport, host, port, parameters.
type ViaParts<'a> = (&'a [u8], Host<'a>, Option<u16>, &'a [u8]);

fn via_element(i: &[u8]) -> PResult<'_, ViaParts<'_>> {
    let (i, (name, version, transport)) = sent_protocol(i)?;
    if !eq_ic(name, b"SIP") || version != b"2.0" {
        return super::lex::fail(i);
    }
    let (i, _) = lws1(i)?;
    let (i, h) = parse_host(i)?;
    let (i, p) = match sep(b':')(i) {
        Ok((rest, ())) => {
            let (rest, p) = parse_port(rest)?;
            (rest, Some(p))
        }
        Err(_) => (i, None),
    };
    let (i, params) = param_list(i)?;
    let (i, _) = lws0(i)?;
    Ok((i, (transport, h, p, params)))
}

fn parse_ip(v: &[u8]) -> Option<IpAddr> {
    parse_ipv4(v).map(IpAddr::V4).or_else(|| {
        parse_ipv6(
            v.strip_prefix(b"[")
                .and_then(|x| x.strip_suffix(b"]"))
                .unwrap_or(v),
        )
        .map(IpAddr::V6)
    })
}

/// Parse one Via element (already split from its list and trimmed).
pub fn parse_via(text: &[u8]) -> Option<Via<'_>> {
    let (_, (transport, host, port, params)) = all_consuming(via_element)(text).ok()?;
    let mut via = Via {
        transport,
        host,
        port,
        branch: None,
        received: None,
        rport: None,
        maddr: None,
        params,
    };
    for (name, value) in iter_params(params) {
        if eq_ic(name, b"branch") {
            via.branch = Some(value?);
        } else if eq_ic(name, b"received") {
            via.received = Some(parse_ip(value?)?);
        } else if eq_ic(name, b"rport") {
            via.rport = Some(match value {
                Some(v) => Some(all_consuming(parse_port)(v).ok()?.1),
                None => None,
            });
        } else if eq_ic(name, b"maddr") {
            via.maddr = Some(all_consuming(parse_host)(value?).ok()?.1);
        }
    }
    Some(via)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn tortuous_via() {
        let v = parse_via(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.host, Host::Ipv4(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(v.branch, Some(&b"390skdjuw"[..]));
        let v = parse_via(
            b"SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8",
        )
        .unwrap();
        assert_eq!(v.branch, Some(&b"z9hG4bK9ikj8"[..]));
    }

    #[test]
    fn typed_params() {
        let v = parse_via(
            b"SIP/2.0/UDP 10.0.0.1:5062;rport;received=192.0.2.9;maddr=239.1.1.1;branch=z9hG4bK1",
        )
        .unwrap();
        assert_eq!(v.port, Some(5062));
        assert_eq!(v.rport, Some(None));
        assert_eq!(v.received, Some("192.0.2.9".parse().unwrap()));
        assert_eq!(v.maddr, Some(Host::Ipv4(Ipv4Addr::new(239, 1, 1, 1))));
        let v =
            parse_via(b"SIP/2.0/TCP [2001:db8::1]:5060;rport=5070;received=2001:db8::2").unwrap();
        assert_eq!(v.rport, Some(Some(5070)));
        assert!(v.received.is_some());
    }

    #[test]
    fn refusals() {
        assert!(parse_via(b"SIP/2.0/UDP 192.0.2.15;;,;,,").is_none());
        assert!(parse_via(b"SIP/2.0/UDP 192.0.2.15;received=example.com").is_none());
        assert!(parse_via(b"SIP/7.0/UDP c.example.com").is_none());
        assert!(parse_via(b"SIP/2.0/UDP").is_none());
        assert!(parse_via(b"SIP/2.0/UDP h;rport=70000").is_none());
    }
}
