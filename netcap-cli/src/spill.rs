//! One pass for `report` and `extract`: what a second read of the inputs would look at,
//! kept on disk while the analysis reads them once.
//!
//! Which frames a report describes and an evidence file holds is known only at the end
//! (the findings cite them). Instead of reading the inputs again, the run writes one
//! fixed-size [`Logged`] record per frame to an unnamed temporary file — where the
//! frame is, what the TCP analysis said, the TCP header fields — and, for an input
//! that cannot be read again (standard input, compressed files), the frame's bytes to a second one.
//! After the run the records are replayed in the run's order; only the frames wanted
//! are read again ([`Fetcher`]): from the capture file at the frame's offset, or from
//! the spilled bytes. Memory stays bounded; the disk holds 120 bytes per frame (plus
//! the bytes of unseekable inputs) until the command ends.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use netcap_core::analysis::FrameEvent;
use netcap_core::capture::{Frame, LinkType, PointId};
use netcap_core::decode::Packet;
use netcap_core::tcp::{Labels, SegmentInfo};

/// Bytes per record.
const RECORD: usize = 120;

mod bit {
    pub const HAS_TIMESTAMP: u16 = 1;
    /// The bytes are in the capture file (else in the spill).
    pub const IN_FILE: u16 = 2;
    pub const SEGMENT: u16 = 4;
    pub const TCP: u16 = 8;
    /// The TCP segment goes from the lower endpoint to the higher.
    pub const FROM_LOW: u16 = 16;
    pub const KARN: u16 = 32;
    /// Selected while the run went (`extract --flow`, `--frames`).
    pub const SELECTED: u16 = 64;
}

/// The innermost TCP header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub payload_len: u32,
    /// From the lower endpoint (address, then port) to the higher.
    pub from_low: bool,
}

/// One frame as the run saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    pub point: u32,
    pub input: u32,
    pub number: u64,
    /// With the point's clock offset.
    pub ts_ns: i64,
    pub has_timestamp: bool,
    pub caplen: u32,
    pub len: u32,
    pub link_type: LinkType,
    /// The frame's bytes: in the capture file at this offset, or in the spill.
    pub at: u64,
    pub in_file: bool,
    pub segment: Option<SegmentInfo>,
    pub tcp: Option<Tcp>,
    /// SYN attempt number (`extract`), 0 for none.
    pub attempt: u16,
    pub selected: bool,
}

impl Logged {
    /// The frame with `data` as its bytes.
    pub fn frame<'a>(&self, data: &'a [u8]) -> Frame<'a> {
        Frame {
            number: self.number,
            point: PointId(self.point),
            link_type: self.link_type,
            ts_ns: self.ts_ns,
            has_timestamp: self.has_timestamp,
            caplen: self.caplen,
            len: self.len,
            offset: 0,
            data,
        }
    }

    fn encode(&self) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        let mut bits = 0u16;
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(0, &self.point.to_le_bytes());
        put(4, &self.input.to_le_bytes());
        put(8, &self.number.to_le_bytes());
        put(16, &self.ts_ns.to_le_bytes());
        put(24, &self.at.to_le_bytes());
        put(32, &self.caplen.to_le_bytes());
        put(36, &self.len.to_le_bytes());
        put(40, &self.link_type.0.to_le_bytes());
        put(46, &self.attempt.to_le_bytes());
        if let Some(t) = self.tcp {
            bits |= bit::TCP | if t.from_low { bit::FROM_LOW } else { 0 };
            put(44, &t.flags.to_le_bytes());
            put(48, &t.seq.to_le_bytes());
            put(52, &t.ack.to_le_bytes());
            put(56, &t.payload_len.to_le_bytes());
        }
        if let Some(s) = self.segment {
            bits |= bit::SEGMENT | if s.karn { bit::KARN } else { 0 };
            put(60, &s.flow.to_le_bytes());
            put(68, &s.analysis.bits().to_le_bytes());
            put(72, &s.ack_rtt_ns.unwrap_or(i64::MIN).to_le_bytes());
            put(80, &s.acks_frame.unwrap_or(0).to_le_bytes());
            put(88, &s.ts_echo_rtt_ns.unwrap_or(i64::MIN).to_le_bytes());
            put(96, &s.initial_rtt_ns.unwrap_or(i64::MIN).to_le_bytes());
            put(104, &s.dupack_num.unwrap_or(0).to_le_bytes());
            put(108, &s.dupack_frame.unwrap_or(0).to_le_bytes());
        }
        bits |= if self.has_timestamp { bit::HAS_TIMESTAMP } else { 0 };
        bits |= if self.in_file { bit::IN_FILE } else { 0 };
        bits |= if self.selected { bit::SELECTED } else { 0 };
        put(116, &bits.to_le_bytes());
        b
    }

    fn decode(b: &[u8; RECORD]) -> Logged {
        let u16_at = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let u64_at = |at: usize| u64::from(u32_at(at)) | (u64::from(u32_at(at + 4)) << 32);
        let i64_at = |at: usize| u64_at(at) as i64;
        let some = |v: i64| (v != i64::MIN).then_some(v);
        let bits = u16_at(116);
        let tcp = (bits & bit::TCP != 0).then(|| Tcp {
            seq: u32_at(48),
            ack: u32_at(52),
            flags: u16_at(44),
            payload_len: u32_at(56),
            from_low: bits & bit::FROM_LOW != 0,
        });
        let segment = (bits & bit::SEGMENT != 0).then(|| SegmentInfo {
            flow: u64_at(60),
            analysis: Labels::from_bits(u32_at(68)),
            ack_rtt_ns: some(i64_at(72)),
            acks_frame: Some(u64_at(80)).filter(|&f| f != 0),
            karn: bits & bit::KARN != 0,
            ts_echo_rtt_ns: some(i64_at(88)),
            initial_rtt_ns: some(i64_at(96)),
            dupack_num: Some(u32_at(104)).filter(|&n| n != 0),
            dupack_frame: Some(u64_at(108)).filter(|&f| f != 0),
        });
        Logged {
            point: u32_at(0),
            input: u32_at(4),
            number: u64_at(8),
            ts_ns: i64_at(16),
            has_timestamp: bits & bit::HAS_TIMESTAMP != 0,
            caplen: u32_at(32),
            len: u32_at(36),
            link_type: LinkType(u16_at(40)),
            at: u64_at(24),
            in_file: bits & bit::IN_FILE != 0,
            segment,
            tcp,
            attempt: u16_at(46),
            selected: bits & bit::SELECTED != 0,
        }
    }
}

/// The innermost TCP header of a decoded frame.
pub fn tcp_fields(packet: &Packet) -> Option<Tcp> {
    let t = packet.innermost_tcp()?;
    Some(Tcp { seq: t.seq, ack: t.ack, flags: t.flags, payload_len: t.payload_len, from_low: t.src <= t.dst })
}

/// The records of a run, and the bytes of its unseekable inputs.
#[derive(Debug)]
pub struct FrameLog {
    records: BufWriter<File>,
    bytes: Option<BufWriter<File>>,
    spilled: u64,
    count: u64,
}

impl FrameLog {
    /// Two unnamed temporary files (`$TMPDIR`), gone when the log is.
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn new() -> io::Result<Self> {
        Ok(FrameLog { records: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?), bytes: None, spilled: 0, count: 0 })
    }

    /// Logs the frame of `e`: `attempt` its SYN attempt (0: none), `selected` whether a
    /// selector chose it as it went by.
    ///
    /// # Errors
    /// Writing a temporary file failed (a full disk, say).
    pub fn add(&mut self, e: &FrameEvent<'_>, attempt: u16, selected: bool) -> io::Result<()> {
        let at = if e.seekable {
            e.data_offset
        } else {
            let spill = match &mut self.bytes {
                Some(s) => s,
                None => self.bytes.insert(BufWriter::with_capacity(1 << 16, tempfile::tempfile()?)),
            };
            spill.write_all(e.frame.data)?;
            let at = self.spilled;
            self.spilled += e.frame.data.len() as u64;
            at
        };
        let rec = Logged {
            point: u32::try_from(e.point).unwrap_or(u32::MAX),
            input: u32::try_from(e.input).unwrap_or(u32::MAX),
            number: e.frame.number,
            ts_ns: e.frame.ts_ns,
            has_timestamp: e.frame.has_timestamp,
            caplen: e.frame.caplen,
            len: e.frame.len,
            link_type: e.frame.link_type,
            at,
            in_file: e.seekable,
            segment: e.segment.copied(),
            tcp: tcp_fields(e.packet),
            attempt,
            selected,
        };
        self.count += 1;
        self.records.write_all(&rec.encode())
    }

    /// The records in the order logged, and the fetcher of their bytes.
    ///
    /// # Errors
    /// Flushing or rewinding a temporary file failed.
    pub fn replay(self, inputs: &[String]) -> io::Result<(Replay, Fetcher)> {
        let mut records = self.records.into_inner().map_err(|e| e.into_error())?;
        records.seek(SeekFrom::Start(0))?;
        let spill = match self.bytes {
            Some(b) => Some(b.into_inner().map_err(|e| e.into_error())?),
            None => None,
        };
        let replay = Replay { reader: BufReader::with_capacity(1 << 16, records), left: self.count };
        Ok((replay, Fetcher { inputs: inputs.to_vec(), files: Vec::new(), spill }))
    }
}

/// The logged records, in order.
#[derive(Debug)]
pub struct Replay {
    reader: BufReader<File>,
    left: u64,
}

impl Iterator for Replay {
    type Item = io::Result<Logged>;

    fn next(&mut self) -> Option<io::Result<Logged>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut b = [0u8; RECORD];
        Some(self.reader.read_exact(&mut b).map(|()| Logged::decode(&b)))
    }
}

/// Reads a logged frame's bytes again.
#[derive(Debug)]
pub struct Fetcher {
    inputs: Vec<String>,
    /// Capture files opened so far, by input.
    files: Vec<Option<File>>,
    spill: Option<File>,
}

impl Fetcher {
    /// The bytes of `rec`'s frame.
    ///
    /// # Errors
    /// The capture file cannot be opened or read (moved, or shorter than when read:
    /// the message names it), or the spill cannot be read.
    pub fn bytes(&mut self, rec: &Logged) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; rec.caplen as usize];
        let file = if rec.in_file {
            let i = rec.input as usize;
            if self.files.len() <= i {
                self.files.resize_with(i + 1, || None);
            }
            let name = self.inputs.get(i).cloned().unwrap_or_default();
            match &mut self.files[i] {
                Some(f) => f,
                slot => slot.insert(File::open(&name).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?),
            }
        } else {
            self.spill.as_mut().ok_or_else(|| io::Error::other("frame bytes were not kept"))?
        };
        file.seek(SeekFrom::Start(rec.at))?;
        file.read_exact(&mut buf).map_err(|e| {
            let name = if rec.in_file { self.inputs.get(rec.input as usize).cloned().unwrap_or_default() } else { "the spill".to_string() };
            io::Error::new(e.kind(), format!("{name}: frame {} at byte {}: {e} (the file changed since it was read?)", rec.number, rec.at))
        })?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut s = SegmentInfo { flow: 7, ack_rtt_ns: Some(-3), acks_frame: Some(12), karn: true, ts_echo_rtt_ns: Some(i64::MAX), initial_rtt_ns: None, dupack_num: Some(2), dupack_frame: Some(9), ..SegmentInfo::default() };
        s.analysis.set(netcap_core::tcp::Label::DuplicateAck);
        let rec = Logged {
            point: 3,
            input: 1,
            number: u64::MAX - 1,
            ts_ns: -5,
            has_timestamp: true,
            caplen: 1514,
            len: 9000,
            link_type: LinkType(276),
            at: 1 << 40,
            in_file: true,
            segment: Some(s),
            tcp: Some(Tcp { seq: u32::MAX, ack: 1, flags: 0x12, payload_len: 1448, from_low: true }),
            attempt: 3,
            selected: true,
        };
        assert_eq!(Logged::decode(&rec.encode()), rec);
        let bare = Logged { segment: None, tcp: None, in_file: false, has_timestamp: false, selected: false, attempt: 0, ..rec };
        assert_eq!(Logged::decode(&bare.encode()), bare);
    }
}
