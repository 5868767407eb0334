//! The Skinny PDU header (`data_length`, `hdr_version`, `message_id`) and framing.
//!
//! Every PDU starts with three little-endian u32: `data_length` (bytes after the first
//! eight, so the PDU is `data_length + 8` long), `hdr_version` (which selects the body
//! layout) and the message id. A `data_length` below 4 cannot hold the message id, and
//! one above the configured maximum is treated as malformed (real PDUs stay far below
//! 4 KiB; Cisco's ACE allows 4..4000).

use crate::inspect::stream::FrameResult;

/// Bytes of `data_length` + `hdr_version` + `message_id`.
pub const HEADER_LEN: usize = 12;

/// Bytes that precede what `data_length` counts.
pub const LENGTH_PREFIX: usize = 8;

/// The smallest valid `data_length` (just the message id).
pub const MIN_DATA_LENGTH: u32 = 4;

/// The default largest `data_length` accepted.
pub const DEFAULT_MAX_DATA_LENGTH: u32 = 4000;

/// The header version of one PDU (`hdr_version`), which selects its body layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderVersion(pub u32);

impl HeaderVersion {
    /// The basic (original) layout.
    pub const BASIC: HeaderVersion = HeaderVersion(0);
    /// Protocol version 10, the first with an explicit version in the header.
    pub const V10: HeaderVersion = HeaderVersion(0x0A);
    /// Protocol version 15.
    pub const V15: HeaderVersion = HeaderVersion(0x0F);
    /// Protocol version 17: addresses become 20 bytes (type + 16 bytes).
    pub const V17: HeaderVersion = HeaderVersion(0x11);
    /// Protocol version 20.
    pub const V20: HeaderVersion = HeaderVersion(0x14);
    /// Protocol version 22, the newest layout described by the reference.
    pub const V22: HeaderVersion = HeaderVersion(0x16);

    /// Whether the layouts of this version are known (basic or V10..V22).
    pub const fn is_known(self) -> bool {
        self.0 == 0 || (self.0 >= Self::V10.0 && self.0 <= Self::V22.0)
    }

    /// Whether addresses use the V17+ form (u32 type + 16 bytes) instead of 4 bytes.
    pub const fn has_wide_addresses(self) -> bool {
        self.0 >= Self::V17.0
    }
}

/// A Skinny message id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u32);

/// Which range a message id falls in, which is also who may send it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdRange {
    /// 0x0000..=0x004C: sent by a station (phone, gateway, conference bridge) to the
    /// call manager.
    StationToCallManager,
    /// 0x0081..=0x0160: sent by the call manager to a station.
    CallManagerToStation,
    /// 0x8000 and up: SPCP (the Skinny variant of small-business call managers).
    Spcp,
    /// Anything else.
    Unknown,
}

impl MessageId {
    /// KeepAlive (station to CM, header only).
    pub const KEEP_ALIVE: MessageId = MessageId(0x0000);
    /// Register.
    pub const REGISTER: MessageId = MessageId(0x0001);
    /// IpPort (the station's listening port; not a media trigger).
    pub const IP_PORT: MessageId = MessageId(0x0002);
    /// OpenReceiveChannelAck: the station's RTP receive address.
    pub const OPEN_RECEIVE_CHANNEL_ACK: MessageId = MessageId(0x0022);
    /// Unregister.
    pub const UNREGISTER: MessageId = MessageId(0x0027);
    /// MediaTransmissionFailure.
    pub const MEDIA_TRANSMISSION_FAILURE: MessageId = MessageId(0x002A);
    /// OpenMultiMediaReceiveChannelAck: the station's video receive address.
    pub const OPEN_MULTI_MEDIA_RECEIVE_CHANNEL_ACK: MessageId = MessageId(0x0031);
    /// RegisterAck.
    pub const REGISTER_ACK: MessageId = MessageId(0x0081);
    /// StartMediaTransmission: where the station sends its RTP.
    pub const START_MEDIA_TRANSMISSION: MessageId = MessageId(0x008A);
    /// StopMediaTransmission.
    pub const STOP_MEDIA_TRANSMISSION: MessageId = MessageId(0x008B);
    /// StartSessionTransmission.
    pub const START_SESSION_TRANSMISSION: MessageId = MessageId(0x0095);
    /// StopSessionTransmission.
    pub const STOP_SESSION_TRANSMISSION: MessageId = MessageId(0x0096);
    /// RegisterReject.
    pub const REGISTER_REJECT: MessageId = MessageId(0x009D);
    /// KeepAliveAck (CM to station, header only).
    pub const KEEP_ALIVE_ACK: MessageId = MessageId(0x0100);
    /// OpenReceiveChannel.
    pub const OPEN_RECEIVE_CHANNEL: MessageId = MessageId(0x0105);
    /// CloseReceiveChannel.
    pub const CLOSE_RECEIVE_CHANNEL: MessageId = MessageId(0x0106);
    /// UnregisterAck.
    pub const UNREGISTER_ACK: MessageId = MessageId(0x0118);
    /// OpenMultiMediaReceiveChannel.
    pub const OPEN_MULTI_MEDIA_RECEIVE_CHANNEL: MessageId = MessageId(0x0131);
    /// StartMultiMediaTransmission.
    pub const START_MULTI_MEDIA_TRANSMISSION: MessageId = MessageId(0x0132);
    /// StopMultiMediaTransmission.
    pub const STOP_MULTI_MEDIA_TRANSMISSION: MessageId = MessageId(0x0133);
    /// CloseMultiMediaReceiveChannel.
    pub const CLOSE_MULTI_MEDIA_RECEIVE_CHANNEL: MessageId = MessageId(0x0136);
    /// StartMediaTransmissionAck.
    pub const START_MEDIA_TRANSMISSION_ACK: MessageId = MessageId(0x0154);
    /// StartMultiMediaTransmissionAck.
    pub const START_MULTI_MEDIA_TRANSMISSION_ACK: MessageId = MessageId(0x0155);

    /// The id range, i.e. the direction the message travels.
    pub const fn range(self) -> IdRange {
        match self.0 {
            0x0000..=0x004C => IdRange::StationToCallManager,
            0x0081..=0x0160 => IdRange::CallManagerToStation,
            0x8000..=0xFFFF => IdRange::Spcp,
            _ => IdRange::Unknown,
        }
    }
}

/// Why a PDU's header or body could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PduError {
    /// Fewer bytes than the header, or than `data_length` announces.
    #[error("truncated PDU")]
    Truncated,
    /// `data_length` below 4.
    #[error("data_length below 4")]
    LengthTooSmall,
    /// `data_length` above the configured maximum.
    #[error("data_length above the configured maximum")]
    LengthTooLarge,
    /// The body is shorter than the fields this message requires.
    #[error("body too short for its message")]
    ShortBody,
    /// A V17+ address with an `ip_addr_type` other than 0, 1 or 2.
    #[error("invalid ip_addr_type")]
    BadAddressType,
    /// A port field above 65535.
    #[error("port out of range")]
    BadPort,
}

/// The fixed header of one PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Bytes after the first eight.
    pub data_length: u32,
    /// Layout selector.
    pub version: HeaderVersion,
    /// What the PDU is.
    pub message_id: MessageId,
}

impl Header {
    /// Length of the whole PDU.
    pub fn pdu_len(&self) -> usize {
        (self.data_length as usize).saturating_add(LENGTH_PREFIX)
    }
}

/// Read a little-endian u32 at `offset`, if the bytes are there.
#[inline]
pub(crate) fn le_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let b = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

/// Check `data_length` against the bounds.
fn check_length(data_length: u32, max_data_length: u32) -> Result<(), PduError> {
    if data_length < MIN_DATA_LENGTH {
        Err(PduError::LengthTooSmall)
    } else if data_length > max_data_length {
        Err(PduError::LengthTooLarge)
    } else {
        Ok(())
    }
}

/// Parse the header of the PDU at the start of `bytes` and return it with the PDU's
/// bytes (exactly `data_length + 8` of them; anything after belongs to the next PDU).
pub fn split_pdu(bytes: &[u8], max_data_length: u32) -> Result<(Header, &[u8]), PduError> {
    let data_length = le_u32(bytes, 0).ok_or(PduError::Truncated)?;
    check_length(data_length, max_data_length)?;
    let version = HeaderVersion(le_u32(bytes, 4).ok_or(PduError::Truncated)?);
    let message_id = MessageId(le_u32(bytes, 8).ok_or(PduError::Truncated)?);
    let header = Header {
        data_length,
        version,
        message_id,
    };
    let pdu = bytes.get(..header.pdu_len()).ok_or(PduError::Truncated)?;
    Ok((header, pdu))
}

/// The framer for [`crate::inspect::stream::StreamReassembler`]: one Skinny PDU.
pub fn frame_pdu(bytes: &[u8], max_data_length: u32) -> FrameResult {
    let Some(data_length) = le_u32(bytes, 0) else {
        return FrameResult::NeedMore;
    };
    if check_length(data_length, max_data_length).is_err() {
        return FrameResult::Invalid;
    }
    let len = (data_length as usize).saturating_add(LENGTH_PREFIX);
    if bytes.len() >= len {
        FrameResult::Complete(len)
    } else {
        FrameResult::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(data_length: u32, version: u32, id: u32) -> Vec<u8> {
        let mut v = data_length.to_le_bytes().to_vec();
        v.extend(version.to_le_bytes());
        v.extend(id.to_le_bytes());
        v
    }

    #[test]
    fn data_length_bounds() {
        for (len, expected) in [
            (0, Err(PduError::LengthTooSmall)),
            (3, Err(PduError::LengthTooSmall)),
            (4001, Err(PduError::LengthTooLarge)),
            (u32::MAX, Err(PduError::LengthTooLarge)),
        ] {
            let pdu = header(len, 0, 0);
            assert_eq!(
                split_pdu(&pdu, DEFAULT_MAX_DATA_LENGTH).map(|h| h.0),
                expected
            );
            assert_eq!(
                frame_pdu(&pdu, DEFAULT_MAX_DATA_LENGTH),
                FrameResult::Invalid
            );
        }
        let ok = header(4, 0x11, 0x100);
        let (h, pdu) = split_pdu(&ok, DEFAULT_MAX_DATA_LENGTH).unwrap();
        assert_eq!(h.version, HeaderVersion::V17);
        assert_eq!(h.message_id, MessageId::KEEP_ALIVE_ACK);
        assert_eq!(pdu.len(), 12);
        assert_eq!(
            frame_pdu(&ok, DEFAULT_MAX_DATA_LENGTH),
            FrameResult::Complete(12)
        );
        // A configured maximum is honoured.
        assert_eq!(frame_pdu(&header(100, 0, 0), 99), FrameResult::Invalid);
    }

    #[test]
    fn framing_needs_the_whole_pdu() {
        let mut pdu = header(8, 0, 0x22);
        assert_eq!(frame_pdu(&pdu[..3], 4000), FrameResult::NeedMore);
        assert_eq!(frame_pdu(&pdu, 4000), FrameResult::NeedMore);
        assert_eq!(split_pdu(&pdu, 4000).map(|h| h.0), Err(PduError::Truncated));
        pdu.extend([0; 4]);
        pdu.extend([9; 3]); // the next PDU's first bytes
        assert_eq!(frame_pdu(&pdu, 4000), FrameResult::Complete(16));
        assert_eq!(split_pdu(&pdu, 4000).map(|h| h.1.len()), Ok(16));
    }

    #[test]
    fn id_ranges_and_versions() {
        assert_eq!(MessageId(0x004C).range(), IdRange::StationToCallManager);
        assert_eq!(MessageId(0x004D).range(), IdRange::Unknown);
        assert_eq!(MessageId(0x0080).range(), IdRange::Unknown);
        assert_eq!(MessageId(0x0081).range(), IdRange::CallManagerToStation);
        assert_eq!(MessageId(0x0160).range(), IdRange::CallManagerToStation);
        assert_eq!(MessageId(0x0161).range(), IdRange::Unknown);
        assert_eq!(MessageId(0x8000).range(), IdRange::Spcp);
        assert_eq!(MessageId(0x1_0000).range(), IdRange::Unknown);
        assert!(HeaderVersion::BASIC.is_known());
        assert!(!HeaderVersion(5).is_known());
        assert!(HeaderVersion::V22.is_known());
        assert!(!HeaderVersion(0x17).is_known());
        assert!(!HeaderVersion::V15.has_wide_addresses());
        assert!(HeaderVersion::V17.has_wide_addresses());
    }
}
