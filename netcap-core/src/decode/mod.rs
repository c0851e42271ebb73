//! Lax decoding: every layer that could be read, each checksum judged, plus where and
//! why decoding stopped.
//!
//! [`Decoder::decode_into`] walks one frame from its link layer down through VLAN
//! tags, IPv4 (options) / IPv6 (extension headers), UDP / TCP / ICMP / ICMPv6, and the
//! tunnels VXLAN, Geneve, GRE (incl. transparent Ethernet bridging), IP-in-IP, 6in4,
//! 4in6 and 6in6, nested up to [`DecodeOptions::max_tunnel_depth`]. It reuses the
//! caller's [`Packet`], so the hot loop does not allocate once the layer vector has
//! grown to the deepest frame seen.
//!
//! # Truncation
//! A layer appears only when its whole header (options included) was captured. When
//! the bytes end inside a header, decoding stops with [`StopReason::Truncated`]. When a
//! header is complete but bytes it covers are missing (snaplen cut inside a payload, a
//! TSO/GSO super-frame whose IP length is 0 or larger than the frame, an IP fragment),
//! its checksum is [`Status::Unverifiable`]: netcap never guesses.
//!
//! IPv6 extension headers belong to the `ipv6` layer; when one of them is cut, the
//! `ipv6` layer is kept (its fixed header was read) and decoding stops there.
//!
//! # Checksum offload
//! A capture on the sending host, before the NIC, holds TCP/UDP checksums that contain
//! only the pseudo-header sum: they are [`Status::Partial`], not bad, and do not make a
//! receiver drop the frame.
//!
//! # References
//! IEEE 802.1Q; RFC 791; RFC 8200 §4 (extension headers), §8.1 (pseudo-header uses the
//! final destination of a routing header); RFC 6275 §6.3 (Home Address option: the
//! pseudo-header uses the home address); RFC 768; RFC 9293; RFC 7348 (VXLAN); RFC 8926
//! (Geneve); RFC 2784 / 2890 (GRE); RFC 2637 (enhanced GRE); RFC 2003 / 4213 (IP in IP).

mod encap;
mod layer;
mod link;
mod serialize;

use std::net::{Ipv4Addr, Ipv6Addr};

pub use layer::{
    tcp_flags, Drop, EtherType, ExtHeaders, IpNumber, Layer, LayerKind, SackBlocks, Stop,
    StopReason, TcpOptions,
};

pub use serialize::{flag_names, mac, FLAG_NAMES};

use crate::capture::LinkType;
use crate::checksum::{self, Kind, Status, Sum, Verdict};
use crate::flow::{self, Endpoint, FiveTuple};

/// What the decoder treats as a tunnel, and its caps. Start from
/// `DecodeOptions::default()` and change fields or call [`DecodeOptions::decode_as`]
/// (the struct grows: it cannot be built with a literal outside this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// UDP destination ports decoded as VXLAN (default 4789, IANA, and 8472, the Linux
    /// kernel's and flannel's default).
    pub vxlan_ports: Vec<u16>,
    /// UDP destination ports decoded as Geneve (default 6081).
    pub geneve_ports: Vec<u16>,
    /// Most tunnel encapsulations decoded (default 8); deeper stops with `depth_limit`.
    pub max_tunnel_depth: u8,
    /// Most layers decoded in one frame (default 64): bounds VLAN tag stacks.
    pub max_layers: usize,
    /// The other protocols carried in UDP that are decoded, by port (default: each
    /// [`UdpTunnel`]'s IANA port). VXLAN and Geneve ports are in their own lists.
    pub tunnel_ports: Vec<(u16, UdpTunnel)>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            vxlan_ports: vec![4789, 8472],
            geneve_ports: vec![6081],
            max_tunnel_depth: 8,
            max_layers: 64,
            tunnel_ports: UdpTunnel::ALL
                .iter()
                .filter_map(|&t| t.default_port().map(|p| (p, t)))
                .collect(),
        }
    }
}

impl DecodeOptions {
    /// Decodes UDP `port` as `tunnel`, or with `None` as plain UDP, replacing whatever
    /// the port meant before (tshark's `-d udp.port==PORT,PROTO`).
    pub fn decode_as(&mut self, port: u16, tunnel: Option<UdpTunnel>) {
        self.vxlan_ports.retain(|&p| p != port);
        self.geneve_ports.retain(|&p| p != port);
        self.tunnel_ports.retain(|&(p, _)| p != port);
        match tunnel {
            Some(UdpTunnel::Vxlan) => self.vxlan_ports.push(port),
            Some(UdpTunnel::Geneve) => self.geneve_ports.push(port),
            Some(t) => self.tunnel_ports.push((port, t)),
            None => {}
        }
    }

    /// The protocol a UDP datagram carries, by its ports: the destination port first,
    /// then — for the protocols whose both ends use the well-known port or whose server
    /// answers from it ([`UdpTunnel::either_port`]) — the source port.
    pub fn udp_tunnel(&self, src_port: u16, dst_port: u16) -> Option<UdpTunnel> {
        let by_port = |port: u16| {
            if self.vxlan_ports.contains(&port) {
                Some(UdpTunnel::Vxlan)
            } else if self.geneve_ports.contains(&port) {
                Some(UdpTunnel::Geneve)
            } else {
                self.tunnel_ports.iter().find(|&&(p, _)| p == port).map(|&(_, t)| t)
            }
        };
        by_port(dst_port).or_else(|| by_port(src_port).filter(|t| t.either_port()))
    }
}

/// A protocol carried in UDP that netcap decodes, chosen by port
/// ([`DecodeOptions::udp_tunnel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UdpTunnel {
    /// VXLAN (RFC 7348), ports 4789 and 8472.
    Vxlan,
    /// Geneve (RFC 8926), port 6081.
    Geneve,
    /// GRE in UDP (RFC 8086), port 4754.
    GreUdp,
    /// MPLS in UDP (RFC 7510), port 6635.
    MplsUdp,
    /// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe), port 4790.
    VxlanGpe,
    /// GTP-U (3GPP TS 29.281), port 2152.
    Gtpu,
    /// Teredo (RFC 4380), port 3544.
    Teredo,
    /// CAPWAP data channel (RFC 5415), port 5247.
    CapwapData,
    /// AYIYA (draft-massar-v6ops-ayiya), port 5072.
    Ayiya,
    /// WireGuard, port 51820 (its default listening port).
    Wireguard,
    /// ESP in UDP (RFC 3948, IPsec NAT traversal), port 4500.
    EspUdp,
}

impl UdpTunnel {
    /// Every protocol, in declaration order.
    pub const ALL: [UdpTunnel; 11] = [
        UdpTunnel::Vxlan,
        UdpTunnel::Geneve,
        UdpTunnel::GreUdp,
        UdpTunnel::MplsUdp,
        UdpTunnel::VxlanGpe,
        UdpTunnel::Gtpu,
        UdpTunnel::Teredo,
        UdpTunnel::CapwapData,
        UdpTunnel::Ayiya,
        UdpTunnel::Wireguard,
        UdpTunnel::EspUdp,
    ];

    /// The name on the command line (`--decode-as PORT=NAME`) and in the docs.
    pub fn name(self) -> &'static str {
        match self {
            UdpTunnel::Vxlan => "vxlan",
            UdpTunnel::Geneve => "geneve",
            UdpTunnel::GreUdp => "gre",
            UdpTunnel::MplsUdp => "mpls",
            UdpTunnel::VxlanGpe => "vxlan-gpe",
            UdpTunnel::Gtpu => "gtpu",
            UdpTunnel::Teredo => "teredo",
            UdpTunnel::CapwapData => "capwap",
            UdpTunnel::Ayiya => "ayiya",
            UdpTunnel::Wireguard => "wireguard",
            UdpTunnel::EspUdp => "esp",
        }
    }

    /// The protocol named `name` (as [`UdpTunnel::name`] gives it).
    pub fn from_name(name: &str) -> Option<UdpTunnel> {
        UdpTunnel::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The IANA port decoded by default; VXLAN and Geneve have theirs in
    /// [`DecodeOptions::vxlan_ports`] and [`DecodeOptions::geneve_ports`].
    pub fn default_port(self) -> Option<u16> {
        match self {
            UdpTunnel::Vxlan | UdpTunnel::Geneve => None,
            UdpTunnel::GreUdp => Some(4754),
            UdpTunnel::MplsUdp => Some(6635),
            UdpTunnel::VxlanGpe => Some(4790),
            UdpTunnel::Gtpu => Some(2152),
            UdpTunnel::Teredo => Some(3544),
            UdpTunnel::CapwapData => Some(5247),
            UdpTunnel::Ayiya => Some(5072),
            UdpTunnel::Wireguard => Some(51820),
            UdpTunnel::EspUdp => Some(4500),
        }
    }

    /// Whether the source port also selects the protocol: true where both peers use the
    /// well-known port (GTP-U, AYIYA, ESP in UDP) or a server answers from it (Teredo,
    /// CAPWAP, WireGuard). These payloads are checked before they are decoded; one
    /// that does not fit is left as UDP payload. The encapsulations a receiving kernel
    /// decapsulates by destination port (VXLAN, Geneve, GRE and MPLS in UDP, VXLAN-GPE)
    /// are decoded by destination port only, as the kernel does.
    pub fn either_port(self) -> bool {
        matches!(
            self,
            UdpTunnel::Gtpu
                | UdpTunnel::Teredo
                | UdpTunnel::CapwapData
                | UdpTunnel::Ayiya
                | UdpTunnel::Wireguard
                | UdpTunnel::EspUdp
        )
    }

    /// Whether a zero UDP checksum over IPv6 is allowed: RFC 6935 / 6936 let a tunnel
    /// protocol send it, and the specifications of VXLAN (RFC 7348 §5), Geneve (RFC 8926
    /// §3.3), GRE in UDP (RFC 8086 §3.2.1), MPLS in UDP (RFC 7510 §3) and VXLAN-GPE do.
    /// The others must carry a checksum over IPv6 (CAPWAP uses UDP-Lite there, RFC 5415
    /// §3.2).
    pub fn zero_checksum_allowed_over_ipv6(self) -> bool {
        matches!(
            self,
            UdpTunnel::Vxlan
                | UdpTunnel::Geneve
                | UdpTunnel::GreUdp
                | UdpTunnel::MplsUdp
                | UdpTunnel::VxlanGpe
        )
    }
}

impl std::fmt::Display for UdpTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packet {
    /// Outermost first.
    pub layers: Vec<Layer>,
    /// `None` when every header present was decoded.
    pub stop: Option<Stop>,
    /// Why a Linux receiver would drop this frame, if it would: the outermost failing
    /// checksum.
    pub drop: Option<Drop>,
}

impl Packet {
    /// Whether a Linux receiver would accept the frame: no IPv4 header checksum is bad,
    /// no UDP checksum before decapsulation is bad, the innermost TCP/UDP/ICMP checksum
    /// is not bad, and no UDP over IPv6 carries an illegal zero checksum.
    pub fn receiver_accepts(&self) -> bool {
        self.drop.is_none()
    }

    /// Tunnel encapsulations in this frame (the deepest of its own layers' depth: the
    /// packet an ICMP error quotes does not count).
    pub fn depth(&self) -> u8 {
        self.own_layers().last().map_or(0, |l| l.depth)
    }

    /// Index in [`Packet::layers`] of the first layer of the packet an ICMP or ICMPv6
    /// error quotes (RFC 792; RFC 4443 §3; RFC 4861 §4.5, a redirect's Redirected
    /// Header), when one was decoded. The quote is one tunnel level deeper than the ICMP
    /// header; it is evidence, not traffic: its checksums never make a receiver drop the
    /// frame, and flows, TCP analysis and correlation do not see it.
    pub fn quote_start(&self) -> Option<usize> {
        let icmp = self.layers.iter().position(|l| matches!(l.kind, LayerKind::Icmp { .. } | LayerKind::Icmpv6 { .. }))?;
        (icmp + 1 < self.layers.len()).then_some(icmp + 1)
    }

    /// The frame's own layers: every layer but those of a quoted packet
    /// ([`Packet::quote_start`]).
    pub fn own_layers(&self) -> &[Layer] {
        &self.layers[..self.quote_start().unwrap_or(self.layers.len())]
    }

    /// The 5-tuple of the frame's innermost TCP or UDP header, through every tunnel:
    /// its protocol, the addresses of the IP header right above it and its ports, in
    /// the frame's direction. `None` when the frame has no TCP or UDP header under an
    /// IP header. The frame's own layers only ([`Packet::own_layers`]): the packet an
    /// ICMP error quotes is not the frame's. The flow the TCP analysis and the
    /// correlation put the frame in has this 5-tuple ([`flow::FlowView::of`] adds the
    /// encapsulation path).
    ///
    /// # Fragments
    /// The first fragment of an IP packet has the 5-tuple of its transport header; a
    /// later fragment has no transport header, so the innermost one is a tunnel's
    /// (the outer UDP of VXLAN) or there is none.
    ///
    /// # Examples
    /// The first SYN of the flannel incident on the server node's NIC: the pods' TCP
    /// inside VXLAN, inside UDP between the nodes.
    /// ```
    /// use netcap_core::capture::CaptureReader;
    /// use netcap_core::decode::Decoder;
    ///
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/server_underlay.pcap");
    /// let mut reader = CaptureReader::open(path)?;
    /// let frame = reader.next_frame()?.expect("a frame");
    /// let packet = Decoder::default().decode(frame.link_type, frame.data);
    ///
    /// let t = packet.five_tuple().expect("a TCP header");
    /// assert_eq!(t.proto, 6);
    /// assert_eq!((t.src.to_string(), t.dst.to_string()), ("10.244.1.2:55406".into(), "10.244.2.3:80".into()));
    /// # Ok::<(), netcap_core::capture::CaptureError>(())
    /// ```
    pub fn five_tuple(&self) -> Option<FiveTuple> {
        flow::innermost_transport(self.own_layers()).map(|t| t.tuple)
    }

    /// The frame's innermost TCP header, through every tunnel, with the addresses of
    /// the IP header right above it: the segment [`crate::tcp::Analyzer::segment`]
    /// analyses. `None` when the frame's innermost TCP or UDP header
    /// ([`Packet::five_tuple`]) is not TCP. The frame's own layers only: a TCP header an
    /// ICMP error quotes is not the frame's segment.
    ///
    /// # Examples
    /// The first SYN of the flannel incident on the server node's NIC, one tunnel deep:
    /// ```
    /// use netcap_core::capture::CaptureReader;
    /// use netcap_core::checksum::Status;
    /// use netcap_core::decode::{tcp_flags, Decoder};
    ///
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/server_underlay.pcap");
    /// let mut reader = CaptureReader::open(path)?;
    /// let frame = reader.next_frame()?.expect("a frame");
    /// let packet = Decoder::default().decode(frame.link_type, frame.data);
    ///
    /// let tcp = packet.innermost_tcp().expect("a TCP segment");
    /// assert_eq!(format!("{} > {}", tcp.src, tcp.dst), "10.244.1.2:55406 > 10.244.2.3:80");
    /// assert_eq!((tcp.flags, tcp.payload_len, tcp.options.mss), (tcp_flags::SYN, 0, Some(1410)));
    /// // Inside the VXLAN tunnel; its own checksum is right (the outer UDP one is not).
    /// assert_eq!(tcp.layer.depth, 1);
    /// assert_eq!(tcp.layer.checksum.map(|v| v.status), Some(Status::Good));
    /// # Ok::<(), netcap_core::capture::CaptureError>(())
    /// ```
    pub fn innermost_tcp(&self) -> Option<TcpSegment<'_>> {
        let t = flow::innermost_transport(self.own_layers())?;
        let layer = self.layers.get(t.layer)?;
        let LayerKind::Tcp { seq, ack, flags, window, urgent, options, payload_len, .. } = layer.kind else {
            return None;
        };
        let (src, dst) = (t.tuple.src, t.tuple.dst);
        Some(TcpSegment { layer, index: t.layer, src, dst, seq, ack, flags, window, urgent, options, payload_len, fragmented: t.fragmented })
    }

    fn clear(&mut self) {
        self.layers.clear();
        self.stop = None;
        self.drop = None;
    }
}

/// A frame's innermost TCP header and the IP addresses around it
/// ([`Packet::innermost_tcp`]): the header's fields, read out of its [`LayerKind::Tcp`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TcpSegment<'a> {
    /// The TCP layer: its offset, header length, tunnel depth and checksum verdict.
    pub layer: &'a Layer,
    /// The TCP layer's index in [`Packet::layers`].
    pub index: usize,
    /// Where the segment came from: the source address of the IP header right above
    /// the TCP header, and the TCP source port.
    pub src: Endpoint,
    /// Where the segment goes: that IP header's destination address and the TCP
    /// destination port.
    pub dst: Endpoint,
    /// Sequence number (RFC 9293), absolute (not relative to the ISN).
    pub seq: u32,
    /// Acknowledgment number (RFC 9293); meaningful only with ACK set.
    pub ack: u32,
    /// Flags, bits as in [`tcp_flags`].
    pub flags: u16,
    /// Window (RFC 9293), as sent: not multiplied by the window scale.
    pub window: u16,
    /// Urgent pointer (RFC 9293).
    pub urgent: u16,
    /// The options the header carries.
    pub options: TcpOptions,
    /// Payload bytes by the IP header's length; may exceed the bytes captured.
    pub payload_len: u32,
    /// The IP header says more fragments follow or has a non-zero offset: the TCP
    /// header is there, the segment is not whole (the TCP analysis skips it).
    pub fragmented: bool,
}

impl TcpSegment<'_> {
    /// The segment's 5-tuple: protocol 6, source and destination.
    pub fn five_tuple(&self) -> FiveTuple {
        FiveTuple { proto: 6, src: self.src, dst: self.dst }
    }
}

/// Decodes frames with one set of options.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    opts: DecodeOptions,
}

impl Decoder {
    /// A decoder that decodes with `opts`.
    pub fn new(opts: DecodeOptions) -> Self {
        Decoder { opts }
    }

    /// The options this decoder decodes with.
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Decodes one frame's captured bytes into `out` (cleared first). Never fails and
    /// never panics: what could not be read is in `out.stop`.
    pub fn decode_into(&self, link: LinkType, data: &[u8], out: &mut Packet) {
        out.clear();
        let mut walk = Walk { opts: &self.opts, data, out, in_quote: false };
        walk.run(link);
        out.drop = find_drop(out.own_layers());
    }

    /// Decodes one frame into a new [`Packet`].
    pub fn decode(&self, link: LinkType, data: &[u8]) -> Packet {
        let mut p = Packet::default();
        self.decode_into(link, data, &mut p);
        p
    }
}

/// Pseudo-header addresses of the enclosing IP header.
#[derive(Debug, Clone, Copy)]
enum Addrs {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

/// What an upper layer needs from its IP header.
#[derive(Debug, Clone, Copy)]
struct IpCtx {
    addrs: Addrs,
    /// End of the IP payload within the captured bytes (or the enclosing extent).
    end: usize,
    /// End the IP header claims, possibly beyond the captured bytes.
    claimed_end: usize,
    /// All bytes the upper-layer checksum covers are present and the IP packet is not
    /// a fragment.
    complete: bool,
}

impl IpCtx {
    fn pseudo(&self, proto: u8, len: usize) -> Sum {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        match &self.addrs {
            Addrs::V4(s, d) => checksum::pseudo_v4(*s, *d, proto, len),
            Addrs::V6(s, d) => checksum::pseudo_v6(s, d, proto, len),
        }
    }
}

/// The next header to read.
#[derive(Debug, Clone, Copy)]
enum Next {
    Done,
    Eth,
    EtherType(EtherType),
    /// Raw IP: version from the first nibble.
    Ip,
    Ipv4,
    Ipv6,
    Proto(IpNumber, IpCtx),
    /// The payload of a UDP datagram whose port names a tunnel.
    Udp(UdpTunnel),
    /// An IEEE 802.2 LLC header (after an 802.3 length, SNAP-carrying links).
    Llc,
    /// An MPLS label stack entry.
    Mpls,
    /// A PPP protocol field (1 or 2 bytes; no address and control bytes).
    Ppp,
    /// An IEEE 802.11 MAC header.
    Wlan,
    /// A Network Service Header.
    Nsh,
    /// An ERSPAN header of this type (1, 2, 3).
    Erspan(u8),
    /// The pseudowire control word before an Ethernet frame over MPLS.
    PwControlWord,
    /// A BSD loopback header (inside PKTAP).
    Null,
}

/// The walk state over one frame.
struct Walk<'a, 'o> {
    opts: &'o DecodeOptions,
    data: &'a [u8],
    out: &'o mut Packet,
    /// Decoding the packet an ICMP error quotes: a quote is partial by nature, so where
    /// decoding of it stops is no stop of the frame.
    in_quote: bool,
}

/// Position within the frame: where the next header starts, where its container ends,
/// and its tunnel depth.
#[derive(Debug, Clone, Copy)]
struct Pos {
    off: usize,
    end: usize,
    depth: u8,
}

type Step = Result<(Next, Pos), Stop>;

impl Walk<'_, '_> {
    fn run(&mut self, link: LinkType) {
        let mut pos = Pos { off: 0, end: self.data.len(), depth: 0 };
        let mut next = match link {
            LinkType::ETHERNET => Next::Eth,
            LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => Next::Ip,
            LinkType::IPV4 => Next::Ipv4,
            LinkType::IPV6 => Next::Ipv6,
            _ => match self.link(link, pos) {
                Ok((n, p)) => {
                    pos = p;
                    n
                }
                Err(stop) => {
                    self.out.stop = Some(stop);
                    return;
                }
            },
        };
        loop {
            if !matches!(next, Next::Done) && self.out.layers.len() >= self.opts.max_layers {
                if !self.in_quote {
                    self.out.stop = Some(self.stop(next_name(next), StopReason::DepthLimit, pos.off));
                }
                return;
            }
            let step = match next {
                Next::Done => return,
                Next::Eth => self.eth(pos),
                Next::EtherType(et) => self.ethertype(et, pos),
                Next::Ip => self.raw_ip(pos),
                Next::Ipv4 => self.ipv4(pos),
                Next::Ipv6 => self.ipv6(pos),
                Next::Proto(p, ctx) => self.proto(p, ctx, pos),
                Next::Udp(t) => self.udp_payload(t, pos),
                Next::Llc => self.llc(pos),
                Next::Mpls => self.mpls(pos),
                Next::Ppp => self.ppp(pos),
                Next::Wlan => self.wlan(pos),
                Next::Nsh => self.nsh(pos),
                Next::Erspan(t) => self.erspan(t, pos),
                Next::PwControlWord => self.pw_control_word(pos),
                Next::Null => self.link(LinkType::NULL, pos),
            };
            match step {
                Ok((n, p)) => {
                    next = n;
                    pos = p;
                }
                Err(stop) => {
                    if !self.in_quote {
                        self.out.stop = Some(stop);
                    }
                    return;
                }
            }
        }
    }

    fn stop(&self, layer: &'static str, reason: StopReason, off: usize) -> Stop {
        Stop { layer, reason, value: None, offset: off32(off) }
    }

    fn unsupported(&self, value: u32, off: usize) -> Stop {
        let layer = self.out.layers.last().map_or("link", Layer::proto);
        Stop { layer, reason: StopReason::Unsupported, value: Some(value), offset: off32(off) }
    }

    /// The `need` bytes of a header at `pos`, or the reason they are not there: cut by
    /// the end of the captured bytes (`truncated`), or by the container's own length
    /// field while bytes follow (`bad_header`).
    fn header(&self, layer: &'static str, pos: Pos, need: usize) -> Result<&[u8], Stop> {
        if let Some(h) = self.peek(pos, need) {
            return Ok(h);
        }
        let want = pos.off.saturating_add(need);
        let reason =
            if want > self.data.len() { StopReason::Truncated } else { StopReason::BadHeader };
        Err(self.stop(layer, reason, pos.off))
    }

    /// The `need` bytes at `pos` when its container holds them: [`Walk::header`] for a
    /// header that is only tried (a payload that does not fit stays payload, no stop).
    fn peek(&self, pos: Pos, need: usize) -> Option<&[u8]> {
        let want = pos.off.checked_add(need)?;
        if want > pos.end {
            return None;
        }
        self.data.get(pos.off..want)
    }

    /// Every byte the container holds from `pos` on.
    fn rest(&self, pos: Pos) -> &[u8] {
        self.data.get(pos.off..pos.end).unwrap_or(&[])
    }

    fn push(&mut self, pos: Pos, header_len: usize, kind: LayerKind, checksum: Option<Verdict>) {
        self.out.layers.push(Layer {
            depth: pos.depth,
            offset: off32(pos.off),
            header_len: off32(header_len),
            kind,
            checksum,
        });
    }

    /// One tunnel level deeper, or `depth_limit`.
    fn deeper(&self, layer: &'static str, pos: Pos, header_len: usize) -> Result<Pos, Stop> {
        if pos.depth >= self.opts.max_tunnel_depth {
            return Err(self.stop(layer, StopReason::DepthLimit, pos.off + header_len));
        }
        Ok(Pos { off: pos.off + header_len, end: pos.end, depth: pos.depth + 1 })
    }

    /// The link-layer header of every link type but Ethernet and raw IP.
    fn link(&mut self, link: LinkType, pos: Pos) -> Step {
        match link {
            LinkType::NULL | LinkType::LOOP => {
                let h = self.header("null", pos, 4)?;
                let raw = [h[0], h[1], h[2], h[3]];
                // LOOP is always network order; NULL is the capturing host's order,
                // and every family value fits in 16 bits, so a large value is swapped.
                let family = if link == LinkType::LOOP {
                    u32::from_be_bytes(raw)
                } else {
                    let le = u32::from_le_bytes(raw);
                    if le > 0xffff {
                        le.swap_bytes()
                    } else {
                        le
                    }
                };
                self.push(pos, 4, LayerKind::Null { family }, None);
                let ethertype = u16::from_be_bytes([raw[2], raw[3]]);
                let next = match family {
                    2 => Next::Ipv4,
                    // AF_INET6 on NetBSD/OpenBSD, FreeBSD, macOS.
                    24 | 28 | 30 => Next::Ipv6,
                    0x1_0000.. if ethertype >= 0x0600 => Next::EtherType(EtherType(ethertype)),
                    _ => return Err(self.unsupported(family, pos.off + 4)),
                };
                Ok((next, Pos { off: pos.off + 4, ..pos }))
            }
            LinkType::LINUX_SLL => {
                let h = self.header("sll", pos, 16)?;
                let packet_type = be16(h, 0);
                let arphrd = be16(h, 2);
                let addr_len = be16(h, 4);
                let mut addr = [0u8; 8];
                addr.copy_from_slice(&h[6..14]);
                let protocol = be16(h, 14);
                let kind = LayerKind::Sll {
                    packet_type,
                    arphrd,
                    addr,
                    addr_len: addr_len.min(255) as u8,
                    protocol,
                };
                self.push(pos, 16, kind, None);
                self.cooked(arphrd, protocol, Pos { off: pos.off + 16, ..pos })
            }
            LinkType::LINUX_SLL2 => {
                let h = self.header("sll2", pos, 20)?;
                let protocol = be16(h, 0);
                let ifindex = be32(h, 4);
                let arphrd = be16(h, 8);
                let mut addr = [0u8; 8];
                addr.copy_from_slice(&h[12..20]);
                let kind = LayerKind::Sll2 {
                    protocol,
                    ifindex,
                    arphrd,
                    packet_type: h[10],
                    addr,
                    addr_len: h[11],
                };
                self.push(pos, 20, kind, None);
                self.cooked(arphrd, protocol, Pos { off: pos.off + 20, ..pos })
            }
            _ => self.other_link(link, pos),
        }
    }

    /// The protocol of a Linux cooked header: an EtherType, except for netlink and the
    /// small values that stand for frames without one: 0x0004 (`LINUX_SLL_P_802_2`)
    /// is an 802.2 LLC frame, the others (802.3 without LLC, CAN, …) are not decoded.
    fn cooked(&self, arphrd: u16, protocol: u16, pos: Pos) -> Step {
        const ARPHRD_NETLINK: u16 = 824;
        if arphrd == ARPHRD_NETLINK || (protocol < 0x0600 && protocol != 0x0004) {
            return Err(self.unsupported(u32::from(protocol), pos.off));
        }
        if protocol == 0x0004 {
            return Ok((Next::Llc, pos));
        }
        Ok((Next::EtherType(EtherType(protocol)), pos))
    }

    fn eth(&mut self, pos: Pos) -> Step {
        let h = self.header("eth", pos, 14)?;
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(&h[0..6]);
        src.copy_from_slice(&h[6..12]);
        let ethertype = EtherType(be16(h, 12));
        self.push(pos, 14, LayerKind::Eth { src, dst, ethertype }, None);
        Ok((Next::EtherType(ethertype), Pos { off: pos.off + 14, ..pos }))
    }

    fn ethertype(&mut self, et: EtherType, pos: Pos) -> Step {
        match et.0 {
            // 802.1Q, 802.1ad, and the pre-standard QinQ TPIDs.
            0x8100 | 0x88a8 | 0x9100 | 0x9200 | 0x9300 => {
                let h = self.header("vlan", pos, 4)?;
                let tci = be16(h, 0);
                let ethertype = EtherType(be16(h, 2));
                let kind = LayerKind::Vlan {
                    tpid: et.0,
                    pcp: (tci >> 13) as u8,
                    dei: tci & 0x1000 != 0,
                    vid: tci & 0x0fff,
                    ethertype,
                };
                self.push(pos, 4, kind, None);
                Ok((Next::EtherType(ethertype), Pos { off: pos.off + 4, ..pos }))
            }
            0x0800 => Ok((Next::Ipv4, pos)),
            0x86dd => Ok((Next::Ipv6, pos)),
            0x0806 => self.arp(pos),
            // IEEE 802.3: a length, and an LLC header after it; the length bounds the
            // frame (what follows is Ethernet padding).
            len @ 0..=1500 => {
                let end = pos.off.saturating_add(usize::from(len)).min(pos.end);
                Ok((Next::Llc, Pos { end, ..pos }))
            }
            0x8847 | 0x8848 => Ok((Next::Mpls, pos)),
            0x8863 | 0x8864 => self.pppoe(et.0, pos),
            0x8903 => self.fabricpath(pos),
            0x894f => Ok((Next::Nsh, pos)),
            0x8926 | 0x893f => self.port_tag(et.0, pos),
            0x8909 => self.cisco_metadata(pos),
            0x88e5 => self.macsec(pos),
            // Transparent Ethernet bridging (RFC 1701), as a GRE or NSH payload type.
            0x6558 => Ok((Next::Eth, pos)),
            other => Err(self.unsupported(u32::from(other), pos.off)),
        }
    }

    fn arp(&mut self, pos: Pos) -> Step {
        let h = self.header("arp", pos, 8)?;
        let (htype, ptype, hlen, plen) = (be16(h, 0), be16(h, 2), h[4], h[5]);
        if htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4 {
            return Err(Stop {
                layer: "arp",
                reason: StopReason::Unsupported,
                value: Some(u32::from(htype)),
                offset: off32(pos.off),
            });
        }
        let h = self.header("arp", pos, 28)?;
        let mut sender_mac = [0u8; 6];
        let mut target_mac = [0u8; 6];
        sender_mac.copy_from_slice(&h[8..14]);
        target_mac.copy_from_slice(&h[18..24]);
        let kind = LayerKind::Arp {
            operation: be16(h, 6),
            sender_mac,
            sender_ip: Ipv4Addr::new(h[14], h[15], h[16], h[17]),
            target_mac,
            target_ip: Ipv4Addr::new(h[24], h[25], h[26], h[27]),
        };
        self.push(pos, 28, kind, None);
        Ok((Next::Done, pos))
    }

    fn raw_ip(&mut self, pos: Pos) -> Step {
        let h = self.header("ip", pos, 1)?;
        match h[0] >> 4 {
            4 => Ok((Next::Ipv4, pos)),
            6 => Ok((Next::Ipv6, pos)),
            v => Err(Stop {
                layer: "ip",
                reason: StopReason::Unsupported,
                value: Some(u32::from(v)),
                offset: off32(pos.off),
            }),
        }
    }

    fn ipv4(&mut self, pos: Pos) -> Step {
        let fixed = self.header("ipv4", pos, 20)?;
        let ihl = usize::from(fixed[0] & 0x0f) * 4;
        if fixed[0] >> 4 != 4 || ihl < 20 {
            return Err(self.stop("ipv4", StopReason::BadHeader, pos.off));
        }
        let h = self.header("ipv4", pos, ihl)?;
        let total_len = be16(h, 2);
        if total_len != 0 && usize::from(total_len) < ihl {
            return Err(self.stop("ipv4", StopReason::BadHeader, pos.off));
        }
        let flags_frag = be16(h, 6);
        let more_fragments = flags_frag & 0x2000 != 0;
        let frag_offset = (flags_frag & 0x1fff) << 3;
        let proto = IpNumber(h[9]);
        let src = [h[12], h[13], h[14], h[15]];
        let dst = [h[16], h[17], h[18], h[19]];
        let pseudo_dst = source_route_final_destination(&h[20..]).unwrap_or(dst);
        let verdict = checksum::judge(Kind::Ipv4Header, Sum::ZERO, h, 10);
        let kind = LayerKind::Ipv4 {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            tos: h[1],
            total_len,
            ip_id: be16(h, 4),
            dont_fragment: flags_frag & 0x4000 != 0,
            more_fragments,
            frag_offset,
            ttl: h[8],
            proto,
        };
        self.push(pos, ihl, kind, verdict);
        // Total length 0 is a TSO/GSO super-frame: the payload runs to the end of the
        // captured bytes and no upper-layer checksum can be verified.
        let (claimed_end, tso) = if total_len == 0 {
            (pos.end, true)
        } else {
            (pos.off + usize::from(total_len), false)
        };
        let end = claimed_end.min(pos.end);
        let ctx = IpCtx {
            addrs: Addrs::V4(src, pseudo_dst),
            end,
            claimed_end,
            complete: !tso && claimed_end <= pos.end && !more_fragments && frag_offset == 0,
        };
        let payload = Pos { off: pos.off + ihl, end, depth: pos.depth };
        if frag_offset != 0 {
            return Err(Stop {
                layer: "ipv4",
                reason: StopReason::Fragment,
                value: Some(u32::from(proto.0)),
                offset: off32(payload.off),
            });
        }
        Ok((Next::Proto(proto, ctx), payload))
    }

    fn ipv6(&mut self, pos: Pos) -> Step {
        let h = self.header("ipv6", pos, 40)?;
        if h[0] >> 4 != 6 {
            return Err(self.stop("ipv6", StopReason::BadHeader, pos.off));
        }
        let payload_len = be16(h, 4);
        let mut next_header = h[6];
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        dst.copy_from_slice(&h[24..40]);
        let (traffic_class, flow_label, hop_limit) =
            (((be16(h, 0) >> 4) & 0xff) as u8, be32(h, 0) & 0x000f_ffff, h[7]);
        // Payload length 0 is a jumbogram (RFC 2675) or a GSO super-frame: the payload
        // runs to the end of the captured bytes and is not verifiable.
        let (claimed_end, jumbo) = if payload_len == 0 {
            (pos.end, true)
        } else {
            (pos.off + 40 + usize::from(payload_len), false)
        };
        let end = claimed_end.min(pos.end);

        let mut ext = ExtHeaders::default();
        let mut fragment = None;
        let (mut pseudo_src, mut pseudo_dst) = (src, dst);
        let mut off = pos.off + 40;
        let mut stop = None;
        loop {
            let ext_pos = Pos { off, end, depth: pos.depth };
            let len = match next_header {
                // Hop-by-hop, destination options, routing, mobility (RFC 6275: its
                // Payload Proto field sits where the others have Next Header), HIP
                // (RFC 7401), Shim6 (RFC 5533): length in 8-octet units after the first.
                0 | 60 | 43 | 135 | 139 | 140 => match self.header("ipv6", ext_pos, 2) {
                    Ok(e) => (usize::from(e[1]) + 1) * 8,
                    Err(s) => {
                        stop = Some(s);
                        break;
                    }
                },
                44 => 8,
                // Authentication header: length in 4-octet units, minus 2.
                51 => match self.header("ipv6", ext_pos, 2) {
                    Ok(e) => (usize::from(e[1]) + 2) * 4,
                    Err(s) => {
                        stop = Some(s);
                        break;
                    }
                },
                _ => break,
            };
            let e = match self.header("ipv6", ext_pos, len) {
                Ok(e) => e,
                Err(s) => {
                    stop = Some(s);
                    break;
                }
            };
            if !ext.push(next_header) {
                stop = Some(self.stop("ipv6", StopReason::DepthLimit, off));
                break;
            }
            match next_header {
                60 => {
                    if let Some(home) = home_address(e) {
                        pseudo_src = home;
                    }
                }
                43 => {
                    if let Some(fin) = routing_final_destination(e) {
                        pseudo_dst = fin;
                    }
                }
                44 => {
                    let v = be16(e, 2);
                    fragment = Some((v & 0xfff8, v & 1 != 0, be32(e, 4)));
                }
                _ => {}
            }
            next_header = e[0];
            off += len;
        }
        let proto = IpNumber(next_header);
        let kind = LayerKind::Ipv6 {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            traffic_class,
            flow_label,
            payload_len,
            hop_limit,
            proto,
            ext,
            fragment,
            pseudo_src: Ipv6Addr::from(pseudo_src),
            pseudo_dst: Ipv6Addr::from(pseudo_dst),
        };
        self.push(pos, off - pos.off, kind, None);
        if let Some(stop) = stop {
            return Err(stop);
        }
        let (frag_off, more) = fragment.map_or((0, false), |(o, m, _)| (o, m));
        if frag_off != 0 {
            return Err(Stop {
                layer: "ipv6",
                reason: StopReason::Fragment,
                value: Some(u32::from(next_header)),
                offset: off32(off),
            });
        }
        let ctx = IpCtx {
            addrs: Addrs::V6(pseudo_src, pseudo_dst),
            end,
            claimed_end,
            complete: !jumbo && claimed_end <= pos.end && !more,
        };
        Ok((Next::Proto(proto, ctx), Pos { off, end, depth: pos.depth }))
    }

    /// The upper-layer protocol of an IP header.
    fn proto(&mut self, proto: IpNumber, ctx: IpCtx, pos: Pos) -> Step {
        let v6 = matches!(ctx.addrs, Addrs::V6(..));
        match proto.0 {
            6 => self.tcp(ctx, pos),
            17 => self.udp(ctx, pos),
            1 => self.icmp(ctx, pos, false),
            58 if v6 => self.icmp(ctx, pos, true),
            4 => Ok((Next::Ipv4, self.deeper("ipv4", pos, 0)?)),
            41 => Ok((Next::Ipv6, self.deeper("ipv6", pos, 0)?)),
            47 => self.gre(pos),
            50 => self.esp(pos),
            // MPLS in IP (RFC 4023).
            137 => Ok((Next::Mpls, self.deeper("mpls", pos, 0)?)),
            // Ethernet in IP: EtherIP (RFC 3378, a 2-byte header, version 3) and the
            // bare Ethernet frame of protocol 143 (RFC 8986).
            97 => {
                let h = self.header("etherip", pos, 2)?;
                let version = h[0] >> 4;
                if version != 3 {
                    return Err(self.stop("etherip", StopReason::BadHeader, pos.off));
                }
                self.push(pos, 2, LayerKind::EtherIp { version }, None);
                Ok((Next::Eth, self.deeper("etherip", pos, 2)?))
            }
            143 => Ok((Next::Eth, self.deeper("eth", pos, 0)?)),
            // IPv4 authentication header (RFC 4302): skip it to the protected protocol.
            51 if !v6 => {
                let h = self.header("ah", pos, 2)?;
                let len = (usize::from(h[1]) + 2) * 4;
                let h = self.header("ah", pos, len)?;
                Ok((Next::Proto(IpNumber(h[0]), ctx), Pos { off: pos.off + len, ..pos }))
            }
            // IPv6 "no next header".
            59 if v6 => Ok((Next::Done, pos)),
            other => Err(self.unsupported(u32::from(other), pos.off)),
        }
    }

    fn udp(&mut self, ctx: IpCtx, pos: Pos) -> Step {
        let h = self.header("udp", pos, 8)?;
        let (src_port, dst_port, length, stored) = (be16(h, 0), be16(h, 2), be16(h, 4), be16(h, 6));
        if length != 0 && length < 8 {
            return Err(self.stop("udp", StopReason::BadHeader, pos.off));
        }
        // Length 0 (IPv6 jumbogram, BIG TCP/GSO) or beyond the IP payload: the datagram
        // runs to the IP payload's end and cannot be verified.
        let claimed = if length == 0 { ctx.claimed_end } else { pos.off + usize::from(length) };
        let fits = length != 0 && claimed <= ctx.end;
        let udp_end = if fits { claimed } else { ctx.end };
        let tunnel = self.opts.udp_tunnel(src_port, dst_port);
        let kind = match ctx.addrs {
            Addrs::V4(..) => Kind::UdpV4,
            Addrs::V6(..) => Kind::UdpV6 {
                tunnel: tunnel.is_some_and(UdpTunnel::zero_checksum_allowed_over_ipv6),
            },
        };
        let verdict = if ctx.complete && fits {
            let covered = &self.data[pos.off..udp_end];
            checksum::judge(kind, ctx.pseudo(17, covered.len()), covered, 6)
        } else {
            Some(match (stored, kind) {
                (0, Kind::UdpV4 | Kind::UdpV6 { tunnel: true }) => {
                    Verdict { status: Status::Absent, stored, expected: None }
                }
                (0, _) => Verdict { status: Status::IllegalZero, stored, expected: None },
                _ => checksum::unverifiable(stored),
            })
        };
        let payload_len = off32(claimed.saturating_sub(pos.off + 8));
        self.push(pos, 8, LayerKind::Udp { src_port, dst_port, length, payload_len }, verdict);
        let next = tunnel.map_or(Next::Done, Next::Udp);
        Ok((next, Pos { off: pos.off + 8, end: udp_end, depth: pos.depth }))
    }

    fn tcp(&mut self, ctx: IpCtx, pos: Pos) -> Step {
        let fixed = self.header("tcp", pos, 20)?;
        let data_offset = usize::from(fixed[12] >> 4) * 4;
        if data_offset < 20 {
            return Err(self.stop("tcp", StopReason::BadHeader, pos.off));
        }
        let h = self.header("tcp", pos, data_offset)?;
        let options = tcp_options(&h[20..]);
        let kind = LayerKind::Tcp {
            src_port: be16(h, 0),
            dst_port: be16(h, 2),
            seq: be32(h, 4),
            ack: be32(h, 8),
            flags: be16(h, 12) & 0x01ff,
            window: be16(h, 14),
            urgent: be16(h, 18),
            options,
            payload_len: off32(ctx.claimed_end.saturating_sub(pos.off + data_offset)),
        };
        let verdict = if ctx.complete {
            let covered = &self.data[pos.off..ctx.end];
            checksum::judge(Kind::Plain, ctx.pseudo(6, covered.len()), covered, 16)
        } else {
            Some(checksum::unverifiable(be16(h, 16)))
        };
        self.push(pos, data_offset, kind, verdict);
        Ok((Next::Done, pos))
    }

    fn icmp(&mut self, ctx: IpCtx, pos: Pos, v6: bool) -> Step {
        let name = if v6 { "icmpv6" } else { "icmp" };
        let h = self.header(name, pos, 4)?;
        let (icmp_type, code, stored) = (h[0], h[1], be16(h, 2));
        let verdict = if ctx.complete {
            let covered = &self.data[pos.off..ctx.end];
            let pseudo = if v6 { ctx.pseudo(58, covered.len()) } else { Sum::ZERO };
            checksum::judge(Kind::Plain, pseudo, covered, 2)
        } else {
            Some(checksum::unverifiable(stored))
        };
        let kind = if v6 {
            LayerKind::Icmpv6 { icmp_type, code }
        } else {
            LayerKind::Icmp { icmp_type, code }
        };
        self.push(pos, 4, kind, verdict);
        // An error quotes the packet that caused it after its 8-byte header (RFC 792,
        // RFC 4443 §3); a redirect, in its Redirected Header option (RFC 4861 §4.5).
        // The quote is decoded one level deeper and never makes a receiver drop the
        // frame ([`Packet::own_layers`]).
        let quote = match (v6, icmp_type) {
            (false, 3 | 4 | 5 | 11 | 12) | (true, 1..=4) => Some(pos.off + 8),
            (true, 137) => self.redirected_header(pos.off + 40, ctx.end),
            _ => None,
        };
        match quote {
            Some(at) if !self.in_quote && at < ctx.end => {
                self.in_quote = true;
                let inner = Pos { off: at, end: ctx.end, depth: pos.depth };
                Ok((Next::Ip, self.deeper(name, inner, 0)?))
            }
            _ => Ok((Next::Done, pos)),
        }
    }

    /// Where the packet in an ICMPv6 redirect's Redirected Header option (type 4: 8
    /// bytes, then the packet) starts, walking the options from `off` to `end`.
    fn redirected_header(&self, mut off: usize, end: usize) -> Option<usize> {
        while let Some(o) = self.peek(Pos { off, end, depth: 0 }, 8) {
            let (kind, units) = (o[0], usize::from(o[1]));
            if units == 0 {
                return None;
            }
            if kind == 4 {
                return Some(off + 8);
            }
            off += units * 8;
        }
        None
    }

    fn gre(&mut self, pos: Pos) -> Step {
        let h = self.header("gre", pos, 4)?;
        let flags = be16(h, 0);
        let protocol = be16(h, 2);
        let version = (flags & 0x7) as u8;
        let (c, r, k, s) =
            (flags & 0x8000 != 0, flags & 0x4000 != 0, flags & 0x2000 != 0, flags & 0x1000 != 0);
        let len = match version {
            // RFC 1701 source routing is not decoded.
            0 if r => return Err(self.stop("gre", StopReason::Unsupported, pos.off)),
            0 => 4 + 4 * (usize::from(c) + usize::from(k) + usize::from(s)),
            // Enhanced GRE (PPTP, RFC 2637 §4.1): C and R clear, K set; the key word
            // always, then sequence and acknowledgment numbers per the S and A flags.
            1 if c || r || !k => return Err(self.stop("gre", StopReason::BadHeader, pos.off)),
            1 => 8 + 4 * (usize::from(s) + usize::from(flags & 0x0080 != 0)),
            _ => return Err(self.stop("gre", StopReason::BadHeader, pos.off)),
        };
        let h = self.header("gre", pos, len)?;
        let mut at = 4 + if c { 4 } else { 0 };
        let key = k.then(|| {
            let v = be32(h, at);
            at += 4;
            v
        });
        let sequence = s.then(|| be32(h, at));
        let kind = LayerKind::Gre { version, protocol, key, sequence, has_checksum: c };
        self.push(pos, len, kind, None);
        self.tunnel_payload(protocol, "gre", pos, len, sequence.is_some())
    }

    fn vxlan(&mut self, pos: Pos) -> Step {
        let h = self.header("vxlan", pos, 8)?;
        let kind = LayerKind::Vxlan { flags: h[0], vni: be32(h, 4) >> 8 };
        self.push(pos, 8, kind, None);
        Ok((Next::Eth, self.deeper("eth", pos, 8)?))
    }

    fn geneve(&mut self, pos: Pos) -> Step {
        let h = self.header("geneve", pos, 8)?;
        if h[0] >> 6 != 0 {
            return Err(self.stop("geneve", StopReason::BadHeader, pos.off));
        }
        let options_len = u16::from(h[0] & 0x3f) * 4;
        let len = 8 + usize::from(options_len);
        let h = self.header("geneve", pos, len)?;
        let protocol = be16(h, 2);
        let kind = LayerKind::Geneve {
            vni: be32(h, 4) >> 8,
            protocol,
            options_len,
            oam: h[1] & 0x80 != 0,
            critical: h[1] & 0x40 != 0,
        };
        self.push(pos, len, kind, None);
        self.tunnel_payload(protocol, "geneve", pos, len, false)
    }

    /// The inner frame of a GRE or Geneve header, by its protocol type. `sequenced`: the
    /// GRE header has a sequence number, which tells ERSPAN type II (present) from
    /// type I (absent) under the same protocol type.
    fn tunnel_payload(
        &self,
        protocol: u16,
        layer: &'static str,
        pos: Pos,
        len: usize,
        sequenced: bool,
    ) -> Step {
        let next = match protocol {
            0x6558 => Next::Eth,
            0x0800 => Next::Ipv4,
            0x86dd => Next::Ipv6,
            0x8847 | 0x8848 => Next::Mpls,
            // PPP (RFC 2637 enhanced GRE, PPTP).
            0x880b => Next::Ppp,
            0x88be => Next::Erspan(if sequenced { 2 } else { 1 }),
            0x8909 => Next::EtherType(EtherType(0x8909)),
            0x22eb => Next::Erspan(3),
            // Aruba's access points tunnel 802.11 frames to their controller under
            // protocol types 0x8200 to 0x9000, in steps of 0x10.
            0x8200..=0x9000 if protocol & 0xf == 0 => Next::Wlan,
            other => return Err(self.unsupported(u32::from(other), pos.off + len)),
        };
        Ok((next, self.deeper(layer, pos, len)?))
    }
}

/// The name of the layer `next` would read, for a `depth_limit` stop.
fn next_name(next: Next) -> &'static str {
    match next {
        Next::Done => "none",
        Next::Eth => "eth",
        Next::EtherType(_) => "vlan",
        Next::Ip => "ip",
        Next::Ipv4 => "ipv4",
        Next::Ipv6 => "ipv6",
        Next::Proto(..) => "ip",
        Next::Udp(t) => encap::tunnel_layer(t),
        Next::Llc => "llc",
        Next::Mpls => "mpls",
        Next::Ppp => "ppp",
        Next::Wlan => "wlan",
        Next::Nsh => "nsh",
        Next::Erspan(_) => "erspan",
        Next::PwControlWord => "pw_cw",
        Next::Null => "null",
    }
}

/// The outermost checksum a Linux receiver rejects, with the counter it increments.
fn find_drop(layers: &[Layer]) -> Option<Drop> {
    let mut ip_v6 = false;
    for (i, l) in layers.iter().enumerate() {
        match l.kind {
            LayerKind::Ipv4 { .. } => ip_v6 = false,
            LayerKind::Ipv6 { .. } => ip_v6 = true,
            _ => {}
        }
        let Some(v) = l.checksum else { continue };
        if !matches!(v.status, Status::Bad | Status::IllegalZero) {
            continue;
        }
        // Counter names as `nstat` prints them (/proc/net/snmp, snmp6, netstat).
        let counter = match (&l.kind, ip_v6) {
            (LayerKind::Ipv4 { .. }, _) => "IpExtInCsumErrors",
            (LayerKind::Udp { .. }, false) => "UdpInCsumErrors",
            (LayerKind::Udp { .. }, true) => "Udp6InCsumErrors",
            (LayerKind::Tcp { .. }, _) => "TcpInCsumErrors",
            (LayerKind::Icmp { .. }, _) => "IcmpInCsumErrors",
            (LayerKind::Icmpv6 { .. }, _) => "Icmp6InCsumErrors",
            _ => "InCsumErrors",
        };
        return Some(Drop { layer_index: i, layer: l.proto(), depth: l.depth, counter });
    }
    None
}

/// The final destination of an IPv4 loose or strict source route still in progress
/// (options 0x83 / 0x89, RFC 791 §3.1): the route's last address, which the TCP and UDP
/// pseudo-header use (RFC 1122 §4.1.3.6, §4.2.3.2). A completed route (pointer past
/// the data) has already put the final destination in the header.
fn source_route_final_destination(options: &[u8]) -> Option<[u8; 4]> {
    let mut i = 0;
    while let Some(&kind) = options.get(i) {
        match kind {
            0 => return None, // end of option list
            1 => i += 1,      // no-operation
            _ => {
                let len = usize::from(*options.get(i + 1)?);
                if len < 2 {
                    return None;
                }
                let opt = options.get(i..i + len)?;
                if (kind == 0x83 || kind == 0x89) && len >= 7 {
                    let pointer = usize::from(opt[2]);
                    if pointer <= len {
                        let last = 3 + (len - 3) / 4 * 4 - 4;
                        return opt.get(last..last + 4)?.try_into().ok();
                    }
                }
                i += len;
            }
        }
    }
    None
}

/// The Home Address option (type 0xC9, RFC 6275 §6.3) of a destination options header.
fn home_address(ext: &[u8]) -> Option<[u8; 16]> {
    let mut i = 2;
    while i < ext.len() {
        let t = ext[i];
        if t == 0 {
            i += 1; // Pad1
            continue;
        }
        let len = usize::from(*ext.get(i + 1)?);
        if t == 0xc9 && len == 16 {
            return ext.get(i + 2..i + 18)?.try_into().ok();
        }
        i += 2 + len;
    }
    None
}

/// The final destination named by a routing header with segments left (RFC 8200
/// §8.1): type 0 (the last address), type 2 (the home address, RFC 6275), type 4
/// (segment routing, RFC 8754: segment list entry 0).
fn routing_final_destination(ext: &[u8]) -> Option<[u8; 16]> {
    let (routing_type, segments_left) = (*ext.get(2)?, *ext.get(3)?);
    if segments_left == 0 {
        return None;
    }
    let at = match routing_type {
        0 => {
            let n = (ext.len() - 8) / 16;
            8 + 16 * n.checked_sub(1)?
        }
        2 | 4 => 8,
        _ => return None,
    };
    ext.get(at..at + 16)?.try_into().ok()
}

/// MSS, window scale, SACK-permitted, SACK blocks and timestamps; a malformed option
/// ends the walk (the header itself was complete).
fn tcp_options(bytes: &[u8]) -> TcpOptions {
    use etherparse::TcpOptionElement as E;
    let mut o = TcpOptions::default();
    for element in etherparse::TcpOptionsIterator::from_slice(bytes) {
        match element {
            Ok(E::MaximumSegmentSize(v)) => o.mss = Some(v),
            Ok(E::WindowScale(v)) => o.window_scale = Some(v),
            Ok(E::SelectiveAcknowledgementPermitted) => o.sack_permitted = true,
            Ok(E::SelectiveAcknowledgement(first, rest)) => {
                o.sack.push(first);
                for b in rest.into_iter().flatten() {
                    o.sack.push(b);
                }
            }
            Ok(E::Timestamp(val, ecr)) => o.timestamps = Some((val, ecr)),
            Ok(E::Noop) => {}
            Err(_) => break,
        }
    }
    o
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Up to 8 bytes as one big-endian number (the 6-byte E-Tag, the 8-byte MACsec SCI).
fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0, |n, &x| (n << 8) | u64::from(x))
}

fn off32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
