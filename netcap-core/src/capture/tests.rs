//! Unit tests of capture reading, on captures built here byte by byte.
//!
//! Expected values are computed by hand in the comments next to them.

use std::io::{Cursor, Read, Write};

use super::bytes::Endian;
use super::*;

// ----- builders --------------------------------------------------------------------------

fn u16b(e: Endian, v: u16) -> [u8; 2] {
    match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

fn u32b(e: Endian, v: u32) -> [u8; 4] {
    match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

/// A classic pcap file header: `magic` as written in the file's own byte order.
fn pcap_header(e: Endian, magic: u32, version: (u16, u16), snaplen: u32, network: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(e, magic));
    v.extend(u16b(e, version.0));
    v.extend(u16b(e, version.1));
    v.extend([0; 8]);
    v.extend(u32b(e, snaplen));
    v.extend(u32b(e, network));
    v
}

/// A record with a standard 16-byte header plus `extra` header bytes.
fn pcap_record(e: Endian, ts: (u32, u32), lens: (u32, u32), extra: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(e, ts.0));
    v.extend(u32b(e, ts.1));
    v.extend(u32b(e, lens.0));
    v.extend(u32b(e, lens.1));
    v.extend(extra);
    v.extend(data);
    v
}

fn rec(e: Endian, ts: (u32, u32), data: &[u8]) -> Vec<u8> {
    let n = data.len() as u32;
    pcap_record(e, ts, (n, n), &[], data)
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// A pcapng block with a correct total length.
fn block(e: Endian, block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    pad4(&mut b);
    let total = 12 + b.len() as u32;
    let mut v = Vec::new();
    v.extend(u32b(e, block_type));
    v.extend(u32b(e, total));
    v.extend(b);
    v.extend(u32b(e, total));
    v
}

fn shb(e: Endian) -> Vec<u8> {
    shb_version(e, 1, 0)
}

fn shb_version(e: Endian, major: u16, minor: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, 0x1A2B_3C4D));
    body.extend(u16b(e, major));
    body.extend(u16b(e, minor));
    body.extend([0xff; 8]); // section length -1: unknown
    block(e, 0x0A0D_0D0A, &body)
}

fn opt(e: Endian, code: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u16b(e, code));
    v.extend(u16b(e, value.len() as u16));
    v.extend(value);
    pad4(&mut v);
    v
}

fn idb(e: Endian, link: u16, snaplen: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(e, link));
    body.extend([0, 0]);
    body.extend(u32b(e, snaplen));
    for o in opts {
        body.extend(o);
    }
    if !opts.is_empty() {
        body.extend(opt(e, 0, &[]));
    }
    block(e, 1, &body)
}

fn epb(e: Endian, if_id: u32, ticks: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, if_id));
    body.extend(u32b(e, (ticks >> 32) as u32));
    body.extend(u32b(e, ticks as u32));
    body.extend(u32b(e, data.len() as u32));
    body.extend(u32b(e, orig));
    body.extend(data);
    block(e, 6, &body)
}

fn pb(e: Endian, if_id: u16, ticks: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(e, if_id));
    body.extend(u16b(e, 0)); // drops
    body.extend(u32b(e, (ticks >> 32) as u32));
    body.extend(u32b(e, ticks as u32));
    body.extend(u32b(e, data.len() as u32));
    body.extend(u32b(e, data.len() as u32));
    body.extend(data);
    block(e, 2, &body)
}

fn spb(e: Endian, orig: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, orig));
    body.extend(data);
    block(e, 3, &body)
}

/// A LINUX_SLL2 header (20 bytes) for interface `ifindex`, IPv4, then `payload`.
fn sll2(ifindex: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(0x0800u16.to_be_bytes()); // protocol
    v.extend([0, 0]); // reserved
    v.extend(ifindex.to_be_bytes());
    v.extend(1u16.to_be_bytes()); // ARPHRD_ETHER
    v.push(0); // packet type
    v.push(6); // address length
    v.extend([2, 0, 0, 0, 0, 1, 0, 0]);
    v.extend(payload);
    v
}

// ----- reading ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    number: u64,
    point: u32,
    link: u16,
    ts_ns: i64,
    has_ts: bool,
    caplen: u32,
    len: u32,
    offset: u64,
    data: Vec<u8>,
}

struct Read_ {
    frames: Vec<Owned>,
    error: Option<CaptureError>,
    warnings: Vec<CaptureWarning>,
    points: Vec<CapturePoint>,
    format: FileFormat,
    compressed: bool,
}

fn drain(mut r: CaptureReader) -> Read_ {
    let mut frames = Vec::new();
    let mut error = None;
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(f.caplen as usize, f.data.len());
                frames.push(Owned {
                    number: f.number,
                    point: f.point.0,
                    link: f.link_type.0,
                    ts_ns: f.ts_ns,
                    has_ts: f.has_timestamp,
                    caplen: f.caplen,
                    len: f.len,
                    offset: f.offset,
                    data: f.data.to_vec(),
                });
            }
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // Finished readers stay finished.
    assert!(matches!(r.next_frame(), Ok(None)));
    assert!(matches!(r.next_frame(), Ok(None)));
    Read_ {
        frames,
        error,
        warnings: r.take_warnings(),
        points: r.points().to_vec(),
        format: r.format(),
        compressed: r.compressed(),
    }
}

fn read(name: &str, bytes: Vec<u8>) -> Read_ {
    drain(CaptureReader::from_reader(name, Cursor::new(bytes)).expect("header parses"))
}

fn open_err(bytes: Vec<u8>) -> CaptureError {
    CaptureReader::from_reader("bad.pcap", Cursor::new(bytes)).expect_err("open fails")
}

/// A reader that hands out at most `chunk` bytes per call (exercises buffer refills).
struct Trickle {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

const LE: Endian = Endian::Little;
const BE: Endian = Endian::Big;

// ----- pcap ------------------------------------------------------------------------------

#[test]
fn pcap_magics_and_byte_orders() {
    // (byte order, magic, ns?) -> ts (1, 500) is 1.0000005 s (µs) or 1.000000500 s (ns).
    for (e, magic, nanos) in [
        (LE, 0xa1b2_c3d4, false),
        (BE, 0xa1b2_c3d4, false),
        (LE, 0xa1b2_3c4d, true),
        (BE, 0xa1b2_3c4d, true),
    ] {
        let mut f = pcap_header(e, magic, (2, 4), 65535, 1);
        f.extend(rec(e, (1, 500), &[1, 2, 3]));
        f.extend(pcap_record(e, (2, 0), (2, 60), &[], &[9, 9]));
        let r = read("trace.pcap", f);
        assert!(
            r.error.is_none() && r.warnings.is_empty(),
            "{e:?} {magic:x}"
        );
        assert_eq!(
            r.format,
            FileFormat::Pcap {
                nanos,
                big_endian: e == BE,
                modified: false
            }
        );
        let expect_ts = if nanos { 1_000_000_500 } else { 1_000_500_000 };
        assert_eq!(r.frames[0].ts_ns, expect_ts);
        assert_eq!(r.frames[0].data, [1, 2, 3]);
        assert_eq!(r.frames[0].offset, 24);
        // Second record: 24 + 16 + 3 = 43; caplen 2 of 60 on the wire.
        assert_eq!(
            (r.frames[1].offset, r.frames[1].caplen, r.frames[1].len),
            (43, 2, 60)
        );
        assert_eq!(r.frames[1].ts_ns, 2_000_000_000);
        assert_eq!(
            r.frames.iter().map(|f| f.number).collect::<Vec<_>>(),
            [1, 2]
        );
        let p = &r.points[0];
        assert_eq!((p.name.as_str(), p.file.as_str()), ("trace", "trace.pcap"));
        assert_eq!(
            (p.snaplen, p.link_type, p.section, p.idb),
            (65535, LinkType::ETHERNET, 0, None)
        );
        assert_eq!(p.tsresol, if nanos { "1e-9" } else { "1e-6" });
    }
}

#[test]
fn pcap_modified_variant_both_orders() {
    // Kuznetsov's modified magic: 24-byte record headers (ifindex, protocol, pkt_type, pad).
    for e in [LE, BE] {
        let mut f = pcap_header(e, 0xa1b2_cd34, (2, 4), 262144, 1);
        let mut extra = Vec::new();
        extra.extend(u32b(e, 2)); // ifindex
        extra.extend(u16b(e, 0x0800)); // protocol
        extra.extend([0, 0]); // packet type, pad
        f.extend(pcap_record(e, (10, 1), (4, 4), &extra, &[0xaa; 4]));
        f.extend(pcap_record(e, (11, 2), (5, 5), &extra, &[0xbb; 5]));
        let r = read("m.pcap", f);
        assert!(r.error.is_none() && r.warnings.is_empty());
        assert_eq!(
            r.format,
            FileFormat::Pcap {
                nanos: false,
                big_endian: e == BE,
                modified: true
            }
        );
        assert_eq!(r.frames.len(), 2);
        assert_eq!(r.frames[0].data, [0xaa; 4]);
        // 24 (file) + 24 (record header) + 4 (data).
        assert_eq!(r.frames[1].offset, 52);
        assert_eq!(r.frames[1].data, [0xbb; 5]);
        assert_eq!(r.frames[1].ts_ns, 11_000_002_000);
    }
}

#[test]
fn pcap_ss990417_under_standard_magic_is_recognised() {
    // Red Hat 6.1: standard magic, 24-byte records. Read as standard, the first record
    // looks fine but the second header starts inside the 8 extra bytes and its lengths
    // are absurd, so the heuristic prefers the 24-byte layout.
    let e = LE;
    let mut f = pcap_header(e, 0xa1b2_c3d4, (2, 4), 65535, 1);
    let extra = [1, 0, 0, 0, 0, 8, 0, 0];
    for i in 0..3u8 {
        f.extend(pcap_record(
            e,
            (100 + u32::from(i), 7),
            (6, 6),
            &extra,
            &[i; 6],
        ));
    }
    let r = read("rh61.pcap", f);
    assert!(r.error.is_none() && r.warnings.is_empty());
    assert!(matches!(r.format, FileFormat::Pcap { modified: true, .. }));
    assert_eq!(r.frames.len(), 3);
    assert_eq!(r.frames[2].data, [2; 6]);
}

#[test]
fn pcap_link_type_high_bits_are_masked() {
    // 0x30000001: FCS-length bits set above Ethernet; 0x04000071: FCS-present flag, SLL.
    for (network, link) in [
        (0x3000_0001u32, 1u16),
        (0x0400_0071, 113),
        (0xffff_00e4, 228),
    ] {
        let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, network);
        f.extend(rec(LE, (1, 0), &[0x45, 0, 0, 20]));
        let r = read("x.pcap", f);
        assert_eq!(r.points[0].link_type, LinkType(link));
        assert_eq!(r.frames[0].link, link);
    }
}

#[test]
fn pcap_old_versions_swap_lengths() {
    // Before 2.3 the record header stores orig_len before incl_len.
    let mut f = pcap_header(BE, 0xa1b2_c3d4, (2, 1), 1600, 1);
    f.extend(pcap_record(BE, (5, 0), (1514, 3), &[], &[7, 7, 7]));
    f.extend(pcap_record(BE, (6, 0), (60, 2), &[], &[8, 8]));
    let r = read("old.pcap", f);
    assert!(r.error.is_none() && r.warnings.is_empty());
    assert_eq!((r.frames[0].caplen, r.frames[0].len), (3, 1514));
    assert_eq!(r.frames[1].data, [8, 8]);

    // 2.3: swapped only where incl_len > orig_len.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 3), 65535, 1);
    f.extend(pcap_record(LE, (5, 0), (100, 2), &[], &[1, 1]));
    f.extend(pcap_record(LE, (6, 0), (2, 100), &[], &[2, 2]));
    let r = read("old23.pcap", f);
    assert!(r.error.is_none());
    assert_eq!((r.frames[0].caplen, r.frames[0].len), (2, 100));
    assert_eq!((r.frames[1].caplen, r.frames[1].len), (2, 100));
}

#[test]
fn pcap_aix_nokia_and_ixia_flavours() {
    // AIX: version 2.2, ifType 6 (Ethernet) in the link-type field, ns timestamps.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 2), 65535, 6);
    f.extend(rec(LE, (3, 7), &[1, 2]));
    let r = read("aix.pcap", f);
    assert_eq!(r.points[0].link_type, LinkType::ETHERNET);
    assert_eq!(r.frames[0].ts_ns, 3_000_000_007);

    // Ixia software lcap: 4 extra header bytes, µs.
    let mut f = pcap_header(LE, 0x1c00_01ab, (2, 4), 65535, 1);
    f.extend(20u32.to_le_bytes());
    f.extend(rec(LE, (3, 7), &[1, 2]));
    let r = read("ixia.pcap", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames[0].offset, 28);
    assert_eq!(r.frames[0].ts_ns, 3_000_007_000);
}

#[test]
fn pcap_unsupported_and_foreign_headers() {
    let e = open_err(pcap_header(LE, 0xa1b2_c3d4, (1, 4), 65535, 1));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnsupportedVersion { major: 1, minor: 4 }
    ));
    assert_eq!(
        e.to_string(),
        "bad.pcap: unsupported format version 1.4"
    );

    let e = open_err(b"GET / HTTP/1.1\r\n".to_vec());
    assert!(matches!(e.kind, CaptureErrorKind::NotACapture { magic } if &magic == b"GET "));
    // At the start of a file the message says what the file is, without an offset.
    assert_eq!(
        e.to_string(),
        "bad.pcap: not a capture (its first bytes, 47 45 54 20, are no pcap, pcapng, gzip, \
         zstd or xz magic number)"
    );

    let e = open_err(Vec::new());
    assert!(matches!(
        e.kind,
        CaptureErrorKind::TruncatedHeader {
            needed: 4,
            available: 0
        }
    ));

    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.truncate(20);
    let e = open_err(f);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::TruncatedHeader {
            needed: 24,
            available: 20
        }
    ));
}

#[test]
fn pcap_truncated_mid_record_keeps_earlier_frames() {
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1; 10])); // record 1 at 24
    f.extend(rec(LE, (2, 0), &[2; 10])); // record 2 at 50
    f.extend(rec(LE, (3, 0), &[3; 10])); // record 3 at 76, cut after 16 + 4 bytes
    f.truncate(76 + 20);
    let r = read("cut.pcap", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames.len(), 2);
    assert_eq!(
        r.warnings,
        [CaptureWarning {
            file: "cut.pcap".into(),
            record: Some(3),
            offset: 76,
            kind: WarningKind::TruncatedRecord {
                needed: 26,
                available: 20
            },
        }]
    );
    assert_eq!(
        r.warnings[0].to_string(),
        "cut.pcap: record 3 at byte offset 76: file cut short inside a record: it needs 26 \
         bytes, the file has 20 (earlier records kept)"
    );

    // Cut inside the record header.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1; 10]));
    f.extend([0; 5]);
    let r = read("cut.pcap", f);
    assert_eq!(r.frames.len(), 1);
    assert!(matches!(
        r.warnings[0].kind,
        WarningKind::TruncatedRecord {
            needed: 16,
            available: 5
        }
    ));
    assert_eq!((r.warnings[0].record, r.warnings[0].offset), (Some(2), 50));
}

#[test]
fn pcap_impossible_length_is_an_error_with_record_and_offset() {
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    for (i, at) in [24u64, 50, 76, 102].into_iter().enumerate() {
        assert_eq!(f.len() as u64, at);
        f.extend(rec(LE, (i as u32, 0), &[i as u8; 10]));
    }
    // Record 5 at 24 + 4 * 26 = 128.
    f.extend(pcap_record(LE, (5, 0), (262_145, 262_145), &[], &[0; 32]));
    f.extend(rec(LE, (6, 0), &[6; 10]));
    let r = read("bad.pcap", f);
    assert_eq!(r.frames.len(), 4);
    let e = r.error.expect("error");
    assert_eq!((e.record, e.offset), (Some(5), 128));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::RecordTooLarge {
            caplen: 262_145,
            max: 262_144
        }
    ));
    assert_eq!(
        e.to_string(),
        "bad.pcap: record 5 at byte offset 128: captured length 262145 is larger than the \
         maximum 262144 for this link type (corrupt length field)"
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["record"], 5);
    assert_eq!(json["offset"], 128);
    assert_eq!(json["kind"], "record_too_large");
    assert_eq!(json["file"], "bad.pcap");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .starts_with("captured length 262145"));
}

#[test]
fn corrupt_length_among_the_first_records_is_an_error_not_a_layout_change() {
    // The absurd length in record 3, within the first three records the layout
    // heuristic reads. Standard layout scores 2 (over the maximum, over the snaplen),
    // no other layout scores 0, so the standard layout is kept: frames 1-2, then the
    // error. (tshark 4.0.17 takes the lowest score, Nokia's 1, and shows 4 garbage
    // frames: "Nokia tcpdump - pcap", 10, 10, 0, 0 bytes, "cut short".)
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1; 10]));
    f.extend(rec(LE, (2, 0), &[2; 10]));
    f.extend(pcap_record(LE, (3, 0), (262_145, 262_145), &[], &[0; 32]));
    f.extend(rec(LE, (4, 0), &[4; 10]));
    let r = read("early.pcap", f);
    assert!(matches!(
        r.format,
        FileFormat::Pcap {
            modified: false,
            ..
        }
    ));
    assert_eq!(
        r.frames.iter().map(|f| f.caplen).collect::<Vec<_>>(),
        [10, 10]
    );
    let e = r.error.expect("error");
    assert_eq!((e.record, e.offset), (Some(3), 76));
}

#[test]
fn pcap_usb_allows_large_records() {
    // USB (189): 128 MiB maximum, so 300000 bytes is legal (and is not a D-Bus/USB cap hit).
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 0x7fff_ffff, 189);
    f.extend(rec(LE, (1, 0), &vec![5; 300_000]));
    let r = read("usb.pcap", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames[0].caplen, 300_000);
    assert_eq!(max_caplen(LinkType(189)), 128 * 1024 * 1024);
    assert_eq!(max_caplen(LinkType(279)), 8 * 1024 * 1024);
    assert_eq!(max_caplen(LinkType::ETHERNET), 262_144);

    // A huge claimed length with little data behind it: a truncation, read quickly.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 0x7fff_ffff, 189);
    f.extend(pcap_record(
        LE,
        (1, 0),
        (100 << 20, 100 << 20),
        &[],
        &[0; 10],
    ));
    let r = read("usb.pcap", f);
    assert!(r.frames.is_empty());
    assert!(matches!(
        r.warnings[0].kind,
        WarningKind::TruncatedRecord { needed, available: 26 } if needed == (100 << 20) + 16
    ));
}

#[test]
fn non_ethernet_link_types_yield_frames() {
    // 802.11 radiotap (127) and PPP (9): frames come through untouched.
    for link in [127u32, 9] {
        let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, link);
        f.extend(rec(LE, (1, 0), &[0xde, 0xad]));
        let r = read("w.pcap", f);
        assert_eq!(r.frames[0].link, link as u16);
        assert_eq!(r.frames[0].data, [0xde, 0xad]);
    }
}

#[test]
fn sll2_pcap_splits_points_by_ifindex() {
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 262144, 276);
    f.extend(rec(LE, (1, 0), &sll2(3, &[0x45])));
    f.extend(rec(LE, (2, 0), &sll2(7, &[0x45])));
    f.extend(rec(LE, (3, 0), &sll2(3, &[0x45])));
    f.extend(rec(LE, (4, 0), &[0, 8, 0, 0, 0, 0])); // too short for an ifindex
    f.extend(rec(LE, (5, 0), &sll2(7, &[0x45])));
    let r = read("/captures/any.pcap", f);
    assert!(r.error.is_none() && r.warnings.is_empty());
    let names: Vec<_> = r.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["any#3", "any#7", "any"]);
    assert_eq!(r.points[0].ifindex, Some(3));
    assert_eq!(r.points[1].ifindex, Some(7));
    assert_eq!(r.points[2].ifindex, None);
    assert!(r.points.iter().all(|p| p.link_type == LinkType::LINUX_SLL2));
    let by_frame: Vec<_> = r.frames.iter().map(|f| f.point).collect();
    assert_eq!(by_frame, [0, 1, 0, 2, 1]);
}

// ----- pcapng ----------------------------------------------------------------------------

#[test]
fn pcapng_both_byte_orders_and_interfaces() {
    for e in [LE, BE] {
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[opt(e, 2, b"eth0")]));
        f.extend(idb(e, 101, 128, &[opt(e, 9, &[9])]));
        f.extend(epb(e, 0, 1_500_000, &[1, 2, 3], 60)); // µs ticks: 1.5 s
        f.extend(epb(e, 1, 2_000_000_007, &[0x45, 0], 2)); // ns ticks
        let r = read("host.pcapng", f);
        assert!(r.error.is_none() && r.warnings.is_empty(), "{e:?}");
        assert_eq!(
            r.format,
            FileFormat::PcapNg {
                big_endian: e == BE
            }
        );
        assert_eq!(r.points.len(), 2);
        assert_eq!(r.points[0].name, "eth0");
        assert_eq!(r.points[0].interface.as_deref(), Some("eth0"));
        assert_eq!(r.points[1].name, "host#1");
        assert_eq!((r.points[1].idb, r.points[1].snaplen), (Some(1), 128));
        assert_eq!(r.points[1].tsresol, "1e-9");
        assert_eq!(r.frames[0].ts_ns, 1_500_000_000);
        assert_eq!((r.frames[0].caplen, r.frames[0].len), (3, 60));
        assert_eq!(r.frames[1].ts_ns, 2_000_000_007);
        assert_eq!((r.frames[1].point, r.frames[1].link), (1, 101));
        // SHB 28 + IDB 36 (20 + if_name 8 + end 4 + ... ) : offsets follow the blocks.
        let shb_len = 28;
        let idb0_len = 20 + 8 + 4;
        let idb1_len = 20 + 8 + 4;
        assert_eq!(r.frames[0].offset, (shb_len + idb0_len + idb1_len) as u64);
        assert_eq!(r.frames[1].number, 2);
    }
}

#[test]
fn pcapng_tsresol_decimal_binary_and_offset() {
    let e = LE;
    let mut f = shb(e);
    // if_tsresol 3 (ms), if_tsoffset 1_000_000_000 s.
    let offset = opt(e, 14, &1_000_000_000i64.to_le_bytes());
    f.extend(idb(e, 1, 0, &[opt(e, 9, &[3]), offset]));
    // if_tsresol 0x94 = 2^-20 s per tick.
    f.extend(idb(e, 1, 0, &[opt(e, 9, &[0x80 | 20])]));
    // if_tsresol 0x80 | 10 = 2^-10 and a negative offset of -5 s.
    f.extend(idb(
        e,
        1,
        0,
        &[opt(e, 9, &[0x8a]), opt(e, 14, &(-5i64).to_le_bytes())],
    ));
    f.extend(epb(e, 0, 2_500, &[0], 1)); // 2.5 s + 1e9 s
    f.extend(epb(e, 1, (3 << 20) + (1 << 18), &[0], 1)); // 3.25 s
    f.extend(epb(e, 2, 1, &[0], 1)); // 1/1024 s - 5 s
    let r = read("t.pcapng", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames[0].ts_ns, 1_000_000_002_500_000_000);
    assert_eq!(r.frames[1].ts_ns, 3_250_000_000);
    // 1e9 / 1024 = 976562.5 -> 976562 ns; minus 5 s.
    assert_eq!(r.frames[2].ts_ns, 976_562 - 5_000_000_000);
    assert_eq!(r.points[0].tsresol, "1e-3");
    assert_eq!(r.points[1].tsresol, "2^-20");
    assert_eq!(r.points[2].tsresol, "2^-10");

    // Big-endian sections store if_tsoffset big-endian.
    let e = BE;
    let mut f = shb(e);
    f.extend(idb(e, 1, 0, &[opt(e, 14, &7i64.to_be_bytes())]));
    f.extend(epb(e, 0, 1, &[0], 1));
    let r = read("t.pcapng", f);
    assert_eq!(r.frames[0].ts_ns, 7_000_001_000);
}

#[test]
fn pcapng_simple_packet_blocks() {
    let e = LE;
    let mut f = shb(e);
    f.extend(idb(e, 1, 4, &[])); // snaplen 4
    f.extend(spb(e, 60, &[1, 2, 3, 4])); // caplen = min(60, 4, 4) = 4
    f.extend(spb(e, 2, &[9, 9, 0, 0])); // caplen = orig 2 (block padded to 4)
    let r = read("s.pcapng", f);
    assert!(r.error.is_none());
    assert_eq!(
        (r.frames[0].caplen, r.frames[0].len, r.frames[0].has_ts),
        (4, 60, false)
    );
    assert_eq!(r.frames[0].ts_ns, 0);
    assert_eq!(r.frames[1].data, [9, 9]);

    // snaplen 0 and an orig_len larger than the data: caplen is what the block holds.
    let mut f = shb(e);
    f.extend(idb(e, 1, 0, &[]));
    f.extend(spb(e, 1000, &[7; 8]));
    let r = read("s.pcapng", f);
    assert_eq!((r.frames[0].caplen, r.frames[0].len), (8, 1000));

    // No interface described: error naming record 1.
    let mut f = shb(e);
    f.extend(spb(e, 4, &[1, 2, 3, 4]));
    let r = read("s.pcapng", f);
    let err = r.error.expect("error");
    assert!(matches!(
        err.kind,
        CaptureErrorKind::UnknownInterface {
            interface_id: 0,
            known: 0
        }
    ));
    assert_eq!((err.record, err.offset), (Some(1), 28));
}

#[test]
fn pcapng_obsolete_packet_block() {
    for e in [LE, BE] {
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(idb(e, 1, 0, &[]));
        f.extend(pb(e, 1, 5_000_001, &[1, 2, 3, 4, 5]));
        let r = read("pb.pcapng", f);
        assert!(r.error.is_none());
        assert_eq!(r.frames.len(), 1);
        assert_eq!((r.frames[0].point, r.frames[0].ts_ns), (1, 5_000_001_000));
        assert_eq!(r.frames[0].data, [1, 2, 3, 4, 5]);
    }
}

#[test]
fn pcapng_other_blocks_are_skipped() {
    let e = LE;
    let mut f = shb(e);
    f.extend(block(e, 4, &[0; 8])); // NRB
    f.extend(idb(e, 1, 0, &[]));
    f.extend(block(e, 5, &[0; 16])); // ISB
    f.extend(block(e, 0x0BAD, &[1, 2, 3, 4, 5])); // custom
    f.extend(block(e, 0x4000_0BAD, &[])); // custom, do not copy
    f.extend(block(e, 0x0A, &[0; 12])); // DSB
    f.extend(block(e, 0x1234_5678, &[0xee; 40])); // unknown
    f.extend(epb(e, 0, 0, &[1], 1));
    f.extend(block(e, 9, b"__REALTIME_TIMESTAMP=1\nMESSAGE=x\n")); // systemd journal
    f.extend(epb(e, 0, 0, &[2], 1));
    let r = read("o.pcapng", f);
    assert!(r.error.is_none() && r.warnings.is_empty());
    assert_eq!(r.frames.len(), 2);
    // tshark lists the two custom blocks and the journal block as frames 1, 2 and 4:
    // the packets are its frames 3 and 5.
    assert_eq!(r.frames[0].number, 3);
    assert_eq!(r.frames[1].number, 5);
}

#[test]
fn pcapng_sections_reset_interfaces() {
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[opt(LE, 2, b"eth0")]));
    f.extend(epb(LE, 0, 1, &[1], 1));
    // A big-endian second section: interface 0 is a new point.
    f.extend(shb(BE));
    f.extend(idb(BE, 113, 0, &[]));
    f.extend(idb(BE, 1, 0, &[opt(BE, 2, b"eth0")]));
    f.extend(epb(BE, 0, 2, &[2], 1));
    f.extend(epb(BE, 1, 3, &[3], 1));
    // Interface 2 was never described in this section.
    let bad_at = f.len() as u64;
    f.extend(epb(BE, 2, 4, &[4], 1));
    let r = read("multi.pcapng", f);
    assert_eq!(r.format, FileFormat::PcapNg { big_endian: false });
    let names: Vec<_> = r.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["eth0", "multi#1", "eth0~2"]);
    let sections: Vec<_> = r.points.iter().map(|p| (p.section, p.idb)).collect();
    assert_eq!(sections, [(0, Some(0)), (1, Some(0)), (1, Some(1))]);
    let points: Vec<_> = r
        .frames
        .iter()
        .map(|f| (f.number, f.point, f.link))
        .collect();
    assert_eq!(points, [(1, 0, 1), (2, 1, 113), (3, 2, 1)]);
    let e = r.error.expect("error");
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnknownInterface {
            interface_id: 2,
            known: 2
        }
    ));
    assert_eq!((e.record, e.offset), (Some(4), bad_at));
}

#[test]
fn pcapng_version_checks() {
    let mut f = shb_version(LE, 1, 2);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(epb(LE, 0, 0, &[1], 1));
    assert_eq!(read("v.pcapng", f).frames.len(), 1);

    let e = open_err(shb_version(LE, 1, 1));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnsupportedVersion { major: 1, minor: 1 }
    ));

    // A later section with an unsupported version ends the read with an error.
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(epb(LE, 0, 0, &[1], 1));
    let at = f.len() as u64;
    f.extend(shb_version(LE, 2, 0));
    let r = read("v.pcapng", f);
    assert_eq!(r.frames.len(), 1);
    let e = r.error.expect("error");
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnsupportedVersion { major: 2, minor: 0 }
    ));
    assert_eq!((e.record, e.offset), (None, at));
}

#[test]
fn sll2_pcapng_splits_points_by_ifindex() {
    let e = LE;
    let mut f = shb(e);
    f.extend(idb(e, 276, 0, &[opt(e, 2, b"any")]));
    f.extend(epb(e, 0, 1, &sll2(2, &[0x45]), 21));
    f.extend(epb(e, 0, 2, &sll2(9, &[0x45]), 21));
    f.extend(epb(e, 0, 3, &sll2(2, &[0x45]), 21));
    let r = read("node.pcapng", f);
    let got: Vec<_> = r
        .points
        .iter()
        .map(|p| (p.name.as_str(), p.ifindex, p.interface.as_deref(), p.idb))
        .collect();
    assert_eq!(
        got,
        [
            ("node#2", Some(2), Some("any"), Some(0)),
            ("node#9", Some(9), Some("any"), Some(0))
        ]
    );
    assert_eq!(
        r.frames.iter().map(|f| f.point).collect::<Vec<_>>(),
        [0, 1, 0]
    );
}

#[test]
fn pcapng_corrupt_blocks_are_errors_with_record_and_offset() {
    let e = LE;
    let head = {
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(epb(e, 0, 0, &[1; 4], 4));
        f
    };
    let at = head.len() as u64; // the bad block: would be record 2
    let ok_epb = epb(e, 0, 0, &[2; 4], 4);

    let case = |bad: Vec<u8>| {
        let mut f = head.clone();
        f.extend(bad);
        f.extend(ok_epb.clone());
        let r = read("c.pcapng", f);
        assert_eq!(r.frames.len(), 1, "frames before the bad block are kept");
        let err = r.error.expect("error");
        assert_eq!(err.offset, at);
        err
    };
    let bad_len = |block: &[u8], len: u32| {
        let mut b = block.to_vec();
        b[4..8].copy_from_slice(&len.to_le_bytes());
        b
    };

    // Total length below 12.
    let err = case(bad_len(&ok_epb, 8));
    assert_eq!(err.record, Some(2));
    assert!(matches!(
        err.kind,
        CaptureErrorKind::BadBlock {
            block_type: 6,
            length: 8,
            ..
        }
    ));
    // Not a multiple of 4.
    let err = case(bad_len(&ok_epb, 35));
    assert!(matches!(
        err.kind,
        CaptureErrorKind::BadBlock { length: 35, .. }
    ));
    // Over the cap.
    let err = case(bad_len(&ok_epb, 0xffff_fff0));
    assert!(matches!(
        err.kind,
        CaptureErrorKind::BadBlock {
            length: 0xffff_fff0,
            ..
        }
    ));
    // Trailing length differs.
    let mut b = ok_epb.clone();
    let n = b.len();
    b[n - 4..].copy_from_slice(&99u32.to_le_bytes());
    let err = case(b);
    assert!(matches!(
        err.kind,
        CaptureErrorKind::BadBlock { reason, .. } if reason.contains("trailing")
    ));
    // Captured length beyond the block.
    let mut b = ok_epb.clone();
    b[20..24].copy_from_slice(&40u32.to_le_bytes());
    let err = case(b);
    assert!(matches!(
        err.kind,
        CaptureErrorKind::BadBlock { reason, .. } if reason.contains("captured length")
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "c.pcapng: record 2 at byte offset {at}: bad pcapng block (type 0x00000006, total \
             length 36): captured length runs past the end of the Enhanced Packet Block"
        )
    );
    // Interface never described.
    let err = case(epb(e, 5, 0, &[1], 1));
    assert!(matches!(
        err.kind,
        CaptureErrorKind::UnknownInterface {
            interface_id: 5,
            known: 1
        }
    ));
    // Captured length over the link type's maximum (Ethernet: 262144).
    let err = case(epb(e, 0, 0, &vec![0; 262_148], 262_148));
    assert!(matches!(
        err.kind,
        CaptureErrorKind::RecordTooLarge {
            caplen: 262_148,
            ..
        }
    ));
    // A non-packet block with a bad length names no record.
    let err = case(bad_len(&block(e, 5, &[0; 16]), 30));
    assert_eq!(err.record, None);
    assert_eq!(
        err.to_string(),
        format!(
            "c.pcapng: at byte offset {at}: bad pcapng block (type 0x00000005, total length \
             30): block total length is not a multiple of 4"
        )
    );
}

#[test]
fn pcapng_truncated_block_is_a_warning() {
    let e = LE;
    let mut f = shb(e);
    f.extend(idb(e, 1, 0, &[]));
    f.extend(epb(e, 0, 0, &[1; 4], 4));
    let at = f.len();
    f.extend(epb(e, 0, 0, &[2; 40], 40)); // 72 bytes
    f.truncate(at + 50);
    let r = read("cut.pcapng", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames.len(), 1);
    assert_eq!(
        r.warnings,
        [CaptureWarning {
            file: "cut.pcapng".into(),
            record: Some(2),
            offset: at as u64,
            kind: WarningKind::TruncatedRecord {
                needed: 72,
                available: 50
            },
        }]
    );
}

#[test]
fn pcapng_idb_options_overrunning_the_block_warn() {
    let e = LE;
    let mut f = shb(e);
    let mut body = Vec::new();
    body.extend(u16b(e, 1));
    body.extend([0, 0]);
    body.extend(u32b(e, 0));
    body.extend(opt(e, 2, b"eth1"));
    body.extend(u16b(e, 9)); // if_tsresol claiming 100 bytes
    body.extend(u16b(e, 100));
    f.extend(block(e, 1, &body));
    f.extend(epb(e, 0, 1, &[1], 1));
    let r = read("o.pcapng", f);
    assert!(r.error.is_none());
    assert_eq!(r.points[0].name, "eth1");
    assert_eq!(r.frames.len(), 1);
    assert!(matches!(
        r.warnings[0].kind,
        WarningKind::BadOptions { block_type: 1, reason } if reason.contains("option value")
    ));
    assert_eq!((r.warnings[0].record, r.warnings[0].offset), (None, 28));
}

// ----- robustness ------------------------------------------------------------------------

/// Nanosecond magic: no layout heuristic, so every prefix reads as a prefix. In pieces
/// (file header, records) so the test knows where records begin and end.
fn sample_pcap() -> Vec<Vec<u8>> {
    vec![
        pcap_header(LE, 0xa1b2_3c4d, (2, 4), 65535, 276),
        rec(LE, (1, 0), &sll2(1, &[0x45, 0])),
        rec(LE, (2, 0), &[1, 2, 3]),
        pcap_record(LE, (3, 0), (4, 9), &[], &sll2(4, &[])[..4]),
    ]
}

fn sample_pcapng() -> Vec<Vec<u8>> {
    vec![
        shb(LE),
        idb(LE, 1, 0, &[opt(LE, 2, b"eth0"), opt(LE, 3, b"uplink+a=%zz"), opt(LE, 12, b"linux"), opt(LE, 9, &[0x89])]),
        nrb(LE, &[(1, b"\x0a\x00\x00\x01host\0".to_vec()), (2, [[0xfd; 16].as_slice(), b"six\0"].concat())]),
        epb(LE, 0, 77, &[1, 2, 3], 3),
        spb(LE, 5, &[5; 5]),
        pb(LE, 0, 9, &[9; 2]),
        shb(BE),
        idb(BE, 276, 0, &[]),
        epb(BE, 0, 1, &sll2(6, &[0x60]), 21),
    ]
}

#[test]
fn every_truncation_length_reads_without_panic() {
    for pieces in [sample_pcap(), sample_pcapng()] {
        let full = pieces.concat();
        let boundaries: Vec<usize> = pieces
            .iter()
            .scan(0, |end, p| {
                *end += p.len();
                Some(*end)
            })
            .collect();
        let complete = read("full", full.clone());
        assert!(complete.error.is_none() && complete.warnings.is_empty());
        let n = complete.frames.len();
        assert!(n >= 3);
        for len in 0..full.len() {
            let cut = full[..len].to_vec();
            match CaptureReader::from_reader("cut", Cursor::new(cut)) {
                Err(e) => {
                    assert!(len < boundaries[0], "len {len}: {e}");
                    assert!(matches!(e.kind, CaptureErrorKind::TruncatedHeader { .. }));
                }
                Ok(r) => {
                    let r = drain(r);
                    assert!(r.error.is_none(), "len {len}: {:?}", r.error);
                    // The frames read are a prefix of the complete read.
                    assert!(r.frames.len() <= n);
                    assert_eq!(r.frames[..], complete.frames[..r.frames.len()], "len {len}");
                    // A cut inside a record or block is a warning; a cut between them is
                    // a clean end.
                    let truncated = r
                        .warnings
                        .iter()
                        .any(|w| matches!(w.kind, WarningKind::TruncatedRecord { .. }));
                    assert_eq!(truncated, !boundaries.contains(&len), "len {len}");
                }
            }
        }
    }
}

/// Standard and modified magic: the layout heuristic runs on every prefix.
fn heuristic_samples() -> [Vec<u8>; 2] {
    let mut std = pcap_header(BE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    let mut modified = pcap_header(LE, 0xa1b2_cd34, (2, 4), 65535, 1);
    for i in 0..4u8 {
        std.extend(rec(BE, (1, 2), &[i; 5]));
        modified.extend(pcap_record(LE, (1, 2), (3, 3), &[0; 8], &[i; 3]));
    }
    [std, modified]
}

#[test]
fn every_truncation_of_heuristic_files_reads_without_panic() {
    for full in heuristic_samples() {
        for len in 0..=full.len() {
            if let Ok(r) = CaptureReader::from_reader("cut", Cursor::new(full[..len].to_vec())) {
                let r = drain(r);
                assert!(r.frames.len() <= 4, "len {len}");
            }
        }
    }
}

#[test]
fn every_byte_flip_reads_without_panic() {
    // Corrupt one byte at a time with a few values: never a panic, never more frames
    // than bytes.
    let [a, b] = heuristic_samples();
    for full in [sample_pcap().concat(), sample_pcapng().concat(), a, b] {
        for at in 0..full.len() {
            for v in [0x00, 0x7f, 0x80, 0xff] {
                let mut f = full.clone();
                f[at] = v;
                if let Ok(r) = CaptureReader::from_reader("flip", Cursor::new(f)) {
                    let r = drain(r);
                    assert!(r.frames.len() <= full.len());
                }
            }
        }
    }
}

#[test]
fn trickling_reader_gives_the_same_frames() {
    // Many records crossing buffer refills, handed out 1..7 bytes at a time.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    for i in 0..2000u32 {
        let data: Vec<u8> = (0..(i % 1500)).map(|b| (b ^ i) as u8).collect();
        f.extend(rec(LE, (i, 0), &data));
    }
    let whole = read("w.pcap", f.clone());
    assert_eq!(whole.frames.len(), 2000);
    for chunk in [1, 7, 4096] {
        let r = CaptureReader::from_reader(
            "w.pcap",
            Trickle {
                data: f.clone(),
                at: 0,
                chunk,
            },
        )
        .unwrap();
        let r = drain(r);
        assert_eq!(r.frames, whole.frames, "chunk {chunk}");
    }
}

#[test]
fn gzip_is_read_transparently() {
    let plain = sample_pcapng().concat();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let r = read("trace.pcapng.gz", gz.clone());
    let p = read("trace.pcapng", plain);
    assert!(r.compressed && !p.compressed);
    assert_eq!(r.frames, p.frames);
    assert_eq!(r.points[0].name, "eth0");
    assert_eq!(r.points.last().map(|p| p.name.as_str()), Some("trace#6"));

    // Two gzip members concatenated read as one stream.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1]));
    let mut second = Vec::new();
    second.extend(rec(LE, (2, 0), &[2]));
    let mut gz2 = Vec::new();
    for part in [f, second] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&part).unwrap();
        gz2.extend(enc.finish().unwrap());
    }
    assert_eq!(read("two.pcap.gz", gz2).frames.len(), 2);

    // A cut gzip stream: the frames before the cut, and a warning.
    let cut = gz[..gz.len() - 12].to_vec();
    let r = read("cut.pcapng.gz", cut);
    assert!(r.error.is_none());
    assert!(r
        .warnings
        .iter()
        .any(|w| matches!(w.kind, WarningKind::TruncatedCompression { .. })));
}

#[test]
fn zstd_and_xz_are_read_transparently() {
    let plain = sample_pcapng().concat();
    let zst = zstd::stream::encode_all(&plain[..], 3).unwrap();
    let xz = {
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        enc.write_all(&plain).unwrap();
        enc.finish().unwrap()
    };
    let p = read("trace.pcapng", plain.clone());
    for (name, bytes, kind) in [("trace.pcapng.zst", &zst, Compression::Zstd), ("trace.pcapng.xz", &xz, Compression::Xz)] {
        let reader = CaptureReader::from_reader(name, Cursor::new(bytes.clone())).unwrap();
        assert_eq!(reader.compression(), Some(kind));
        let r = drain(reader);
        assert!(r.compressed, "{name}");
        assert_eq!(r.frames, p.frames, "{name}");
        assert!(r.warnings.is_empty(), "{name}");
    }

    // A cut stream: the frames before the cut, and a warning. (Enough records, of
    // bytes that do not compress, that the compressors emit several blocks.)
    let mut big = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    let mut x: u32 = 1;
    for i in 0..3000u32 {
        let data: Vec<u8> = (0..200)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        big.extend(rec(LE, (i, 0), &data));
    }
    let big_zst = zstd::stream::encode_all(&big[..], 3).unwrap();
    let big_xz = {
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        enc.write_all(&big).unwrap();
        enc.finish().unwrap()
    };
    for (name, bytes) in [("cut.pcap.zst", big_zst), ("cut.pcap.xz", big_xz)] {
        let r = read(name, bytes[..bytes.len() / 2].to_vec());
        assert!(r.error.is_none(), "{name}");
        assert!(!r.frames.is_empty() && r.frames.len() < 3000, "{name}: {}", r.frames.len());
        assert!(r.warnings.iter().any(|w| matches!(w.kind, WarningKind::TruncatedCompression { .. })), "{name}");
    }
    assert_eq!(CaptureReader::from_reader("x", Cursor::new(plain)).unwrap().compression(), None);

    // Concatenated frames (zstd) and streams (xz) read as one stream.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1]));
    let second = rec(LE, (2, 0), &[2]);
    let zst2: Vec<u8> = [&f, &second].iter().flat_map(|part| zstd::stream::encode_all(&part[..], 1).unwrap()).collect();
    assert_eq!(read("two.pcap.zst", zst2).frames.len(), 2);
    let xz2: Vec<u8> = [&f, &second]
        .iter()
        .flat_map(|part| {
            let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
            enc.write_all(part).unwrap();
            enc.finish().unwrap()
        })
        .collect();
    assert_eq!(read("two.pcap.xz", xz2).frames.len(), 2);

    // Damaged data after a valid magic: an error at offset 0, not a panic.
    let mut bad = vec![0xfd, b'7', b'z', b'X', b'Z', 0];
    bad.extend_from_slice(b"garbage garbage");
    assert!(CaptureReader::from_reader("bad.pcap.xz", Cursor::new(bad)).is_err());
}

#[test]
fn stdin_and_point_names() {
    let mut f = pcap_header(LE, 0xa1b2_c3d4, (2, 4), 65535, 1);
    f.extend(rec(LE, (1, 0), &[1]));
    let r = read("-", f);
    assert_eq!(r.points[0].name, "stdin");
    assert_eq!(r.points[0].file, "-");

    // Duplicate if_names and a name equal to the stem are made unique.
    let e = LE;
    let mut f = shb(e);
    f.extend(idb(e, 1, 0, &[]));
    f.extend(idb(e, 1, 0, &[opt(e, 2, b"cap")]));
    f.extend(idb(e, 1, 0, &[opt(e, 2, b"cap")]));
    f.extend(idb(e, 1, 0, &[]));
    let r = read("dir/cap.pcapng", f);
    let names: Vec<_> = r.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["cap", "cap~2", "cap~3", "cap#3"]);
    let json = serde_json::to_value(&r.points[1]).unwrap();
    assert_eq!(json["name"], "cap~2");
    assert_eq!(json["interface"], "cap");
    assert_eq!(json["link_type"], 1);
    assert_eq!(json["id"], 1);
    let fmt = serde_json::to_value(r.format).unwrap();
    assert_eq!(
        fmt,
        serde_json::json!({"format": "pcapng", "big_endian": false})
    );
    let fmt = serde_json::to_value(FileFormat::Pcap {
        nanos: true,
        big_endian: false,
        modified: false,
    })
    .unwrap();
    assert_eq!(fmt["format"], "pcap");
}

#[test]
fn open_reports_io_errors_with_the_path() {
    let e = CaptureReader::open("/nonexistent/netcap/x.pcap").expect_err("no such file");
    assert!(matches!(e.kind, CaptureErrorKind::Io(_)));
    // The system's words, without an offset (nothing was read).
    assert!(e.to_string().starts_with("/nonexistent/netcap/x.pcap: No such file"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn point_caps_hold() {
    // MAX_POINTS interfaces are fine; one more is an error naming the IDB's offset.
    let e = LE;
    let one = idb(e, 1, 0, &[]);
    let mut f = shb(e);
    for _ in 0..MAX_POINTS {
        f.extend(&one);
    }
    let at = f.len() as u64;
    f.extend(&one);
    let r = read("many.pcapng", f);
    assert_eq!(r.points.len(), MAX_POINTS as usize);
    let err = r.error.expect("error");
    assert!(matches!(
        err.kind,
        CaptureErrorKind::TooManyInterfaces { max: MAX_POINTS }
    ));
    assert_eq!((err.record, err.offset), (None, at));

    // LINUX_SLL2: past MAX_POINTS distinct ifindexes, frames go to the `<stem>` point.
    let mut f = pcap_header(LE, 0xa1b2_3c4d, (2, 4), 65535, 276);
    for ifindex in 0..=MAX_POINTS {
        f.extend(rec(LE, (1, 0), &sll2(ifindex, &[])[..8]));
    }
    let r = read("any.pcap", f);
    assert!(r.error.is_none());
    assert_eq!(r.frames.len(), MAX_POINTS as usize + 1);
    assert_eq!(r.points.len(), MAX_POINTS as usize + 1);
    assert_eq!(r.points.last().map(|p| p.name.as_str()), Some("any"));
    assert_eq!(r.frames.last().map(|f| f.point), Some(MAX_POINTS));
    assert_eq!(
        r.warnings.iter().map(|w| &w.kind).collect::<Vec<_>>(),
        [&WarningKind::TooManyPoints { max: MAX_POINTS }]
    );
}

/// A pcap file cut by another process while netcap reads it through a memory map:
/// the frames before the cut, then an error naming the file and the record — not a
/// crash (SIGBUS) and not zeros taken for frames.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_file_truncated_while_read_is_an_error_not_a_fault() {
    let e = Endian::Little;
    let mut bytes = pcap_header(e, 0xa1b2_c3d4, (2, 4), 65535, 1);
    let frame = vec![0x5a; 1500];
    // 2000 records of 1516 bytes: about 3 MiB, many pages.
    for i in 0..2000u32 {
        bytes.extend(rec(e, (i, 0), &frame));
    }
    let dir = std::env::temp_dir().join(format!("netcap-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("live.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let mut r = CaptureReader::open(&path).unwrap();
    assert!(r.is_mapped());
    for n in 1..=10u64 {
        assert_eq!(r.next_frame().unwrap().unwrap().number, n);
    }
    // Cut to 100 records' worth, page-aligned so the pages after it are gone.
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(40 * 4096).unwrap();
    let mut last = 10;
    let err = loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(f.data, &frame[..], "frame {} holds the file's bytes", f.number);
                last = f.number;
            }
            Ok(None) => panic!("a shrunk file must not end quietly"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err.kind, CaptureErrorKind::Shrunk { size } if size == bytes.len() as u64), "{err}");
    assert!(err.to_string().contains("live.pcap"), "{err}");
    // The frames wholly before the cut came through (40 pages hold 108 records).
    assert!((100..=110).contains(&last), "{last}");
    assert!(r.next_frame().unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Name Resolution Block: `records` as (type, value), then nrb_record_end.
fn nrb(e: Endian, records: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (t, v) in records {
        body.extend(opt(e, *t, v));
    }
    body.extend(opt(e, 0, &[]));
    block(e, 4, &body)
}

#[test]
fn what_a_pcapng_says_beside_its_packets() {
    for e in [Endian::Little, Endian::Big] {
        // SHB with shb_hardware, shb_os, shb_userappl (dumpcap's three).
        let mut body = Vec::new();
        body.extend(u32b(e, 0x1A2B_3C4D));
        body.extend(u16b(e, 1));
        body.extend(u16b(e, 0));
        body.extend([0xff; 8]);
        body.extend(opt(e, 2, b"x86_64"));
        body.extend(opt(e, 3, b"Linux 6.1.0-18-amd64"));
        body.extend(opt(e, 4, b"Dumpcap (Wireshark) 4.0.17"));
        body.extend(opt(e, 0, &[]));
        let mut file = block(e, 0x0A0D_0D0A, &body);
        // Interface 0: Inspektor Gadget's layout (if_name from the machine running the
        // CLI, if_description `container=NAME`, if_os); interface 1: plain eth0.
        file.extend(idb(e, 1, 0, &[opt(e, 2, b"veth1234"), opt(e, 3, b"container=web+1"), opt(e, 12, b"linux")]));
        file.extend(idb(e, 1, 0, &[opt(e, 2, b"eth0")]));
        let mut v4 = vec![10, 244, 1, 2];
        v4.extend(b"web-0\0web.default.svc\0");
        let mut v6 = [0u8; 16].to_vec();
        v6[15] = 1;
        v6.extend(b"lo6\0");
        // A record of an unknown type is skipped; a repeated pair is kept once.
        file.extend(nrb(e, &[(1, v4.clone()), (7, vec![1, 2, 3]), (2, v6), (1, v4)]));
        file.extend(epb(e, 0, 1, &[0; 14], 14));
        file.extend(epb(e, 1, 2, &[0; 14], 14));
        let mut r = CaptureReader::from_reader("ig.pcapng", Cursor::new(file)).unwrap();
        while r.next_frame().unwrap().is_some() {}
        let names: Vec<&str> = r.points().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["web 1", "eth0"], "the container names the point");
        assert_eq!(r.points()[0].interface.as_deref(), Some("veth1234"));
        let m = r.meta();
        assert_eq!(m.sections.len(), 1);
        assert_eq!(m.sections[0].os.as_deref(), Some("Linux 6.1.0-18-amd64"));
        assert_eq!(m.sections[0].hardware.as_deref(), Some("x86_64"));
        assert_eq!(m.sections[0].application.as_deref(), Some("Dumpcap (Wireshark) 4.0.17"));
        assert_eq!(m.interfaces.len(), 1);
        assert_eq!((m.interfaces[0].idb, m.interfaces[0].description.as_deref(), m.interfaces[0].os.as_deref()), (0, Some("container=web+1"), Some("linux")));
        let pairs: Vec<String> = m.names.iter().map(|n| format!("{} {}", n.address, n.name)).collect();
        assert_eq!(pairs, ["10.244.1.2 web-0", "10.244.1.2 web.default.svc", "::1 lo6"]);
        assert!(r.take_warnings().is_empty());
    }
}

#[test]
fn name_resolution_blocks_are_bounded_and_checked() {
    let e = Endian::Little;
    let mut file = shb(e);
    file.extend(idb(e, 1, 0, &[]));
    // A record whose length runs past the block: the records before it count.
    let mut body = opt(e, 1, b"\x0a\x00\x00\x01one\0");
    body.extend(u16b(e, 1));
    body.extend(u16b(e, 400));
    body.extend([0; 8]);
    file.extend(block(e, 4, &body));
    // More pairs than MAX_NAMES in one block: the first MAX_NAMES are kept, once noted.
    let mut many = Vec::new();
    for i in 0..=MAX_NAMES as u32 {
        let mut v = i.to_be_bytes().to_vec();
        v.extend(b"n\0");
        many.push((1, v));
    }
    file.extend(nrb(e, &many));
    file.extend(nrb(e, &many[..2]));
    file.extend(epb(e, 0, 1, &[0; 14], 14));
    let mut r = CaptureReader::from_reader("nrb.pcapng", Cursor::new(file)).unwrap();
    assert_eq!(r.next_frame().unwrap().unwrap().number, 1, "the packet after the blocks is read");
    assert_eq!(r.meta().names.len(), MAX_NAMES);
    assert_eq!(r.meta().names[0].name, "one");
    assert!(r.meta().names_cut);
    let w = r.take_warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(matches!(w[0].kind, WarningKind::BadOptions { block_type: 4, .. }));
    assert!(matches!(w[1].kind, WarningKind::TooManyNames { max } if max as usize == MAX_NAMES));
}
