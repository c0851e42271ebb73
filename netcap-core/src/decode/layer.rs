//! The layers a frame decodes into, and where and why decoding stopped.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::checksum::Verdict;

/// An EtherType (open newtype: an unknown value is a value, not an error).
pub use etherparse::EtherType;
/// An IP protocol / IPv6 next-header number (open newtype).
pub use etherparse::IpNumber;

/// One decoded header.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Tunnel encapsulations above this layer: everything up to and including a
    /// VXLAN/Geneve/GRE header or the outer IP of IP-in-IP is depth 0.
    pub depth: u8,
    /// Byte offset of the header in the frame.
    pub offset: u32,
    /// Header length in bytes, options and extension headers included.
    pub header_len: u32,
    /// The protocol, with the header fields netcap reads from it.
    pub kind: LayerKind,
    /// The checksum verdict, for the layers that carry one (IPv4 header, UDP, TCP,
    /// ICMP, ICMPv6).
    pub checksum: Option<Verdict>,
}

impl Layer {
    /// The protocol's short name (`eth`, `ipv4`, `vxlan`, …), as in JSON output.
    pub fn proto(&self) -> &'static str {
        self.kind.proto()
    }
}

/// TCP options netcap reads (RFC 9293 §3.2, RFC 7323, RFC 2018).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TcpOptions {
    /// Maximum Segment Size option (kind 2, RFC 9293 §3.7.1), in bytes; `None` when
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    /// Window Scale option (kind 3, RFC 7323 §2): the shift count as sent; `None` when
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_scale: Option<u8>,
    /// SACK-Permitted option (kind 4, RFC 2018) present.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sack_permitted: bool,
    /// SACK blocks (left, right); at most 4 fit in the option space.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub sack: SackBlocks,
    /// Timestamps (TSval, TSecr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<(u32, u32)>,
}

/// Up to four SACK blocks without allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [(u32, u32); 4],
    len: u8,
}

impl SackBlocks {
    pub(crate) fn push(&mut self, block: (u32, u32)) {
        if let Some(slot) = self.blocks.get_mut(usize::from(self.len)) {
            *slot = block;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for SackBlocks {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.len)]
    }
}

impl Serialize for SackBlocks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

/// TCP flag bits as in the header's low 9 bits of the offset/flags word.
pub mod tcp_flags {
    /// FIN: the sender has no more data (RFC 9293).
    pub const FIN: u16 = 0x001;
    /// SYN: synchronize sequence numbers (RFC 9293).
    pub const SYN: u16 = 0x002;
    /// RST: reset the connection (RFC 9293).
    pub const RST: u16 = 0x004;
    /// PSH: push function (RFC 9293).
    pub const PSH: u16 = 0x008;
    /// ACK: the acknowledgment number is significant (RFC 9293).
    pub const ACK: u16 = 0x010;
    /// URG: the urgent pointer is significant (RFC 9293).
    pub const URG: u16 = 0x020;
    /// ECE: ECN-Echo (RFC 3168).
    pub const ECE: u16 = 0x040;
    /// CWR: Congestion Window Reduced (RFC 3168).
    pub const CWR: u16 = 0x080;
    /// AE: Accurate ECN, bit 8 of the flags (formerly NS, the ECN nonce of RFC 3540).
    pub const AE: u16 = 0x100;

    /// tcpdump's letters, in its order: `S`, `F`, `P`, `R`, `U`, `E`, `W`, `A`, `.` for
    /// ACK alone — here `.` is printed for ACK wherever it is set, as tcpdump does.
    pub fn letters(flags: u16) -> String {
        let mut s = String::new();
        for (bit, c) in [
            (SYN, 'S'),
            (FIN, 'F'),
            (PSH, 'P'),
            (RST, 'R'),
            (URG, 'U'),
            (ECE, 'E'),
            (CWR, 'W'),
            (AE, 'e'),
            (ACK, '.'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }
}

/// The fields that matter of each layer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LayerKind {
    /// Ethernet II MAC header (IEEE 802.3).
    Eth {
        /// Source MAC address (IEEE 802.3).
        src: [u8; 6],
        /// Destination MAC address (IEEE 802.3).
        dst: [u8; 6],
        /// EtherType (IEEE 802.3 type field): the protocol of the payload.
        ethertype: EtherType,
    },
    /// One VLAN tag (IEEE 802.1Q, 802.1ad).
    Vlan {
        /// Tag protocol identifier: the EtherType that announced the tag (0x8100 802.1Q,
        /// 0x88a8 802.1ad, 0x9100 / 0x9200 / 0x9300 pre-standard QinQ).
        tpid: u16,
        /// Priority code point (IEEE 802.1Q TCI, top 3 bits): 0–7.
        pcp: u8,
        /// Drop eligible indicator (IEEE 802.1Q TCI, the bit after the PCP; formerly
        /// CFI).
        dei: bool,
        /// VLAN identifier (IEEE 802.1Q TCI, low 12 bits): 0–4095.
        vid: u16,
        /// EtherType after the tag: the protocol of what follows.
        ethertype: EtherType,
    },
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    Sll {
        /// Packet type (LINUX_SLL): 0 to this host, 1 broadcast, 2 multicast, 3 to
        /// another host, 4 sent by this host.
        packet_type: u16,
        /// ARPHRD_ type of the capturing device (LINUX_SLL): 1 Ethernet, 772 loopback,
        /// 824 netlink, …
        arphrd: u16,
        /// Link-layer address of the sender (LINUX_SLL); only the first `addr_len`
        /// bytes, at most 8, are meaningful.
        addr: [u8; 8],
        /// Link-layer address length (LINUX_SLL; the 16-bit field capped at 255).
        addr_len: u8,
        /// Protocol type (LINUX_SLL): the payload's EtherType. Values below 0x0600
        /// (802.3 / 802.2 frames) and any value on a netlink device stop decoding as
        /// `unsupported`.
        protocol: u16,
    },
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): carries the interface index.
    Sll2 {
        /// Protocol type (LINUX_SLL2): the payload's EtherType, as in [`LayerKind::Sll`].
        protocol: u16,
        /// Interface index (LINUX_SLL2) of the interface the packet was captured on.
        ifindex: u32,
        /// ARPHRD_ type of the capturing device (LINUX_SLL2).
        arphrd: u16,
        /// Packet type (LINUX_SLL2, one byte): as in [`LayerKind::Sll`].
        packet_type: u8,
        /// Link-layer address of the sender (LINUX_SLL2); only the first `addr_len`
        /// bytes, at most 8, are meaningful.
        addr: [u8; 8],
        /// Link-layer address length (LINUX_SLL2).
        addr_len: u8,
    },
    /// BSD loopback: the address family.
    Null {
        /// Address family (2 IPv4; 24, 28 or 30 IPv6, by OS), byte order resolved:
        /// LINKTYPE_NULL stores it in the capturing host's order, LINKTYPE_LOOP in
        /// network order.
        family: u32,
    },
    /// IPv4 header, options included (RFC 791).
    Ipv4 {
        /// IPv4 source address (RFC 791).
        src: Ipv4Addr,
        /// IPv4 destination address (RFC 791), as in the header; a source route in
        /// progress gives the checksum pseudo-header another final destination.
        dst: Ipv4Addr,
        /// IPv4 type of service (RFC 791), today DSCP and ECN (RFC 2474, RFC 3168).
        tos: u8,
        /// IPv4 total length (RFC 791): bytes of header and data. 0 marks a TSO/GSO
        /// super-frame, whose payload runs to the end of the captured bytes.
        total_len: u16,
        /// IPv4 identification (RFC 791).
        ip_id: u16,
        /// IPv4 DF flag, don't fragment (RFC 791).
        dont_fragment: bool,
        /// IPv4 MF flag, more fragments follow (RFC 791).
        more_fragments: bool,
        /// Fragment offset in bytes (RFC 791: the 13-bit field times 8).
        frag_offset: u16,
        /// IPv4 time to live (RFC 791).
        ttl: u8,
        /// IPv4 protocol (RFC 791): the IP protocol number of the payload.
        proto: IpNumber,
    },
    /// IPv6 fixed header and its extension headers (RFC 8200).
    Ipv6 {
        /// IPv6 source address (RFC 8200), as in the fixed header.
        src: Ipv6Addr,
        /// IPv6 destination address (RFC 8200), as in the fixed header.
        dst: Ipv6Addr,
        /// IPv6 traffic class (RFC 8200): DSCP and ECN.
        traffic_class: u8,
        /// IPv6 flow label (RFC 8200, RFC 6437): 20 bits.
        flow_label: u32,
        /// IPv6 payload length (RFC 8200): bytes after the fixed 40-byte header,
        /// extension headers included. 0 is taken for a jumbogram (RFC 2675) or a GSO
        /// super-frame, whose payload runs to the end of the captured bytes.
        payload_len: u16,
        /// IPv6 hop limit (RFC 8200).
        hop_limit: u8,
        /// The protocol after the extension headers.
        proto: IpNumber,
        /// Extension header numbers, in order.
        ext: ExtHeaders,
        /// The fragment header, if any: (offset in bytes, more fragments, identification).
        fragment: Option<(u16, bool, u32)>,
        /// Pseudo-header source: the Home Address option's address, else `src`.
        pseudo_src: Ipv6Addr,
        /// Pseudo-header destination: a routing header's final destination, else `dst`.
        pseudo_dst: Ipv6Addr,
    },
    /// UDP header (RFC 768).
    Udp {
        /// UDP source port (RFC 768).
        src_port: u16,
        /// UDP destination port (RFC 768); a VXLAN or Geneve port
        /// ([`crate::decode::DecodeOptions`]) makes the payload a tunnel.
        dst_port: u16,
        /// UDP length (RFC 768): bytes of header and data; 0 in an IPv6 jumbogram or a
        /// GSO super-frame.
        length: u16,
        /// Payload bytes after the 8-byte header, by `length`, or by the IP length when
        /// `length` is 0; may exceed the bytes captured.
        payload_len: u32,
    },
    /// TCP header, options included (RFC 9293).
    Tcp {
        /// TCP source port (RFC 9293).
        src_port: u16,
        /// TCP destination port (RFC 9293).
        dst_port: u16,
        /// TCP sequence number (RFC 9293), absolute (not relative to the ISN).
        seq: u32,
        /// TCP acknowledgment number (RFC 9293); meaningful only with ACK set.
        ack: u32,
        /// TCP flags (RFC 9293, RFC 3168): the low 9 bits of the data offset / flags
        /// word, bits as in [`tcp_flags`].
        flags: u16,
        /// TCP window (RFC 9293), as sent: not multiplied by the window scale.
        window: u16,
        /// TCP urgent pointer (RFC 9293).
        urgent: u16,
        /// TCP options (RFC 9293 §3.2) netcap reads.
        options: TcpOptions,
        /// Payload bytes by the IP header's length (when that is 0, to the end of the
        /// captured bytes); may exceed the bytes captured.
        payload_len: u32,
    },
    /// ICMP header (RFC 792).
    Icmp {
        /// ICMP type (RFC 792): 0 echo reply, 3 destination unreachable, 8 echo
        /// request, 11 time exceeded, …
        icmp_type: u8,
        /// ICMP code (RFC 792): the detail within the type.
        code: u8,
    },
    /// ICMPv6 header (RFC 4443).
    Icmpv6 {
        /// ICMPv6 type (RFC 4443): 1 destination unreachable, 2 packet too big, 128
        /// echo request, 129 echo reply, …
        icmp_type: u8,
        /// ICMPv6 code (RFC 4443): the detail within the type.
        code: u8,
    },
    /// VXLAN header (RFC 7348).
    Vxlan {
        /// VXLAN flags byte (RFC 7348); 0x08 is the I flag (VNI valid).
        flags: u8,
        /// VXLAN network identifier (RFC 7348): 24 bits.
        vni: u32,
    },
    /// Geneve header, options included (RFC 8926).
    Geneve {
        /// Geneve virtual network identifier (RFC 8926): 24 bits.
        vni: u32,
        /// Geneve protocol type (RFC 8926): the inner frame's EtherType (0x6558
        /// Ethernet, 0x0800 IPv4, 0x86dd IPv6).
        protocol: u16,
        /// Geneve options length in bytes (RFC 8926: the 6-bit Opt Len field times 4).
        options_len: u16,
        /// Geneve O bit (RFC 8926): an OAM (control) packet.
        oam: bool,
        /// Geneve C bit (RFC 8926): critical options are present.
        critical: bool,
    },
    /// GRE header (RFC 2784 / 2890), or enhanced GRE, version 1 (RFC 2637).
    Gre {
        /// GRE version (RFC 2784): 0 GRE, 1 enhanced GRE (PPTP).
        version: u8,
        /// GRE protocol type (RFC 2784): the payload's EtherType (0x6558 transparent
        /// Ethernet bridging, 0x0800 IPv4, 0x86dd IPv6, …).
        protocol: u16,
        /// GRE key (RFC 2890), present when the K bit is set; in version 1 the payload
        /// length and call ID (RFC 2637).
        key: Option<u32>,
        /// GRE sequence number (RFC 2890), present when the S bit is set.
        sequence: Option<u32>,
        /// GRE C bit (RFC 2784): a checksum field is present (netcap does not verify it).
        has_checksum: bool,
    },
    /// ARP for IPv4 over Ethernet (RFC 826); other hardware or protocol types stop
    /// decoding as `unsupported`.
    Arp {
        /// ARP opcode (RFC 826): 1 request, 2 reply.
        operation: u16,
        /// ARP sender protocol address (RFC 826).
        sender_ip: Ipv4Addr,
        /// ARP target protocol address (RFC 826).
        target_ip: Ipv4Addr,
        /// ARP sender hardware address (RFC 826).
        sender_mac: [u8; 6],
        /// ARP target hardware address (RFC 826).
        target_mac: [u8; 6],
    },
}

impl LayerKind {
    /// The protocol's short name, as in JSON output.
    pub fn proto(&self) -> &'static str {
        match self {
            LayerKind::Eth { .. } => "eth",
            LayerKind::Vlan { .. } => "vlan",
            LayerKind::Sll { .. } => "sll",
            LayerKind::Sll2 { .. } => "sll2",
            LayerKind::Null { .. } => "null",
            LayerKind::Ipv4 { .. } => "ipv4",
            LayerKind::Ipv6 { .. } => "ipv6",
            LayerKind::Udp { .. } => "udp",
            LayerKind::Tcp { .. } => "tcp",
            LayerKind::Icmp { .. } => "icmp",
            LayerKind::Icmpv6 { .. } => "icmpv6",
            LayerKind::Vxlan { .. } => "vxlan",
            LayerKind::Geneve { .. } => "geneve",
            LayerKind::Gre { .. } => "gre",
            LayerKind::Arp { .. } => "arp",
        }
    }
}

/// IPv6 extension header numbers, in order, without allocation (at most
/// [`ExtHeaders::MAX`]; decoding stops with `depth_limit` past that).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtHeaders {
    numbers: [u8; ExtHeaders::MAX],
    len: u8,
}

impl ExtHeaders {
    /// The most extension headers netcap walks in one IPv6 header.
    pub const MAX: usize = 12;

    pub(crate) fn push(&mut self, n: u8) -> bool {
        match self.numbers.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = n;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

impl std::ops::Deref for ExtHeaders {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.numbers[..usize::from(self.len)]
    }
}

/// Why decoding ended before the last header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The captured bytes end inside this layer's header (snaplen or a short frame).
    Truncated,
    /// A header field is impossible (version, header length, length fields).
    BadHeader,
    /// A non-first IP fragment: there is no upper-layer header to read.
    Fragment,
    /// The next protocol / EtherType / link type is one netcap does not decode.
    Unsupported,
    /// Tunnel nesting, VLAN tags or IPv6 extension headers exceed netcap's caps.
    DepthLimit,
}

impl StopReason {
    /// The snake_case name used in JSON and text output (`truncated`, `bad_header`,
    /// `fragment`, `unsupported`, `depth_limit`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Truncated => "truncated",
            StopReason::BadHeader => "bad_header",
            StopReason::Fragment => "fragment",
            StopReason::Unsupported => "unsupported",
            StopReason::DepthLimit => "depth_limit",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where and why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Stop {
    /// The protocol that could not be read (`tcp` for a truncated TCP header), or for
    /// `unsupported` the layer whose next-protocol value was not understood (`link` for
    /// an undecoded link type, `ip` for a raw-IP frame whose version is neither 4 nor 6).
    pub layer: &'static str,
    /// Why decoding stopped.
    pub reason: StopReason,
    /// For `unsupported`: the value not understood (EtherType, IP protocol, link type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    /// Byte offset in the frame where decoding stopped.
    pub offset: u32,
}

/// Why a Linux receiver would drop the frame, and the counter that records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Drop {
    /// Index of the layer whose checksum fails, in [`crate::decode::Packet::layers`].
    pub layer_index: usize,
    /// Protocol name of that layer (`udp`, `ipv4`, …), as [`Layer::proto`] gives it.
    pub layer: &'static str,
    /// Tunnel depth of that layer (0: the outermost headers).
    pub depth: u8,
    /// The kernel counter that counts the drop (`Udp InCsumErrors`, …).
    pub counter: &'static str,
}
