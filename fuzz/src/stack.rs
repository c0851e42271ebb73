//! A stack of protocol headers described by a fuzz input and encoded into one frame,
//! outermost header first, with lengths and checksums computed (RFC 791, 8200, 768,
//! 9293, 792, 4443, 7348 VXLAN, 8926 Geneve, 2784/2890 GRE, 2637 enhanced GRE, 3032
//! MPLS) unless a header's fault byte asks for one of them to be wrong.
//!
//! # Script
//!
//! ```text
//! frame flags  u8   bits 0-1: link type when the outermost header is IP (0 RAW,
//!                   1 NULL, 2 LINUX_SLL, 3 LINUX_SLL2); bit 2: cut the frame to the
//!                   u16 that follows
//! then per header, at most MAX_HEADERS, until the input ends or a payload:
//!   kind  u8 % 14   (see `Kind`, in order: eth, vlan, qinq, mpls, ipv4, ipv6, udp,
//!                   vxlan, geneve, gre, tcp, icmp, icmpv6, payload)
//!   fault u8        < 16: a fault (see `Fault`), else none
//!   the kind's parameters, as read in `Header::parse` (a payload: u8 % 4, what the
//!   outer header calls it — opaque, Ethernet, IPv4, IPv6 —, a u16 length, the bytes)
//! ```
//!
//! Missing headers are added in front so that the stack starts at a link layer
//! (Ethernet before a VLAN tag or MPLS label, IPv4 or IPv6 before a transport header,
//! IPv4 and UDP before VXLAN and Geneve). A stack is *clean* when no header has a
//! fault, the frame is not cut, and every header is one its outer header names (the
//! encapsulation the decoder follows): then no checksum may be judged bad.

use netcap_core::capture::LinkType;
use netcap_core::decode::{DecodeOptions, UdpTunnel};

use crate::script::{checksum, ones_sum, Script};

/// Most headers in one stack (deep stacks hit the decoder's `max_layers` of 64).
pub const MAX_HEADERS: usize = 80;
/// Largest payload taken from the input.
const MAX_PAYLOAD: usize = 4096;

const ETH_EXPERIMENTAL: u16 = 0x88b5;
const PROTO_EXPERIMENTAL: u8 = 253;

/// What a fault byte breaks (its value modulo 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The header's checksum (or, without one, its length field) is off.
    Checksum,
    LengthPlus,
    LengthMinus,
    LengthZero,
    /// The header's own length field (IHL, data offset, option length).
    HeaderLength,
    /// The field naming the next header.
    NextType,
    /// Version or reserved bits.
    Version,
}

impl Fault {
    fn from_byte(b: u8) -> Fault {
        match b % 7 {
            0 => Fault::Checksum,
            1 => Fault::LengthPlus,
            2 => Fault::LengthMinus,
            3 => Fault::LengthZero,
            4 => Fault::HeaderLength,
            5 => Fault::NextType,
            _ => Fault::Version,
        }
    }
}

/// One IPv6 extension header.
#[derive(Debug, Clone)]
pub enum Ext {
    HopByHop { units: u8 },
    DestOptions { units: u8, home: Option<[u8; 16]> },
    Routing { routing_type: u8, segments_left: u8, addrs: Vec<[u8; 16]> },
    Fragment { more: bool, offset: u16, id: u32 },
    /// Authentication header with an ICV of `4 + 8 * icv_units` bytes.
    Auth { icv_units: u8 },
}

#[derive(Debug, Clone)]
pub enum Kind {
    Eth { mac: u8 },
    Vlan { tci: u16 },
    QinQ { tci: u16 },
    Mpls { label: u32, ttl: u8 },
    Ipv4 { ttl: u8, id: u16, df: bool, mf: bool, frag: u16, options: Vec<u8>, route_dst: Option<[u8; 4]>, ah: bool },
    Ipv6 { hop_limit: u8, flow: u32, exts: Vec<Ext> },
    Udp { src: u16, dst: u16, zero_checksum: bool },
    Vxlan { vni: u32, flags: u8 },
    Geneve { vni: u32, options: Vec<(u16, u8, Vec<u8>)> },
    Gre { c: bool, k: bool, s: bool, v1: bool, ack: bool, key: u32, seq: u32 },
    Tcp { src: u16, dst: u16, seq: u32, ack: u32, flags: u16, window: u16, options: Vec<u8> },
    Icmp { icmp_type: u8, code: u8, rest: u32 },
    Icmpv6 { icmp_type: u8, code: u8, rest: u32 },
    /// Bytes as they are; the outer header names them as `PayloadAs` says.
    Payload(Vec<u8>, PayloadAs),
}

/// What the outer header calls a payload: opaque (an experimental EtherType or IP
/// protocol, which the decoder does not follow), or a frame or packet taken whole from
/// elsewhere (the seeds put captured frames there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadAs {
    Opaque,
    Ethernet,
    Ipv4,
    Ipv6,
}

#[derive(Debug, Clone)]
pub struct Header {
    pub kind: Kind,
    pub fault: Option<Fault>,
}

/// A described frame: its headers, outermost first, and how it is framed.
#[derive(Debug, Clone)]
pub struct Stack {
    pub headers: Vec<Header>,
    /// 0 RAW, 1 NULL, 2 LINUX_SLL, 3 LINUX_SLL2 when the outermost header is IP.
    pub ip_link: u8,
    pub cut: Option<usize>,
}

/// The encoded frame.
#[derive(Debug, Clone)]
pub struct Built {
    pub link: LinkType,
    pub frame: Vec<u8>,
    /// No fault, no cut, every header the one its outer header names.
    pub clean: bool,
}

fn addr4(seed: u8) -> [u8; 4] {
    [192, 0, 2, seed]
}

fn addr6(seed: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = seed;
    a
}

impl Header {
    fn parse(s: &mut Script<'_>) -> Header {
        let kind = s.u8() % 14;
        let fault = s.fault().map(Fault::from_byte);
        let kind = match kind {
            0 => Kind::Eth { mac: s.u8() },
            1 => Kind::Vlan { tci: s.u16() },
            2 => Kind::QinQ { tci: s.u16() },
            3 => {
                let v = s.u32();
                Kind::Mpls { label: v >> 12, ttl: v as u8 }
            }
            4 => ipv4(s),
            5 => ipv6(s),
            6 => {
                let (src, dst) = (s.u16(), s.u16());
                Kind::Udp { src, dst, zero_checksum: s.u8() & 1 == 1 }
            }
            7 => Kind::Vxlan { vni: s.u32() & 0x00ff_ffff, flags: s.u8() },
            8 => {
                let vni = s.u32() & 0x00ff_ffff;
                let n = s.u8() % 8;
                let options = (0..n)
                    .map(|_| {
                        let (class, t, units) = (s.u16(), s.u8(), s.u8() % 4);
                        (class, t, s.bytes(usize::from(units) * 4).to_vec())
                    })
                    .collect();
                Kind::Geneve { vni, options }
            }
            9 => {
                let f = s.u8();
                Kind::Gre {
                    c: f & 1 != 0,
                    k: f & 2 != 0,
                    s: f & 4 != 0,
                    v1: f & 8 != 0,
                    ack: f & 16 != 0,
                    key: s.u32(),
                    seq: s.u32(),
                }
            }
            10 => tcp(s),
            11 | 12 => {
                let (icmp_type, code, rest) = (s.u8(), s.u8(), s.u32());
                if kind == 11 {
                    Kind::Icmp { icmp_type, code, rest }
                } else {
                    Kind::Icmpv6 { icmp_type, code, rest }
                }
            }
            _ => {
                let named = [PayloadAs::Opaque, PayloadAs::Ethernet, PayloadAs::Ipv4, PayloadAs::Ipv6];
                let named = named[usize::from(s.u8() % 4)];
                let n = usize::from(s.u16()) % (MAX_PAYLOAD + 1);
                Kind::Payload(s.bytes(n).to_vec(), named)
            }
        };
        Header { kind, fault }
    }

    fn plain(kind: Kind) -> Header {
        Header { kind, fault: None }
    }
}

/// IPv4: ttl, id, flags (bit 0 DF, bit 1 MF, bit 2 a fragment offset follows as u16,
/// bit 3 an authentication header), then up to 5 options from a menu.
fn ipv4(s: &mut Script<'_>) -> Kind {
    let (ttl, id, flags) = (s.u8(), s.u16(), s.u8());
    let frag = if flags & 4 != 0 { s.u16() & 0x1fff } else { 0 };
    let mut options = Vec::new();
    let mut route_dst = None;
    for _ in 0..s.u8() % 6 {
        let o = match s.u8() % 5 {
            0 => vec![1],
            // Record route with 1..=4 empty slots.
            1 => {
                let k = 1 + s.u8() % 4;
                let mut o = vec![7, 3 + 4 * k, 4];
                o.resize(usize::from(3 + 4 * k), 0);
                o
            }
            // Timestamp, 2 slots, flag 0.
            2 => vec![68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            // Router alert.
            3 => vec![148, 4, 0, 0],
            // Loose or strict source route in progress: pointer at the first address.
            _ => {
                let k = 1 + s.u8() % 4;
                let kind = if s.u8() & 1 == 0 { 0x83 } else { 0x89 };
                let mut o = vec![kind, 3 + 4 * k, 4];
                for i in 0..k {
                    o.extend_from_slice(&addr4(100 + i));
                }
                o
            }
        };
        if options.len() + o.len() > 40 {
            break;
        }
        // The first source route in progress names the pseudo-header's destination.
        if matches!(o[0], 0x83 | 0x89) && route_dst.is_none() {
            route_dst = Some(addr4(99 + (o[1] - 3) / 4));
        }
        options.extend(o);
    }
    while !options.len().is_multiple_of(4) {
        options.push(0);
    }
    Kind::Ipv4 { ttl, id, df: flags & 1 != 0, mf: flags & 2 != 0, frag, options, route_dst, ah: flags & 8 != 0 }
}

/// IPv6: hop limit, flow label, and up to 63 extension headers (many of them is a shape
/// of its own: the decoder keeps a bounded list and stops past it).
fn ipv6(s: &mut Script<'_>) -> Kind {
    let (hop_limit, flow) = (s.u8(), s.u32() & 0x000f_ffff);
    let n = s.u8() % 64;
    let exts = (0..n)
        .map(|_| match s.u8() % 6 {
            0 => Ext::HopByHop { units: s.u8() % 4 },
            1 => {
                let routing_type = [0, 2, 4, 3, 253][usize::from(s.u8() % 5)];
                let segments_left = s.u8() % 3;
                let addrs = (0..s.u8() % 4).map(|i| addr6(0x40 + i)).collect();
                Ext::Routing { routing_type, segments_left, addrs }
            }
            2 => {
                let f = s.u8();
                Ext::Fragment { more: f & 1 != 0, offset: if f & 2 != 0 { 0x0100 } else { 0 }, id: s.u32() }
            }
            3 => {
                let f = s.u8();
                Ext::DestOptions { units: f % 4, home: (f & 0x80 != 0).then(|| addr6(0x99)) }
            }
            4 => Ext::Auth { icv_units: s.u8() % 3 },
            _ => Ext::DestOptions { units: s.u8() % 4, home: None },
        })
        .collect();
    Kind::Ipv6 { hop_limit, flow, exts }
}

/// TCP: ports, numbers, flags (9 bits), window, and options from a menu (40 bytes at
/// most, padded with end-of-list).
fn tcp(s: &mut Script<'_>) -> Kind {
    let (src, dst, seq, ack) = (s.u16(), s.u16(), s.u32(), s.u32());
    let flags = s.u16() & 0x01ff;
    let window = s.u16();
    let mut options = Vec::new();
    for _ in 0..s.u8() % 8 {
        let o = match s.u8() % 7 {
            0 => vec![1],
            1 => {
                let v = s.u16();
                vec![2, 4, (v >> 8) as u8, v as u8]
            }
            2 => vec![3, 3, s.u8() % 16],
            3 => vec![4, 2],
            4 => {
                let mut o = vec![8, 10];
                o.extend_from_slice(&s.u32().to_be_bytes());
                o.extend_from_slice(&s.u32().to_be_bytes());
                o
            }
            5 => {
                let k = 1 + s.u8() % 4;
                let mut o = vec![5, 2 + 8 * k];
                for _ in 0..k {
                    let left = s.u32();
                    o.extend_from_slice(&left.to_be_bytes());
                    o.extend_from_slice(&left.wrapping_add(u32::from(s.u16())).to_be_bytes());
                }
                o
            }
            _ => {
                // An unknown option with a length from the input.
                let len = 2 + s.u8() % 8;
                let mut o = vec![30 + s.u8() % 200, len];
                o.resize(usize::from(len), 0xab);
                o
            }
        };
        if options.len() + o.len() > 40 {
            break;
        }
        options.extend(o);
    }
    while !options.len().is_multiple_of(4) {
        options.push(0);
    }
    Kind::Tcp { src, dst, seq, ack, flags, window, options }
}

fn is_ip(k: &Kind) -> bool {
    matches!(k, Kind::Ipv4 { .. } | Kind::Ipv6 { .. } | Kind::Payload(_, PayloadAs::Ipv4 | PayloadAs::Ipv6))
}

/// The UDP tunnel a header inside UDP must be reached by.
fn udp_tunnel_for(inner: Option<&Kind>) -> Option<UdpTunnel> {
    match inner {
        Some(Kind::Vxlan { .. }) => Some(UdpTunnel::Vxlan),
        Some(Kind::Geneve { .. }) => Some(UdpTunnel::Geneve),
        Some(Kind::Gre { .. }) => Some(UdpTunnel::GreUdp),
        Some(Kind::Mpls { .. }) => Some(UdpTunnel::MplsUdp),
        _ => None,
    }
}

/// The destination port a tunnel is decoded on by default (IANA's).
fn tunnel_port(t: UdpTunnel) -> Option<u16> {
    match t {
        UdpTunnel::Vxlan => Some(4789),
        UdpTunnel::Geneve => Some(6081),
        t => t.default_port(),
    }
}

impl Stack {
    pub fn parse(s: &mut Script<'_>) -> Stack {
        let flags = s.u8();
        let cut = (flags & 4 != 0).then(|| usize::from(s.u16()));
        let mut headers = Vec::new();
        while !s.is_empty() && headers.len() < MAX_HEADERS {
            let h = Header::parse(s);
            let last = matches!(h.kind, Kind::Payload(..));
            headers.push(h);
            if last {
                break;
            }
        }
        // Start at a link layer.
        let front: Vec<Kind> = match headers.first().map(|h| &h.kind) {
            None | Some(Kind::Eth { .. } | Kind::Ipv4 { .. } | Kind::Ipv6 { .. }) => vec![],
            Some(Kind::Vlan { .. } | Kind::QinQ { .. } | Kind::Mpls { .. } | Kind::Payload(..)) => {
                vec![Kind::Eth { mac: 1 }]
            }
            Some(Kind::Icmpv6 { .. }) => vec![Kind::Ipv6 { hop_limit: 64, flow: 0, exts: vec![] }],
            Some(Kind::Vxlan { .. } | Kind::Geneve { .. }) => {
                vec![plain_ipv4(), Kind::Udp { src: 49152, dst: 0, zero_checksum: false }]
            }
            Some(_) => vec![plain_ipv4()],
        };
        let mut all: Vec<Header> = front.into_iter().map(Header::plain).collect();
        all.extend(headers);
        Stack { headers: all, ip_link: flags & 3, cut }
    }

    /// Encodes the stack into a frame.
    pub fn build(&self) -> Built {
        let opts = DecodeOptions::default();
        let h = &self.headers;
        let mut clean = self.cut.is_none();
        let mut buf: Vec<u8> = Vec::new();
        for i in (0..h.len()).rev() {
            let inner = h.get(i + 1);
            let inner_kind = inner.map(|x| &x.kind);
            clean &= h[i].fault.is_none() && follows(&h[i].kind, inner_kind, &opts);
            buf = wrap(&h[i], inner, buf);
        }
        let link = match h.first().map(|x| &x.kind) {
            Some(Kind::Ipv4 { .. } | Kind::Ipv6 { .. }) => {
                let v6 = matches!(h[0].kind, Kind::Ipv6 { .. });
                match self.ip_link {
                    0 => LinkType::RAW,
                    1 => {
                        // BSD loopback: address family in host (here little-endian) order.
                        let family: u32 = if v6 { 24 } else { 2 };
                        buf.splice(0..0, family.to_le_bytes());
                        LinkType::NULL
                    }
                    2 => {
                        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
                        sll.extend_from_slice(&if v6 { 0x86ddu16 } else { 0x0800 }.to_be_bytes());
                        buf.splice(0..0, sll);
                        LinkType::LINUX_SLL
                    }
                    _ => {
                        let mut sll2 = Vec::with_capacity(20);
                        sll2.extend_from_slice(&if v6 { 0x86ddu16 } else { 0x0800 }.to_be_bytes());
                        sll2.extend_from_slice(&[0, 0, 0, 0, 0, 7, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                        buf.splice(0..0, sll2);
                        LinkType::LINUX_SLL2
                    }
                }
            }
            _ => LinkType::ETHERNET,
        };
        if let Some(n) = self.cut {
            buf.truncate(n);
        }
        Built { link, frame: buf, clean }
    }
}

fn plain_ipv4() -> Kind {
    Kind::Ipv4 { ttl: 64, id: 1, df: true, mf: false, frag: 0, options: vec![], route_dst: None, ah: false }
}

/// Whether the decoder, reading `outer`, goes on to `inner` as the header it is (so a
/// clean stack is decoded as built, up to the decoder's caps).
fn follows(outer: &Kind, inner: Option<&Kind>, opts: &DecodeOptions) -> bool {
    use Kind::*;
    let Some(inner) = inner else { return true };
    match outer {
        Eth { .. } | Vlan { .. } | QinQ { .. } => {
            matches!(inner, Eth { .. } | Vlan { .. } | QinQ { .. } | Mpls { .. } | Ipv4 { .. } | Ipv6 { .. } | Payload(_, PayloadAs::Opaque))
        }
        Mpls { .. } => matches!(inner, Mpls { .. } | Ipv4 { .. } | Ipv6 { .. }),
        Ipv4 { .. } => {
            matches!(inner, Ipv4 { .. } | Ipv6 { .. } | Udp { .. } | Tcp { .. } | Icmp { .. } | Gre { v1: false, .. } | Mpls { .. } | Eth { .. } | Payload(_, PayloadAs::Opaque))
        }
        Ipv6 { .. } => {
            matches!(inner, Ipv4 { .. } | Ipv6 { .. } | Udp { .. } | Tcp { .. } | Icmpv6 { .. } | Gre { v1: false, .. } | Mpls { .. } | Eth { .. } | Payload(_, PayloadAs::Opaque))
        }
        Udp { src, dst, .. } => {
            let want = udp_tunnel_for(Some(inner));
            let port = want.and_then(tunnel_port).unwrap_or(*dst);
            (want.is_some() || matches!(inner, Payload(_, PayloadAs::Opaque))) && opts.udp_tunnel(*src, port) == want
        }
        Tcp { .. } => matches!(inner, Payload(_, PayloadAs::Opaque)),
        Vxlan { .. } => matches!(inner, Eth { .. }),
        Geneve { .. } | Gre { v1: false, .. } => {
            matches!(inner, Eth { .. } | Ipv4 { .. } | Ipv6 { .. } | Mpls { .. })
        }
        Gre { v1: true, .. } => false,
        // A payload named IPv4 or IPv6 is a packet taken whole, checksums unknown.
        Icmp { .. } | Icmpv6 { .. } => matches!(inner, Ipv4 { .. } | Ipv6 { .. }),
        Payload(..) => false,
    }
}

/// The EtherType naming `inner`.
fn ethertype(inner: Option<&Kind>) -> u16 {
    match inner {
        Some(Kind::Eth { .. } | Kind::Payload(_, PayloadAs::Ethernet)) => 0x6558,
        Some(Kind::Vlan { .. }) => 0x8100,
        Some(Kind::QinQ { .. }) => 0x88a8,
        Some(Kind::Mpls { .. }) => 0x8847,
        Some(Kind::Ipv4 { .. } | Kind::Payload(_, PayloadAs::Ipv4)) => 0x0800,
        Some(Kind::Ipv6 { .. } | Kind::Payload(_, PayloadAs::Ipv6)) => 0x86dd,
        _ => ETH_EXPERIMENTAL,
    }
}

/// The IP protocol number naming `inner`.
fn ip_proto(inner: Option<&Kind>, v6: bool) -> u8 {
    match inner {
        Some(Kind::Ipv4 { .. } | Kind::Payload(_, PayloadAs::Ipv4)) => 4,
        Some(Kind::Ipv6 { .. } | Kind::Payload(_, PayloadAs::Ipv6)) => 41,
        Some(Kind::Udp { .. }) => 17,
        Some(Kind::Tcp { .. }) => 6,
        Some(Kind::Icmp { .. }) => 1,
        Some(Kind::Icmpv6 { .. }) => 58,
        Some(Kind::Gre { .. }) => 47,
        Some(Kind::Mpls { .. }) => 137,
        Some(Kind::Eth { .. } | Kind::Payload(_, PayloadAs::Ethernet)) => 143,
        None if v6 => 59,
        _ => PROTO_EXPERIMENTAL,
    }
}

/// A length field with a length fault applied.
fn length(value: usize, fault: Option<Fault>) -> u16 {
    let v = value as u16;
    match fault {
        Some(Fault::LengthPlus) => v.wrapping_add(1),
        Some(Fault::LengthMinus) => v.wrapping_sub(1),
        Some(Fault::LengthZero) => 0,
        _ => v,
    }
}

/// `outer` put in front of `payload` (the encoded inner headers).
fn wrap(outer: &Header, inner: Option<&Header>, payload: Vec<u8>) -> Vec<u8> {
    let f = outer.fault;
    let inner_kind = inner.map(|x| &x.kind);
    let next_type = |t: u16| if f == Some(Fault::NextType) { t ^ 0x5555 } else { t };
    let mut out = Vec::with_capacity(payload.len() + 64);
    match &outer.kind {
        Kind::Eth { mac } => {
            out.extend_from_slice(&[0x02, 0, 0, 0, 0, *mac, 0x02, 0, 0, 0, 0, mac.wrapping_add(1)]);
            out.extend_from_slice(&next_type(ethertype(inner_kind)).to_be_bytes());
        }
        Kind::Vlan { tci } | Kind::QinQ { tci } => {
            out.extend_from_slice(&tci.to_be_bytes());
            out.extend_from_slice(&next_type(ethertype(inner_kind)).to_be_bytes());
        }
        Kind::Mpls { label, ttl } => {
            let bottom = !matches!(inner_kind, Some(Kind::Mpls { .. })) ^ (f == Some(Fault::NextType));
            let word = (label & 0x000f_ffff) << 12 | u32::from(bottom) << 8 | u32::from(*ttl);
            out.extend_from_slice(&word.to_be_bytes());
        }
        Kind::Ipv4 { ttl, id, df, mf, frag, options, route_dst, ah } => {
            return ipv4_wrap(f, inner, payload, (*ttl, *id, *df, *mf, *frag), options, *route_dst, *ah);
        }
        Kind::Ipv6 { hop_limit, flow, exts } => return ipv6_wrap(f, inner, payload, *hop_limit, *flow, exts),
        Kind::Udp { src, dst, .. } => {
            let port = udp_tunnel_for(inner_kind).and_then(tunnel_port).unwrap_or(*dst);
            out.extend_from_slice(&src.to_be_bytes());
            out.extend_from_slice(&next_type(port).to_be_bytes());
            out.extend_from_slice(&length(8 + payload.len(), f).to_be_bytes());
            out.extend_from_slice(&[0, 0]); // checksum: by the IP header
        }
        Kind::Vxlan { vni, flags } => {
            let flags = if f == Some(Fault::Version) { *flags } else { 0x08 };
            out.extend_from_slice(&[flags, 0, 0, 0]);
            out.extend_from_slice(&(vni << 8).to_be_bytes());
        }
        Kind::Geneve { vni, options } => {
            let mut opts = Vec::new();
            for (class, t, data) in options {
                opts.extend_from_slice(&class.to_be_bytes());
                opts.push(*t);
                opts.push((data.len() / 4) as u8);
                opts.extend_from_slice(data);
            }
            let units = (opts.len() / 4).min(63) as u8;
            let units = if f == Some(Fault::HeaderLength) { units.wrapping_add(1) & 0x3f } else { units };
            let version = if f == Some(Fault::Version) { 0x40 } else { 0 };
            out.push(version | units);
            out.push(0);
            out.extend_from_slice(&next_type(ethertype(inner_kind)).to_be_bytes());
            out.extend_from_slice(&(vni << 8).to_be_bytes());
            opts.truncate(usize::from(units) * 4);
            out.extend_from_slice(&opts);
        }
        Kind::Gre { c, k, s, v1, ack, key, seq } => {
            if *v1 {
                // Enhanced GRE (RFC 2637): K always, C and R clear, PPP inside.
                let mut flags: u16 = 0x2001 | if *s { 0x1000 } else { 0 } | if *ack { 0x0080 } else { 0 };
                if f == Some(Fault::Version) {
                    flags |= 0x8000;
                }
                out.extend_from_slice(&flags.to_be_bytes());
                out.extend_from_slice(&next_type(0x880b).to_be_bytes());
                out.extend_from_slice(&((payload.len() as u32) << 16 | (key & 0xffff)).to_be_bytes());
                if *s {
                    out.extend_from_slice(&seq.to_be_bytes());
                }
                if *ack {
                    out.extend_from_slice(&seq.wrapping_sub(1).to_be_bytes());
                }
            } else {
                let mut flags: u16 = if *c { 0x8000 } else { 0 } | if *k { 0x2000 } else { 0 } | if *s { 0x1000 } else { 0 };
                if f == Some(Fault::Version) {
                    flags |= 0x0002;
                }
                out.extend_from_slice(&flags.to_be_bytes());
                out.extend_from_slice(&next_type(ethertype(inner_kind)).to_be_bytes());
                if *c {
                    out.extend_from_slice(&[0, 0, 0, 0]);
                }
                if *k {
                    out.extend_from_slice(&key.to_be_bytes());
                }
                if *s {
                    out.extend_from_slice(&seq.to_be_bytes());
                }
                if *c {
                    out.extend_from_slice(&payload);
                    let mut sum = checksum(ones_sum(0, &out));
                    if f == Some(Fault::Checksum) {
                        sum ^= 0x0101;
                    }
                    out[4..6].copy_from_slice(&sum.to_be_bytes());
                    return out;
                }
            }
        }
        Kind::Tcp { src, dst, seq, ack, flags, window, options } => {
            out.extend_from_slice(&src.to_be_bytes());
            out.extend_from_slice(&dst.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&ack.to_be_bytes());
            let mut words = (20 + options.len()) / 4;
            if f == Some(Fault::HeaderLength) {
                words = if words > 5 { words - 1 } else { 4 };
            }
            out.extend_from_slice(&((words as u16) << 12 | flags).to_be_bytes());
            out.extend_from_slice(&window.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]); // checksum (by the IP header), urgent
            out.extend_from_slice(options);
        }
        Kind::Icmp { icmp_type, code, rest } | Kind::Icmpv6 { icmp_type, code, rest } => {
            let v6 = matches!(outer.kind, Kind::Icmpv6 { .. });
            // An error when an IP packet follows (its quote), else an echo.
            let t = match (v6, inner_kind.is_some_and(is_ip)) {
                (false, true) => [3, 4, 5, 11, 12][usize::from(icmp_type % 5)],
                (false, false) => [0, 8, 13, 14][usize::from(icmp_type % 4)],
                (true, true) => 1 + icmp_type % 4,
                (true, false) => [128, 129, 133, 135][usize::from(icmp_type % 4)],
            };
            out.extend_from_slice(&[t, *code, 0, 0]);
            out.extend_from_slice(&rest.to_be_bytes());
            if !v6 {
                out.extend_from_slice(&payload);
                let mut sum = checksum(ones_sum(0, &out));
                if f == Some(Fault::Checksum) {
                    sum ^= 0x0101;
                }
                out[2..4].copy_from_slice(&sum.to_be_bytes());
                return out;
            }
        }
        Kind::Payload(bytes, _) => {
            out.extend_from_slice(bytes);
        }
    }
    out.extend_from_slice(&payload);
    out
}

/// Fills in the checksum of the transport header at the start of `upper` (UDP, TCP,
/// ICMPv6) from the pseudo-header sum `pseudo`, and applies its checksum fault.
/// A UDP zero checksum ("none", RFC 768) is only written over IPv4: over IPv6 it is
/// illegal outside tunnels.
fn transport_checksum(inner: Option<&Header>, pseudo: u32, upper: &mut [u8], v4: bool) {
    let Some(h) = inner else { return };
    let at = match h.kind {
        Kind::Udp { zero_checksum: true, .. } if v4 => return,
        Kind::Udp { .. } => 6,
        Kind::Tcp { .. } => 16,
        Kind::Icmpv6 { .. } => 2,
        _ => return,
    };
    if upper.len() < at + 2 {
        return;
    }
    upper[at..at + 2].copy_from_slice(&[0, 0]);
    let mut sum = checksum(ones_sum(pseudo, upper));
    if sum == 0 && at == 6 {
        sum = 0xffff; // UDP sends a computed zero as all ones (RFC 768)
    }
    if h.fault == Some(Fault::Checksum) {
        sum ^= 0x0101;
    }
    upper[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

fn ipv4_wrap(
    f: Option<Fault>,
    inner: Option<&Header>,
    payload: Vec<u8>,
    (ttl, id, df, mf, frag): (u8, u16, bool, bool, u16),
    options: &[u8],
    route_dst: Option<[u8; 4]>,
    ah: bool,
) -> Vec<u8> {
    let proto = ip_proto(inner.map(|x| &x.kind), false);
    let proto = if f == Some(Fault::NextType) { proto ^ 0x55 } else { proto };
    let (src, dst) = (addr4(1), addr4(2));
    let mut upper = payload;
    if matches!(inner.map(|x| &x.kind), Some(Kind::Udp { .. } | Kind::Tcp { .. })) {
        let pdst = route_dst.unwrap_or(dst);
        let mut pseudo = ones_sum(0, &src);
        pseudo = ones_sum(pseudo, &pdst);
        pseudo = ones_sum(pseudo, &[0, proto, (upper.len() >> 8) as u8, upper.len() as u8]);
        transport_checksum(inner, pseudo, &mut upper, true);
    }
    let mut body = Vec::with_capacity(upper.len() + 24);
    let mut first_proto = proto;
    if ah {
        // IPv4 authentication header (RFC 4302): 12 bytes + a 4-byte ICV = 4 words,
        // length field 4 - 2.
        body.extend_from_slice(&[proto, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        first_proto = 51;
    }
    body.extend_from_slice(&upper);
    let ihl = 20 + options.len();
    let ihl_words = if f == Some(Fault::HeaderLength) { (ihl / 4).saturating_sub(1) } else { ihl / 4 } as u8;
    let version = if f == Some(Fault::Version) { 0x50 } else { 0x40 };
    let mut h = Vec::with_capacity(ihl + body.len());
    h.push(version | ihl_words);
    h.push(0);
    h.extend_from_slice(&length(ihl + body.len(), f).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let flags = if df { 0x4000 } else { 0 } | if mf { 0x2000 } else { 0 } | frag;
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[ttl, first_proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(options);
    let mut sum = checksum(ones_sum(0, &h));
    if f == Some(Fault::Checksum) {
        sum ^= 0x0101;
    }
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(&body);
    h
}

fn ipv6_wrap(f: Option<Fault>, inner: Option<&Header>, payload: Vec<u8>, hop_limit: u8, flow: u32, exts: &[Ext]) -> Vec<u8> {
    let proto = ip_proto(inner.map(|x| &x.kind), true);
    let proto = if f == Some(Fault::NextType) { proto ^ 0x55 } else { proto };
    let (src, dst) = (addr6(1), addr6(2));
    let (mut psrc, mut pdst) = (src, dst);
    // The extension headers, each naming the next; the last names the upper layer.
    let mut chain: Vec<(u8, Vec<u8>)> = Vec::new();
    for e in exts {
        let (number, bytes) = match e {
            Ext::HopByHop { units } | Ext::DestOptions { units, home: None } => {
                let number = if matches!(e, Ext::HopByHop { .. }) { 0 } else { 60 };
                let len = (usize::from(*units) + 1) * 8;
                let mut b = vec![0, *units, 1, (len - 4) as u8];
                b.resize(len, 0);
                (number, b)
            }
            Ext::DestOptions { units, home: Some(home) } => {
                // Home address option (RFC 6275 §6.3), then PadN to a multiple of 8.
                let units = (*units).max(2);
                let len = (usize::from(units) + 1) * 8;
                let mut b = vec![0, units, 0xc9, 16];
                b.extend_from_slice(home);
                b.extend_from_slice(&[1, (len - 22) as u8]);
                b.resize(len, 0);
                psrc = *home;
                (60, b)
            }
            Ext::Routing { routing_type, segments_left, addrs } => {
                let mut b = vec![0, (addrs.len() * 2) as u8, *routing_type, *segments_left, 0, 0, 0, 0];
                for a in addrs {
                    b.extend_from_slice(a);
                }
                // RFC 8200 §8.1: the final destination of a route still in progress.
                if *segments_left > 0 {
                    let pick = match routing_type {
                        0 => addrs.last(),
                        2 | 4 => addrs.first(),
                        _ => None,
                    };
                    if let Some(a) = pick {
                        pdst = *a;
                    }
                }
                (43, b)
            }
            Ext::Fragment { more, offset, id } => {
                let mut b = vec![0, 0];
                b.extend_from_slice(&(offset | u16::from(*more)).to_be_bytes());
                b.extend_from_slice(&id.to_be_bytes());
                (44, b)
            }
            Ext::Auth { icv_units } => {
                let len = 16 + 8 * usize::from(*icv_units);
                let mut b = vec![0, (len / 4 - 2) as u8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
                b.resize(len, 0x5a);
                (51, b)
            }
        };
        chain.push((number, bytes));
    }
    let mut upper = payload;
    if matches!(inner.map(|x| &x.kind), Some(Kind::Udp { .. } | Kind::Tcp { .. } | Kind::Icmpv6 { .. })) {
        let mut pseudo = ones_sum(0, &psrc);
        pseudo = ones_sum(pseudo, &pdst);
        pseudo = ones_sum(pseudo, &(upper.len() as u32).to_be_bytes());
        pseudo = ones_sum(pseudo, &[0, 0, 0, proto]);
        transport_checksum(inner, pseudo, &mut upper, false);
    }
    let mut body = Vec::new();
    let first = chain.first().map_or(proto, |c| c.0);
    for i in 0..chain.len() {
        let next = chain.get(i + 1).map_or(proto, |c| c.0);
        let mut b = std::mem::take(&mut chain[i].1);
        b[0] = next;
        if f == Some(Fault::HeaderLength) && i + 1 == chain.len() {
            b[1] = b[1].wrapping_add(1);
        }
        body.extend_from_slice(&b);
    }
    body.extend_from_slice(&upper);
    let version = if f == Some(Fault::Version) { 0x4000_0000u32 } else { 0x6000_0000 };
    let mut h = Vec::with_capacity(40 + body.len());
    h.extend_from_slice(&(version | flow).to_be_bytes());
    h.extend_from_slice(&length(body.len(), f).to_be_bytes());
    h.push(first);
    h.push(hop_limit);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&body);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_core::checksum::Status;
    use netcap_core::decode::Decoder;

    fn clean(kinds: Vec<Kind>) -> (Vec<&'static str>, Vec<Status>) {
        let stack = Stack { headers: kinds.into_iter().map(Header::plain).collect(), ip_link: 0, cut: None };
        let built = stack.build();
        assert!(built.clean);
        let p = Decoder::default().decode(built.link, &built.frame);
        assert_eq!(p.stop, None, "{:?}", p.layers);
        let protos = p.layers.iter().map(|l| l.proto()).collect();
        (protos, p.layers.iter().filter_map(|l| l.checksum.map(|v| v.status)).collect())
    }

    #[test]
    fn a_clean_stack_decodes_as_built_with_good_checksums() {
        let route = Kind::Ipv4 {
            ttl: 9,
            id: 7,
            df: false,
            mf: false,
            frag: 0,
            options: vec![0x83, 11, 4, 192, 0, 2, 100, 192, 0, 2, 101, 0],
            route_dst: Some(addr4(101)),
            ah: true,
        };
        let exts = vec![
            Ext::HopByHop { units: 1 },
            Ext::Routing { routing_type: 0, segments_left: 1, addrs: vec![addr6(7), addr6(8)] },
            Ext::DestOptions { units: 2, home: Some(addr6(9)) },
            Ext::Auth { icv_units: 1 },
        ];
        let tcp = Kind::Tcp { src: 1, dst: 2, seq: 3, ack: 4, flags: 0x18, window: 5, options: vec![2, 4, 5, 0xb4] };
        let (protos, sums) = clean(vec![
            Kind::Eth { mac: 1 },
            Kind::Vlan { tci: 5 },
            route,
            Kind::Udp { src: 1000, dst: 0, zero_checksum: false },
            Kind::Vxlan { vni: 5, flags: 0 },
            Kind::Eth { mac: 3 },
            Kind::Ipv6 { hop_limit: 1, flow: 0, exts },
            tcp,
            Kind::Payload(b"data".to_vec(), PayloadAs::Opaque),
        ]);
        assert_eq!(protos, ["eth", "vlan", "ipv4", "udp", "vxlan", "eth", "ipv6", "tcp"]);
        assert!(sums.iter().all(|s| *s == Status::Good), "{sums:?}");
    }

    #[test]
    fn icmp_quotes_and_gre_with_checksum_decode_with_good_checksums() {
        let ip6 = Kind::Ipv6 { hop_limit: 1, flow: 0, exts: vec![] };
        let (protos, sums) = clean(vec![
            plain_ipv4(),
            Kind::Gre { c: true, k: true, s: true, v1: false, ack: false, key: 1, seq: 2 },
            ip6.clone(),
            Kind::Icmpv6 { icmp_type: 0, code: 0, rest: 0 },
            ip6,
            Kind::Udp { src: 1000, dst: 53, zero_checksum: false },
            Kind::Payload(b"dns?".to_vec(), PayloadAs::Opaque),
        ]);
        assert_eq!(protos, ["ipv4", "gre", "ipv6", "icmpv6", "ipv6", "udp"]);
        assert!(sums.iter().all(|s| *s == Status::Good), "{sums:?}");
    }
}
