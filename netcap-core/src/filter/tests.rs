//! The filter module on hand-built frames: libpcap's verdicts (wire length included),
//! the LINKTYPE → DLT mapping, error positions, the innermost packet, time bounds.
//! Tests that need libpcap skip with a line on stderr where it is missing, unless
//! `NETCAP_REQUIRE_LIBPCAP=1` (set by `.ci/run`).

use super::*;
use crate::decode::Decoder;

/// Whether libpcap is loadable; says so on stderr when it is not.
fn have_libpcap(test: &str) -> bool {
    match libpcap_version() {
        Ok(_) => true,
        Err(e) if std::env::var_os("NETCAP_REQUIRE_LIBPCAP").is_some_and(|v| v == "1") => {
            panic!("{test}: NETCAP_REQUIRE_LIBPCAP=1 but {e}")
        }
        Err(e) => {
            eprintln!("skipping {test}: {e}");
            false
        }
    }
}

/// IPv4 10.0.0.1 → 10.0.0.2, protocol `proto`, with `payload`.
fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend_from_slice(payload);
    p
}

/// A TCP header 40000 → `dport`, SYN.
fn tcp(dport: u16) -> Vec<u8> {
    let mut t = vec![0x9c, 0x40];
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// UDP 50000 → `dport` carrying `payload` (checksum 0).
fn udp(dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0xc3, 0x50];
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

#[test]
fn libpcap_decides_on_ethernet_frames() {
    if !have_libpcap("libpcap_decides_on_ethernet_frames") {
        return;
    }
    let frame = eth(0x0800, &ipv4(6, &tcp(80)));
    let wire = frame.len() as u32;
    let m = |expr: &str| Filter::new(expr).unwrap().matches(LinkType::ETHERNET, &frame, wire);
    assert!(m("tcp port 80"));
    assert!(m("host 10.0.0.2 and tcp dst port 80"));
    assert!(m("tcp[tcpflags] & tcp-syn != 0"));
    assert!(m("ether src 02:00:00:00:00:0a"));
    assert!(!m("udp"));
    assert!(!m("tcp port 443"));
    assert!(!m("vlan"));
    assert!(m(""), "an empty expression keeps every frame, as in tcpdump");
}

#[test]
fn the_wire_length_is_libpcaps_len() {
    if !have_libpcap("the_wire_length_is_libpcaps_len") {
        return;
    }
    // 54 bytes captured of a 1514-byte frame: `greater` reads the wire length.
    let frame = eth(0x0800, &ipv4(6, &tcp(80)));
    let f = Filter::new("greater 1000").unwrap();
    assert!(f.matches(LinkType::ETHERNET, &frame, 1514));
    assert!(!f.matches(LinkType::ETHERNET, &frame, frame.len() as u32));
    // A load past the captured bytes rejects, as in libpcap.
    assert!(!Filter::new("ether[100] = 0").unwrap().matches(LinkType::ETHERNET, &frame, 1514));
}

#[test]
fn linktype_raw_is_dlt_raw() {
    if !have_libpcap("linktype_raw_is_dlt_raw") {
        return;
    }
    let packet = ipv4(6, &tcp(80));
    let f = Filter::new("ip host 10.0.0.1 and tcp port 80").unwrap();
    assert!(f.matches(LinkType(101), &packet, packet.len() as u32));
    // The same bytes as Ethernet do not parse as that packet.
    assert!(!f.matches(LinkType::ETHERNET, &packet, packet.len() as u32));
}

#[test]
fn an_expression_that_does_not_apply_to_a_link_type_keeps_nothing_of_it() {
    if !have_libpcap("an_expression_that_does_not_apply_to_a_link_type_keeps_nothing_of_it") {
        return;
    }
    let f = Filter::new("ether host 02:00:00:00:00:0a").unwrap();
    let packet = ipv4(6, &tcp(80));
    let err = f.compiled(LinkType(101), false).unwrap_err();
    assert!(err.contains("not supported") || err.contains("not implemented") || err.contains("ether"), "{err}");
    assert!(!f.matches(LinkType(101), &packet, packet.len() as u32));
}

#[test]
fn bad_expressions_say_libpcaps_message_and_where() {
    if !have_libpcap("bad_expressions_say_libpcaps_message_and_where") {
        return;
    }
    let e = Filter::new("tcp porr 80").unwrap_err();
    assert_eq!(e.position, Some(4), "{e}");
    assert_eq!(e.caret().unwrap(), "tcp porr 80\n    ^");
    let e = Filter::new("vlan and port 99999").unwrap_err();
    assert_eq!(e.message, "illegal port number 99999 > 65535");
    assert_eq!(e.position, Some(14));
    let e = Filter::new("ether host zz:1").unwrap_err();
    assert_eq!(e.message, "unknown ether host 'zz'");
    assert_eq!(e.position, Some(11));
    let e = Filter::new("net 10.0.0.0/33").unwrap_err();
    assert_eq!(e.message, "mask length must be <= 32");
    assert_eq!(e.position, Some(4));
    // Every prefix can still be completed: the expression just ends too early.
    let e = Filter::new("host 10.0.0.1 and (tcp").unwrap_err();
    assert!(e.message.contains("syntax error"), "{}", e.message);
    assert_eq!(e.position, None);
    assert!(e.to_string().contains("syntax error"));
    assert!(!e.no_libpcap);
    // What libpcap's optimiser proves keeps nothing is refused, as tcpdump refuses it.
    let e = Filter::new("tcp and udp").unwrap_err();
    assert_eq!(e.message, "expression rejects all packets");
    assert_eq!(e.position, None);
}

#[test]
fn loopback_headers_are_read_as_libpcap_reads_a_file() {
    if !have_libpcap("loopback_headers_are_read_as_libpcap_reads_a_file") {
        return;
    }
    // LINKTYPE_NULL: a 4-byte address family in the writer's byte order. Reading a
    // file, libpcap accepts the AF_INET6 of every BSD (24, 28, 30), not only the
    // running system's, in the file's byte order.
    let mut v6 = vec![30, 0, 0, 0, 0x60, 0, 0, 0, 0, 0, 59, 64];
    v6.extend_from_slice(&[0; 32]);
    let f = Filter::new("ip6").unwrap();
    let le = f.compiled(LinkType::NULL, false).unwrap();
    assert!(le.matches(&v6, v6.len() as u32));
    v6[..4].copy_from_slice(&[0, 0, 0, 24]);
    assert!(!le.matches(&v6, v6.len() as u32));
    assert!(f.compiled(LinkType::NULL, true).unwrap().matches(&v6, v6.len() as u32));
}

#[test]
fn tokens_split_at_blanks_and_brackets() {
    assert_eq!(tokens("tcp[13] & 2 != 0"), [(0, 3), (3, 4), (4, 6), (6, 7), (8, 9), (10, 11), (12, 14), (15, 16)]);
    assert_eq!(tokens("  (host x)"), [(2, 3), (3, 7), (8, 9), (9, 10)]);
    assert!(tokens("").is_empty());
}

#[test]
fn the_innermost_packet_of_a_vxlan_frame_is_its_ethernet_payload() {
    // Underlay Ethernet/IPv4/UDP 8472/VXLAN, then the pod's Ethernet/IPv4/TCP 8080.
    let inner = eth(0x0800, &ipv4(6, &tcp(8080)));
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vxlan.extend_from_slice(&inner);
    let frame = eth(0x0800, &ipv4(17, &udp(8472, &vxlan)));
    let packet = Decoder::default().decode(LinkType::ETHERNET, &frame);
    assert_eq!(innermost(&packet), Some((LinkType::ETHERNET, 14 + 20 + 8 + 8)));
    // IP in IP: the inner IP header, as raw IP.
    let frame = eth(0x0800, &ipv4(4, &ipv4(6, &tcp(8080))));
    let packet = Decoder::default().decode(LinkType::ETHERNET, &frame);
    assert_eq!(innermost(&packet), Some((LinkType(101), 34)));
    // No tunnel: the frame itself.
    let frame = eth(0x0800, &ipv4(6, &tcp(8080)));
    let packet = Decoder::default().decode(LinkType::ETHERNET, &frame);
    assert_eq!(innermost(&packet), Some((LinkType::ETHERNET, 0)));
    // VLAN between Ethernet and IP: still the Ethernet header.
    let mut tagged = vec![0, 100, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4(6, &tcp(8080)));
    let frame = eth(0x8100, &tagged);
    let packet = Decoder::default().decode(LinkType::ETHERNET, &frame);
    assert_eq!(innermost(&packet), Some((LinkType::ETHERNET, 0)));
    // ARP: its Ethernet header.
    let frame = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 10, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    let packet = Decoder::default().decode(LinkType::ETHERNET, &frame);
    assert_eq!(innermost(&packet), Some((LinkType::ETHERNET, 0)));
    // Raw IP: the frame, as raw IP.
    let packet = Decoder::default().decode(LinkType(101), &ipv4(6, &tcp(8080)));
    assert_eq!(innermost(&packet), Some((LinkType(101), 0)));
    // Nothing decoded.
    assert_eq!(innermost(&Decoder::default().decode(LinkType(101), &[0xff])), None);
}

#[test]
fn time_bounds_parse_rfc3339_and_durations() {
    assert_eq!(TimeBound::parse("1970-01-01T00:00:00Z"), Ok(TimeBound::At(0)));
    assert_eq!(TimeBound::parse("2026-12-06T10:24:43Z"), Ok(TimeBound::At(1_796_552_683_000_000_000)));
    assert_eq!(TimeBound::parse("2026-12-06 10:24:43.5Z"), Ok(TimeBound::At(1_796_552_683_500_000_000)));
    assert_eq!(TimeBound::parse("2026-12-06T11:24:43.000000001+01:00"), Ok(TimeBound::At(1_796_552_683_000_000_001)));
    assert_eq!(TimeBound::parse("2026-12-06T05:24:43-05:00"), Ok(TimeBound::At(1_796_552_683_000_000_000)));
    assert_eq!(TimeBound::parse("2026-12-06"), Ok(TimeBound::At(1_796_515_200_000_000_000)));
    assert_eq!(TimeBound::parse("1969-12-31T23:59:59Z"), Ok(TimeBound::At(-1_000_000_000)));
    assert_eq!(TimeBound::parse("+90s"), Ok(TimeBound::AfterFirst(90_000_000_000)));
    assert_eq!(TimeBound::parse("1.5m"), Ok(TimeBound::AfterFirst(90_000_000_000)));
    assert_eq!(TimeBound::parse("250ms"), Ok(TimeBound::AfterFirst(250_000_000)));
    assert_eq!(TimeBound::parse("2h"), Ok(TimeBound::AfterFirst(7_200_000_000_000)));
    assert_eq!(TimeBound::parse("0"), Ok(TimeBound::AfterFirst(0)));
    for bad in ["-5s", "2026-13-01", "2026-12-06T10:24", "2026-12-06T10:24:43", "yesterday", "2026-12-06T10:24:43+0100", "1e400"] {
        assert!(TimeBound::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(TimeBound::AfterFirst(5).resolve(100), 105);
    assert_eq!(TimeBound::At(5).resolve(100), 5);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("+1.234567s"), Some(1_234_567_000));
    assert_eq!(parse_duration("-250ms"), Some(-250_000_000));
    assert_eq!(parse_duration("40us"), Some(40_000));
    assert_eq!(parse_duration("7ns"), Some(7));
    assert_eq!(parse_duration("2"), Some(2_000_000_000));
    assert_eq!(parse_duration("3h"), Some(10_800_000_000_000));
    assert_eq!(parse_duration("3d"), None);
    assert_eq!(parse_duration("1e30s"), None);
    assert_eq!(parse_duration(""), None);
}
