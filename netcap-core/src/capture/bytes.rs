//! Fixed-width integer reads in a chosen byte order that cannot panic: callers check the
//! buffer length first (once, against the record's own length fields); a read past the
//! end of the slice yields zeros instead of a panic.

use std::ops::Range;

/// Byte order of a pcap file or a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn is_big(self) -> bool {
        self == Endian::Big
    }

    pub(crate) fn u16(self, b: &[u8], field: Range<usize>) -> u16 {
        let a = array::<2>(b, field.start);
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }

    pub(crate) fn u32(self, b: &[u8], field: Range<usize>) -> u32 {
        let a = array::<4>(b, field.start);
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }

    pub(crate) fn i64(self, b: &[u8], field: Range<usize>) -> i64 {
        let a = array::<8>(b, field.start);
        match self {
            Endian::Little => i64::from_le_bytes(a),
            Endian::Big => i64::from_be_bytes(a),
        }
    }
}

/// Big-endian u32 (network order), used for the LINUX_SLL2 interface index.
pub(crate) fn be_u32(b: &[u8], field: Range<usize>) -> u32 {
    u32::from_be_bytes(array::<4>(b, field.start))
}

/// `N` bytes at `at`, or zeros when the slice is too short.
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| b.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_orders_and_never_panics() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Endian::Little.u16(&b, 0..2), 0x0201);
        assert_eq!(Endian::Big.u16(&b, 0..2), 0x0102);
        assert_eq!(Endian::Little.u32(&b, 4..8), 0x0807_0605);
        assert_eq!(Endian::Big.u32(&b, 4..8), 0x0506_0708);
        assert_eq!(Endian::Big.i64(&b, 0..8), 0x0102_0304_0506_0708);
        assert_eq!(be_u32(&b, 0..4), 0x0102_0304);
        // Out of range: zeros, no panic.
        assert_eq!(Endian::Little.u32(&b, 6..10), 0);
        assert_eq!(Endian::Little.u32(&b, usize::MAX - 1..usize::MAX), 0);
    }
}
