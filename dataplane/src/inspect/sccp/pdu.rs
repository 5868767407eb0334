//! Version-aware, zero-copy parsing of the Skinny messages the ALG acts on.
//!
//! Offsets are absolute from the start of the PDU, as in `reference/sccp.md`. Only the
//! fields a firewall needs are read; everything after them is skipped by `data_length`.
//! Fields up to the remote port are required; trailing ones (`callReference` in some
//! layouts) are optional because real senders truncate them. The media encryption keys
//! that StartMediaTransmission carries in clear are never copied out of the PDU.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::header::{le_u32, split_pdu, Header, HeaderVersion, MessageId, PduError};

/// A media address as Skinny carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkinnyAddr {
    /// An IPv4 address (every layout before V17; `ip_addr_type` 0 from V17).
    V4(Ipv4Addr),
    /// An IPv6 address (`ip_addr_type` 1).
    V6(Ipv6Addr),
    /// `ip_addr_type` 2 ("IPv4 and IPv6"): the 16 bytes hold IPv4 in their first four
    /// or an IPv6 address; which one applies is the reader's choice.
    Both([u8; 16]),
}

impl SkinnyAddr {
    /// The address to use when the control connection runs over IPv6 (`prefer_v6`) or
    /// IPv4; for [`SkinnyAddr::Both`] this picks the control connection's family.
    pub fn resolve(self, prefer_v6: bool) -> IpAddr {
        match self {
            SkinnyAddr::V4(a) => IpAddr::V4(a),
            SkinnyAddr::V6(a) => IpAddr::V6(a),
            SkinnyAddr::Both(raw) if prefer_v6 => IpAddr::V6(Ipv6Addr::from(raw)),
            SkinnyAddr::Both([a, b, c, d, ..]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        }
    }

    /// Bytes this address occupies in a PDU of `version`.
    pub const fn wire_len(version: HeaderVersion) -> usize {
        if version.has_wide_addresses() {
            20
        } else {
            4
        }
    }
}

/// The NUL-padded device name of a Register (e.g. `SEP00112233AABB`). Two names are
/// equal when their bytes up to the first NUL are.
#[derive(Clone, Copy)]
pub struct DeviceName<'a>(pub &'a [u8]);

impl PartialEq for DeviceName<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DeviceName<'_> {}

impl DeviceName<'_> {
    /// The name's bytes up to the first NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|b| *b == 0).unwrap_or(self.0.len());
        self.0.get(..end).unwrap_or_default()
    }
}

impl fmt::Debug for DeviceName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Register (0x0001).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register<'a> {
    /// Device name (16 bytes at 12).
    pub device_name: DeviceName<'a>,
    /// User id (28).
    pub user_id: u32,
    /// Instance (32).
    pub instance: u32,
    /// The station's own IP (36), a NAT rewrite target.
    pub station_ip: Ipv4Addr,
    /// Device type (40), when present.
    pub device_type: Option<u32>,
    /// Maximum concurrent streams (44), when present.
    pub max_streams: Option<u32>,
}

/// OpenReceiveChannel (0x0105) and OpenMultiMediaReceiveChannel (0x0131): the call
/// manager asks a station to open a receive channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenChannel {
    /// conferenceID (12).
    pub conference_id: u32,
    /// passThruPartyID (16).
    pub pass_thru_party_id: u32,
    /// callReference (at 36 in 0x0105), when present; not read from 0x0131, whose
    /// layout after the ids the sources disagree on.
    pub call_reference: Option<u32>,
}

/// OpenReceiveChannelAck (0x0022) and OpenMultiMediaReceiveChannelAck (0x0031): the
/// station's receive address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelAck {
    /// 0 ok, anything else an error.
    pub status: u32,
    /// Where the station receives RTP.
    pub addr: SkinnyAddr,
    /// RTP port.
    pub port: u16,
    /// passThruPartyID.
    pub pass_thru_party_id: u32,
    /// callReference, when present.
    pub call_reference: Option<u32>,
}

/// The SRTP key material of a StartMediaTransmission, described but never copied: the
/// key and salt stay in the packet buffer and no accessor exposes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyInfoSummary {
    /// The encryption algorithm id (0 = none).
    pub algorithm: u32,
    /// Declared key length in bytes.
    pub key_len: u16,
    /// Declared salt length in bytes.
    pub salt_len: u16,
}

/// StartMediaTransmission (0x008A) and StartMultiMediaTransmission (0x0132): where a
/// station must send its media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartTransmission {
    /// conferenceID.
    pub conference_id: u32,
    /// passThruPartyID.
    pub pass_thru_party_id: u32,
    /// The remote media address.
    pub remote: SkinnyAddr,
    /// The remote RTP port.
    pub remote_port: u16,
    /// callReference, when present.
    pub call_reference: Option<u32>,
    /// Whether (and how) the media is encrypted; 0x008A only.
    pub key_info: Option<KeyInfoSummary>,
}

/// StopMediaTransmission, CloseReceiveChannel, StopMultiMediaTransmission and
/// CloseMultiMediaReceiveChannel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopChannel {
    /// conferenceID (12).
    pub conference_id: u32,
    /// passThruPartyID (16).
    pub pass_thru_party_id: u32,
    /// callReference (20), when present.
    pub call_reference: Option<u32>,
    /// portHandlingFlag (24): `true` = keep the port (hold/resume).
    pub keep_port: bool,
}

/// StartSessionTransmission (0x0095) / StopSessionTransmission (0x0096).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTransmission {
    /// Remote address.
    pub remote: SkinnyAddr,
    /// Session type, when present.
    pub session_type: Option<u32>,
}

/// MediaTransmissionFailure (0x002A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmissionFailure {
    /// conferenceID.
    pub conference_id: u32,
    /// passThruPartyID.
    pub pass_thru_party_id: u32,
    /// Remote address the failed stream used.
    pub remote: SkinnyAddr,
    /// Remote port.
    pub remote_port: u16,
    /// callReference, when present.
    pub call_reference: Option<u32>,
}

/// StartMediaTransmissionAck (0x0154) / StartMultiMediaTransmissionAck (0x0155).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmissionAck {
    /// passThruPartyID (12).
    pub pass_thru_party_id: u32,
    /// callReference (16).
    pub call_reference: u32,
    /// The station's transmit address.
    pub addr: SkinnyAddr,
    /// The station's transmit source port.
    pub port: u16,
    /// Status, when present.
    pub status: Option<u32>,
}

/// One Skinny message, as far as the ALG cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkinnyMessage<'a> {
    /// KeepAlive.
    KeepAlive,
    /// KeepAliveAck.
    KeepAliveAck,
    /// Register.
    Register(Register<'a>),
    /// IpPort: the station's port (raw u32 at 12; not a media trigger).
    IpPort {
        /// The raw port field.
        port: u32,
    },
    /// RegisterAck.
    RegisterAck,
    /// RegisterReject.
    RegisterReject,
    /// Unregister.
    Unregister,
    /// UnregisterAck.
    UnregisterAck,
    /// OpenReceiveChannel.
    OpenReceiveChannel(OpenChannel),
    /// OpenReceiveChannelAck.
    OpenReceiveChannelAck(ChannelAck),
    /// StartMediaTransmission.
    StartMediaTransmission(StartTransmission),
    /// StopMediaTransmission.
    StopMediaTransmission(StopChannel),
    /// CloseReceiveChannel.
    CloseReceiveChannel(StopChannel),
    /// OpenMultiMediaReceiveChannel.
    OpenMultiMediaReceiveChannel(OpenChannel),
    /// OpenMultiMediaReceiveChannelAck.
    OpenMultiMediaReceiveChannelAck(ChannelAck),
    /// StartMultiMediaTransmission.
    StartMultiMediaTransmission(StartTransmission),
    /// StopMultiMediaTransmission.
    StopMultiMediaTransmission(StopChannel),
    /// CloseMultiMediaReceiveChannel.
    CloseMultiMediaReceiveChannel(StopChannel),
    /// StartSessionTransmission.
    StartSessionTransmission(SessionTransmission),
    /// StopSessionTransmission.
    StopSessionTransmission(SessionTransmission),
    /// MediaTransmissionFailure.
    MediaTransmissionFailure(TransmissionFailure),
    /// StartMediaTransmissionAck.
    StartMediaTransmissionAck(TransmissionAck),
    /// StartMultiMediaTransmissionAck.
    StartMultiMediaTransmissionAck(TransmissionAck),
    /// Any other message: not interpreted.
    Other(MessageId),
}

/// A parsed PDU: its header and message. Deliberately holds no raw bytes, so printing
/// it can never leak key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// The header.
    pub header: Header,
    /// The message.
    pub message: SkinnyMessage<'a>,
}

/// Field reader over one PDU with the layout rules of its version.
struct Fields<'a> {
    pdu: &'a [u8],
    wide: bool,
}

impl<'a> Fields<'a> {
    fn u32(&self, offset: usize) -> Result<u32, PduError> {
        le_u32(self.pdu, offset).ok_or(PduError::ShortBody)
    }

    fn opt_u32(&self, offset: usize) -> Option<u32> {
        le_u32(self.pdu, offset)
    }

    fn port(&self, offset: usize) -> Result<u16, PduError> {
        u16::try_from(self.u32(offset)?).map_err(|_| PduError::BadPort)
    }

    fn bytes<const N: usize>(&self, offset: usize) -> Result<[u8; N], PduError> {
        let slice = self
            .pdu
            .get(offset..offset.checked_add(N).ok_or(PduError::ShortBody)?)
            .ok_or(PduError::ShortBody)?;
        <[u8; N]>::try_from(slice).map_err(|_| PduError::ShortBody)
    }

    /// An address at `offset`: 4 bytes before V17, type + 16 bytes from V17.
    fn addr(&self, offset: usize) -> Result<SkinnyAddr, PduError> {
        if !self.wide {
            return Ok(SkinnyAddr::V4(Ipv4Addr::from(self.bytes::<4>(offset)?)));
        }
        let kind = self.u32(offset)?;
        let raw = self.bytes::<16>(offset + 4)?;
        match kind {
            0 => {
                let [a, b, c, d, ..] = raw;
                Ok(SkinnyAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            1 => Ok(SkinnyAddr::V6(Ipv6Addr::from(raw))),
            2 => Ok(SkinnyAddr::Both(raw)),
            _ => Err(PduError::BadAddressType),
        }
    }

    /// How much later a field after an address sits in the V17+ layout.
    fn shift(&self) -> usize {
        if self.wide {
            16
        } else {
            0
        }
    }

    fn channel_ack(&self, call_ref_needs_longer_body: bool) -> Result<ChannelAck, PduError> {
        let s = self.shift();
        let call_reference = if call_ref_needs_longer_body && !self.wide && self.pdu.len() <= 28 {
            None
        } else {
            self.opt_u32(28 + s)
        };
        Ok(ChannelAck {
            status: self.u32(12)?,
            addr: self.addr(16)?,
            port: self.port(20 + s)?,
            pass_thru_party_id: self.u32(24 + s)?,
            call_reference,
        })
    }

    fn stop(&self) -> Result<StopChannel, PduError> {
        Ok(StopChannel {
            conference_id: self.u32(12)?,
            pass_thru_party_id: self.u32(16)?,
            call_reference: self.opt_u32(20),
            keep_port: self.opt_u32(24).is_some_and(|flag| flag == 1),
        })
    }

    fn start_media(&self) -> Result<StartTransmission, PduError> {
        let s = self.shift();
        let key_info = match (self.opt_u32(56 + s), self.opt_u32(60 + s)) {
            (Some(algorithm), Some(lens)) => Some(KeyInfoSummary {
                algorithm,
                key_len: (lens & 0xFFFF) as u16,
                salt_len: (lens >> 16) as u16,
            }),
            _ => None,
        };
        Ok(StartTransmission {
            conference_id: self.u32(12)?,
            pass_thru_party_id: self.u32(16)?,
            remote: self.addr(20)?,
            remote_port: self.port(24 + s)?,
            call_reference: self.opt_u32(52 + s),
            key_info,
        })
    }

    fn start_multi_media(&self) -> Result<StartTransmission, PduError> {
        let s = self.shift();
        Ok(StartTransmission {
            conference_id: self.u32(12)?,
            pass_thru_party_id: self.u32(16)?,
            remote: self.addr(24)?,
            remote_port: self.port(28 + s)?,
            call_reference: self.opt_u32(32 + s),
            key_info: None,
        })
    }

    fn open_channel(&self, call_ref_at: Option<usize>) -> Result<OpenChannel, PduError> {
        Ok(OpenChannel {
            conference_id: self.u32(12)?,
            pass_thru_party_id: self.u32(16)?,
            call_reference: call_ref_at.and_then(|at| self.opt_u32(at)),
        })
    }

    fn session(&self) -> Result<SessionTransmission, PduError> {
        Ok(SessionTransmission {
            remote: self.addr(12)?,
            session_type: self.opt_u32(16 + self.shift()),
        })
    }

    fn failure(&self) -> Result<TransmissionFailure, PduError> {
        let s = self.shift();
        Ok(TransmissionFailure {
            conference_id: self.u32(12)?,
            pass_thru_party_id: self.u32(16)?,
            remote: self.addr(20)?,
            remote_port: self.port(24 + s)?,
            call_reference: self.opt_u32(28 + s),
        })
    }

    fn transmission_ack(&self) -> Result<TransmissionAck, PduError> {
        let s = self.shift();
        Ok(TransmissionAck {
            pass_thru_party_id: self.u32(12)?,
            call_reference: self.u32(16)?,
            addr: self.addr(20)?,
            port: self.port(24 + s)?,
            status: self.opt_u32(28 + s),
        })
    }

    fn register(&self) -> Result<Register<'a>, PduError> {
        let name = self.pdu.get(12..28).ok_or(PduError::ShortBody)?;
        Ok(Register {
            device_name: DeviceName(name),
            user_id: self.u32(28)?,
            instance: self.u32(32)?,
            station_ip: Ipv4Addr::from(self.bytes::<4>(36)?),
            device_type: self.opt_u32(40),
            max_streams: self.opt_u32(44),
        })
    }
}

/// Parse the PDU at the start of `bytes` (which may continue with further PDUs).
/// Returns the PDU and its length. Messages the ALG does not interpret come back as
/// [`SkinnyMessage::Other`]; layouts of unknown header versions are not guessed and
/// also come back as `Other`.
pub fn parse_pdu(bytes: &[u8], max_data_length: u32) -> Result<(Pdu<'_>, usize), PduError> {
    let (header, pdu) = split_pdu(bytes, max_data_length)?;
    let f = Fields {
        pdu,
        wide: header.version.has_wide_addresses(),
    };
    let id = header.message_id;
    let message = if !header.version.is_known() {
        SkinnyMessage::Other(id)
    } else {
        match id {
            MessageId::KEEP_ALIVE => SkinnyMessage::KeepAlive,
            MessageId::KEEP_ALIVE_ACK => SkinnyMessage::KeepAliveAck,
            MessageId::REGISTER => SkinnyMessage::Register(f.register()?),
            MessageId::IP_PORT => SkinnyMessage::IpPort { port: f.u32(12)? },
            MessageId::REGISTER_ACK => SkinnyMessage::RegisterAck,
            MessageId::REGISTER_REJECT => SkinnyMessage::RegisterReject,
            MessageId::UNREGISTER => SkinnyMessage::Unregister,
            MessageId::UNREGISTER_ACK => SkinnyMessage::UnregisterAck,
            MessageId::OPEN_RECEIVE_CHANNEL => {
                SkinnyMessage::OpenReceiveChannel(f.open_channel(Some(36))?)
            }
            MessageId::OPEN_MULTI_MEDIA_RECEIVE_CHANNEL => {
                SkinnyMessage::OpenMultiMediaReceiveChannel(f.open_channel(None)?)
            }
            MessageId::OPEN_RECEIVE_CHANNEL_ACK => {
                SkinnyMessage::OpenReceiveChannelAck(f.channel_ack(true)?)
            }
            MessageId::OPEN_MULTI_MEDIA_RECEIVE_CHANNEL_ACK => {
                SkinnyMessage::OpenMultiMediaReceiveChannelAck(f.channel_ack(false)?)
            }
            MessageId::START_MEDIA_TRANSMISSION => {
                SkinnyMessage::StartMediaTransmission(f.start_media()?)
            }
            MessageId::START_MULTI_MEDIA_TRANSMISSION => {
                SkinnyMessage::StartMultiMediaTransmission(f.start_multi_media()?)
            }
            MessageId::STOP_MEDIA_TRANSMISSION => SkinnyMessage::StopMediaTransmission(f.stop()?),
            MessageId::CLOSE_RECEIVE_CHANNEL => SkinnyMessage::CloseReceiveChannel(f.stop()?),
            MessageId::STOP_MULTI_MEDIA_TRANSMISSION => {
                SkinnyMessage::StopMultiMediaTransmission(f.stop()?)
            }
            MessageId::CLOSE_MULTI_MEDIA_RECEIVE_CHANNEL => {
                SkinnyMessage::CloseMultiMediaReceiveChannel(f.stop()?)
            }
            MessageId::START_SESSION_TRANSMISSION => {
                SkinnyMessage::StartSessionTransmission(f.session()?)
            }
            MessageId::STOP_SESSION_TRANSMISSION => {
                SkinnyMessage::StopSessionTransmission(f.session()?)
            }
            MessageId::MEDIA_TRANSMISSION_FAILURE => {
                SkinnyMessage::MediaTransmissionFailure(f.failure()?)
            }
            MessageId::START_MEDIA_TRANSMISSION_ACK => {
                SkinnyMessage::StartMediaTransmissionAck(f.transmission_ack()?)
            }
            MessageId::START_MULTI_MEDIA_TRANSMISSION_ACK => {
                SkinnyMessage::StartMultiMediaTransmissionAck(f.transmission_ack()?)
            }
            other => SkinnyMessage::Other(other),
        }
    };
    Ok((Pdu { header, message }, pdu.len()))
}
