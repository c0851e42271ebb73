//! Errors (reading cannot go on) and warnings (reading went on, or ended normally, but
//! something in the file deserves a note) of capture reading.
//!
//! Both name the file, the packet record number where known, and the byte offset of the
//! record or block in the (decompressed) file.

use std::fmt;
use std::io;

use serde::ser::SerializeStruct;

/// Reading a capture file cannot go on.
///
/// Returned by [`CaptureReader::open`](super::CaptureReader::open) for a bad file header
/// and by [`CaptureReader::next_frame`](super::CaptureReader::next_frame) for a corrupt
/// record; every frame before the corrupt record has already been yielded.
#[derive(Debug)]
pub struct CaptureError {
    /// The path as given (`-` for standard input).
    pub file: String,
    /// 1-based number of the packet record being read, when the problem is in a packet
    /// record (pcap record, pcapng EPB / SPB / PB); `None` for the file header and for
    /// pcapng blocks that carry no packet.
    pub record: Option<u64>,
    /// Byte offset of the record or block start in the (decompressed) file.
    pub offset: u64,
    /// What is wrong.
    pub kind: CaptureErrorKind,
}

/// What made reading stop.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// Reading the file (or decompressing it) failed.
    Io(io::Error),
    /// The first four bytes are no pcap, pcapng, gzip, zstd or xz magic number.
    NotACapture {
        /// The first four bytes of the (decompressed) file.
        magic: [u8; 4],
    },
    /// The file ends inside its file header (pcap header or first Section Header Block).
    TruncatedHeader {
        /// Bytes the header needs.
        needed: u64,
        /// Bytes the file has.
        available: u64,
    },
    /// The pcap major version is below 2, or the pcapng section version is not 1.0 / 1.2.
    UnsupportedVersion {
        /// Major version from the header.
        major: u16,
        /// Minor version from the header.
        minor: u16,
    },
    /// A record's captured length is larger than any capture tool writes for its link
    /// type (262144 bytes for most link types, as Wireshark's readers enforce): the
    /// length field is corrupt.
    RecordTooLarge {
        /// Captured length from the record header.
        caplen: u32,
        /// The largest captured length accepted for this link type.
        max: u32,
    },
    /// A pcapng block whose lengths do not hold together.
    BadBlock {
        /// Block type (in the section's byte order).
        block_type: u32,
        /// Block Total Length from the block header.
        length: u32,
        /// Which rule the block breaks.
        reason: &'static str,
    },
    /// A pcapng packet block names an interface that its section never described.
    UnknownInterface {
        /// Interface id from the packet block.
        interface_id: u32,
        /// Number of interfaces (IDBs) the section has described so far.
        known: u32,
    },
    /// The file describes more interfaces than the documented cap
    /// ([`MAX_POINTS`](super::MAX_POINTS)).
    TooManyInterfaces {
        /// The cap.
        max: u32,
    },
    /// The file shrank while it was read (memory-mapped; another process truncated it):
    /// bytes past its new end read as zeros, so reading stops here.
    Shrunk {
        /// The file's size when it was opened.
        size: u64,
    },
}

impl CaptureErrorKind {
    /// A stable snake_case name for the kind of error (used in JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            CaptureErrorKind::Io(_) => "io",
            CaptureErrorKind::NotACapture { .. } => "not_a_capture",
            CaptureErrorKind::TruncatedHeader { .. } => "truncated_header",
            CaptureErrorKind::UnsupportedVersion { .. } => "unsupported_version",
            CaptureErrorKind::RecordTooLarge { .. } => "record_too_large",
            CaptureErrorKind::BadBlock { .. } => "bad_block",
            CaptureErrorKind::UnknownInterface { .. } => "unknown_interface",
            CaptureErrorKind::TooManyInterfaces { .. } => "too_many_interfaces",
            CaptureErrorKind::Shrunk { .. } => "shrunk",
        }
    }
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureErrorKind::Io(e) => write!(f, "read error: {e}"),
            CaptureErrorKind::NotACapture { magic } => write!(
                f,
                "not a pcap, pcapng, gzip, zstd or xz file (first bytes {:02x} {:02x} {:02x} {:02x})",
                magic[0], magic[1], magic[2], magic[3]
            ),
            CaptureErrorKind::TruncatedHeader { needed, available } => write!(
                f,
                "file header cut short: it needs {needed} bytes, the file has {available}"
            ),
            CaptureErrorKind::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported format version {major}.{minor}")
            }
            CaptureErrorKind::RecordTooLarge { caplen, max } => write!(
                f,
                "captured length {caplen} is larger than the maximum {max} for this link type \
                 (corrupt length field)"
            ),
            CaptureErrorKind::BadBlock {
                block_type,
                length,
                reason,
            } => write!(
                f,
                "bad pcapng block (type 0x{block_type:08x}, total length {length}): {reason}"
            ),
            CaptureErrorKind::UnknownInterface {
                interface_id,
                known,
            } => write!(
                f,
                "packet for interface {interface_id}, but its section describes only {known} \
                 interface(s)"
            ),
            CaptureErrorKind::TooManyInterfaces { max } => {
                write!(f, "more than {max} interfaces in one file")
            }
            CaptureErrorKind::Shrunk { size } => write!(
                f,
                "the file shrank below its size when opened ({size} bytes) while it was read: \
                 another process truncated it"
            ),
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(n) => write!(
                f,
                "{}: record {} at byte offset {}: {}",
                self.file, n, self.offset, self.kind
            ),
            // At the very start of the file: what the file is, not where.
            None if self.offset == 0 => match &self.kind {
                CaptureErrorKind::Io(e) => write!(f, "{}: {e}", self.file),
                CaptureErrorKind::NotACapture { magic } => write!(
                    f,
                    "{}: not a capture (its first bytes, {:02x} {:02x} {:02x} {:02x}, are no \
                     pcap, pcapng, gzip, zstd or xz magic number)",
                    self.file, magic[0], magic[1], magic[2], magic[3]
                ),
                kind => write!(f, "{}: {kind}", self.file),
            },
            None => write!(
                f,
                "{}: at byte offset {}: {}",
                self.file, self.offset, self.kind
            ),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Serialized as `{file, record, offset, kind, message}`, `kind` being
/// [`CaptureErrorKind::code`] and `message` the Display text of the kind.
impl serde::Serialize for CaptureError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CaptureError", 5)?;
        s.serialize_field("file", &self.file)?;
        s.serialize_field("record", &self.record)?;
        s.serialize_field("offset", &self.offset)?;
        s.serialize_field("kind", self.kind.code())?;
        s.serialize_field("message", &self.kind.to_string())?;
        s.end()
    }
}

/// Something in the file deserves a note, but every complete record was yielded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaptureWarning {
    /// The path as given (`-` for standard input).
    pub file: String,
    /// 1-based number of the packet record concerned, if the note is about a packet record.
    pub record: Option<u64>,
    /// Byte offset of the record or block start in the (decompressed) file.
    pub offset: u64,
    /// What was noticed.
    pub kind: WarningKind,
}

/// What was noticed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// The file ends inside a record or block: normal for a capture whose writer was
    /// killed (tcpdump interrupted, disk full). Every complete record before it was
    /// yielded; reading then ended normally.
    TruncatedRecord {
        /// Bytes the record or block needs (its header, or header plus data).
        needed: u64,
        /// Bytes the file still had.
        available: u64,
    },
    /// The compressed stream (gzip, zstd, xz) ended early; the decompressed bytes before that
    /// point were read.
    TruncatedCompression {
        /// The decompressor's message.
        message: String,
    },
    /// The options of a pcapng Interface Description Block (or the records of a Name
    /// Resolution Block) run past the block; the ones before that point were used, the
    /// rest ignored.
    BadOptions {
        /// Block type of the block carrying the options.
        block_type: u32,
        /// Which rule the options break.
        reason: &'static str,
    },
    /// More distinct capture points than [`MAX_POINTS`](super::MAX_POINTS) (LINUX_SLL2
    /// interface indexes); further new ifindexes go to the file's `<stem>` point.
    TooManyPoints {
        /// The cap.
        max: u32,
    },
    /// More than [`MAX_NAMES`](super::MAX_NAMES) distinct (address, name) pairs in the
    /// file's Name Resolution Blocks: the first ones are kept.
    TooManyNames {
        /// The cap.
        max: u32,
    },
    /// A file of a series ([`crate::analysis::Analysis::series`]) starts more than 1 s
    /// after the file read before it ends, or before it ends (they overlap).
    FileGap {
        /// The file read before.
        previous: String,
        /// This file's first frame's time less the previous file's last frame's time
        /// (negative: an overlap).
        gap_ns: i64,
    },
    /// The filter expression does not apply to this link type (libpcap refused to
    /// compile it for it): no frame of that link type is kept.
    FilterNotApplicable {
        /// The expression.
        filter: String,
        /// The LINKTYPE of the frames.
        link_type: u16,
        /// libpcap's message.
        message: String,
    },
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::TruncatedRecord { needed, available } => write!(
                f,
                "file cut short inside a record: it needs {needed} bytes, the file has \
                 {available} (earlier records kept)"
            ),
            WarningKind::TruncatedCompression { message } => {
                write!(f, "compressed stream ended early: {message}")
            }
            WarningKind::BadOptions { block_type, reason } => write!(
                f,
                "options of block type 0x{block_type:08x} ignored from here: {reason}"
            ),
            WarningKind::TooManyPoints { max } => write!(
                f,
                "more than {max} capture points; further interface indexes are merged into \
                 the file's point"
            ),
            WarningKind::TooManyNames { max } => write!(
                f,
                "more than {max} names in the file's name resolution blocks; the first \
                 {max} are kept"
            ),
            WarningKind::FileGap { previous, gap_ns } if *gap_ns < 0 => write!(
                f,
                "starts {:.3} s before the end of {previous}, the file read before it: the \
                 two overlap (their frames are read one file after the other)",
                (gap_ns.unsigned_abs() as f64) / 1e9
            ),
            WarningKind::FileGap { previous, gap_ns } => write!(
                f,
                "starts {:.3} s after the last frame of {previous}: nothing was captured \
                 in between, or a file of the series is missing (a ring buffer overwrites \
                 its oldest file)",
                (*gap_ns as f64) / 1e9
            ),
            WarningKind::FilterNotApplicable { filter, link_type, message } => write!(
                f,
                "the filter {filter:?} does not apply to link type {link_type} ({message}): \
                 no frame of that link type is kept"
            ),
        }
    }
}

impl fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(n) => write!(
                f,
                "{}: record {} at byte offset {}: {}",
                self.file, n, self.offset, self.kind
            ),
            None => write!(
                f,
                "{}: at byte offset {}: {}",
                self.file, self.offset, self.kind
            ),
        }
    }
}
