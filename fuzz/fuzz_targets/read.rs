//! Arbitrary bytes as a capture file: read every frame, decode it, fold it into a
//! summary and serialise its JSON record, as `netcap packets` / `netcap summary` do.
//!
//! When the first byte is odd and the input is not compressed already, the same bytes
//! are also gzip-compressed and read again: the compressed read must give exactly the
//! same frames, records, points, error, warnings and metadata (the input itself is used
//! whole, so seed files need no prefix byte).

#![no_main]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use netcap_fuzz::read_capture;

/// Compressed inputs (gzip, Zstandard, xz): the reader undoes one layer of
/// compression, so a compressed input gzip-compressed again reads differently.
const COMPRESSED: [&[u8]; 3] = [&[0x1f, 0x8b], &[0x28, 0xb5, 0x2f, 0xfd], &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]];

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).expect("compress to memory");
    e.finish().expect("compress to memory")
}

fuzz_target!(|data: &[u8]| {
    let plain = read_capture(data.to_vec());
    let odd = data.first().is_some_and(|b| b & 1 == 1);
    if odd && !COMPRESSED.iter().any(|m| data.starts_with(m)) {
        let compressed = read_capture(gzip(data));
        assert_eq!(plain, compressed, "the gzip-compressed file reads differently");
    }
});
