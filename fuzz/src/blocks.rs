//! A pcapng file described by a fuzz input: a sequence of blocks (layouts from the
//! pcapng specification, draft-ietf-opsawg-pcapng), their options, lengths mostly right
//! and sometimes wrong, and "repeat" steps that turn a few input bytes into the
//! extreme shapes a hostile file may have (65,536 interfaces, thousands of sections,
//! a million LINUX_SLL2 ifindexes, many options, huge comments) — within
//! [`MAX_FILE`] bytes, so that a run stays fast and only a super-linear cost in the
//! reader or the engine makes libFuzzer's `-timeout` fire.
//!
//! # Script
//!
//! ```text
//! flags u8          bit 0: no implicit Section Header Block in front
//! then per step, until the input ends (at most MAX_STEPS):
//!   op    u8 % 16   0 SHB, 1 IDB, 2 EPB, 3 SPB, 4 PB (obsolete), 5 NRB, 6 ISB, 7 DSB,
//!                   8 custom block, 9 systemd journal export, 10 unknown block,
//!                   11 repeat the last block, 12 raw bytes, 13..=15 EPB
//!   fault u8        < 16: the block's lengths are wrong (see `frame_block`), else none
//!                   (not for repeat and raw bytes)
//!   the op's fields, as read in `Builder::step`
//! ```
//!
//! Packet data is a length-prefixed byte string taken as it is, or a length-prefixed
//! tunnel-stack script ([`crate::stack`]) encoded into a frame. Options are a count
//! (bit 7: a u16 count follows — many options) and per option a code from the block's
//! menu and a value (see `Builder::options`).

use crate::script::Script;
use crate::stack::Stack;

/// Largest file built: big enough for the shapes, small enough to read in well under
/// a second when the reader is linear.
pub const MAX_FILE: usize = 4 << 20;
const MAX_STEPS: usize = 512;

/// The link types netcap decodes (as in the `decode` target).
pub const LINK_TYPES: [u16; 28] = [
    0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9, 50, 51, 104, 105, 106, 107, 127, 129, 149, 178, 192, 204, 205,
    226, 239, 242, 258,
];

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const NRB: u32 = 4;
const ISB: u32 = 5;
const EPB: u32 = 6;
const SJE: u32 = 9;
const DSB: u32 = 0x0A;
const CB: u32 = 0x0000_0BAD;
const DCB: u32 = 0x4000_0BAD;

/// Option codes per block; 1 (comment) and the custom options everywhere.
const COMMON: [u16; 5] = [1, 2988, 2989, 19372, 19373];
const SHB_OPTS: [u16; 3] = [2, 3, 4];
const IDB_OPTS: [u16; 16] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
const EPB_OPTS: [u16; 6] = [2, 3, 4, 5, 6, 7];
const ISB_OPTS: [u16; 7] = [2, 3, 4, 5, 6, 7, 8];
const NRB_OPTS: [u16; 3] = [2, 3, 4];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Shb,
    Idb,
    Packet,
    Isb,
    Nrb,
    Other,
}

/// The file being written.
struct Builder {
    out: Vec<u8>,
    /// Byte order of the current section.
    big: bool,
    /// Where the last block starts and its type (for "repeat").
    last: Option<(usize, u32)>,
}

impl Builder {
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u64(&self, v: u64) -> [u8; 8] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn room(&self) -> usize {
        MAX_FILE.saturating_sub(self.out.len())
    }

    /// Appends a block: type, Block Total Length, body padded to 4 bytes, the length
    /// again. Faults: 0 leading length + 4, 1 leading length - 4, 2 trailing length
    /// differs, 3 length not a multiple of 4, 4 length below the 12-byte minimum,
    /// 5 the block cut short (the file ends in it), 6 a huge leading length, others
    /// both lengths 4 too short (the block's last word read as its trailer).
    fn block(&mut self, block_type: u32, mut body: Vec<u8>, fault: Option<u8>) {
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        if 12 + body.len() > self.room() {
            return;
        }
        let total = (12 + body.len()) as u32;
        let (lead, trail) = match fault.map(|f| f % 8) {
            Some(0) => (total + 4, total),
            Some(1) => (total - 4, total),
            Some(2) => (total, total ^ 0x10),
            Some(3) => (total + 1, total + 1),
            Some(4) => (8, 8),
            Some(6) => (0x7fff_fff0, total),
            Some(7) if total >= 16 => (total - 4, total - 4),
            _ => (total, total),
        };
        let start = self.out.len();
        if block_type == SHB {
            // The byte-order magic is in the body; the section's order starts here.
            self.out.extend_from_slice(&SHB.to_be_bytes());
        } else {
            let t = self.u32(block_type);
            self.out.extend_from_slice(&t);
        }
        let l = self.u32(lead);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        let t = self.u32(trail);
        self.out.extend_from_slice(&t);
        if fault.map(|f| f % 8) == Some(5) {
            self.out.truncate(start + 8 + body.len() / 2);
        }
        self.last = Some((start, block_type));
    }

    /// An option list: count (bit 7 set: a u16 count follows), then per option a
    /// selector byte (below 0x80: a code from the block's menu or the common ones; else
    /// a u16 code follows) and its value: a byte whose bit 7 asks for a huge value (a u16
    /// length of one repeated byte) and otherwise a value of the option's own size
    /// (`if_tsresol` from a menu including power-of-2 resolutions) or a text of up to
    /// 63 bytes. Ends with opt_endofopt unless the fault byte asks otherwise.
    fn options(&self, s: &mut Script<'_>, ctx: Ctx) -> Vec<u8> {
        let c = s.u8();
        let n = if c & 0x80 != 0 { usize::from(s.u16()) } else { usize::from(c & 0x0f) };
        let menu: &[u16] = match ctx {
            Ctx::Shb => &SHB_OPTS,
            Ctx::Idb => &IDB_OPTS,
            Ctx::Packet => &EPB_OPTS,
            Ctx::Isb => &ISB_OPTS,
            Ctx::Nrb => &NRB_OPTS,
            Ctx::Other => &[],
        };
        let mut out = Vec::new();
        for _ in 0..n {
            if out.len() > self.room() / 2 {
                break;
            }
            let sel = s.u8();
            let code = if sel < 0x80 {
                let i = usize::from(sel) % (menu.len() + COMMON.len());
                menu.get(i).copied().unwrap_or_else(|| COMMON[i - menu.len()])
            } else {
                s.u16()
            };
            let v = s.u8();
            let value: Vec<u8> = if v & 0x80 != 0 {
                let len = usize::from(s.u16()).min(self.room() / 2);
                vec![b'A' + (v & 0x1f); len]
            } else {
                match (ctx, code) {
                    (Ctx::Idb, 9) => {
                        let r = [6, 9, 3, 0, 0x80 | 10, 0x80 | 20, 0x80, 0x80 | 30, 12, 0x80 | 63, 19, 0xff];
                        vec![r.get(usize::from(v % 13)).copied().unwrap_or_else(|| s.u8())]
                    }
                    (Ctx::Idb, 14) | (Ctx::Idb, 8) | (Ctx::Packet, 4) | (Ctx::Packet, 5) => {
                        let x = s.u64();
                        self.u64(x).to_vec()
                    }
                    (Ctx::Idb, 13) | (Ctx::Idb, 10) => vec![s.u8()],
                    (Ctx::Packet, 2) | (Ctx::Packet, 6) => {
                        let x = s.u32();
                        self.u32(x).to_vec()
                    }
                    (Ctx::Packet, 3) => {
                        // epb_hash: algorithm byte, then the hash.
                        let mut h = vec![s.u8() % 6];
                        h.extend_from_slice(s.bytes(usize::from(v % 21)));
                        h
                    }
                    (Ctx::Isb, 2..=8) => {
                        let x = s.u64();
                        self.u64(x).to_vec()
                    }
                    _ => s.bytes(usize::from(v & 0x3f)).to_vec(),
                }
            };
            let len = value.len().min(0xffff);
            out.extend_from_slice(&self.u16(code));
            out.extend_from_slice(&self.u16(len as u16));
            out.extend_from_slice(&value[..len]);
            while !out.len().is_multiple_of(4) {
                out.push(0);
            }
        }
        if !out.is_empty() || c & 0x40 != 0 {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        out
    }

    /// Packet data: a selector byte (bit 0: a tunnel-stack script, else raw bytes),
    /// then a length-prefixed byte string.
    fn packet(s: &mut Script<'_>) -> Vec<u8> {
        let kind = s.u8();
        let chunk = s.chunk();
        if kind & 1 == 1 {
            Stack::parse(&mut Script::new(chunk)).build().frame
        } else {
            chunk.to_vec()
        }
    }

    fn shb(&mut self, s: &mut Script<'_>, fault: Option<u8>) {
        let flags = s.u8();
        self.big = flags & 1 == 1;
        let version: (u16, u16) = match flags >> 1 & 3 {
            0 | 1 => (1, 0),
            2 => (1, 2),
            _ => (2, 0),
        };
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(0x1A2B_3C4D));
        body.extend_from_slice(&self.u16(version.0));
        body.extend_from_slice(&self.u16(version.1));
        body.extend_from_slice(&self.u64(u64::MAX));
        body.extend(self.options(s, Ctx::Shb));
        self.block(SHB, body, fault);
    }

    fn step(&mut self, s: &mut Script<'_>) {
        let op = s.u8() % 16;
        if op == 11 {
            // Repeat the last block `count` times, adding the repetition's number to the
            // u32 at body word `vary` (0xff: none) — distinct interface ids, ifindexes,
            // timestamps.
            let (count, vary) = (usize::from(s.u16()), s.u8());
            let Some((start, _)) = self.last else { return };
            let block = self.out[start..].to_vec();
            for i in 1..=count {
                if block.len() > self.room() {
                    break;
                }
                let at = self.out.len();
                self.out.extend_from_slice(&block);
                let w = at + 8 + 4 * usize::from(vary);
                if vary != 0xff && w + 4 <= self.out.len() {
                    let old = [self.out[w], self.out[w + 1], self.out[w + 2], self.out[w + 3]];
                    let v = if self.big { u32::from_be_bytes(old) } else { u32::from_le_bytes(old) };
                    let new = self.u32(v.wrapping_add(i as u32));
                    self.out[w..w + 4].copy_from_slice(&new);
                }
            }
            return;
        }
        if op == 12 {
            let raw = s.chunk();
            if raw.len() <= self.room() {
                self.out.extend_from_slice(raw);
            }
            return;
        }
        let fault = s.fault();
        match op {
            0 => self.shb(s, fault),
            1 => {
                let sel = s.u8();
                let link = match LINK_TYPES.get(usize::from(sel % 32)) {
                    Some(&t) => t,
                    None => s.u16(),
                };
                let snaplen = match s.u8() % 4 {
                    0 => 0,
                    1 => 262_144,
                    2 => 64,
                    _ => s.u32(),
                };
                let mut body = Vec::new();
                body.extend_from_slice(&self.u16(link));
                body.extend_from_slice(&[0, 0]);
                body.extend_from_slice(&self.u32(snaplen));
                body.extend(self.options(s, Ctx::Idb));
                self.block(IDB, body, fault);
            }
            4 => {
                let (iface, drops, ts) = (s.u8(), s.u16(), s.u64());
                let data = Self::packet(s);
                let orig = (data.len() as u32).wrapping_add(u32::from(s.u8() & 0x0f));
                let mut body = Vec::new();
                body.extend_from_slice(&self.u16(u16::from(iface % 8)));
                body.extend_from_slice(&self.u16(drops));
                body.extend_from_slice(&self.u32((ts >> 32) as u32));
                body.extend_from_slice(&self.u32(ts as u32));
                body.extend_from_slice(&self.u32(data.len() as u32));
                body.extend_from_slice(&self.u32(orig));
                body.extend_from_slice(&data);
                while !body.len().is_multiple_of(4) {
                    body.push(0);
                }
                body.extend(self.options(s, Ctx::Packet));
                self.block(PB, body, fault);
            }
            3 => {
                let data = Self::packet(s);
                let mut body = Vec::new();
                body.extend_from_slice(&self.u32(data.len() as u32));
                body.extend_from_slice(&data);
                self.block(SPB, body, fault);
            }
            5 => {
                let c = s.u8();
                let n = if c & 0x80 != 0 { usize::from(s.u16()) } else { usize::from(c & 0x0f) };
                let mut body = Vec::new();
                for _ in 0..n {
                    if body.len() > self.room() / 2 {
                        break;
                    }
                    let (t, a, name_len) = (s.u8(), s.u16(), s.u8());
                    let (rtype, mut value) = match t % 4 {
                        0 => (1u16, vec![10, 0, (a >> 8) as u8, a as u8]),
                        1 => (2, {
                            let mut v = vec![0x20, 0x01, 0x0d, 0xb8];
                            v.resize(14, 0);
                            v.extend_from_slice(&a.to_be_bytes());
                            v
                        }),
                        2 => (3, vec![2, 0, 0, 0, (a >> 8) as u8, a as u8]),
                        _ => (u16::from(t), vec![]),
                    };
                    // One or more NUL-terminated names: generated from the address when
                    // the length byte's bit 7 is set (many distinct names for no input).
                    if name_len & 0x80 != 0 {
                        value.extend_from_slice(format!("h{a}-{}", name_len & 0x7f).as_bytes());
                        value.push(0);
                    } else {
                        value.extend_from_slice(s.bytes(usize::from(name_len % 48)));
                        value.push(0);
                    }
                    body.extend_from_slice(&self.u16(rtype));
                    body.extend_from_slice(&self.u16(value.len() as u16));
                    body.extend_from_slice(&value);
                    while !body.len().is_multiple_of(4) {
                        body.push(0);
                    }
                }
                body.extend_from_slice(&[0, 0, 0, 0]);
                body.extend(self.options(s, Ctx::Nrb));
                self.block(NRB, body, fault);
            }
            6 => {
                let (iface, ts) = (s.u8(), s.u64());
                let mut body = Vec::new();
                body.extend_from_slice(&self.u32(u32::from(iface % 8)));
                body.extend_from_slice(&self.u32((ts >> 32) as u32));
                body.extend_from_slice(&self.u32(ts as u32));
                body.extend(self.options(s, Ctx::Isb));
                self.block(ISB, body, fault);
            }
            7 => {
                let secrets = [0x544c_534b, 0x5353_4844, 0x5744_4b4c, 0x4752_4f4b, 0x5a4e_574b];
                let t = secrets[usize::from(s.u8() % 5)];
                let data = s.chunk().to_vec();
                let mut body = Vec::new();
                body.extend_from_slice(&self.u32(t));
                body.extend_from_slice(&self.u32(data.len() as u32));
                body.extend_from_slice(&data);
                while !body.len().is_multiple_of(4) {
                    body.push(0);
                }
                body.extend(self.options(s, Ctx::Other));
                self.block(DSB, body, fault);
            }
            8 => {
                let t = if s.u8() & 1 == 0 { CB } else { DCB };
                let pen = s.u32();
                let mut body = self.u32(pen).to_vec();
                body.extend_from_slice(s.chunk());
                self.block(t, body, fault);
            }
            9 => {
                let mut body = b"__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=".to_vec();
                body.extend_from_slice(s.chunk());
                body.push(b'\n');
                self.block(SJE, body, fault);
            }
            10 => {
                let t = match s.u32() {
                    SHB => 0x0000_0007,
                    t => t,
                };
                let body = s.chunk().to_vec();
                self.block(t, body, fault);
            }
            _ => {
                // Enhanced Packet Block.
                let (iface, ts) = (s.u8(), s.u64());
                let iface = if iface & 0x80 != 0 { s.u32() } else { u32::from(iface % 8) };
                let data = Self::packet(s);
                let extra = s.u8();
                let orig = (data.len() as u32).wrapping_add(u32::from(extra & 0x3f));
                let mut body = Vec::new();
                body.extend_from_slice(&self.u32(iface));
                body.extend_from_slice(&self.u32((ts >> 32) as u32));
                body.extend_from_slice(&self.u32(ts as u32));
                // Captured length beyond the data (a length fault of its own).
                let cap = if extra & 0x40 != 0 { data.len() as u32 + 8 } else { data.len() as u32 };
                body.extend_from_slice(&self.u32(cap));
                body.extend_from_slice(&self.u32(orig));
                body.extend_from_slice(&data);
                while !body.len().is_multiple_of(4) {
                    body.push(0);
                }
                body.extend(self.options(s, Ctx::Packet));
                self.block(EPB, body, fault);
            }
        }
    }
}

/// Encodes the file a script describes.
pub fn build(input: &[u8]) -> Vec<u8> {
    let mut s = Script::new(input);
    let flags = s.u8();
    let mut b = Builder { out: Vec::new(), big: false, last: None };
    if flags & 1 == 0 {
        b.shb(&mut Script::new(&[]), None);
    }
    for _ in 0..MAX_STEPS {
        if s.is_empty() {
            break;
        }
        b.step(&mut s);
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_core::capture::CaptureReader;

    /// A section, an Ethernet interface named eth0 with if_tsresol 2^-10 s, a packet at
    /// 1024 units with a comment, and a repeat adding 1 to its low timestamp word: the
    /// reader sees two frames 1/1024 s apart at 1 s, on one point.
    #[test]
    fn a_script_builds_the_file_it_describes() {
        let mut script = vec![0]; // implicit little-endian SHB
        script.extend([1, 0xff, 1, 1, 2, 7, 4, 0, 4]); // IDB: link 1, snaplen 262144, tsresol, if_name
        script.extend(b"eth0");
        script.extend([2, 0xff, 0]); // EPB on interface 0
        script.extend(1024u64.to_le_bytes());
        script.extend([0, 14, 0]); // raw data, 14 bytes
        script.extend([0xaa; 14]);
        script.extend([0, 1, 6, 2]); // orig = caplen; one comment of 2 bytes
        script.extend(b"hi");
        script.extend([11, 1, 0, 2]); // repeat once, + 1 on body word 2 (timestamp low)
        let file = build(&script);
        assert_eq!(&file[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        let mut r = CaptureReader::from_reader("t", std::io::Cursor::new(file)).expect("a pcapng file");
        let mut ts = Vec::new();
        while let Some(f) = r.next_frame().expect("no error") {
            assert_eq!(f.data, &[0xaa; 14]);
            ts.push(f.ts_ns);
        }
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0], 1_000_000_000);
        assert!((976_562..=976_563).contains(&(ts[1] - ts[0])), "{ts:?}");
        assert_eq!(r.points().len(), 1);
        assert!(r.take_warnings().is_empty());
    }
}
