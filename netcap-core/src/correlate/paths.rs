//! The path of each direction: the points its packets cross, upstream first.

use std::cmp::Ordering;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::tcp::stats::percentile;
use crate::CaptureKeyed;

use super::Correlator;

/// Per direction (inner source, destination address), each packet's sightings as
/// (point, time): what paths are learned from.
pub(super) type Evidence = CaptureKeyed<(IpAddr, IpAddr), Vec<Vec<(u32, i64)>>>;

/// Time differences kept per direction to take the medians from (per pair of points
/// and per point: this divided by the points squared, at least [`MIN_SAMPLES`]). With
/// up to 8 points every packet of a batch counts.
const SAMPLE_BUDGET: usize = 1 << 22;
/// See [`SAMPLE_BUDGET`].
const MIN_SAMPLES: usize = 1024;

/// One direction's evidence over the points of its path-to-be (`points`, at most
/// [`super::CorrelateOptions::max_path_points`]), gathered in one pass over its packets:
/// the cost is the sum over packets of their sightings squared, never points squared
/// times packets.
struct Tally {
    points: Vec<u32>,
    /// Packets seen at each point.
    seen: Vec<u64>,
    /// `both[a * n + b]`: packets seen at both.
    both: Vec<u64>,
    /// `diffs[a * n + b]`: `t_b − t_a` over packets seen at both (the first, see
    /// [`SAMPLE_BUDGET`]).
    diffs: Vec<Vec<i64>>,
    /// Per point: its time after the packet's first sighting (the first).
    after_first: Vec<Vec<i64>>,
}

impl Tally {
    fn new(packets: &[Vec<(u32, i64)>], points: Vec<u32>) -> Self {
        let n = points.len();
        let index: FxHashMap<u32, usize> = points.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        let keep = (SAMPLE_BUDGET / (n * n).max(1)).max(MIN_SAMPLES);
        let mut t = Tally { points, seen: vec![0; n], both: vec![0; n * n], diffs: vec![Vec::new(); n * n], after_first: vec![Vec::new(); n] };
        let mut here: Vec<(usize, i64)> = Vec::new();
        for p in packets {
            let Some(first) = p.iter().map(|s| s.1).min() else { continue };
            here.clear();
            here.extend(p.iter().filter_map(|&(pt, ts)| Some((*index.get(&pt)?, ts))));
            here.sort_unstable();
            here.dedup_by_key(|x| x.0);
            for &(a, ta) in &here {
                t.seen[a] += 1;
                if t.after_first[a].len() < keep {
                    t.after_first[a].push(ta.saturating_sub(first));
                }
                for &(b, tb) in &here {
                    if a == b {
                        continue;
                    }
                    t.both[a * n + b] += 1;
                    let d = &mut t.diffs[a * n + b];
                    if d.len() < keep {
                        d.push(tb.saturating_sub(ta));
                    }
                }
            }
        }
        for d in t.diffs.iter_mut().chain(t.after_first.iter_mut()) {
            d.sort_unstable();
        }
        t
    }

    /// The median of `t_b − t_a` over the packets seen at both (point indexes).
    fn diff(&self, a: usize, b: usize) -> Option<i64> {
        percentile(&self.diffs[a * self.points.len() + b], 50)
    }

    /// Packets seen at `a` and not at `b`.
    fn only(&self, a: usize, b: usize) -> u64 {
        self.seen[a] - self.both[a * self.points.len() + b]
    }
}

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
    /// the earlier median time after a packet's first sighting. A direction seen at more
    /// than [`super::CorrelateOptions::max_path_points`] points keeps those that saw the
    /// most of its packets (ties: the lower point number); it is counted in
    /// [`Correlator::wide`].
    pub(super) fn learn_paths(&mut self, evidence: &Evidence) {
        let mut dirs: Vec<(IpAddr, IpAddr)> = evidence.keys().copied().collect();
        dirs.sort_unstable();
        let most = self.opts.max_path_points.max(1);
        for (x, y) in dirs {
            if self.paths.contains_key(&(x, y)) {
                continue;
            }
            let fwd = &evidence[&(x, y)];
            let mut count: FxHashMap<u32, u64> = FxHashMap::default();
            for &(pt, _) in fwd.iter().flatten() {
                *count.entry(pt).or_default() += 1;
            }
            let mut points: Vec<(u64, u32)> = count.into_iter().map(|(pt, n)| (n, pt)).collect();
            if points.len() > most {
                points.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                self.wide.count += 1;
                if self.wide.first.is_none() {
                    self.wide.first = Some(((x, y), points.len()));
                }
                points.truncate(most);
            }
            let mut points: Vec<u32> = points.into_iter().map(|(_, pt)| pt).collect();
            points.sort_unstable();
            let f = Tally::new(fwd, points.clone());
            let r = evidence.get(&(y, x)).map(|rev| Tally::new(rev, points));
            let n = f.points.len();
            let upstream = |a: usize, b: usize| -> Ordering {
                let (nab, nba) = (f.only(a, b), f.only(b, a));
                if nab >= 2 * nba + 2 {
                    return Ordering::Less;
                }
                if nba >= 2 * nab + 2 {
                    return Ordering::Greater;
                }
                // Positive when b sees the packets after a.
                let t = f.diff(a, b).unwrap_or(0).saturating_add(r.as_ref().and_then(|r| r.diff(b, a)).unwrap_or(0));
                0.cmp(&t)
            };
            let mut ranked: Vec<(usize, i64, u32)> = (0..n)
                .map(|a| {
                    let wins = (0..n).filter(|&b| b != a && upstream(a, b) == Ordering::Less).count();
                    (wins, percentile(&f.after_first[a], 50).unwrap_or(0), f.points[a])
                })
                .collect();
            ranked.sort_by(|l, r| r.0.cmp(&l.0).then(l.1.cmp(&r.1)).then(l.2.cmp(&r.2)));
            self.paths.insert((x, y), ranked.into_iter().map(|(_, _, p)| p).collect());
        }
    }
}
