//! The byte reader behind the structure-aware generators: a fuzz input read as a
//! script of small integers. Reading past the end gives zeros, so every input is a
//! complete script and a short input describes a short structure. Integers are
//! little-endian (the seed writer, `fuzz/seed.py`, packs them with `struct`).

/// A fuzz input read front to back.
#[derive(Debug, Clone)]
pub struct Script<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Script<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Script { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.at.min(self.bytes.len());
        let end = start.saturating_add(n).min(self.bytes.len());
        self.at = self.at.saturating_add(n);
        &self.bytes[start..end]
    }

    /// A length-prefixed (u16) byte string.
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    /// A fault selector: a byte below 16 names a fault (`Some(0..=15)`), any other
    /// value none, so most random bytes and the seeds' 0xff mean "well formed".
    pub fn fault(&mut self) -> Option<u8> {
        let b = self.u8();
        (b < 16).then_some(b)
    }
}

/// RFC 1071 ones'-complement sum of 16-bit big-endian words (an odd last byte padded
/// with zero), added to `init`, not folded. Written here rather than taken from
/// `netcap_core::checksum` so that the generators do not share a bug with the code
/// under test.
pub fn ones_sum(init: u32, bytes: &[u8]) -> u32 {
    let mut s = u64::from(init);
    for pair in bytes.chunks(2) {
        s += u64::from(u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]));
    }
    while s > 0xffff_ffff {
        s = (s & 0xffff_ffff) + (s >> 32);
    }
    s as u32
}

/// The checksum field value for a sum: the ones' complement of the folded sum.
pub fn checksum(sum: u32) -> u16 {
    let mut s = sum;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}
