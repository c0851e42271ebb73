//! The identity of a frame's innermost IP packet: what no forwarding hop changes.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use rustc_hash::FxHasher;

use crate::decode::{LayerKind, Packet};
use crate::flow::Endpoint;

/// A frame's fingerprint, NAT fingerprint and identity ([`fingerprints`]).
pub(crate) type Keys = (u64, u64, Identity);

/// The innermost IP packet's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub(super) src: Endpoint,
    pub(super) dst: Endpoint,
    pub(super) proto: u8,
    pub(super) tcp_flags: Option<u16>,
    /// TCP payload: first sequence number and length (0 without payload).
    pub(super) tcp_data: Option<(u32, u32)>,
    /// IPv4 identification (TSO/GSO segments count up from the super-frame's; a GRO
    /// merge keeps the first segment's).
    pub(super) ip_id: Option<u16>,
    /// TCP TSval (TSO/GSO segments repeat the super-frame's).
    pub(super) tsval: Option<u32>,
    /// The innermost IP packet's length in bytes (0: unknown, an IPv4 TSO frame).
    pub(super) ip_len: u32,
}

/// The fingerprint of a frame's innermost IP packet and its inner source and
/// destination addresses (what [`crate::correlate::clock::ClockEstimator`] needs).
pub fn packet_key(packet: &Packet, data: &[u8]) -> Option<(u64, IpAddr, IpAddr)> {
    fingerprints(packet, data).map(|(fp, _, id)| (fp, id.src.ip, id.dst.ip))
}

/// The full fingerprint, the NAT fingerprint (without addresses, ports and the ICMP
/// identifier, which NAT rewrites), and the identity of a frame's innermost IP packet.
pub(crate) fn fingerprints(packet: &Packet, data: &[u8]) -> Option<Keys> {
    // An ICMP error is its own packet: the one it quotes is not fingerprinted.
    let layers = packet.own_layers();
    let ip = layers.iter().rposition(|l| matches!(l.kind, LayerKind::Ipv4 { .. } | LayerKind::Ipv6 { .. }))?;
    // `n` hashes what survives NAT; `h` adds addresses, ports and the ICMP identifier.
    let mut n = FxHasher::default();
    let (src, dst, proto, ipv4_id, ip_len) = match layers[ip].kind {
        LayerKind::Ipv4 { src, dst, ip_id, total_len, more_fragments, frag_offset, proto, .. } => {
            (ip_id, total_len, more_fragments, frag_offset, proto.0).hash(&mut n);
            (IpAddr::V4(src), IpAddr::V4(dst), proto.0, Some(ip_id), u32::from(total_len))
        }
        LayerKind::Ipv6 { src, dst, flow_label, payload_len, proto, fragment, .. } => {
            (flow_label, payload_len, fragment, proto.0).hash(&mut n);
            (IpAddr::V6(src), IpAddr::V6(dst), proto.0, None, u32::from(payload_len) + 40)
        }
        _ => return None,
    };
    let (mut sport, mut dport, mut flags, mut tcp_data, mut tsval, mut icmp_id) = (0, 0, None, None, None, None);
    if let Some(t) = layers.get(ip + 1) {
        match t.kind {
            LayerKind::Tcp { src_port, dst_port, seq, ack, flags: f, payload_len, options, .. } => {
                (seq, ack, f, payload_len, options.timestamps).hash(&mut n);
                (sport, dport, flags) = (src_port, dst_port, Some(f));
                tcp_data = (payload_len > 0).then_some((seq, payload_len));
                tsval = options.timestamps.map(|t| t.0);
            }
            LayerKind::Udp { src_port, dst_port, length, .. } => {
                length.hash(&mut n);
                (sport, dport) = (src_port, dst_port);
            }
            LayerKind::Icmp { icmp_type, code } | LayerKind::Icmpv6 { icmp_type, code } => {
                (icmp_type, code).hash(&mut n);
                // Identifier and sequence number of echo messages (bytes 4..8).
                let start = t.offset as usize + 4;
                icmp_id = data.get(start..start + 4);
            }
            _ => {}
        }
    }
    let nat = n.finish();
    let mut h = FxHasher::default();
    (nat, src, dst, sport, dport, icmp_id).hash(&mut h);
    let id = Identity {
        src: Endpoint { ip: src, port: sport },
        dst: Endpoint { ip: dst, port: dport },
        proto,
        tcp_flags: flags,
        tcp_data,
        ip_id: ipv4_id,
        tsval,
        ip_len,
    };
    Some((h.finish(), nat, id))
}

/// The largest IP packet of a standard Ethernet MTU. A capture of a jumbo-frame network
/// is flagged too: the note then over-warns, it never hides a super-frame.
pub(super) const SUPERFRAME_BYTES: u32 = 1500;

impl Identity {
    /// The packet is larger than an Ethernet MTU allows, or is an IPv4 TSO frame with
    /// total length 0: a TSO/GSO/GRO super-frame captured before segmentation or after
    /// merging.
    pub(super) fn is_superframe(&self) -> bool {
        self.ip_len == 0 || self.ip_len > SUPERFRAME_BYTES
    }
}

/// `10.244.1.2:55406 > 10.244.2.3:80`, from the SYN sender when the packet is a SYN,
/// else from the lower port's peer (the ephemeral side) to the other.
pub(super) fn flow_label(id: &Identity) -> String {
    crate::findings::flow_text(id.src, id.dst, id.tcp_flags)
}
