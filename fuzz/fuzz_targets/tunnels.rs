//! A stack of headers described by the input (`netcap_fuzz::stack`: Ethernet, 802.1Q /
//! QinQ, MPLS, IPv4 with options, IPv6 with extension headers, UDP, VXLAN, Geneve with
//! options, GRE, IPIP / 6in4 / 4in6, TCP with options, ICMP quoting), encoded into a
//! frame with computed lengths and checksums (some deliberately wrong), then checked as
//! the `decode` target checks a frame (`netcap_fuzz::check_decode`; the variant byte is
//! the input's last). On top, a *clean* stack (no fault, nothing cut, each header the
//! one its outer header names) must get no `bad`, `partial` or `illegal_zero` checksum
//! verdict: every checksum in it was computed as a correct sender does. With
//! `NETCAP_FUZZ_ENCODED` set, the frame is also written there in the `decode` layout.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::checksum::Status;
use netcap_fuzz::check_decode;
use netcap_fuzz::script::Script;
use netcap_fuzz::stack::Stack;

fuzz_target!(|input: &[u8]| {
    let stack = Stack::parse(&mut Script::new(input));
    let built = stack.build();
    let variant = input.last().copied().unwrap_or(0);
    if let Some(path) = netcap_fuzz::encoded_path() {
        let selector = netcap_fuzz::blocks::LINK_TYPES.iter().position(|&t| t == built.link.0).expect("a listed link type");
        let mut bytes = vec![selector as u8, variant];
        bytes.extend_from_slice(&built.frame);
        std::fs::write(path, bytes).expect("write the encoded frame");
    }
    let p = check_decode(built.link, &built.frame, variant);
    if built.clean {
        for (i, l) in p.layers.iter().enumerate() {
            if let Some(v) = l.checksum {
                assert!(
                    !matches!(v.status, Status::Bad | Status::Partial | Status::IllegalZero),
                    "clean stack: layer {i} ({}) judged {:?} (stored {:#06x}, expected {:?}); layers {:?}",
                    l.proto(),
                    v.status,
                    v.stored,
                    v.expected,
                    p.layers.iter().map(|l| l.proto()).collect::<Vec<_>>()
                );
            }
        }
    }
});
