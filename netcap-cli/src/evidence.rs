//! What a cited frame shows, in words, shared by `netcap extract`'s frame comments and
//! `netcap report`'s evidence tables: its checksum verdicts that are not good, the
//! receiver's drop, its TCP analysis labels.

use netcap_core::checksum::Status;
use netcap_core::decode::{LayerKind, Packet};
use netcap_core::tcp::SegmentInfo;

/// `outer UDP checksum 0xffff, expected 0x3525; a Linux receiver drops it
/// (UdpInCsumErrors); TCP analysis: retransmission`, as separate parts.
pub fn facts(packet: &Packet, segment: Option<&SegmentInfo>) -> Vec<String> {
    let mut parts = verdicts(packet);
    if let Some(d) = packet.drop {
        parts.push(format!("a Linux receiver drops it ({})", d.counter));
    }
    if let Some(s) = segment {
        let mut labels: Vec<String> = s.analysis.iter().map(|l| l.to_string()).collect();
        if let (Some(n), Some(f)) = (s.dupack_num, s.dupack_frame) {
            for l in labels.iter_mut().filter(|l| *l == "duplicate_ack") {
                *l = format!("duplicate_ack #{n} of frame {f}");
            }
        }
        if !labels.is_empty() {
            parts.push(format!("TCP analysis: {}", labels.join(", ")));
        }
    }
    parts
}

/// The layer's name in a comment: `UDP`, `TCP`, `IPv4 header`, `ICMP`, `ICMPv6`.
fn layer_name(kind: &LayerKind) -> String {
    match kind {
        LayerKind::Ipv4 { .. } => "IPv4 header".to_string(),
        LayerKind::Icmpv6 { .. } => "ICMPv6".to_string(),
        k => k.proto().to_ascii_uppercase(),
    }
}

/// The frame's checksum verdicts that are not `good`, outermost first:
/// `outer UDP checksum 0xffff, expected 0x3525`.
pub fn verdicts(packet: &Packet) -> Vec<String> {
    let deepest = packet.depth();
    let mut out = Vec::new();
    for l in packet.own_layers() {
        let Some(v) = l.checksum else { continue };
        let place = match l.depth {
            _ if deepest == 0 => "",
            0 => "outer ",
            d if d == deepest => "inner ",
            _ => "",
        };
        let depth = if deepest > 0 && l.depth > 0 && l.depth < deepest { format!(" (depth {})", l.depth) } else { String::new() };
        let what = format!("{place}{}{depth} checksum", layer_name(&l.kind));
        let expected = v.expected.map_or_else(|| "?".to_string(), |e| format!("0x{e:04x}"));
        let text = match v.status {
            Status::Good => continue,
            Status::Bad => format!("{what} 0x{:04x}, expected {expected}", v.stored),
            Status::Absent => format!("{what} absent (0)"),
            Status::IllegalZero => format!("{what} 0, illegal over IPv6"),
            Status::Partial => format!("{what} 0x{:04x} partial (TX offload, expected {expected})", v.stored),
            // The capture lacks bytes the sum covers: says nothing about the packet.
            Status::Unverifiable => continue,
            _ => format!("{what} 0x{:04x} {}", v.stored, v.status.as_str()),
        };
        out.push(text);
    }
    out
}

