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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_scale: Option<u8>,
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
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
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
    Eth { src: [u8; 6], dst: [u8; 6], ethertype: EtherType },
    Vlan { tpid: u16, pcp: u8, dei: bool, vid: u16, ethertype: EtherType },
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    Sll { packet_type: u16, arphrd: u16, addr: [u8; 8], addr_len: u8, protocol: u16 },
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): carries the interface index.
    Sll2 { protocol: u16, ifindex: u32, arphrd: u16, packet_type: u8, addr: [u8; 8], addr_len: u8 },
    /// BSD loopback: the address family.
    Null { family: u32 },
    Ipv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tos: u8,
        total_len: u16,
        ip_id: u16,
        dont_fragment: bool,
        more_fragments: bool,
        /// Fragment offset in bytes.
        frag_offset: u16,
        ttl: u8,
        proto: IpNumber,
    },
    Ipv6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        traffic_class: u8,
        flow_label: u32,
        payload_len: u16,
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
    Udp { src_port: u16, dst_port: u16, length: u16, payload_len: u32 },
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: u16,
        window: u16,
        urgent: u16,
        options: TcpOptions,
        payload_len: u32,
    },
    Icmp { icmp_type: u8, code: u8 },
    Icmpv6 { icmp_type: u8, code: u8 },
    Vxlan { flags: u8, vni: u32 },
    Geneve { vni: u32, protocol: u16, options_len: u16, oam: bool, critical: bool },
    Gre { version: u8, protocol: u16, key: Option<u32>, sequence: Option<u32>, has_checksum: bool },
    Arp { operation: u16, sender_ip: Ipv4Addr, target_ip: Ipv4Addr, sender_mac: [u8; 6], target_mac: [u8; 6] },
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
    pub layer: &'static str,
    pub depth: u8,
    /// The kernel counter that counts the drop (`Udp InCsumErrors`, …).
    pub counter: &'static str,
}
