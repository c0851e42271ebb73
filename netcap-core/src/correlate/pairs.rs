//! Accounting of packets on their path: per pair of adjacent points, matched, lost,
//! appeared, duplicated, reordered and the delay; the lost packets grouped for the
//! findings.

use crate::findings::loss::Cause;
use crate::tcp::stats::Samples;

use super::fingerprint::flow_label;
use super::report::{Hop, HopSeen, PacketPath};
use super::{Correlator, PacketState, Sighting};

/// Example packets kept per lost-packet finding.
pub(super) const GROUP_EXAMPLES: usize = 64;

/// Points whose packet sizes are kept (the caller numbers points densely).
pub(super) const MAX_POINTS: usize = 1 << 20;

/// Per point: the largest innermost IP packet (for `mtu_drop`) and the TSO/GSO/GRO
/// super-frames (for the notes).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct PointAcc {
    pub(super) largest: u32,
    pub(super) superframes: u64,
}

#[derive(Debug)]
pub(super) struct PairAcc {
    pub(super) matched: u64,
    pub(super) lost: u64,
    pub(super) appeared: u64,
    pub(super) duplicated: u64,
    pub(super) reordered: u64,
    pub(super) delays: Samples,
    /// Latest times seen at the upstream and downstream point, for reordering.
    pub(super) latest_up: i64,
    pub(super) latest_down: i64,
}

impl Default for PairAcc {
    fn default() -> Self {
        PairAcc {
            matched: 0,
            lost: 0,
            appeared: 0,
            duplicated: 0,
            reordered: 0,
            delays: Samples::default(),
            latest_up: i64::MIN,
            latest_down: i64::MIN,
        }
    }
}

/// Lost packets of one (kind, flow, from, to): counted, the first kept as examples.
#[derive(Debug, Default)]
pub(super) struct GroupAcc {
    pub(super) count: u64,
    pub(super) min_size: u32,
    /// Per example packet: (point, frame) of every sighting, in time order.
    pub(super) examples: Vec<Vec<(u32, u64)>>,
    /// The examples' sightings at the last point that saw them.
    pub(super) at_from: Vec<Sighting>,
    pub(super) sizes: Vec<u32>,
}

impl Correlator {
    /// One packet on its path: pairs, lost, duplicates, its row, its NAT sides.
    pub(super) fn account(&mut self, p: &PacketState, extra: &[Sighting]) {
        if p.sightings.iter().any(|s| s.translated) {
            let side = |t: bool| {
                let mut v: Vec<u32> = p.sightings.iter().filter(|s| s.translated == t).map(|s| s.point).collect();
                v.sort_unstable();
                v
            };
            let (a, b) = (side(false), side(true));
            let key = if a.first() <= b.first() { (a, b) } else { (b, a) };
            *self.nat_sides.entry(key).or_default() += 1;
        }
        let Some(path) = self.paths.get(&(p.id.src.ip, p.id.dst.ip)) else { return };
        let at = |pt: u32| p.sightings.iter().chain(extra).find(|s| s.point == pt);
        let last = path.iter().rposition(|&pt| at(pt).is_some());
        if self.opts.list_packets {
            let hops = path
                .iter()
                .map(|&pt| {
                    let by = if p.sightings.iter().any(|s| s.point == pt) { "fingerprint" } else { "bytes" };
                    Hop { point: pt, seen: at(pt).map(|s| HopSeen { frame: s.frame, ts_ns: s.ts_ns, by }) }
                })
                .collect();
            self.rows.push(PacketPath { packet: self.row_count, flow: flow_label(&p.id), hops });
            self.row_count += 1;
        }
        for w in path.windows(2) {
            let (a, b) = (w[0], w[1]);
            let acc = self.pairs.entry((a, b)).or_default();
            match (at(a), at(b)) {
                (Some(x), Some(y)) => {
                    acc.matched += 1;
                    acc.delays.add(y.ts_ns.saturating_sub(x.ts_ns));
                    // Packets come in the order of their first sighting: one that
                    // reaches `b` before a packet that left `a` earlier was overtaken.
                    if y.ts_ns < acc.latest_down && x.ts_ns >= acc.latest_up {
                        acc.reordered += 1;
                    }
                    acc.latest_down = acc.latest_down.max(y.ts_ns);
                    acc.latest_up = acc.latest_up.max(x.ts_ns);
                }
                (None, Some(_)) => acc.appeared += 1,
                _ => {}
            }
        }
        if let Some(l) = last {
            if let Some(&to) = path.get(l + 1) {
                let from = path[l];
                self.pairs.entry((from, to)).or_default().lost += 1;
                let at_from = p.sightings.iter().find(|s| s.point == from).copied();
                let kind = match at_from.and_then(|s| s.drop) {
                    Some(("udp", 0, _)) => Cause::OuterChecksum,
                    Some(_) => Cause::Checksum,
                    None => Cause::Unexplained,
                };
                let g = self.groups.entry((kind, flow_label(&p.id), from, to)).or_default();
                g.count += 1;
                g.min_size = if g.count == 1 { p.id.ip_len } else { g.min_size.min(p.id.ip_len) };
                if g.examples.len() < GROUP_EXAMPLES {
                    let mut s = p.sightings.clone();
                    s.sort_by_key(|x| x.ts_ns);
                    g.examples.push(s.iter().map(|x| (x.point, x.frame)).collect());
                    g.at_from.extend(at_from);
                    g.sizes.push(p.id.ip_len);
                }
            }
        }
        if p.duplicates > 0 {
            if let Some(&pt) = path.first() {
                let acc = self.pairs.entry((pt, *path.get(1).unwrap_or(&pt))).or_default();
                acc.duplicated += u64::from(p.duplicates);
            }
        }
    }


    /// The largest innermost IP packet `point` saw (0: none).
    pub(super) fn largest(&self, point: u32) -> u32 {
        self.per_point.get(point as usize).map_or(0, |a| a.largest)
    }

}
