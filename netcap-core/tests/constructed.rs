//! Every constructed fixture (`fixtures/constructed/`, built byte by byte by
//! `fixtures/gen`, an implementation independent of this crate) read and decoded, and
//! compared fact by fact with `fixtures/constructed/expected.json`: frame numbers,
//! points, timestamps, lengths, the layer stack, every checksum's status, stored and
//! expected value, `receiver_accepts`, the stop reason, and the warnings and errors of
//! the damaged files with their record numbers and byte offsets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use netcap_core::capture::CaptureReader;
use netcap_core::decode::{Decoder, Packet};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/constructed")
}

fn expected() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    let v: Value = serde_json::from_str(&text).expect("expected.json parses");
    v["files"].as_object().expect("files").clone().into_iter().collect()
}

/// What netcap found in one file, in the shape of expected.json.
struct Seen {
    packets: Vec<Value>,
    points: Vec<Value>,
    warnings: Vec<Value>,
    error: Value,
}

fn read(name: &str) -> Seen {
    let mut r = CaptureReader::open(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let decoder = Decoder::default();
    let mut packet = Packet::default();
    let mut packets = Vec::new();
    let mut error = Value::Null;
    loop {
        let frame = match r.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                error = serde_json::json!({ "record": e.record, "offset": e.offset });
                break;
            }
        };
        decoder.decode_into(frame.link_type, frame.data, &mut packet);
        let checksums: Vec<Value> = packet
            .layers
            .iter()
            .filter_map(|l| {
                l.checksum.map(|c| {
                    serde_json::json!({
                        "proto": l.proto(), "depth": l.depth, "status": c.status.as_str(),
                        "stored": c.stored, "expected": c.expected,
                    })
                })
            })
            .collect();
        let stop = packet.stop.map_or(Value::Null, |s| {
            serde_json::json!({ "layer": s.layer, "reason": s.reason.as_str() })
        });
        packets.push(serde_json::json!({
            "frame": frame.number,
            "point": frame.point.0,
            // A Simple Packet Block carries no timestamp.
            "ts_ns": frame.has_timestamp.then_some(frame.ts_ns),
            "caplen": frame.caplen,
            "len": frame.len,
            "layers": packet.layers.iter().map(|l| l.proto()).collect::<Vec<_>>(),
            "checksums": checksums,
            "receiver_accepts": packet.receiver_accepts(),
            "stop": stop,
        }));
    }
    // Point ids become names now that every point is known.
    let names: Vec<String> = r.points().iter().map(|p| p.name.clone()).collect();
    for p in &mut packets {
        let id = p["point"].as_u64().unwrap() as usize;
        p["point"] = Value::from(names[id].clone());
    }
    // expected.json's `interface` is the file-wide pcapng IDB ordinal (the reader keeps
    // the ordinal within its section; points appear in IDB order) or the SLL2 ifindex.
    let mut idb_ordinal = 0u32;
    let points = r
        .points()
        .iter()
        .map(|p| {
            let interface = match (p.idb, p.ifindex) {
                (_, Some(ifindex)) => Some(ifindex),
                (Some(_), None) => {
                    idb_ordinal += 1;
                    Some(idb_ordinal - 1)
                }
                (None, None) => None,
            };
            serde_json::json!({ "name": p.name, "link_type": p.link_type.0, "interface": interface })
        })
        .collect();
    let warnings = r
        .take_warnings()
        .into_iter()
        .map(|w| serde_json::json!({ "record": w.record, "offset": w.offset }))
        .collect();
    Seen { packets, points, warnings, error }
}

#[test]
fn every_constructed_fixture_matches_its_expected_facts() {
    let files = expected();
    assert!(files.len() >= 10, "expected.json lists {} files", files.len());
    let mut failures = Vec::new();
    for (name, want) in &files {
        let seen = read(name);
        let want_packets = want["packets"].as_array().expect("packets");
        if want["frames"].as_u64() != Some(seen.packets.len() as u64) {
            failures.push(format!("{name}: {} frames, expected {}", seen.packets.len(), want["frames"]));
        }
        for (i, w) in want_packets.iter().enumerate() {
            let Some(s) = seen.packets.get(i) else { break };
            for key in
                ["frame", "point", "ts_ns", "caplen", "len", "layers", "checksums", "receiver_accepts", "stop"]
            {
                if w.get(key).is_some() && w[key] != s[key] {
                    failures.push(format!(
                        "{name} frame {} ({}): {key} = {}, expected {}",
                        w["frame"], w["note"].as_str().unwrap_or(""), s[key], w[key]
                    ));
                }
            }
        }
        let want_points: Vec<Value> = want["points"]
            .as_array()
            .expect("points")
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p["name"], "link_type": p["link_type"], "interface": p["interface"],
                })
            })
            .collect();
        if want_points != seen.points {
            failures.push(format!("{name}: points {:?}, expected {:?}", seen.points, want_points));
        }
        let want_warnings = want["warnings"].as_array().cloned().unwrap_or_default();
        if want_warnings != seen.warnings {
            failures.push(format!("{name}: warnings {:?}, expected {:?}", seen.warnings, want_warnings));
        }
        if want["error"] != seen.error {
            failures.push(format!("{name}: error {}, expected {}", seen.error, want["error"]));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn gzip_and_plain_verdicts_fixtures_decode_identically() {
    let plain = read("verdicts.pcap");
    let gz = read("verdicts.pcap.gz");
    assert!(!plain.packets.is_empty());
    assert_eq!(plain.packets.len(), gz.packets.len());
    for (a, b) in plain.packets.iter().zip(&gz.packets) {
        assert_eq!(a["checksums"], b["checksums"]);
        assert_eq!(a["ts_ns"], b["ts_ns"]);
    }
}

/// Every prefix of every constructed frame (every encapsulation and link type, cut at
/// every byte) decodes without a panic; a prefix never has more layers than the whole
/// frame, and the layers it has are the whole frame's first ones, unless a length field
/// made it read the bytes differently (a cut after a header may leave a container that
/// is whole at that length).
#[test]
fn every_prefix_of_every_constructed_frame_decodes_to_a_prefix_of_its_layers() {
    let decoder = Decoder::default();
    let (mut full, mut cut) = (Packet::default(), Packet::default());
    let mut frames = 0;
    for name in expected().keys() {
        let Ok(mut r) = CaptureReader::open(dir().join(name)) else { continue };
        while let Ok(Some(frame)) = r.next_frame() {
            frames += 1;
            decoder.decode_into(frame.link_type, frame.data, &mut full);
            for n in 0..frame.data.len() {
                decoder.decode_into(frame.link_type, &frame.data[..n], &mut cut);
                assert!(
                    cut.layers.len() <= full.layers.len(),
                    "{name} frame {} cut at {n}: {} layers, whole frame {}",
                    frame.number,
                    cut.layers.len(),
                    full.layers.len()
                );
                for (a, b) in cut.layers.iter().zip(&full.layers) {
                    assert_eq!(a.proto(), b.proto(), "{name} frame {} cut at {n}", frame.number);
                }
            }
        }
    }
    assert!(frames > 100, "{frames} frames");
}
