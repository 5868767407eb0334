//! `sccp-capture`: writes a synthetic but realistic Skinny capture (Ethernet, IPv4, TCP
//! with handshakes and proper seq/ack, RTP/RTCP) and, beside it, the outcome a correct
//! Skinny ALG must produce, so replay tests can assert exact results.
//!
//! Usage: `sccp-capture <out.pcap> [--vlan]`; writes `<out.pcap>` and
//! `<out.pcap>.expected.json` (also printed to stdout). The output is deterministic: fixed
//! addresses, sequence numbers, SSRCs and timestamps.
//!
//! `--vlan` tags every frame with the 802.1Q VLAN of the segment its sender sits on
//! (phone A 10, phone B 11, call manager and bridge 20), so the whole call can enter the
//! engine on one port, in capture order, with each host on its own VLAN sub-interface;
//! the VLANs are listed in the expectations (`vlans`).
//!
//! Scenario: phones A (10.1.1.10) and B (10.1.1.11) inside, call manager 10.2.2.2:2000
//! and conference bridge 10.2.2.50 outside. Both phones register; A calls B
//! (OpenReceiveChannel/Ack and StartMediaTransmission on both sides, RTP and RTCP both
//! ways); the call manager also points A's media at the conference bridge, which never
//! acks on these connections; hang-up with StopMediaTransmission + CloseReceiveChannel
//! packed in one segment; RTP after the hang-up (must be dropped); one packet toward
//! every pinhole from a source port never used before, which only an open pinhole would
//! admit (must be dropped: proves each pinhole closed); FIN on both connections.

use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use pcap_file::pcap::{PcapPacket, PcapWriter};
use pinhole_dataplane::inspect::sccp::{
    ChannelAck, DeviceName, HeaderVersion, OpenChannel, PduWriter, Register, SkinnyAddr,
    SkinnyMessage, StartTransmission, StopChannel,
};
use serde_json::{json, Value};

const PHONE_A: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 10);
const PHONE_B: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 11);
const CM: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);
const BRIDGE: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 50);
const SKINNY_PORT: u16 = 2000;

/// The VLAN of each host's segment (`--vlan`).
const VLANS: [(Ipv4Addr, u16); 4] = [(PHONE_A, 10), (PHONE_B, 11), (CM, 20), (BRIDGE, 20)];

/// The VLAN a frame sent by `src` carries.
fn vlan_of(src: Ipv4Addr) -> u16 {
    VLANS
        .iter()
        .find(|(ip, _)| *ip == src)
        .map_or(1, |(_, vlan)| *vlan)
}

/// Ones' complement sum over 16-bit words.
fn checksum_add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn checksum_finish(mut sum: u32) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

fn mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

/// An Ethernet + IPv4 frame around a transport segment (`proto` 6 or 17) whose checksum
/// field sits at `checksum_at`.
fn ipv4_frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    mut l4: Vec<u8>,
    checksum_at: usize,
    ip_id: u16,
) -> Vec<u8> {
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend(src.octets());
    pseudo.extend(dst.octets());
    pseudo.extend([0, proto]);
    pseudo.extend((l4.len() as u16).to_be_bytes());
    let sum = checksum_finish(checksum_add(checksum_add(0, &pseudo), &l4));
    let sum = if proto == 17 && sum == 0 { 0xFFFF } else { sum };
    l4[checksum_at..checksum_at + 2].copy_from_slice(&sum.to_be_bytes());
    let mut ip = vec![0x45, 0];
    ip.extend(((20 + l4.len()) as u16).to_be_bytes());
    ip.extend(ip_id.to_be_bytes());
    ip.extend([0x40, 0, 64, proto, 0, 0]);
    ip.extend(src.octets());
    ip.extend(dst.octets());
    let ip_sum = checksum_finish(checksum_add(0, &ip));
    ip[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    let mut frame = Vec::with_capacity(14 + ip.len() + l4.len());
    frame.extend(mac(dst));
    frame.extend(mac(src));
    frame.extend([0x08, 0x00]);
    frame.extend(ip);
    frame.extend(l4);
    frame
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// Everything written so far, and the expectations.
struct Capture {
    writer: PcapWriter<BufWriter<File>>,
    frame: u64,
    time: Duration,
    ip_id: u16,
    packets: Vec<Value>,
    /// Tag frames with their sender's VLAN.
    tagged: bool,
}

impl Capture {
    fn emit(&mut self, mut frame: Vec<u8>, expected: Value) -> Result<u64> {
        if self.tagged {
            // The IPv4 source sits at 26..30 of an untagged frame.
            let Some(&[a, b, c, d]) = frame.get(26..30) else {
                bail!("frame too short to tag");
            };
            let tci = vlan_of(Ipv4Addr::new(a, b, c, d));
            let mut tag = vec![0x81, 0x00];
            tag.extend(tci.to_be_bytes());
            frame.splice(12..12, tag);
        }
        self.frame += 1;
        self.time += Duration::from_millis(5);
        self.ip_id = self.ip_id.wrapping_add(1);
        self.writer
            .write_packet(&PcapPacket::new(self.time, frame.len() as u32, &frame))
            .context("writing a packet")?;
        let mut entry = expected;
        entry["frame"] = json!(self.frame);
        self.packets.push(entry);
        Ok(self.frame)
    }

    fn tcp(
        &mut self,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Result<u64> {
        let mut tcp = Vec::with_capacity(20 + payload.len());
        tcp.extend(src.1.to_be_bytes());
        tcp.extend(dst.1.to_be_bytes());
        tcp.extend(seq.to_be_bytes());
        tcp.extend(if flags & ACK != 0 { ack } else { 0 }.to_be_bytes());
        tcp.extend([0x50, flags]);
        tcp.extend(64240u16.to_be_bytes());
        tcp.extend([0, 0, 0, 0]);
        tcp.extend(payload);
        let id = self.ip_id;
        let frame = ipv4_frame(src.0, dst.0, 6, tcp, 16, id);
        let kind = if payload.is_empty() {
            "tcp_control"
        } else {
            "skinny"
        };
        self.emit(
            frame,
            json!({"kind": kind, "src": sock(src), "dst": sock(dst), "verdict": "forward"}),
        )
    }

    /// One RTP packet; `forward` is what the ALG must decide.
    fn rtp(
        &mut self,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        ssrc: u32,
        n: u16,
        forward: bool,
    ) -> Result<u64> {
        let mut rtp = vec![0x80, 0x00]; // v2, PT 0 (PCMU)
        rtp.extend(n.to_be_bytes());
        rtp.extend((u32::from(n) * 160).to_be_bytes());
        rtp.extend(ssrc.to_be_bytes());
        rtp.extend(std::iter::repeat_n(0xFFu8, 160)); // 20 ms of µ-law silence
        self.udp(src, dst, rtp, "rtp", forward)
    }

    /// One RTCP receiver report.
    fn rtcp(
        &mut self,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        ssrc: u32,
        forward: bool,
    ) -> Result<u64> {
        let mut rtcp = vec![0x80, 201];
        rtcp.extend(1u16.to_be_bytes()); // length in words - 1
        rtcp.extend(ssrc.to_be_bytes());
        self.udp(src, dst, rtcp, "rtcp", forward)
    }

    fn udp(
        &mut self,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        payload: Vec<u8>,
        kind: &str,
        forward: bool,
    ) -> Result<u64> {
        let mut udp = Vec::with_capacity(8 + payload.len());
        udp.extend(src.1.to_be_bytes());
        udp.extend(dst.1.to_be_bytes());
        udp.extend(((8 + payload.len()) as u16).to_be_bytes());
        udp.extend([0, 0]);
        udp.extend(payload);
        let id = self.ip_id;
        let frame = ipv4_frame(src.0, dst.0, 17, udp, 6, id);
        let verdict = if forward { "forward" } else { "drop" };
        self.emit(
            frame,
            json!({"kind": kind, "src": sock(src), "dst": sock(dst), "verdict": verdict}),
        )
    }
}

fn sock(s: (Ipv4Addr, u16)) -> String {
    format!("{}:{}", s.0, s.1)
}

/// A TCP connection from a phone to the call manager, tracking both sequence spaces.
struct Tcp {
    phone: (Ipv4Addr, u16),
    cm: (Ipv4Addr, u16),
    phone_seq: u32,
    cm_seq: u32,
    writer: PduWriter,
}

impl Tcp {
    fn open(
        cap: &mut Capture,
        phone: (Ipv4Addr, u16),
        phone_isn: u32,
        cm_isn: u32,
        version: HeaderVersion,
    ) -> Result<Self> {
        let cm = (CM, SKINNY_PORT);
        cap.tcp(phone, cm, phone_isn, 0, SYN, &[])?;
        cap.tcp(cm, phone, cm_isn, phone_isn.wrapping_add(1), SYN | ACK, &[])?;
        cap.tcp(
            phone,
            cm,
            phone_isn.wrapping_add(1),
            cm_isn.wrapping_add(1),
            ACK,
            &[],
        )?;
        Ok(Tcp {
            phone,
            cm,
            phone_seq: phone_isn.wrapping_add(1),
            cm_seq: cm_isn.wrapping_add(1),
            writer: PduWriter::new(version),
        })
    }

    /// Send `messages` packed in one segment, then the peer's pure ACK.
    fn send(
        &mut self,
        cap: &mut Capture,
        from_phone: bool,
        messages: &[SkinnyMessage<'_>],
    ) -> Result<u64> {
        let mut payload = Vec::new();
        for m in messages {
            if self.writer.write(m, &mut payload).is_err() {
                bail!("cannot encode {m:?}");
            }
        }
        let len = payload.len() as u32;
        let frame = if from_phone {
            let f = cap.tcp(
                self.phone,
                self.cm,
                self.phone_seq,
                self.cm_seq,
                PSH | ACK,
                &payload,
            )?;
            self.phone_seq = self.phone_seq.wrapping_add(len);
            cap.tcp(self.cm, self.phone, self.cm_seq, self.phone_seq, ACK, &[])?;
            f
        } else {
            let f = cap.tcp(
                self.cm,
                self.phone,
                self.cm_seq,
                self.phone_seq,
                PSH | ACK,
                &payload,
            )?;
            self.cm_seq = self.cm_seq.wrapping_add(len);
            cap.tcp(self.phone, self.cm, self.phone_seq, self.cm_seq, ACK, &[])?;
            f
        };
        Ok(frame)
    }

    fn close(&mut self, cap: &mut Capture) -> Result<()> {
        cap.tcp(
            self.phone,
            self.cm,
            self.phone_seq,
            self.cm_seq,
            FIN | ACK,
            &[],
        )?;
        self.phone_seq = self.phone_seq.wrapping_add(1);
        cap.tcp(
            self.cm,
            self.phone,
            self.cm_seq,
            self.phone_seq,
            FIN | ACK,
            &[],
        )?;
        self.cm_seq = self.cm_seq.wrapping_add(1);
        cap.tcp(self.phone, self.cm, self.phone_seq, self.cm_seq, ACK, &[])?;
        Ok(())
    }
}

fn register(name: &'static [u8], ip: Ipv4Addr) -> SkinnyMessage<'static> {
    SkinnyMessage::Register(Register {
        device_name: DeviceName(name),
        user_id: 0,
        instance: 1,
        station_ip: ip,
        device_type: Some(369), // Cisco 7965
        max_streams: Some(5),
    })
}

fn open_rx(conference_id: u32, pass_thru_party_id: u32) -> SkinnyMessage<'static> {
    SkinnyMessage::OpenReceiveChannel(OpenChannel {
        conference_id,
        pass_thru_party_id,
        call_reference: Some(conference_id),
    })
}

fn rx_ack(ip: Ipv4Addr, port: u16, pass_thru_party_id: u32, call: u32) -> SkinnyMessage<'static> {
    SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
        status: 0,
        addr: SkinnyAddr::V4(ip),
        port,
        pass_thru_party_id,
        call_reference: Some(call),
    })
}

fn start_tx(
    conference_id: u32,
    pass_thru_party_id: u32,
    remote: Ipv4Addr,
    port: u16,
) -> SkinnyMessage<'static> {
    SkinnyMessage::StartMediaTransmission(StartTransmission {
        conference_id,
        pass_thru_party_id,
        remote: SkinnyAddr::V4(remote),
        remote_port: port,
        call_reference: Some(conference_id),
        key_info: None,
    })
}

fn stop(conference_id: u32, pass_thru_party_id: u32) -> StopChannel {
    StopChannel {
        conference_id,
        pass_thru_party_id,
        call_reference: Some(conference_id),
        keep_port: false,
    }
}

fn pinhole(
    src: Option<Ipv4Addr>,
    dst: (Ipv4Addr, u16),
    kind: &str,
    opened: u64,
    closed: u64,
) -> Value {
    json!({
        "transport": "udp",
        "src": src.map(|s| s.to_string()),
        "dst": sock(dst),
        "kind": kind,
        "opened_by_frame": opened,
        "closed_by_frame": closed,
    })
}

fn main() -> Result<()> {
    let mut out = None;
    let mut tagged = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--vlan" => tagged = true,
            _ if out.is_none() => out = Some(arg),
            _ => bail!("usage: sccp-capture <out.pcap> [--vlan]"),
        }
    }
    let Some(out) = out else {
        bail!("usage: sccp-capture <out.pcap> [--vlan]");
    };
    let file = File::create(&out).with_context(|| format!("creating {out}"))?;
    let mut cap = Capture {
        writer: PcapWriter::new(BufWriter::new(file)).context("pcap header")?,
        frame: 0,
        time: Duration::from_secs(1_700_000_000),
        ip_id: 0x1000,
        packets: Vec::new(),
        tagged,
    };
    let a_rtp = (PHONE_A, 16384);
    let b_rtp = (PHONE_B, 16390);
    let a_conf = (PHONE_A, 16386);
    let bridge_rtp = (BRIDGE, 24000);
    let rtcp = |s: (Ipv4Addr, u16)| (s.0, s.1 + 1);

    // Registration: A speaks basic Skinny, B V20.
    let mut a = Tcp::open(
        &mut cap,
        (PHONE_A, 51000),
        0x1000_0000,
        0x2000_0000,
        HeaderVersion::BASIC,
    )?;
    let mut b = Tcp::open(
        &mut cap,
        (PHONE_B, 51001),
        0xFFFF_FF00,
        0x3000_0000,
        HeaderVersion::V20,
    )?;
    a.send(&mut cap, true, &[register(b"SEP00000A0A0A10", PHONE_A)])?;
    a.send(&mut cap, false, &[SkinnyMessage::RegisterAck])?;
    a.send(&mut cap, true, &[SkinnyMessage::IpPort { port: 2000 }])?;
    b.send(&mut cap, true, &[register(b"SEP00000B0B0B11", PHONE_B)])?;
    b.send(&mut cap, false, &[SkinnyMessage::RegisterAck])?;
    a.send(&mut cap, true, &[SkinnyMessage::KeepAlive])?;
    a.send(&mut cap, false, &[SkinnyMessage::KeepAliveAck])?;

    // Call A <-> B: conference 1001, A's channel 2001, B's 2002.
    a.send(&mut cap, false, &[open_rx(1001, 2001)])?;
    b.send(&mut cap, false, &[open_rx(1001, 2002)])?;
    let a_ack = a.send(&mut cap, true, &[rx_ack(PHONE_A, 16384, 2001, 1001)])?;
    let b_ack = b.send(&mut cap, true, &[rx_ack(PHONE_B, 16390, 2002, 1001)])?;
    let a_start = a.send(&mut cap, false, &[start_tx(1001, 2001, PHONE_B, 16390)])?;
    // Several PDUs in one segment.
    let b_start = b.send(
        &mut cap,
        false,
        &[
            start_tx(1001, 2002, PHONE_A, 16384),
            SkinnyMessage::KeepAliveAck,
        ],
    )?;
    for n in 0..4u16 {
        cap.rtp(a_rtp, b_rtp, 0xA000_0001, n, true)?;
        cap.rtp(b_rtp, a_rtp, 0xB000_0001, n, true)?;
    }
    cap.rtcp(rtcp(a_rtp), rtcp(b_rtp), 0xA000_0001, true)?;
    cap.rtcp(rtcp(b_rtp), rtcp(a_rtp), 0xB000_0001, true)?;

    // The call manager points A's media at the conference bridge: no Ack ever comes.
    let a_bridge = a.send(&mut cap, false, &[start_tx(1002, 2003, BRIDGE, 24000)])?;
    for n in 0..3u16 {
        cap.rtp(a_conf, bridge_rtp, 0xA000_0002, n, true)?;
    }

    // Hang-up: Stop + Close packed in one segment per phone, then the bridge stream.
    let a_hang = a.send(
        &mut cap,
        false,
        &[
            SkinnyMessage::StopMediaTransmission(stop(1001, 2001)),
            SkinnyMessage::CloseReceiveChannel(stop(1001, 2001)),
        ],
    )?;
    let b_hang = b.send(
        &mut cap,
        false,
        &[
            SkinnyMessage::StopMediaTransmission(stop(1001, 2002)),
            SkinnyMessage::CloseReceiveChannel(stop(1001, 2002)),
        ],
    )?;
    let a_bridge_stop = a.send(
        &mut cap,
        false,
        &[SkinnyMessage::StopMediaTransmission(stop(1002, 2003))],
    )?;

    // Every pinhole the call opened: (admitted source, destination, kind, frames).
    let holes = [
        // A's receive side (OpenReceiveChannelAck), closed by CloseReceiveChannel.
        (None, a_rtp, "audio", a_ack, a_hang),
        (None, rtcp(a_rtp), "rtcp", a_ack, a_hang),
        (None, b_rtp, "audio", b_ack, b_hang),
        (None, rtcp(b_rtp), "rtcp", b_ack, b_hang),
        // Transmit sides (StartMediaTransmission), closed by StopMediaTransmission.
        (Some(PHONE_A), b_rtp, "audio", a_start, a_hang),
        (Some(PHONE_A), rtcp(b_rtp), "rtcp", a_start, a_hang),
        (Some(PHONE_B), a_rtp, "audio", b_start, b_hang),
        (Some(PHONE_B), rtcp(a_rtp), "rtcp", b_start, b_hang),
        // Toward the conference bridge, which never acks.
        (Some(PHONE_A), bridge_rtp, "audio", a_bridge, a_bridge_stop),
        (
            Some(PHONE_A),
            rtcp(bridge_rtp),
            "rtcp",
            a_bridge,
            a_bridge_stop,
        ),
    ];

    // Media after the hang-up: every packet must be dropped.
    for n in 4..6u16 {
        cap.rtp(a_rtp, b_rtp, 0xA000_0001, n, false)?;
        cap.rtp(b_rtp, a_rtp, 0xB000_0001, n, false)?;
    }
    cap.rtcp(rtcp(a_rtp), rtcp(b_rtp), 0xA000_0001, false)?;
    cap.rtp(a_conf, bridge_rtp, 0xA000_0002, 3, false)?;

    // A new flow toward each pinhole from a source it admits (the bridge stands in for
    // "anyone"), on a port no session uses: only a pinhole still open would let it in.
    for (i, (src, dst, ..)) in (0u16..).zip(holes) {
        let probe = (src.unwrap_or(BRIDGE), 40000 + i);
        cap.udp(probe, dst, b"probe".to_vec(), "probe", false)?;
    }

    a.close(&mut cap)?;
    b.close(&mut cap)?;
    cap.writer
        .into_writer()
        .into_inner()
        .context("flushing the capture")?;

    let pinholes: Vec<Value> = holes
        .iter()
        .map(|&(src, dst, kind, opened, closed)| pinhole(src, dst, kind, opened, closed))
        .collect();
    let expected = json!({
        "capture": out,
        "inside": [PHONE_A.to_string(), PHONE_B.to_string()],
        "outside": [CM.to_string(), BRIDGE.to_string()],
        "skinny_server": sock((CM, SKINNY_PORT)),
        "registered_stations": [PHONE_A.to_string(), PHONE_B.to_string()],
        "pinholes": pinholes,
        "open_pinholes_at_end": 0,
        "vlans": if tagged {
            VLANS.iter().map(|(ip, vlan)| (ip.to_string(), json!(vlan))).collect::<serde_json::Map<_, _>>().into()
        } else {
            Value::Null
        },
        "packets": cap.packets,
    });
    let text = serde_json::to_string_pretty(&expected)?;
    std::fs::write(format!("{out}.expected.json"), &text).context("writing the expectations")?;
    println!("{text}");
    Ok(())
}
