//! TCP state machine table tests: handshake, simultaneous open, data, FIN both ways,
//! RST, invalid transitions, mid-stream pickup on and off.

use pinhole_dataplane::session::{
    Direction::{Forward as F, Reverse as R},
    TcpFlags, TcpInvalid, TcpPolicy, TcpSegment, TcpState, TcpTracker, TcpVerdict,
};

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const FIN: TcpFlags = TcpFlags::FIN;
const RST: TcpFlags = TcpFlags::RST;

fn seg(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> TcpSegment {
    TcpSegment::new(flags, seq, ack, len)
}

const OFF: TcpPolicy = TcpPolicy {
    midstream_pickup: false,
};
const ON: TcpPolicy = TcpPolicy {
    midstream_pickup: true,
};

/// Client ISN 1000, server ISN 5000.
fn established() -> Result<TcpTracker, TcpInvalid> {
    let mut t = TcpTracker::open(&seg(SYN, 1000, 0, 0), OFF)?;
    assert_eq!(t.state(), TcpState::SynSent);
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 1001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::SynReceived);
    assert_eq!(t.update(F, &seg(ACK, 1001, 5001, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::Established);
    Ok(t)
}

fn invalid(
    t: &mut TcpTracker,
    dir: pinhole_dataplane::session::Direction,
    s: TcpSegment,
    why: TcpInvalid,
) {
    let before = *t;
    assert_eq!(t.update(dir, &s), TcpVerdict::Invalid(why), "{s:?}");
    assert_eq!(*t, before, "an invalid segment changes nothing");
}

#[test]
fn three_way_handshake_then_data() {
    let mut t = established().unwrap();
    assert_eq!(t.update(F, &seg(ACK, 1001, 5001, 100)), TcpVerdict::Accept);
    assert_eq!(t.update(R, &seg(ACK, 5001, 1101, 1460)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::Established);
}

#[test]
fn syn_retransmission_is_accepted() {
    let mut t = TcpTracker::open(&seg(SYN, 1000, 0, 0), OFF).unwrap();
    assert_eq!(t.update(F, &seg(SYN, 1000, 0, 0)), TcpVerdict::Accept);
    // A new attempt with a new ISN: the SYN-ACK must acknowledge the latest one.
    assert_eq!(t.update(F, &seg(SYN, 7000, 0, 0)), TcpVerdict::Accept);
    invalid(
        &mut t,
        R,
        seg(SYN | ACK, 5000, 1001, 0),
        TcpInvalid::SynAckBadAck,
    );
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 7001, 0)),
        TcpVerdict::Accept
    );
    // SYN-ACK retransmitted, then the handshake completes.
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 7001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.update(F, &seg(ACK, 7001, 5001, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::Established);
    // The handshake ACK was lost: the server retransmits its SYN-ACK.
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 7001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::Established);
}

#[test]
fn simultaneous_open() {
    let mut t = TcpTracker::open(&seg(SYN, 1000, 0, 0), OFF).unwrap();
    assert_eq!(t.update(R, &seg(SYN, 5000, 0, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::SynReceived);
    assert_eq!(
        t.update(F, &seg(SYN | ACK, 1000, 5001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::SynReceived);
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 1001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::Established);
}

#[test]
fn fin_both_ways() {
    let mut t = established().unwrap();
    assert_eq!(
        t.update(F, &seg(FIN | ACK, 1001, 5001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::FinWait);
    // Half-close: the server still sends data, acknowledging the FIN.
    assert_eq!(t.update(R, &seg(ACK, 5001, 1002, 10)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::CloseWait);
    // The client may not send new data after its FIN, but may retransmit the FIN.
    invalid(&mut t, F, seg(ACK, 1002, 5011, 5), TcpInvalid::DataAfterFin);
    assert_eq!(
        t.update(F, &seg(FIN | ACK, 1001, 5011, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(
        t.update(R, &seg(FIN | ACK, 5011, 1002, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::LastAck);
    assert_eq!(t.update(F, &seg(ACK, 1002, 5012, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::TimeWait);
    assert!(t.state().is_closing());
}

#[test]
fn fin_with_data_and_fin_from_responder_first() {
    let mut t = established().unwrap();
    assert_eq!(
        t.update(R, &seg(FIN | ACK, 5001, 1001, 20)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::FinWait);
    // An ACK below the FIN does not acknowledge it.
    assert_eq!(t.update(F, &seg(ACK, 1001, 5021, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::FinWait);
    assert_eq!(
        t.update(F, &seg(FIN | ACK, 1001, 5022, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::LastAck);
    assert_eq!(t.update(R, &seg(ACK, 5022, 1002, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::TimeWait);
}

#[test]
fn rst_closes_and_later_data_is_invalid() {
    let mut t = established().unwrap();
    assert_eq!(
        t.update(R, &seg(RST | ACK, 5001, 1001, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::Closed);
    invalid(&mut t, F, seg(ACK, 1001, 5001, 10), TcpInvalid::AfterClose);
    // A duplicate RST is harmless.
    assert_eq!(t.update(F, &seg(RST, 1001, 0, 0)), TcpVerdict::Accept);
    // Port reuse: a new SYN starts a new handshake.
    assert_eq!(t.update(F, &seg(SYN, 90_000, 0, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::SynSent);
}

#[test]
fn rst_out_of_window_is_invalid() {
    let mut t = established().unwrap();
    invalid(
        &mut t,
        R,
        seg(RST, 5001 + (1 << 21), 0, 0),
        TcpInvalid::RstOutOfWindow,
    );
    invalid(
        &mut t,
        F,
        seg(RST, 1001u32.wrapping_sub(1 << 21), 0, 0),
        TcpInvalid::RstOutOfWindow,
    );
    assert_eq!(t.state(), TcpState::Established);
    assert_eq!(t.update(F, &seg(RST, 1001 + 100, 0, 0)), TcpVerdict::Accept);
}

#[test]
fn refusing_rst_must_ack_the_syn() {
    let mut t = TcpTracker::open(&seg(SYN, 1000, 0, 0), OFF).unwrap();
    invalid(
        &mut t,
        R,
        seg(RST | ACK, 0, 999, 0),
        TcpInvalid::RstOutOfWindow,
    );
    invalid(&mut t, R, seg(RST, 0, 0, 0), TcpInvalid::RstOutOfWindow);
    assert_eq!(t.update(R, &seg(RST | ACK, 0, 1001, 0)), TcpVerdict::Accept);
    assert_eq!(t.state(), TcpState::Closed);
}

#[test]
fn invalid_transitions() {
    let mut t = TcpTracker::open(&seg(SYN, 1000, 0, 0), OFF).unwrap();
    invalid(
        &mut t,
        F,
        seg(ACK, 1001, 0, 10),
        TcpInvalid::DataBeforeHandshake,
    );
    invalid(
        &mut t,
        R,
        seg(ACK, 5000, 1001, 0),
        TcpInvalid::DataBeforeHandshake,
    );
    invalid(
        &mut t,
        R,
        seg(SYN | ACK, 5000, 2000, 0),
        TcpInvalid::SynAckBadAck,
    );
    invalid(
        &mut t,
        F,
        seg(SYN | ACK, 1000, 1, 0),
        TcpInvalid::SynAckWithoutSyn,
    );
    assert_eq!(
        t.update(R, &seg(SYN | ACK, 5000, 1001, 0)),
        TcpVerdict::Accept
    );
    invalid(
        &mut t,
        F,
        seg(ACK, 1001, 4000, 0),
        TcpInvalid::HandshakeBadAck,
    );
    assert_eq!(t.update(F, &seg(ACK, 1001, 5001, 0)), TcpVerdict::Accept);
    invalid(
        &mut t,
        F,
        seg(SYN, 1000, 0, 0),
        TcpInvalid::SynOnEstablished,
    );
    invalid(
        &mut t,
        R,
        seg(SYN | ACK, 6000, 1001, 0),
        TcpInvalid::SynOnEstablished,
    );
}

#[test]
fn invalid_flag_combinations() {
    let mut t = established().unwrap();
    for flags in [
        SYN | FIN,
        SYN | RST,
        TcpFlags(0),
        FIN,
        FIN | TcpFlags::PSH | TcpFlags::URG,
        SYN | FIN | RST | ACK,
    ] {
        invalid(
            &mut t,
            F,
            seg(flags, 1001, 5001, 0),
            TcpInvalid::InvalidFlags,
        );
        assert_eq!(
            TcpTracker::open(&seg(flags, 1, 0, 0), ON),
            Err(TcpInvalid::InvalidFlags)
        );
    }
    // PSH and ECN bits ride along on valid segments.
    assert_eq!(
        t.update(F, &seg(ACK | TcpFlags::PSH | TcpFlags(0xc0), 1001, 5001, 1)),
        TcpVerdict::Accept
    );
}

#[test]
fn first_packet_rules_without_pickup() {
    assert_eq!(
        TcpTracker::open(&seg(ACK, 1, 1, 10), OFF),
        Err(TcpInvalid::NotSynFirst)
    );
    assert_eq!(
        TcpTracker::open(&seg(FIN | ACK, 1, 1, 0), OFF),
        Err(TcpInvalid::NotSynFirst)
    );
    assert_eq!(
        TcpTracker::open(&seg(SYN | ACK, 1, 1, 0), OFF),
        Err(TcpInvalid::SynAckWithoutSyn)
    );
    assert_eq!(
        TcpTracker::open(&seg(RST, 1, 0, 0), ON),
        Err(TcpInvalid::RstWithoutSession)
    );
}

#[test]
fn midstream_pickup() {
    let mut t = TcpTracker::open(&seg(ACK, 777, 9000, 100), ON).unwrap();
    assert_eq!(t.state(), TcpState::Established);
    assert!(!t.state().is_half_open());
    assert_eq!(t.update(R, &seg(ACK, 9000, 877, 50)), TcpVerdict::Accept);
    invalid(&mut t, F, seg(SYN, 777, 0, 0), TcpInvalid::SynOnEstablished);
    // The responder's sequence space is now known: RSTs are checked against it.
    invalid(
        &mut t,
        R,
        seg(RST, 9050 + (1 << 22), 0, 0),
        TcpInvalid::RstOutOfWindow,
    );
    assert_eq!(
        t.update(F, &seg(FIN | ACK, 877, 9050, 0)),
        TcpVerdict::Accept
    );
    assert_eq!(t.state(), TcpState::FinWait);

    let closing = TcpTracker::open(&seg(FIN | ACK, 1, 1, 0), ON).unwrap();
    assert_eq!(closing.state(), TcpState::FinWait);
}
