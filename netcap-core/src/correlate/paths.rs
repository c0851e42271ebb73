//! The path of each direction: the points its packets cross, upstream first.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::tcp::stats::percentile;

use super::Correlator;

/// Per direction (inner source, destination address), each packet's sightings as
/// (point, time): what paths are learned from.
pub(super) type Evidence = FxHashMap<(IpAddr, IpAddr), Vec<Vec<(u32, i64)>>>;

impl Correlator {
    /// Paths for the directions in `evidence` (per packet, its sightings).
    ///
    /// For two points A and B of a direction, the evidence that A is upstream of B:
    /// - loss: packets seen at A but not at B, against those seen at B but not at A.
    ///   Packets are lost downstream, so a clear asymmetry (one count at least twice
    ///   the other plus 2) decides;
    /// - else time: the median of `t_B − t_A` over the packets both saw, plus the median
    ///   of `t_A − t_B` over the opposite direction's packets (both directions of a
    ///   connection cross the points in opposite orders, so their timings add up, and a
    ///   zero-delay link whose two captures differ by jitter is ordered consistently).
    ///
    /// Each point's rank is the number of points it is upstream of (Copeland); ties go to
    /// the earlier median time after a packet's first sighting.
    pub(super) fn learn_paths(&mut self, evidence: &Evidence) {
        let mut dirs: Vec<(IpAddr, IpAddr)> = evidence.keys().copied().collect();
        dirs.sort_unstable();
        for (x, y) in dirs {
            if self.paths.contains_key(&(x, y)) {
                continue;
            }
            let fwd = &evidence[&(x, y)];
            let rev = evidence.get(&(y, x));
            let mut points: Vec<u32> = fwd.iter().flatten().map(|s| s.0).collect();
            points.sort_unstable();
            points.dedup();
            // Pairwise: missing counts and time differences.
            let diff = |packets: &[Vec<(u32, i64)>], a: u32, b: u32| -> Option<i64> {
                let mut d: Vec<i64> = packets
                    .iter()
                    .filter_map(|p| {
                        let ta = p.iter().find(|s| s.0 == a)?.1;
                        let tb = p.iter().find(|s| s.0 == b)?.1;
                        Some(tb.saturating_sub(ta))
                    })
                    .collect();
                d.sort_unstable();
                percentile(&d, 50)
            };
            let only = |a: u32, b: u32| {
                fwd.iter().filter(|p| p.iter().any(|s| s.0 == a) && !p.iter().any(|s| s.0 == b)).count()
            };
            let upstream = |a: u32, b: u32| -> std::cmp::Ordering {
                let (nab, nba) = (only(a, b), only(b, a));
                if nab >= 2 * nba + 2 {
                    return std::cmp::Ordering::Less;
                }
                if nba >= 2 * nab + 2 {
                    return std::cmp::Ordering::Greater;
                }
                // Positive when b sees the packets after a.
                let t = diff(fwd, a, b).unwrap_or(0).saturating_add(rev.and_then(|r| diff(r, b, a)).unwrap_or(0));
                0.cmp(&t)
            };
            let place = |a: u32| {
                let mut d: Vec<i64> = fwd
                    .iter()
                    .filter_map(|p| {
                        let first = p.iter().map(|s| s.1).min()?;
                        Some(p.iter().find(|s| s.0 == a)?.1.saturating_sub(first))
                    })
                    .collect();
                d.sort_unstable();
                percentile(&d, 50).unwrap_or(0)
            };
            let mut ranked: Vec<(usize, i64, u32)> = points
                .iter()
                .map(|&a| {
                    let wins = points.iter().filter(|&&b| b != a && upstream(a, b) == std::cmp::Ordering::Less).count();
                    (wins, place(a), a)
                })
                .collect();
            ranked.sort_by(|l, r| r.0.cmp(&l.0).then(l.1.cmp(&r.1)).then(l.2.cmp(&r.2)));
            self.paths.insert((x, y), ranked.into_iter().map(|(_, _, p)| p).collect());
        }
    }

}
