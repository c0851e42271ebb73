//! A streaming pcapng writer (draft-ietf-opsawg-pcapng): one section, little-endian,
//! nanosecond timestamps, and the options netcap needs — `opt_comment` on every block,
//! `shb_userappl`, `if_name`, `if_description`, `if_tsresol`.
//!
//! # Which entry point
//! [`PcapngWriter::new`] writes the Section Header Block; [`PcapngWriter::add_interface`]
//! one Interface Description Block per capture point (ids from 0 in call order);
//! [`PcapngWriter::write_packet`] one Enhanced Packet Block per frame, to any
//! [`Write`]. Nothing is buffered beyond the block being written; wrap the sink in a
//! `BufWriter` for many small blocks.
//!
//! # Layout
//! Every block is `type (4) | Block Total Length (4) | body | Block Total Length (4)`,
//! the body padded to 32 bits. Options are `code (2) | length (2) | value` padded to 32
//! bits, ended by `opt_endofopt` (code 0, length 0); a block without options has no
//! options field at all. Every interface is written with `if_tsresol` = 9, so the EPB
//! timestamp is nanoseconds since the Unix epoch, split into its high and low 32 bits.
//!
//! # Errors
//! Bad input is an error, never a panic and never a malformed file: a packet for an
//! interface not added ([`WriteError::UnknownInterface`]), a block larger than
//! [`MAX_BLOCK_LEN`] ([`WriteError::TooLarge`]), a timestamp before 1970
//! ([`WriteError::BeforeEpoch`]: the EPB timestamp is unsigned), or the sink's I/O error.
//! A string option longer than an option can hold is cut at a character boundary
//! ([`MAX_OPTION_LEN`] bytes). After an error nothing of the failed block was written,
//! except for an I/O error in the middle of `write_all`.
//!
//! # Examples
//! ```
//! use netcap_core::capture::LinkType;
//! use netcap_core::export::pcapng::{Interface, Packet, PcapngWriter, SectionHeader};
//!
//! let mut w = PcapngWriter::new(Vec::new(), &SectionHeader { user_appl: Some("netcap"), comment: None })?;
//! let eth0 = w.add_interface(&Interface { link_type: LinkType::ETHERNET, snaplen: 0, name: Some("eth0"), description: None })?;
//! w.write_packet(&Packet { interface: eth0, ts_ns: 1_700_000_000_123_456_789, orig_len: 60, data: &[0; 60], comment: Some("why") })?;
//! let bytes = w.into_inner();
//! assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
//! # Ok::<(), netcap_core::export::pcapng::WriteError>(())
//! ```
//!
//! # References
//! - draft-ietf-opsawg-pcapng, sections 3 (block layout, options), 4.1 (SHB), 4.2 (IDB),
//!   4.3 (EPB).

use std::fmt;
use std::io::{self, Write};

use crate::capture::LinkType;

/// Block types.
mod block {
    pub(super) const SHB: u32 = 0x0A0D_0D0A;
    pub(super) const IDB: u32 = 1;
    pub(super) const EPB: u32 = 6;
}

/// Option codes (`opt_*` in every block, the others in their block's context).
mod opt {
    pub(super) const END: u16 = 0;
    pub(super) const COMMENT: u16 = 1;
    pub(super) const SHB_USERAPPL: u16 = 4;
    pub(super) const IF_NAME: u16 = 2;
    pub(super) const IF_DESCRIPTION: u16 = 3;
    pub(super) const IF_TSRESOL: u16 = 9;
}

const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// `if_tsresol` value: 10^-9 s per tick.
const TSRESOL_NS: u8 = 9;
/// Type, leading and trailing Block Total Length.
const BLOCK_OVERHEAD: usize = 12;
/// EPB fixed part after the type and length: interface id, timestamp (2), caplen, len.
const EPB_FIXED: usize = 20;

/// Largest block written: the same cap netcap's reader (and Wireshark) accepts, an
/// EPB with a 128 MiB packet plus 128 KiB of options.
pub const MAX_BLOCK_LEN: usize = 32 + 128 * 1024 * 1024 + 128 * 1024;

/// Longest option value written; longer strings are cut at a character boundary. The
/// length field is 16 bits; 65532 keeps the padded value within it.
pub const MAX_OPTION_LEN: usize = 65_532;

/// The Section Header Block's options.
#[derive(Debug, Clone, Copy, Default)]
pub struct SectionHeader<'a> {
    /// `shb_userappl`: the application that wrote the file.
    pub user_appl: Option<&'a str>,
    /// `opt_comment` of the section.
    pub comment: Option<&'a str>,
}

/// One Interface Description Block. Timestamps are always nanoseconds (`if_tsresol` 9).
#[derive(Debug, Clone, Copy)]
pub struct Interface<'a> {
    /// The IDB's link type: the LINKTYPE_* value of the frames written for this
    /// interface.
    pub link_type: LinkType,
    /// 0: no limit.
    pub snaplen: u32,
    /// `if_name`.
    pub name: Option<&'a str>,
    /// `if_description`.
    pub description: Option<&'a str>,
}

/// One Enhanced Packet Block.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// The id [`PcapngWriter::add_interface`] returned.
    pub interface: u32,
    /// ns since the Unix epoch, not negative.
    pub ts_ns: i64,
    /// Original length on the wire (the captured length is `data.len()`).
    pub orig_len: u32,
    /// The captured bytes, written as the EPB's packet data; the captured length is
    /// `data.len()`.
    pub data: &'a [u8],
    /// `opt_comment`: why the frame is there.
    pub comment: Option<&'a str>,
}

/// Why a block was not written.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError {
    /// The sink failed.
    Io(io::Error),
    /// A packet for an interface id that no [`PcapngWriter::add_interface`] returned.
    UnknownInterface {
        /// The interface id the packet named.
        interface: u32,
        /// Interfaces described so far: valid ids are below it.
        interfaces: u32,
    },
    /// The block would exceed [`MAX_BLOCK_LEN`] bytes.
    TooLarge {
        /// Bytes the block would have taken: its Block Total Length (for packet data of
        /// 4 GiB or more, its body without the 12 bytes of type and lengths).
        block_len: usize,
    },
    /// The EPB timestamp is an unsigned count of ticks since 1970.
    BeforeEpoch {
        /// The negative timestamp given, in ns since the Unix epoch.
        ts_ns: i64,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Io(e) => e.fmt(f),
            WriteError::UnknownInterface { interface, interfaces } => {
                write!(f, "packet for interface {interface}, but only {interfaces} interfaces were described")
            }
            WriteError::TooLarge { block_len } => {
                write!(f, "block of {block_len} bytes exceeds the pcapng block limit of {MAX_BLOCK_LEN} bytes")
            }
            WriteError::BeforeEpoch { ts_ns } => {
                write!(f, "timestamp {ts_ns} ns is before 1970 and cannot be written in pcapng")
            }
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Writes one pcapng section to `W`, block by block.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    /// Interfaces described so far; packet interface ids must be below it.
    interfaces: u32,
    /// The block being built, reused.
    buf: Vec<u8>,
}

/// Bytes of `len` rounded up to a multiple of 4.
fn padded(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// `s` cut to at most [`MAX_OPTION_LEN`] bytes, at a character boundary.
fn clip(s: &str) -> &[u8] {
    if s.len() <= MAX_OPTION_LEN {
        return s.as_bytes();
    }
    let mut end = MAX_OPTION_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Bytes an options field takes (0 without options): each option's header and padded
/// value, plus `opt_endofopt`.
fn options_len(values: &[(u16, &[u8])]) -> usize {
    if values.is_empty() {
        return 0;
    }
    values.iter().map(|(_, v)| 4 + padded(v.len())).sum::<usize>() + 4
}

fn put_u16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

/// Appends `bytes` and zeros up to the next multiple of 4.
fn put_padded(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(bytes);
    buf.resize(buf.len() + (padded(bytes.len()) - bytes.len()), 0);
}

/// Appends the options field (nothing without options).
fn put_options(buf: &mut Vec<u8>, values: &[(u16, &[u8])]) {
    if values.is_empty() {
        return;
    }
    for (code, v) in values {
        put_u16(buf, *code);
        // `clip` and the fixed options keep every value within 16 bits.
        put_u16(buf, u16::try_from(v.len()).unwrap_or(u16::MAX));
        put_padded(buf, v);
    }
    put_u16(buf, opt::END);
    put_u16(buf, 0);
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a section: writes the Section Header Block (version 1.0, section length
    /// unknown, `shb_userappl` and `opt_comment` when given).
    ///
    /// # Errors
    /// The sink's I/O error.
    pub fn new(out: W, shb: &SectionHeader<'_>) -> Result<Self, WriteError> {
        let mut w = PcapngWriter { out, interfaces: 0, buf: Vec::new() };
        let mut options: Vec<(u16, &[u8])> = Vec::new();
        if let Some(c) = shb.comment {
            options.push((opt::COMMENT, clip(c)));
        }
        if let Some(a) = shb.user_appl {
            options.push((opt::SHB_USERAPPL, clip(a)));
        }
        // Byte-order magic, version 1.0, section length -1 (not given).
        let body = 4 + 2 + 2 + 8 + options_len(&options);
        w.start(block::SHB, body)?;
        put_u32(&mut w.buf, BYTE_ORDER_MAGIC);
        put_u16(&mut w.buf, 1);
        put_u16(&mut w.buf, 0);
        w.buf.extend_from_slice(&(-1i64).to_le_bytes());
        put_options(&mut w.buf, &options);
        w.end()?;
        Ok(w)
    }

    /// Describes one interface; returns its id for [`Packet::interface`].
    ///
    /// # Errors
    /// The sink's I/O error.
    pub fn add_interface(&mut self, idb: &Interface<'_>) -> Result<u32, WriteError> {
        let mut options: Vec<(u16, &[u8])> = Vec::new();
        if let Some(n) = idb.name {
            options.push((opt::IF_NAME, clip(n)));
        }
        if let Some(d) = idb.description {
            options.push((opt::IF_DESCRIPTION, clip(d)));
        }
        options.push((opt::IF_TSRESOL, &[TSRESOL_NS]));
        // Link type, reserved, snaplen.
        let body = 2 + 2 + 4 + options_len(&options);
        self.start(block::IDB, body)?;
        put_u16(&mut self.buf, idb.link_type.0);
        put_u16(&mut self.buf, 0);
        put_u32(&mut self.buf, idb.snaplen);
        put_options(&mut self.buf, &options);
        self.end()?;
        let id = self.interfaces;
        self.interfaces = self.interfaces.saturating_add(1);
        Ok(id)
    }

    /// Writes one Enhanced Packet Block: captured length `data.len()`, original length
    /// `orig_len` as given, the timestamp in ns, and `opt_comment` when given.
    ///
    /// # Errors
    /// [`WriteError::UnknownInterface`], [`WriteError::TooLarge`],
    /// [`WriteError::BeforeEpoch`], or the sink's I/O error.
    pub fn write_packet(&mut self, p: &Packet<'_>) -> Result<(), WriteError> {
        if p.interface >= self.interfaces {
            return Err(WriteError::UnknownInterface { interface: p.interface, interfaces: self.interfaces });
        }
        let ticks = u64::try_from(p.ts_ns).map_err(|_| WriteError::BeforeEpoch { ts_ns: p.ts_ns })?;
        let options: Vec<(u16, &[u8])> = p.comment.map(|c| (opt::COMMENT, clip(c))).into_iter().collect();
        let body = EPB_FIXED.saturating_add(padded(p.data.len())).saturating_add(options_len(&options));
        let caplen = u32::try_from(p.data.len()).map_err(|_| WriteError::TooLarge { block_len: body })?;
        self.start(block::EPB, body)?;
        put_u32(&mut self.buf, p.interface);
        put_u32(&mut self.buf, (ticks >> 32) as u32);
        put_u32(&mut self.buf, ticks as u32);
        put_u32(&mut self.buf, caplen);
        put_u32(&mut self.buf, p.orig_len);
        put_padded(&mut self.buf, p.data);
        put_options(&mut self.buf, &options);
        self.end()
    }

    /// Flushes the sink.
    ///
    /// # Errors
    /// The sink's I/O error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The sink, after the last block.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Starts a block of `body` bytes (between the leading length and the trailing one)
    /// in the buffer, after checking its total length.
    fn start(&mut self, block_type: u32, body: usize) -> Result<(), WriteError> {
        let total = body.saturating_add(BLOCK_OVERHEAD);
        let len = match u32::try_from(total) {
            Ok(len) if total <= MAX_BLOCK_LEN => len,
            _ => return Err(WriteError::TooLarge { block_len: total }),
        };
        self.buf.clear();
        put_u32(&mut self.buf, block_type);
        put_u32(&mut self.buf, len);
        Ok(())
    }

    /// Ends the block (the trailing length repeats the leading one) and writes it.
    fn end(&mut self) -> Result<(), WriteError> {
        let total = self.buf.len().saturating_add(4);
        let len = u32::try_from(total).map_err(|_| WriteError::TooLarge { block_len: total })?;
        // The leading length was computed from the parts; a mismatch would be a bug in
        // this module: refuse to write a malformed block rather than panic.
        if self.buf.get(4..8) != Some(&len.to_le_bytes()[..]) {
            return Err(WriteError::Io(io::Error::other("pcapng block length mismatch (netcap bug)")));
        }
        put_u32(&mut self.buf, len);
        self.out.write_all(&self.buf)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    fn header() -> SectionHeader<'static> {
        SectionHeader { user_appl: Some("netcap test"), comment: Some("netcap extract --finding 1 a.pcap") }
    }

    fn iface<'a>(name: &'a str, link_type: LinkType) -> Interface<'a> {
        Interface { link_type, snaplen: 0, name: Some(name), description: Some("a.pcap") }
    }

    /// The blocks of a little-endian pcapng file: (type, body without the lengths).
    fn blocks(bytes: &[u8]) -> Vec<(u32, &[u8])> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
            let (t, len) = (u32_at(at), u32_at(at + 4) as usize);
            assert_eq!(len % 4, 0, "block length a multiple of 4");
            assert_eq!(u32_at(at + len - 4) as usize, len, "trailing length equals leading");
            out.push((t, &bytes[at + 8..at + len - 4]));
            at += len;
        }
        assert_eq!(at, bytes.len());
        out
    }

    /// The options of a block body whose options start at `from`: (code, value), the
    /// end-of-options marker checked and left out.
    fn options(body: &[u8], from: usize) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = from;
        if at == body.len() {
            return out;
        }
        loop {
            let code = u16::from_le_bytes([body[at], body[at + 1]]);
            let len = usize::from(u16::from_le_bytes([body[at + 2], body[at + 3]]));
            at += 4;
            if code == 0 {
                assert_eq!(len, 0);
                assert_eq!(at, body.len(), "end of options is the last option");
                return out;
            }
            out.push((code, body[at..at + len].to_vec()));
            assert!(body[at + len..at + padded(len)].iter().all(|&b| b == 0), "zero padding");
            at += padded(len);
        }
    }

    fn comment_of(body: &[u8]) -> Option<String> {
        let caplen = u32::from_le_bytes(body[12..16].try_into().unwrap()) as usize;
        options(body, EPB_FIXED + padded(caplen))
            .into_iter()
            .find(|(c, _)| *c == opt::COMMENT)
            .map(|(_, v)| String::from_utf8(v).unwrap())
    }

    /// Frames of every length 0..=5 (every padding), two interfaces of two link types,
    /// with and without comments: netcap's reader gets back every point, timestamp,
    /// length and byte; the comments are where they were put.
    #[test]
    fn netcap_reads_back_what_it_wrote() {
        let mut w = PcapngWriter::new(Vec::new(), &header()).unwrap();
        let a = w.add_interface(&iface("client_pod", LinkType::ETHERNET)).unwrap();
        let b = w.add_interface(&iface("any#3", LinkType::LINUX_SLL2)).unwrap();
        assert_eq!((a, b), (0, 1));
        let data: Vec<u8> = (0u8..6).collect();
        let mut want = Vec::new();
        for n in 0..=5usize {
            let ts = 1_763_786_996_512_170_123 + n as i64 * 1_000_000_007;
            let comment = (n % 2 == 0).then(|| format!("frame {n}: ü"));
            let iface = if n < 3 { a } else { b };
            let orig = n as u32 + 100;
            w.write_packet(&Packet { interface: iface, ts_ns: ts, orig_len: orig, data: &data[..n], comment: comment.as_deref() })
                .unwrap();
            want.push((iface, ts, n as u32, orig, comment));
        }
        let bytes = w.into_inner();

        let mut r = CaptureReader::from_reader("evidence.pcapng", io::Cursor::new(bytes.clone())).unwrap();
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!(f.data, &data[..f.caplen as usize]);
            got.push((f.point.0, f.ts_ns, f.caplen, f.len, f.number));
        }
        let expect: Vec<_> = want.iter().enumerate().map(|(i, w)| (w.0, w.1, w.2, w.3, i as u64 + 1)).collect();
        assert_eq!(got, expect);
        assert!(r.take_warnings().is_empty());
        let points = r.points();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].name, "client_pod");
        assert_eq!(points[0].interface.as_deref(), Some("client_pod"));
        assert_eq!(points[1].link_type, LinkType::LINUX_SLL2);
        assert_eq!((points[0].tsresol.as_str(), points[0].snaplen), ("1e-9", 0));

        let bl = blocks(&bytes);
        assert_eq!(bl.len(), 1 + 2 + 6);
        let (t, shb) = bl[0];
        assert_eq!(t, block::SHB);
        assert_eq!(
            options(shb, 16),
            [(opt::COMMENT, b"netcap extract --finding 1 a.pcap".to_vec()), (opt::SHB_USERAPPL, b"netcap test".to_vec())]
        );
        assert_eq!(
            options(bl[1].1, 8),
            [(opt::IF_NAME, b"client_pod".to_vec()), (opt::IF_DESCRIPTION, b"a.pcap".to_vec()), (opt::IF_TSRESOL, vec![9])]
        );
        let comments: Vec<Option<String>> = bl[3..].iter().map(|(_, b)| comment_of(b)).collect();
        assert_eq!(comments, want.iter().map(|w| w.4.clone()).collect::<Vec<_>>());
    }

    /// One EPB byte for byte: fixed fields, data padded with zeros, the comment option
    /// and the end of options.
    #[test]
    fn enhanced_packet_block_layout() {
        let mut w = PcapngWriter::new(Vec::new(), &SectionHeader::default()).unwrap();
        w.add_interface(&Interface { link_type: LinkType::RAW, snaplen: 0, name: None, description: None }).unwrap();
        let start = w.out.len();
        let ts: i64 = (5 << 32) | 7;
        w.write_packet(&Packet { interface: 0, ts_ns: ts, orig_len: 9, data: &[0xaa, 0xbb, 0xcc], comment: Some("hi") })
            .unwrap();
        let want: Vec<u8> = [
            &6u32.to_le_bytes()[..],
            &48u32.to_le_bytes(),
            &0u32.to_le_bytes(),
            &5u32.to_le_bytes(),
            &7u32.to_le_bytes(),
            &3u32.to_le_bytes(),
            &9u32.to_le_bytes(),
            &[0xaa, 0xbb, 0xcc, 0],
            &[1, 0, 2, 0, b'h', b'i', 0, 0],
            &[0, 0, 0, 0],
            &48u32.to_le_bytes(),
        ]
        .concat();
        assert_eq!(&w.out[start..], &want[..]);
        // Without options: no options field at all.
        let start = w.out.len();
        w.write_packet(&Packet { interface: 0, ts_ns: 0, orig_len: 0, data: &[], comment: None }).unwrap();
        assert_eq!(w.out.len() - start, 32);
    }

    /// Bad input is an error and writes nothing; nothing panics.
    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut w = PcapngWriter::new(Vec::new(), &SectionHeader::default()).unwrap();
        let p = Packet { interface: 0, ts_ns: 1, orig_len: 1, data: &[1], comment: None };
        assert!(matches!(w.write_packet(&p), Err(WriteError::UnknownInterface { interface: 0, interfaces: 0 })));
        w.add_interface(&iface("x", LinkType::ETHERNET)).unwrap();
        let before = w.out.len();
        assert!(matches!(w.write_packet(&Packet { ts_ns: -1, ..p }), Err(WriteError::BeforeEpoch { ts_ns: -1 })));
        let huge = vec![0u8; MAX_BLOCK_LEN];
        assert!(matches!(w.write_packet(&Packet { data: &huge, ..p }), Err(WriteError::TooLarge { .. })));
        assert_eq!(w.out.len(), before, "nothing of a refused block is written");
        assert!(w.write_packet(&Packet { interface: u32::MAX, ..p }).is_err());
        // A comment longer than an option holds is cut at a character boundary.
        let long = "é".repeat(40_000);
        w.write_packet(&Packet { comment: Some(&long), ..p }).unwrap();
        w.write_packet(&Packet { ts_ns: i64::MAX, ..p }).unwrap();
        let bytes = w.into_inner();
        let bl = blocks(&bytes);
        let c = comment_of(bl[2].1).unwrap();
        assert!(c.len() <= MAX_OPTION_LEN && c.len() >= MAX_OPTION_LEN - 1 && c.chars().all(|ch| ch == 'é'));
        let mut r = CaptureReader::from_reader("x", io::Cursor::new(bytes)).unwrap();
        let mut ts = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            ts.push(f.ts_ns);
        }
        assert_eq!(ts, [1, i64::MAX]);
    }
}
