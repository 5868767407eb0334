//! Writing Skinny PDUs in any layout (basic, V15, V17 with IPv4 or IPv6 addresses,
//! V20, ...): used by tests, the fuzz seed corpus and the capture generator. It writes
//! exactly the layouts [`super::pdu::parse_pdu`] reads, with the fields the parser skips
//! filled with plausible defaults (20 ms packets, G.711 µ-law).

use super::header::{HeaderVersion, MessageId, LENGTH_PREFIX};
use super::pdu::{
    ChannelAck, OpenChannel, SessionTransmission, SkinnyAddr, SkinnyMessage, StartTransmission,
    StopChannel, TransmissionAck, TransmissionFailure,
};

/// Why a message cannot be written in the requested layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// An IPv6 (or dual) address in a layout older than V17, which only has 4 bytes.
    #[error("address needs the V17+ layout")]
    NeedsWideAddress,
}

/// SRTP key material to write into a StartMediaTransmission (tests of redaction).
#[derive(Clone, Copy)]
pub struct KeyMaterial<'k> {
    /// Algorithm id.
    pub algorithm: u32,
    /// Key bytes (at most 16 are written).
    pub key: &'k [u8],
    /// Salt bytes (at most 16 are written).
    pub salt: &'k [u8],
}

/// Writes PDUs of one header version into a caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct PduWriter {
    version: HeaderVersion,
}

/// Default millisecondPacketSize written into media messages.
const DEFAULT_PACKET_MS: u32 = 20;
/// Default compressionType (G.711 µ-law 64k).
const DEFAULT_CODEC: u32 = 4;

/// A PDU under construction: fields are placed at absolute offsets.
struct Draft<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    wide: bool,
}

impl Draft<'_> {
    fn put_u32(&mut self, offset: usize, value: u32) {
        self.put(offset, &value.to_le_bytes());
    }

    fn put(&mut self, offset: usize, bytes: &[u8]) {
        let at = self.start + offset;
        let end = at + bytes.len();
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
        if let Some(dst) = self.out.get_mut(at..end) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Extend the PDU with zeros up to `len` bytes.
    fn pad_to(&mut self, len: usize) {
        let end = self.start + len;
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
    }

    fn shift(&self) -> usize {
        if self.wide {
            16
        } else {
            0
        }
    }

    fn addr(&mut self, offset: usize, addr: SkinnyAddr) -> Result<(), BuildError> {
        if !self.wide {
            return match addr {
                SkinnyAddr::V4(a) => {
                    self.put(offset, &a.octets());
                    Ok(())
                }
                SkinnyAddr::V6(_) | SkinnyAddr::Both(_) => Err(BuildError::NeedsWideAddress),
            };
        }
        let (kind, raw) = match addr {
            SkinnyAddr::V4(a) => {
                let mut raw = [0u8; 16];
                raw[..4].copy_from_slice(&a.octets());
                (0, raw)
            }
            SkinnyAddr::V6(a) => (1, a.octets()),
            SkinnyAddr::Both(raw) => (2, raw),
        };
        self.put_u32(offset, kind);
        self.put(offset + 4, &raw);
        Ok(())
    }

    fn finish(self) {
        let len = self.out.len() - self.start;
        let data_length = u32::try_from(len.saturating_sub(LENGTH_PREFIX)).unwrap_or(u32::MAX);
        if let Some(dst) = self.out.get_mut(self.start..self.start + 4) {
            dst.copy_from_slice(&data_length.to_le_bytes());
        }
    }
}

impl PduWriter {
    /// A writer for `version`'s layouts.
    pub fn new(version: HeaderVersion) -> Self {
        PduWriter { version }
    }

    /// The header version written.
    pub fn version(&self) -> HeaderVersion {
        self.version
    }

    /// Append `message` as one PDU to `out`.
    pub fn write(&self, message: &SkinnyMessage<'_>, out: &mut Vec<u8>) -> Result<(), BuildError> {
        self.write_with_key(message, None, out)
    }

    /// Append a StartMediaTransmission carrying SRTP key material.
    pub fn write_start_media_with_key(
        &self,
        start: &StartTransmission,
        key: &KeyMaterial<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), BuildError> {
        self.write_with_key(
            &SkinnyMessage::StartMediaTransmission(*start),
            Some(key),
            out,
        )
    }

    /// A message as one freshly allocated PDU (convenience for tests and tools).
    pub fn to_vec(&self, message: &SkinnyMessage<'_>) -> Result<Vec<u8>, BuildError> {
        let mut out = Vec::new();
        self.write(message, &mut out)?;
        Ok(out)
    }

    fn write_with_key(
        &self,
        message: &SkinnyMessage<'_>,
        key: Option<&KeyMaterial<'_>>,
        out: &mut Vec<u8>,
    ) -> Result<(), BuildError> {
        let start = out.len();
        let mut d = Draft {
            out,
            start,
            wide: self.version.has_wide_addresses(),
        };
        d.put_u32(4, self.version.0);
        d.put_u32(8, message_id(message).0);
        let result = write_body(&mut d, message, key);
        if result.is_err() {
            d.out.truncate(start);
            return result;
        }
        d.finish();
        Ok(())
    }
}

/// The id a message is written with.
pub fn message_id(message: &SkinnyMessage<'_>) -> MessageId {
    use SkinnyMessage as M;
    match message {
        M::KeepAlive => MessageId::KEEP_ALIVE,
        M::KeepAliveAck => MessageId::KEEP_ALIVE_ACK,
        M::Register(_) => MessageId::REGISTER,
        M::IpPort { .. } => MessageId::IP_PORT,
        M::RegisterAck => MessageId::REGISTER_ACK,
        M::RegisterReject => MessageId::REGISTER_REJECT,
        M::Unregister => MessageId::UNREGISTER,
        M::UnregisterAck => MessageId::UNREGISTER_ACK,
        M::OpenReceiveChannel(_) => MessageId::OPEN_RECEIVE_CHANNEL,
        M::OpenReceiveChannelAck(_) => MessageId::OPEN_RECEIVE_CHANNEL_ACK,
        M::StartMediaTransmission(_) => MessageId::START_MEDIA_TRANSMISSION,
        M::StopMediaTransmission(_) => MessageId::STOP_MEDIA_TRANSMISSION,
        M::CloseReceiveChannel(_) => MessageId::CLOSE_RECEIVE_CHANNEL,
        M::OpenMultiMediaReceiveChannel(_) => MessageId::OPEN_MULTI_MEDIA_RECEIVE_CHANNEL,
        M::OpenMultiMediaReceiveChannelAck(_) => MessageId::OPEN_MULTI_MEDIA_RECEIVE_CHANNEL_ACK,
        M::StartMultiMediaTransmission(_) => MessageId::START_MULTI_MEDIA_TRANSMISSION,
        M::StopMultiMediaTransmission(_) => MessageId::STOP_MULTI_MEDIA_TRANSMISSION,
        M::CloseMultiMediaReceiveChannel(_) => MessageId::CLOSE_MULTI_MEDIA_RECEIVE_CHANNEL,
        M::StartSessionTransmission(_) => MessageId::START_SESSION_TRANSMISSION,
        M::StopSessionTransmission(_) => MessageId::STOP_SESSION_TRANSMISSION,
        M::MediaTransmissionFailure(_) => MessageId::MEDIA_TRANSMISSION_FAILURE,
        M::StartMediaTransmissionAck(_) => MessageId::START_MEDIA_TRANSMISSION_ACK,
        M::StartMultiMediaTransmissionAck(_) => MessageId::START_MULTI_MEDIA_TRANSMISSION_ACK,
        M::Other(id) => *id,
    }
}

fn write_body(
    d: &mut Draft<'_>,
    message: &SkinnyMessage<'_>,
    key: Option<&KeyMaterial<'_>>,
) -> Result<(), BuildError> {
    use SkinnyMessage as M;
    match message {
        M::KeepAlive
        | M::KeepAliveAck
        | M::RegisterAck
        | M::RegisterReject
        | M::Unregister
        | M::UnregisterAck
        | M::Other(_) => d.pad_to(12),
        M::Register(r) => {
            let name = r.device_name.as_bytes();
            let mut field = [0u8; 16];
            let n = name.len().min(16);
            field[..n].copy_from_slice(name.get(..n).unwrap_or_default());
            d.put(12, &field);
            d.put_u32(28, r.user_id);
            d.put_u32(32, r.instance);
            d.put(36, &r.station_ip.octets());
            if r.device_type.is_some() || r.max_streams.is_some() {
                d.put_u32(40, r.device_type.unwrap_or(0));
            }
            if let Some(max) = r.max_streams {
                d.put_u32(44, max);
            }
        }
        M::IpPort { port } => d.put_u32(12, *port),
        M::OpenReceiveChannel(o) => write_open(d, o, true),
        M::OpenMultiMediaReceiveChannel(o) => write_open(d, o, false),
        M::OpenReceiveChannelAck(a) | M::OpenMultiMediaReceiveChannelAck(a) => write_ack(d, a)?,
        M::StartMediaTransmission(s) => write_start_media(d, s, key)?,
        M::StartMultiMediaTransmission(s) => {
            let sh = d.shift();
            d.put_u32(12, s.conference_id);
            d.put_u32(16, s.pass_thru_party_id);
            d.put_u32(20, DEFAULT_CODEC);
            d.addr(24, s.remote)?;
            d.put_u32(28 + sh, u32::from(s.remote_port));
            if let Some(call) = s.call_reference {
                d.put_u32(32 + sh, call);
            }
        }
        M::StopMediaTransmission(s)
        | M::CloseReceiveChannel(s)
        | M::StopMultiMediaTransmission(s)
        | M::CloseMultiMediaReceiveChannel(s) => write_stop(d, s),
        M::StartSessionTransmission(s) | M::StopSessionTransmission(s) => write_session(d, s)?,
        M::MediaTransmissionFailure(f) => write_failure(d, f)?,
        M::StartMediaTransmissionAck(a) | M::StartMultiMediaTransmissionAck(a) => {
            write_transmission_ack(d, a)?
        }
    }
    Ok(())
}

fn write_open(d: &mut Draft<'_>, o: &OpenChannel, audio: bool) {
    d.put_u32(12, o.conference_id);
    d.put_u32(16, o.pass_thru_party_id);
    if audio {
        d.put_u32(20, DEFAULT_PACKET_MS);
        d.put_u32(24, DEFAULT_CODEC);
        d.pad_to(36);
        if let Some(call) = o.call_reference {
            d.put_u32(36, call);
        }
    } else {
        d.put_u32(20, DEFAULT_CODEC);
    }
}

fn write_ack(d: &mut Draft<'_>, a: &ChannelAck) -> Result<(), BuildError> {
    let sh = d.shift();
    d.put_u32(12, a.status);
    d.addr(16, a.addr)?;
    d.put_u32(20 + sh, u32::from(a.port));
    d.put_u32(24 + sh, a.pass_thru_party_id);
    if let Some(call) = a.call_reference {
        d.put_u32(28 + sh, call);
    }
    Ok(())
}

fn write_start_media(
    d: &mut Draft<'_>,
    s: &StartTransmission,
    key: Option<&KeyMaterial<'_>>,
) -> Result<(), BuildError> {
    let sh = d.shift();
    d.put_u32(12, s.conference_id);
    d.put_u32(16, s.pass_thru_party_id);
    d.addr(20, s.remote)?;
    d.put_u32(24 + sh, u32::from(s.remote_port));
    d.put_u32(28 + sh, DEFAULT_PACKET_MS);
    d.put_u32(32 + sh, DEFAULT_CODEC);
    d.pad_to(52 + sh);
    let info = s.key_info.or(key.map(|k| super::pdu::KeyInfoSummary {
        algorithm: k.algorithm,
        key_len: k.key.len().min(16) as u16,
        salt_len: k.salt.len().min(16) as u16,
    }));
    if s.call_reference.is_some() || info.is_some() {
        d.put_u32(52 + sh, s.call_reference.unwrap_or(0));
    }
    if let Some(info) = info {
        d.put_u32(56 + sh, info.algorithm);
        d.put(60 + sh, &info.key_len.to_le_bytes());
        d.put(62 + sh, &info.salt_len.to_le_bytes());
        // Key (16) at 64, salt (16) at 80, isMKIPresent at 96, keyDerivationRate at 100.
        d.pad_to(104 + sh);
        if let Some(k) = key {
            d.put(
                64 + sh,
                k.key.get(..k.key.len().min(16)).unwrap_or_default(),
            );
            d.put(
                80 + sh,
                k.salt.get(..k.salt.len().min(16)).unwrap_or_default(),
            );
        }
    }
    Ok(())
}

fn write_stop(d: &mut Draft<'_>, s: &StopChannel) {
    d.put_u32(12, s.conference_id);
    d.put_u32(16, s.pass_thru_party_id);
    if s.call_reference.is_some() || s.keep_port {
        d.put_u32(20, s.call_reference.unwrap_or(0));
    }
    if s.keep_port {
        d.put_u32(24, 1);
    }
}

fn write_session(d: &mut Draft<'_>, s: &SessionTransmission) -> Result<(), BuildError> {
    d.addr(12, s.remote)?;
    if let Some(kind) = s.session_type {
        let sh = d.shift();
        d.put_u32(16 + sh, kind);
    }
    Ok(())
}

fn write_failure(d: &mut Draft<'_>, f: &TransmissionFailure) -> Result<(), BuildError> {
    let sh = d.shift();
    d.put_u32(12, f.conference_id);
    d.put_u32(16, f.pass_thru_party_id);
    d.addr(20, f.remote)?;
    d.put_u32(24 + sh, u32::from(f.remote_port));
    if let Some(call) = f.call_reference {
        d.put_u32(28 + sh, call);
    }
    Ok(())
}

fn write_transmission_ack(d: &mut Draft<'_>, a: &TransmissionAck) -> Result<(), BuildError> {
    let sh = d.shift();
    d.put_u32(12, a.pass_thru_party_id);
    d.put_u32(16, a.call_reference);
    d.addr(20, a.addr)?;
    d.put_u32(24 + sh, u32::from(a.port));
    if let Some(status) = a.status {
        d.put_u32(28 + sh, status);
    }
    Ok(())
}
