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
    /// Tunnel encapsulations above this layer: the encapsulations that carry a packet
    /// or frame over IP. Everything up to and including the first tunnel header (VXLAN,
    /// Geneve, GRE, GTP-U, Teredo, CAPWAP, AYIYA, VXLAN-GPE) or the outer IP of
    /// IP-in-IP and MPLS-in-IP/UDP is depth 0; what that header carries is depth 1.
    /// Link-level stacks (VLAN, MPLS over Ethernet, PPPoE, LLC, FabricPath, a
    /// pseudowire) do not add depth.
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

/// TCP options netcap reads (RFC 9293 §3.2, RFC 7323, RFC 2018): what one TCP header
/// carries. How the TCP analysis runs is [`crate::tcp::TcpAnalysisOptions`].
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
        /// EtherType (IEEE 802.3 type field): the protocol of the payload. A value up to
        /// 1500 is the length of an IEEE 802.3 frame, whose payload starts with an LLC
        /// header.
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
        /// network order. A value that is no family in either order and whose low 16
        /// bits (network order) are an EtherType of 0x0600 or more is taken as a 4-byte
        /// link header ending in that EtherType (Cisco HDLC written as NULL), as
        /// Wireshark does.
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
    /// IEEE 802.2 LLC header, with its SNAP extension when DSAP and SSAP are 0xAA.
    Llc {
        /// Destination service access point (IEEE 802.2): 0xAA SNAP, 0x42 spanning
        /// tree, 0xFE ISO network layer, 0x06 IP, …
        dsap: u8,
        /// Source service access point (IEEE 802.2).
        ssap: u8,
        /// Control field (IEEE 802.2): one byte for U-format frames (low bits 11), two
        /// bytes for I- and S-format frames.
        control: u16,
        /// SNAP organisationally unique identifier (RFC 1042): 00-00-00 means the
        /// protocol ID is an EtherType.
        oui: Option<[u8; 3]>,
        /// SNAP protocol ID (RFC 1042): an EtherType when the OUI is 00-00-00 or
        /// 00-00-F8.
        pid: Option<u16>,
    },
    /// One MPLS label stack entry (RFC 3032); a stack is one layer per entry.
    Mpls {
        /// Label (RFC 3032): 20 bits. 0 IPv4 explicit null, 2 IPv6 explicit null.
        label: u32,
        /// Traffic class (RFC 5462; formerly EXP): 3 bits.
        tc: u8,
        /// Bottom of stack (RFC 3032): the last entry before the payload.
        bottom: bool,
        /// Time to live (RFC 3032).
        ttl: u8,
    },
    /// The pseudowire control word before an Ethernet frame carried over MPLS (RFC 4448
    /// §4.6): first nibble 0.
    PwControlWord {
        /// Flags and fragment bits (RFC 4385): the 8 bits after the first nibble.
        flags: u8,
        /// Sequence number (RFC 4385); 0 when sequencing is not used.
        sequence: u16,
    },
    /// PPP over Ethernet header (RFC 2516).
    Pppoe {
        /// PPPoE code (RFC 2516): 0x00 session data, 0x09 PADI, 0x07 PADO, 0x19 PADR,
        /// 0x65 PADS, 0xa7 PADT.
        code: u8,
        /// Session ID (RFC 2516).
        session_id: u16,
        /// Payload length (RFC 2516): bytes after the 6-byte header.
        length: u16,
    },
    /// The PPP protocol field (RFC 1661), with the HDLC-like address and control bytes
    /// (RFC 1662) when present.
    Ppp {
        /// PPP protocol (RFC 1661): 0x0021 IPv4, 0x0057 IPv6, 0x0281 MPLS, 0xc021 LCP, …
        protocol: u16,
    },
    /// Cisco HDLC header (LINKTYPE_C_HDLC).
    Chdlc {
        /// Address byte: 0x0f unicast, 0x8f broadcast.
        address: u8,
        /// Protocol: an EtherType (0x0800 IPv4, 0x86dd IPv6, 0x8035 SLARP, 0x8847 MPLS).
        protocol: u16,
    },
    /// Cisco FabricPath header after the outer MAC addresses (EtherType 0x8903): then the
    /// classical Ethernet frame.
    FabricPath {
        /// Forwarding tag (FabricPath): the upper 10 bits of the tag word.
        ftag: u16,
        /// Time to live (FabricPath): the low 6 bits.
        ttl: u8,
    },
    /// ERSPAN header (draft-foschiano-erspan; type I has none and is recognised by a GRE
    /// header without sequence number).
    Erspan {
        /// ERSPAN type: 1, 2 or 3 (the header's version field is 1 for type II, 2 for
        /// type III).
        erspan_type: u8,
        /// Session ID (types II and III): 10 bits.
        session_id: u16,
        /// The original frame's VLAN (types II and III): 12 bits.
        vlan: u16,
        /// Type III timestamp (its granularity is in the header's Gra field).
        timestamp: Option<u32>,
    },
    /// GTP-U header (3GPP TS 29.281), optional fields and extension headers included.
    Gtpu {
        /// Message type (TS 29.281): 255 G-PDU (a user packet follows), 1 echo request,
        /// 2 echo response, 26 error indication, 254 end marker.
        msg_type: u8,
        /// Tunnel endpoint identifier (TS 29.281).
        teid: u32,
        /// Extension header types, in order (0x85 PDU session container, …), at most
        /// [`ExtHeaders::MAX`].
        ext: ExtHeaders,
    },
    /// Teredo (RFC 4380): IPv6 in UDP, with the authentication and origin indication
    /// headers when present (`header_len` 0 when neither is).
    Teredo {
        /// Origin indication (RFC 4380 §5.1.1): the client's mapped port and address,
        /// un-obfuscated.
        origin: Option<(u16, Ipv4Addr)>,
        /// An authentication header (RFC 4380 §5.1.1) was present.
        auth: bool,
    },
    /// CAPWAP data channel header (RFC 5415 §4.3).
    Capwap {
        /// Header length in bytes (RFC 5415: HLEN times 4).
        hlen: u16,
        /// Wireless binding ID (RFC 5415): 1 IEEE 802.11.
        wbid: u8,
        /// T bit (RFC 5415): the payload is in the binding's native format (802.11)
        /// rather than 802.3.
        native: bool,
    },
    /// AYIYA header (draft-massar-v6ops-ayiya): "anything in anything".
    Ayiya {
        /// Next header: the IP protocol number of the payload (41 IPv6, 4 IPv4).
        next_header: u8,
        /// Operation code: 1 forward (a packet follows).
        opcode: u8,
    },
    /// VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe).
    VxlanGpe {
        /// Flags byte; 0x04 is the P bit (next protocol present).
        flags: u8,
        /// Next protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
        next_protocol: u8,
        /// Virtual network identifier: 24 bits.
        vni: u32,
    },
    /// Network Service Header (RFC 8300), metadata included.
    Nsh {
        /// MD type (RFC 8300): 1 fixed-length, 2 variable-length metadata.
        md_type: u8,
        /// Next protocol (RFC 8300): 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
        next_protocol: u8,
        /// Service path identifier (RFC 8300): 24 bits.
        spi: u32,
        /// Service index (RFC 8300).
        si: u8,
    },
    /// IEEE 802.11 radiotap header (the LINKTYPE_IEEE802_11_RADIOTAP pseudo-header).
    Radiotap {
        /// The radiotap flags field: 0x10 the frame ends with an FCS, 0x40 the FCS is
        /// bad; 0 when absent.
        flags: u8,
        /// The frame ends with a 4-byte FCS.
        fcs: bool,
    },
    /// PPI header (LINKTYPE_PPI), before an 802.11 frame.
    Ppi {
        /// The link type of what follows (105: IEEE 802.11).
        dlt: u32,
    },
    /// IEEE 802.11 MAC header (data, management or control frame).
    Wlan {
        /// Frame type (IEEE 802.11): 0 management, 1 control, 2 data.
        frame_type: u8,
        /// Frame subtype (IEEE 802.11); in data frames bit 3 marks QoS.
        subtype: u8,
        /// Frame control flags byte: 0x01 to DS, 0x02 from DS, 0x40 protected.
        flags: u8,
        /// Address 1 (receiver).
        addr1: [u8; 6],
        /// Address 2 (transmitter); zero in frames that have none.
        addr2: [u8; 6],
    },
    /// IP over InfiniBand encapsulation header (RFC 4391 §6), with the 40-byte address
    /// pseudo-header Linux captures carry when present.
    Ipoib {
        /// Protocol: an EtherType.
        protocol: u16,
    },
    /// Linux netfilter NFLOG header and its TLVs up to the packet (LINKTYPE_NFLOG).
    Nflog {
        /// Address family (2 IPv4, 10 IPv6).
        family: u8,
        /// Resource ID: the NFLOG group.
        resource_id: u16,
    },
    /// Cisco VN-Tag (EtherType 0x8926): a 4-byte tag naming the virtual interfaces, then
    /// the EtherType of what follows.
    VnTag {
        /// The tag: direction, pointer, destination and source virtual interface.
        tag: u32,
        /// EtherType after the tag.
        ethertype: EtherType,
    },
    /// IEEE 802.1BR E-Tag (EtherType 0x893f): a 6-byte tag naming the port extender's
    /// ports, then the EtherType of what follows.
    ETag {
        /// The ingress and destination extended port identifiers (ECID), 12 + 2 bits each
        /// with their bases, as the 48-bit tag.
        tag: u64,
        /// EtherType after the tag.
        ethertype: EtherType,
    },
    /// IEEE 802.1AE MACsec SecTAG (EtherType 0x88e5), and the protected frame's EtherType
    /// when it is in clear. With the E or C bit (encrypted, changed text) what follows
    /// is not readable; with integrity only it is the frame's EtherType and payload, then
    /// a 16-byte integrity check value.
    Macsec {
        /// The TCI and association number byte: 0x08 E (encrypted), 0x04 C (changed),
        /// 0x20 SC (SCI present).
        tci_an: u8,
        /// Packet number.
        pn: u32,
        /// Secure channel identifier, when the SC bit is set.
        sci: Option<u64>,
    },
    /// Frame Relay Q.922 address (LINKTYPE_FRELAY), with the RFC 2427 NLPID or the Cisco
    /// EtherType after it.
    FrameRelay {
        /// Data link connection identifier (Q.922): 10 bits.
        dlci: u16,
        /// RFC 2427 network layer protocol ID (0xcc IPv4, 0x8e IPv6, 0x80 SNAP), or the
        /// Cisco encapsulation's EtherType.
        protocol: u16,
    },
    /// Solaris IPNET header (LINKTYPE_IPNET), 24 bytes.
    Ipnet {
        /// Address family: 2 IPv4, 26 IPv6.
        family: u8,
        /// The interface index of the packet.
        ifindex: u32,
    },
    /// Apple PKTAP header (LINKTYPE_PKTAP): per-packet metadata, then a frame of its own
    /// link type.
    Pktap {
        /// The link type of the frame that follows.
        dlt: u32,
        /// The interface name, as captured.
        ifname: [u8; 24],
    },
    /// Linux ARCnet header (LINKTYPE_ARCNET_LINUX).
    Arcnet {
        /// Source station.
        src: u8,
        /// Destination station.
        dst: u8,
        /// Protocol: 0xd4 / 0xf0 IPv4 (RFC 1201 / RFC 1051), 0xc4 IPv6, 0xd5 / 0xf1 ARP.
        protocol: u8,
    },
    /// Juniper's pseudo-header before an Ethernet frame (LINKTYPE_JUNIPER_ETHER).
    Juniper {
        /// Flags byte: 0x80 extensions present, 0x01 the packet was received.
        flags: u8,
    },
    /// Cisco MetaData (EtherType 0x8909): the security group tag of TrustSec.
    CiscoMetadata {
        /// Security group tag.
        sgt: u16,
        /// EtherType after the tag.
        ethertype: EtherType,
    },
    /// EtherIP header (RFC 3378, IP protocol 97): version 3, then an Ethernet frame.
    EtherIp {
        /// Version (RFC 3378): 3.
        version: u8,
    },
    /// ESP header (RFC 4303): what follows is encrypted, and decoding stops there with
    /// `encrypted`.
    Esp {
        /// Security parameters index (RFC 4303).
        spi: u32,
        /// Sequence number (RFC 4303).
        sequence: u32,
    },
    /// WireGuard message header (the WireGuard whitepaper §5.4).
    Wireguard {
        /// Message type: 1 handshake initiation, 2 handshake response, 3 cookie reply,
        /// 4 transport data (encrypted: decoding stops with `encrypted`).
        msg_type: u8,
        /// The index in bytes 4–8: the sender's (types 1 and 2) or the receiver's
        /// (types 3 and 4).
        index: u32,
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
            LayerKind::Llc { .. } => "llc",
            LayerKind::Mpls { .. } => "mpls",
            LayerKind::PwControlWord { .. } => "pw_cw",
            LayerKind::Pppoe { .. } => "pppoe",
            LayerKind::Ppp { .. } => "ppp",
            LayerKind::Chdlc { .. } => "chdlc",
            LayerKind::FabricPath { .. } => "fabricpath",
            LayerKind::Erspan { .. } => "erspan",
            LayerKind::Gtpu { .. } => "gtpu",
            LayerKind::Teredo { .. } => "teredo",
            LayerKind::Capwap { .. } => "capwap",
            LayerKind::Ayiya { .. } => "ayiya",
            LayerKind::VxlanGpe { .. } => "vxlan_gpe",
            LayerKind::Nsh { .. } => "nsh",
            LayerKind::Radiotap { .. } => "radiotap",
            LayerKind::Ppi { .. } => "ppi",
            LayerKind::Wlan { .. } => "wlan",
            LayerKind::Ipoib { .. } => "ipoib",
            LayerKind::Nflog { .. } => "nflog",
            LayerKind::Esp { .. } => "esp",
            LayerKind::Wireguard { .. } => "wireguard",
            LayerKind::VnTag { .. } => "vntag",
            LayerKind::ETag { .. } => "etag",
            LayerKind::Macsec { .. } => "macsec",
            LayerKind::FrameRelay { .. } => "fr",
            LayerKind::Ipnet { .. } => "ipnet",
            LayerKind::Pktap { .. } => "pktap",
            LayerKind::Arcnet { .. } => "arcnet",
            LayerKind::EtherIp { .. } => "etherip",
            LayerKind::Juniper { .. } => "juniper",
            LayerKind::CiscoMetadata { .. } => "cmd",
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
    /// What follows is encrypted (ESP, WireGuard transport data, a protected 802.11
    /// frame): netcap names the protocol and does not decrypt.
    Encrypted,
}

impl StopReason {
    /// The snake_case name used in JSON and text output (`truncated`, `bad_header`,
    /// `fragment`, `unsupported`, `depth_limit`, `encrypted`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Truncated => "truncated",
            StopReason::BadHeader => "bad_header",
            StopReason::Fragment => "fragment",
            StopReason::Unsupported => "unsupported",
            StopReason::DepthLimit => "depth_limit",
            StopReason::Encrypted => "encrypted",
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
    /// The kernel counter that counts the drop (`UdpInCsumErrors`, …).
    pub counter: &'static str,
}

impl std::fmt::Display for Drop {
    /// The drop as `netcap packets` prints it at the end of a frame's line: the layer,
    /// its tunnel depth and the counter, `receiver DROPS (udp depth 0: UdpInCsumErrors)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "receiver DROPS ({} depth {}: {})",
            self.layer, self.depth, self.counter
        )
    }
}
