//! TCP bytes seen under another segmentation (TSO/GSO super-frames before the NIC,
//! GRO-merged frames after a receiver) matched by sequence range.

use rustc_hash::FxHashMap;

use crate::flow::Endpoint;
use crate::CaptureKeyed;

use super::{Correlator, PacketState, Sighting};

/// A TCP data segment at one point, in bytes relative to its direction's first.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seg {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) ts: i64,
    pub(super) frame: u64,
    pub(super) ip_id: Option<u16>,
    pub(super) tsval: Option<u32>,
}

/// Whether segment `r` carries bytes of packet `p` (`[start, end)`)
/// from the same transmission, cut or merged differently, not a retransmission of them.
///
/// IPv4: TSO/GSO give the segments of a super-frame consecutive identifications from
/// the super-frame's, and GRO keeps the first segment's, so with `Δid` the
/// identification distance and `Δseq` the byte distance from the earlier-starting of
/// the two: `Δid = 0` when they start together, else `Δseq` is `Δid` whole segments
/// (`Δseq % Δid == 0`, each at least as long as the later one). A retransmission has a
/// new identification and fails. IPv6 has none: the TCP TSval must be equal (segments
/// of one super-frame repeat it); without timestamps nothing is matched.
pub(super) fn same_transmission(p: &PacketState, start: u64, end: u64, r: &Seg) -> bool {
    match (p.id.ip_id, r.ip_id) {
        (Some(a), Some(b)) => {
            let (early_id, late_id, dseq, late_len) =
                if r.start <= start { (b, a, start - r.start, end - start) } else { (a, b, r.start - start, r.end - r.start) };
            let did = u64::from(late_id.wrapping_sub(early_id));
            if dseq == 0 {
                did == 0
            } else {
                did > 0 && did <= 64 && dseq % did == 0 && dseq / did >= late_len
            }
        }
        _ => p.id.tsval.is_some() && p.id.tsval == r.tsval,
    }
}

impl Correlator {
    /// TCP data seen at a point under another segmentation: a TSO/GSO super-frame
    /// captured before the NIC and the wire-size segments after it, or GRO-merged frames
    /// after a receiver and the segments before it, carry the same bytes with other
    /// fingerprints. For every TCP packet with payload and every point that saw data of
    /// the same flow and direction but not the packet's fingerprint, the point's
    /// segments within the window are searched: if they cover the packet's bytes, the
    /// packet counts as seen there (at the time of the first covering segment).
    /// For the packets `from .. upto` (global numbers), against every packet held.
    pub(super) fn byte_range_sightings(&self, from: usize, upto: usize) -> FxHashMap<usize, Vec<Sighting>> {
        // (src, dst, point) → (relative start, end, ts, frame), relative to the first
        // data sequence number seen for (src, dst).
        let mut base: CaptureKeyed<(Endpoint, Endpoint), u32> = CaptureKeyed::default();
        let mut points_of: CaptureKeyed<(Endpoint, Endpoint), Vec<u32>> = CaptureKeyed::default();
        for p in &self.packets {
            let Some((seq, _)) = p.id.tcp_data else { continue };
            base.entry((p.id.src, p.id.dst)).or_insert(seq);
            let pts = points_of.entry((p.id.src, p.id.dst)).or_default();
            for s in &p.sightings {
                // A path has at most `max_path_points`: points past those are not searched.
                if pts.len() < self.opts.max_path_points && !pts.contains(&s.point) {
                    pts.push(s.point);
                }
            }
        }
        // Only the (direction, point) pairs where a packet of the batch was not seen
        // are searched: their segments alone are collected.
        let mut needed: rustc_hash::FxHashSet<(Endpoint, Endpoint, u32)> = Default::default();
        for i in from..upto {
            let Some(p) = self.packets.get(i.wrapping_sub(self.base)) else { continue };
            if p.id.tcp_data.is_none() {
                continue;
            }
            let Some(path) = points_of.get(&(p.id.src, p.id.dst)) else { continue };
            for &pt in path {
                if !p.sightings.iter().any(|s| s.point == pt) {
                    needed.insert((p.id.src, p.id.dst, pt));
                }
            }
        }
        if needed.is_empty() {
            return FxHashMap::default();
        }
        let mut ranges: CaptureKeyed<(Endpoint, Endpoint, u32), Vec<Seg>> = CaptureKeyed::default();
        for p in &self.packets {
            let Some((seq, len)) = p.id.tcp_data else { continue };
            let b = base.get(&(p.id.src, p.id.dst)).copied().unwrap_or(seq);
            let start = u64::from(seq.wrapping_sub(b));
            for s in &p.sightings {
                let key = (p.id.src, p.id.dst, s.point);
                if !needed.contains(&key) {
                    continue;
                }
                let seg = Seg { start, end: start + u64::from(len), ts: s.ts_ns, frame: s.frame, ip_id: p.id.ip_id, tsval: p.id.tsval };
                ranges.entry(key).or_default().push(seg);
            }
        }
        for v in ranges.values_mut() {
            v.sort_unstable_by_key(|g| (g.start, g.end, g.ts));
        }
        let mut out: FxHashMap<usize, Vec<Sighting>> = FxHashMap::default();
        for i in from..upto {
            let Some(p) = self.packets.get(i.wrapping_sub(self.base)) else { continue };
            let Some((seq, len)) = p.id.tcp_data else { continue };
            let Some(path) = points_of.get(&(p.id.src, p.id.dst)) else { continue };
            let b = base.get(&(p.id.src, p.id.dst)).copied().unwrap_or(seq);
            let (start, end) = (u64::from(seq.wrapping_sub(b)), u64::from(seq.wrapping_sub(b)) + u64::from(len));
            for &pt in path.iter() {
                if p.sightings.iter().any(|s| s.point == pt) {
                    continue;
                }
                let Some(v) = ranges.get(&(p.id.src, p.id.dst, pt)) else { continue };
                // The segments that cover [start, end) without a gap, in order, within
                // the window, and that are this transmission re-segmented rather than a
                // retransmission of its bytes.
                let mut reach = start;
                let mut cover: Vec<&Seg> = Vec::new();
                let from = v.partition_point(|r| r.end <= start);
                // A run of retransmissions of the same bytes is searched up to
                // MAX_COVER_SCAN segments, so the search stays linear in them.
                for r in v[from..].iter().take(MAX_COVER_SCAN) {
                    if r.start > reach || reach >= end {
                        break;
                    }
                    let apart = r.ts.saturating_sub(p.first_ts).unsigned_abs();
                    if apart > self.opts.window_ns.unsigned_abs() || !same_transmission(p, start, end, r) {
                        continue;
                    }
                    reach = reach.max(r.end);
                    cover.push(r);
                }
                if let (true, Some(first)) = (reach >= end, cover.first()) {
                    out.entry(i).or_default().push(Sighting {
                        point: pt,
                        frame: first.frame,
                        ts_ns: first.ts,
                        outer_udp: None,
                        drop: None,
                        translated: false,
                    });
                }
            }
        }
        out
    }

}

/// Segments of one point examined to cover one packet's bytes.
const MAX_COVER_SCAN: usize = 1024;
