//! One frame of a chosen link type, decoded with the default options and with a
//! variant (an extra VXLAN port, tunnel depth 1, few layers), its layers serialised,
//! and the decoder's invariants checked (see `netcap_fuzz::check_packet`).
//!
//! Input: 2 bytes choose the link type (the first byte modulo 32 picks one of the 28
//! link types netcap decodes — 0..=9 as before issue 11, then the ones it added —,
//! 28..=31 take the two bytes as any u16), the rest is the frame. The variant's extra VXLAN port is `second byte << 8 | 0x17`, its layer cap
//! `1 + (second byte & 0x1f)`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::capture::LinkType;
use netcap_core::decode::{DecodeOptions, Decoder, LayerKind};
use netcap_fuzz::{check_expected_fixes, check_packet};

const LINK_TYPES: [u16; 28] = [
    0, 1, 12, 14, 101, 108, 113, 228, 229, 276, // before issue 11
    9, 50, 51, 104, 105, 106, 107, 127, 129, 149, 178, 192, 204, 205, 226, 239, 242, 258,
];

fuzz_target!(|input: &[u8]| {
    let [a, b, data @ ..] = input else { return };
    let selector = usize::from(a % 32);
    let link = LinkType(match LINK_TYPES.get(selector) {
        Some(&t) => t,
        None => u16::from_be_bytes([*a, *b]),
    });

    let default = Decoder::default();
    let p = default.decode(link, data);
    check_packet(default.options(), data, &p);
    check_expected_fixes(&default, link, data, &p);
    serde_json::to_writer(std::io::sink(), &p.layers).expect("layers serialise");
    serde_json::to_writer(std::io::sink(), &p.stop).expect("stop serialises");

    let mut opts = DecodeOptions::default();
    let extra = u16::from_be_bytes([*b, 0x17]);
    opts.vxlan_ports.push(extra);
    opts.max_tunnel_depth = 1;
    opts.max_layers = 1 + usize::from(b & 0x1f);
    let variant = Decoder::new(opts);
    // Reuse the default decode's packet: decode_into must clear it.
    let mut reused = p.clone();
    variant.decode_into(link, data, &mut reused);
    check_packet(variant.options(), data, &reused);
    check_expected_fixes(&variant, link, data, &reused);
    assert_eq!(reused, variant.decode(link, data), "decode_into on a used Packet differs");
    serde_json::to_writer(std::io::sink(), &reused.layers).expect("layers serialise");

    // The variant only cuts deeper: up to where it stopped, it agrees with the default
    // decode unless its extra VXLAN port changed the meaning of a UDP payload.
    let extra_port = reused.layers.iter().any(|l| {
        matches!(l.kind, LayerKind::Udp { dst_port, .. }
            if dst_port == extra && !default.options().vxlan_ports.contains(&extra))
    });
    if !extra_port {
        let n = reused.layers.len();
        assert!(n <= p.layers.len(), "the variant decoded more layers than the default");
        assert_eq!(&reused.layers[..], &p.layers[..n], "the variant decoded other layers");
    }
});
