//! Bounded sample statistics: count, min, p50, p95, max.
//!
//! Count, min and max are exact. Percentiles are exact (nearest rank: the p-th
//! percentile of n sorted samples is the one at rank ⌈p·n/100⌉) while a flow has at
//! most [`Samples::KEEP`] samples; past that they come from a uniform reservoir sample
//! of that size (Vitter's algorithm R with a fixed-seed generator, so runs repeat).

use serde::Serialize;

/// A growing set of nanosecond samples in bounded memory.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    count: u64,
    min: i64,
    max: i64,
    kept: Vec<i64>,
    rng: u64,
}

/// What [`Samples::summary`] reports; every field but `count` is null without samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Samples added (exact, not only those kept).
    pub count: u64,
    /// Smallest sample, in ns (exact).
    pub min_ns: Option<i64>,
    /// Median (nearest rank) of the kept samples, in ns.
    pub p50_ns: Option<i64>,
    /// 95th percentile (nearest rank) of the kept samples, in ns.
    pub p95_ns: Option<i64>,
    /// Largest sample, in ns (exact).
    pub max_ns: Option<i64>,
}

impl Samples {
    /// Samples kept for percentiles per set.
    pub const KEEP: usize = 1024;

    /// Adds one sample (ns). Past [`Samples::KEEP`] samples it replaces a kept one with
    /// probability `KEEP / count` (reservoir sampling).
    pub fn add(&mut self, v: i64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        if self.kept.len() < Self::KEEP {
            self.kept.push(v);
            return;
        }
        // Algorithm R: keep the new sample with probability KEEP / count.
        let r = self.next_random() % self.count;
        if let Some(slot) = usize::try_from(r).ok().and_then(|i| self.kept.get_mut(i)) {
            *slot = v;
        }
    }

    /// Samples added so far (not only those kept).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Count, min, p50, p95 and max of the samples; see [`Summary`].
    pub fn summary(&self) -> Summary {
        if self.count == 0 {
            return Summary::default();
        }
        let mut sorted = self.kept.clone();
        sorted.sort_unstable();
        Summary {
            count: self.count,
            min_ns: Some(self.min),
            p50_ns: percentile(&sorted, 50),
            p95_ns: percentile(&sorted, 95),
            max_ns: Some(self.max),
        }
    }

    /// The p-th percentile (nearest rank) of the kept samples; the extremes (p = 0,
    /// 100) are exact.
    pub fn quantile(&self, p: u32) -> Option<i64> {
        match (self.count, p) {
            (0, _) => None,
            (_, 0) => Some(self.min),
            (_, 100) => Some(self.max),
            _ => {
                let mut sorted = self.kept.clone();
                sorted.sort_unstable();
                percentile(&sorted, p)
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for v in 1..=20 {
            s.add(v * 10);
        }
        let sum = s.summary();
        assert_eq!(sum.count, 20);
        assert_eq!((sum.min_ns, sum.max_ns), (Some(10), Some(200)));
        assert_eq!(sum.p50_ns, Some(100), "rank 10 of 20");
        assert_eq!(sum.p95_ns, Some(190), "rank 19 of 20");
        assert_eq!(Samples::default().summary(), Summary::default());
        let mut one = Samples::default();
        one.add(7);
        assert_eq!(one.summary().p95_ns, Some(7));
    }

    #[test]
    fn memory_is_bounded_and_extremes_exact() {
        let mut s = Samples::default();
        for v in 0..100_000 {
            s.add(v);
        }
        assert_eq!(s.kept.len(), Samples::KEEP);
        let sum = s.summary();
        assert_eq!((sum.count, sum.min_ns, sum.max_ns), (100_000, Some(0), Some(99_999)));
        let p50 = sum.p50_ns.unwrap();
        assert!((40_000..60_000).contains(&p50), "reservoir median {p50}");
    }
}
