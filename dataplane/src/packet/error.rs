//! Why a frame could not be parsed: one named, countable reason per malformation.

/// Why a frame (or IP datagram) was rejected by the parser. Cheap to copy and to
/// count: the pipeline drops the packet and bumps the counter at [`ParseError::index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Fewer than 14 bytes: no complete Ethernet header.
    #[error("truncated_ethernet")]
    TruncatedEthernet,
    /// A VLAN tag announced by its TPID is cut short.
    #[error("truncated_vlan")]
    TruncatedVlan,
    /// More than two VLAN tags (802.1Q inside QinQ is the most we accept).
    #[error("too_many_vlan_tags")]
    TooManyVlanTags,
    /// The IP version nibble does not match the ethertype (or is neither 4 nor 6).
    #[error("bad_ip_version")]
    BadIpVersion,
    /// Fewer than 20 bytes of IPv4 header, or fewer than the IHL announces.
    #[error("truncated_ipv4")]
    TruncatedIpv4,
    /// IHL below 5 or beyond the total length.
    #[error("bad_ipv4_header_length")]
    BadIpv4HeaderLength,
    /// The IPv4 header checksum does not verify.
    #[error("bad_ipv4_checksum")]
    BadIpv4Checksum,
    /// The IPv4 total length is smaller than the header.
    #[error("bad_ipv4_total_length")]
    BadIpv4TotalLength,
    /// The IPv4 total length claims more bytes than the frame holds.
    #[error("ipv4_total_length_mismatch")]
    Ipv4TotalLengthMismatch,
    /// An IPv4 option has a length that is too short or runs past the header.
    #[error("bad_ipv4_options")]
    BadIpv4Options,
    /// Fewer than 40 bytes of IPv6 header.
    #[error("truncated_ipv6")]
    TruncatedIpv6,
    /// The IPv6 payload length claims more bytes than the frame holds.
    #[error("ipv6_payload_length_mismatch")]
    Ipv6PayloadLengthMismatch,
    /// An IPv6 extension header is cut short, misplaced (Hop-by-Hop not first) or
    /// repeated where it may not be (two Fragment headers).
    #[error("ipv6_bad_extension_chain")]
    Ipv6BadExtensionChain,
    /// More IPv6 extension headers than the parser walks.
    #[error("ipv6_too_many_extension_headers")]
    Ipv6TooManyExtensionHeaders,
    /// An IPv6 jumbogram (payload length zero with a Hop-by-Hop header): never valid
    /// on Ethernet, not supported.
    #[error("ipv6_jumbogram")]
    Ipv6Jumbogram,
    /// A fragment that is not the last carries a length that is zero or not a
    /// multiple of eight.
    #[error("bad_fragment_length")]
    BadFragmentLength,
    /// Fragment offset plus length exceeds the largest possible datagram
    /// (ping-of-death).
    #[error("fragment_too_large")]
    FragmentTooLarge,
    /// A first fragment too short to hold the whole transport header (RFC 1858,
    /// RFC 7112): filters could not judge it.
    #[error("tiny_first_fragment")]
    TinyFirstFragment,
    /// Fewer than 20 bytes of TCP header.
    #[error("truncated_tcp")]
    TruncatedTcp,
    /// TCP data offset below 5 words or past the end of the segment.
    #[error("bad_tcp_data_offset")]
    BadTcpDataOffset,
    /// Fewer than 8 bytes of UDP header.
    #[error("truncated_udp")]
    TruncatedUdp,
    /// UDP length below 8 or disagreeing with the IP payload length.
    #[error("bad_udp_length")]
    BadUdpLength,
    /// Fewer than 8 bytes of ICMP header.
    #[error("truncated_icmp")]
    TruncatedIcmp,
    /// Fewer than 8 bytes of ICMPv6 header.
    #[error("truncated_icmpv6")]
    TruncatedIcmpv6,
}

impl ParseError {
    /// Every reason, in a stable order (for counters and reports).
    pub const ALL: &'static [ParseError] = &[
        ParseError::TruncatedEthernet,
        ParseError::TruncatedVlan,
        ParseError::TooManyVlanTags,
        ParseError::BadIpVersion,
        ParseError::TruncatedIpv4,
        ParseError::BadIpv4HeaderLength,
        ParseError::BadIpv4Checksum,
        ParseError::BadIpv4TotalLength,
        ParseError::Ipv4TotalLengthMismatch,
        ParseError::BadIpv4Options,
        ParseError::TruncatedIpv6,
        ParseError::Ipv6PayloadLengthMismatch,
        ParseError::Ipv6BadExtensionChain,
        ParseError::Ipv6TooManyExtensionHeaders,
        ParseError::Ipv6Jumbogram,
        ParseError::BadFragmentLength,
        ParseError::FragmentTooLarge,
        ParseError::TinyFirstFragment,
        ParseError::TruncatedTcp,
        ParseError::BadTcpDataOffset,
        ParseError::TruncatedUdp,
        ParseError::BadUdpLength,
        ParseError::TruncatedIcmp,
        ParseError::TruncatedIcmpv6,
    ];

    /// The stable snake_case name used in counters, logs and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseError::TruncatedEthernet => "truncated_ethernet",
            ParseError::TruncatedVlan => "truncated_vlan",
            ParseError::TooManyVlanTags => "too_many_vlan_tags",
            ParseError::BadIpVersion => "bad_ip_version",
            ParseError::TruncatedIpv4 => "truncated_ipv4",
            ParseError::BadIpv4HeaderLength => "bad_ipv4_header_length",
            ParseError::BadIpv4Checksum => "bad_ipv4_checksum",
            ParseError::BadIpv4TotalLength => "bad_ipv4_total_length",
            ParseError::Ipv4TotalLengthMismatch => "ipv4_total_length_mismatch",
            ParseError::BadIpv4Options => "bad_ipv4_options",
            ParseError::TruncatedIpv6 => "truncated_ipv6",
            ParseError::Ipv6PayloadLengthMismatch => "ipv6_payload_length_mismatch",
            ParseError::Ipv6BadExtensionChain => "ipv6_bad_extension_chain",
            ParseError::Ipv6TooManyExtensionHeaders => "ipv6_too_many_extension_headers",
            ParseError::Ipv6Jumbogram => "ipv6_jumbogram",
            ParseError::BadFragmentLength => "bad_fragment_length",
            ParseError::FragmentTooLarge => "fragment_too_large",
            ParseError::TinyFirstFragment => "tiny_first_fragment",
            ParseError::TruncatedTcp => "truncated_tcp",
            ParseError::BadTcpDataOffset => "bad_tcp_data_offset",
            ParseError::TruncatedUdp => "truncated_udp",
            ParseError::BadUdpLength => "bad_udp_length",
            ParseError::TruncatedIcmp => "truncated_icmp",
            ParseError::TruncatedIcmpv6 => "truncated_icmpv6",
        }
    }

    /// Dense index of this reason in [`ParseError::ALL`] (a counter array slot).
    /// [`ParseError::ALL`] lists the variants in declaration order (a unit test checks
    /// it), so the discriminant is the index.
    pub const fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_match_display() {
        let mut seen = std::collections::HashSet::new();
        for (i, reason) in ParseError::ALL.iter().enumerate() {
            let name = reason.as_str();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            assert_eq!(reason.to_string(), name);
            assert_eq!(reason.index(), i);
        }
    }
}
