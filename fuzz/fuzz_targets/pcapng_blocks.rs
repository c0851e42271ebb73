//! A pcapng file described by the input (`netcap_fuzz::blocks`: SHB in both byte orders,
//! IDB, EPB, SPB, obsolete PB, NRB, ISB, DSB, custom, systemd-journal and unknown blocks,
//! their options, lengths mostly right, packet data raw or from a tunnel-stack script,
//! and repeat steps for the extreme shapes: many interfaces, sections, ifindexes,
//! options, names, huge comments), read with the `read` target's checks
//! (`netcap_fuzz::read_capture`) and run through the engine as the `engine` target
//! does, time-ordered, the file and its first half as two points, 1 and 3 threads.
//! With `NETCAP_FUZZ_ENCODED` set, the file is also written there (`encoded_path`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::analysis::Order;
use netcap_fuzz::{blocks, check_engine, read_capture};

fuzz_target!(|input: &[u8]| {
    let file = blocks::build(input);
    if let Some(path) = netcap_fuzz::encoded_path() {
        std::fs::write(path, &file).expect("write the encoded file");
    }
    read_capture(file.clone());
    check_engine(&file, &file[..file.len() / 2], &[Order::Time]);
});
