//! Classic pcap (libpcap) files: file header, record headers, and the old variants that
//! share a magic number but not a record header layout.
//!
//! Layouts follow draft-ietf-opsawg-pcap; the variants (AIX, Alexey Kuznetsov's patched
//! libpcap "ss990417" / "ss990915" / "ss991029", Nokia IPSO, Ixia lcap) and the rules for
//! telling them apart follow Wireshark's `wiretap/libpcap.c`, so that netcap reads the
//! same records out of a file as tshark does.

use std::io;

use super::bytes::Endian;
use super::error::CaptureErrorKind;
use super::source::Source;
use super::{max_caplen, LinkType};

/// File header fields.
mod file_field {
    use std::ops::Range;
    pub(super) const VERSION_MAJOR: Range<usize> = 4..6;
    pub(super) const VERSION_MINOR: Range<usize> = 6..8;
    // 8..12 thiszone and 12..16 sigfigs: unused by every writer, ignored.
    pub(super) const SNAPLEN: Range<usize> = 16..20;
    pub(super) const NETWORK: Range<usize> = 20..24;
    pub(super) const LEN: usize = NETWORK.end;
    /// Ixia lcap files append a 4-byte "bytes of records" count.
    pub(super) const IXIA_LEN: usize = LEN + 4;
}

/// Record header fields (all variants start with these 16 bytes).
mod rec_field {
    use std::ops::Range;
    pub(super) const TS_SEC: Range<usize> = 0..4;
    pub(super) const TS_FRAC: Range<usize> = 4..8;
    pub(super) const INCL_LEN: Range<usize> = 8..12;
    pub(super) const ORIG_LEN: Range<usize> = 12..16;
    pub(super) const LEN: usize = ORIG_LEN.end;
    /// Kuznetsov variants: interface index, protocol, packet type, one padding byte
    /// (used only to tell the layouts apart).
    pub(super) const IFINDEX: Range<usize> = 16..20;
    pub(super) const PROTOCOL: Range<usize> = 20..22;
    pub(super) const PKT_TYPE: usize = 22;
    pub(super) const MODIFIED_LEN: usize = 24;
    /// ss990915 adds two SMP debugging bytes and three more padding bytes.
    pub(super) const SS990915_LEN: usize = 28;
    /// Nokia IPSO: four bytes of unknown meaning.
    pub(super) const NOKIA_STUFF: Range<usize> = 16..20;
    pub(super) const NOKIA_LEN: usize = NOKIA_STUFF.end;
}

/// What kind of pcap file a magic number announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// 0xa1b2c3d4: µs timestamps; standard, ss990417, Nokia or AIX records.
    Standard,
    /// 0xa1b23c4d: ns timestamps.
    Nanos,
    /// 0xa1b2cd34 (Kuznetsov): ss991029 or ss990915 records.
    Modified,
    /// 0x1c0001ac: Ixia hardware lcap, ns timestamps, 28-byte file header.
    IxiaHw,
    /// 0x1c0001ab: Ixia software lcap, µs timestamps, 28-byte file header.
    IxiaSw,
}

/// Recognises a pcap magic number; `None` if it is not one.
pub(crate) fn classify_magic(magic: [u8; 4]) -> Option<(Endian, Flavor)> {
    let le = u32::from_le_bytes(magic);
    let be = u32::from_be_bytes(magic);
    let flavor = |v: u32| match v {
        0xa1b2_c3d4 => Some(Flavor::Standard),
        0xa1b2_3c4d => Some(Flavor::Nanos),
        0xa1b2_cd34 => Some(Flavor::Modified),
        0x1c00_01ac => Some(Flavor::IxiaHw),
        0x1c00_01ab => Some(Flavor::IxiaSw),
        _ => None,
    };
    flavor(le)
        .map(|f| (Endian::Little, f))
        .or_else(|| flavor(be).map(|f| (Endian::Big, f)))
}

/// Length of the file header for a flavor.
pub(crate) fn header_len(flavor: Flavor) -> usize {
    match flavor {
        Flavor::IxiaHw | Flavor::IxiaSw => file_field::IXIA_LEN,
        _ => file_field::LEN,
    }
}

/// The record layout of a pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Standard,
    Nanos,
    /// AIX: ns timestamps, RFC 1573 ifType link types, FDDI records padded by 3 bytes.
    Aix,
    /// Kuznetsov patch of 1999-04-17 (Red Hat 6.1), standard magic, 24-byte records.
    Ss990417,
    /// Kuznetsov patch of 1999-09-15 (SuSE 6.3), modified magic, 28-byte records.
    Ss990915,
    /// Kuznetsov patch of 1999-10-29, modified magic, 24-byte records.
    Ss991029,
    /// Nokia IPSO, standard magic, 20-byte records.
    Nokia,
}

impl Variant {
    pub(crate) fn record_header_len(self) -> usize {
        match self {
            Variant::Standard | Variant::Nanos | Variant::Aix => rec_field::LEN,
            Variant::Ss990417 | Variant::Ss991029 => rec_field::MODIFIED_LEN,
            Variant::Ss990915 => rec_field::SS990915_LEN,
            Variant::Nokia => rec_field::NOKIA_LEN,
        }
    }

    /// Timestamp fraction in ns (else µs).
    pub(crate) fn nanos(self) -> bool {
        matches!(self, Variant::Nanos | Variant::Aix)
    }

    /// One of Kuznetsov's "modified" record layouts.
    pub(crate) fn modified(self) -> bool {
        matches!(
            self,
            Variant::Ss990417 | Variant::Ss990915 | Variant::Ss991029
        )
    }
}

/// Whether the record header's two length fields are in the pre-2.3 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lengths {
    InOrder,
    /// Versions before 2.3 (and DG/UX's 543.0) store orig_len before incl_len.
    Swapped,
    /// Some 2.3 writers did too: swap when incl_len > orig_len.
    MaybeSwapped,
}

/// A parsed pcap file header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PcapHeader {
    pub(crate) endian: Endian,
    pub(crate) snaplen: u32,
    pub(crate) link_type: LinkType,
    pub(crate) lengths: Lengths,
    pub(crate) variant: Variant,
}

/// Variants to try, in Wireshark's order, when the magic leaves the layout open.
const STANDARD_CANDIDATES: &[Variant] = &[Variant::Standard, Variant::Ss990417, Variant::Nokia];
const MODIFIED_CANDIDATES: &[Variant] = &[Variant::Ss991029, Variant::Ss990915];

/// Parses the file header (`b` holds at least [`header_len`] bytes). Returns the header
/// with a provisional variant and the candidates still to be told apart by looking at
/// the first records (empty when the layout is already known).
pub(crate) fn parse_header(
    endian: Endian,
    flavor: Flavor,
    b: &[u8],
) -> Result<(PcapHeader, &'static [Variant]), CaptureErrorKind> {
    let major = endian.u16(b, file_field::VERSION_MAJOR);
    let minor = endian.u16(b, file_field::VERSION_MINOR);
    if major < 2 {
        return Err(CaptureErrorKind::UnsupportedVersion { major, minor });
    }
    let snaplen = endian.u32(b, file_field::SNAPLEN);
    let mut network = endian.u32(b, file_field::NETWORK);

    let mut variant = match flavor {
        Flavor::Nanos | Flavor::IxiaHw => Some(Variant::Nanos),
        Flavor::IxiaSw => Some(Variant::Standard),
        Flavor::Standard | Flavor::Modified => None,
    };
    let lengths = match (major, minor) {
        (2, m) if m < 3 => Lengths::Swapped,
        (2, 3) => Lengths::MaybeSwapped,
        (543, _) => Lengths::Swapped,
        _ => Lengths::InOrder,
    };
    if lengths != Lengths::InOrder {
        // Files older than 2.4 predate the patched layouts (current Wireshark's rule).
        variant = Some(variant.unwrap_or(Variant::Standard));
    }
    // AIX writes version 2.2 with RFC 1573 ifType values in the link-type field.
    if flavor == Flavor::Standard && (major, minor) == (2, 2) {
        let aix_link = match network {
            6 => Some(1),   // Ethernet
            9 => Some(6),   // Token Ring
            15 => Some(10), // FDDI
            24 => Some(0),  // loopback
            _ => None,
        };
        if let Some(link) = aix_link {
            network = link;
            variant = Some(Variant::Aix);
        }
    }
    let candidates = match (variant, flavor) {
        (Some(_), _) => &[][..],
        (None, Flavor::Modified) => MODIFIED_CANDIDATES,
        (None, _) => STANDARD_CANDIDATES,
    };
    let header = PcapHeader {
        endian,
        snaplen,
        // Low 16 bits: the link type; the upper bits carry FCS-length information.
        link_type: LinkType((network & 0xffff) as u16),
        lengths,
        variant: variant
            .or_else(|| candidates.first().copied())
            .unwrap_or(Variant::Standard),
    };
    Ok((header, candidates))
}

/// One record header, lengths in the right order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordHeader {
    pub(crate) ts_sec: u32,
    pub(crate) ts_frac: u32,
    pub(crate) incl_len: u32,
    pub(crate) orig_len: u32,
}

impl PcapHeader {
    /// Parses a record header (`b` holds at least `variant.record_header_len()` bytes).
    pub(crate) fn record(&self, b: &[u8]) -> RecordHeader {
        let e = self.endian;
        let mut incl_len = e.u32(b, rec_field::INCL_LEN);
        let mut orig_len = e.u32(b, rec_field::ORIG_LEN);
        let swap = match self.lengths {
            Lengths::InOrder => false,
            Lengths::Swapped => true,
            Lengths::MaybeSwapped => incl_len > orig_len,
        };
        if swap {
            std::mem::swap(&mut incl_len, &mut orig_len);
        }
        RecordHeader {
            ts_sec: e.u32(b, rec_field::TS_SEC),
            ts_frac: e.u32(b, rec_field::TS_FRAC),
            incl_len,
            orig_len,
        }
    }
}

/// How many records the variant heuristic reads (Wireshark's `MAX_RECORDS_TO_TRY`).
const RECORDS_TO_TRY: usize = 3;
/// Look-ahead cap of the variant heuristic: it never buffers more than this many bytes
/// beyond the file header; a trial that would read past it stops there, as if the file
/// ended cleanly (Wireshark, which can seek, has no such cap).
pub(crate) const HEURISTIC_LOOKAHEAD: usize = 1024 * 1024;
/// Wireshark's "no packet is this large" hint (128 MiB).
const IMPLAUSIBLE_ORIG_LEN: u32 = 128 * 1024 * 1024;

/// Picks the record layout among `candidates` (the usual layout first).
///
/// Each layout is scored as current Wireshark scores it (`libpcap_try_record`): read up
/// to three records in that layout and count what looks wrong — a timestamp fraction of
/// a second or more, a captured length over the link type's maximum, over the snapshot
/// length or over the original length, an original length over 128 MiB, and for the
/// patched layouts an interface index over 10000, an implausible protocol or packet
/// type, or Nokia bytes unlike any seen; a record cut short counts 1 and ends the trial.
///
/// The first layout scoring 0 wins; if none does, the usual layout is kept. Wireshark
/// takes the lowest score instead, so a single corrupt length among the first three
/// records makes it re-read a damaged standard file in another layout, as garbage;
/// netcap keeps the standard layout and reports the corrupt record as an error, with
/// the frames before it intact. Called with the source positioned at the first record;
/// consumes nothing.
///
/// # Errors
/// An I/O error while looking ahead.
pub(crate) fn choose_variant(
    src: &mut Source,
    header: &PcapHeader,
    candidates: &[Variant],
) -> io::Result<Variant> {
    for &variant in candidates {
        let trial = PcapHeader { variant, ..*header };
        if figure_of_merit(src, &trial)? == 0 {
            return Ok(variant);
        }
    }
    Ok(candidates.first().copied().unwrap_or(header.variant))
}

/// What looks wrong in the first [`RECORDS_TO_TRY`] records read in `header.variant`
/// (0: nothing).
fn figure_of_merit(src: &mut Source, header: &PcapHeader) -> io::Result<u32> {
    let e = header.endian;
    let variant = header.variant;
    let max = max_caplen(header.link_type);
    let hlen = variant.record_header_len();
    let mut merit = 0u32;
    let mut at = 0usize;
    for _ in 0..RECORDS_TO_TRY {
        if at + hlen > HEURISTIC_LOOKAHEAD {
            break;
        }
        let have = src.fill(at + hlen)?.saturating_sub(at);
        if have == 0 {
            break; // clean end of file: nothing more against this layout
        }
        if have < hlen {
            merit += 1; // a record header cut short
            break;
        }
        let b = src.available().get(at..).unwrap_or(&[]);
        let rec = header.record(b);
        merit += u32::from(rec.ts_frac >= 1_000_000)
            + u32::from(rec.incl_len > max)
            + u32::from(rec.incl_len > header.snaplen)
            + u32::from(rec.orig_len > IMPLAUSIBLE_ORIG_LEN)
            + u32::from(rec.incl_len > rec.orig_len);
        match variant {
            Variant::Standard | Variant::Nanos | Variant::Aix => {}
            Variant::Ss990417 | Variant::Ss991029 | Variant::Ss990915 => {
                let protocol = e.u16(b, rec_field::PROTOCOL);
                let plausible_protocol = protocol >= 0x0600
                    || matches!(protocol, 0x0000..=0x0017 | 0x0060 | 0x0200 | 0x0400);
                merit += u32::from(e.u32(b, rec_field::IFINDEX) > 10_000)
                    + u32::from(!plausible_protocol)
                    + u32::from(b.get(rec_field::PKT_TYPE).copied().unwrap_or(0) > 4);
            }
            Variant::Nokia => {
                // Wireshark reads this field in host order without swapping; the
                // values it knows are those seen on little-endian hosts.
                let stuff = Endian::Little.u32(b, rec_field::NOKIA_STUFF);
                merit += u32::from(!nokia_stuff_plausible(stuff));
            }
        }
        if rec.incl_len > max {
            break; // no point skipping an absurd length
        }
        let next = at + hlen + rec.incl_len as usize;
        if next > HEURISTIC_LOOKAHEAD {
            break;
        }
        if src.fill(next)? < next {
            merit += 1; // record data cut short
            break;
        }
        at = next;
    }
    Ok(merit)
}

/// Values seen in the Nokia field are 0xXfbfYZ0W with X in {9, b}, Y in {b, d},
/// Z in {6, 9}, W in {1, 2}.
fn nokia_stuff_plausible(v: u32) -> bool {
    v & 0x0fff_00f0 == 0x0fbf_0000
        && matches!(v & 0xf000_0000, 0x9000_0000 | 0xb000_0000)
        && matches!(v & 0x0000_f000, 0x0000_b000 | 0x0000_d000)
        && matches!(v & 0x0000_0f00, 0x0000_0600 | 0x0000_0900)
        && matches!(v & 0x0000_000f, 1 | 2)
}
