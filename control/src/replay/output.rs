//! `--out DIR`: the frames each interface would have sent, one pcap per interface
//! (`DIR/<interface>.pcap`, Ethernet, nanosecond timestamps taken from the capture).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use pinhole_dataplane::policy::Policy;
use pinhole_dataplane::IfaceId;

use super::ReplayError;

struct Writer {
    path: PathBuf,
    pcap: PcapWriter<BufWriter<File>>,
}

/// One pcap writer per interface of the policy.
pub struct OutputDir {
    writers: Vec<Writer>,
}

/// The file name for interface `name`: characters other than letters, digits, `-`, `_`
/// and `.` become `_` so a name can never escape the directory.
pub fn file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    };
    format!("{safe}.pcap")
}

impl OutputDir {
    /// Create `dir` if needed and one (empty) pcap per interface in it.
    pub fn create(dir: &Path, policy: &Policy) -> Result<Self, ReplayError> {
        let io_err = |path: &Path, e: String| ReplayError::Output {
            path: path.display().to_string(),
            message: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e.to_string()))?;
        let mut writers = Vec::new();
        for itf in &policy.interfaces {
            let path = dir.join(file_name(&itf.name));
            let file = File::create(&path).map_err(|e| io_err(&path, e.to_string()))?;
            let header = PcapHeader {
                datalink: DataLink::ETHERNET,
                ts_resolution: TsResolution::NanoSecond,
                snaplen: 262_144,
                ..PcapHeader::default()
            };
            let pcap = PcapWriter::with_header(BufWriter::new(file), header)
                .map_err(|e| io_err(&path, e.to_string()))?;
            writers.push(Writer { path, pcap });
        }
        Ok(OutputDir { writers })
    }

    /// Write `frame`, sent at `time_ns`, to `egress`'s file.
    pub fn write(
        &mut self,
        egress: IfaceId,
        time_ns: u64,
        frame: &[u8],
    ) -> Result<(), ReplayError> {
        let Some(w) = self.writers.get_mut(egress.index()) else {
            return Ok(());
        };
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let packet = PcapPacket::new(Duration::from_nanos(time_ns), len, frame);
        w.pcap
            .write_packet(&packet)
            .map(|_| ())
            .map_err(|e| ReplayError::Output {
                path: w.path.display().to_string(),
                message: e.to_string(),
            })
    }

    /// Flush every file.
    pub fn finish(self) -> Result<(), ReplayError> {
        use std::io::Write;
        for w in self.writers {
            let path = w.path;
            w.pcap
                .into_writer()
                .flush()
                .map_err(|e| ReplayError::Output {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }
}
