//! Lexical building blocks of RFC 3261 §25 as `nom` parsers over bytes: linear white
//! space (folded lines included), tokens, quoted strings, separators and generic
//! parameters. Header values handed to these parsers still contain their folds
//! (`CRLF` followed by `SP`/`HTAB`); the header scanner guarantees that a CR or LF inside
//! a value is always such a fold, so treating CR and LF as white space here is exact.

use nom::bytes::complete::{take_while, take_while1};
use nom::error::{Error, ErrorKind};
use nom::IResult;

/// Result of a byte parser.
pub(crate) type PResult<'a, T> = IResult<&'a [u8], T>;

/// A recoverable parse failure at `input`.
pub(crate) fn fail<T>(input: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Error(Error::new(input, ErrorKind::Verify)))
}

/// Linear white space, including folds.
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Zero or more LWS.
pub(crate) fn lws0(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while(is_lws)(i)
}

/// One or more LWS.
pub(crate) fn lws1(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(is_lws)(i)
}

/// A token.
pub(crate) fn token(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(is_token)(i)
}

/// `LWS* c LWS*`: the SEMI, COLON, EQUAL, SLASH separators of RFC 3261.
pub(crate) fn sep(c: u8) -> impl Fn(&[u8]) -> PResult<'_, ()> {
    move |i| {
        let (i, _) = lws0(i)?;
        match i.split_first() {
            Some((b, rest)) if *b == c => {
                let (rest, _) = lws0(rest)?;
                Ok((rest, ()))
            }
            _ => fail(i),
        }
    }
}

/// Exactly the byte `c`.
pub(crate) fn byte(c: u8) -> impl Fn(&[u8]) -> PResult<'_, ()> {
    move |i| match i.split_first() {
        Some((b, rest)) if *b == c => Ok((rest, ())),
        _ => fail(i),
    }
}

/// A quoted string; returns its content between the quotes, escapes left as they are.
/// Raw control characters (other than HTAB and folds) are refused, as is a string that
/// runs to the end of its header without a closing quote.
pub(crate) fn quoted_string(i: &[u8]) -> PResult<'_, &[u8]> {
    let (body, ()) = byte(b'"')(i)?;
    let mut idx = 0usize;
    loop {
        match body.get(idx).copied() {
            None => return fail(i),
            Some(b'"') => {
                let content = body.get(..idx).unwrap_or_default();
                let rest = body.get(idx + 1..).unwrap_or_default();
                return Ok((rest, content));
            }
            Some(b'\\') => match body.get(idx + 1).copied() {
                Some(c) if c <= 0x7f && c != b'\r' && c != b'\n' => idx += 2,
                _ => return fail(i),
            },
            Some(c) if c == b'\t' || c == b'\r' || c == b'\n' || (c >= 0x20 && c != 0x7f) => {
                idx += 1
            }
            Some(_) => return fail(i),
        }
    }
}

/// Bytes allowed in a generic parameter value besides token characters: the host forms
/// (`[v6]`, bare IPv6 in `received=`).
fn is_param_value(b: u8) -> bool {
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

/// `name [ = value ]` where value is a token, a host or a quoted string. Returns the
/// name and the value (quotes stripped).
pub(crate) fn generic_param(i: &[u8]) -> PResult<'_, (&[u8], Option<&[u8]>)> {
    let (i, name) = token(i)?;
    match sep(b'=')(i) {
        Ok((rest, ())) => {
            let (rest, value) = if rest.first() == Some(&b'"') {
                quoted_string(rest)?
            } else {
                take_while1(is_param_value)(rest)?
            };
            Ok((rest, (name, Some(value))))
        }
        Err(_) => Ok((i, (name, None))),
    }
}

/// `*( SEMI generic-param )`: returns the raw slice covering every parameter.
pub(crate) fn param_list(i: &[u8]) -> PResult<'_, &[u8]> {
    let start = i;
    let mut cur = i;
    loop {
        match sep(b';')(cur) {
            Ok((rest, ())) => {
                let (rest, _) = generic_param(rest)?;
                cur = rest;
            }
            Err(_) => {
                let used = start.len() - cur.len();
                return Ok((cur, start.get(..used).unwrap_or_default()));
            }
        }
    }
}

/// Strip LWS from both ends.
pub(crate) fn trim_lws(mut s: &[u8]) -> &[u8] {
    while let Some((first, rest)) = s.split_first() {
        if !is_lws(*first) {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !is_lws(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// A decimal integer of at most `max_digits` digits no greater than `max`; leading zeros
/// are allowed (RFC 4475 `wsinv`), overflow is an error, not a wrap.
pub(crate) fn bounded_decimal(max_digits: usize, max: u64) -> impl Fn(&[u8]) -> PResult<'_, u64> {
    move |i| {
        let (rest, digits) = take_while1(|b: u8| b.is_ascii_digit())(i)?;
        // Leading zeros do not count toward the digit bound.
        let significant = digits
            .iter()
            .position(|d| *d != b'0')
            .and_then(|p| digits.get(p..))
            .unwrap_or_default();
        if significant.len() > max_digits || digits.len() > 64 {
            return fail(i);
        }
        let mut value: u64 = 0;
        for d in significant {
            value = value * 10 + u64::from(d - b'0');
        }
        if value > max {
            return fail(i);
        }
        Ok((rest, value))
    }
}

/// Case-insensitive ASCII equality.
pub(crate) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Iterate a parameter list slice as produced by [`param_list`].
pub(crate) fn iter_params(raw: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    let mut cur = raw;
    std::iter::from_fn(move || {
        let (rest, ()) = sep(b';')(cur).ok()?;
        let (rest, param) = generic_param(rest).ok()?;
        cur = rest;
        Some(param)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_string_handles_escapes_and_folds() {
        let (rest, q) = quoted_string(b"\"a \\\" b\r\n c\" x").unwrap();
        assert_eq!(q, b"a \\\" b\r\n c");
        assert_eq!(rest, b" x");
    }

    #[test]
    fn quoted_string_unterminated_fails() {
        assert!(quoted_string(b"\"Mr. J. User <sip:j@example.com>").is_err());
    }

    #[test]
    fn quoted_string_refuses_raw_controls() {
        assert!(quoted_string(b"\"a\x00b\"").is_err());
        assert!(quoted_string(b"\"a\\\x00b\"").is_ok());
    }

    #[test]
    fn bounded_decimal_limits() {
        let p = bounded_decimal(10, u64::from(u32::MAX));
        assert_eq!(p(b"0009 x").unwrap().1, 9);
        assert_eq!(p(b"4294967295").unwrap().1, 4_294_967_295);
        assert!(p(b"4294967296").is_err());
        assert!(p(b"36893488147419103232").is_err());
        assert!(p(b"-1").is_err());
    }

    #[test]
    fn params_with_lws() {
        let raw = b" ;   tag    = 1918181833n ; x";
        let (rest, list) = param_list(raw).unwrap();
        assert!(rest.is_empty());
        let v: Vec<_> = iter_params(list).collect();
        assert_eq!(
            v,
            vec![(&b"tag"[..], Some(&b"1918181833n"[..])), (&b"x"[..], None)]
        );
    }

    #[test]
    fn empty_param_is_an_error() {
        assert!(param_list(b";;,").is_err());
        assert!(param_list(b";tag=x;").is_err());
    }
}
