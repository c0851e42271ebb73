//! Frame and pcap builders shared by the benches, the bulk generator and the one-core
//! decode pass.
//!
//! The builders compute every checksum with their own arithmetic ([`internet_sum`],
//! 16-bit big-endian words, end-around carry) rather than `netcap_core::checksum`, so
//! that a bench which asserts `good` verdicts checks the library against an independent
//! implementation instead of against itself.
//!
//! Everything writes into a caller's `Vec<u8>` (cleared first), so a generator loop
//! reuses one buffer and does not allocate per frame.

use std::io::{self, Write};

/// Ethernet header length.
pub const ETH_LEN: usize = 14;
/// IPv4 header length without options.
pub const IPV4_LEN: usize = 20;
/// UDP header length.
pub const UDP_LEN: usize = 8;
/// VXLAN header length.
pub const VXLAN_LEN: usize = 8;
/// The Linux kernel's (and flannel's) VXLAN port.
pub const VXLAN_PORT_LINUX: u16 = 8472;
/// Bytes a VXLAN-over-IPv4 encapsulation adds in front of the inner Ethernet frame.
pub const VXLAN_OVERHEAD: usize = ETH_LEN + IPV4_LEN + UDP_LEN + VXLAN_LEN;
/// A full-size Ethernet frame as captured (1500-byte MTU, no FCS).
pub const FULL_FRAME: usize = 1514;

/// The ones'-complement sum (RFC 1071) of `bytes` as big-endian 16-bit words, an odd
/// final byte padded with zero, added to `start` (an unfolded partial sum).
///
/// Deliberately plain: a 64-bit accumulator of 16-bit words cannot overflow for any
/// slice a frame can hold.
pub fn internet_sum(start: u64, bytes: &[u8]) -> u64 {
    let mut acc = start;
    let mut pairs = bytes.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds an unfolded sum to 16 bits with end-around carry.
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for bytes whose field is zero: the complement of the sum.
pub fn checksum_field(acc: u64) -> u16 {
    !fold(acc)
}

/// The IPv4 pseudo-header sum (RFC 9293 §3.1), unfolded.
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u64 {
    let acc = internet_sum(0, &src);
    let acc = internet_sum(acc, &dst);
    acc + u64::from(proto) + len as u64
}

/// A TCP segment over IPv4 in an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSpec {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// Low 9 bits of the offset/flags word (0x010 = ACK, 0x018 = PSH|ACK).
    pub flags: u16,
    pub window: u16,
    pub ip_id: u16,
    pub ttl: u8,
    /// Adds the 12-byte NOP, NOP, timestamps option Linux puts on every segment.
    pub timestamps: Option<(u32, u32)>,
}

impl TcpSpec {
    /// TCP header length with the chosen options.
    pub fn tcp_header_len(&self) -> usize {
        if self.timestamps.is_some() {
            32
        } else {
            20
        }
    }

    /// The Ethernet frame length carrying `payload` bytes (before any padding).
    pub fn frame_len(&self, payload: usize) -> usize {
        ETH_LEN + IPV4_LEN + self.tcp_header_len() + payload
    }

    /// The payload length that makes the frame exactly `frame_len` bytes.
    pub fn payload_for(&self, frame_len: usize) -> usize {
        frame_len.saturating_sub(ETH_LEN + IPV4_LEN + self.tcp_header_len())
    }

    /// The same connection seen from the other end.
    pub fn reversed(&self) -> TcpSpec {
        TcpSpec {
            src_mac: self.dst_mac,
            dst_mac: self.src_mac,
            src: self.dst,
            dst: self.src,
            src_port: self.dst_port,
            dst_port: self.src_port,
            seq: self.ack,
            ack: self.seq,
            ..*self
        }
    }
}

/// The outer headers of a VXLAN encapsulation over IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxlanSpec {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub src_port: u16,
    pub dst_port: u16,
    pub vni: u32,
    pub ip_id: u16,
    pub ttl: u8,
    /// Compute the outer UDP checksum (else leave it 0, "absent", as Linux does by
    /// default for VXLAN over IPv4).
    pub udp_checksum: bool,
}

/// Appends an Ethernet header.
fn put_eth(buf: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

/// Appends an IPv4 header (no options, DF set) with a correct header checksum.
fn put_ipv4(
    buf: &mut Vec<u8>,
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    total_len: usize,
    id: u16,
    ttl: u8,
) {
    let at = buf.len();
    let total = u16::try_from(total_len).expect("IPv4 total length fits 16 bits");
    buf.extend_from_slice(&[0x45, 0x00]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&[0x40, 0x00, ttl, proto, 0, 0]);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&dst);
    let csum = checksum_field(internet_sum(0, &buf[at..at + IPV4_LEN]));
    buf[at + 10..at + 12].copy_from_slice(&csum.to_be_bytes());
}

/// Writes an Ethernet / IPv4 / TCP frame carrying `payload` into `buf` (cleared first),
/// every checksum correct.
pub fn tcp_frame(buf: &mut Vec<u8>, t: &TcpSpec, payload: &[u8]) {
    buf.clear();
    append_tcp_frame(buf, t, payload);
}

/// [`tcp_frame`] without clearing: appends at the end of `buf`.
fn append_tcp_frame(buf: &mut Vec<u8>, t: &TcpSpec, payload: &[u8]) {
    let tcp_len = t.tcp_header_len() + payload.len();
    put_eth(buf, t.dst_mac, t.src_mac, 0x0800);
    put_ipv4(buf, t.src, t.dst, 6, IPV4_LEN + tcp_len, t.ip_id, t.ttl);
    let at = buf.len();
    buf.extend_from_slice(&t.src_port.to_be_bytes());
    buf.extend_from_slice(&t.dst_port.to_be_bytes());
    buf.extend_from_slice(&t.seq.to_be_bytes());
    buf.extend_from_slice(&t.ack.to_be_bytes());
    let offset_flags = ((t.tcp_header_len() as u16 / 4) << 12) | (t.flags & 0x01ff);
    buf.extend_from_slice(&offset_flags.to_be_bytes());
    buf.extend_from_slice(&t.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    if let Some((val, ecr)) = t.timestamps {
        buf.extend_from_slice(&[1, 1, 8, 10]);
        buf.extend_from_slice(&val.to_be_bytes());
        buf.extend_from_slice(&ecr.to_be_bytes());
    }
    buf.extend_from_slice(payload);
    let acc = internet_sum(pseudo_v4(t.src, t.dst, 6, tcp_len), &buf[at..]);
    let csum = checksum_field(acc);
    buf[at + 16..at + 18].copy_from_slice(&csum.to_be_bytes());
}

/// Writes an Ethernet / IPv4 / UDP / VXLAN frame around the inner TCP frame `inner`
/// carrying `payload` into `buf` (cleared first), every checksum correct.
pub fn vxlan_tcp_frame(buf: &mut Vec<u8>, outer: &VxlanSpec, inner: &TcpSpec, payload: &[u8]) {
    buf.clear();
    let inner_len = inner.frame_len(payload.len());
    let udp_len = UDP_LEN + VXLAN_LEN + inner_len;
    put_eth(buf, outer.dst_mac, outer.src_mac, 0x0800);
    put_ipv4(
        buf,
        outer.src,
        outer.dst,
        17,
        IPV4_LEN + udp_len,
        outer.ip_id,
        outer.ttl,
    );
    let udp_at = buf.len();
    buf.extend_from_slice(&outer.src_port.to_be_bytes());
    buf.extend_from_slice(&outer.dst_port.to_be_bytes());
    let udp_len16 = u16::try_from(udp_len).expect("UDP length fits 16 bits");
    buf.extend_from_slice(&udp_len16.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    // VXLAN: flags "I" (VNI valid), 24 reserved bits, VNI, 8 reserved bits.
    buf.extend_from_slice(&[0x08, 0, 0, 0]);
    buf.extend_from_slice(&(outer.vni << 8).to_be_bytes());
    append_tcp_frame(buf, inner, payload);
    if outer.udp_checksum {
        let acc = internet_sum(pseudo_v4(outer.src, outer.dst, 17, udp_len), &buf[udp_at..]);
        let mut csum = checksum_field(acc);
        if csum == 0 {
            csum = 0xffff; // RFC 768: a computed zero is sent as all ones
        }
        buf[udp_at + 6..udp_at + 8].copy_from_slice(&csum.to_be_bytes());
    }
}

/// Byte offset of the outer UDP checksum field in a frame from [`vxlan_tcp_frame`].
pub const OUTER_UDP_CHECKSUM_AT: usize = ETH_LEN + IPV4_LEN + 6;

/// Deterministic filler bytes (xorshift64*), for payloads that do not sum to a pattern.
pub fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A pod-to-pod connection over a flannel-style VXLAN overlay: two nodes, a pod on
/// each, both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlay {
    /// Client to server, inner headers.
    pub inner: TcpSpec,
    /// Client node to server node, outer headers.
    pub outer: VxlanSpec,
}

impl Overlay {
    /// Connection `i` of a deterministic set: pods 10.244.0.(10+i) → 10.244.1.(10+i),
    /// port 40000+i → 5201, on nodes 192.168.56.11 → 192.168.56.12, VNI 1, outer UDP
    /// checksums on.
    pub fn connection(i: u16) -> Overlay {
        let low = (10 + i % 200) as u8;
        let inner = TcpSpec {
            src_mac: [0x0a, 0x58, 0x0a, 0xf4, 0x00, low],
            dst_mac: [0x0a, 0x58, 0x0a, 0xf4, 0x01, low],
            src: [10, 244, 0, low],
            dst: [10, 244, 1, low],
            src_port: 40000 + i,
            dst_port: 5201,
            seq: 0x1000_0000u32.wrapping_mul(u32::from(i) + 1),
            ack: 0x7000_0000u32.wrapping_add(u32::from(i) * 0x0101_0101),
            flags: 0x018,
            window: 502,
            ip_id: 0,
            ttl: 63,
            timestamps: Some((1_000_000, 2_000_000)),
        };
        let outer = VxlanSpec {
            src_mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x11],
            dst_mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x12],
            src: [192, 168, 56, 11],
            dst: [192, 168, 56, 12],
            // Linux picks the outer source port from a hash of the inner flow.
            src_port: 32768 + (i.wrapping_mul(7919) % 28000),
            dst_port: VXLAN_PORT_LINUX,
            vni: 1,
            ip_id: 0,
            ttl: 64,
            udp_checksum: true,
        };
        Overlay { inner, outer }
    }

    /// The server-to-client direction.
    pub fn reversed(&self) -> Overlay {
        let outer = VxlanSpec {
            src_mac: self.outer.dst_mac,
            dst_mac: self.outer.src_mac,
            src: self.outer.dst,
            dst: self.outer.src,
            ..self.outer
        };
        Overlay {
            inner: self.inner.reversed(),
            outer,
        }
    }
}

/// The representative frames of the `decode` bench, each with its expected layer count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub name: &'static str,
    pub data: Vec<u8>,
    pub layers: usize,
    /// Whether every checksum in the frame is correct.
    pub all_good: bool,
}

/// A 1514-byte TCP-in-VXLAN (port 8472) frame, every checksum correct.
pub fn sample_vxlan() -> Sample {
    let c = Overlay::connection(0);
    let payload = filler(c.inner.payload_for(FULL_FRAME - VXLAN_OVERHEAD), 1);
    let mut data = Vec::new();
    vxlan_tcp_frame(&mut data, &c.outer, &c.inner, &payload);
    Sample {
        name: "vxlan_tcp_1514",
        data,
        layers: 7,
        all_good: true,
    }
}

/// A 1514-byte Ethernet / IPv4 / TCP frame, every checksum correct.
pub fn sample_tcp() -> Sample {
    let t = TcpSpec {
        timestamps: None,
        ..Overlay::connection(1).inner
    };
    let payload = filler(t.payload_for(FULL_FRAME), 2);
    let mut data = Vec::new();
    tcp_frame(&mut data, &t, &payload);
    Sample {
        name: "tcp_1514",
        data,
        layers: 3,
        all_good: true,
    }
}

/// A 64-byte frame holding a bare TCP ACK (54 bytes of headers, 10 bytes of Ethernet
/// padding beyond the IP total length, as a short frame from a switch carries).
pub fn sample_ack() -> Sample {
    let t = TcpSpec {
        flags: 0x010,
        timestamps: None,
        ..Overlay::connection(2).inner.reversed()
    };
    let mut data = Vec::new();
    tcp_frame(&mut data, &t, &[]);
    data.resize(64, 0);
    Sample {
        name: "ack_64",
        data,
        layers: 3,
        all_good: true,
    }
}

/// The VXLAN frame of [`sample_vxlan`] with a wrong outer UDP checksum (the 0xffff a
/// buggy offload writes): decoded to the end, judged bad, dropped by a receiver.
pub fn sample_vxlan_bad_outer() -> Sample {
    let mut s = sample_vxlan();
    let at = OUTER_UDP_CHECKSUM_AT;
    let stored = u16::from_be_bytes([s.data[at], s.data[at + 1]]);
    let wrong: u16 = if stored == 0xffff { 0x1234 } else { 0xffff };
    s.data[at..at + 2].copy_from_slice(&wrong.to_be_bytes());
    Sample {
        name: "vxlan_bad_outer_udp_1514",
        all_good: false,
        ..s
    }
}

/// All four samples of the `decode` bench.
pub fn samples() -> Vec<Sample> {
    vec![
        sample_vxlan(),
        sample_tcp(),
        sample_ack(),
        sample_vxlan_bad_outer(),
    ]
}

/// Classic pcap, microsecond timestamps, little-endian.
pub const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// Writes a classic pcap file header (version 2.4, µs timestamps, little-endian).
pub fn write_pcap_header(w: &mut impl Write, snaplen: u32, link_type: u32) -> io::Result<()> {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&PCAP_MAGIC_US.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&link_type.to_le_bytes());
    w.write_all(&h)
}

/// Bytes a pcap file header takes.
pub const PCAP_HEADER_LEN: usize = 24;
/// Bytes a pcap record header takes.
pub const PCAP_RECORD_HEADER_LEN: usize = 16;

/// Writes one pcap record (µs timestamp from `ts_ns`, captured = original length).
pub fn write_pcap_record(w: &mut impl Write, ts_ns: u64, data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len()).expect("a frame fits a pcap record");
    let mut h = [0u8; 16];
    let sec = u32::try_from(ts_ns / 1_000_000_000).unwrap_or(u32::MAX);
    let usec = ((ts_ns % 1_000_000_000) / 1000) as u32;
    h[0..4].copy_from_slice(&sec.to_le_bytes());
    h[4..8].copy_from_slice(&usec.to_le_bytes());
    h[8..12].copy_from_slice(&len.to_le_bytes());
    h[12..16].copy_from_slice(&len.to_le_bytes());
    w.write_all(&h)?;
    w.write_all(data)
}

/// What the bulk frames carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Pseudo-random printable ASCII (0x20..=0x7e). The default: varied sums, and no
    /// tshark heuristic dissector takes it for a protocol.
    Text,
    /// Pseudo-random bytes, as encrypted traffic looks. tshark's Thrift heuristic now and
    /// then takes a segment for the start of a huge PDU and reassembles from there on,
    /// which makes its run time grow faster than the file (see docs/performance.md).
    Random,
}

/// `len` pseudo-random bytes of the chosen kind.
pub fn payload_bytes(kind: Payload, len: usize, seed: u64) -> Vec<u8> {
    let mut b = filler(len, seed);
    if kind == Payload::Text {
        for x in &mut b {
            *x = 0x20 + (u16::from(*x) * 95 / 256) as u8;
        }
    }
    b
}

/// Streams the bulk capture: full-size TCP-in-VXLAN/8472 frames of `connections`
/// connections, round-robin, each sending three segments from the client and one from
/// the server per turn, sequence and acknowledgment numbers advancing, timestamps 12 µs
/// apart (about line rate at 1 Gbit/s). Deterministic: the same arguments give the same
/// bytes.
#[derive(Debug)]
pub struct BulkStream {
    conns: Vec<Overlay>,
    payload_pool: Vec<u8>,
    frame: u64,
    ts_ns: u64,
    buf: Vec<u8>,
}

/// Each connection's turn: client, client, client, server.
const TURN: u64 = 4;

impl BulkStream {
    /// A stream over `connections` connections (at least one).
    pub fn new(connections: u16, payload: Payload) -> BulkStream {
        let conns = (0..connections.max(1)).map(Overlay::connection).collect();
        BulkStream {
            conns,
            payload_pool: payload_bytes(payload, 64 * 1024, 0x6e65_7463_6170),
            frame: 0,
            ts_ns: 1_700_000_000_000_000_000,
            buf: Vec::with_capacity(FULL_FRAME),
        }
    }

    /// The payload length of every frame.
    pub fn payload_len(&self) -> usize {
        self.conns[0].inner.payload_for(FULL_FRAME - VXLAN_OVERHEAD)
    }

    /// The next frame and its timestamp (ns); the slice is valid until the next call.
    pub fn next_frame(&mut self) -> (u64, &[u8]) {
        let n = self.conns.len() as u64;
        let conn = ((self.frame / TURN) % n) as usize;
        let from_server = self.frame % TURN == TURN - 1;
        let payload_len = self.payload_len();
        // A different window of the pool per frame, so sums differ frame to frame.
        let start = ((self.frame * 977) % (self.payload_pool.len() - payload_len) as u64) as usize;
        let payload = &self.payload_pool[start..start + payload_len];
        let c = &mut self.conns[conn];
        let tsval = (self.ts_ns / 1_000_000) as u32;
        let (inner, outer) = if from_server {
            let r = c.reversed();
            (r.inner, r.outer)
        } else {
            (c.inner, c.outer)
        };
        let inner = TcpSpec {
            timestamps: Some((tsval, tsval.wrapping_sub(1))),
            ..inner
        };
        vxlan_tcp_frame(&mut self.buf, &outer, &inner, payload);
        // Advance the sender's sequence number (the peer's ack follows it).
        let step = payload_len as u32;
        if from_server {
            c.inner.ack = c.inner.ack.wrapping_add(step);
        } else {
            c.inner.seq = c.inner.seq.wrapping_add(step);
        }
        c.inner.ip_id = c.inner.ip_id.wrapping_add(1);
        c.outer.ip_id = c.outer.ip_id.wrapping_add(1);
        self.frame += 1;
        let ts = self.ts_ns;
        self.ts_ns += 12_000;
        (ts, &self.buf)
    }

    /// Frames produced so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }
}

/// An in-memory pcap of `frames` frames of the bulk stream.
pub fn bulk_pcap(frames: usize, connections: u16, payload: Payload) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(PCAP_HEADER_LEN + frames * (PCAP_RECORD_HEADER_LEN + FULL_FRAME));
    write_pcap_header(&mut out, 262_144, LINKTYPE_ETHERNET).expect("writing to a Vec");
    let mut s = BulkStream::new(connections, payload);
    for _ in 0..frames {
        let (ts, data) = s.next_frame();
        write_pcap_record(&mut out, ts, data).expect("writing to a Vec");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_core::capture::{CaptureReader, LinkType};
    use netcap_core::checksum::Status;
    use netcap_core::decode::Decoder;

    #[test]
    fn rfc1071_example() {
        let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(internet_sum(0, &b)), 0xddf2);
    }

    #[test]
    fn samples_decode_with_the_expected_layers_and_verdicts() {
        let d = Decoder::default();
        for s in samples() {
            let p = d.decode(LinkType::ETHERNET, &s.data);
            assert_eq!(p.layers.len(), s.layers, "{}", s.name);
            assert!(p.stop.is_none(), "{}: {:?}", s.name, p.stop);
            let statuses: Vec<Status> = p
                .layers
                .iter()
                .filter_map(|l| l.checksum)
                .map(|v| v.status)
                .collect();
            assert!(!statuses.is_empty());
            if s.all_good {
                assert!(
                    statuses.iter().all(|&st| st == Status::Good),
                    "{}: {statuses:?}",
                    s.name
                );
                assert!(p.receiver_accepts(), "{}", s.name);
            } else {
                assert_eq!(
                    statuses.iter().filter(|&&st| st == Status::Bad).count(),
                    1,
                    "{}",
                    s.name
                );
                assert!(!p.receiver_accepts(), "{}", s.name);
            }
        }
        assert_eq!(sample_vxlan().data.len(), FULL_FRAME);
        assert_eq!(sample_tcp().data.len(), FULL_FRAME);
        assert_eq!(sample_ack().data.len(), 64);
    }

    #[test]
    fn bulk_stream_is_deterministic_full_size_and_good() {
        let a = bulk_pcap(64, 3, Payload::Text);
        assert_eq!(a, bulk_pcap(64, 3, Payload::Text));
        assert_ne!(a, bulk_pcap(64, 3, Payload::Random));
        let mut r = CaptureReader::from_reader("bulk.pcap", std::io::Cursor::new(a)).unwrap();
        let d = Decoder::default();
        let mut frames = 0;
        let mut ports = std::collections::BTreeSet::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!(f.data.len(), FULL_FRAME);
            let p = d.decode(f.link_type, f.data);
            assert_eq!(p.layers.len(), 7);
            assert!(p
                .layers
                .iter()
                .filter_map(|l| l.checksum)
                .all(|v| v.status == Status::Good));
            let tcp = VXLAN_OVERHEAD + ETH_LEN + IPV4_LEN;
            ports.insert(f.data[tcp..tcp + 4].to_vec());
            frames += 1;
        }
        assert_eq!(frames, 64);
        // Three connections, both directions: six distinct (source, destination) port pairs.
        assert_eq!(ports.len(), 6);
    }
}
