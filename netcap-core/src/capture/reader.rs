//! [`CaptureReader`]: the caller-driven loop over records and blocks.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::bytes::{array, be_u32, Endian};
use super::error::{CaptureError, CaptureErrorKind, CaptureWarning, WarningKind};
use super::pcap::{self, PcapHeader, Variant};
use super::pcapng::{self, block_field};
use super::points::{file_stem, PointTable};
use super::source::Source;
use super::time::{pcap_timestamp_ns, TsResolution};
use super::{max_caplen, AddressName, CaptureMeta, CapturePoint, FileFormat, Frame, InterfaceInfo, LinkType, PointId, SectionInfo, MAX_NAMES, MAX_POINTS};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Zstandard frame magic (RFC 8878 §3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// xz stream header magic (the .xz file format, §2.1.1.1).
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];

/// The compression a file's first bytes announce, if any.
fn compression(head: &[u8]) -> Option<Compression> {
    if head.starts_with(&GZIP_MAGIC) {
        Some(Compression::Gzip)
    } else if head.starts_with(&ZSTD_MAGIC) {
        Some(Compression::Zstd)
    } else if head.starts_with(&XZ_MAGIC) {
        Some(Compression::Xz)
    } else {
        None
    }
}

/// `reader`'s bytes, decompressed when its first bytes announce gzip, Zstandard or xz;
/// which compression it was.
pub(crate) fn decompressed(mut reader: impl Read + Send + 'static) -> io::Result<(Option<Compression>, Box<dyn Read + Send>)> {
    let mut head = [0u8; XZ_MAGIC.len()];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k.min(head.len() - got),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kind = compression(&head[..got]);
    let rest = io::Cursor::new(head[..got].to_vec()).chain(reader);
    let inner: Box<dyn Read + Send> = match kind {
        None => Box::new(rest),
        Some(Compression::Gzip) => Box::new(MultiGzDecoder::new(rest)),
        Some(Compression::Zstd) => Box::new(zstd::stream::read::Decoder::new(rest)?),
        Some(Compression::Xz) => Box::new(liblzma::read::XzDecoder::new_multi_decoder(rest)),
    };
    Ok((kind, inner))
}

/// A compressed capture file's compression, undone as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`.gz`; concatenated members are one stream).
    Gzip,
    /// Zstandard (`.zst`; concatenated frames are one stream).
    Zstd,
    /// xz (`.xz`; concatenated streams are one stream).
    Xz,
}
/// LINUX_SLL2 header: the interface index, big-endian.
const SLL2_IFINDEX: std::ops::Range<usize> = 4..8;
/// AIX pads FDDI frames with 3 bytes in front.
const AIX_FDDI_PADDING: u32 = 3;
const LINKTYPE_FDDI: LinkType = LinkType(10);

/// Streams frames out of one pcap or pcapng file (optionally compressed: gzip,
/// Zstandard, xz).
///
/// # Examples
/// ```
/// use netcap_core::capture::CaptureReader;
///
/// // A pcap header (µs, little-endian, Ethernet) and one 4-byte record.
/// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
/// file.extend([0; 8]);
/// file.extend(65535u32.to_le_bytes());
/// file.extend(1u32.to_le_bytes());
/// for v in [10u32, 20, 4, 60] {
///     file.extend(v.to_le_bytes());
/// }
/// file.extend([0xde, 0xad, 0xbe, 0xef]);
///
/// let mut reader = CaptureReader::from_reader("eth0.pcap", std::io::Cursor::new(file))?;
/// let frame = reader.next_frame()?.expect("one frame");
/// assert_eq!((frame.number, frame.ts_ns, frame.len), (1, 10_000_020_000, 60));
/// assert_eq!(frame.data, [0xde, 0xad, 0xbe, 0xef]);
/// assert!(reader.next_frame()?.is_none());
/// assert_eq!(reader.points()[0].name, "eth0");
/// # Ok::<(), netcap_core::capture::CaptureError>(())
/// ```
pub struct CaptureReader {
    file: String,
    stem: String,
    src: Source,
    compression: Option<Compression>,
    format: FileFormat,
    mode: Mode,
    /// Interfaces of the current pcapng section (the single one of a pcap file).
    ifaces: Vec<Iface>,
    points: PointTable,
    warnings: Vec<CaptureWarning>,
    /// Frame numbers used so far: packet records yielded, plus the blocks tshark lists
    /// as records of their own (custom and systemd-journal blocks).
    records: u64,
    finished: bool,
    sll2_overflow_noted: bool,
    /// The frame of the last `advance`.
    current: Option<Found>,
    /// What the file says beside its packets.
    meta: CaptureMeta,
    /// The (address, name) pairs in `meta.names`, to keep each once.
    named: std::collections::HashSet<(std::net::IpAddr, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Pcap(PcapHeader),
    PcapNg {
        endian: Endian,
        /// Current section ordinal.
        section: u32,
        /// Section Header Blocks seen.
        shbs: u32,
        /// IDBs seen in the whole file.
        idbs: u32,
    },
}

/// Per-interface reading state.
#[derive(Debug, Clone)]
struct Iface {
    link_type: LinkType,
    snaplen: u32,
    tsresol: TsResolution,
    tsoffset: i64,
    /// The point of every frame; `None` for LINUX_SLL2 (a point per ifindex).
    point: Option<PointId>,
    /// File-wide IDB ordinal (0 for pcap): the LINUX_SLL2 point key.
    key: u32,
    if_name: Option<String>,
    idb: Option<u32>,
    section: u32,
    /// LINUX_SLL2: point for frames too short to carry an ifindex.
    fallback: Option<PointId>,
}

/// A frame found, before it is lent out.
struct Found {
    number: u64,
    point: PointId,
    link_type: LinkType,
    ts_ns: i64,
    has_timestamp: bool,
    caplen: u32,
    len: u32,
    offset: u64,
    /// Buffer index of the data.
    start: usize,
}

/// Outcome of reading one pcapng block.
enum Step {
    Frame(Found),
    /// A block that is not a packet was consumed.
    Block(u32),
    End,
}

impl CaptureReader {
    /// Opens a capture file, reading and checking its file header (for pcapng, the first
    /// Section Header Block). Compression is undone transparently: gzip (magic `1f 8b`),
    /// Zstandard (`28 b5 2f fd`), xz (`fd 37 7a 58 5a 00`).
    ///
    /// # Errors
    /// The file cannot be opened or read ([`CaptureErrorKind::Io`]), is no capture
    /// ([`CaptureErrorKind::NotACapture`]), its header is cut short
    /// ([`CaptureErrorKind::TruncatedHeader`]), or its version is unsupported
    /// ([`CaptureErrorKind::UnsupportedVersion`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let name = path.to_string_lossy().into_owned();
        let file = File::open(path).map_err(|e| CaptureError { file: name.clone(), record: None, offset: 0, kind: CaptureErrorKind::Io(e) })?;
        #[cfg(target_os = "linux")]
        if let Some(map) = super::mapped::Mapping::new(&file) {
            if compression(map.bytes()).is_none() {
                return Self::from_source(&name, Source::mapped(std::sync::Arc::new(map)), None);
            }
        }
        Self::from_reader(&name, file)
    }

    /// Opens a capture file like [`CaptureReader::open`], but always through the
    /// streaming buffer, never memory-mapped (the frames and errors are the same).
    ///
    /// # Errors
    /// As [`CaptureReader::open`].
    pub fn open_streamed(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let name = path.to_string_lossy().into_owned();
        match File::open(path) {
            Ok(f) => Self::from_reader(&name, f),
            Err(e) => Err(CaptureError { file: name, record: None, offset: 0, kind: CaptureErrorKind::Io(e) }),
        }
    }

    /// Reads a capture from any reader: standard input (`file` = `-`), a socket, bytes
    /// in memory. `file` is the name used in points, errors and warnings. Detecting
    /// compression like [`CaptureReader::open`].
    ///
    /// # Errors
    /// As [`CaptureReader::open`].
    pub fn from_reader(
        file: &str,
        reader: impl Read + Send + 'static,
    ) -> Result<Self, CaptureError> {
        let header_err = |kind| CaptureError {
            file: file.to_string(),
            record: None,
            offset: 0,
            kind,
        };
        let (kind, inner) = decompressed(reader).map_err(|e| header_err(CaptureErrorKind::Io(e)))?;
        Self::from_source(file, Source::new(inner), kind)
    }

    /// Reads the file header out of `src` and makes the reader.
    fn from_source(file: &str, mut src: Source, compression: Option<Compression>) -> Result<Self, CaptureError> {
        let header_err = |kind| CaptureError {
            file: file.to_string(),
            record: None,
            offset: 0,
            kind,
        };
        let have = src
            .fill(4)
            .map_err(|e| header_err(CaptureErrorKind::Io(e)))?;
        if have < 4 {
            return Err(header_err(CaptureErrorKind::TruncatedHeader {
                needed: 4,
                available: have as u64,
            }));
        }
        let magic = array::<4>(src.available(), 0);
        let mut reader = CaptureReader {
            file: file.to_string(),
            stem: file_stem(file),
            src,
            compression,
            format: FileFormat::PcapNg { big_endian: false },
            mode: Mode::PcapNg {
                endian: Endian::Little,
                section: 0,
                shbs: 0,
                idbs: 0,
            },
            ifaces: Vec::new(),
            points: PointTable::default(),
            warnings: Vec::new(),
            records: 0,
            finished: false,
            sll2_overflow_noted: false,
            meta: CaptureMeta::default(),
            named: std::collections::HashSet::new(),
            current: None,
        };
        if magic == pcapng::SHB_BYTES {
            reader.open_pcapng()?;
        } else if let Some((endian, flavor)) = pcap::classify_magic(magic) {
            reader.open_pcap(endian, flavor)?;
        } else {
            return Err(header_err(CaptureErrorKind::NotACapture { magic }));
        }
        Ok(reader)
    }

    /// The next frame, or `Ok(None)` at the end of the file.
    ///
    /// # Errors
    /// A corrupt record or block, or an I/O error; see [`CaptureErrorKind`]. Every frame
    /// before it was already yielded.
    ///
    /// # Truncation
    /// A file that ends inside a record ends the read normally (`Ok(None)`) after a
    /// [`WarningKind::TruncatedRecord`] warning.
    ///
    /// After an `Err` or `Ok(None)`, every further call returns `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.advance()? {
            Ok(self.current())
        } else {
            Ok(None)
        }
    }

    /// Reads the next frame and keeps it as [`CaptureReader::current`]; `Ok(false)` at
    /// the end of the file. [`CaptureReader::next_frame`] in two steps, for a caller
    /// that holds several readers' frames at once (a time-ordered merge): the frame
    /// stays readable, without a copy, until the next `advance`.
    ///
    /// # Errors
    /// As [`CaptureReader::next_frame`].
    pub fn advance(&mut self) -> Result<bool, CaptureError> {
        self.current = None;
        if self.finished {
            return Ok(false);
        }
        let step = match self.mode {
            Mode::Pcap(header) => self.pcap_next(&header),
            Mode::PcapNg { .. } => self.pcapng_next(),
        };
        if let Ok(Some(found)) = &step {
            self.src.probe(found.start, found.caplen as usize);
        }
        if let Some(size) = self.src.shrunk() {
            let (record, offset) = match &step {
                Ok(Some(found)) => (Some(found.number), found.offset),
                _ => (None, self.src.offset()),
            };
            self.finish();
            return Err(self.error(record, offset, CaptureErrorKind::Shrunk { size }));
        }
        match step {
            Ok(Some(found)) => {
                self.records = found.number;
                self.current = Some(found);
                Ok(true)
            }
            Ok(None) => {
                self.finish();
                Ok(false)
            }
            Err(e) => {
                self.finish();
                Err(e)
            }
        }
    }

    /// The frame the last [`CaptureReader::advance`] read; `None` before the first, at
    /// the end and after an error.
    pub fn current(&self) -> Option<Frame<'_>> {
        let found = self.current.as_ref()?;
        Some(Frame {
            number: found.number,
            point: found.point,
            link_type: found.link_type,
            ts_ns: found.ts_ns,
            has_timestamp: found.has_timestamp,
            caplen: found.caplen,
            len: found.len,
            offset: found.offset,
            data: self.src.bytes(found.start, found.caplen as usize),
        })
    }

    /// The byte offset of the current frame's data in the (decompressed) file:
    /// [`Frame::offset`] plus the record or block header before the data.
    pub fn data_offset(&self) -> Option<u64> {
        self.current.as_ref().map(|f| self.src.file_offset(f.start))
    }

    /// Whether the file is memory-mapped (a regular, uncompressed file on Linux): its
    /// frames are slices of the mapping.
    pub fn is_mapped(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.src.mapping().is_some();
        #[cfg(not(target_os = "linux"))]
        return false;
    }

    /// The mapping of a mapped file (the engine keeps frames as ranges of it).
    #[cfg(target_os = "linux")]
    pub(crate) fn mapping(&self) -> Option<&std::sync::Arc<super::mapped::Mapping>> {
        self.src.mapping()
    }

    /// The capture points seen so far; grows as IDBs and LINUX_SLL2 ifindexes appear.
    /// [`PointId`] is the index.
    pub fn points(&self) -> &[CapturePoint] {
        self.points.as_slice()
    }

    /// Warnings since the last call.
    pub fn take_warnings(&mut self) -> Vec<CaptureWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// What the file says beside its packets, read so far ([`CaptureMeta`]).
    pub fn meta(&self) -> &CaptureMeta {
        &self.meta
    }

    /// The container format.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Whether the file (pcap) or the current section (pcapng) is big-endian: the byte
    /// order libpcap reads a loopback (LINKTYPE_NULL) header in when it compiles a
    /// filter for its frames ([`crate::filter`]).
    pub fn big_endian(&self) -> bool {
        match self.mode {
            Mode::Pcap(h) => h.endian.is_big(),
            Mode::PcapNg { endian, .. } => endian.is_big(),
        }
    }

    /// Whether the file was compressed (gzip, Zstandard or xz).
    pub fn compressed(&self) -> bool {
        self.compression.is_some()
    }

    /// The file's compression, if any.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// The file name as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    // ----- helpers --------------------------------------------------------------------

    fn error(&self, record: Option<u64>, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        CaptureError {
            file: self.file.clone(),
            record,
            offset,
            kind,
        }
    }

    fn warn(&mut self, record: Option<u64>, offset: u64, kind: WarningKind) {
        self.warnings.push(CaptureWarning {
            file: self.file.clone(),
            record,
            offset,
            kind,
        });
    }

    /// `Source::fill` with I/O errors attributed to a record.
    fn fill(&mut self, n: usize, record: Option<u64>, offset: u64) -> Result<usize, CaptureError> {
        self.src
            .fill(n)
            .map_err(|e| self.error(record, offset, CaptureErrorKind::Io(e)))
    }

    fn finish(&mut self) {
        self.finished = true;
        if let Some(message) = self.src.take_cut() {
            let offset = self.src.offset();
            self.warn(None, offset, WarningKind::TruncatedCompression { message });
        }
    }

    fn new_point(&mut self, iface: usize, name: String, ifindex: Option<u32>) -> PointId {
        let point = self.point_template(iface, name, ifindex);
        self.points.add(point)
    }

    fn point_template(&self, iface: usize, name: String, ifindex: Option<u32>) -> CapturePoint {
        let i = self.ifaces.get(iface);
        CapturePoint {
            id: PointId(0),
            name,
            file: self.file.clone(),
            interface: i.and_then(|i| i.if_name.clone()),
            idb: i.and_then(|i| i.idb),
            section: i.map_or(0, |i| i.section),
            ifindex,
            link_type: i.map_or(LinkType::NULL, |i| i.link_type),
            snaplen: i.map_or(0, |i| i.snaplen),
            tsresol: i.map_or(TsResolution::MICROS, |i| i.tsresol).describe(),
        }
    }

    /// The point of a frame of interface `iface` whose data is at buffer `start`.
    fn point_for(&mut self, iface: usize, start: usize, caplen: u32) -> PointId {
        let Some(i) = self.ifaces.get(iface) else {
            return PointId(0);
        };
        if let Some(p) = i.point {
            return p;
        }
        let key = i.key;
        let data = self.src.bytes(start, caplen as usize);
        let ifindex = (data.len() >= SLL2_IFINDEX.end).then(|| be_u32(data, SLL2_IFINDEX));
        if let Some(ifindex) = ifindex {
            if let Some(p) = self.points.sll2(key, ifindex) {
                return p;
            }
            // Past the cap each new ifindex costs a lookup, not a point's making.
            if !self.points.full() {
                let name = format!("{}#{}", self.stem, ifindex);
                let template = self.point_template(iface, name, Some(ifindex));
                if let Some(p) = self.points.add_sll2(key, ifindex, template) {
                    return p;
                }
            }
            if !self.sll2_overflow_noted {
                self.sll2_overflow_noted = true;
                let offset = self.src.offset();
                self.warn(
                    Some(self.records + 1),
                    offset,
                    WarningKind::TooManyPoints { max: MAX_POINTS },
                );
            }
        }
        if let Some(p) = self.ifaces.get(iface).and_then(|i| i.fallback) {
            return p;
        }
        let name = self.stem.clone();
        let p = self.new_point(iface, name, None);
        if let Some(i) = self.ifaces.get_mut(iface) {
            i.fallback = Some(p);
        }
        p
    }

    // ----- pcap -----------------------------------------------------------------------

    fn open_pcap(&mut self, endian: Endian, flavor: pcap::Flavor) -> Result<(), CaptureError> {
        let hlen = pcap::header_len(flavor);
        let have = self.fill(hlen, None, 0)?;
        if have < hlen {
            return Err(self.error(
                None,
                0,
                CaptureErrorKind::TruncatedHeader {
                    needed: hlen as u64,
                    available: have as u64,
                },
            ));
        }
        let (mut header, candidates) = pcap::parse_header(endian, flavor, self.src.available())
            .map_err(|kind| self.error(None, 0, kind))?;
        self.src.consume(hlen);
        if !candidates.is_empty() {
            header.variant = pcap::choose_variant(&mut self.src, &header, candidates)
                .map_err(|e| self.error(None, hlen as u64, CaptureErrorKind::Io(e)))?;
        }
        let tsresol = if header.variant.nanos() {
            TsResolution::NANOS
        } else {
            TsResolution::MICROS
        };
        self.format = FileFormat::Pcap {
            nanos: header.variant.nanos(),
            big_endian: endian.is_big(),
            modified: header.variant.modified(),
        };
        self.mode = Mode::Pcap(header);
        self.ifaces.push(Iface {
            link_type: header.link_type,
            snaplen: header.snaplen,
            tsresol,
            tsoffset: 0,
            point: None,
            key: 0,
            if_name: None,
            idb: None,
            section: 0,
            fallback: None,
        });
        if header.link_type != LinkType::LINUX_SLL2 {
            let name = self.stem.clone();
            let p = self.new_point(0, name, None);
            if let Some(i) = self.ifaces.first_mut() {
                i.point = Some(p);
            }
        }
        Ok(())
    }

    fn pcap_next(&mut self, header: &PcapHeader) -> Result<Option<Found>, CaptureError> {
        let hlen = header.variant.record_header_len();
        let offset = self.src.offset();
        let number = self.records + 1;
        let record = Some(number);
        let have = self.fill(hlen, record, offset)?;
        if have == 0 {
            return Ok(None);
        }
        if have < hlen {
            let kind = WarningKind::TruncatedRecord {
                needed: hlen as u64,
                available: have as u64,
            };
            self.warn(record, offset, kind);
            return Ok(None);
        }
        let rec = header.record(self.src.available());
        let max = max_caplen(header.link_type);
        if rec.incl_len > max {
            let kind = CaptureErrorKind::RecordTooLarge {
                caplen: rec.incl_len,
                max,
            };
            return Err(self.error(record, offset, kind));
        }
        let need = hlen + rec.incl_len as usize;
        let have = self.fill(need, record, offset)?;
        if have < need {
            let kind = WarningKind::TruncatedRecord {
                needed: need as u64,
                available: have as u64,
            };
            self.warn(record, offset, kind);
            return Ok(None);
        }
        let mut start = self.src.position() + hlen;
        let mut caplen = rec.incl_len;
        let mut len = rec.orig_len;
        if header.variant == Variant::Aix
            && header.link_type == LINKTYPE_FDDI
            && caplen >= AIX_FDDI_PADDING
        {
            start += AIX_FDDI_PADDING as usize;
            caplen -= AIX_FDDI_PADDING;
            len = len.saturating_sub(AIX_FDDI_PADDING);
        }
        let point = self.point_for(0, start, caplen);
        self.src.consume(need);
        Ok(Some(Found {
            number,
            point,
            link_type: header.link_type,
            ts_ns: pcap_timestamp_ns(rec.ts_sec, rec.ts_frac, header.variant.nanos()),
            has_timestamp: true,
            caplen,
            len,
            offset,
            start,
        }))
    }

    // ----- pcapng ---------------------------------------------------------------------

    fn open_pcapng(&mut self) -> Result<(), CaptureError> {
        let truncated = |this: &Self, needed: u64, have: usize| {
            this.error(
                None,
                0,
                CaptureErrorKind::TruncatedHeader {
                    needed,
                    available: have as u64,
                },
            )
        };
        let have = self.fill(block_field::MIN_LEN, None, 0)?;
        if have < block_field::MIN_LEN {
            return Err(truncated(self, block_field::MIN_LEN as u64, have));
        }
        let Some(endian) = pcapng::section_endian(self.src.available()) else {
            return Err(self.error(
                None,
                0,
                CaptureErrorKind::NotACapture {
                    magic: pcapng::SHB_BYTES,
                },
            ));
        };
        let len = endian.u32(self.src.available(), block_field::TOTAL_LEN);
        if (block_field::MIN_LEN as u32..=pcapng::MAX_BLOCK_LEN).contains(&len) {
            let have = self.fill(len as usize, None, 0)?;
            if have < len as usize {
                return Err(truncated(self, u64::from(len), have));
            }
        }
        self.format = FileFormat::PcapNg {
            big_endian: endian.is_big(),
        };
        // The generic block path checks the rest (lengths, trailer, version).
        match self.pcapng_block()? {
            Step::Block(pcapng::SHB) => Ok(()),
            _ => Err(truncated(self, block_field::MIN_LEN as u64, 0)),
        }
    }

    fn pcapng_next(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            match self.pcapng_block()? {
                Step::Frame(found) => return Ok(Some(found)),
                Step::Block(_) => {}
                Step::End => return Ok(None),
            }
        }
    }

    /// Reads one block.
    fn pcapng_block(&mut self) -> Result<Step, CaptureError> {
        let Mode::PcapNg {
            endian: section_endian,
            ..
        } = self.mode
        else {
            return Ok(Step::End);
        };
        let offset = self.src.offset();
        let have = self.fill(8, None, offset)?;
        if have == 0 {
            return Ok(Step::End);
        }
        let first = array::<4>(self.src.available(), 0);
        let (endian, block_type) = if first == pcapng::SHB_BYTES {
            let have = self.fill(block_field::MIN_LEN, None, offset)?;
            if have < block_field::MIN_LEN {
                let kind = WarningKind::TruncatedRecord {
                    needed: block_field::MIN_LEN as u64,
                    available: have as u64,
                };
                self.warn(None, offset, kind);
                return Ok(Step::End);
            }
            match pcapng::section_endian(self.src.available()) {
                Some(e) => (e, pcapng::SHB),
                None => {
                    let length = Endian::Little.u32(self.src.available(), block_field::TOTAL_LEN);
                    let kind = CaptureErrorKind::BadBlock {
                        block_type: pcapng::SHB,
                        length,
                        reason: "unknown byte-order magic in Section Header Block",
                    };
                    return Err(self.error(None, offset, kind));
                }
            }
        } else {
            let block_type = section_endian.u32(self.src.available(), block_field::TYPE);
            (section_endian, block_type)
        };
        let is_packet = matches!(block_type, pcapng::EPB | pcapng::SPB | pcapng::PB);
        let record = (is_packet && have >= 4).then_some(self.records + 1);
        if have < 8 {
            let kind = WarningKind::TruncatedRecord {
                needed: block_field::MIN_LEN as u64,
                available: have as u64,
            };
            self.warn(record, offset, kind);
            return Ok(Step::End);
        }
        let length = endian.u32(self.src.available(), block_field::TOTAL_LEN);
        let bad = |this: &Self, reason| {
            this.error(
                record,
                offset,
                CaptureErrorKind::BadBlock {
                    block_type,
                    length,
                    reason,
                },
            )
        };
        if length < block_field::MIN_LEN as u32 {
            return Err(bad(self, "block total length below the 12-byte minimum"));
        }
        if length % 4 != 0 {
            return Err(bad(self, "block total length is not a multiple of 4"));
        }
        if length > pcapng::MAX_BLOCK_LEN {
            return Err(bad(self, "block total length over the 134348832-byte cap"));
        }
        let need = length as usize;
        let have = self.fill(need, record, offset)?;
        if have < need {
            let kind = WarningKind::TruncatedRecord {
                needed: u64::from(length),
                available: have as u64,
            };
            self.warn(record, offset, kind);
            return Ok(Step::End);
        }
        let start = self.src.position();
        let block = self.src.bytes(start, need);
        if endian.u32(block, need - 4..need) != length {
            return Err(bad(
                self,
                "trailing block total length differs from the leading one",
            ));
        }
        match block_type {
            pcapng::SHB => {
                let shb = pcapng::parse_shb(endian, block).map_err(|r| bad(self, r))?;
                let (major, minor) = (shb.major, shb.minor);
                if !(major == 1 && (minor == 0 || minor == 2)) {
                    let kind = CaptureErrorKind::UnsupportedVersion { major, minor };
                    return Err(self.error(None, offset, kind));
                }
                if let Mode::PcapNg {
                    endian: e,
                    section,
                    shbs,
                    ..
                } = &mut self.mode
                {
                    if *shbs > 0 {
                        *section += 1;
                    }
                    *shbs += 1;
                    *e = endian;
                    if shb.hardware.is_some() || shb.os.is_some() || shb.application.is_some() {
                        let section = *section;
                        let (hardware, os, application) = (shb.hardware, shb.os, shb.application);
                        self.meta.sections.push(SectionInfo { section, hardware, os, application });
                    }
                }
                self.ifaces.clear();
            }
            pcapng::NRB => {
                let room = MAX_NAMES.saturating_sub(self.meta.names.len()) + 1;
                let (names, bad) = pcapng::parse_nrb(endian, block, room);
                self.add_names(names, bad, offset);
            }
            pcapng::IDB => {
                let idb = pcapng::parse_idb(endian, block).map_err(|r| bad(self, r))?;
                self.add_idb(idb, offset)?;
            }
            pcapng::EPB | pcapng::PB | pcapng::SPB => {
                let found = self.packet_block(block_type, endian, start, need, record, offset)?;
                self.src.consume(need);
                return Ok(Step::Frame(found));
            }
            // Custom and systemd-journal blocks carry no packet, but tshark lists them as
            // records: they take a frame number.
            t if pcapng::numbered_by_tshark(t) => self.records += 1,
            // NRB, ISB, DSB and unknown blocks carry no packet: skipped.
            _ => {}
        }
        self.src.consume(need);
        Ok(Step::Block(block_type))
    }

    /// Keeps the names of a Name Resolution Block, each (address, name) pair once, up
    /// to [`MAX_NAMES`] per file.
    fn add_names(&mut self, names: Vec<(std::net::IpAddr, String)>, bad: Option<pcapng::Reason>, offset: u64) {
        if let Some(reason) = bad {
            self.warn(None, offset, WarningKind::BadOptions { block_type: pcapng::NRB, reason });
        }
        for (address, name) in names {
            if self.meta.names.len() == MAX_NAMES {
                if !self.meta.names_cut {
                    self.meta.names_cut = true;
                    self.warn(None, offset, WarningKind::TooManyNames { max: MAX_NAMES as u32 });
                }
                break;
            }
            if self.named.insert((address, name.clone())) {
                self.meta.names.push(AddressName { address, name });
            }
        }
    }

    fn add_idb(&mut self, idb: pcapng::Idb, offset: u64) -> Result<(), CaptureError> {
        let Mode::PcapNg { section, idbs, .. } = &mut self.mode else {
            return Ok(());
        };
        if *idbs >= MAX_POINTS {
            let kind = CaptureErrorKind::TooManyInterfaces { max: MAX_POINTS };
            return Err(self.error(None, offset, kind));
        }
        let key = *idbs;
        *idbs += 1;
        let section = *section;
        if let Some(reason) = idb.bad_options {
            let kind = WarningKind::BadOptions {
                block_type: pcapng::IDB,
                reason,
            };
            self.warn(None, offset, kind);
        }
        let ordinal = u32::try_from(self.ifaces.len()).unwrap_or(u32::MAX);
        if idb.description.is_some() || idb.os.is_some() {
            let (description, os) = (idb.description.clone(), idb.os.clone());
            self.meta.interfaces.push(InterfaceInfo { section, idb: ordinal, description, os });
        }
        let described = idb.description.as_deref().and_then(super::points::described_name);
        let name = match (described, &idb.name) {
            (Some(n), _) => n,
            (None, Some(n)) => n.clone(),
            (None, None) if key == 0 => self.stem.clone(),
            (None, None) => format!("{}#{}", self.stem, key),
        };
        self.ifaces.push(Iface {
            link_type: idb.link_type,
            snaplen: idb.snaplen,
            tsresol: idb.tsresol,
            tsoffset: idb.tsoffset,
            point: None,
            key,
            if_name: idb.name,
            idb: Some(ordinal),
            section,
            fallback: None,
        });
        if idb.link_type != LinkType::LINUX_SLL2 {
            let at = self.ifaces.len() - 1;
            let p = self.new_point(at, name, None);
            if let Some(i) = self.ifaces.get_mut(at) {
                i.point = Some(p);
            }
        }
        Ok(())
    }

    /// Turns a checked EPB / PB / SPB at buffer `start` into a frame.
    fn packet_block(
        &mut self,
        block_type: u32,
        endian: Endian,
        start: usize,
        length: usize,
        record: Option<u64>,
        offset: u64,
    ) -> Result<Found, CaptureError> {
        let block = self.src.bytes(start, length);
        let parsed = match block_type {
            pcapng::EPB => pcapng::parse_epb(endian, block),
            pcapng::PB => pcapng::parse_pb(endian, block),
            _ => match self.ifaces.first() {
                Some(i) => pcapng::parse_spb(endian, block, i.snaplen),
                None => {
                    let kind = CaptureErrorKind::UnknownInterface {
                        interface_id: 0,
                        known: 0,
                    };
                    return Err(self.error(record, offset, kind));
                }
            },
        };
        let packet = parsed.map_err(|reason| {
            self.error(
                record,
                offset,
                CaptureErrorKind::BadBlock {
                    block_type,
                    length: u32::try_from(length).unwrap_or(u32::MAX),
                    reason,
                },
            )
        })?;
        let index = packet.interface_id as usize;
        let Some(iface) = self.ifaces.get(index) else {
            let kind = CaptureErrorKind::UnknownInterface {
                interface_id: packet.interface_id,
                known: u32::try_from(self.ifaces.len()).unwrap_or(u32::MAX),
            };
            return Err(self.error(record, offset, kind));
        };
        let max = max_caplen(iface.link_type);
        if packet.caplen > max {
            let kind = CaptureErrorKind::RecordTooLarge {
                caplen: packet.caplen,
                max,
            };
            return Err(self.error(record, offset, kind));
        }
        let link_type = iface.link_type;
        let ts_ns = packet
            .ticks
            .map_or(0, |t| iface.tsresol.timestamp_ns(t, iface.tsoffset));
        let data = start + packet.data;
        let point = self.point_for(index, data, packet.caplen);
        Ok(Found {
            number: self.records + 1,
            point,
            link_type,
            ts_ns,
            has_timestamp: packet.ticks.is_some(),
            caplen: packet.caplen,
            len: packet.orig_len,
            offset,
            start: data,
        })
    }
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("file", &self.file)
            .field("format", &self.format)
            .field("compression", &self.compression)
            .field("records", &self.records)
            .field("points", &self.points.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
