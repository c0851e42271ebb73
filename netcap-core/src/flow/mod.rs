//! Flow keys: which frames belong to one conversation, at one capture point.
//!
//! A flow is the canonical 5-tuple of the innermost IP packet plus its encapsulation
//! path (outer IP endpoints, VXLAN/Geneve VNIs, GRE keys, VLAN ids, outermost first)
//! plus the capture point. So the same connection seen on two interfaces is two flows,
//! and the same 5-tuple in two VNIs or VLANs is two flows.
//!
//! Two keys, as Retina and the kernel's conntrack do: [`FlowView`] is what one frame
//! says (source → destination), [`FlowKey`] is the canonical, direction-free key (the
//! lower endpoint first, the encapsulation path turned to match), and
//! [`FlowView::key`] also says which way the frame went ([`Direction`]).
//!
//! The table that holds per-flow state with its limits is [`table::FlowTable`].

pub mod table;

use std::net::IpAddr;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::decode::{Layer, LayerKind, Packet};

/// One side of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    /// The address, from the innermost IP header.
    pub ip: IpAddr,
    /// The TCP or UDP port.
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// The 5-tuple of a frame's innermost TCP or UDP header, in the frame's direction
/// ([`Packet::five_tuple`]): no capture point, no encapsulation path, so the same
/// connection seen at two points or in two VNIs has one 5-tuple ([`FlowKey`] tells
/// them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FiveTuple {
    /// IP protocol number of the transport: 6 TCP, 17 UDP.
    pub proto: u8,
    /// Where the frame came from: the innermost IP source address and the transport
    /// source port.
    pub src: Endpoint,
    /// Where the frame goes: the innermost IP destination address and the transport
    /// destination port.
    pub dst: Endpoint,
}

/// A frame's innermost transport header and the IP header right above it
/// ([`innermost_transport`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transport {
    /// Index of the transport header in the layers.
    pub layer: usize,
    /// Index of the IP header right above it (`layer - 1`).
    pub ip: usize,
    /// Its 5-tuple.
    pub tuple: FiveTuple,
    /// The IP header says more fragments follow or has a non-zero offset.
    pub fragmented: bool,
}

/// The innermost TCP or UDP header of `layers` (a frame's own layers,
/// [`Packet::own_layers`]) right under an IP header (IPv6 extension headers are part
/// of the IPv6 layer); `None` when there is none. What [`FlowView::of`],
/// [`Packet::five_tuple`] and [`Packet::innermost_tcp`] start from.
pub(crate) fn innermost_transport(layers: &[Layer]) -> Option<Transport> {
    let (t, (proto, sport, dport)) = layers.iter().enumerate().rev().find_map(|(i, l)| match l.kind {
        LayerKind::Tcp { src_port, dst_port, .. } => Some((i, (6u8, src_port, dst_port))),
        LayerKind::Udp { src_port, dst_port, .. } => Some((i, (17u8, src_port, dst_port))),
        _ => None,
    })?;
    let ip = t.checked_sub(1)?;
    let (src, dst, fragmented) = match layers.get(ip)?.kind {
        LayerKind::Ipv4 { src, dst, more_fragments, frag_offset, .. } => {
            (IpAddr::V4(src), IpAddr::V4(dst), more_fragments || frag_offset != 0)
        }
        LayerKind::Ipv6 { src, dst, fragment, .. } => {
            let frag = fragment.is_some_and(|(off, more, _)| more || off != 0);
            (IpAddr::V6(src), IpAddr::V6(dst), frag)
        }
        _ => return None,
    };
    let tuple = FiveTuple { proto, src: Endpoint { ip: src, port: sport }, dst: Endpoint { ip: dst, port: dport } };
    Some(Transport { layer: t, ip, tuple, fragmented })
}

/// One hop of the encapsulation path around the innermost IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapHop {
    /// An 802.1Q / 802.1ad tag.
    Vlan(u16),
    /// An outer IP header: (source, destination) in the frame's direction.
    Ip(IpAddr, IpAddr),
    /// A VXLAN header with its 24-bit VNI.
    Vxlan(u32),
    /// A Geneve header with its 24-bit VNI.
    Geneve(u32),
    /// A GRE header with its key, if any.
    Gre(Option<u32>),
}

impl EncapHop {
    /// Appends the hop's compact encoding: a tag byte, then the fields.
    fn encode(self, out: &mut [u8; EncapPath::BYTES], len: &mut usize) -> bool {
        let n = match self {
            EncapHop::Vlan(_) => 3,
            EncapHop::Ip(IpAddr::V4(_), IpAddr::V4(_)) => 9,
            EncapHop::Ip(..) => 33,
            EncapHop::Gre(None) => 1,
            EncapHop::Vxlan(_) | EncapHop::Geneve(_) | EncapHop::Gre(Some(_)) => 5,
        };
        let Some(dst) = out.get_mut(*len..*len + n) else { return false };
        match self {
            EncapHop::Vlan(v) => {
                dst[0] = 1;
                dst[1..3].copy_from_slice(&v.to_be_bytes());
            }
            EncapHop::Ip(IpAddr::V4(a), IpAddr::V4(b)) => {
                dst[0] = 2;
                dst[1..5].copy_from_slice(&a.octets());
                dst[5..9].copy_from_slice(&b.octets());
            }
            EncapHop::Ip(a, b) => {
                dst[0] = 3;
                dst[1..17].copy_from_slice(&v6(a).octets());
                dst[17..33].copy_from_slice(&v6(b).octets());
            }
            EncapHop::Vxlan(v) => {
                dst[0] = 4;
                dst[1..5].copy_from_slice(&v.to_be_bytes());
            }
            EncapHop::Geneve(v) => {
                dst[0] = 5;
                dst[1..5].copy_from_slice(&v.to_be_bytes());
            }
            EncapHop::Gre(None) => dst[0] = 6,
            EncapHop::Gre(Some(k)) => {
                dst[0] = 7;
                dst[1..5].copy_from_slice(&k.to_be_bytes());
            }
        }
        *len += n;
        true
    }

    /// Decodes the hop at the start of `b`, and its encoded length.
    fn decode(b: &[u8]) -> Option<(EncapHop, usize)> {
        let u32_at = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
        let v6_at = |i: usize| -> Option<IpAddr> {
            let o: [u8; 16] = b.get(i..i + 16)?.try_into().ok()?;
            Some(IpAddr::from(o))
        };
        Some(match *b.first()? {
            1 => (EncapHop::Vlan(u16::from_be_bytes(b.get(1..3)?.try_into().ok()?)), 3),
            2 => {
                let a: [u8; 4] = b.get(1..5)?.try_into().ok()?;
                let c: [u8; 4] = b.get(5..9)?.try_into().ok()?;
                (EncapHop::Ip(IpAddr::from(a), IpAddr::from(c)), 9)
            }
            3 => (EncapHop::Ip(v6_at(1)?, v6_at(17)?), 33),
            4 => (EncapHop::Vxlan(u32_at(1)?), 5),
            5 => (EncapHop::Geneve(u32_at(1)?), 5),
            6 => (EncapHop::Gre(None), 1),
            7 => (EncapHop::Gre(Some(u32_at(1)?)), 5),
            _ => return None,
        })
    }

    fn reversed(self) -> Self {
        match self {
            EncapHop::Ip(a, b) => EncapHop::Ip(b, a),
            other => other,
        }
    }
}

/// An IPv6 view of either family (an IPv4 pair never reaches here; kept total).
fn v6(a: IpAddr) -> std::net::Ipv6Addr {
    match a {
        IpAddr::V4(x) => x.to_ipv6_mapped(),
        IpAddr::V6(x) => x,
    }
}

/// The encapsulation path, outermost first, in a compact fixed-size encoding (no
/// allocation; hashing and comparing touch only the bytes in use). A path that does not
/// fit in [`EncapPath::BYTES`] keeps its outermost hops and sets `truncated`.
#[derive(Clone, Copy)]
pub struct EncapPath {
    bytes: [u8; EncapPath::BYTES],
    len: u8,
    /// More hops were present than fit.
    pub truncated: bool,
}

impl Default for EncapPath {
    fn default() -> Self {
        EncapPath { bytes: [0; EncapPath::BYTES], len: 0, truncated: false }
    }
}

impl PartialEq for EncapPath {
    fn eq(&self, other: &Self) -> bool {
        self.used() == other.used() && self.truncated == other.truncated
    }
}

impl Eq for EncapPath {}

impl std::hash::Hash for EncapPath {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write(self.used());
        h.write_u8(u8::from(self.truncated));
    }
}

impl std::fmt::Debug for EncapPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncapPath({self})")
    }
}

impl EncapPath {
    /// Bytes of encoded hops kept: two IPv6 outer headers (33 bytes each), a VNI and
    /// two VLAN tags fit; real overlays use far less (VXLAN over IPv4: 14).
    pub const BYTES: usize = 80;

    fn used(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    fn push(&mut self, hop: EncapHop) {
        if self.truncated {
            return;
        }
        let mut len = usize::from(self.len);
        if hop.encode(&mut self.bytes, &mut len) {
            self.len = u8::try_from(len).unwrap_or(u8::MAX);
        } else {
            self.truncated = true;
        }
    }

    /// The hops, outermost first.
    pub fn hops(&self) -> impl Iterator<Item = EncapHop> + '_ {
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let (hop, n) = EncapHop::decode(self.used().get(at..)?)?;
            at += n;
            Some(hop)
        })
    }

    /// Whether the path has no hop: no VLAN tag, outer IP header or tunnel header
    /// around the innermost IP packet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The same path as a frame in the other direction carries it.
    #[must_use]
    pub fn reversed(&self) -> Self {
        if self.len == 0 {
            return *self;
        }
        let mut r = EncapPath { truncated: self.truncated, ..EncapPath::default() };
        for h in self.hops() {
            let mut len = usize::from(r.len);
            if h.reversed().encode(&mut r.bytes, &mut len) {
                r.len = u8::try_from(len).unwrap_or(u8::MAX);
            }
        }
        r
    }
}

impl std::fmt::Display for EncapPath {
    /// `vlan 100 / 192.168.50.1>192.168.50.2 / vxlan 1`, or `-` for none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        for (i, h) in self.hops().enumerate() {
            if i > 0 {
                f.write_str(" / ")?;
            }
            match h {
                EncapHop::Vlan(v) => write!(f, "vlan {v}")?,
                EncapHop::Ip(a, b) => write!(f, "{a}>{b}")?,
                EncapHop::Vxlan(v) => write!(f, "vxlan {v}")?,
                EncapHop::Geneve(v) => write!(f, "geneve {v}")?,
                EncapHop::Gre(Some(k)) => write!(f, "gre key {k}")?,
                EncapHop::Gre(None) => f.write_str("gre")?,
            }
        }
        if self.truncated {
            f.write_str(" / …")?;
        }
        Ok(())
    }
}

impl Serialize for EncapHop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        match self {
            EncapHop::Vlan(v) => {
                m.serialize_entry("proto", "vlan")?;
                m.serialize_entry("vid", v)?;
            }
            EncapHop::Ip(a, b) => {
                m.serialize_entry("proto", if a.is_ipv4() { "ipv4" } else { "ipv6" })?;
                m.serialize_entry("src", a)?;
                m.serialize_entry("dst", b)?;
            }
            EncapHop::Vxlan(v) => {
                m.serialize_entry("proto", "vxlan")?;
                m.serialize_entry("vni", v)?;
            }
            EncapHop::Geneve(v) => {
                m.serialize_entry("proto", "geneve")?;
                m.serialize_entry("vni", v)?;
            }
            EncapHop::Gre(k) => {
                m.serialize_entry("proto", "gre")?;
                m.serialize_entry("key", k)?;
            }
        }
        m.end()
    }
}

impl Serialize for EncapPath {
    /// A list of hops, outermost first: `[{proto: "ipv4", src, dst}, {proto: "vxlan",
    /// vni}]`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.hops())
    }
}

/// Which way a frame went relative to its [`FlowKey`]: `AtoB` from the key's `a`
/// endpoint to its `b` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the key's `a` endpoint to its `b` endpoint.
    AtoB,
    /// From the key's `b` endpoint to its `a` endpoint.
    BtoA,
}

impl Direction {
    /// 0 for `AtoB`, 1 for `BtoA`: an index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::AtoB => 0,
            Direction::BtoA => 1,
        }
    }

    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::AtoB => Direction::BtoA,
            Direction::BtoA => Direction::AtoB,
        }
    }
}

/// The canonical, direction-free key of a flow: the lower endpoint is `a`, and the
/// encapsulation path is as a frame from `a` to `b` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Index of the capture point (the caller's numbering).
    pub point: u32,
    /// IP protocol number of the innermost transport (6 for TCP).
    pub proto: u8,
    /// The lower endpoint (address, then port).
    pub a: Endpoint,
    /// The higher endpoint (equal to `a` for a frame from a socket to itself).
    pub b: Endpoint,
    /// The encapsulation path as a frame from `a` to `b` carries it.
    pub encap: EncapPath,
}

/// What one frame says about its flow, in the frame's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowView {
    /// IP protocol number of the innermost transport: 6 TCP, 17 UDP.
    pub proto: u8,
    /// Where the frame came from: the innermost IP source address and transport source
    /// port.
    pub src: Endpoint,
    /// Where the frame goes: the innermost IP destination address and transport
    /// destination port.
    pub dst: Endpoint,
    /// The encapsulation path as a frame from the lower endpoint carries it (the
    /// canonical orientation of [`FlowKey::encap`]): for a frame from the higher
    /// endpoint its outer addresses are swapped.
    pub encap: EncapPath,
    /// Index in [`Packet::layers`] of the innermost transport layer.
    pub layer: usize,
    /// The innermost IP header says more fragments follow or has a non-zero offset:
    /// the transport header may be there but the segment is not whole.
    pub fragmented: bool,
}

impl FlowView {
    /// The flow of the innermost TCP or UDP layer of a decoded frame, or `None` when the
    /// frame has none (or its IP header is missing).
    pub fn of(packet: &Packet) -> Option<FlowView> {
        // The packet an ICMP error quotes is not the frame's flow.
        let layers = packet.own_layers();
        let Transport { layer, ip, tuple: FiveTuple { proto, src, dst }, fragmented } = innermost_transport(layers)?;
        // Build the path in the canonical orientation at once: no second pass to turn it.
        let turn = src > dst;
        let mut encap = EncapPath::default();
        for l in &layers[..ip] {
            let pair = |a: IpAddr, b: IpAddr| if turn { EncapHop::Ip(b, a) } else { EncapHop::Ip(a, b) };
            match l.kind {
                LayerKind::Vlan { vid, .. } => encap.push(EncapHop::Vlan(vid)),
                LayerKind::Ipv4 { src, dst, .. } => encap.push(pair(IpAddr::V4(src), IpAddr::V4(dst))),
                LayerKind::Ipv6 { src, dst, .. } => encap.push(pair(IpAddr::V6(src), IpAddr::V6(dst))),
                LayerKind::Vxlan { vni, .. } => encap.push(EncapHop::Vxlan(vni)),
                LayerKind::Geneve { vni, .. } => encap.push(EncapHop::Geneve(vni)),
                LayerKind::Gre { key, .. } => encap.push(EncapHop::Gre(key)),
                _ => {}
            }
        }
        Some(FlowView {
            proto,
            src,
            dst,
            encap,
            layer,
            fragmented,
        })
    }

    /// The frame's 5-tuple: protocol, source and destination, without the
    /// encapsulation path.
    pub fn five_tuple(&self) -> FiveTuple {
        FiveTuple { proto: self.proto, src: self.src, dst: self.dst }
    }

    /// The canonical key at capture point `point`, and this frame's direction in it.
    ///
    /// The lower endpoint (address, then port) is `a`; with equal endpoints (a frame
    /// from a socket to itself) the frame's own direction is `AtoB`.
    pub fn key(&self, point: u32) -> (FlowKey, Direction) {
        if self.src <= self.dst {
            let key = FlowKey { point, proto: self.proto, a: self.src, b: self.dst, encap: self.encap };
            (key, Direction::AtoB)
        } else {
            let key = FlowKey { point, proto: self.proto, a: self.dst, b: self.src, encap: self.encap };
            (key, Direction::BtoA)
        }
    }
}

/// `items` sorted by `key`, equal keys in their order (as a stable sort): the keys are
/// sorted, then the items permuted in place, one swap per item at most — which matters
/// for a million flows of kilobytes each (a sort would move each about twenty times,
/// and a new vector would be a second copy of them all).
pub(crate) fn in_order_of<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut order: Vec<(K, usize)> = items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    order.sort_unstable();
    // `from[j]`: where the item that goes to `j` is now. Each cycle of the permutation is
    // walked once; a place done points at itself.
    let mut from: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    for start in 0..from.len() {
        let mut j = start;
        // `j` holds the cycle's first item; the item it wants is still in its place.
        while let Some(&k) = from.get(j).filter(|&&k| k != j) {
            if let Some(done) = from.get_mut(j) {
                *done = j;
            }
            if k == start {
                break;
            }
            items.swap(j, k);
            j = k;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint { ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port }
    }

    fn view(src: Endpoint, dst: Endpoint, outer: (u8, u8), vni: u32) -> FlowView {
        let mut encap = EncapPath::default();
        let o = |x| IpAddr::V4(Ipv4Addr::new(192, 168, 0, x));
        encap.push(EncapHop::Ip(o(outer.0), o(outer.1)));
        encap.push(EncapHop::Vxlan(vni));
        // FlowView holds the path as the lower endpoint sends it.
        let encap = if src > dst { encap.reversed() } else { encap };
        FlowView { proto: 6, src, dst, encap, layer: 0, fragmented: false }
    }

    #[test]
    fn both_directions_give_one_key_with_opposite_directions() {
        let fwd = view(ep(2, 40000), ep(1, 80), (2, 1), 7);
        let rev = view(ep(1, 80), ep(2, 40000), (1, 2), 7);
        let (k1, d1) = fwd.key(3);
        let (k2, d2) = rev.key(3);
        assert_eq!(k1, k2);
        assert_eq!((d1, d2), (Direction::BtoA, Direction::AtoB));
        // The path is stored as an a→b frame carries it.
        assert_eq!(k1.encap.to_string(), "192.168.0.1>192.168.0.2 / vxlan 7");
        assert_eq!(k1.encap.reversed().reversed(), k1.encap);
    }

    #[test]
    fn vni_point_and_outer_endpoints_separate_flows() {
        let base = view(ep(2, 40000), ep(1, 80), (2, 1), 7).key(0).0;
        assert_ne!(base, view(ep(2, 40000), ep(1, 80), (2, 1), 8).key(0).0);
        assert_ne!(base, view(ep(2, 40000), ep(1, 80), (2, 1), 7).key(1).0);
        assert_ne!(base, view(ep(2, 40000), ep(1, 80), (3, 1), 7).key(0).0);
    }

    #[test]
    fn every_hop_kind_round_trips_through_the_encoding() {
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        let hops = [
            EncapHop::Vlan(4094),
            EncapHop::Ip(v6a, v6b),
            EncapHop::Gre(Some(0xdead_beef)),
            EncapHop::Gre(None),
            EncapHop::Ip(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), IpAddr::V4(Ipv4Addr::new(5, 6, 7, 8))),
            EncapHop::Geneve(0x00ff_ffff),
            EncapHop::Vxlan(1),
        ];
        let mut p = EncapPath::default();
        for h in hops {
            p.push(h);
        }
        assert!(!p.truncated);
        assert_eq!(p.hops().collect::<Vec<_>>(), hops);
        let r: Vec<EncapHop> = p.reversed().hops().collect();
        assert_eq!(r[1], EncapHop::Ip(v6b, v6a));
        assert_eq!(r[0], EncapHop::Vlan(4094));
    }

    #[test]
    fn deep_paths_are_truncated_not_lost() {
        let mut p = EncapPath::default();
        for v in 0..30 {
            p.push(EncapHop::Vlan(v));
        }
        assert!(p.truncated);
        assert_eq!(p.hops().count(), EncapPath::BYTES / 3);
        assert_eq!(p.hops().next(), Some(EncapHop::Vlan(0)), "the outermost hops are kept");
        assert!(p.to_string().ends_with(" / …"));
        let mut q = p;
        q.push(EncapHop::Vlan(99));
        assert_eq!(p, q, "nothing is added after truncation");
    }

    /// `in_order_of` gives what a stable sort gives, for permutations with cycles of
    /// every length, fixed points and equal keys.
    #[test]
    fn in_order_of_is_a_stable_sort() {
        let mut x = 12345u64;
        for n in [0usize, 1, 2, 3, 10, 257] {
            for range in [1u64, 3, 1000] {
                let items: Vec<(u64, usize)> = (0..n)
                    .map(|i| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((x >> 33) % range, i)
                    })
                    .collect();
                let mut want = items.clone();
                want.sort_by_key(|t| t.0);
                assert_eq!(in_order_of(items, |t| t.0), want, "n {n}, keys below {range}");
            }
        }
    }
}
