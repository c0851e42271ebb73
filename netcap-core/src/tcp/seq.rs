//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4), with
//! arithmetic that wraps and never panics.

/// A sequence (or acknowledgement) number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Seq(pub u32);

impl Seq {
    /// `self + n`, wrapping.
    #[must_use]
    pub fn plus(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }

    /// The signed distance `self - other` in sequence space (RFC 1982 style: valid while
    /// the two are less than 2^31 apart).
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// Whether `self` comes before `other` in sequence space (modulo 2^32).
    pub fn lt(self, other: Seq) -> bool {
        self.diff(other) < 0
    }

    /// Whether `self` comes before `other` in sequence space, or equals it.
    pub fn le(self, other: Seq) -> bool {
        self.diff(other) <= 0
    }

    /// Whether `self` comes after `other` in sequence space (modulo 2^32).
    pub fn gt(self, other: Seq) -> bool {
        self.diff(other) > 0
    }

    /// Whether `self` comes after `other` in sequence space, or equals it.
    pub fn ge(self, other: Seq) -> bool {
        self.diff(other) >= 0
    }

    /// The later of two numbers in sequence space.
    #[must_use]
    pub fn max(self, other: Seq) -> Seq {
        if self.lt(other) {
            other
        } else {
            self
        }
    }

    /// The earlier of two numbers in sequence space.
    #[must_use]
    pub fn min(self, other: Seq) -> Seq {
        if self.lt(other) {
            self
        } else {
            other
        }
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The sequence space one direction has covered, as a short list of disjoint,
/// non-adjacent half-open ranges `[start, end)` in increasing order relative to a base.
///
/// Holes appear where a segment was not captured (or not yet sent). At most
/// [`SeqRanges::MAX`] ranges are kept: past that the two oldest ranges are merged, so
/// the oldest hole is forgotten (treated as covered), which is the conservative choice
/// for telling a retransmission from a first transmission.
#[derive(Debug, Clone, Default)]
pub struct SeqRanges {
    ranges: Vec<(Seq, Seq)>,
}

impl SeqRanges {
    /// Most disjoint ranges kept per direction.
    pub const MAX: usize = 32;

    /// Whether no range is held.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether any byte of `[start, end)` is covered.
    pub fn overlaps(&self, start: Seq, end: Seq) -> bool {
        start.lt(end) && self.ranges.iter().any(|&(s, e)| start.lt(e) && s.lt(end))
    }

    /// Whether every byte of `[start, end)` is covered.
    pub fn covers(&self, start: Seq, end: Seq) -> bool {
        self.ranges.iter().any(|&(s, e)| s.le(start) && end.le(e))
    }

    /// Adds `[start, end)`, merging what touches it.
    pub fn insert(&mut self, start: Seq, end: Seq) {
        if !start.lt(end) {
            return;
        }
        // Fast path: in-order data extends the last range.
        if let Some(last) = self.ranges.last_mut() {
            if last.0.le(start) && start.le(last.1) {
                last.1 = last.1.max(end);
                return;
            }
        }
        let (mut s, mut e) = (start, end);
        // Ranges are kept in order; merge every range that overlaps or touches.
        self.ranges.retain(|&(rs, re)| {
            if rs.le(e) && s.le(re) {
                s = s.min(rs);
                e = e.max(re);
                false
            } else {
                true
            }
        });
        let at = self.ranges.iter().position(|&(rs, _)| e.lt(rs)).unwrap_or(self.ranges.len());
        self.ranges.insert(at, (s, e));
        if self.ranges.len() > Self::MAX {
            let (s0, _) = self.ranges[0];
            let (_, e1) = self.ranges[1];
            self.ranges.splice(0..2, [(s0, e1)]);
        }
    }

    /// Drops everything before `seq` (acknowledged long ago), keeping the list short.
    pub fn forget_before(&mut self, seq: Seq) {
        self.ranges.retain(|&(_, e)| seq.lt(e));
        if let Some(first) = self.ranges.first_mut() {
            if first.0.lt(seq) {
                first.0 = seq;
            }
        }
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[(Seq, Seq)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap() {
        let a = Seq(u32::MAX - 10);
        let b = a.plus(20);
        assert_eq!(b, Seq(9));
        assert!(a.lt(b) && b.gt(a) && a.le(a) && b.ge(b));
        assert_eq!(b.diff(a), 20);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn ranges_merge_and_report_holes() {
        let mut r = SeqRanges::default();
        r.insert(Seq(100), Seq(200));
        r.insert(Seq(300), Seq(400));
        assert!(r.overlaps(Seq(150), Seq(160)));
        assert!(!r.overlaps(Seq(200), Seq(300)), "the hole");
        assert!(r.overlaps(Seq(250), Seq(301)));
        assert!(r.covers(Seq(300), Seq(400)));
        assert!(!r.covers(Seq(150), Seq(350)));
        r.insert(Seq(200), Seq(300));
        assert_eq!(r.ranges(), &[(Seq(100), Seq(400))]);
        r.forget_before(Seq(150));
        assert_eq!(r.ranges(), &[(Seq(150), Seq(400))]);
    }

    #[test]
    fn ranges_across_the_wrap() {
        let mut r = SeqRanges::default();
        r.insert(Seq(u32::MAX - 5), Seq(5));
        assert!(r.covers(Seq(u32::MAX), Seq(2)));
        r.insert(Seq(5), Seq(10));
        assert_eq!(r.ranges(), &[(Seq(u32::MAX - 5), Seq(10))]);
    }

    #[test]
    fn too_many_holes_forget_the_oldest() {
        let mut r = SeqRanges::default();
        for i in 0..(SeqRanges::MAX as u32 + 5) {
            r.insert(Seq(i * 10), Seq(i * 10 + 5));
        }
        assert_eq!(r.ranges().len(), SeqRanges::MAX);
        assert!(r.covers(Seq(0), Seq(40)), "oldest holes merged away");
        assert!(!r.overlaps(Seq(355), Seq(360)), "recent holes kept");
    }
}
