//! The generator's trailer: the last 16 bytes of every measured frame carry a magic
//! number, the trial, the traffic class, the sending side and the send time (TSC), so the
//! receiver can count per class, ignore stragglers of an earlier trial and compute the
//! latency without parsing headers.

/// Trailer length in bytes.
pub const STAMP_LEN: usize = 16;
const MAGIC: [u8; 4] = *b"PHG1";

/// Which generator port a frame leaves from: the engine's inside or outside interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Towards the engine's inside interface (phones, clients).
    Inside = 0,
    /// Towards the engine's outside interface (trunk, servers).
    Outside = 1,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Inside => Side::Outside,
            Side::Outside => Side::Inside,
        }
    }

    /// Index for per-side arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    fn from_u8(v: u8) -> Option<Side> {
        match v {
            0 => Some(Side::Inside),
            1 => Some(Side::Outside),
            _ => None,
        }
    }
}

/// Traffic classes counted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Plain UDP datagrams.
    Udp = 0,
    /// TCP segments of established connections.
    Tcp = 1,
    /// SIP signalling (not stamped: the text must stay valid SIP; counted by port).
    Sip = 2,
    /// RTP media.
    Rtp = 3,
    /// Learning and probe frames (outside any measurement).
    Setup = 4,
}

/// Number of classes.
pub const CLASSES: usize = 5;

impl Class {
    /// Every class, in index order.
    pub const ALL: [Class; CLASSES] =
        [Class::Udp, Class::Tcp, Class::Sip, Class::Rtp, Class::Setup];

    /// Index for per-class arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    fn from_u8(v: u8) -> Option<Class> {
        Class::ALL.get(usize::from(v)).copied()
    }
}

/// What a trailer says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The trial the frame belongs to.
    pub trial: u16,
    /// Its class.
    pub class: Class,
    /// The side it was sent from.
    pub side: Side,
    /// Send time in TSC cycles (one instruction to read; converted once per latency sample).
    pub sent_tsc: u64,
}

/// Write `stamp` into the last [`STAMP_LEN`] bytes of `frame`; `false` if it is shorter.
pub fn write(frame: &mut [u8], stamp: &Stamp) -> bool {
    let Some(start) = frame.len().checked_sub(STAMP_LEN) else {
        return false;
    };
    let Some(t) = frame.get_mut(start..) else {
        return false;
    };
    let mut bytes = [0u8; STAMP_LEN];
    bytes[..4].copy_from_slice(&MAGIC);
    bytes[4..6].copy_from_slice(&stamp.trial.to_le_bytes());
    bytes[6] = stamp.class as u8;
    bytes[7] = stamp.side as u8;
    bytes[8..].copy_from_slice(&stamp.sent_tsc.to_le_bytes());
    t.copy_from_slice(&bytes);
    true
}

/// Read the trailer of `frame`, `None` when it carries none.
pub fn read(frame: &[u8]) -> Option<Stamp> {
    let start = frame.len().checked_sub(STAMP_LEN)?;
    let t: &[u8; STAMP_LEN] = frame.get(start..)?.try_into().ok()?;
    if t[..4] != MAGIC {
        return None;
    }
    Some(Stamp {
        trial: u16::from_le_bytes([t[4], t[5]]),
        class: Class::from_u8(t[6])?,
        side: Side::from_u8(t[7])?,
        sent_tsc: u64::from_le_bytes(t[8..].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_round_trips_at_the_end_of_the_frame() {
        let mut frame = vec![0xaa; 60];
        let s = Stamp {
            trial: 7,
            class: Class::Rtp,
            side: Side::Outside,
            sent_tsc: 0x0102_0304_0506_0708,
        };
        assert!(write(&mut frame, &s));
        assert_eq!(read(&frame), Some(s));
        assert!(frame[..44].iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn frames_without_a_trailer_are_not_misread() {
        assert_eq!(read(&[0u8; 60]), None);
        assert_eq!(read(b"short"), None);
        assert!(!write(
            &mut [0u8; 15],
            &Stamp {
                trial: 0,
                class: Class::Udp,
                side: Side::Inside,
                sent_tsc: 0
            }
        ));
        let mut frame = vec![0u8; 32];
        assert!(write(
            &mut frame,
            &Stamp {
                trial: 1,
                class: Class::Udp,
                side: Side::Inside,
                sent_tsc: 1
            }
        ));
        frame[22] = 9; // class out of range
        assert_eq!(read(&frame), None);
    }
}
