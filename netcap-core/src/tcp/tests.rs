//! Unit tests of the TCP analysis with hand-built segments: every label, RTT definition
//! and SYN outcome, with values a person can check from the segment list.

use std::net::Ipv4Addr;

use super::*;
use crate::capture::{Frame, LinkType, PointId};
use crate::decode::{tcp_flags as F, Layer, LayerKind, Packet, TcpOptions as Opts};
use crate::flow::table::Exit;

const MS: i64 = 1_000_000;
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A scripted connection between 10.0.0.1:40000 (client) and 10.0.0.2:80.
struct Script {
    a: Analyzer,
    frame: u64,
    point: u32,
    client_port: u16,
    /// An 802.1Q tag on client → server and on server → client frames.
    vlan: [Option<u16>; 2],
}

impl Script {
    fn new() -> Self {
        Script { a: Analyzer::new(TcpAnalysisOptions::default()), frame: 0, point: 0, client_port: 40000, vlan: [None; 2] }
    }

    /// Sends one segment at `t_ms`; `c2s` is client → server.
    #[allow(clippy::too_many_arguments)]
    fn send(&mut self, t_ms: i64, c2s: bool, flags: u16, seq: u32, ack: u32, len: u32, win: u16, ts: Option<(u32, u32)>) -> SegmentInfo {
        self.send_opts(t_ms, c2s, flags, seq, ack, len, win, Opts { timestamps: ts, ..Opts::default() })
    }

    #[allow(clippy::too_many_arguments)]
    fn send_opts(&mut self, t_ms: i64, c2s: bool, flags: u16, seq: u32, ack: u32, len: u32, win: u16, options: Opts) -> SegmentInfo {
        self.frame += 1;
        let (src, dst, sp, dp) =
            if c2s { (CLIENT, SERVER, self.client_port, 80) } else { (SERVER, CLIENT, 80, self.client_port) };
        let ip = LayerKind::Ipv4 {
            src,
            dst,
            tos: 0,
            total_len: u16::try_from(40 + len).unwrap_or(u16::MAX),
            ip_id: 0,
            dont_fragment: true,
            more_fragments: false,
            frag_offset: 0,
            ttl: 64,
            proto: crate::decode::IpNumber::TCP,
        };
        let tcp = LayerKind::Tcp {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags,
            window: win,
            urgent: 0,
            options,
            payload_len: len,
        };
        let layer = |kind, offset| Layer { depth: 0, offset, header_len: 20, kind, checksum: None };
        let mut layers = vec![layer(ip, 0), layer(tcp, 20)];
        if let Some(vid) = self.vlan[usize::from(!c2s)] {
            let tag = LayerKind::Vlan { tpid: 0x8100, pcp: 0, dei: false, vid, ethertype: crate::decode::EtherType::IPV4 };
            layers.insert(0, layer(tag, 0));
        }
        let packet = Packet { layers, stop: None, drop: None };
        let frame = Frame {
            number: self.frame,
            point: PointId(self.point),
            link_type: LinkType(101),
            ts_ns: t_ms * MS,
            has_timestamp: true,
            caplen: 0,
            len: 40 + len,
            offset: 0,
            data: &[],
        };
        self.a.segment(self.point, &frame, &packet).expect("a TCP segment")
    }

    /// SYN at 0, SYN/ACK at 10 ms, ACK at 11 ms: client ISN 0 (data from 1), server ISN
    /// 5000 (data from 5001).
    fn handshake(&mut self) {
        self.send(0, true, F::SYN, 0, 0, 0, 65535, None);
        self.send(10, false, F::SYN | F::ACK, 5000, 1, 0, 65535, None);
        self.send(11, true, F::ACK, 1, 5001, 0, 65535, None);
    }

    fn records(&mut self) -> Vec<FlowRecord> {
        self.a.finish()
    }
}

fn labels(i: &SegmentInfo) -> Vec<&'static str> {
    i.analysis.iter().map(Label::name).collect()
}

const A: u16 = F::ACK;

#[test]
fn a_resent_segment_is_a_retransmission_and_its_ack_rtt_is_from_the_first_copy() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, None); // frame 4
    s.send(21, true, A, 1001, 5001, 1000, 65535, None); // frame 5
    let r = s.send(300, true, A, 1, 5001, 1000, 65535, None); // frame 6: RTO
    assert_eq!(labels(&r), ["retransmission"]);
    let ack = s.send(310, false, A, 5001, 2001, 0, 65535, None); // acks frames 5 (and 4/6)
    assert_eq!(ack.acks_frame, Some(5));
    assert_eq!(ack.ack_rtt_ns, Some(289 * MS));
    assert!(ack.karn, "frame 5's range was never retransmitted");
    let f = &s.records()[0];
    assert_eq!((f.c2s.retransmissions, f.c2s.retransmitted_bytes), (1, 1000));
    // ack_rtt samples: SYN/ACK acks the SYN (10 ms), the ACK acks the SYN/ACK (1 ms),
    // and 289 ms.
    assert_eq!(f.rtt.ack_rtt.count, 3);
}

#[test]
fn karn_drops_the_sample_of_a_retransmitted_range() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, None); // 4
    s.send(300, true, A, 1, 5001, 1000, 65535, None); // 5: retransmission
    let ack = s.send(310, false, A, 5001, 1001, 0, 65535, None);
    assert_eq!(ack.acks_frame, Some(4), "from the first transmission, as Wireshark");
    assert_eq!(ack.ack_rtt_ns, Some(290 * MS));
    assert!(!ack.karn);
    let f = &s.records()[0];
    assert_eq!(f.rtt.karn.count, 2, "only the handshake samples");
    assert_eq!(f.rtt.karn.max_ns, Some(10 * MS));
}

#[test]
fn duplicate_acks_are_numbered_and_a_quick_resend_is_a_fast_retransmission() {
    let mut s = Script::new();
    s.handshake();
    for (i, t) in [20, 21, 22, 23].into_iter().enumerate() {
        s.send(t, true, A, 1 + 1000 * i as u32, 5001, 1000, 65535, None); // frames 4..7
    }
    let first = s.send(30, false, A, 5001, 1001, 0, 65535, None); // 8
    assert!(first.analysis.is_empty());
    let d1 = s.send(31, false, A, 5001, 1001, 0, 65535, None); // 9
    let d2 = s.send(32, false, A, 5001, 1001, 0, 65535, None); // 10
    assert_eq!(labels(&d1), ["duplicate_ack"]);
    assert_eq!((d1.dupack_num, d1.dupack_frame), (Some(1), Some(8)));
    assert_eq!((d2.dupack_num, d2.dupack_frame), (Some(2), Some(8)));
    let fr = s.send(33, true, A, 1001, 5001, 1000, 65535, None);
    assert_eq!(labels(&fr), ["fast_retransmission"]);
    let f = &s.records()[0];
    assert_eq!((f.c2s.retransmissions, f.c2s.fast_retransmissions, f.s2c.duplicate_acks), (1, 1, 2));
}

#[test]
fn resending_acknowledged_data_is_spurious() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, None);
    s.send(30, false, A, 5001, 1001, 0, 65535, None);
    let r = s.send(300, true, A, 1, 5001, 1000, 65535, None);
    assert_eq!(labels(&r), ["spurious_retransmission"]);
    let f = &s.records()[0];
    assert_eq!((f.c2s.retransmissions, f.c2s.spurious_retransmissions), (1, 1));
}

#[test]
fn a_dsack_marks_the_retransmission_it_reports_as_spurious() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, None);
    s.send(300, true, A, 1, 5001, 1000, 65535, None); // retransmission (ACK was delayed)
    s.send(301, false, A, 5001, 1001, 0, 65535, None);
    // The receiver got both copies: D-SACK block [1, 1001) below the ACK (RFC 2883 §4).
    let mut opts = Opts::default();
    opts.sack.push((1, 1001));
    s.send_opts(302, false, A, 5001, 1001, 0, 65534, opts);
    let f = &s.records()[0];
    assert_eq!((f.c2s.retransmissions, f.c2s.spurious_retransmissions), (1, 1));
}

#[test]
fn at_a_receiver_a_gap_filled_soon_is_out_of_order_and_late_is_a_retransmission() {
    let mut s = Script::new();
    s.handshake(); // initial RTT 11 ms
    s.send(20, true, A, 1, 5001, 1000, 65535, None);
    let gap = s.send(21, true, A, 2001, 5001, 1000, 65535, None);
    assert_eq!(labels(&gap), ["lost_segment"]);
    let ooo = s.send(22, true, A, 1001, 5001, 1000, 65535, None);
    assert_eq!(labels(&ooo), ["out_of_order"], "1 ms after the gap, within the 11 ms handshake RTT");

    s.send(30, true, A, 4001, 5001, 1000, 65535, None); // gap [3001, 4001)
    let late = s.send(90, true, A, 3001, 5001, 1000, 65535, None);
    assert_eq!(labels(&late), ["retransmission"], "60 ms after the gap: resent, not reordered");
    let f = &s.records()[0];
    assert_eq!((f.c2s.lost_segments, f.c2s.out_of_order, f.c2s.retransmissions), (2, 1, 1));
}

#[test]
fn tcp_timestamps_tell_reordering_from_retransmission_whatever_the_delay() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, Some((100, 0)));
    s.send(21, true, A, 2001, 5001, 1000, 65535, Some((102, 0))); // gap
    // Sent before the segment that revealed the gap (TSval 101 < 102), arriving 50 ms
    // late: reordered on the way.
    let r = s.send(71, true, A, 1001, 5001, 1000, 65535, Some((101, 0)));
    assert_eq!(labels(&r), ["out_of_order"]);

    s.send(80, true, A, 4001, 5001, 1000, 65535, Some((110, 0))); // gap [3001, 4001)
    // Sent after it (TSval 111 > 110), arriving 1 ms later: a retransmission of a
    // segment lost before this point.
    let r = s.send(81, true, A, 3001, 5001, 1000, 65535, Some((111, 0)));
    assert_eq!(labels(&r), ["retransmission"]);
}

#[test]
fn window_labels_and_keep_alives() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A, 1, 5001, 100, 65535, None);
    let zw = s.send(21, false, A, 5001, 101, 0, 0, None);
    assert_eq!(labels(&zw), ["zero_window"]);
    let probe = s.send(300, true, A, 101, 5001, 1, 65535, None);
    assert_eq!(labels(&probe), ["zero_window_probe"]);
    let probe_ack = s.send(301, false, A, 5001, 101, 0, 0, None);
    assert_eq!(labels(&probe_ack), ["zero_window", "zero_window_probe_ack"]);
    let update = s.send(400, false, A, 5001, 101, 0, 30000, None);
    assert_eq!(labels(&update), ["window_update"]);
    let ka = s.send(10_000, true, A, 100, 5001, 0, 65535, None);
    assert_eq!(labels(&ka), ["keep_alive"]);
    let ka_ack = s.send(10_001, false, A, 5001, 101, 0, 30000, None);
    assert_eq!(labels(&ka_ack), ["keep_alive_ack"]);
    let f = &s.records()[0];
    assert_eq!((f.s2c.zero_windows, f.c2s.retransmissions), (2, 0));
}

#[test]
fn handshake_rtts_and_wiresharks_initial_rtt() {
    let mut s = Script::new();
    s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    s.send(1000, true, F::SYN, 0, 0, 0, 65535, None);
    let synack = s.send(1010, false, F::SYN | F::ACK, 5000, 1, 0, 65535, None);
    assert_eq!((synack.acks_frame, synack.ack_rtt_ns), (Some(1), Some(1010 * MS)), "Wireshark: from the first SYN");
    assert!(!synack.karn);
    let ack = s.send(1011, true, A, 1, 5001, 0, 65535, None);
    assert_eq!(ack.initial_rtt_ns, Some(11 * MS), "last SYN to first ACK");
    let data = s.send(1012, true, A | F::PSH, 1, 5001, 10, 65535, None);
    assert_eq!(data.initial_rtt_ns, Some(11 * MS), "on every later frame");
    let f = &s.records()[0];
    assert_eq!((f.rtt.syn_synack_ns, f.rtt.synack_ack_ns), (Some(10 * MS), Some(MS)));
    assert_eq!(f.syn.attempts, 2);
    assert_eq!(f.syn.offsets_ns, [0, 1000 * MS]);
    assert_eq!(f.syn.schedule, syn::Schedule::LinuxClassic);
    assert_eq!(f.syn.connect_delay_ns, Some(1010 * MS));
    assert_eq!(f.syn.outcome, Some(Outcome::Established));
    assert_eq!(f.outcome, Outcome::Established);
    assert!(f.handshake);
}

#[test]
fn syn_outcomes_refused_timed_out_and_unanswered() {
    // Refused: RST/ACK answers the SYN.
    let mut s = Script::new();
    s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    s.send(1, false, F::RST | F::ACK, 0, 1, 0, 0, None);
    let f = &s.records()[0];
    assert_eq!((f.outcome, f.syn.outcome, f.syn.attempts), (Outcome::Refused, Some(Outcome::Refused), 1));

    // Timed out: classic schedule, and the capture goes on (another flow) long after.
    let mut s = Script::new();
    for t in [0, 1000, 3000, 7000] {
        s.send(t, true, F::SYN, 0, 0, 0, 65535, None);
    }
    s.client_port = 40001;
    s.send(30_000, true, F::SYN, 77, 0, 0, 65535, None);
    let recs = s.records();
    let f = recs.iter().find(|f| f.client.port == 40000).unwrap();
    assert_eq!((f.outcome, f.syn.attempts, f.syn.schedule), (Outcome::TimedOut, 4, syn::Schedule::LinuxClassic));
    assert!(f.in_trouble());
    // The other flow's single SYN is still within its first RTO when the capture ends.
    let g = recs.iter().find(|f| f.client.port == 40001).unwrap();
    assert_eq!(g.outcome, Outcome::Unanswered);
}

#[test]
fn a_new_isn_on_used_ports_is_a_new_connection() {
    let mut s = Script::new();
    s.handshake();
    s.send(20, true, A | F::FIN, 1, 5001, 0, 65535, None);
    s.send(21, false, A | F::FIN, 5001, 2, 0, 65535, None);
    s.send(22, true, A, 2, 5002, 0, 65535, None);
    let syn = s.send(5000, true, F::SYN, 900_000, 0, 0, 65535, None);
    assert_eq!(labels(&syn), ["reused_ports"]);
    assert_eq!(syn.flow, 1);
    let recs = s.records();
    assert_eq!(recs.len(), 2);
    assert_eq!((recs[0].id, recs[0].outcome, recs[0].exit), (0, Outcome::Closed, Exit::Replaced));
    assert_eq!((recs[1].id, recs[1].syn.attempts), (1, 1));
}

#[test]
fn points_are_analysed_apart() {
    // The same SYN seen at two points is one attempt at each, not a retransmission.
    let mut s = Script::new();
    let a = s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    s.point = 1;
    let b = s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    assert!(a.analysis.is_empty() && b.analysis.is_empty());
    assert_ne!(a.flow, b.flow);
    let recs = s.records();
    assert!(recs.iter().all(|f| f.syn.attempts == 1 && f.c2s.retransmissions == 0));
}

#[test]
fn sequence_numbers_wrap() {
    let mut s = Script::new();
    let isn = u32::MAX - 1500;
    s.send(0, true, F::SYN, isn, 0, 0, 65535, None);
    s.send(1, false, F::SYN | A, 5000, isn.wrapping_add(1), 0, 65535, None);
    s.send(2, true, A, isn.wrapping_add(1), 5001, 0, 65535, None);
    let a = s.send(3, true, A, isn.wrapping_add(1), 5001, 1000, 65535, None);
    let b = s.send(4, true, A, isn.wrapping_add(1001), 5001, 1000, 65535, None); // crosses 2^32
    assert!(a.analysis.is_empty() && b.analysis.is_empty());
    let r = s.send(300, true, A, isn.wrapping_add(1001), 5001, 1000, 65535, None);
    assert_eq!(labels(&r), ["retransmission"]);
    let ack = s.send(301, false, A, 5001, isn.wrapping_add(2001), 0, 65535, None);
    assert_eq!(ack.acks_frame, Some(5));
}

#[test]
fn directions_on_different_paths_are_one_flow() {
    // A SPAN port that sees the client's frames tagged (VLAN 100) and the server's
    // untagged: one connection, both directions joined.
    let mut s = Script::new();
    s.vlan = [Some(100), None];
    s.handshake();
    s.send(20, true, A, 1, 5001, 1000, 65535, None);
    let ack = s.send(30, false, A, 5001, 1001, 0, 65535, None);
    assert_eq!((ack.acks_frame, ack.ack_rtt_ns), (Some(4), Some(10 * MS)));
    let recs = s.records();
    assert_eq!(recs.len(), 1);
    let f = &recs[0];
    assert!(f.handshake);
    assert_eq!(f.outcome, Outcome::Established);
    assert_eq!(f.encapsulation.to_string(), "vlan 100");
    assert_eq!(f.encapsulation_s2c.map(|p| p.to_string()), Some("-".to_string()));
}

#[test]
fn the_same_ports_in_two_vlans_both_ways_are_two_flows() {
    let mut s = Script::new();
    s.vlan = [Some(1), Some(1)];
    s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    s.vlan = [Some(2), Some(2)];
    s.send(1, true, F::SYN, 7000, 0, 0, 65535, None);
    s.vlan = [Some(1), Some(1)];
    s.send(10, false, F::SYN | A, 5000, 1, 0, 65535, None);
    s.send(11, true, A, 1, 5001, 0, 65535, None);
    s.vlan = [Some(2), Some(2)];
    s.send(12, false, F::SYN | A, 9000, 7001, 0, 65535, None);
    s.send(13, true, A, 7001, 9001, 0, 65535, None);
    let recs = s.records();
    assert_eq!(recs.len(), 2);
    for f in &recs {
        assert!(f.handshake && f.encapsulation_s2c.is_none(), "{f:?}");
        assert_eq!((f.syn.attempts, f.c2s.retransmissions), (1, 0));
    }
}

// --- conformance regressions ---

/// Raw IPv4 + TCP bytes between 10.0.0.1:40000 (client) and 10.0.0.2:80 whose IP total
/// length claims `claimed` payload bytes, followed by `payload` (checksums 0).
fn raw_ipv4_tcp(c2s: bool, flags: u8, seq: u32, ack: u32, claimed: u16, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if c2s { (CLIENT, SERVER, 40000u16, 80u16) } else { (SERVER, CLIENT, 80, 40000) };
    let mut f = vec![0x45, 0];
    f.extend_from_slice(&(40 + claimed).to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Decodes `bytes` as a raw IPv4 frame (caplen = original length) and analyses it.
fn feed_raw(a: &mut Analyzer, number: u64, t_ms: i64, bytes: &[u8]) -> SegmentInfo {
    let packet = crate::decode::Decoder::default().decode(LinkType::IPV4, bytes);
    let len = u32::try_from(bytes.len()).expect("small frame");
    let frame = Frame {
        number,
        point: PointId(0),
        link_type: LinkType::IPV4,
        ts_ns: t_ms * MS,
        has_timestamp: true,
        caplen: len,
        len,
        offset: 0,
        data: bytes,
    };
    a.segment(0, &frame, &packet).expect("a TCP segment")
}

/// tshark 4.0.17 on suricata-verify telnet-01 frame 18 and tcpdump kday4.pcap frame 10:
/// an uncut frame whose IPv4 total length claims bytes that are not there carries no
/// payload ("IPv4 total length exceeds packet length"), so it is no retransmission, and
/// repeating the last ACK it is a duplicate ACK.
#[test]
fn ip_length_beyond_an_uncut_frame_counts_only_the_bytes_on_the_wire() {
    let (syn, ack, psh) = (0x02, 0x10, 0x18);
    let mut a = Analyzer::new(TcpAnalysisOptions::default());
    feed_raw(&mut a, 1, 0, &raw_ipv4_tcp(true, syn, 0, 0, 0, &[]));
    feed_raw(&mut a, 2, 1, &raw_ipv4_tcp(false, syn | ack, 5000, 1, 0, &[]));
    feed_raw(&mut a, 3, 2, &raw_ipv4_tcp(true, ack, 1, 5001, 0, &[]));
    feed_raw(&mut a, 4, 3, &raw_ipv4_tcp(true, psh, 1, 5001, 85, &[b'x'; 85]));
    // Same start, 85 bytes claimed, none present.
    let empty = feed_raw(&mut a, 5, 4, &raw_ipv4_tcp(true, psh, 1, 5001, 85, &[]));
    assert!(empty.analysis.is_empty(), "not a retransmission: {:?}", labels(&empty));
    // The server's last ACK, repeated with 768 bytes claimed and none present.
    feed_raw(&mut a, 6, 5, &raw_ipv4_tcp(false, ack, 5001, 86, 0, &[]));
    let dup = feed_raw(&mut a, 7, 6, &raw_ipv4_tcp(false, ack, 5001, 86, 768, &[]));
    assert_eq!(labels(&dup), ["duplicate_ack"]);
    let f = &a.finish()[0];
    assert_eq!((f.c2s.payload_bytes, f.c2s.retransmissions), (85, 0));
}

/// tshark 4.0.17 on suricata-verify base64-decode-5885 frames 235–238: SYN, a challenge
/// ACK, a RST whose sequence number is that ACK (far from the ISN), the SYN again with the
/// same ISN, then the handshake and data. The repeated SYN is a retransmission; the data
/// after it is not (Wireshark sets the next expected sequence number back to the highest
/// in-order one on a SYN with the connection's ISN).
#[test]
fn a_syn_with_the_same_isn_after_a_far_off_rst_resets_the_expected_sequence() {
    let mut s = Script::new();
    s.send(0, true, F::SYN, 1000, 0, 0, 8192, None);
    s.send(29, false, A, 7000, 900_000_000, 0, 251, None); // challenge ACK
    s.send(30, true, F::RST, 900_000_000, 0, 0, 0, None);
    let again = s.send(3000, true, F::SYN, 1000, 0, 0, 8192, None);
    assert_eq!(labels(&again), ["retransmission"]);
    s.send(3028, false, F::SYN | A, 5000, 1001, 0, 64240, None);
    s.send(3029, true, A, 1001, 5001, 0, 259, None);
    let data = s.send(3030, true, A | F::PSH, 1001, 5001, 517, 259, None);
    assert!(!data.analysis.is_retransmission() && !data.analysis.has(Label::OutOfOrder), "{:?}", labels(&data));
    let later = s.send(3100, true, A | F::PSH, 1518, 5001, 64, 259, None);
    assert!(later.analysis.is_empty(), "{:?}", labels(&later));
}

/// tshark 4.0.17 on suricata-verify http-range-multiflows frame 56 and output-eve-ftp-data
/// frame 69: a FIN sent again after the other side acknowledged it is a retransmission.
/// netcap had forgotten the acknowledged sequence space and took it for a hole filled out
/// of order.
#[test]
fn a_fin_sent_again_after_its_ack_is_a_retransmission() {
    let mut s = Script::new();
    s.handshake(); // initial RTT 11 ms
    s.send(20, false, A | F::FIN, 5001, 1, 0, 65535, None);
    s.send(21, true, A | F::FIN, 1, 5002, 0, 65535, None);
    let again = s.send(22, false, A | F::FIN, 5001, 2, 0, 65535, None);
    assert_eq!(labels(&again), ["retransmission"]);
}

/// The same packet captured twice (a VM's shared vNIC, a SPAN of both directions; tshark
/// labels the copy a retransmission, Wireshark issue 19463) is a `duplicate_capture`,
/// counted apart and moving no state; the same bytes sent again 300 ms later are a
/// (spurious) retransmission, and a pure ACK repeated is a duplicate ACK.
#[test]
fn the_same_packet_captured_twice_is_a_duplicate_capture_not_a_retransmission() {
    let (syn, ack, psh) = (0x02, 0x10, 0x18);
    let mut a = Analyzer::new(TcpAnalysisOptions::default());
    feed_raw(&mut a, 1, 0, &raw_ipv4_tcp(true, syn, 0, 0, 0, &[]));
    feed_raw(&mut a, 2, 1, &raw_ipv4_tcp(false, syn | ack, 5000, 1, 0, &[]));
    feed_raw(&mut a, 3, 2, &raw_ipv4_tcp(true, ack, 1, 5001, 0, &[]));
    let data = raw_ipv4_tcp(true, psh, 1, 5001, 100, &[b'x'; 100]);
    assert!(feed_raw(&mut a, 4, 3, &data).analysis.is_empty());
    let copy = feed_raw(&mut a, 5, 3, &data);
    assert_eq!(labels(&copy), ["duplicate_capture"]);
    // The server's ACK twice: pure ACKs are never called copies (identical answers
    // cannot be told from copies), so the second is a duplicate ACK, as in tshark.
    let server_ack = raw_ipv4_tcp(false, ack, 5001, 101, 0, &[]);
    assert!(feed_raw(&mut a, 6, 4, &server_ack).analysis.is_empty());
    assert_eq!(labels(&feed_raw(&mut a, 7, 4, &server_ack)), ["duplicate_ack"]);
    // The data again, byte for byte, 300 ms later: sent again (after its ACK: spurious).
    assert_eq!(labels(&feed_raw(&mut a, 8, 303, &data)), ["spurious_retransmission"]);
    // And again at once: a copy of that resend.
    assert_eq!(labels(&feed_raw(&mut a, 9, 303, &data)), ["duplicate_capture"]);
    let f = &a.finish()[0];
    assert_eq!((f.c2s.packets, f.c2s.duplicate_captures, f.c2s.retransmissions), (4, 2, 1));
    assert_eq!((f.s2c.packets, f.s2c.duplicate_captures, f.s2c.duplicate_acks), (3, 0, 1));
}

/// Identical packets that answer the other side are sent, not copied: a RST storm after
/// a reset (the lab's tcp-loss receiver: each RST, IPv4 identification 0 and no
/// timestamps, answers a data segment) and repeated ACKs of a stack that sends
/// identification 0 are not `duplicate_capture`.
#[test]
fn identical_answers_to_the_other_side_are_not_duplicate_captures() {
    let (syn, ack, psh, rst) = (0x02, 0x10, 0x18, 0x04);
    let mut a = Analyzer::new(TcpAnalysisOptions::default());
    feed_raw(&mut a, 1, 0, &raw_ipv4_tcp(true, syn, 0, 0, 0, &[]));
    feed_raw(&mut a, 2, 1, &raw_ipv4_tcp(false, syn | ack, 5000, 1, 0, &[]));
    feed_raw(&mut a, 3, 2, &raw_ipv4_tcp(true, ack, 1, 5001, 0, &[]));
    let id0 = |mut f: Vec<u8>| {
        f[4..6].copy_from_slice(&[0, 0]);
        f
    };
    let answer = id0(raw_ipv4_tcp(false, ack, 5001, 1, 0, &[]));
    for (n, t) in [(4u64, 3i64), (6, 3), (8, 3)] {
        let data = raw_ipv4_tcp(true, psh, 1, 5001, 10, &[b'x'; 10]);
        feed_raw(&mut a, n, t, &data);
        let info = feed_raw(&mut a, n + 1, t, &answer);
        assert!(!info.analysis.has(Label::DuplicateCapture), "frame {}: {:?}", n + 1, labels(&info));
    }
    let reset = id0(raw_ipv4_tcp(false, rst, 5001, 0, 0, &[]));
    for n in [10u64, 12] {
        feed_raw(&mut a, n, 4, &raw_ipv4_tcp(true, psh, 11, 5001, 10, &[b'y'; 10]));
        let info = feed_raw(&mut a, n + 1, 4, &reset);
        assert!(!info.analysis.has(Label::DuplicateCapture), "frame {}: {:?}", n + 1, labels(&info));
    }
    let f = &a.finish()[0];
    assert_eq!((f.s2c.duplicate_captures, f.c2s.duplicate_captures), (0, 0));
}

/// The analyzer's options under their old name still build (a deprecated alias).
#[test]
#[allow(deprecated)]
fn tcp_options_is_the_old_name_of_tcp_analysis_options() {
    let limits = FlowLimits { max_flows: 7, idle_timeout_ns: 5 };
    let old: TcpOptions = TcpOptions { limits };
    assert_eq!(old, TcpAnalysisOptions { limits });
    assert_eq!(Analyzer::new(old).limits(), limits);
}

#[test]
fn labels_display_as_their_names_in_json_and_text() {
    assert_eq!(Label::Retransmission.to_string(), "retransmission");
    assert_eq!(format!("{} #2 of 7", Label::DuplicateAck), "duplicate_ack #2 of 7");
    let all: Vec<String> = Label::ALL.iter().map(Label::to_string).collect();
    assert_eq!(
        all.join(" "),
        "retransmission fast_retransmission spurious_retransmission out_of_order lost_segment \
         ack_lost_segment duplicate_ack zero_window zero_window_probe zero_window_probe_ack \
         window_full window_update keep_alive keep_alive_ack reused_ports duplicate_capture"
    );
}

#[test]
fn flow_records_carry_the_names_given_to_their_points() {
    let mut s = Script::new();
    s.a.name_point(0, "client_pod");
    for point in 0..3 {
        s.point = point;
        s.send(0, true, F::SYN, 0, 0, 0, 65535, None);
    }
    // Named after its frames, before its record is handed out; renamed to the same.
    s.a.name_point(1, "server_underlay");
    s.a.name_point(1, "server_underlay");
    // Beyond the cap: not named, nothing allocated.
    s.a.name_point(u32::MAX, "stray");
    let mut recs = s.records();
    recs.sort_by_key(|f| f.point_index);
    let points: Vec<(u32, &str)> = recs.iter().map(|f| (f.point_index, f.point.as_str())).collect();
    assert_eq!(points, [(0, "client_pod"), (1, "server_underlay"), (2, "")]);
}
