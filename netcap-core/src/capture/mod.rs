//! Capture reading: pcap / pcapng (optionally gzip-, zstd- or xz-compressed) → timestamped frames,
//! one [`CapturePoint`] per (file, interface).
//!
//! # Which entry point
//! - [`CaptureReader::open`] for a file on disk, [`CaptureReader::from_reader`] for
//!   standard input (`-`) or bytes in memory. Both sniff the format from the first bytes:
//!   classic pcap (µs, ns, both byte orders, Kuznetsov "modified", AIX, Nokia, Ixia),
//!   pcapng (any number of sections and interfaces, both byte orders), each optionally
//!   gzip-, zstd- or xz-compressed.
//! - [`CaptureReader::next_frame`] in a loop yields [`Frame`]s: zero-copy views into a
//!   bounded buffer, numbered exactly as tshark numbers frames.
//! - [`CaptureReader::points`] lists the capture points seen so far;
//!   [`Frame::point`] indexes it.
//! - [`CaptureReader::take_warnings`] returns what deserved a note (a file cut short,
//!   a compressed stream cut short, bad IDB options) without stopping the read.
//!
//! # Capture points
//! A classic pcap file is one point named after the file stem ([`file_stem`]); a pcapng
//! file has one point per Interface Description Block, named by its `if_name`, else
//! `<stem>` for the first IDB of the file and `<stem>#<n>` (n = file-wide IDB ordinal)
//! for the others; a LINUX_SLL2 interface (pcap or pcapng) has one point per interface
//! index, `<stem>#<ifindex>` (frames too short to carry one go to `<stem>`). Names are
//! made unique within a file by appending `~2`, `~3`, …
//!
//! # Timestamps
//! i64 nanoseconds since the Unix epoch, computed with i128 intermediates and saturated:
//! pcapng `if_tsresol` in both its decimal (10^-n) and power-of-two (2^-n) forms, plus
//! `if_tsoffset` seconds. Simple Packet Blocks have no timestamp
//! ([`Frame::has_timestamp`] is false, [`Frame::ts_ns`] 0).
//!
//! # Errors and warnings
//! A bad file header is an `Err` from `open`. A corrupt record (a length that no writer
//! produces, pcapng lengths that do not hold together, a packet for an undescribed
//! interface) is an `Err` from `next_frame` naming file, record number and byte offset,
//! after every earlier frame was yielded. A file cut short inside a record is normal for
//! a killed capture: a [`WarningKind::TruncatedRecord`] warning, and the read ends with
//! `Ok(None)`. After an `Err` or `Ok(None)`, `next_frame` keeps returning `Ok(None)`.
//!
//! # Limits
//! - A pcap record's captured length may not exceed [`max_caplen`] of its link type
//!   (262144 bytes; 128 MiB for USB and D-Bus, 8 MiB for EBHSCR), as in Wireshark.
//! - A pcapng block may not exceed 134348832 bytes (an EPB with a 128 MiB packet and
//!   128 KiB of options), as in Wireshark.
//! - The buffer grows only when full of bytes actually read, doubling, up to the record
//!   being read: memory is bounded by the largest record present, not by length fields.
//! - At most [`MAX_POINTS`] interfaces (IDBs) per file and as many LINUX_SLL2 points.
//!
//! # References
//! - pcap: draft-ietf-opsawg-pcap; pcapng: draft-ietf-opsawg-pcapng;
//!   link types: <https://www.tcpdump.org/linktypes.html>
//! - LINUX_SLL2 header: <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html>
//! - Wireshark `wiretap/libpcap.c`, `wiretap/pcapng.c`: the variant heuristics and the
//!   limits netcap mirrors so that it reads the frames tshark reads.

use std::fmt;

mod bytes;
mod error;
mod find;
#[cfg(target_os = "linux")]
pub(crate) mod mapped;
mod pcap;
mod pcapng;
mod points;
mod reader;
mod source;
mod time;

#[cfg(test)]
mod tests;

pub use error::{CaptureError, CaptureErrorKind, CaptureWarning, WarningKind};
pub use points::file_stem;
pub use find::{find_captures, relative_name};
pub use reader::{CaptureReader, Compression};
pub(crate) use reader::decompressed;

/// A pcap / pcapng link type (LINKTYPE_* value, high bits of the pcap field masked off).
///
/// Open newtype: an unknown value is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct LinkType(pub u16);

impl LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family in the capturing host's
    /// byte order, then the packet.
    pub const NULL: LinkType = LinkType(0);
    /// LINKTYPE_ETHERNET (1): IEEE 802.3 Ethernet.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (no link-layer header) under link type 12, libpcap's DLT_RAW on every OS
    /// but OpenBSD.
    pub const RAW_12: LinkType = LinkType(12);
    /// Raw IP (no link-layer header) under link type 14, OpenBSD's DLT_RAW.
    pub const RAW_14: LinkType = LinkType(14);
    /// LINKTYPE_RAW (101): raw IP, IPv4 or IPv6 by the version nibble, no link-layer
    /// header.
    pub const RAW: LinkType = LinkType(101);
    /// LINKTYPE_LOOP (108): OpenBSD loopback, a 4-byte address family in network byte
    /// order, then the packet.
    pub const LOOP: LinkType = LinkType(108);
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1, a 16-byte pseudo-header.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// LINKTYPE_IPV4 (228): raw IPv4, no link-layer header.
    pub const IPV4: LinkType = LinkType(228);
    /// LINKTYPE_IPV6 (229): raw IPv6, no link-layer header.
    pub const IPV6: LinkType = LinkType(229);
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2, a 20-byte pseudo-header with
    /// the interface index.
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// Index of a capture point in [`CaptureReader::points`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PointId(pub u32);

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Most interfaces (IDBs) one file may describe, and most LINUX_SLL2 ifindex points:
/// far above any real host's interface count, low enough that a hostile file cannot
/// grow the point table without bound.
pub const MAX_POINTS: u32 = 65_536;

/// The largest captured length Wireshark accepts for a link type (its
/// `wtap_max_snaplen_for_encap`): a longer record is a corrupt length field.
///
/// 128 MiB for D-Bus (231) and the USB link types (186, 189, 220, 249, 266), 8 MiB for
/// EBHSCR (279), 262144 bytes for every other link type.
pub fn max_caplen(link_type: LinkType) -> u32 {
    match link_type.0 {
        186 | 189 | 220 | 231 | 249 | 266 => 128 * 1024 * 1024,
        279 => 8 * 1024 * 1024,
        _ => 262_144,
    }
}

/// Most (address, name) pairs kept from one file's Name Resolution Blocks
/// ([`WarningKind::TooManyNames`] beyond).
pub const MAX_NAMES: usize = 65_536;

/// What a pcapng file says beside its packets ([`CaptureReader::meta`]): where each
/// section was written, how each interface is described, and the names its Name
/// Resolution Blocks give addresses (Inspektor Gadget names pods and services so;
/// Wireshark and dumpcap the hosts they resolved). Empty for classic pcap.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CaptureMeta {
    /// Sections whose Section Header Block has `shb_hardware`, `shb_os` or
    /// `shb_userappl`.
    pub sections: Vec<SectionInfo>,
    /// Interfaces whose IDB has `if_description` or `if_os`.
    pub interfaces: Vec<InterfaceInfo>,
    /// Each (address, name) pair of the file's NRBs once, in file order.
    pub names: Vec<AddressName>,
    /// More than [`MAX_NAMES`] pairs: the rest were dropped.
    pub names_cut: bool,
}

/// Where a pcapng section was written (its SHB options; the first of each).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SectionInfo {
    /// Section ordinal (0-based), as [`CapturePoint::section`].
    pub section: u32,
    /// `shb_hardware`.
    pub hardware: Option<String>,
    /// `shb_os`: dumpcap writes the kernel's name and release (`Linux 6.1.0-18-amd64`).
    pub os: Option<String>,
    /// `shb_userappl`: the writing application and its version.
    pub application: Option<String>,
}

/// An interface's `if_description` and `if_os`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct InterfaceInfo {
    /// Section ordinal, as [`CapturePoint::section`].
    pub section: u32,
    /// Interface ordinal within the section, as [`CapturePoint::idb`].
    pub idb: u32,
    /// `if_description`.
    pub description: Option<String>,
    /// `if_os`.
    pub os: Option<String>,
}

/// A name a Name Resolution Block gives an address (`nrb_record_ipv4` / `_ipv6`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[non_exhaustive]
pub struct AddressName {
    /// The address.
    pub address: std::net::IpAddr,
    /// One of its names.
    pub name: String,
}

/// One (file, interface) pair: the unit of all analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CapturePoint {
    /// Index in [`CaptureReader::points`].
    pub id: PointId,
    /// Unique within the file: `if_name`, `<stem>`, `<stem>#<n>` or `<stem>#<ifindex>`,
    /// with `~2`, `~3`, … appended on collision.
    pub name: String,
    /// The path as given (or `-` for standard input).
    pub file: String,
    /// pcapng `if_name`, if any.
    pub interface: Option<String>,
    /// pcapng: interface ordinal within its section's IDBs.
    pub idb: Option<u32>,
    /// pcapng section ordinal (0-based); 0 for pcap.
    pub section: u32,
    /// LINUX_SLL2 interface index, for LINUX_SLL2 points.
    pub ifindex: Option<u32>,
    /// Link type of every frame of this point.
    pub link_type: LinkType,
    /// Snapshot length from the file header / IDB (0 = unlimited).
    pub snaplen: u32,
    /// Timestamp resolution: `1e-6`, `1e-9`, `2^-20`, …
    pub tsresol: String,
}

/// One packet record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based ordinal of this packet record in its file (EPB / SPB / PB / pcap record),
    /// across all interfaces and sections, exactly as tshark numbers frames. tshark also
    /// lists pcapng custom blocks (0x0BAD, 0x40000BAD) and systemd journal export blocks
    /// as records: they are not yielded, but take a number, so numbers stay tshark's.
    pub number: u64,
    /// The capture point this frame was seen on.
    pub point: PointId,
    /// Link type of the data.
    pub link_type: LinkType,
    /// ns since the Unix epoch, `if_tsoffset` applied; 0 when the record has no
    /// timestamp (SPB).
    pub ts_ns: i64,
    /// False for Simple Packet Blocks.
    pub has_timestamp: bool,
    /// Captured length, `== data.len()`.
    pub caplen: u32,
    /// Original length on the wire.
    pub len: u32,
    /// Byte offset of the record / block start in the (decompressed) file.
    pub offset: u64,
    /// The captured bytes, as stored (including any link-layer pseudo-header), borrowed
    /// from the reader's buffer.
    pub data: &'a [u8],
}

/// The container format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum FileFormat {
    /// Classic pcap.
    Pcap {
        /// Nanosecond timestamps (0xa1b23c4d magic, Ixia hardware, AIX).
        nanos: bool,
        /// Big-endian header and records.
        big_endian: bool,
        /// Kuznetsov's "modified" record layout (magic 0xa1b2cd34, or Red Hat 6.1's
        /// ss990417 layout under the standard magic).
        modified: bool,
    },
    /// pcapng.
    #[serde(rename = "pcapng")]
    PcapNg {
        /// Byte order of the first section.
        big_endian: bool,
    },
}
