//! A Skinny call through the pipeline under a default-drop policy: the inspector opens
//! exactly the negotiated media pinholes, media flows both ways, and hang-up closes them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use pinhole_dataplane::inspect::sccp::header::HeaderVersion;
use pinhole_dataplane::inspect::sccp::pdu::{
    ChannelAck, SkinnyAddr, SkinnyMessage, StartTransmission, StopChannel,
};
use pinhole_dataplane::inspect::sccp::PduWriter;
use pinhole_dataplane::packet::build::{tcp4_frame, udp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use pinhole_dataplane::{Dataplane, DropReason, Pipeline, Timestamp, Verdict, WorkerId};
mod voice_lab;

const PHONE: &str = "10.1.1.10";
const CM: &str = "192.0.2.2";
const REMOTE: &str = "192.0.2.50";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn dataplane() -> std::sync::Arc<Dataplane> {
    voice_lab::dataplane("skinny", "10.1.0.0/16", serde_json::json!({}))
}

struct Call {
    p: Pipeline,
    phone_seq: u32,
    cm_seq: u32,
    t: Timestamp,
}

impl Call {
    fn send(&mut self, from_phone: bool, flags: TcpFlags, payload: &[u8]) -> Verdict {
        let (src, dst, sport, dport) = if from_phone {
            (PHONE, CM, 51000, 2000)
        } else {
            (CM, PHONE, 2000, 51000)
        };
        let mut h = TcpHeader::new(Port(sport), Port(dport), flags);
        h.seq = if from_phone {
            self.phone_seq
        } else {
            self.cm_seq
        };
        h.ack = if from_phone {
            self.cm_seq
        } else {
            self.phone_seq
        };
        let mut frame = tcp4_frame(ip(src), ip(dst), &h, payload);
        let syn_fin = u32::from(flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::FIN));
        let advance = payload.len() as u32 + syn_fin;
        if from_phone {
            self.phone_seq = self.phone_seq.wrapping_add(advance);
        } else {
            self.cm_seq = self.cm_seq.wrapping_add(advance);
        }
        let ingress = self
            .p
            .policy()
            .interface_by_name(if from_phone { "phones" } else { "wan" })
            .unwrap();
        self.p.begin_burst(self.t);
        let v = self.p.process(&mut frame, ingress, self.t);
        self.p.end_burst(self.t);
        v
    }

    fn rtp(&mut self, src: &str, sport: u16, dst: &str, dport: u16) -> Verdict {
        let ingress = if src == PHONE { "phones" } else { "wan" };
        let ingress = self.p.policy().interface_by_name(ingress).unwrap();
        let mut frame = udp4_frame(
            ip(src),
            ip(dst),
            sport,
            dport,
            &[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
        );
        self.p.process(&mut frame, ingress, self.t)
    }
}

#[test]
fn skinny_call_opens_and_closes_exactly_its_media() {
    let dp = dataplane();
    let mut call = Call {
        p: dp.worker(WorkerId(0)),
        phone_seq: 1000,
        cm_seq: 9000,
        t: Timestamp::from_secs(100),
    };
    let wan = Verdict::Forward(call.p.policy().interface_by_name("wan").unwrap());
    let phones = Verdict::Forward(call.p.policy().interface_by_name("phones").unwrap());
    assert_eq!(call.send(true, TcpFlags::SYN, b""), wan);
    assert_eq!(call.send(false, TcpFlags::SYN | TcpFlags::ACK, b""), phones);
    assert_eq!(call.send(true, TcpFlags::ACK, b""), wan);

    // Before any signalling, media toward the phone is dropped.
    assert_eq!(
        call.rtp(REMOTE, 20000, PHONE, 24000),
        Verdict::Drop(DropReason::NoZonePair)
    );

    let w = PduWriter::new(HeaderVersion::V15);
    // CM -> phone: StartMediaTransmission toward the remote (which never sends an Ack here)
    // and phone -> CM: OpenReceiveChannelAck with the phone's receive port, in one segment
    // each; the Start and a KeepAlive packed together.
    let mut seg = w
        .to_vec(&SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 7,
            pass_thru_party_id: 70,
            remote: SkinnyAddr::V4(ip(REMOTE)),
            remote_port: 20000,
            call_reference: Some(1),
            key_info: None,
        }))
        .unwrap();
    seg.extend(w.to_vec(&SkinnyMessage::KeepAliveAck).unwrap());
    assert_eq!(
        call.send(false, TcpFlags::ACK | TcpFlags::PSH, &seg),
        phones
    );
    let ack = w
        .to_vec(&SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: SkinnyAddr::V4(ip(PHONE)),
            port: 24000,
            pass_thru_party_id: 70,
            call_reference: Some(1),
        }))
        .unwrap();
    // Split the Ack across two segments: the pinhole opens when the PDU completes.
    assert_eq!(
        call.send(true, TcpFlags::ACK | TcpFlags::PSH, &ack[..10]),
        wan
    );
    assert_eq!(
        call.send(true, TcpFlags::ACK | TcpFlags::PSH, &ack[10..]),
        wan
    );

    let open: Vec<(String, u16)> = dp
        .pinholes
        .open_pinholes()
        .iter()
        .map(|p| (p.request.dst.to_string(), p.request.dst_port))
        .collect();
    for want in [
        (PHONE, 24000),
        (PHONE, 24001),
        (REMOTE, 20000),
        (REMOTE, 20001),
    ] {
        assert!(
            open.contains(&(want.0.to_string(), want.1)),
            "missing pinhole {want:?} in {open:?}"
        );
    }
    assert_eq!(open.len(), 4, "{open:?}");

    // Media both ways, RTCP too; a port that was not negotiated stays closed.
    assert_eq!(call.rtp(REMOTE, 20000, PHONE, 24000), phones);
    assert_eq!(call.rtp(PHONE, 24000, REMOTE, 20000), wan);
    assert_eq!(call.rtp(REMOTE, 20001, PHONE, 24001), phones);
    assert_eq!(
        call.rtp(REMOTE, 20000, PHONE, 24002),
        Verdict::Drop(DropReason::NoZonePair)
    );

    // Hang-up: Stop and Close (close the port).
    let stop = StopChannel {
        conference_id: 7,
        pass_thru_party_id: 70,
        call_reference: Some(1),
        keep_port: false,
    };
    let mut seg = w
        .to_vec(&SkinnyMessage::StopMediaTransmission(stop))
        .unwrap();
    seg.extend(w.to_vec(&SkinnyMessage::CloseReceiveChannel(stop)).unwrap());
    assert_eq!(
        call.send(false, TcpFlags::ACK | TcpFlags::PSH, &seg),
        phones
    );
    assert!(
        dp.pinholes.open_pinholes().is_empty(),
        "{:?}",
        dp.pinholes.open_pinholes()
    );
    assert_eq!(
        call.rtp(REMOTE, 20000, PHONE, 24000),
        Verdict::Drop(DropReason::CallEnded)
    );
    assert_eq!(call.p.alg_counters().skinny.pdus, 5);
}

#[test]
fn skinny_control_session_end_closes_its_pinholes() {
    let dp = dataplane();
    let mut call = Call {
        p: dp.worker(WorkerId(0)),
        phone_seq: 1,
        cm_seq: 1,
        t: Timestamp::from_secs(1),
    };
    call.send(true, TcpFlags::SYN, b"");
    call.send(false, TcpFlags::SYN | TcpFlags::ACK, b"");
    call.send(true, TcpFlags::ACK, b"");
    let w = PduWriter::new(HeaderVersion::BASIC);
    let ack = w
        .to_vec(&SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: SkinnyAddr::V4(ip(PHONE)),
            port: 30000,
            pass_thru_party_id: 5,
            call_reference: None,
        }))
        .unwrap();
    call.send(true, TcpFlags::ACK | TcpFlags::PSH, &ack);
    assert_eq!(dp.pinholes.len(), 2);
    call.send(true, TcpFlags::FIN | TcpFlags::ACK, b"");
    call.send(false, TcpFlags::FIN | TcpFlags::ACK, b"");
    call.send(true, TcpFlags::ACK, b"");
    // The closing timeout passes; the control session ends and takes its calls along.
    call.t = Timestamp::from_secs(60);
    call.p.end_burst(call.t);
    assert_eq!(dp.pinholes.len(), 0);
}
