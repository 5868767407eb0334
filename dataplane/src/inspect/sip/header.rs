//! Header names (long and compact forms, case-insensitive) and the splitting of a
//! header value into its comma-separated elements (commas inside quoted strings and
//! `<...>` do not split).

use super::lex::{eq_ic, trim_lws};

/// The header fields the inspector knows by name; the rest are [`HeaderName::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeaderName {
    /// Via (`v`).
    Via,
    /// From (`f`).
    From,
    /// To (`t`).
    To,
    /// Call-ID (`i`).
    CallId,
    /// CSeq.
    CSeq,
    /// Contact (`m`).
    Contact,
    /// Content-Length (`l`).
    ContentLength,
    /// Content-Type (`c`).
    ContentType,
    /// Content-Encoding (`e`).
    ContentEncoding,
    /// Expires.
    Expires,
    /// Record-Route.
    RecordRoute,
    /// Route.
    Route,
    /// Max-Forwards.
    MaxForwards,
    /// Subject (`s`).
    Subject,
    /// Supported (`k`).
    Supported,
    /// Event (`o`).
    Event,
    /// Allow-Events (`u`).
    AllowEvents,
    /// Refer-To (`r`).
    ReferTo,
    /// Referred-By (`b`).
    ReferredBy,
    /// Accept-Contact (`a`).
    AcceptContact,
    /// Reject-Contact (`j`).
    RejectContact,
    /// Request-Disposition (`d`).
    RequestDisposition,
    /// Session-Expires (`x`).
    SessionExpires,
    /// Identity (`y`).
    Identity,
    /// Identity-Info (`n`).
    IdentityInfo,
    /// Any other header.
    Other,
}

const NAMES: &[(HeaderName, &[u8], Option<u8>)] = &[
    (HeaderName::Via, b"Via", Some(b'v')),
    (HeaderName::From, b"From", Some(b'f')),
    (HeaderName::To, b"To", Some(b't')),
    (HeaderName::CallId, b"Call-ID", Some(b'i')),
    (HeaderName::CSeq, b"CSeq", None),
    (HeaderName::Contact, b"Contact", Some(b'm')),
    (HeaderName::ContentLength, b"Content-Length", Some(b'l')),
    (HeaderName::ContentType, b"Content-Type", Some(b'c')),
    (HeaderName::ContentEncoding, b"Content-Encoding", Some(b'e')),
    (HeaderName::Expires, b"Expires", None),
    (HeaderName::RecordRoute, b"Record-Route", None),
    (HeaderName::Route, b"Route", None),
    (HeaderName::MaxForwards, b"Max-Forwards", None),
    (HeaderName::Subject, b"Subject", Some(b's')),
    (HeaderName::Supported, b"Supported", Some(b'k')),
    (HeaderName::Event, b"Event", Some(b'o')),
    (HeaderName::AllowEvents, b"Allow-Events", Some(b'u')),
    (HeaderName::ReferTo, b"Refer-To", Some(b'r')),
    (HeaderName::ReferredBy, b"Referred-By", Some(b'b')),
    (HeaderName::AcceptContact, b"Accept-Contact", Some(b'a')),
    (HeaderName::RejectContact, b"Reject-Contact", Some(b'j')),
    (
        HeaderName::RequestDisposition,
        b"Request-Disposition",
        Some(b'd'),
    ),
    (HeaderName::SessionExpires, b"Session-Expires", Some(b'x')),
    (HeaderName::Identity, b"Identity", Some(b'y')),
    (HeaderName::IdentityInfo, b"Identity-Info", Some(b'n')),
];

impl HeaderName {
    /// The header named `name` (long or compact form, any case).
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        if let [single] = name {
            let lower = single.to_ascii_lowercase();
            return NAMES
                .iter()
                .find(|(_, _, compact)| *compact == Some(lower))
                .map_or(HeaderName::Other, |(h, _, _)| *h);
        }
        NAMES
            .iter()
            .find(|(_, long, _)| eq_ic(long, name))
            .map_or(HeaderName::Other, |(h, _, _)| *h)
    }

    /// The canonical long name (`"Other"` for unknown headers).
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(h, _, _)| *h == self)
            .and_then(|(_, long, _)| std::str::from_utf8(long).ok())
            .unwrap_or("Other")
    }
}

/// The comma-separated elements of a header value, LWS-trimmed. Empty elements are
/// yielded (so `a,,b` is visible to strict typed parsers); an unterminated quote or
/// angle bracket makes the rest of the value one element (and its typed parser fails).
pub fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let cur = rest?;
        let mut in_quote = false;
        let mut in_angle = false;
        let mut escaped = false;
        for (idx, b) in cur.iter().enumerate() {
            if in_quote {
                if escaped {
                    escaped = false;
                } else if *b == b'\\' {
                    escaped = true;
                } else if *b == b'"' {
                    in_quote = false;
                }
                continue;
            }
            match b {
                b'"' => in_quote = true,
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                b',' if !in_angle => {
                    let (item, after) = cur.split_at(idx);
                    rest = after.get(1..);
                    return Some(trim_lws(item));
                }
                _ => {}
            }
        }
        rest = None;
        Some(trim_lws(cur))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_long_forms() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"V"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"vIa"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"q"), HeaderName::Other);
        assert_eq!(HeaderName::Via.as_str(), "Via");
    }

    #[test]
    fn split_respects_quotes_and_angles() {
        let v: Vec<_> = split_list(b"\"a,b\" <sip:x@y;p=1,2>;q=1 , <sip:z>").collect();
        assert_eq!(
            v,
            vec![&b"\"a,b\" <sip:x@y;p=1,2>;q=1"[..], &b"<sip:z>"[..]]
        );
        let v: Vec<_> = split_list(b"a,,b").collect();
        assert_eq!(v, vec![&b"a"[..], &b""[..], &b"b"[..]]);
        let v: Vec<_> = split_list(b"\"\\\",\" x").collect();
        assert_eq!(v.len(), 1);
    }
}
