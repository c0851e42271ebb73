//! Clock offsets between capture points, estimated from packets seen at both, in both
//! directions (the NTP idea, RFC 5905 §8, on minimum delays).
//!
//! For points A and B and the packets of one inner direction, `m1` is the smallest
//! `t_B − t_A`; for the packets of the opposite direction, `m2` is the smallest
//! `t_A − t_B`. With B's clock ahead of A's by Δ and minimum one-way delays δ1, δ2
//! (negative when B is upstream), `m1 = δ1 + Δ` and `m2 = δ2 − Δ`, so
//! `Δ = (m1 − m2) / 2 + (δ2 − δ1) / 2`: the estimate `(m1 − m2) / 2` is off by half the
//! delay asymmetry, at most `|m1 + m2| / 2`, which is reported as its uncertainty.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::CaptureKeyed;

/// An offset estimate for one point relative to the reference point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// How far the point's clock is ahead of the reference's (subtract it to align).
    pub offset_ns: i64,
    /// Half the round trip of the fastest matched packets: the estimate's bound.
    pub uncertainty_ns: i64,
    /// The point it was measured against (the reference or one aligned to it).
    pub against: u32,
    /// Packets matched between the two, per direction.
    pub samples: (u64, u64),
}

/// A packet's inner source and destination and its first sighting per point.
type Sightings = (IpAddr, IpAddr, Vec<(u32, i64)>);

/// Collects first sightings of fingerprints per point, bounded.
#[derive(Debug, Default)]
pub struct ClockEstimator {
    seen: CaptureKeyed<u64, Sightings>,
    full: bool,
}

/// Fingerprints kept for the estimate.
const MAX_FINGERPRINTS: usize = 1 << 20;

impl ClockEstimator {
    /// A sighting of the packet `fp` (inner `src` → `dst`) at `point`, time `ts_ns`.
    pub fn add(&mut self, point: u32, fp: u64, src: IpAddr, dst: IpAddr, ts_ns: i64) {
        if let Some(e) = self.seen.get_mut(&fp) {
            if !e.2.iter().any(|&(p, _)| p == point) && e.2.len() < 16 {
                e.2.push((point, ts_ns));
            }
            return;
        }
        if self.seen.len() >= MAX_FINGERPRINTS {
            self.full = true;
            return;
        }
        self.seen.insert(fp, (src, dst, vec![(point, ts_ns)]));
    }

    /// Whether the sample is full (later sightings of new packets are not used).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Offsets of `points` points relative to point 0, through a tree of the pairs
    /// with the most packets matched in both directions; `None` for a point with no
    /// such path. Point 0 has offset 0.
    pub fn solve(&self, points: usize) -> Vec<Option<Estimate>> {
        // (a, b, direction a-side-first?) → min(t_b − t_a) per inner direction.
        #[derive(Default, Clone, Copy)]
        struct Pair {
            m: [Option<i64>; 2],
            n: [u64; 2],
        }
        let mut pairs: BTreeMap<(u32, u32), Pair> = BTreeMap::new();
        for (src, dst, s) in self.seen.values() {
            // Direction 0: the lower address sends.
            let dir = usize::from(src > dst);
            for (i, &(a, ta)) in s.iter().enumerate() {
                for &(b, tb) in &s[i + 1..] {
                    let (a, b, d) = if a < b { (a, b, tb.saturating_sub(ta)) } else { (b, a, ta.saturating_sub(tb)) };
                    let p = pairs.entry((a, b)).or_default();
                    // For direction 0 keep min(t_b − t_a); for direction 1 min(t_a − t_b).
                    let v = if dir == 0 { d } else { d.saturating_neg() };
                    p.m[dir] = Some(p.m[dir].map_or(v, |m| m.min(v)));
                    p.n[dir] += 1;
                }
            }
        }
        let mut out: Vec<Option<Estimate>> = vec![None; points];
        if points == 0 {
            return out;
        }
        out[0] = Some(Estimate { offset_ns: 0, uncertainty_ns: 0, against: 0, samples: (0, 0) });
        loop {
            // The best pair joining an estimated point to one not yet estimated.
            let best = pairs
                .iter()
                .filter_map(|(&(a, b), p)| {
                    let (m1, m2) = (p.m[0]?, p.m[1]?);
                    let (ea, eb) = (out.get(a as usize)?.as_ref(), out.get(b as usize)?.as_ref());
                    match (ea, eb) {
                        (Some(_), None) => Some((p.n[0].min(p.n[1]), a, b, m1, m2, p.n)),
                        (None, Some(_)) => Some((p.n[0].min(p.n[1]), a, b, m1, m2, p.n)),
                        _ => None,
                    }
                })
                .max_by_key(|x| (x.0, std::cmp::Reverse((x.1, x.2))));
            let Some((_, a, b, m1, m2, n)) = best else { break };
            // Δ = clock(b) − clock(a).
            // Halves first: the sums of two extreme timestamps differences cannot overflow.
            let delta = (m1 / 2).saturating_sub(m2 / 2);
            let unc = (m1 / 2).saturating_add(m2 / 2).saturating_abs();
            let (known, new, sign) = if out[a as usize].is_some() { (a, b, 1) } else { (b, a, -1) };
            let base = out[known as usize].map_or(0, |e| e.offset_ns);
            out[new as usize] =
                Some(Estimate { offset_ns: base.saturating_add(delta.saturating_mul(sign)), uncertainty_ns: unc, against: known, samples: (n[0], n[1]) });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn an_offset_is_recovered_from_both_directions() {
        let (x, y) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        let mut e = ClockEstimator::default();
        // Point 1's clock is 5 ms ahead; one-way delays 100 µs (x → y) and 140 µs.
        let ahead = 5_000_000;
        for k in 0..10i64 {
            let t = k * 1_000_000;
            e.add(0, 2 * k as u64, x, y, t);
            e.add(1, 2 * k as u64, x, y, t + 100_000 + ahead + k * 10);
            e.add(1, 2 * k as u64 + 1, y, x, t + 500_000 + ahead);
            e.add(0, 2 * k as u64 + 1, y, x, t + 500_000 + 140_000 + k * 10);
        }
        let est = e.solve(2);
        let p1 = est[1].unwrap();
        assert_eq!(p1.against, 0);
        assert_eq!(p1.samples, (10, 10));
        assert_eq!(p1.uncertainty_ns, 120_000, "half the 240 µs round trip");
        assert!((p1.offset_ns - ahead).abs() <= 20_000, "{p1:?}: off by half the asymmetry");
    }

    #[test]
    fn one_direction_only_gives_no_estimate() {
        let (x, y) = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        let mut e = ClockEstimator::default();
        e.add(0, 1, x, y, 0);
        e.add(1, 1, x, y, 100);
        assert_eq!(e.solve(2)[1], None);
    }
}
