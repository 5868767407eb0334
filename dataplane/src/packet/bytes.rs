//! Bounds-checked big-endian reads: every header field the parser looks at goes
//! through these, so a short or lying packet yields `None`, never a panic.

/// The byte at `at`, if present.
#[inline(always)]
pub(crate) fn u8_at(buf: &[u8], at: usize) -> Option<u8> {
    buf.get(at).copied()
}

/// The big-endian `u16` starting at `at`, if both bytes are present.
#[inline(always)]
pub(crate) fn be16(buf: &[u8], at: usize) -> Option<u16> {
    buf.get(at..)?
        .first_chunk::<2>()
        .map(|b| u16::from_be_bytes(*b))
}

/// The big-endian `u32` starting at `at`, if all four bytes are present.
#[inline(always)]
pub(crate) fn be32(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..)?
        .first_chunk::<4>()
        .map(|b| u32::from_be_bytes(*b))
}

/// The `N` bytes starting at `at`, if present.
#[inline(always)]
pub(crate) fn array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..)?.first_chunk::<N>().copied()
}

/// An offset or length as the summary's `u32`. Every offset the parser produces is
/// bounded by an IP length field (at most 65535 plus a few headers), so saturation
/// never happens for real input; it only keeps the conversion total.
#[inline(always)]
pub(crate) fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let buf = [1u8, 2, 3, 4, 5];
        assert_eq!(u8_at(&buf, 4), Some(5));
        assert_eq!(u8_at(&buf, 5), None);
        assert_eq!(be16(&buf, 3), Some(0x0405));
        assert_eq!(be16(&buf, 4), None);
        assert_eq!(be32(&buf, 1), Some(0x0203_0405));
        assert_eq!(be32(&buf, 2), None);
        assert_eq!(be16(&buf, usize::MAX), None);
        assert_eq!(array::<2>(&buf, 0), Some([1, 2]));
        assert_eq!(array::<6>(&buf, 0), None);
    }
}
