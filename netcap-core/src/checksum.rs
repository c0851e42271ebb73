//! Internet checksums (RFC 1071) and their classified verdicts.
//!
//! A checksum is judged once, in one pass over its bytes, and the result is a
//! [`Verdict`] — never a bare bool — because the reasons a stored value differs from
//! the computed one matter more than the fact: an offload artefact of the capturing
//! host (`partial`) is not a wire error, and a stored `0xffff` is sometimes right
//! (UDP whose computed sum is 0, RFC 768) and sometimes the flannel bug.
//!
//! # Arithmetic
//! The ones'-complement sum is taken over 32-bit little-endian words into a 64-bit
//! accumulator (no carry handling in the loop, which the compiler vectorises), folded
//! to 16 bits with end-around carry and byte-swapped at the end: RFC 1071 §2(B) shows
//! the sum is independent of byte order, and 2^16 ≡ 1 (mod 2^16 − 1) makes the 32-bit
//! words fold exactly. A slice of up to 2^32 words cannot overflow the accumulator.
//!
//! # Verification
//! A stored value is `good` exactly when the ones'-complement sum over the covered
//! bytes *including* the stored field is 0xffff, which is what a Linux receiver checks
//! (`csum_fold(...) == 0`). This accepts both encodings of zero where the protocol
//! allows them: for TCP, a stored 0xffff where 0x0000 was computed is accepted by the
//! receiver and is `good`. The expected value comes from the same pass: the field's
//! exact contribution is subtracted from the integer accumulator.
//!
//! # References
//! RFC 1071 (computing the Internet checksum), RFC 1624 (incremental update, −0/+0),
//! RFC 768 (UDP: computed 0 is sent as 0xffff, 0 means "none"), RFC 8200 §8.1 (IPv6
//! pseudo-header; zero UDP checksum illegal), RFC 6935 / 6936 (zero UDP checksum allowed
//! for tunnels over IPv6).

use serde::Serialize;

/// How a stored checksum compares with the bytes it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// The stored value is correct.
    Good,
    /// The stored value is wrong: a receiver drops the packet.
    Bad,
    /// UDP over IPv4 (or a tunnel port over IPv6) with stored 0: no checksum was computed.
    Absent,
    /// UDP over IPv6 with stored 0 on a non-tunnel port (RFC 8200 §8.1).
    IllegalZero,
    /// The stored value is the pseudo-header sum (or its complement) only: the capture
    /// was taken on the sending host before the NIC filled in the checksum (TX offload).
    Partial,
    /// Bytes the checksum covers are missing (snaplen, IP fragment, TSO/GSO super-frame).
    Unverifiable,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 6] = [
        Status::Good,
        Status::Bad,
        Status::Absent,
        Status::IllegalZero,
        Status::Partial,
        Status::Unverifiable,
    ];

    /// The snake_case name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Good => "good",
            Status::Bad => "bad",
            Status::Absent => "absent",
            Status::IllegalZero => "illegal_zero",
            Status::Partial => "partial",
            Status::Unverifiable => "unverifiable",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one checksum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Verdict {
    /// How the stored value compares with the bytes it covers.
    pub status: Status,
    /// The value in the field, as captured.
    pub stored: u16,
    /// The value a correct sender writes (for UDP a computed 0 is written 0xffff);
    /// `None` when the covered bytes are not all present.
    pub expected: Option<u16>,
}

impl std::fmt::Display for Verdict {
    /// The verdict as `netcap packets` prints it after a layer: the stored value and what
    /// it means, with the value a correct sender writes where that matters.
    ///
    /// | status | text |
    /// |---|---|
    /// | good | `csum 0x3525 ok` |
    /// | bad | `csum 0xffff BAD (expected 0x3525)` |
    /// | absent | `csum 0 absent` |
    /// | illegal_zero | `csum 0 ILLEGAL (zero over IPv6)` |
    /// | partial | `csum 0x8a3c partial (TX offload, expected 0x3525)` |
    /// | unverifiable | `csum 0x3525 unverifiable` |
    ///
    /// An expected value that is not known prints as `?` (never for a verdict of
    /// [`judge`], which knows it whenever the status is bad or partial).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stored = self.stored;
        let expected = |f: &mut std::fmt::Formatter<'_>| match self.expected {
            Some(e) => write!(f, "{e:#06x}"),
            None => f.write_str("?"),
        };
        match self.status {
            Status::Good => write!(f, "csum {stored:#06x} ok"),
            Status::Bad => {
                write!(f, "csum {stored:#06x} BAD (expected ")?;
                expected(f)?;
                f.write_str(")")
            }
            Status::Absent => f.write_str("csum 0 absent"),
            Status::IllegalZero => f.write_str("csum 0 ILLEGAL (zero over IPv6)"),
            Status::Partial => {
                write!(f, "csum {stored:#06x} partial (TX offload, expected ")?;
                expected(f)?;
                f.write_str(")")
            }
            Status::Unverifiable => write!(f, "csum {stored:#06x} unverifiable"),
        }
    }
}

/// Which rules apply when judging a checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// IPv4 header checksum: no pseudo-header, no zero rules.
    Ipv4Header,
    /// TCP, ICMPv6 (pseudo-header) or ICMP (none): zero is an ordinary value.
    Plain,
    /// UDP over IPv4: 0 means absent.
    UdpV4,
    /// UDP over IPv6: 0 is illegal unless `tunnel` (RFC 6935/6936), where it is absent.
    UdpV6 {
        /// The datagram carries a tunnel that may send a zero checksum over IPv6 (the
        /// decoder sets it from `UdpTunnel::zero_checksum_allowed_over_ipv6`: VXLAN,
        /// Geneve, GRE and MPLS in UDP, VXLAN-GPE): a stored 0 is then absent, not
        /// illegal.
        tunnel: bool,
    },
}

/// Unfolded ones'-complement accumulator. Add byte runs that each start at an even
/// offset of the checksummed message (all pseudo-headers and L4 headers do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum(u64);

impl Sum {
    /// An empty sum.
    pub const ZERO: Sum = Sum(0);

    /// Adds `bytes`, which must start at an even offset of the message; an odd final
    /// byte is padded with zero on the right, as RFC 1071 says.
    #[inline]
    pub fn add_bytes(self, bytes: &[u8]) -> Sum {
        Sum(self.0 + wide_sum(bytes))
    }

    /// Adds one 16-bit word given in network order.
    #[inline]
    pub fn add_u16(self, word: u16) -> Sum {
        // The accumulator holds little-endian words; swap once here.
        Sum(self.0 + u64::from(word.swap_bytes()))
    }

    /// Adds a 32-bit value given in network order (e.g. an upper-layer length).
    #[inline]
    pub fn add_u32(self, value: u32) -> Sum {
        self.add_u16((value >> 16) as u16).add_u16(value as u16)
    }

    /// Folds to 16 bits with end-around carry, in network order. A non-empty sum of
    /// non-zero data never folds to 0.
    #[inline]
    pub fn fold(self) -> u16 {
        let mut s = self.0;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        (s as u16).swap_bytes()
    }
}

/// Sums `bytes` as little-endian 32-bit words into a 64-bit accumulator.
#[inline]
fn wide_sum(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(32);
    let mut acc = 0u64;
    for chunk in &mut chunks {
        // Eight independent 32-bit lanes; the compiler turns this into vector adds.
        let mut lanes = 0u64;
        for word in chunk.chunks_exact(4) {
            lanes += u64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
        }
        acc += lanes;
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(4);
    for word in &mut words {
        acc += u64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
    }
    let mut tail = [0u8; 4];
    let last = words.remainder();
    tail[..last.len()].copy_from_slice(last);
    acc + u64::from(u32::from_le_bytes(tail))
}

/// The folded ones'-complement sum of `bytes` in network order (not complemented).
pub fn sum16(bytes: &[u8]) -> u16 {
    Sum::ZERO.add_bytes(bytes).fold()
}

/// Judges a checksum whose covered bytes are all present.
///
/// `pseudo` is the pseudo-header sum (zero for the IPv4 header and ICMP), `covered`
/// the bytes the checksum covers *including* the stored field, which sits at `field`
/// (byte offset in `covered`). Returns `None` when `covered` does not hold the field.
pub fn judge(kind: Kind, pseudo: Sum, covered: &[u8], field: usize) -> Option<Verdict> {
    let (hi, lo) = (*covered.get(field)?, *covered.get(field.checked_add(1)?)?);
    let stored = u16::from_be_bytes([hi, lo]);
    let total = pseudo.add_bytes(covered);
    // The sum without the field, exactly: the accumulator holds little-endian 32-bit
    // words taken from offset 0, so each byte of the field added `byte << 8*(pos % 4)`.
    // Subtracting that integer (never a ones'-complement subtraction, which turns a
    // true +0 into −0 for an all-zero message) gives the sum a sender computes with
    // the field zeroed.
    let shift = |pos: usize| 8 * (pos % 4) as u32;
    let field_part = (u64::from(hi) << shift(field)) + (u64::from(lo) << shift(field + 1));
    let without = Sum(total.0 - field_part).fold();
    let computed = !without;
    let expected = match kind {
        Kind::UdpV4 | Kind::UdpV6 { .. } if computed == 0 => 0xffff,
        _ => computed,
    };
    let status = if stored == 0 && matches!(kind, Kind::UdpV4 | Kind::UdpV6 { tunnel: true }) {
        Status::Absent
    } else if stored == 0 && matches!(kind, Kind::UdpV6 { tunnel: false }) {
        Status::IllegalZero
    } else if total.fold() == 0xffff {
        Status::Good
    } else if kind != Kind::Ipv4Header && is_partial(pseudo, stored) {
        Status::Partial
    } else {
        Status::Bad
    };
    Some(Verdict { status, stored, expected: Some(expected) })
}

/// A verdict for a checksum whose covered bytes are not all present.
pub fn unverifiable(stored: u16) -> Verdict {
    Verdict { status: Status::Unverifiable, stored, expected: None }
}

/// Linux with CHECKSUM_PARTIAL leaves the folded pseudo-header sum in the field
/// (`~csum_tcpudp_magic(...)`); some stacks leave its complement.
fn is_partial(pseudo: Sum, stored: u16) -> bool {
    if pseudo == Sum::ZERO {
        return false;
    }
    let p = pseudo.fold();
    stored == p || stored == !p
}

/// IPv4 pseudo-header sum (RFC 793 §3.1): source, destination, protocol, length.
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u32) -> Sum {
    Sum::ZERO.add_bytes(&src).add_bytes(&dst).add_u16(u16::from(proto)).add_u32(len)
}

/// IPv6 pseudo-header sum (RFC 8200 §8.1): source, final destination, upper-layer
/// length (32 bits), next header.
pub fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], proto: u8, len: u32) -> Sum {
    Sum::ZERO.add_bytes(src).add_bytes(dst).add_u32(len).add_u16(u16::from(proto))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: 16-bit big-endian words with end-around carry, one at a time.
    fn naive(bytes: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for pair in bytes.chunks(2) {
            let w = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
            s += w;
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        assert_eq!(sum16(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
    }

    #[test]
    fn wide_sum_matches_naive_for_every_length_and_alignment() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + 7) as u8).collect();
        for start in 0..4 {
            for end in start..data.len() {
                let slice = &data[start..end];
                assert_eq!(sum16(slice), naive(slice), "start {start} end {end}");
            }
        }
    }

    #[test]
    fn all_ones_folds_to_ffff_not_zero() {
        assert_eq!(sum16(&[0xff; 64]), 0xffff);
        assert_eq!(sum16(&[0xff, 0xff]), 0xffff);
        assert_eq!(sum16(&[]), 0);
    }

    #[test]
    fn ipv4_header_good_and_bad() {
        // A header from a real capture: 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let v = judge(Kind::Ipv4Header, Sum::ZERO, &h, 10).unwrap();
        assert_eq!(v, Verdict { status: Status::Good, stored: 0xb861, expected: Some(0xb861) });
        h[10] = 0x12;
        h[11] = 0x34;
        let v = judge(Kind::Ipv4Header, Sum::ZERO, &h, 10).unwrap();
        assert_eq!(v, Verdict { status: Status::Bad, stored: 0x1234, expected: Some(0xb861) });
    }

    #[test]
    fn verdicts_display_as_netcap_packets_prints_them() {
        let v = |status, stored, expected| Verdict { status, stored, expected }.to_string();
        assert_eq!(v(Status::Good, 0x3525, Some(0x3525)), "csum 0x3525 ok");
        assert_eq!(v(Status::Bad, 0xffff, Some(0x3525)), "csum 0xffff BAD (expected 0x3525)");
        assert_eq!(v(Status::Bad, 0x1234, Some(0x0061)), "csum 0x1234 BAD (expected 0x0061)");
        assert_eq!(v(Status::Bad, 0x1234, None), "csum 0x1234 BAD (expected ?)");
        assert_eq!(v(Status::Absent, 0, Some(0x3525)), "csum 0 absent");
        assert_eq!(v(Status::IllegalZero, 0, Some(0x3525)), "csum 0 ILLEGAL (zero over IPv6)");
        assert_eq!(v(Status::Partial, 0x8a3c, Some(0x3525)), "csum 0x8a3c partial (TX offload, expected 0x3525)");
        assert_eq!(v(Status::Unverifiable, 0x0000, None), "csum 0x0000 unverifiable");
    }

    /// Builds a UDP datagram over IPv4 with the given payload and stored checksum.
    fn udp(payload: &[u8], stored: u16) -> (Sum, Vec<u8>) {
        let len = 8 + payload.len();
        let mut d = vec![0x30, 0x39, 0x21, 0x18, (len >> 8) as u8, len as u8];
        d.extend_from_slice(&stored.to_be_bytes());
        d.extend_from_slice(payload);
        (pseudo_v4([10, 0, 0, 1], [10, 0, 0, 2], 17, len as u32), d)
    }

    #[test]
    fn udp_zero_is_absent_over_ipv4_and_illegal_over_ipv6() {
        let (p, d) = udp(b"hi", 0);
        let v = judge(Kind::UdpV4, p, &d, 6).unwrap();
        assert_eq!(v.status, Status::Absent);
        assert_ne!(v.expected, Some(0));
        assert_eq!(judge(Kind::UdpV6 { tunnel: false }, p, &d, 6).unwrap().status, Status::IllegalZero);
        assert_eq!(judge(Kind::UdpV6 { tunnel: true }, p, &d, 6).unwrap().status, Status::Absent);
    }

    #[test]
    fn udp_ffff_is_good_exactly_when_the_computed_sum_is_zero() {
        // Choose a 2-byte payload making the sum without the field 0xffff.
        let (p, d) = udp(&[0, 0], 0);
        let s = p.add_bytes(&d).fold();
        let fill = !s; // adding `fill` brings the sum to 0xffff
        let (p, d) = udp(&fill.to_be_bytes(), 0xffff);
        let v = judge(Kind::UdpV4, p, &d, 6).unwrap();
        assert_eq!(v, Verdict { status: Status::Good, stored: 0xffff, expected: Some(0xffff) });
        // The same 0xffff on another payload is the flannel signature: bad.
        let (p, d) = udp(b"xy", 0xffff);
        let v = judge(Kind::UdpV4, p, &d, 6).unwrap();
        assert_eq!(v.status, Status::Bad);
        assert_ne!(v.expected, Some(0xffff));
    }

    #[test]
    fn partial_is_the_pseudo_header_sum_or_its_complement() {
        let (p, d) = udp(b"data", 0);
        let folded = p.fold();
        for stored in [folded, !folded] {
            let mut d = d.clone();
            d[6..8].copy_from_slice(&stored.to_be_bytes());
            assert_eq!(judge(Kind::UdpV4, p, &d, 6).unwrap().status, Status::Partial);
        }
    }

    #[test]
    fn an_all_zero_message_expects_ffff_at_any_field_alignment() {
        // The sum of an all-zero message is +0, its checksum !0 = 0xffff; removing the
        // stored field by ones'-complement subtraction would give −0 and expect 0.
        for field in 0..8 {
            let mut m = [0u8; 10];
            m[field] = 0x02;
            let v = judge(Kind::Plain, Sum::ZERO, &m, field).unwrap();
            assert_eq!((v.status, v.expected), (Status::Bad, Some(0xffff)), "field {field}");
            m[field] = 0xff;
            m[field + 1] = 0xff;
            let v = judge(Kind::Plain, Sum::ZERO, &m, field).unwrap();
            assert_eq!(v.status, Status::Good, "field {field}");
        }
        assert_eq!(judge(Kind::Plain, Sum::ZERO, &[0u8; 3], 2), None);
    }

    #[test]
    fn correct_value_is_found_for_any_wrong_stored_value() {
        let (p, d) = udp(b"hello world", 0);
        let good = judge(Kind::UdpV4, p, &d, 6).unwrap().expected.unwrap();
        for stored in [1u16, 0x1234, 0xfffe, good.wrapping_add(1)] {
            let mut d = d.clone();
            d[6..8].copy_from_slice(&stored.to_be_bytes());
            let v = judge(Kind::UdpV4, p, &d, 6).unwrap();
            assert_eq!(v.expected, Some(good));
        }
        let mut d = d.clone();
        d[6..8].copy_from_slice(&good.to_be_bytes());
        assert_eq!(judge(Kind::UdpV4, p, &d, 6).unwrap().status, Status::Good);
    }
}
