//! Arbitrary bytes as two capture files, through the whole engine
//! (`netcap_core::analysis`): points, the time-ordered merge, chunks on a thread pool,
//! the TCP analysis in shards, the correlator, findings — and file by file.
//!
//! The bytes are the first input, and their first `len * last byte / 256` bytes the
//! second: a capture and the same capture cut short, as two points that saw the same
//! packets (so the correlator matches them, and seed files work as they are). Each run must
//! end (no panic), deliver every frame once, number flows 0..n in order of first frame,
//! and give the same outcome with 1 and 3 threads: the same points, flows, report and
//! frames seen, in the same order (`netcap_fuzz::check_engine`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::analysis::Order;
use netcap_fuzz::check_engine;

fuzz_target!(|data: &[u8]| {
    let Some(&cut) = data.last() else { return };
    let (a, b) = (data, &data[..data.len() * usize::from(cut) / 256]);
    check_engine(a, b, &[Order::Time, Order::Files]);
});
