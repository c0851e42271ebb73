//! `checksum::sum16` (32-bit little-endian lanes, folded and byte-swapped) against the
//! textbook RFC 1071 sum: 16-bit big-endian words one at a time with end-around carry,
//! an odd last byte padded with zero. Also `Sum` built in pieces at even offsets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::checksum::{sum16, Sum};

fn naive(bytes: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
        s += u32::from(word);
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fuzz_target!(|data: &[u8]| {
    let want = naive(data);
    assert_eq!(sum16(data), want, "sum16 of {} bytes", data.len());
    // Split at an even offset chosen by the first byte: the pieces sum the same.
    let cut = (usize::from(data.first().copied().unwrap_or(0)) * 2).min(data.len() & !1);
    let (head, tail) = data.split_at(cut);
    let pieces = Sum::ZERO.add_bytes(head).add_bytes(tail).fold();
    assert_eq!(pieces, want, "sum of pieces cut at {cut}");
    // Words added one at a time as u16 / u32 give the same sum.
    let mut words = Sum::ZERO;
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        words = words.add_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]]));
    }
    for pair in quads.remainder().chunks(2) {
        words = words.add_u16(u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]));
    }
    assert_eq!(words.fold(), want, "sum of words");
});
