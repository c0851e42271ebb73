//! Timestamp arithmetic: capture ticks → i64 nanoseconds since the Unix epoch.
//!
//! All intermediate values are i128, so nothing overflows; the final value saturates at
//! the i64 range (±292 years around 1970). pcap-parser's `build_ts_resolution` rejects
//! every power-of-two `if_tsresol` (it tests the raw byte, MSB included, against 63) and
//! its `if_tsoffset` helper reads little-endian even in big-endian sections, so this
//! module owns the arithmetic.

/// Length of one timestamp tick, from a pcapng `if_tsresol` option (or a pcap magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsResolution {
    /// One tick is 10^-n s (`if_tsresol` MSB 0).
    Decimal(u8),
    /// One tick is 2^-n s (`if_tsresol` MSB 1).
    Binary(u8),
}

const NS_PER_S: i128 = 1_000_000_000;

impl TsResolution {
    /// Microseconds: pcap default and pcapng default (no `if_tsresol`).
    pub(crate) const MICROS: TsResolution = TsResolution::Decimal(6);
    /// Nanoseconds: nanosecond pcap magic.
    pub(crate) const NANOS: TsResolution = TsResolution::Decimal(9);

    /// Decodes the one-byte `if_tsresol` option value.
    pub(crate) fn from_option(raw: u8) -> TsResolution {
        if raw & 0x80 == 0 {
            TsResolution::Decimal(raw)
        } else {
            TsResolution::Binary(raw & 0x7f)
        }
    }

    /// Nanoseconds in `ticks` ticks, rounded down (Wireshark rounds the same way).
    fn ticks_to_ns(self, ticks: u64) -> i128 {
        // ticks < 2^64, so ticks * 10^9 < 2^94: no overflow in i128.
        let scaled = i128::from(ticks) * NS_PER_S;
        match self {
            // 10^38 is the largest power of ten an i128 holds; beyond it the result is 0.
            TsResolution::Decimal(n) if n <= 38 => scaled / 10i128.pow(u32::from(n)),
            TsResolution::Decimal(_) => 0,
            // n <= 127 and scaled < 2^94: the shift is always in range.
            TsResolution::Binary(n) => scaled >> n,
        }
    }

    /// The timestamp of a pcapng packet: `ticks` in this resolution plus `offset_s`
    /// seconds (`if_tsoffset`), in ns since the epoch, saturated to the i64 range.
    pub(crate) fn timestamp_ns(self, ticks: u64, offset_s: i64) -> i64 {
        let ns = self.ticks_to_ns(ticks) + i128::from(offset_s) * NS_PER_S;
        saturate(ns)
    }

    /// Human form for summaries: `1e-6`, `1e-9`, `2^-20`.
    pub(crate) fn describe(self) -> String {
        match self {
            TsResolution::Decimal(n) => format!("1e-{n}"),
            TsResolution::Binary(n) => format!("2^-{n}"),
        }
    }
}

/// A pcap record timestamp: whole seconds plus a fraction in µs or ns units.
pub(crate) fn pcap_timestamp_ns(secs: u32, frac: u32, nanos: bool) -> i64 {
    let unit: i128 = if nanos { 1 } else { 1_000 };
    saturate(i128::from(secs) * NS_PER_S + i128::from(frac) * unit)
}

fn saturate(ns: i128) -> i64 {
    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_resolutions() {
        // 1.5 s in µs ticks.
        assert_eq!(
            TsResolution::MICROS.timestamp_ns(1_500_000, 0),
            1_500_000_000
        );
        // ns ticks pass through.
        assert_eq!(
            TsResolution::NANOS.timestamp_ns(1_234_567_891, 0),
            1_234_567_891
        );
        // 10^-3: 7 ms.
        assert_eq!(TsResolution::Decimal(3).timestamp_ns(7, 0), 7_000_000);
        // 10^-12 (ps): 1_000_999 ps = 1000 ns, rounded down.
        assert_eq!(TsResolution::Decimal(12).timestamp_ns(1_000_999, 0), 1_000);
        // 10^0: whole seconds.
        assert_eq!(TsResolution::Decimal(0).timestamp_ns(3, 0), 3_000_000_000);
        // Absurdly fine resolutions give 0, never a panic.
        assert_eq!(TsResolution::Decimal(127).timestamp_ns(u64::MAX, 0), 0);
        assert_eq!(TsResolution::Decimal(39).timestamp_ns(u64::MAX, 0), 0);
        // 2^64-1 ticks of 10^-38 s: 1.8e-19 s = 0 ns.
        assert_eq!(TsResolution::Decimal(38).timestamp_ns(u64::MAX, 0), 0);
    }

    #[test]
    fn binary_resolutions() {
        // 2^-20 s ticks: 5.5 s = 5.5 * 2^20 ticks.
        let ticks = (5u64 << 20) + (1 << 19);
        assert_eq!(
            TsResolution::Binary(20).timestamp_ns(ticks, 0),
            5_500_000_000
        );
        // 2^-30: one tick = 0.931 ns, 3 ticks = 2.79 ns -> 2.
        assert_eq!(TsResolution::Binary(30).timestamp_ns(3, 0), 2);
        // 2^0: seconds.
        assert_eq!(TsResolution::Binary(0).timestamp_ns(2, 0), 2_000_000_000);
        // 2^-127: never a panic.
        assert_eq!(TsResolution::Binary(127).timestamp_ns(u64::MAX, 0), 0);
        assert_eq!(
            TsResolution::from_option(0x80 | 20),
            TsResolution::Binary(20)
        );
        assert_eq!(TsResolution::from_option(9), TsResolution::NANOS);
        assert_eq!(TsResolution::from_option(0xff), TsResolution::Binary(127));
    }

    #[test]
    fn offsets_and_saturation() {
        // if_tsoffset 1000 s added to 5.5 s.
        let ticks = (5u64 << 20) + (1 << 19);
        assert_eq!(
            TsResolution::Binary(20).timestamp_ns(ticks, 1000),
            1_005_500_000_000
        );
        // Negative offsets move before the epoch.
        assert_eq!(TsResolution::MICROS.timestamp_ns(1, -1), -999_999_000);
        // Saturation both ways.
        assert_eq!(TsResolution::Decimal(0).timestamp_ns(u64::MAX, 0), i64::MAX);
        assert_eq!(TsResolution::MICROS.timestamp_ns(0, i64::MIN), i64::MIN);
        assert_eq!(
            TsResolution::MICROS.timestamp_ns(u64::MAX, i64::MAX),
            i64::MAX
        );
    }

    #[test]
    fn pcap_timestamps() {
        assert_eq!(pcap_timestamp_ns(1, 2, false), 1_000_002_000);
        assert_eq!(pcap_timestamp_ns(1, 2, true), 1_000_000_002);
        assert_eq!(
            pcap_timestamp_ns(u32::MAX, u32::MAX, false),
            4_294_967_295_000_000_000 + 4_294_967_295_000
        );
    }

    #[test]
    fn descriptions() {
        assert_eq!(TsResolution::MICROS.describe(), "1e-6");
        assert_eq!(TsResolution::NANOS.describe(), "1e-9");
        assert_eq!(TsResolution::Binary(20).describe(), "2^-20");
    }
}
