//! Every encapsulation netcap decodes, on a real public capture of it from the corpus
//! (`../shared/corpus`; skipped with one line where it is absent): one frame each, with
//! its layer stack, every checksum verdict with its depth, and where decoding stopped.
//! Each expectation was checked against tshark 4.0.17 on the same frame (its
//! `frame.protocols` and `*.checksum.status`, reassembly off): the comment after each
//! row names what tshark says where it words it differently.
//!
//! The constructed fixtures (`fixtures/constructed/encapsulations.pcap` and the link-type
//! files) cover the same protocols byte by byte, with bad and zero checksums at every new
//! depth; GRE in UDP, CAPWAP, AYIYA, EtherIP and Aruba's GRE tunnels have no public
//! capture in the corpus and are covered there only.

mod common;

use netcap_core::capture::CaptureReader;
use netcap_core::decode::{Decoder, Packet};

/// (corpus file, frame, layers, checksums as `proto@depth status`, stop as `layer reason`).
type Case = (&'static str, u64, &'static str, &'static [&'static str], Option<&'static str>);

const CASES: &[Case] = &[
    // 802.11 with radiotap, LLC/SNAP. tshark: radiotap:wlan_radio:wlan:llc:ip:tcp.
    ("arkime/tests/pcap/80211http.pcap", 1, "radiotap/wlan/llc/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // 802.11 with PPI. tshark: ppi:wlan_radio:wlan:llc:ip:tcp.
    ("libpcap/tests/filter/http_PPI.pcap", 5, "ppi/wlan/llc/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // A WPA2-protected data frame: named, encrypted. tshark: radiotap:wlan_radio:wlan.
    ("libpcap/tests/filter/wpa2linkuppassphraseiswireshark.pcap", 12, "radiotap/wlan", &[], Some("wlan encrypted")),
    // MPLS. tshark: eth:ethertype:mpls:ip:tcp.
    ("arkime/tests/pcap/mpls-basic.pcap", 32, "eth/mpls/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // Two labels, the pseudowire control word, an Ethernet frame with a VLAN tag.
    // tshark: eth:ethertype:mpls:pwethheuristic:pwethcw:eth:ethertype:vlan:ethertype:ip:icmp.
    (
        "PcapPlusPlus/Tests/Packet++Test/PacketExamples/MplsPackets.pcap",
        2,
        "eth/mpls/mpls/pw_cw/eth/vlan/ipv4/icmp",
        &["ipv4@0 good", "icmp@0 good"],
        None,
    ),
    // PPPoE session. tshark: eth:ethertype:pppoes:ppp:ip:tcp.
    ("suricata-verify/tests/bug-4810/pppoe-session-http.pcap", 1, "eth/pppoe/ppp/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // PPP (link type 9) with MPLS, and an ICMP time exceeded quoting the probe one level
    // deeper (a traceroute through an MPLS core). tshark: ppp:mpls:ip:udp;
    // ppp:ip:icmp:ip:udp, UDP checksum not present (3).
    ("tcpdump/tests/mpls-traceroute.pcap", 1, "ppp/mpls/ipv4/udp", &["ipv4@0 good", "udp@0 absent"], None),
    (
        "tcpdump/tests/mpls-traceroute.pcap",
        2,
        "ppp/ipv4/icmp/ipv4/udp",
        &["ipv4@0 good", "icmp@0 good", "ipv4@1 good", "udp@1 absent"],
        None,
    ),
    // Cisco HDLC. tshark: chdlc:ip:tcp.
    ("suricata-verify/tests/decode-chdlc-01/hdlc-http_1tx.pcap", 1, "chdlc/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // Frame Relay. tshark: fr:ip:icmp.
    ("arkime/tests/pcap/icmp-frame-relay.pcap", 1, "fr/ipv4/icmp", &["ipv4@0 good", "icmp@0 good"], None),
    // ERSPAN type I, II (an STP frame mirrored: LLC SAP 0x42 not decoded) and III.
    (
        "tcpdump/tests/erspan-type-i-4.pcap",
        1,
        "eth/ipv4/gre/erspan/eth/ipv4/icmp",
        &["ipv4@0 good", "ipv4@1 good", "icmp@1 good"],
        None,
    ),
    ("tcpdump/tests/erspan-type-ii-3.pcap", 1, "eth/ipv4/gre/erspan/eth/llc", &["ipv4@0 good"], Some("llc unsupported")),
    (
        "tcpdump/tests/erspan-type-iii-ft-0.pcap",
        1,
        "eth/ipv4/gre/erspan/eth/vlan/ipv4/icmp",
        &["ipv4@0 good", "ipv4@1 good", "icmp@1 good"],
        None,
    ),
    // A mirror whose checksums are all wrong (tshark: Bad, Bad, Bad).
    (
        "suricata-verify/tests/bug-5437-02/input.pcap",
        1,
        "eth/ipv4/gre/erspan/eth/ipv4/tcp",
        &["ipv4@0 bad", "ipv4@1 bad", "tcp@1 bad"],
        None,
    ),
    // ERSPAN carrying VXLAN from port 4789 to 4790: netcap decodes the destination port,
    // VXLAN-GPE (P bit clear: Ethernet); tshark names it VXLAN by the source port.
    (
        "arkime/tests/pcap/gre-erspan-vxlan.pcap",
        1,
        "eth/ipv4/gre/erspan/eth/ipv4/udp/vxlan_gpe/eth/ipv4/tcp",
        &["ipv4@0 good", "ipv4@1 good", "udp@1 good", "ipv4@2 good", "tcp@2 good"],
        None,
    ),
    // NSH over VXLAN-GPE. tshark: eth:ethertype:ip:udp:nsh:ip:udp.
    (
        "tcpdump/tests/nsh-over-vxlan-gpe.pcap",
        1,
        "eth/ipv4/udp/vxlan_gpe/nsh/ipv4/udp",
        &["ipv4@0 good", "udp@0 good", "ipv4@1 good", "udp@1 good"],
        None,
    ),
    // GTP-U from a phone: the outer UDP checksum is the sender's TX offload (tshark: Bad).
    (
        "arkime/tests/pcap/gtp-iphone.pcap",
        9,
        "sll/ipv4/udp/gtpu/ipv6/tcp",
        &["ipv4@0 good", "udp@0 partial", "tcp@1 good"],
        None,
    ),
    // Teredo. tshark: eth:ethertype:ip:udp:teredo:ipv6:icmpv6.
    (
        "suricata-verify/tests/output-eve-ftp-data/input.pcap",
        91,
        "eth/ipv4/udp/teredo/ipv6/icmpv6",
        &["ipv4@0 good", "udp@0 good", "icmpv6@1 good"],
        None,
    ),
    // Cisco FabricPath (tshark: cfp) with OSPF inside.
    ("suricata-verify/tests/decode-dce/input.pcap", 2, "eth/fabricpath/eth/ipv6", &[], Some("ipv6 unsupported")),
    // VN-Tag, E-Tag, Cisco MetaData, MACsec (integrity only).
    ("suricata-verify/tests/decode-vntag-01/input.pcap", 1, "eth/vntag/vlan/ipv4", &["ipv4@0 good"], Some("ipv4 unsupported")),
    ("suricata-verify/tests/decode-etag-01/input.pcap", 1, "eth/etag/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    ("arkime/tests/pcap/arkime_synthetic.pcap", 315, "eth/cmd/ipv4/icmp", &["ipv4@0 good", "icmp@0 good"], None),
    ("tcpdump/tests/macsec-short-valid.pcap", 1, "eth/macsec/ipv4/udp", &["ipv4@0 good", "udp@0 good"], None),
    // IP over InfiniBand (44-byte form), NFLOG (checksums bad in the capture; tshark
    // agrees), ARCnet (RFC 1201), Solaris IPNET, Apple PKTAP, Juniper Ethernet.
    ("tcpdump/tests/ipoib.pcap", 9, "ipoib/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    ("arkime/tests/pcap/nflog.pcap", 1, "nflog/ipv4/tcp", &["ipv4@0 bad", "tcp@0 bad"], None),
    ("tcpdump/tests/arcnet-rfc1201-arp-icmp-http.pcap", 13, "arcnet/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    ("tcpdump/tests/e1000g.pcap", 1, "ipnet/ipv4/icmp", &["ipv4@0 good", "icmp@0 good"], None),
    ("tcpdump/tests/LINKTYPE_PKTAP.pcap", 1, "pktap/eth/ipv4/udp", &["ipv4@0 good", "udp@0 good"], None),
    ("tcpdump/tests/bgp-aigp.pcap", 1, "juniper/eth/ipv4/tcp", &["ipv4@0 good", "tcp@0 good"], None),
    // Encrypted: ESP, WireGuard transport data (type 4). tshark: ip:esp; udp:wg.
    ("arkime/tests/pcap/wireshark-esp.pcap", 1, "eth/ipv4/esp", &["ipv4@0 good"], Some("esp encrypted")),
    (
        "PcapPlusPlus/Tests/Packet++Test/PacketExamples/WireGuard.pcap",
        3,
        "eth/ipv4/udp/wireguard",
        &["ipv4@0 good", "udp@0 partial"],
        Some("wireguard encrypted"),
    ),
];

fn describe(p: &Packet) -> (String, Vec<String>, Option<String>) {
    let path: Vec<&str> = p.layers.iter().map(|l| l.proto()).collect();
    let sums = p
        .layers
        .iter()
        .filter_map(|l| l.checksum.map(|c| format!("{}@{} {}", l.proto(), l.depth, c.status.as_str())))
        .collect();
    let stop = p.stop.map(|s| format!("{} {}", s.layer, s.reason));
    (path.join("/"), sums, stop)
}

#[test]
fn every_encapsulation_decodes_on_a_real_capture() {
    let root = common::corpus_dir();
    if !root.join("MANIFEST.tsv").exists() {
        common::skip(format_args!("skipping real-capture encapsulations: {} not found", root.display()));
        return;
    }
    let decoder = Decoder::default();
    let mut packet = Packet::default();
    let mut failures = Vec::new();
    for &(file, number, path, sums, stop) in CASES {
        let mut r = CaptureReader::open(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let frame = loop {
            match r.next_frame() {
                Ok(Some(f)) if f.number == number => break f,
                Ok(Some(_)) => {}
                other => panic!("{file}: no frame {number} ({other:?})"),
            }
        };
        decoder.decode_into(frame.link_type, frame.data, &mut packet);
        let seen = describe(&packet);
        let want = (path.to_string(), sums.iter().map(|s| s.to_string()).collect(), stop.map(str::to_string));
        if seen != want {
            failures.push(format!("{file} frame {number}:\n  seen     {seen:?}\n  expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
