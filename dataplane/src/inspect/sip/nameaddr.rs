//! `name-addr` / `addr-spec` with header parameters: the grammar of From, To, Contact,
//! Route and Record-Route values. Strict: `< uri >` with white space inside the angle
//! brackets (RFC 4475 badaspec), unquoted display names with non-token characters
//! (baddn), unterminated quotes (quotbal), empty parameters (badinv01) and an unbracketed
//! URI with headers or parameters of its own (regbadct) are refused.

use std::fmt;

use nom::bytes::complete::take_while1;
use nom::combinator::all_consuming;

use super::lex::{
    bounded_decimal, eq_ic, fail, iter_params, lws0, param_list, quoted_string, token, PResult,
};
use super::uri::{is_uri_char, parse_uri, Uri};

/// An address with its header parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name (quotes stripped, escapes intact), when present.
    pub display_name: Option<&'a [u8]>,
    /// The URI.
    pub uri: Uri<'a>,
    /// The header parameters, starting with ';' (empty when none).
    pub params: &'a [u8],
}

impl<'a> NameAddr<'a> {
    /// The value of header parameter `name` (`Some(None)` for a flag).
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        iter_params(self.params)
            .find(|(n, _)| eq_ic(n, name))
            .map(|(_, v)| v)
    }

    /// The `tag` parameter (dialog identity).
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.param(b"tag").flatten()
    }
}

impl fmt::Debug for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameAddr")
            .field(
                "display_name",
                &self.display_name.map(String::from_utf8_lossy),
            )
            .field("uri", &self.uri)
            .field("params", &String::from_utf8_lossy(self.params))
            .finish()
    }
}

/// `*(token LWS)` before '<': the unquoted display-name.
fn token_display(i: &[u8]) -> PResult<'_, &[u8]> {
    let start = i;
    let (mut cur, _) = token(i)?;
    loop {
        let (after_ws, _) = lws0(cur)?;
        match token(after_ws) {
            Ok((rest, _)) => cur = rest,
            Err(_) => {
                let used = start.len() - cur.len();
                return Ok((after_ws, start.get(..used).unwrap_or_default()));
            }
        }
    }
}

/// `"<" addr-spec ">"` with nothing between the brackets and the URI.
fn angle_uri(i: &[u8]) -> PResult<'_, Uri<'_>> {
    let Some(inner) = i.strip_prefix(b"<") else {
        return fail(i);
    };
    let Some(end) = inner.iter().position(|b| *b == b'>') else {
        return fail(i);
    };
    let (text, rest) = inner.split_at(end);
    match parse_uri(text) {
        Some(uri) => Ok((rest.get(1..).unwrap_or_default(), uri)),
        None => fail(i),
    }
}

fn name_addr_or_spec(i: &[u8]) -> PResult<'_, (Option<&[u8]>, Uri<'_>)> {
    if i.first() == Some(&b'"') {
        let (rest, display) = quoted_string(i)?;
        let (rest, _) = lws0(rest)?;
        let (rest, uri) = angle_uri(rest)?;
        return Ok((rest, (Some(display), uri)));
    }
    if i.first() == Some(&b'<') {
        let (rest, uri) = angle_uri(i)?;
        return Ok((rest, (None, uri)));
    }
    if let Ok((rest, display)) = token_display(i) {
        if let Ok((rest, uri)) = angle_uri(rest) {
            return Ok((rest, (Some(display), uri)));
        }
    }
    // addr-spec: the URI runs to the first ';' or white space and may carry neither
    // parameters nor headers of its own (RFC 3261 §20: those need angle brackets).
    let (rest, text) = take_while1(|b: u8| is_uri_char(b) && b != b';' && b != b',')(i)?;
    match parse_uri(text) {
        Some(Uri::Sip(s)) if s.headers.is_some() || !s.params.is_empty() => fail(i),
        Some(uri) => Ok((rest, (None, uri))),
        None => fail(i),
    }
}

/// Parse one element (already split from its list and trimmed) as a name-addr or
/// addr-spec followed by header parameters.
pub fn parse_name_addr(text: &[u8]) -> Option<NameAddr<'_>> {
    let (_, ((display_name, uri), params)) = all_consuming(|i| {
        let (i, du) = name_addr_or_spec(i)?;
        let (i, params) = param_list(i)?;
        let (i, _) = lws0(i)?;
        Ok((i, (du, params)))
    })(text)
    .ok()?;
    Some(NameAddr {
        display_name,
        uri,
        params,
    })
}

/// A Contact header element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `*` (REGISTER: remove all bindings).
    Star,
    /// An address.
    Addr(NameAddr<'a>),
}

impl Contact<'_> {
    /// The `expires` contact parameter, when present (bounded to u32).
    pub fn expires(&self) -> Option<u32> {
        match self {
            Contact::Star => None,
            Contact::Addr(a) => a.param(b"expires").flatten().and_then(parse_delta_seconds),
        }
    }
}

/// delta-seconds bounded to u32 (larger values are errors, RFC 4475 scalar02).
pub(crate) fn parse_delta_seconds(v: &[u8]) -> Option<u32> {
    all_consuming(bounded_decimal(10, u64::from(u32::MAX)))(v)
        .ok()
        .and_then(|(_, n)| u32::try_from(n).ok())
}

/// Parse one Contact element; an `expires` parameter must be a bounded integer.
pub fn parse_contact(text: &[u8]) -> Option<Contact<'_>> {
    if text == b"*" {
        return Some(Contact::Star);
    }
    let addr = parse_name_addr(text)?;
    if let Some(v) = addr.param(b"expires") {
        parse_delta_seconds(v?)?;
    }
    Some(Contact::Addr(addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sip::host::Host;

    #[test]
    fn forms() {
        let a = parse_name_addr(
            b"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(a.tag(), Some(&b"98asjd8"[..]));
        assert_eq!(a.uri.as_sip().unwrap().host, Host::Name(b"example.com"));
        let a = parse_name_addr(b"caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name, Some(&b"caller"[..]));
        let a =
            parse_name_addr(b"sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(a.tag(), Some(&b"1918181833n"[..]));
        let a = parse_name_addr(b"sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert_eq!(a.param(b"unknownparam"), Some(None));
        assert!(parse_name_addr(b"isbn:2983792873").is_some());
        assert!(
            parse_name_addr(b"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>").is_some()
        );
    }

    #[test]
    fn strict_refusals() {
        assert!(parse_name_addr(b"\"Mr. J. User <sip:j.user@example.com>").is_none());
        assert!(parse_name_addr(b"\"Watson, Thomas\" < sip:t.watson@example.org >").is_none());
        assert!(parse_name_addr(b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_none());
        assert!(parse_name_addr(b"\"Joe\" <sip:joe@example.org>;;;;").is_none());
        assert!(parse_name_addr(b"sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_none());
        assert!(parse_name_addr(b"").is_none());
    }

    #[test]
    fn contact_expires() {
        let c = parse_contact(b"<sip:u@h>;expires=3600").unwrap();
        assert_eq!(c.expires(), Some(3600));
        assert!(
            parse_contact(b"<sip:user@host129.example.com>\r\n  ;expires=280297596632815")
                .is_none()
        );
        assert_eq!(parse_contact(b"*"), Some(Contact::Star));
    }
}
