//! SYN retries: attempts, their offsets, and which backoff schedule they follow.
//!
//! Linux retransmits an unanswered SYN after its initial RTO of 1 s
//! (`TCP_TIMEOUT_INIT`, RFC 6298 §2.1 as amended by §5.7), doubling it each time
//! (`inet_csk_reset_xmit_timer` with exponential backoff) until `tcp_syn_retries`
//! (default 6: attempts at 0, 1, 3, 7, 15, 31, 63 s, the famous 63 s). Since Linux 6.5
//! `tcp_syn_linear_timeouts` (default 4) keeps the first retries at the initial RTO
//! before doubling: gaps 1, 1, 1, 1, 1, 2, 4 … s.

use serde::Serialize;

/// Backoff schedules netcap recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Schedule {
    /// One attempt: nothing to recognise.
    #[serde(rename = "none")]
    None,
    /// Gaps 1, 2, 4, 8 … s.
    #[serde(rename = "linux-classic")]
    LinuxClassic,
    /// Gaps 1, 1, … (at least two), then 2, 4 … s.
    #[serde(rename = "linux-linear")]
    LinuxLinear,
    /// Gaps that fit neither Linux schedule (for example a 3 s initial RTO, RFC 1122).
    #[serde(rename = "other")]
    Other,
}

impl Schedule {
    /// The name used in JSON and text output (`none`, `linux-classic`, `linux-linear`,
    /// `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::None => "none",
            Schedule::LinuxClassic => "linux-classic",
            Schedule::LinuxLinear => "linux-linear",
            Schedule::Other => "other",
        }
    }
}

const SECOND: i64 = 1_000_000_000;

/// Whether `gap` is `want` within 20 % or 100 ms, whichever is larger: timer slack,
/// jiffies rounding and the capture's own delay stay well inside it.
fn near(gap: i64, want: i64) -> bool {
    let tol = (want / 5).max(SECOND / 10);
    (gap - want).abs() <= tol
}

/// The schedule the gaps between consecutive attempts follow. Two attempts one second
/// apart fit both Linux schedules and are reported as `linux-classic`.
pub fn classify(offsets_ns: &[i64]) -> Schedule {
    if offsets_ns.len() < 2 {
        return Schedule::None;
    }
    let gaps: Vec<i64> = offsets_ns.windows(2).map(|w| w[1] - w[0]).collect();
    let classic = gaps.iter().enumerate().all(|(i, &g)| {
        let want = SECOND.checked_shl(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or(i64::MAX);
        i < 40 && near(g, want)
    });
    if classic {
        return Schedule::LinuxClassic;
    }
    // Linear: a run of ≥ 2 one-second gaps, then doubling from 2 s.
    let ones = gaps.iter().take_while(|&&g| near(g, SECOND)).count();
    let rest_doubles = gaps[ones..].iter().enumerate().all(|(i, &g)| {
        i < 40 && near(g, (2 * SECOND).checked_shl(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or(i64::MAX))
    });
    if ones >= 2 && rest_doubles {
        return Schedule::LinuxLinear;
    }
    Schedule::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(offsets: &[f64]) -> Schedule {
        classify(&offsets.iter().map(|o| (o * 1e9) as i64).collect::<Vec<_>>())
    }

    #[test]
    fn schedules() {
        assert_eq!(s(&[0.0]), Schedule::None);
        assert_eq!(s(&[0.0, 1.02, 3.05]), Schedule::LinuxClassic);
        assert_eq!(s(&[0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]), Schedule::LinuxClassic);
        assert_eq!(s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 11.0]), Schedule::LinuxLinear);
        assert_eq!(s(&[0.0, 1.0, 2.0]), Schedule::LinuxLinear);
        assert_eq!(s(&[0.0, 1.0]), Schedule::LinuxClassic, "ambiguous: classic");
        assert_eq!(s(&[0.0, 3.0, 9.0]), Schedule::Other, "3 s initial RTO (RFC 1122)");
        assert_eq!(s(&[0.0, 0.2]), Schedule::Other);
    }
}
