//! One frame of a chosen link type, decoded with the default options and with a
//! variant (an extra VXLAN port, tunnel depth 1, few layers), its layers serialised,
//! and the decoder's invariants checked (see `netcap_fuzz::check_decode`).
//!
//! Input: 2 bytes choose the link type (the first byte modulo 32 picks one of the 28
//! link types netcap decodes — 0..=9 as before issue 11, then the ones it added —,
//! 28..=31 take the two bytes as any u16), the rest is the frame. The variant's extra
//! VXLAN port is `second byte << 8 | 0x17`, its layer cap `1 + (second byte & 0x1f)`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::capture::LinkType;
use netcap_fuzz::blocks::LINK_TYPES;
use netcap_fuzz::check_decode;

fuzz_target!(|input: &[u8]| {
    let [a, b, data @ ..] = input else { return };
    let link = LinkType(match LINK_TYPES.get(usize::from(a % 32)) {
        Some(&t) => t,
        None => u16::from_be_bytes([*a, *b]),
    });
    check_decode(link, data, *b);
});
