//! The Internet checksum (RFC 1071), used to verify IPv4 headers on parse and to
//! recompute them on reassembled datagrams.

/// One's-complement sum of `data` as big-endian 16-bit words (an odd last byte is
/// padded with zero), folded to 16 bits, not yet complemented.
pub fn ones_complement_sum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        if let Some(pair) = word.first_chunk::<2>() {
            sum += u64::from(u16::from_be_bytes(*pair));
        }
    }
    if let Some(&last) = words.remainder().first() {
        sum += u64::from(last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop above leaves at most 16 significant bits.
    u16::try_from(sum).unwrap_or(u16::MAX)
}

/// The checksum to store in a header whose checksum field is zero while summing.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !ones_complement_sum(data)
}

/// Whether `header`, checksum field included, sums to all ones (i.e. verifies).
pub fn verifies(header: &[u8]) -> bool {
    ones_complement_sum(header) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // The worked example from RFC 1071 section 3.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_complement_sum(&data), 0xddf2);
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn known_ipv4_header_verifies_and_recomputes() {
        let mut header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(&header));
        header[10] = 0;
        header[11] = 0;
        assert_eq!(internet_checksum(&header), 0xb861);
        assert!(!verifies(&header));
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(ones_complement_sum(&[0x12]), 0x1200);
    }
}
