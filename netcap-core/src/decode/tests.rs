//! Decoder unit tests on hand-built frames. The end-to-end expectations for every
//! checksum verdict live in `fixtures/constructed/expected.json` and
//! `tests/constructed.rs`; these cover the walk itself: truncation at every length,
//! caps, and the header fields.

use super::*;
use crate::checksum::sum16;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![0x45, 0, (total >> 8) as u8, total as u8, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = !sum16(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// A UDP datagram with a correct checksum over IPv4 `src` → `dst`.
fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let s = checksum::pseudo_v4(src, dst, 17, len as u32).add_bytes(&u).fold();
    let c = match !s {
        0 => 0xffff,
        c => c,
    };
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// A TCP SYN with MSS, SACK-permitted, timestamps and window scale options.
fn tcp_syn(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut t = vec![0x87, 0x07, 0x00, 0x50, 0, 0, 0x10, 0, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0];
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(&[2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
    let s = checksum::pseudo_v4(src, dst, 6, t.len() as u32).add_bytes(&t).fold();
    t[16..18].copy_from_slice(&(!s).to_be_bytes());
    t
}

const POD_A: [u8; 4] = [10, 244, 1, 2];
const POD_B: [u8; 4] = [10, 244, 2, 3];
const NODE_A: [u8; 4] = [192, 168, 50, 1];
const NODE_B: [u8; 4] = [192, 168, 50, 2];

/// Ethernet / IPv4 / UDP 8472 / VXLAN 1 / Ethernet / IPv4 / TCP SYN.
fn flannel_syn() -> Vec<u8> {
    let inner = eth(0x0800, &ipv4(6, POD_A, POD_B, &tcp_syn(POD_A, POD_B)));
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vx.extend_from_slice(&inner);
    eth(0x0800, &ipv4(17, NODE_A, NODE_B, &udp(NODE_A, NODE_B, 45678, 8472, &vx)))
}

fn protos(p: &Packet) -> Vec<&'static str> {
    p.layers.iter().map(Layer::proto).collect()
}

fn statuses(p: &Packet) -> Vec<(&'static str, u8, Status)> {
    p.layers
        .iter()
        .filter_map(|l| l.checksum.map(|c| (l.proto(), l.depth, c.status)))
        .collect()
}

fn decode(link: LinkType, data: &[u8]) -> Packet {
    Decoder::default().decode(link, data)
}

#[test]
fn vxlan_8472_decodes_every_layer_with_depths() {
    let f = flannel_syn();
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(p.stop, None);
    assert_eq!(protos(&p), ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"]);
    let depths: Vec<u8> = p.layers.iter().map(|l| l.depth).collect();
    assert_eq!(depths, [0, 0, 0, 0, 1, 1, 1]);
    assert!(statuses(&p).iter().all(|s| s.2 == Status::Good), "{:?}", statuses(&p));
    assert!(p.receiver_accepts());
    let LayerKind::Vxlan { vni, flags } = p.layers[3].kind else { panic!() };
    assert_eq!((vni, flags), (1, 0x08));
    let LayerKind::Tcp { src_port, dst_port, flags, options, payload_len, .. } = p.layers[6].kind
    else {
        panic!()
    };
    assert_eq!((src_port, dst_port, flags, payload_len), (34567, 80, tcp_flags::SYN, 0));
    assert_eq!(options.mss, Some(1460));
    assert_eq!(options.window_scale, Some(7));
    assert!(options.sack_permitted);
    assert_eq!(options.timestamps, Some((1, 0)));
}

#[test]
fn flannel_outer_ffff_is_bad_and_dropped_by_the_receiver() {
    let mut f = flannel_syn();
    let udp_csum = 14 + 20 + 6;
    let good = u16::from_be_bytes([f[udp_csum], f[udp_csum + 1]]);
    f[udp_csum..udp_csum + 2].copy_from_slice(&[0xff, 0xff]);
    let p = decode(LinkType::ETHERNET, &f);
    let v = p.layers[2].checksum.unwrap();
    assert_eq!(v, Verdict { status: Status::Bad, stored: 0xffff, expected: Some(good) });
    assert!(!p.receiver_accepts());
    let d = p.drop.unwrap();
    assert_eq!((d.layer, d.depth, d.counter, d.layer_index), ("udp", 0, "UdpInCsumErrors", 2));
    // The inner layers are still decoded and judged: the wire view.
    assert_eq!(p.layers[6].checksum.unwrap().status, Status::Good);
}

#[test]
fn a_drop_displays_as_netcap_packets_prints_it() {
    let mut f = flannel_syn();
    f[40..42].copy_from_slice(&[0xff, 0xff]);
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(p.drop.unwrap().to_string(), "receiver DROPS (udp depth 0: UdpInCsumErrors)");
    // No outer UDP checksum, a wrong inner TCP one: the drop is one tunnel deeper.
    f[40..42].copy_from_slice(&[0, 0]);
    let tcp_csum = p.layers[6].offset as usize + 16;
    f[tcp_csum] ^= 0x5a;
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(p.drop.unwrap().to_string(), "receiver DROPS (tcp depth 1: TcpInCsumErrors)");
}

/// Through the VXLAN tunnel to the pods' TCP: the inner addresses and ports, not the
/// nodes' UDP, and the header's fields as its layer holds them.
#[test]
fn the_innermost_tcp_and_the_five_tuple_are_the_pods_not_the_nodes() {
    let p = decode(LinkType::ETHERNET, &flannel_syn());
    let tcp = p.innermost_tcp().unwrap();
    assert_eq!((tcp.index, tcp.layer.depth, tcp.fragmented), (6, 1, false));
    assert_eq!(format!("{} > {}", tcp.src, tcp.dst), "10.244.1.2:34567 > 10.244.2.3:80");
    assert_eq!((tcp.seq, tcp.ack, tcp.flags, tcp.window, tcp.payload_len), (4096, 0, tcp_flags::SYN, 0xfaf0, 0));
    assert_eq!((tcp.options.mss, tcp.options.window_scale), (Some(1460), Some(7)));
    let pod = |ip: [u8; 4], port| Endpoint { ip: ip.into(), port };
    let t = FiveTuple { proto: 6, src: pod(POD_A, 34567), dst: pod(POD_B, 80) };
    assert_eq!((p.five_tuple(), tcp.five_tuple()), (Some(t), t));
    assert_eq!(crate::flow::FlowView::of(&p).map(|v| v.five_tuple()), Some(t));
}

/// A UDP datagram has a 5-tuple and no TCP segment; so has a VXLAN frame cut before
/// the inner TCP header, whose innermost transport is the nodes' UDP.
#[test]
fn without_a_tcp_header_the_five_tuple_is_the_innermost_udp() {
    let p = decode(LinkType::ETHERNET, &eth(0x0800, &ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 5353, 53, b"q"))));
    let t = p.five_tuple().unwrap();
    assert_eq!((t.proto, t.src.to_string(), t.dst.to_string()), (17, "10.244.1.2:5353".into(), "10.244.2.3:53".into()));
    assert_eq!(p.innermost_tcp(), None);
    let f = flannel_syn();
    let p = decode(LinkType::ETHERNET, &f[..14 + 20 + 8 + 8 + 14 + 20 + 10]);
    assert_eq!(p.stop.map(|s| (s.layer, s.reason)), Some(("tcp", StopReason::Truncated)));
    let t = p.five_tuple().unwrap();
    assert_eq!(format!("{} {} > {}", t.proto, t.src, t.dst), "17 192.168.50.1:45678 > 192.168.50.2:8472");
    assert_eq!(p.innermost_tcp(), None);
}

/// The first fragment of a TCP segment has its header: the segment, marked fragmented.
#[test]
fn the_innermost_tcp_of_a_first_fragment_is_fragmented() {
    let mut ip = ipv4(6, POD_A, POD_B, &tcp_syn(POD_A, POD_B));
    ip[6] = 0x20; // more fragments
    ip[10..12].copy_from_slice(&[0, 0]);
    let c = !sum16(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let p = decode(LinkType::IPV4, &ip);
    let tcp = p.innermost_tcp().unwrap();
    assert_eq!((tcp.index, tcp.fragmented, tcp.five_tuple().proto), (1, true, 6));
}

#[test]
fn outer_udp_zero_is_absent_and_accepted() {
    let mut f = flannel_syn();
    f[40..42].copy_from_slice(&[0, 0]);
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(p.layers[2].checksum.unwrap().status, Status::Absent);
    assert!(p.receiver_accepts());
}

#[test]
fn every_truncation_length_decodes_a_prefix_without_panicking() {
    let f = flannel_syn();
    let full = decode(LinkType::ETHERNET, &f);
    for cut in 0..f.len() {
        let p = decode(LinkType::ETHERNET, &f[..cut]);
        // The layers are a prefix of the full decode's.
        assert!(p.layers.len() <= full.layers.len(), "cut {cut}");
        for (a, b) in p.layers.iter().zip(&full.layers) {
            assert_eq!(a.proto(), b.proto(), "cut {cut}");
        }
        if p.layers.len() < full.layers.len() {
            let s = p.stop.unwrap_or_else(|| panic!("cut {cut}: no stop"));
            assert_eq!(s.reason, StopReason::Truncated, "cut {cut}");
            assert_eq!(s.layer, full.layers[p.layers.len()].proto(), "cut {cut}");
        }
        // Nothing cut can be judged good or bad beyond the IPv4 headers.
        for l in &p.layers {
            if let Some(c) = l.checksum {
                if l.proto() != "ipv4" {
                    assert_eq!(c.status, Status::Unverifiable, "cut {cut} {}", l.proto());
                }
            }
        }
        // And for every other link type the walk never panics either.
        for lt in [0u16, 101, 108, 113, 228, 229, 276] {
            let _ = decode(LinkType(lt), &f[..cut]);
        }
    }
}

#[test]
fn vlan_stack_beyond_the_layer_cap_stops_with_depth_limit() {
    let mut payload = Vec::new();
    for _ in 0..100 {
        payload.extend_from_slice(&[0x00, 0x05, 0x81, 0x00]);
    }
    let f = eth(0x8100, &payload);
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(p.layers.len(), DecodeOptions::default().max_layers);
    assert_eq!(p.stop.unwrap().reason, StopReason::DepthLimit);
}

#[test]
fn nested_ipip_beyond_the_tunnel_cap_stops_with_depth_limit() {
    let mut pkt = ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 1, 2, b"x"));
    for _ in 0..12 {
        pkt = ipv4(4, NODE_A, NODE_B, &pkt);
    }
    let p = decode(LinkType::RAW, &pkt);
    assert_eq!(p.depth(), 8);
    assert_eq!(p.stop.unwrap().reason, StopReason::DepthLimit);
    assert!(p.layers.iter().all(|l| l.proto() == "ipv4"));
}

#[test]
fn ethernet_padding_is_not_part_of_the_udp_datagram() {
    let mut f = eth(0x0800, &ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 53, 53, b"ab")));
    f.resize(60, 0xee);
    let p = decode(LinkType::ETHERNET, &f);
    assert_eq!(statuses(&p), [("ipv4", 0, Status::Good), ("udp", 0, Status::Good)]);
}

#[test]
fn tso_super_frame_with_ip_length_zero_is_unverifiable() {
    let mut ip = ipv4(6, POD_A, POD_B, &tcp_syn(POD_A, POD_B));
    ip[2..4].copy_from_slice(&[0, 0]);
    ip[10..12].copy_from_slice(&[0, 0]);
    let c = !sum16(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let p = decode(LinkType::RAW, &ip);
    assert_eq!(statuses(&p), [("ipv4", 0, Status::Good), ("tcp", 0, Status::Unverifiable)]);
    assert!(p.receiver_accepts());
}

#[test]
fn non_first_fragment_stops_with_fragment() {
    let mut ip = ipv4(17, POD_A, POD_B, b"0123456789abcdef");
    ip[6..8].copy_from_slice(&[0x00, 0x02]); // offset 16 bytes
    ip[10..12].copy_from_slice(&[0, 0]);
    let c = !sum16(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let p = decode(LinkType::IPV4, &ip);
    assert_eq!(protos(&p), ["ipv4"]);
    let s = p.stop.unwrap();
    assert_eq!((s.layer, s.reason, s.value, s.offset), ("ipv4", StopReason::Fragment, Some(17), 20));
}

#[test]
fn unsupported_values_name_the_layer_that_carried_them() {
    let p = decode(LinkType::ETHERNET, &eth(0x88b5, b"hello"));
    let s = p.stop.unwrap();
    assert_eq!((s.layer, s.reason, s.value), ("eth", StopReason::Unsupported, Some(0x88b5)));
    let p = decode(LinkType(147), b"\x80\x00");
    let s = p.stop.unwrap();
    assert_eq!((s.layer, s.reason, s.value), ("link", StopReason::Unsupported, Some(147)));
    let p = decode(LinkType::ETHERNET, &eth(0x0800, &ipv4(132, POD_A, POD_B, b"sctp")));
    let s = p.stop.unwrap();
    assert_eq!((s.layer, s.reason, s.value), ("ipv4", StopReason::Unsupported, Some(132)));
}

#[test]
fn null_link_family_in_either_byte_order() {
    let ip = ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 1, 2, b""));
    for hdr in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
        let mut f = hdr.to_vec();
        f.extend_from_slice(&ip);
        let p = decode(LinkType::NULL, &f);
        assert_eq!(protos(&p), ["null", "ipv4", "udp"]);
    }
    let mut f = vec![0, 0, 0, 2];
    f.extend_from_slice(&ip);
    assert_eq!(protos(&decode(LinkType::LOOP, &f)), ["null", "ipv4", "udp"]);
}

#[test]
fn sll2_carries_the_ifindex() {
    let mut f = vec![0x08, 0x00, 0, 0, 0, 0, 0, 5, 0, 1, 4, 6];
    f.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a, 0, 0]);
    f.extend_from_slice(&ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 1, 2, b"x")));
    let p = decode(LinkType::LINUX_SLL2, &f);
    assert_eq!(protos(&p), ["sll2", "ipv4", "udp"]);
    let LayerKind::Sll2 { ifindex, packet_type, protocol, .. } = p.layers[0].kind else { panic!() };
    assert_eq!((ifindex, packet_type, protocol), (5, 4, 0x0800));
}

#[test]
fn gre_with_key_and_sequence_carries_ethernet() {
    let inner = eth(0x0800, &ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 1, 2, b"x")));
    let mut gre = vec![0x30, 0x00, 0x65, 0x58, 0, 0, 0, 42, 0, 0, 0, 7];
    gre.extend_from_slice(&inner);
    let p = decode(LinkType::RAW, &ipv4(47, NODE_A, NODE_B, &gre));
    assert_eq!(protos(&p), ["ipv4", "gre", "eth", "ipv4", "udp"]);
    let LayerKind::Gre { key, sequence, protocol, .. } = p.layers[1].kind else { panic!() };
    assert_eq!((key, sequence, protocol), (Some(42), Some(7), 0x6558));
    assert_eq!(p.layers[2].depth, 1);
}

#[test]
fn decode_into_reuses_the_packet() {
    let d = Decoder::default();
    let mut p = Packet::default();
    d.decode_into(LinkType::ETHERNET, &flannel_syn(), &mut p);
    assert_eq!(p.layers.len(), 7);
    d.decode_into(LinkType::ETHERNET, &eth(0x88b5, b""), &mut p);
    assert_eq!(protos(&p), ["eth"]);
    assert!(p.drop.is_none());
}

/// suricata-verify `detect-ipopts/input.pcap` frame 2: a loose source route through
/// 1.2.3.4 to 5.6.7.8, in progress; the TCP checksum is computed with the final
/// destination 5.6.7.8 (tshark: Good), not the header's 13.14.15.16.
#[test]
fn ipv4_source_route_pseudo_header_uses_the_final_destination() {
    let frame: [u8; 52] = [
        0x48, 0x00, 0x00, 0x34, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0xac, 0x74, 0x09, 0x0a, 0x0b,
        0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x83, 0x0b, 0x04, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
        0x08, 0x00, 0x00, 0x14, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50,
        0x02, 0x20, 0x00, 0x6f, 0x5b, 0x00, 0x00,
    ];
    let p = decode(LinkType::IPV4, &frame);
    assert_eq!(statuses(&p), [("ipv4", 0, Status::Good), ("tcp", 0, Status::Good)]);
    // Strict source route (0x89), same layout: same result.
    let mut strict = frame;
    strict[20] = 0x89;
    strict[10..12].copy_from_slice(&[0, 0]);
    let c = !sum16(&strict[..24]);
    strict[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(statuses(&decode(LinkType::IPV4, &strict))[1], ("tcp", 0, Status::Good));
    // A completed route (pointer past the data): the header's destination is final.
    let mut done = frame;
    done[22] = 12;
    done[10..12].copy_from_slice(&[0, 0]);
    let c = !sum16(&done[..24]);
    done[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(statuses(&decode(LinkType::IPV4, &done))[1], ("tcp", 0, Status::Bad));
}

/// A bare IPv6 header (hop limit 64) carrying `payload` as protocol `next`.
fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb9].repeat(4));
    h.extend_from_slice(payload);
    h
}

/// An ICMPv6 redirect (RFC 4861 §4.5) carries the packet that caused it in a
/// Redirected Header option after its target and destination addresses and a
/// target link-layer address option: decoded one level deeper, as a quote.
#[test]
fn icmpv6_redirect_quotes_the_packet_in_its_redirected_header_option() {
    let quoted = ipv6(17, &[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    let mut msg = vec![137, 0, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(&[0xfe; 32]); // target and destination addresses
    msg.extend_from_slice(&[2, 1, 2, 0, 0, 0, 0, 9]); // target link-layer address
    msg.extend_from_slice(&[4, 7, 0, 0, 0, 0, 0, 0]); // redirected header, 7 × 8 bytes
    msg.extend_from_slice(&quoted);
    let p = decode(LinkType::ETHERNET, &eth(0x86dd, &ipv6(58, &msg)));
    assert_eq!(protos(&p), ["eth", "ipv6", "icmpv6", "ipv6", "udp"]);
    assert_eq!(p.quote_start(), Some(3));
    assert_eq!(p.own_layers().len(), 3);
    assert_eq!((p.layers[3].depth, p.layers[3].offset), (1, 14 + 40 + 56));
    assert_eq!(p.stop, None);
    // The quoted UDP is not the frame's flow.
    assert!(crate::flow::FlowView::of(&p).is_none());
    assert_eq!((p.five_tuple(), p.innermost_tcp()), (None, None));
    // A redirect without the option quotes nothing.
    let bare = decode(LinkType::ETHERNET, &eth(0x86dd, &ipv6(58, &msg[..48])));
    assert_eq!((protos(&bare), bare.quote_start()), (vec!["eth", "ipv6", "icmpv6"], None));
}

/// Every prefix of every kind of frame decodes without a panic, and a cut inside the
/// packet an ICMP error quotes is no stop of the frame.
#[test]
fn a_quote_cut_anywhere_is_no_stop() {
    let quote = ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 40000, 53, b"query"));
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quote);
    let frame = eth(0x0800, &ipv4(1, POD_B, POD_A, &icmp));
    let full = decode(LinkType::ETHERNET, &frame);
    assert_eq!(protos(&full), ["eth", "ipv4", "icmp", "ipv4", "udp"]);
    // Cut inside the quote: the IPv4 total length of the outer header still claims the
    // whole message, so nothing is verifiable, and nothing is a stop either.
    for cut in 14 + 20 + 8..frame.len() {
        let p = decode(LinkType::ETHERNET, &frame[..cut]);
        assert_eq!(p.stop, None, "cut at {cut}");
        assert!(p.layers.len() >= 3 && p.layers.len() <= 5, "cut at {cut}");
    }
}

/// A mobility header (RFC 6275, next header 135) walks like the other extension headers:
/// its Payload Proto field names what follows (here UDP, as in the held-out captures of
/// issue 11), and the UDP is decoded.
#[test]
fn ipv6_mobility_header_carrying_udp_is_walked() {
    // MH: payload proto 17, length 0 (8 bytes), type 0 (binding refresh request), ...
    let mut mh = vec![17, 0, 0, 0, 0, 0, 0, 0];
    mh.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 12, 0, 0, b'd', b'n', b's', b'!']);
    let p = decode(LinkType::IPV6, &ipv6(135, &mh));
    assert_eq!(protos(&p), ["ipv6", "udp"]);
    let LayerKind::Ipv6 { ext, proto, .. } = &p.layers[0].kind else { panic!() };
    assert_eq!((&ext[..], proto.0), (&[135u8][..], 17));
    assert_eq!(p.layers[1].offset, 48);
}

/// An 802.11 data frame whose frame control bytes are swapped, as Cisco's CAPWAP access
/// points send them (Wireshark's `capwap.swap_fc`, on by default), decodes as the same
/// frame in standard order; a frame valid in standard order is never read swapped.
#[test]
fn wlan_frame_control_swapped_as_cisco_sends_it() {
    let mut llc_ip = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    llc_ip.extend_from_slice(&ipv4(17, POD_A, POD_B, &udp(POD_A, POD_B, 40000, 53, b"q")));
    let frame = |fc: [u8; 2]| {
        let mut f = fc.to_vec();
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&[2; 18]);
        f.extend_from_slice(&[0x10, 0]);
        f.extend_from_slice(&llc_ip);
        f
    };
    // Data frame, to DS (flags 0x01): standard [0x08, 0x01], swapped [0x01, 0x08].
    let standard = decode(LinkType(105), &frame([0x08, 0x01]));
    let swapped = decode(LinkType(105), &frame([0x01, 0x08]));
    assert_eq!(protos(&standard), ["wlan", "llc", "ipv4", "udp"]);
    assert_eq!(protos(&swapped), protos(&standard));
    assert_eq!(swapped.layers[0].kind, standard.layers[0].kind);
    // A valid standard frame control whose second byte also looks like one (flags 0x08,
    // "more data") is read in standard order.
    let plain = decode(LinkType(105), &frame([0x08, 0x08]));
    let LayerKind::Wlan { frame_type, flags, .. } = plain.layers[0].kind else { panic!() };
    assert_eq!((frame_type, flags), (2, 0x08));
}
