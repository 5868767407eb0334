//! Single-token header values: CSeq, Max-Forwards, Expires, Call-ID. Integers are
//! bounded (CSeq and Expires to u32, Max-Forwards to 255); overflow is an error, never a
//! wrap or a truncation (RFC 4475 scalar02, scalarlg).

use nom::combinator::all_consuming;

use super::lex::{bounded_decimal, lws1, token};
use super::method::Method;
use super::nameaddr::parse_delta_seconds;

/// A CSeq value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number.
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

/// Parse a CSeq value (`1*DIGIT LWS Method`).
pub fn parse_cseq(v: &[u8]) -> Option<CSeq<'_>> {
    let (_, (seq, method)) = all_consuming(|i| {
        let (i, seq) = bounded_decimal(10, u64::from(u32::MAX))(i)?;
        let (i, _) = lws1(i)?;
        let (i, method) = token(i)?;
        Ok((i, (seq, method)))
    })(v)
    .ok()?;
    Some(CSeq {
        seq: u32::try_from(seq).ok()?,
        method: Method::from_token(method),
    })
}

/// Parse a Max-Forwards value (0..=255).
pub fn parse_max_forwards(v: &[u8]) -> Option<u8> {
    all_consuming(bounded_decimal(3, 255))(v)
        .ok()
        .and_then(|(_, n)| u8::try_from(n).ok())
}

/// Parse an Expires header value (delta-seconds within u32).
pub fn parse_expires(v: &[u8]) -> Option<u32> {
    parse_delta_seconds(v)
}

/// Call-ID `word [ "@" word ]` characters.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'!'
                | b'%'
                | b'*'
                | b'_'
                | b'+'
                | b'`'
                | b'\''
                | b'~'
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// Check a Call-ID value: `word [ "@" word ]`.
pub fn valid_call_id(v: &[u8]) -> bool {
    let mut parts = v.split(|b| *b == b'@');
    let ok_word = |w: &[u8]| !w.is_empty() && w.iter().all(|b| is_word(*b));
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => ok_word(a),
        (Some(a), Some(b), None) => ok_word(a) && ok_word(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        assert_eq!(
            parse_cseq(b"0009\r\n  INVITE"),
            Some(CSeq {
                seq: 9,
                method: Method::Invite
            })
        );
        assert!(parse_cseq(b"36893488147419103232 REGISTER").is_none());
        assert!(parse_cseq(b"1INVITE").is_none());
        assert!(parse_cseq(b"1 INVITE x").is_none());
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_max_forwards(b"0068"), Some(68));
        assert!(parse_max_forwards(b"300").is_none());
        assert!(parse_expires(b"10000000000000000000000").is_none());
        assert_eq!(parse_expires(b"3600"), Some(3600));
    }

    #[test]
    fn call_ids() {
        assert!(valid_call_id(
            b"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
        ));
        assert!(!valid_call_id(b"a b"));
        assert!(!valid_call_id(b"a@b@c"));
        assert!(!valid_call_id(b""));
    }
}
