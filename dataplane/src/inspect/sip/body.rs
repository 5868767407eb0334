//! Content-Type values and locating the SDP in a body: `application/sdp` directly, or
//! the first `application/sdp` part of a `multipart/*` body (RFC 2046 boundaries,
//! binary parts allowed, nesting bounded). Any other type carries no SDP: the ALG never
//! sniffs bodies (RFC 4475 invut).

use std::fmt;

use nom::combinator::all_consuming;

use super::error::SdpError;
use super::head::split_header_line;
use super::lex::{eq_ic, iter_params, lws0, param_list, sep, token, trim_lws};
use super::limits::ParseLimits;

/// A Content-Type value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// The type (`application`).
    pub media_type: &'a [u8],
    /// The subtype (`sdp`).
    pub subtype: &'a [u8],
    /// The parameters, starting with ';'.
    pub params: &'a [u8],
}

impl fmt::Debug for ContentType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}{}",
            String::from_utf8_lossy(self.media_type),
            String::from_utf8_lossy(self.subtype),
            String::from_utf8_lossy(self.params)
        )
    }
}

impl<'a> ContentType<'a> {
    /// Whether this is `media_type/subtype` (case-insensitive).
    pub fn is(&self, media_type: &[u8], subtype: &[u8]) -> bool {
        eq_ic(self.media_type, media_type) && eq_ic(self.subtype, subtype)
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &[u8]) -> Option<&'a [u8]> {
        iter_params(self.params)
            .find(|(n, _)| eq_ic(n, name))
            .and_then(|(_, v)| v)
    }
}

/// Parse a Content-Type value.
pub fn parse_content_type(v: &[u8]) -> Option<ContentType<'_>> {
    let (_, (media_type, subtype, params)) = all_consuming(|i| {
        let (i, t) = token(i)?;
        let (i, ()) = sep(b'/')(i)?;
        let (i, s) = token(i)?;
        let (i, p) = param_list(i)?;
        let (i, _) = lws0(i)?;
        Ok((i, (t, s, p)))
    })(trim_lws(v))
    .ok()?;
    Some(ContentType {
        media_type,
        subtype,
        params,
    })
}

const MAX_MULTIPART_DEPTH: u8 = 2;

/// The SDP carried by `body` of type `content_type`, if any.
pub fn find_sdp<'a>(
    content_type: Option<ContentType<'a>>,
    body: &'a [u8],
    limits: &ParseLimits,
) -> Result<Option<&'a [u8]>, SdpError> {
    find_sdp_at(content_type, body, limits, 0)
}

fn find_sdp_at<'a>(
    content_type: Option<ContentType<'a>>,
    body: &'a [u8],
    limits: &ParseLimits,
    depth: u8,
) -> Result<Option<&'a [u8]>, SdpError> {
    let Some(ct) = content_type else {
        return Ok(None);
    };
    if body.is_empty() {
        return Ok(None);
    }
    if ct.is(b"application", b"sdp") {
        return Ok(Some(body));
    }
    if !eq_ic(ct.media_type, b"multipart") || depth >= MAX_MULTIPART_DEPTH {
        return Ok(None);
    }
    let boundary = ct.param(b"boundary").ok_or(SdpError::BadMultipart)?;
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(SdpError::BadMultipart);
    }
    let mut parts = 0usize;
    for part in Parts::new(body, boundary) {
        let part = part?;
        parts += 1;
        if parts > limits.max_multipart_parts {
            return Err(SdpError::BadMultipart);
        }
        let (part_type, part_body) = split_part(part)?;
        if let Some(sdp) = find_sdp_at(part_type, part_body, limits, depth + 1)? {
            return Ok(Some(sdp));
        }
    }
    Ok(None)
}

/// Split a MIME part into its Content-Type and its content.
fn split_part(part: &[u8]) -> Result<(Option<ContentType<'_>>, &[u8]), SdpError> {
    let mut pos = 0usize;
    let mut content_type = None;
    loop {
        let rest = part.get(pos..).unwrap_or_default();
        let Some(lf) = rest.iter().position(|b| *b == b'\n') else {
            return Err(SdpError::BadMultipart);
        };
        let raw = rest.get(..lf).unwrap_or_default();
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        pos += lf + 1;
        if line.is_empty() {
            return Ok((content_type, part.get(pos..).unwrap_or_default()));
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            continue;
        }
        let (name, value) = split_header_line(line).ok_or(SdpError::BadMultipart)?;
        if eq_ic(name, b"Content-Type") {
            content_type = Some(parse_content_type(value).ok_or(SdpError::BadMultipart)?);
        }
    }
}

/// Iterator over the parts of a multipart body.
struct Parts<'a> {
    body: &'a [u8],
    boundary: &'a [u8],
    /// Position just after the last delimiter's boundary; `None` when finished.
    pos: Option<usize>,
    started: bool,
}

impl<'a> Parts<'a> {
    fn new(body: &'a [u8], boundary: &'a [u8]) -> Self {
        Parts {
            body,
            boundary,
            pos: Some(0),
            started: false,
        }
    }

    /// Position of the next delimiter at or after `from`: (start of the line break
    /// before it, or of "--" at the very start; position after the boundary).
    fn find_delimiter(&self, from: usize) -> Option<(usize, usize)> {
        let mut i = from;
        while i < self.body.len() {
            let rest = self.body.get(i..)?;
            let dashes_at = if i == 0 && rest.starts_with(b"--") {
                Some((0, 2))
            } else if rest.starts_with(b"\r\n--") {
                Some((i, i + 4))
            } else if rest.starts_with(b"\n--") {
                Some((i, i + 3))
            } else {
                None
            };
            if let Some((start, after_dashes)) = dashes_at {
                if self
                    .body
                    .get(after_dashes..)
                    .is_some_and(|r| r.starts_with(self.boundary))
                {
                    return Some((start, after_dashes + self.boundary.len()));
                }
            }
            i += 1;
        }
        None
    }

    /// After a boundary: skip transport padding and the line break; `None` when this
    /// was the close delimiter.
    fn part_start(&self, after_boundary: usize) -> Result<Option<usize>, SdpError> {
        let rest = self.body.get(after_boundary..).unwrap_or_default();
        if rest.starts_with(b"--") {
            return Ok(None);
        }
        let pad = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t'))
            .unwrap_or(rest.len());
        let rest = rest.get(pad..).unwrap_or_default();
        if rest.starts_with(b"\r\n") {
            Ok(Some(after_boundary + pad + 2))
        } else if rest.starts_with(b"\n") {
            Ok(Some(after_boundary + pad + 1))
        } else {
            Err(SdpError::BadMultipart)
        }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = Result<&'a [u8], SdpError>;

    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.pos?;
        if !self.started {
            self.started = true;
            let Some((_, after)) = self.find_delimiter(pos) else {
                self.pos = None;
                return Some(Err(SdpError::BadMultipart));
            };
            self.pos = Some(after);
            return self.next();
        }
        let start = match self.part_start(pos) {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.pos = None;
                return None;
            }
            Err(e) => {
                self.pos = None;
                return Some(Err(e));
            }
        };
        match self.find_delimiter(start) {
            Some((end, after)) => {
                self.pos = Some(after);
                Some(Ok(self.body.get(start..end).unwrap_or_default()))
            }
            None => {
                self.pos = None;
                Some(Err(SdpError::BadMultipart))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(v: &[u8]) -> Option<ContentType<'_>> {
        parse_content_type(v)
    }

    #[test]
    fn content_types() {
        let c = ct(b"multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(c.is(b"Multipart", b"MIXED"));
        assert_eq!(c.param(b"boundary"), Some(&b"7a9cbec02ceef655"[..]));
        let c = ct(b"multipart/mixed ; boundary=\"a b\"").unwrap();
        assert_eq!(c.param(b"boundary"), Some(&b"a b"[..]));
        assert!(ct(b"application").is_none());
    }

    #[test]
    fn sdp_in_multipart() {
        let body = b"preamble\r\n--xx\r\nContent-Type: text/plain\r\n\r\nhi\r\n--xx\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--xx--\r\n";
        let sdp = find_sdp(
            ct(b"multipart/mixed;boundary=xx"),
            body,
            &ParseLimits::DEFAULT,
        )
        .unwrap();
        assert_eq!(sdp, Some(&b"v=0"[..]));
    }

    #[test]
    fn nested_and_binary_parts() {
        let body = b"--a\r\nContent-Type: application/octet-stream\r\n\r\n\x00\r\n--\r\n-\r\n--a\r\nContent-Type: multipart/alternative;boundary=b\r\n\r\n--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b--\r\n--a--";
        let sdp = find_sdp(
            ct(b"multipart/mixed;boundary=a"),
            body,
            &ParseLimits::DEFAULT,
        )
        .unwrap();
        assert_eq!(sdp, Some(&b"v=0"[..]));
    }

    #[test]
    fn unclosed_multipart_is_an_error() {
        let body = b"--xx\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n";
        assert_eq!(
            find_sdp(
                ct(b"multipart/mixed;boundary=xx"),
                body,
                &ParseLimits::DEFAULT
            ),
            Err(SdpError::BadMultipart)
        );
        assert_eq!(
            find_sdp(ct(b"multipart/mixed"), b"--x\r\n", &ParseLimits::DEFAULT),
            Err(SdpError::BadMultipart)
        );
    }

    #[test]
    fn other_types_carry_no_sdp() {
        let body = b"<audio> <pcmu port=\"443\"/> </audio>";
        assert_eq!(
            find_sdp(
                ct(b"application/unknownformat"),
                body,
                &ParseLimits::DEFAULT
            ),
            Ok(None)
        );
        assert_eq!(find_sdp(None, b"v=0\r\n", &ParseLimits::DEFAULT), Ok(None));
    }
}
