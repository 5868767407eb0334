//! Reading pcap and pcapng files into Ethernet frames with absolute timestamps.
//!
//! The format is sniffed from the first four bytes. pcapng files may declare several
//! interfaces with different link types; each packet is converted with its own
//! interface's link type. pcap-file 2 returns enhanced-packet timestamps in raw units
//! (as if they were nanoseconds), so they are scaled here by the interface's
//! `if_tsresol` (default microseconds) and shifted by `if_tsoffset`.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgReader};

use super::linktype::LinkType;
use super::ReplayError;

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xA1, 0xB2, 0xC3, 0xD4],
    [0xD4, 0xC3, 0xB2, 0xA1],
    [0xA1, 0xB2, 0x3C, 0x4D],
    [0x4D, 0x3C, 0xB2, 0xA1],
];

type Source = std::io::Chain<Cursor<[u8; 4]>, BufReader<File>>;

/// One captured packet, as the pipeline wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Capture time, nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// The Ethernet frame (synthesised header for non-Ethernet link types).
    pub frame: Vec<u8>,
}

enum Inner {
    Pcap {
        reader: PcapReader<Source>,
        link: LinkType,
    },
    PcapNg {
        reader: PcapNgReader<Source>,
    },
}

/// A pcap or pcapng file, read packet by packet.
pub struct Capture {
    path: PathBuf,
    inner: Inner,
    format: &'static str,
    link_types: Vec<LinkType>,
}

impl Capture {
    /// Open `path` and check its header (and, for pcap, its link type).
    pub fn open(path: &Path) -> Result<Capture, ReplayError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|source| ReplayError::CaptureOpen {
            path: shown.clone(),
            source,
        })?;
        let mut file = BufReader::new(file);
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic)
            .map_err(|_| ReplayError::NotACapture(shown.clone()))?;
        let source = Cursor::new(magic).chain(file);
        let read_err = |source: pcap_file::PcapError| ReplayError::CaptureRead {
            path: shown.clone(),
            message: source.to_string(),
        };
        if magic == PCAPNG_MAGIC {
            let reader = PcapNgReader::new(source).map_err(read_err)?;
            Ok(Capture {
                path: path.to_path_buf(),
                inner: Inner::PcapNg { reader },
                format: "pcapng",
                link_types: Vec::new(),
            })
        } else if PCAP_MAGICS.contains(&magic) {
            let reader = PcapReader::new(source).map_err(read_err)?;
            let number = u32::from(reader.header().datalink);
            let link = LinkType::from_number(number).ok_or(ReplayError::UnsupportedLinkType {
                path: shown.clone(),
                link_type: number,
            })?;
            Ok(Capture {
                path: path.to_path_buf(),
                inner: Inner::Pcap { reader, link },
                format: "pcap",
                link_types: vec![link],
            })
        } else {
            Err(ReplayError::NotACapture(shown))
        }
    }

    /// `pcap` or `pcapng`.
    pub fn format(&self) -> &'static str {
        self.format
    }

    /// The link types seen so far (pcapng declares them as it goes).
    pub fn link_types(&self) -> &[LinkType] {
        &self.link_types
    }

    /// The next packet, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Option<Result<CapturedFrame, ReplayError>> {
        let path = self.path.display().to_string();
        let read_err = |e: pcap_file::PcapError| ReplayError::CaptureRead {
            path: path.clone(),
            message: e.to_string(),
        };
        match &mut self.inner {
            Inner::Pcap { reader, link } => {
                let packet = match reader.next_packet()? {
                    Ok(p) => p,
                    Err(e) => return Some(Err(read_err(e))),
                };
                Some(Ok(CapturedFrame {
                    time_ns: duration_ns(packet.timestamp),
                    frame: link.to_ethernet(&packet.data),
                }))
            }
            Inner::PcapNg { reader } => loop {
                let block = match reader.next_block()? {
                    Ok(b) => b,
                    Err(e) => return Some(Err(read_err(e))),
                };
                let (interface, raw_time, data) = match &block {
                    Block::EnhancedPacket(p) => {
                        (p.interface_id, duration_ns(p.timestamp), p.data.to_vec())
                    }
                    Block::Packet(p) => (u32::from(p.interface_id), p.timestamp, p.data.to_vec()),
                    Block::SimplePacket(p) => (0, 0, p.data.to_vec()),
                    Block::InterfaceDescription(idb) => {
                        let number = u32::from(idb.linktype);
                        match LinkType::from_number(number) {
                            Some(l) if !self.link_types.contains(&l) => self.link_types.push(l),
                            Some(_) => {}
                            None => {
                                return Some(Err(ReplayError::UnsupportedLinkType {
                                    path,
                                    link_type: number,
                                }))
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                let Some(idb) = usize::try_from(interface)
                    .ok()
                    .and_then(|i| reader.interfaces().get(i))
                else {
                    return Some(Err(ReplayError::CaptureRead {
                        path,
                        message: format!("packet names undeclared interface {interface}"),
                    }));
                };
                let number = u32::from(idb.linktype);
                let Some(link) = LinkType::from_number(number) else {
                    return Some(Err(ReplayError::UnsupportedLinkType {
                        path,
                        link_type: number,
                    }));
                };
                return Some(Ok(CapturedFrame {
                    time_ns: pcapng_time_ns(idb, raw_time),
                    frame: link.to_ethernet(&data),
                }));
            },
        }
    }
}

fn duration_ns(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Scale a raw pcapng timestamp by its interface's resolution and offset.
fn pcapng_time_ns(idb: &InterfaceDescriptionBlock<'_>, raw: u64) -> u64 {
    let mut resol = 6u8;
    let mut offset_s = 0u64;
    for o in &idb.options {
        match o {
            InterfaceDescriptionOption::IfTsResol(r) => resol = *r,
            InterfaceDescriptionOption::IfTsOffset(s) => offset_s = *s,
            _ => {}
        }
    }
    let ns = scale_to_ns(raw, resol);
    ns.saturating_add(offset_s.saturating_mul(1_000_000_000))
}

/// `raw` units of `10^-r` seconds (or `2^-r` when the top bit of `resol` is set) in
/// nanoseconds.
fn scale_to_ns(raw: u64, resol: u8) -> u64 {
    let raw = u128::from(raw);
    let ns = if resol & 0x80 != 0 {
        let shift = u32::from(resol & 0x7F);
        match 1u128.checked_shl(shift) {
            Some(div) if shift < 128 => raw.saturating_mul(1_000_000_000) / div,
            _ => 0,
        }
    } else if resol <= 9 {
        raw.saturating_mul(10u128.pow(9 - u32::from(resol)))
    } else {
        raw / 10u128.pow(u32::from(resol.min(38)) - 9)
    };
    u64::try_from(ns).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::scale_to_ns;

    #[test]
    fn resolutions() {
        assert_eq!(scale_to_ns(1_500_000, 6), 1_500_000_000);
        assert_eq!(scale_to_ns(7, 9), 7);
        assert_eq!(scale_to_ns(1, 3), 1_000_000);
        assert_eq!(scale_to_ns(1 << 20, 0x80 | 20), 1_000_000_000);
        assert_eq!(scale_to_ns(12_000, 12), 12);
    }
}
