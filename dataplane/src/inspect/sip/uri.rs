//! URIs: `sip:`/`sips:` URIs parsed into user, host, port, parameters and headers; any
//! other scheme (tel:, isbn:, http:, ...) kept opaque. Escapes are never decoded: the ALG
//! compares and forwards URIs, it does not interpret them (RFC 4475 esc01/esc02).

use super::host::{host, port, Host};
use super::lex::{eq_ic, iter_params};

/// A parsed URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    /// A `sip:` or `sips:` URI.
    Sip(SipUri<'a>),
    /// Any other scheme, kept as written.
    Other {
        /// The scheme, without the colon.
        scheme: &'a [u8],
        /// Everything after the colon.
        rest: &'a [u8],
    },
}

/// A `sip:` / `sips:` URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `sips:`.
    pub secure: bool,
    /// The userinfo before '@' (user and optional password), escapes intact.
    pub user: Option<&'a [u8]>,
    /// The host.
    pub host: Host<'a>,
    /// The port, when written.
    pub port: Option<u16>,
    /// The uri-parameters, starting with ';' (empty when none).
    pub params: &'a [u8],
    /// The headers after '?', when present.
    pub headers: Option<&'a [u8]>,
}

impl<'a> SipUri<'a> {
    /// The port to use: the written one, else the scheme's default (5061 for `sips:`,
    /// 5060 for `sip:`).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.secure { 5061 } else { 5060 })
    }

    /// The value of uri-parameter `name` (`Some(None)` for a flag such as `lr`).
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        iter_params(self.params)
            .find(|(n, _)| eq_ic(n, name))
            .map(|(_, v)| v)
    }
}

impl<'a> Uri<'a> {
    /// The SIP URI, when the scheme is sip or sips.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other { .. } => None,
        }
    }
}

/// Characters allowed in a URI (RFC 3261 / RFC 2396: unreserved, reserved, escapes and
/// the brackets of IPv6 references). Space, controls, non-ASCII and `"<>\^`{|}#` end or
/// break a URI.
pub(crate) fn is_uri_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
        && !matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'#'
        )
}

fn is_scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

fn is_param_char(b: u8) -> bool {
    // paramchar = param-unreserved / unreserved / escaped, plus the ';' and '=' that
    // structure the list.
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'[' | b']'
                | b'/'
                | b':'
                | b'&'
                | b'+'
                | b'$'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'%'
                | b';'
                | b'='
        )
}

fn is_header_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'[' | b']'
                | b'/'
                | b'?'
                | b':'
                | b'+'
                | b'$'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'%'
                | b'&'
                | b'='
        )
}

/// Parse `text` as exactly one URI (no surrounding white space).
pub fn parse_uri(text: &[u8]) -> Option<Uri<'_>> {
    if text.is_empty() || !text.iter().all(|b| is_uri_char(*b)) {
        return None;
    }
    let colon = text.iter().position(|b| *b == b':')?;
    let (scheme, rest) = text.split_at(colon);
    let rest = rest.get(1..)?;
    let first = scheme.first()?;
    if !first.is_ascii_alphabetic() || !scheme.iter().all(|b| is_scheme_char(*b)) {
        return None;
    }
    if eq_ic(scheme, b"sip") || eq_ic(scheme, b"sips") {
        parse_sip(eq_ic(scheme, b"sips"), rest).map(Uri::Sip)
    } else if rest.is_empty() {
        None
    } else {
        Some(Uri::Other { scheme, rest })
    }
}

fn parse_sip(secure: bool, text: &[u8]) -> Option<SipUri<'_>> {
    // Params and headers cannot contain '@', so the last '@' ends the userinfo even when
    // the user part holds ';', '?' or ',' (RFC 4475 semiuri, intmeth).
    let (user, hostpart) = match text.iter().rposition(|b| *b == b'@') {
        Some(at) => {
            let (u, h) = text.split_at(at);
            if u.is_empty() {
                return None;
            }
            (Some(u), h.get(1..)?)
        }
        None => (None, text),
    };
    let (rest, host) = host(hostpart).ok()?;
    let (rest, port) = match rest.strip_prefix(b":") {
        Some(r) => {
            let (r, p) = port(r).ok()?;
            (r, Some(p))
        }
        None => (rest, None),
    };
    let (params, headers) = match rest.iter().position(|b| *b == b'?') {
        Some(q) => {
            let (p, h) = rest.split_at(q);
            let h = h.get(1..)?;
            if h.is_empty() || !h.iter().all(|b| is_header_char(*b)) {
                return None;
            }
            (p, Some(h))
        }
        None => (rest, None),
    };
    if !params.is_empty() {
        if params.first() != Some(&b';') || !params.iter().all(|b| is_param_char(*b)) {
            return None;
        }
        // Every parameter has a non-empty name.
        if params
            .split(|b| *b == b';')
            .skip(1)
            .any(|p| p.is_empty() || p.first() == Some(&b'='))
        {
            return None;
        }
    }
    Some(SipUri {
        secure,
        user,
        host,
        port,
        params,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn port_defaults_by_scheme() {
        let port = |u: &[u8]| parse_uri(u).unwrap().as_sip().unwrap().port_or_default();
        assert_eq!(port(b"sip:a@192.0.2.1"), 5060);
        assert_eq!(port(b"sips:a@192.0.2.1"), 5061);
        assert_eq!(port(b"sips:a@192.0.2.1:5070"), 5070);
    }

    #[test]
    fn sip_uri_parts() {
        let u =
            parse_uri(b"sip:user;par=u%40example.net@example.com:5070;lr;transport=udp?Subject=x")
                .unwrap();
        let s = u.as_sip().unwrap();
        assert_eq!(s.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(s.host, Host::Name(b"example.com"));
        assert_eq!(s.port, Some(5070));
        assert_eq!(s.param(b"lr"), Some(None));
        assert_eq!(s.param(b"transport"), Some(Some(&b"udp"[..])));
        assert_eq!(s.headers, Some(&b"Subject=x"[..]));
    }

    #[test]
    fn other_schemes_are_opaque() {
        assert!(matches!(
            parse_uri(b"isbn:2983792873"),
            Some(Uri::Other { .. })
        ));
        assert!(matches!(
            parse_uri(b"soap.beep://192.0.2.103:3002"),
            Some(Uri::Other { .. })
        ));
        assert!(parse_uri(b"<sip:user@example.com>").is_none());
        assert!(parse_uri(b"sip:user@example.com; lr").is_none());
        assert!(parse_uri(b"1sip:x").is_none());
    }

    #[test]
    fn ip_host() {
        let u = parse_uri(b"sip:192.0.2.1").unwrap();
        assert_eq!(
            u.as_sip().unwrap().host,
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!(parse_uri(b"sip:@example.com").is_none());
        assert!(parse_uri(b"sip:example.com;;").is_none());
    }
}
