//! One input through the parser and the reassembler, with the summary's promises
//! checked: shared by the `packet_parse` fuzz target and the test that replays its
//! corpus on stable Rust, so both check exactly the same things.

use crate::ids::IfaceId;
use crate::time::Timestamp;

use super::ethernet::{EtherType, L2Summary};
use super::frag::{FragOutcome, Reassembler, ReassemblyConfig};
use super::l4::L4Summary;
use super::summary::{PacketSummary, Parsed};
use super::{parse, parse_ip};

/// A broken promise of the parser or reassembler (each is a bug, never bad input).
pub type Violation = &'static str;

/// Check that every offset in `summary` stays inside `buf` and the IP datagram.
pub fn check_summary(buf: &[u8], summary: &PacketSummary) -> Result<(), Violation> {
    let ip = summary.ip_range();
    if ip.end > buf.len() {
        return Err("ip datagram past the buffer");
    }
    let l4 = summary.l4_range();
    if l4.start < ip.start || l4.end != ip.end {
        return Err("l4 range outside the datagram");
    }
    if let Some(payload) = summary.payload_range() {
        if payload.start < l4.start || payload.end > l4.end {
            return Err("payload outside the l4 range");
        }
    }
    if let Some(fragment) = summary.fragment {
        let data = fragment.data_range();
        if data.start < ip.start || data.end != ip.end {
            return Err("fragment data outside the datagram");
        }
        if fragment.header_len as usize > data.start - ip.start {
            return Err("fragment header overlaps its data");
        }
        if !fragment.is_first() && summary.l4 != L4Summary::NonFirstFragment {
            return Err("transport parsed in a non-first fragment");
        }
    }
    if let L4Summary::Icmp(icmp) | L4Summary::Icmpv6(icmp) = summary.l4 {
        if icmp.embedded_offset.is_some_and(|o| o as usize >= ip.end) {
            return Err("icmp embedded packet outside the datagram");
        }
    }
    Ok(())
}

/// Parse `data` as a frame and as a bare datagram; feed a fragment to a fresh
/// reassembler, twice (a duplicate), and check that a completed datagram parses
/// and every frame comes back once.
pub fn exercise(data: &[u8]) -> Result<(), Violation> {
    if let Ok(summary) = parse_ip(data, L2Summary::none(EtherType::IPV4)) {
        check_summary(data, &summary)?;
    }
    let Ok(Parsed::Ip(summary)) = parse(data) else {
        return Ok(());
    };
    check_summary(data, &summary)?;
    if summary.fragment.is_none() {
        return Ok(());
    }
    let mut reassembler = Reassembler::new(ReassemblyConfig {
        max_datagrams: 2,
        ..ReassemblyConfig::default()
    });
    let now = Timestamp::from_secs(1);
    let mut returned = 0;
    for handle in 0..2u8 {
        if let FragOutcome::Complete(done) =
            reassembler.feed(data, &summary, IfaceId(0), handle, now)
        {
            if let Ok(whole) = done.parse() {
                check_summary(done.datagram, &whole)?;
                if whole.is_fragment() {
                    return Err("reassembled datagram is still a fragment");
                }
            }
            returned += done.frames.count();
        }
        returned += reassembler.take_released().count();
    }
    reassembler.expire(Timestamp::from_secs(3600));
    returned += reassembler.take_released().count();
    if returned != 2 {
        return Err("a frame was lost or returned twice");
    }
    Ok(())
}
