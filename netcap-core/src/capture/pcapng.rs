//! pcapng blocks (draft-ietf-opsawg-pcapng): fixed layouts and the checks that make a
//! block safe to read. Every function here takes one complete block whose leading and
//! trailing Block Total Length were already checked against each other and against the
//! buffer, so the only lengths left to check are the block's inner ones.

use super::bytes::Endian;
use super::time::TsResolution;
use super::LinkType;

/// Section Header Block; the same bytes in both byte orders.
pub(crate) const SHB: u32 = 0x0A0D_0D0A;
pub(crate) const SHB_BYTES: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
pub(crate) const IDB: u32 = 1;
/// Obsolete Packet Block.
pub(crate) const PB: u32 = 2;
pub(crate) const SPB: u32 = 3;
/// Name Resolution Block.
pub(crate) const NRB: u32 = 4;
pub(crate) const EPB: u32 = 6;
/// systemd Journal Export Block.
pub(crate) const SJE: u32 = 9;
/// Custom Block, copyable and not.
pub(crate) const CB: u32 = 0x0000_0BAD;
pub(crate) const DCB: u32 = 0x4000_0BAD;

/// Blocks that carry no packet but that Wireshark lists as records of their own, so
/// that they take a frame number in tshark: netcap skips them but counts them, to
/// keep frame numbers equal to tshark's.
pub(crate) fn numbered_by_tshark(block_type: u32) -> bool {
    matches!(block_type, CB | DCB | SJE)
}
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Largest Block Total Length accepted: an EPB holding the largest packet any link type
/// allows (128 MiB, D-Bus / USB) plus 128 KiB of options — the same cap as Wireshark,
/// so a block tshark reads is a block netcap reads. Larger means a corrupt length field.
pub(crate) const MAX_BLOCK_LEN: u32 = 32 + 128 * 1024 * 1024 + 128 * 1024;

/// Generic block layout.
pub(crate) mod block_field {
    use std::ops::Range;
    pub(crate) const TYPE: Range<usize> = 0..4;
    pub(crate) const TOTAL_LEN: Range<usize> = 4..8;
    /// Type, leading length, trailing length.
    pub(crate) const MIN_LEN: usize = 12;
}

mod shb_field {
    use std::ops::Range;
    pub(super) const BYTE_ORDER: Range<usize> = 8..12;
    pub(super) const VERSION_MAJOR: Range<usize> = 12..14;
    pub(super) const VERSION_MINOR: Range<usize> = 14..16;
    // 16..24 section length: advisory, unused.
    pub(super) const OPTIONS: usize = 24;
    pub(super) const MIN_LEN: usize = 28;
}

mod idb_field {
    use std::ops::Range;
    pub(super) const LINK_TYPE: Range<usize> = 8..10;
    // 10..12 reserved.
    pub(super) const SNAPLEN: Range<usize> = 12..16;
    pub(super) const OPTIONS: usize = SNAPLEN.end;
    pub(super) const MIN_LEN: usize = 20;
}

mod epb_field {
    use std::ops::Range;
    pub(super) const INTERFACE_ID: Range<usize> = 8..12;
    pub(super) const TS_HIGH: Range<usize> = 12..16;
    pub(super) const TS_LOW: Range<usize> = 16..20;
    pub(super) const CAPLEN: Range<usize> = 20..24;
    pub(super) const ORIG_LEN: Range<usize> = 24..28;
    pub(super) const DATA: usize = ORIG_LEN.end;
    pub(super) const MIN_LEN: usize = 32;
}

/// Obsolete Packet Block: like the EPB but a 16-bit interface id and a drops count.
mod pb_field {
    use std::ops::Range;
    pub(super) const INTERFACE_ID: Range<usize> = 8..10;
    // 10..12 drops count.
    pub(super) const TS_HIGH: Range<usize> = 12..16;
    pub(super) const TS_LOW: Range<usize> = 16..20;
    pub(super) const CAPLEN: Range<usize> = 20..24;
    pub(super) const ORIG_LEN: Range<usize> = 24..28;
    pub(super) const DATA: usize = ORIG_LEN.end;
    pub(super) const MIN_LEN: usize = 32;
}

mod spb_field {
    use std::ops::Range;
    pub(super) const ORIG_LEN: Range<usize> = 8..12;
    pub(super) const DATA: usize = ORIG_LEN.end;
    pub(super) const MIN_LEN: usize = 16;
}

/// Option codes used (SHB and IDB contexts), and NRB record types.
mod opt {
    pub(super) const END: u16 = 0;
    pub(super) const SHB_HARDWARE: u16 = 2;
    pub(super) const SHB_OS: u16 = 3;
    pub(super) const SHB_USERAPPL: u16 = 4;
    pub(super) const IF_NAME: u16 = 2;
    pub(super) const IF_DESCRIPTION: u16 = 3;
    pub(super) const IF_TSRESOL: u16 = 9;
    pub(super) const IF_OS: u16 = 12;
    pub(super) const IF_TSOFFSET: u16 = 14;
    pub(super) const NRB_IPV4: u16 = 1;
    pub(super) const NRB_IPV6: u16 = 2;
}

/// The type-length-value list of a block's options (and of an NRB's records): code,
/// value; padded to 4 bytes. Ends at the end code, at `end`, or at an entry that runs
/// past `end` (then [`Tlv::bad`] says why).
struct Tlv<'a> {
    e: Endian,
    b: &'a [u8],
    at: usize,
    end: usize,
    bad: Option<Reason>,
}

impl<'a> Tlv<'a> {
    /// The list from `start` to the block's trailing length.
    fn new(e: Endian, b: &'a [u8], start: usize) -> Self {
        Tlv { e, b, at: start, end: b.len().saturating_sub(4), bad: None }
    }
}

impl<'a> Iterator for Tlv<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end {
            return None;
        }
        if self.end - self.at < 4 {
            self.bad = Some("option header runs past the end of the block");
            return None;
        }
        let code = self.e.u16(self.b, self.at..self.at + 2);
        let len = usize::from(self.e.u16(self.b, self.at + 2..self.at + 4));
        self.at += 4;
        let padded = (len + 3) & !3;
        if padded > self.end - self.at {
            self.bad = Some("option value runs past the end of the block");
            return None;
        }
        if code == opt::END {
            self.at = self.end;
            return None;
        }
        let value = self.b.get(self.at..self.at + len).unwrap_or(&[]);
        self.at += padded;
        Some((code, value))
    }
}

/// A UTF-8 option value up to its first NUL; `None` when empty.
fn text(value: &[u8]) -> Option<String> {
    let text = value.split(|&c| c == 0).next().unwrap_or(&[]);
    (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned())
}

/// Byte order of a section from the SHB's byte-order magic (bytes 8..12).
pub(crate) fn section_endian(shb_start: &[u8]) -> Option<Endian> {
    if Endian::Little.u32(shb_start, shb_field::BYTE_ORDER) == BYTE_ORDER_MAGIC {
        Some(Endian::Little)
    } else if Endian::Big.u32(shb_start, shb_field::BYTE_ORDER) == BYTE_ORDER_MAGIC {
        Some(Endian::Big)
    } else {
        None
    }
}

/// Why a block is unusable (becomes `CaptureErrorKind::BadBlock`).
pub(crate) type Reason = &'static str;

/// What netcap uses of a Section Header Block.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shb {
    pub(crate) major: u16,
    pub(crate) minor: u16,
    /// `shb_hardware`, `shb_os`, `shb_userappl` (the first of each).
    pub(crate) hardware: Option<String>,
    pub(crate) os: Option<String>,
    pub(crate) application: Option<String>,
}

/// Checks a Section Header Block: its version and the options that say where the
/// section was written. Options that run past the block are ignored.
pub(crate) fn parse_shb(e: Endian, b: &[u8]) -> Result<Shb, Reason> {
    if b.len() < shb_field::MIN_LEN {
        return Err("Section Header Block shorter than its 28-byte minimum");
    }
    let mut shb = Shb {
        major: e.u16(b, shb_field::VERSION_MAJOR),
        minor: e.u16(b, shb_field::VERSION_MINOR),
        ..Shb::default()
    };
    for (code, value) in Tlv::new(e, b, shb_field::OPTIONS) {
        let slot = match code {
            opt::SHB_HARDWARE => &mut shb.hardware,
            opt::SHB_OS => &mut shb.os,
            opt::SHB_USERAPPL => &mut shb.application,
            _ => continue,
        };
        if slot.is_none() {
            *slot = text(value);
        }
    }
    Ok(shb)
}

/// What netcap uses of an Interface Description Block.
#[derive(Debug, Clone)]
pub(crate) struct Idb {
    pub(crate) link_type: LinkType,
    pub(crate) snaplen: u32,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) os: Option<String>,
    pub(crate) tsresol: TsResolution,
    pub(crate) tsoffset: i64,
    /// Options ran past the block: the ones before were used, the rest ignored.
    pub(crate) bad_options: Option<Reason>,
}

/// Parses an Interface Description Block and the options netcap uses (`if_name`,
/// `if_description`, `if_os`, `if_tsresol`, `if_tsoffset`; the first of each counts,
/// one with a wrong length is ignored as Wireshark does).
pub(crate) fn parse_idb(e: Endian, b: &[u8]) -> Result<Idb, Reason> {
    if b.len() < idb_field::MIN_LEN {
        return Err("Interface Description Block shorter than its 20-byte minimum");
    }
    let mut idb = Idb {
        link_type: LinkType(e.u16(b, idb_field::LINK_TYPE)),
        snaplen: e.u32(b, idb_field::SNAPLEN),
        name: None,
        description: None,
        os: None,
        tsresol: TsResolution::MICROS,
        tsoffset: 0,
        bad_options: None,
    };
    let mut seen_tsresol = false;
    let mut seen_tsoffset = false;
    let mut options = Tlv::new(e, b, idb_field::OPTIONS);
    for (code, value) in options.by_ref() {
        match code {
            opt::IF_NAME if idb.name.is_none() => idb.name = text(value),
            opt::IF_DESCRIPTION if idb.description.is_none() => idb.description = text(value),
            opt::IF_OS if idb.os.is_none() => idb.os = text(value),
            opt::IF_TSRESOL if !seen_tsresol && value.len() == 1 => {
                seen_tsresol = true;
                idb.tsresol = TsResolution::from_option(value.first().copied().unwrap_or(6));
            }
            opt::IF_TSOFFSET if !seen_tsoffset && value.len() == 8 => {
                seen_tsoffset = true;
                idb.tsoffset = e.i64(value, 0..8);
            }
            _ => {}
        }
    }
    idb.bad_options = options.bad;
    Ok(idb)
}

/// Names a Name Resolution Block gives (`nrb_record_ipv4`, `nrb_record_ipv6`): each
/// address with its names, in block order, at most `room` pairs; records of other
/// types are skipped. A record that runs past the block ends the list (the records
/// before it count).
pub(crate) fn parse_nrb(e: Endian, b: &[u8], room: usize) -> (Vec<(std::net::IpAddr, String)>, Option<Reason>) {
    let mut out = Vec::new();
    let mut records = Tlv::new(e, b, block_field::TYPE.end + 4);
    for (code, value) in records.by_ref() {
        let (address, names): (std::net::IpAddr, &[u8]) = match code {
            opt::NRB_IPV4 if value.len() > 4 => (super::bytes::array::<4>(value, 0).into(), &value[4..]),
            opt::NRB_IPV6 if value.len() > 16 => (super::bytes::array::<16>(value, 0).into(), &value[16..]),
            _ => continue,
        };
        for name in names.split(|&c| c == 0).filter(|n| !n.is_empty()) {
            if out.len() == room {
                return (out, records.bad);
            }
            out.push((address, String::from_utf8_lossy(name).into_owned()));
        }
    }
    (out, records.bad)
}

/// A packet block's fixed fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packet {
    pub(crate) interface_id: u32,
    /// Timestamp ticks; `None` for a Simple Packet Block.
    pub(crate) ticks: Option<u64>,
    pub(crate) caplen: u32,
    pub(crate) orig_len: u32,
    /// Offset of the packet data from the block start.
    pub(crate) data: usize,
}

/// Checks that `caplen` bytes plus padding fit between `data` and the trailing length.
fn data_fits(block_len: usize, data: usize, caplen: u32) -> bool {
    let padded = (u64::from(caplen) + 3) & !3;
    (data as u64) + padded + 4 <= block_len as u64
}

/// Parses an Enhanced Packet Block.
pub(crate) fn parse_epb(e: Endian, b: &[u8]) -> Result<Packet, Reason> {
    if b.len() < epb_field::MIN_LEN {
        return Err("Enhanced Packet Block shorter than its 32-byte minimum");
    }
    let caplen = e.u32(b, epb_field::CAPLEN);
    if !data_fits(b.len(), epb_field::DATA, caplen) {
        return Err("captured length runs past the end of the Enhanced Packet Block");
    }
    let high = u64::from(e.u32(b, epb_field::TS_HIGH));
    let low = u64::from(e.u32(b, epb_field::TS_LOW));
    Ok(Packet {
        interface_id: e.u32(b, epb_field::INTERFACE_ID),
        ticks: Some((high << 32) | low),
        caplen,
        orig_len: e.u32(b, epb_field::ORIG_LEN),
        data: epb_field::DATA,
    })
}

/// Parses an obsolete Packet Block (type 2).
pub(crate) fn parse_pb(e: Endian, b: &[u8]) -> Result<Packet, Reason> {
    if b.len() < pb_field::MIN_LEN {
        return Err("Packet Block shorter than its 32-byte minimum");
    }
    let caplen = e.u32(b, pb_field::CAPLEN);
    if !data_fits(b.len(), pb_field::DATA, caplen) {
        return Err("captured length runs past the end of the Packet Block");
    }
    let high = u64::from(e.u32(b, pb_field::TS_HIGH));
    let low = u64::from(e.u32(b, pb_field::TS_LOW));
    Ok(Packet {
        interface_id: u32::from(e.u16(b, pb_field::INTERFACE_ID)),
        ticks: Some((high << 32) | low),
        caplen,
        orig_len: e.u32(b, pb_field::ORIG_LEN),
        data: pb_field::DATA,
    })
}

/// Parses a Simple Packet Block for interface 0 with snapshot length `snaplen`:
/// captured length = min(original length, snaplen if nonzero, data the block holds).
pub(crate) fn parse_spb(e: Endian, b: &[u8], snaplen: u32) -> Result<Packet, Reason> {
    if b.len() < spb_field::MIN_LEN {
        return Err("Simple Packet Block shorter than its 16-byte minimum");
    }
    let orig_len = e.u32(b, spb_field::ORIG_LEN);
    let room = u32::try_from(b.len() - spb_field::MIN_LEN).unwrap_or(u32::MAX);
    let mut caplen = orig_len.min(room);
    if snaplen != 0 {
        caplen = caplen.min(snaplen);
    }
    Ok(Packet {
        interface_id: 0,
        ticks: None,
        caplen,
        orig_len,
        data: spb_field::DATA,
    })
}
