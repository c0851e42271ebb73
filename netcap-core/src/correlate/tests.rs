//! Unit tests of the correlation.

use std::net::Ipv4Addr;

use super::fingerprint::{fingerprints, Identity};
use super::resegment::{same_transmission, Seg};
use super::*;
use crate::flow::Endpoint;
use crate::capture::{LinkType, PointId};
use crate::decode::{tcp_flags, IpNumber, Layer, TcpOptions};

fn layer(depth: u8, kind: LayerKind) -> Layer {
    Layer { depth, offset: 0, header_len: 20, kind, checksum: None }
}

fn ipv4(src: [u8; 4], dst: [u8; 4], ttl: u8, ip_id: u16, proto: IpNumber) -> LayerKind {
    LayerKind::Ipv4 {
        src: Ipv4Addr::from(src),
        dst: Ipv4Addr::from(dst),
        tos: 0,
        total_len: 60,
        ip_id,
        dont_fragment: true,
        more_fragments: false,
        frag_offset: 0,
        ttl,
        proto,
    }
}

fn tcp(seq: u32) -> LayerKind {
    LayerKind::Tcp {
        src_port: 40000,
        dst_port: 80,
        seq,
        ack: 0,
        flags: tcp_flags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOptions::default(),
        payload_len: 0,
    }
}

/// The pod's SYN, and the same SYN one hop later inside VXLAN on the underlay.
fn pod(ip_id: u16, ttl: u8) -> Packet {
    Packet { layers: vec![layer(0, ipv4([10, 0, 1, 2], [10, 0, 2, 3], ttl, ip_id, IpNumber::TCP)), layer(0, tcp(7))], stop: None, drop: None }
}

fn underlay(ip_id: u16, ttl: u8, outer_id: u16) -> Packet {
    let outer = ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64, outer_id, IpNumber::UDP);
    let udp = LayerKind::Udp { src_port: 5555, dst_port: 8472, length: 90, payload_len: 82 };
    let mut p = pod(ip_id, ttl);
    p.layers = vec![
        layer(0, outer),
        layer(0, udp),
        layer(0, LayerKind::Vxlan { flags: 8, vni: 1 }),
        layer(1, ipv4([10, 0, 1, 2], [10, 0, 2, 3], ttl, ip_id, IpNumber::TCP)),
        layer(1, tcp(7)),
    ];
    p
}

fn frame(number: u64, point: u32, ts_ns: i64) -> Frame<'static> {
    Frame { number, point: PointId(point), link_type: LinkType(1), ts_ns, has_timestamp: true, caplen: 0, len: 0, offset: 0, data: &[] }
}

fn data_packet(ip_id: Option<u16>, tsval: Option<u32>) -> PacketState {
    let ep = |port| Endpoint { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port };
    let id = Identity { src: ep(1), dst: ep(2), proto: 6, tcp_flags: None, tcp_data: Some((0, 0)), ip_id, tsval, ip_len: 0 };
    PacketState { fp: 0, nat_fp: 0, id, first_ts: 0, sightings: Vec::new(), seen_at: Vec::new(), duplicates: 0 }
}

fn seg(start: u64, end: u64, ip_id: Option<u16>, tsval: Option<u32>) -> Seg {
    Seg { start, end, ts: 0, frame: 1, ip_id, tsval }
}

#[test]
fn re_segmented_bytes_match_and_retransmitted_bytes_do_not() {
    // A 4344-byte TSO super-frame (IP ID 100) and its three 1448-byte segments
    // (IDs 100, 101, 102) at another point.
    let sup = data_packet(Some(100), None);
    assert!(same_transmission(&sup, 0, 4344, &seg(0, 1448, Some(100), None)));
    assert!(same_transmission(&sup, 0, 4344, &seg(1448, 2896, Some(101), None)));
    assert!(same_transmission(&sup, 0, 4344, &seg(2896, 4344, Some(102), None)));
    // The second segment seen against the super-frame.
    let second = data_packet(Some(101), None);
    assert!(same_transmission(&second, 1448, 2896, &seg(0, 4344, Some(100), None)));
    // A retransmission of a segment's bytes carries a new identification.
    let lost = data_packet(Some(500), None);
    assert!(!same_transmission(&lost, 1448, 2896, &seg(1448, 2896, Some(507), None)));
    assert!(!same_transmission(&lost, 1448, 2896, &seg(0, 4344, Some(480), None)));
    // IPv6: equal TSvals or nothing.
    let v6 = data_packet(None, Some(9));
    assert!(same_transmission(&v6, 0, 100, &seg(0, 50, None, Some(9))));
    assert!(!same_transmission(&v6, 0, 100, &seg(0, 50, None, Some(10))));
    assert!(!same_transmission(&data_packet(None, None), 0, 100, &seg(0, 50, None, None)));
}

/// The same packet with another innermost IPv4 total length.
fn sized(mut p: Packet, len: u16) -> Packet {
    if let Some(l) = p.layers.iter_mut().rev().find(|l| matches!(l.kind, LayerKind::Ipv4 { .. })) {
        if let LayerKind::Ipv4 { total_len, .. } = &mut l.kind {
            *total_len = len;
        }
    }
    p
}

#[test]
fn packets_larger_than_anything_downstream_saw_are_an_mtu_drop() {
    let names: Vec<String> = ["pod", "underlay", "peer"].iter().map(|s| s.to_string()).collect();
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    // Small packets cross all three points; two 1500-byte packets stop at "underlay".
    for (k, len) in [(1u16, 60u16), (2, 1500), (3, 1500), (4, 1400)] {
        let t = i64::from(k) * 10_000;
        c.add(0, &frame(u64::from(k), 0, t), &sized(pod(k, 64), len));
        c.add(1, &frame(u64::from(k), 1, t + 1_000), &sized(underlay(k, 63, 100 + k), len));
        if len < 1500 {
            c.add(2, &frame(u64::from(k), 2, t + 2_000), &sized(pod(k, 62), len));
        }
    }
    let r = c.finish(&names, &[]);
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!((f.kind, f.points.clone()), ("mtu_drop", vec!["underlay".to_string(), "peer".to_string()]));
    assert_eq!(f.evidence["largest_seen_downstream"], 1400);
    assert_eq!(f.evidence["ip_lengths"], serde_json::json!([1500, 1500]));
}

/// The pod's SYN after SNAT to 192.168.0.1:61000.
fn snat(ip_id: u16) -> Packet {
    let mut p = pod(ip_id, 63);
    p.layers[0] = layer(0, ipv4([192, 168, 0, 1], [10, 0, 2, 3], 63, ip_id, IpNumber::TCP));
    if let LayerKind::Tcp { src_port, .. } = &mut p.layers[1].kind {
        *src_port = 61000;
    }
    p
}

#[test]
fn tcp_packets_match_across_a_nat_and_the_report_says_so() {
    let names: Vec<String> = ["inside", "outside"].iter().map(|s| s.to_string()).collect();
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    c.add(0, &frame(1, 0, 1_000), &pod(7, 64));
    c.add(1, &frame(1, 1, 2_000), &snat(7));
    c.add(0, &frame(2, 0, 3_000), &pod(8, 64));
    let r = c.finish(&names, &[]);
    assert_eq!(r.packet_count, 2);
    let hop = r.pairs.iter().find(|p| p.from == "inside" && p.to == "outside").unwrap();
    assert_eq!((hop.matched, hop.lost), (1, 1));
    assert!(r.notes.iter().any(|n| n.starts_with("NAT between inside and outside: 1 packet seen")), "{:?}", r.notes);
    // Another IP ID is another packet, NAT or not.
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    c.add(0, &frame(1, 0, 1_000), &pod(7, 64));
    c.add(1, &frame(1, 1, 2_000), &snat(9));
    assert_eq!(c.finish(&names, &[]).packet_count, 2);
}

#[test]
fn a_packet_that_overtakes_another_is_counted_as_reordered() {
    let names: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    c.add(0, &frame(1, 0, 1_000), &pod(1, 64));
    c.add(0, &frame(2, 0, 2_000), &pod(2, 64));
    c.add(1, &frame(1, 1, 3_000), &pod(2, 63));
    c.add(1, &frame(2, 1, 4_000), &pod(1, 63));
    let r = c.finish(&names, &[]);
    let hop = r.pairs.iter().find(|p| p.from == "a" && p.to == "b").unwrap();
    assert_eq!((hop.matched, hop.reordered, hop.lost), (2, 1, 0));
}

#[test]
fn ttl_and_outer_headers_do_not_change_the_fingerprint() {
    let a = fingerprints(&pod(100, 64), &[]).unwrap().0;
    let b = fingerprints(&underlay(100, 63, 999), &[]).unwrap().0;
    let c = fingerprints(&underlay(100, 63, 1000), &[]).unwrap().0;
    assert_eq!((a, a), (b, c));
    assert_ne!(a, fingerprints(&pod(101, 64), &[]).unwrap().0, "another IP ID is another packet");
}

#[test]
fn a_packet_missing_downstream_is_lost_between_its_last_point_and_the_next() {
    let names: Vec<String> = ["pod", "underlay", "peer"].iter().map(|s| s.to_string()).collect();
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    // Packet 1 (IP ID 1) reaches all three points; packet 2 stops after "underlay";
    // packet 3 is seen twice at "pod".
    c.add(0, &frame(1, 0, 1_000), &pod(1, 64));
    c.add(1, &frame(1, 1, 2_000), &underlay(1, 63, 50));
    c.add(2, &frame(1, 2, 3_000), &pod(1, 62));
    c.add(0, &frame(2, 0, 10_000), &pod(2, 64));
    c.add(1, &frame(2, 1, 11_000), &underlay(2, 63, 51));
    c.add(0, &frame(3, 0, 20_000), &pod(3, 64));
    c.add(0, &frame(4, 0, 20_500), &pod(3, 64));
    c.add(1, &frame(3, 1, 21_000), &underlay(3, 63, 52));
    c.add(2, &frame(2, 2, 22_000), &pod(3, 62));
    let r = c.finish(&names, &[]);
    assert_eq!(r.packet_count, 3);
    let pair = |a: &str, b: &str| r.pairs.iter().find(|p| p.from == a && p.to == b).cloned().unwrap();
    let first = pair("pod", "underlay");
    assert_eq!((first.matched, first.lost, first.duplicated), (3, 0, 1));
    assert_eq!((first.delay_ns.min, first.delay_ns.max), (Some(1_000), Some(1_000)));
    let second = pair("underlay", "peer");
    assert_eq!((second.matched, second.lost), (2, 1));
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!((f.kind, f.points.clone()), ("lost_between", vec!["underlay".to_string(), "peer".to_string()]));
    assert_eq!(f.flow, "10.0.1.2:40000 > 10.0.2.3:80");
    let seen: Vec<(String, u64)> = f.frames[0].iter().map(|x| (x.point.clone(), x.frame)).collect();
    assert_eq!(seen, [("pod".to_string(), 2), ("underlay".to_string(), 2)]);
}

/// A packet seen at more points than are searched one by one: a point seen again is a
/// duplicate and a new point a sighting, whatever order the points came in.
#[test]
fn a_packet_seen_at_many_points_tells_a_point_seen_again_from_a_new_one() {
    let points = 41u32;
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    let p = pod(1, 64);
    // Every point once, in a scrambled order (7 is prime to 41), then points 3 and 40
    // again.
    let order: Vec<u32> = (0..points).map(|k| k * 7 % points).chain([3, 40]).collect();
    for (n, &k) in order.iter().enumerate() {
        c.add(k, &frame(n as u64 + 1, k, 1_000 + n as i64 * 1_000), &p);
    }
    let names: Vec<String> = (0..points).map(|k| format!("p{k}")).collect();
    let r = c.finish(&names, &[]);
    assert_eq!((r.packet_count, r.sightings_dropped), (1, 0));
    assert_eq!(r.paths.len(), 1);
    assert_eq!(r.paths[0].points.len(), points as usize);
    assert_eq!(r.pairs.iter().map(|p| p.duplicated).sum::<u64>(), 2);
    assert_eq!(r.pairs.iter().map(|p| p.matched).sum::<u64>(), u64::from(points) - 1);
}

/// One packet seen at 4,096 points: the first MAX_SIGHTINGS sightings are kept, the
/// others counted; its direction's path keeps max_path_points of them, and the notes
/// say both.
#[test]
fn a_packet_seen_at_thousands_of_points_is_one_packet_within_the_limits() {
    let points = 4096u32;
    let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
    let p = pod(1, 64);
    for k in 0..points {
        c.add(k, &frame(u64::from(k) + 1, k, 1_000 + i64::from(k) * 1_000), &p);
    }
    let names: Vec<String> = (0..points).map(|k| format!("p{k}")).collect();
    let r = c.finish(&names, &[]);
    assert_eq!(r.packet_count, 1);
    assert_eq!(r.sightings_dropped, u64::from(points) - MAX_SIGHTINGS as u64);
    assert_eq!(r.paths.len(), 1);
    assert_eq!(r.paths[0].points.len(), MAX_PATH_POINTS);
    // The points that saw the packet first are kept (ties: the lower number).
    assert_eq!(r.paths[0].points[0], "p0");
    assert!(r.notes.iter().any(|n| n.starts_with("1 direction seen at more than 64 capture points") && n.contains("was seen at 256")), "{:?}", r.notes);
    assert!(r.notes.iter().any(|n| n.starts_with("3840 sightings of packets seen at more than 256 capture points")), "{:?}", r.notes);
    assert_eq!(r.pairs.iter().map(|p| p.matched).sum::<u64>(), MAX_PATH_POINTS as u64 - 1);
}
