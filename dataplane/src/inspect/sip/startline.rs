//! Request and status lines, parsed strictly: exactly one SP between elements, no
//! trailing white space, SIP/2.0 only, a three-digit status code (RFC 4475 lwsstart,
//! lwsruri, trws, ltgtruri, escruri, badvers, bigcode are refused here).

use super::error::ParseError;
use super::lex::{eq_ic, is_token};
use super::method::Method;
use super::uri::{parse_uri, Uri};

/// A response status code (100..=699).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 1xx.
    pub fn is_provisional(self) -> bool {
        self.0 < 200
    }
    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
    /// 3xx to 6xx.
    pub fn is_failure(self) -> bool {
        self.0 >= 300
    }
}

/// The first line of a SIP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP/2.0`.
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI.
        uri: Uri<'a>,
    },
    /// `SIP/2.0 SP Status-Code SP Reason-Phrase`.
    Response {
        /// The status code.
        status: StatusCode,
        /// The reason phrase (possibly empty; may be UTF-8).
        reason: &'a [u8],
    },
}

const VERSION: &[u8] = b"SIP/2.0";

fn check_version(v: &[u8], otherwise: ParseError) -> Result<(), ParseError> {
    if eq_ic(v, VERSION) {
        Ok(())
    } else if v.len() > 4 && v.get(..4).is_some_and(|p| eq_ic(p, b"SIP/")) {
        Err(ParseError::BadVersion)
    } else {
        Err(otherwise)
    }
}

/// Parse a start line (without its line terminator).
pub(crate) fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
    if line.len() >= 4 && line.get(..4).is_some_and(|p| eq_ic(p, b"SIP/")) {
        parse_status_line(line)
    } else {
        parse_request_line(line)
    }
}

fn parse_request_line(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
    let mut parts = line.split(|b| *b == b' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadRequestLine);
    };
    if method.is_empty() || !method.iter().all(|b| is_token(*b)) {
        return Err(ParseError::BadRequestLine);
    }
    check_version(version, ParseError::BadRequestLine)?;
    let uri = parse_uri(uri).ok_or(ParseError::BadRequestUri)?;
    // RFC 3261 §19.1.5: headers are not allowed in a Request-URI (RFC 4475 escruri).
    if let Uri::Sip(sip) = &uri {
        if sip.headers.is_some() {
            return Err(ParseError::BadRequestUri);
        }
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri,
    })
}

fn parse_status_line(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
    let sp = line
        .iter()
        .position(|b| *b == b' ')
        .ok_or(ParseError::BadStatusLine)?;
    let (version, rest) = line.split_at(sp);
    check_version(version, ParseError::BadStatusLine)?;
    let rest = rest.get(1..).unwrap_or_default();
    let (code, reason) = match rest {
        [a, b, c, b' ', reason @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            (code, reason)
        }
        _ => return Err(ParseError::BadStatusLine),
    };
    if !(100..=699).contains(&code) {
        return Err(ParseError::BadStatusLine);
    }
    if !reason
        .iter()
        .all(|b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f))
    {
        return Err(ParseError::BadStatusLine);
    }
    Ok(StartLine::Response {
        status: StatusCode(code),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert!(matches!(
            parse_start_line(b"INVITE sip:u@example.com SIP/2.0"),
            Ok(StartLine::Request {
                method: Method::Invite,
                ..
            })
        ));
        assert_eq!(
            parse_start_line(b"INVITE  sip:u@example.com  SIP/2.0"),
            Err(ParseError::BadRequestLine)
        );
        assert_eq!(
            parse_start_line(b"INVITE sip:u@example.com SIP/2.0 "),
            Err(ParseError::BadRequestLine)
        );
        assert_eq!(
            parse_start_line(b"INVITE sip:u@example.com; lr SIP/2.0"),
            Err(ParseError::BadRequestLine)
        );
        assert_eq!(
            parse_start_line(b"INVITE <sip:u@example.com> SIP/2.0"),
            Err(ParseError::BadRequestUri)
        );
        assert_eq!(
            parse_start_line(b"INVITE sip:u@example.com?Route=x SIP/2.0"),
            Err(ParseError::BadRequestUri)
        );
        assert_eq!(
            parse_start_line(b"OPTIONS sip:u@example.com SIP/7.0"),
            Err(ParseError::BadVersion)
        );
        assert_eq!(
            parse_start_line(b"INVITE sip:alan@jasomi.com"),
            Err(ParseError::BadRequestLine)
        );
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_start_line(b"SIP/2.0 100 "),
            Ok(StartLine::Response {
                status: StatusCode(100),
                reason: b""
            })
        );
        assert_eq!(
            parse_start_line(b"SIP/2.0 4294967301 big"),
            Err(ParseError::BadStatusLine)
        );
        assert_eq!(
            parse_start_line(b"SIP/2.0 099 x"),
            Err(ParseError::BadStatusLine)
        );
        assert_eq!(
            parse_start_line(b"SIP/2.0 200"),
            Err(ParseError::BadStatusLine)
        );
        assert_eq!(
            parse_start_line(b"SIP/3.0 200 OK"),
            Err(ParseError::BadVersion)
        );
    }
}
