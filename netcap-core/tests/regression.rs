//! Regressions found by fuzzing (`fuzz/`, see `fuzz/README.md`).
//!
//! Each input is the minimised crash file in `fixtures/fuzz-regressions/`, named
//! `<fuzz target>-<bug>`, and is run through the same code path as its fuzz target
//! (the `decode` target: 2 selector bytes, then the frame). Each test asserts what the
//! library must do with that input, not only that it does not panic.
//!
//! Besides the tests named after their bugs, `every_regression_file_replays` runs every
//! file of the folder through the path its name's prefix says, so that a file added
//! there is replayed without a code change: `decode-` (and `tunnels-`, kept as the
//! encoded frame in the `decode` layout) through the decoder, default and capped;
//! `checksum-` through `sum16`; `tcp-` has its own test only; any other (`read-`, `engine-`, `pcapng_write-`,
//! `pcapng_blocks-`, kept as the encoded file) through the reader, the decoder, the TCP
//! analysis and the correlator, and through the whole engine.

use std::path::PathBuf;

use netcap_core::capture::LinkType;
use netcap_core::checksum::Status;
use netcap_core::decode::{Decoder, LayerKind, Packet, StopReason};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fuzz-regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `decode` fuzz target's input layout: selector byte 0 (modulo 32, below 28) picks
/// a link type netcap decodes, byte 1 is only used for the options variant, the rest is
/// the frame. (Before issue 11 the selector was the low nibble, 0..=9; the first ten
/// link types kept their places, so older inputs keep their meaning where their first
/// byte is below 32.)
fn decode_target_input(name: &str) -> (LinkType, Vec<u8>) {
    const LINK_TYPES: [u16; 28] = [
        0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9, 50, 51, 104, 105, 106, 107, 127, 129, 149, 178,
        192, 204, 205, 226, 239, 242, 258,
    ];
    let input = fixture(name);
    let link = LinkType(LINK_TYPES[usize::from(input[0] % 32)]);
    (link, input[2..].to_vec())
}

/// The ICMP layer of a decoded frame and the frame offset of its checksum field.
fn icmp(p: &Packet) -> (usize, &netcap_core::decode::Layer) {
    let (i, l) = p
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| matches!(l.kind, LayerKind::Icmp { .. }))
        .expect("an icmp layer");
    (i, l)
}

/// Fuzz target `decode`: an ICMP message whose bytes other than the checksum field are
/// all zero (echo reply, type 0 code 0, one zero data byte) with a wrong stored
/// checksum 0x0200 was judged `bad` with `expected` 0x0000. But 0x0000 is wrong too:
/// the ones'-complement sum of an all-zero message is +0, its checksum is !0 = 0xffff,
/// and a Linux receiver (`csum_fold(sum) == 0`) drops the message with 0x0000 and
/// accepts it with 0xffff. `expected` must be the value a correct sender writes, 0xffff.
///
/// Frame: LINKTYPE_NULL family 2, IPv4 (total length 25, protocol 1) from 0.2.0.0 to
/// 162.162.0.0, ICMP `00 00 02 00 00`.
#[test]
fn icmp_all_zero_message_expects_ffff_not_zero() {
    let (link, frame) = decode_target_input("decode-icmp-all-zero-expected");
    assert_eq!(link, LinkType::NULL);
    let decoder = Decoder::default();
    let p = decoder.decode(link, &frame);
    let protos: Vec<_> = p.layers.iter().map(|l| l.proto()).collect();
    assert_eq!(protos, ["null", "ipv4", "icmp"]);
    let (index, layer) = icmp(&p);
    let field = layer.offset as usize + 2;
    assert_eq!(&frame[layer.offset as usize..], [0, 0, 0x02, 0, 0], "the ICMP message");
    let v = layer.checksum.expect("icmp verdict");
    assert_eq!(v.status, Status::Bad);
    assert_eq!(v.stored, 0x0200);
    assert_eq!(v.expected, Some(0xffff), "the checksum of an all-zero ICMP message is 0xffff");
    // The input's IPv4 header checksum is wrong too (its sum is 0xe4be), so the
    // outermost failing checksum, where the receiver drops it, is the IP header.
    assert_eq!(p.drop.map(|d| (d.layer_index, d.counter)), Some((1, "IpExtInCsumErrors")));
    assert_eq!(p.layers[1].checksum.map(|c| c.status), Some(Status::Bad));

    // With the IP header checksum repaired, the ICMP verdict decides: the expected value
    // is accepted, 0x0000 is not (and counts as IcmpInCsumErrors).
    let mut repaired = frame.clone();
    let ip = p.layers[1].offset as usize;
    repaired[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
    let c = !netcap_core::checksum::sum16(&repaired[ip..ip + 20]);
    repaired[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
    for (stored, status) in [(0xffff_u16, Status::Good), (0x0000, Status::Bad)] {
        let mut fixed = repaired.clone();
        fixed[field..field + 2].copy_from_slice(&stored.to_be_bytes());
        let p = decoder.decode(link, &fixed);
        let v = icmp(&p).1.checksum.expect("icmp verdict");
        assert_eq!((v.stored, v.status), (stored, status), "stored {stored:#06x}");
        assert_eq!(v.expected, Some(0xffff), "stored {stored:#06x}");
        let drop = p.drop.map(|d| (d.layer_index, d.counter));
        let want = (status == Status::Bad).then_some((index, "IcmpInCsumErrors"));
        assert_eq!(drop, want, "stored {stored:#06x}");
    }
}

/// Fuzz target `decode`: panic `index out of bounds: the len is 8 but the index is 8`
/// in `Walk::gre` (decode/mod.rs). An enhanced GRE header (version 1, RFC 2637) with
/// the checksum (C) and key (K) flags set: the version-1 length (8 + 4 per sequence /
/// acknowledgment number) does not count the checksum word, but the key is then read
/// after it, at byte 8 of an 8-byte header. `decode_into` is documented never to panic.
///
/// RFC 2637 §4.1 requires C = 0, R = 0 and K = 1 in version 1, so the header is
/// malformed: decoding must stop at the GRE header (as `bad_header`, or `truncated` if
/// the checksum word is counted: the frame ends after 8 GRE bytes either way), after the
/// `null` and `ipv4` layers, and push no `gre` layer it could not read.
///
/// Frame: LINKTYPE_NULL family 2, IPv4 protocol 47 (total length 90, 24 bytes captured),
/// GRE `a8 01 0b 4f 6e 8d 28 da` (flags C|K, version 1, protocol 0x0b4f).
#[test]
fn gre_v1_with_checksum_flag_does_not_read_past_its_header() {
    let (link, frame) = decode_target_input("decode-gre-v1-checksum-flag");
    assert_eq!(link, LinkType::NULL);
    assert_eq!(&frame[24..], [0xa8, 0x01, 0x0b, 0x4f, 0x6e, 0x8d, 0x28, 0xda], "the GRE header");
    let p = Decoder::default().decode(link, &frame);
    let protos: Vec<_> = p.layers.iter().map(|l| l.proto()).collect();
    assert_eq!(protos, ["null", "ipv4"]);
    let stop = p.stop.expect("decoding stops at the GRE header");
    assert_eq!((stop.layer, stop.offset), ("gre", 24));
    assert!(
        matches!(stop.reason, StopReason::BadHeader | StopReason::Truncated),
        "stop reason {:?}",
        stop.reason
    );
}

/// The well-formed neighbour of the input above: version 1 with K and S (no C), key at
/// byte 4 and sequence number at byte 8 of a 12-byte header.
#[test]
fn gre_v1_key_and_sequence_are_read_from_their_fields() {
    let (link, mut frame) = decode_target_input("decode-gre-v1-checksum-flag");
    frame.truncate(24);
    // IPv4 total length: 20 + 12 GRE bytes; checksum left as is (not under test).
    frame[6..8].copy_from_slice(&32u16.to_be_bytes());
    frame.extend([0x30, 0x01, 0x88, 0x0b, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x07]);
    let p = Decoder::default().decode(link, &frame);
    let gre = p.layers.iter().find(|l| l.proto() == "gre").expect("a gre layer");
    assert_eq!((gre.offset, gre.header_len), (24, 12));
    match gre.kind {
        LayerKind::Gre { version, protocol, key, sequence, has_checksum } => {
            assert_eq!((version, protocol, has_checksum), (1, 0x880b, false));
            assert_eq!(key, Some(0x0000_1234));
            assert_eq!(sequence, Some(7));
        }
        ref other => panic!("{other:?}"),
    }
}

/// `read-correlate-time-overflow` (found by the `read` target): a pcapng whose points get
/// clock offsets near ±2^62 in the harness, so sightings of one packet lie ~2^62 ns
/// apart. The path inference added two such time differences and overflowed (debug
/// panic "attempt to add with overflow" in `Correlator::learn_paths`); all time
/// arithmetic in the correlator now saturates.
#[test]
fn correlator_time_differences_at_the_ends_of_the_range_do_not_overflow() {
    use netcap_core::capture::CaptureReader;
    use netcap_core::correlate::{CorrelateOptions, Correlator};
    use netcap_core::decode::Decoder;

    let bytes = fixture("read-correlate-time-overflow");
    let mut reader = CaptureReader::from_reader("crash", std::io::Cursor::new(bytes)).expect("a capture");
    let decoder = Decoder::default();
    let opts = CorrelateOptions { batch: 3, window_ns: 1_000_000, ..CorrelateOptions::default() };
    let mut c = Correlator::new(opts, vec![0, -5, 1 << 62]);
    let mut frames = 0;
    while let Ok(Some(frame)) = reader.next_frame() {
        let packet = decoder.decode(frame.link_type, frame.data);
        c.add(frame.point.0, &frame, &packet);
        frames += 1;
    }
    assert!(frames > 0);
    let names: Vec<String> = reader.points().iter().map(|p| p.name.clone()).collect();
    let report = c.finish(&names, &[]);
    let lost: u64 = report.pairs.iter().map(|p| p.lost).sum();
    let located: u64 = report.findings.iter().filter(|f| f.points.len() == 2).filter_map(|f| f.evidence["lost"].as_u64()).sum();
    assert_eq!(lost, located);
}

/// Fuzz target `decode`: MPLS in UDP (port 6635) whose bottom-of-stack label is followed
/// by a first nibble 0 — the pseudowire control word — pushed the `mpls` and `pw_cw`
/// layers in one step of the walk, past `max_layers` (the variant's cap of 4: eth, ipv6,
/// udp, mpls). Each header is now its own step, and the cap holds.
#[test]
fn mpls_then_control_word_respects_the_layer_cap() {
    let (link, frame) = decode_target_input("decode-mpls-pw-layer-cap");
    assert_eq!(link, LinkType::ETHERNET);
    let mut opts = netcap_core::decode::DecodeOptions::default();
    opts.max_layers = 4;
    let p = Decoder::new(opts).decode(link, &frame);
    let protos: Vec<_> = p.layers.iter().map(|l| l.proto()).collect();
    assert_eq!(protos, ["eth", "ipv6", "udp", "mpls"]);
    let stop = p.stop.expect("a stop at the cap");
    assert_eq!((stop.layer, stop.reason), ("pw_cw", StopReason::DepthLimit));
    // With the default cap the control word and the Ethernet frame after it decode.
    let full = Decoder::default().decode(link, &frame);
    let protos: Vec<_> = full.layers.iter().map(|l| l.proto()).collect();
    assert_eq!(protos[..5], ["eth", "ipv6", "udp", "mpls", "pw_cw"]);
}

/// Every file in `fixtures/fuzz-regressions/` through its target's path (module docs):
/// no panic, and the decoder's caps and bounds hold.
#[test]
fn every_regression_file_replays() {
    use netcap_core::analysis::{Analysis, Order};
    use netcap_core::capture::CaptureReader;
    use netcap_core::correlate::{CorrelateOptions, Correlator};
    use netcap_core::decode::DecodeOptions;
    use netcap_core::flow::table::FlowLimits;
    use netcap_core::tcp::{Analyzer, TcpAnalysisOptions};

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fuzz-regressions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/fuzz-regressions")
        .map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let bytes = fixture(name);
        let target = name.split('-').next().unwrap_or("");
        match target {
            "decode" | "tunnels" => {
                let (link, frame) = decode_target_input(name);
                let variant = bytes[1];
                let mut capped = DecodeOptions::default();
                capped.vxlan_ports.push(u16::from_be_bytes([variant, 0x17]));
                capped.max_tunnel_depth = 1;
                capped.max_layers = 1 + usize::from(variant & 0x1f);
                for opts in [DecodeOptions::default(), capped] {
                    let p = Decoder::new(opts.clone()).decode(link, &frame);
                    assert!(p.layers.len() <= opts.max_layers, "{name}: {} layers", p.layers.len());
                    for l in &p.layers {
                        assert!(l.offset as usize + l.header_len as usize <= frame.len(), "{name}: {} past the end", l.proto());
                        assert!(l.depth <= opts.max_tunnel_depth, "{name}: depth {}", l.depth);
                    }
                }
            }
            // A segment script of the `tcp` target: its test rebuilds the frames.
            "tcp" => {}
            "checksum" => {
                let naive = bytes.chunks(2).fold(0u32, |s, w| {
                    let s = s + u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)]));
                    (s & 0xffff) + (s >> 16)
                });
                assert_eq!(u32::from(netcap_core::checksum::sum16(&bytes)), naive, "{name}");
            }
            _ => {
                let mut frames = 0u64;
                if let Ok(mut reader) = CaptureReader::from_reader(name.as_str(), std::io::Cursor::new(bytes.clone())) {
                    let decoder = Decoder::default();
                    let limits = FlowLimits { max_flows: 8, idle_timeout_ns: 60_000_000_000 };
                    let mut tcp = Analyzer::new(TcpAnalysisOptions { limits });
                    let copts = CorrelateOptions { batch: 3, window_ns: 1_000_000, ..CorrelateOptions::default() };
                    let mut correlator = Correlator::new(copts, vec![0, -5, 1 << 62]);
                    while let Ok(Some(frame)) = reader.next_frame() {
                        let packet = decoder.decode(frame.link_type, frame.data);
                        tcp.segment(frame.point.0, &frame, &packet);
                        correlator.add(frame.point.0, &frame, &packet);
                        frames += 1;
                    }
                    let flows = tcp.finish();
                    let points: Vec<String> = reader.points().iter().map(|p| p.name.clone()).collect();
                    correlator.finish(&points, &flows);
                }
                let cut = bytes[..bytes.len() * usize::from(bytes.last().copied().unwrap_or(0)) / 256].to_vec();
                let outcome = Analysis::new()
                    .reader("a", std::io::Cursor::new(bytes.clone()))
                    .reader("b", std::io::Cursor::new(cut))
                    .order(Order::Time)
                    .threads(2)
                    .run(&mut ());
                if let Ok(o) = outcome {
                    assert!(o.frames >= frames, "{name}: the engine saw fewer frames than the reader");
                }
            }
        }
    }
}

/// `tcp-duplicate-capture-count` (found by the `tcp` target when it was first given
/// seeds, the corpus' conversations): two segments scripted alike — client to server,
/// PSH|ACK, seq and ack steps 0, 1,020 bytes of payload, window 0xfa00, no time between
/// them — are the same IPv4 packet twice at the same instant. The second is a
/// `duplicate_capture` (labels.rs): counted in `duplicate_captures` and "in no other
/// count", so the flow record holds 1 packet and 1 duplicate capture for 2 frames. The
/// target's check "packets over all flow records = frames" predated the label and was
/// wrong; it now adds the duplicate captures. The library was right.
#[test]
fn the_same_segment_captured_twice_is_one_packet_and_one_duplicate_capture() {
    use netcap_core::capture::{Frame, PointId};
    use netcap_core::tcp::{Analyzer, Label, TcpAnalysisOptions};

    let script = fixture("tcp-duplicate-capture-count");
    assert_eq!(script.len(), 24, "two 12-byte segments");
    assert_eq!(script[..12], script[12..], "scripted alike");
    let seg = &script[..12];
    assert_eq!((seg[0], seg[1], seg[6], seg[7]), (0x00, 0x18, 0xff, 0xfa));
    // The frame the `tcp` target builds for it: raw IPv4, 10.0.0.1:40000 -> 10.0.0.2:80,
    // seq 0, ack 0, window 0xfa00, payload 4 * 0xff bytes of zeros, checksums 0.
    let payload = usize::from(seg[6]) * 4;
    let mut f = vec![0u8; 40 + payload];
    f[0] = 0x45;
    f[2..4].copy_from_slice(&((40 + payload) as u16).to_be_bytes());
    f[8] = 64;
    f[9] = 6;
    f[12..20].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    f[20..24].copy_from_slice(&[0x9c, 0x40, 0, 80]);
    f[32] = 0x50;
    f[33] = seg[1];
    f[34] = seg[7];
    let decoder = Decoder::default();
    let mut a = Analyzer::new(TcpAnalysisOptions::default());
    let mut labels = Vec::new();
    for number in 1..=2 {
        let frame = Frame {
            number,
            point: PointId(0),
            link_type: LinkType::RAW,
            ts_ns: 1_700_000_000_000_000_000,
            has_timestamp: true,
            caplen: f.len() as u32,
            len: f.len() as u32,
            offset: 0,
            data: &f,
        };
        let info = a.segment(0, &frame, &decoder.decode(frame.link_type, &f)).expect("a TCP segment");
        labels.push(info.analysis.has(Label::DuplicateCapture));
    }
    assert_eq!(labels, [false, true]);
    let flows = a.finish();
    assert_eq!(flows.len(), 1);
    let d = &flows[0].c2s;
    assert_eq!((d.packets, d.duplicate_captures, d.retransmissions), (1, 1, 0));
    assert_eq!(d.packets + d.duplicate_captures, 2, "every frame counted once");
}
