//! Inputs beyond single files, on the flannel lab captures: `--point NAME=PATTERN` and
//! `--point NAME=DIR` (one point from several files, as a ring buffer or rotation
//! leaves them), a directory given as FILE, and Kubernetes capture bundles.

mod common;

use common::{netcap, root};
use serde_json::Value;

const UNDERLAY: &str = "fixtures/lab/flannel/server_underlay.pcap";
const POD: &str = "fixtures/lab/flannel/client_pod.pcap";

/// `--point NAME=PATTERN` and `NAME=DIR`: one point from several files, numbered on
/// across them; a directory given as FILE: every capture in it, named by its path.
#[test]
fn ring_files_and_directories_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring");
    std::fs::create_dir(&ring).unwrap();
    // The underlay capture cut in two, as `tcpdump -C` names the parts: its pcap
    // header, then records 1-5 and 6-12.
    let bytes = std::fs::read(root().join(UNDERLAY)).unwrap();
    let mut r = netcap_core::capture::CaptureReader::open(root().join(UNDERLAY)).unwrap();
    let mut offsets = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        offsets.push(f.offset as usize);
    }
    let cut = offsets[5];
    std::fs::write(ring.join("node2.pcap0"), &bytes[..cut]).unwrap();
    let mut second = bytes[..24].to_vec();
    second.extend_from_slice(&bytes[cut..]);
    std::fs::write(ring.join("node2.pcap1"), second).unwrap();
    std::fs::write(ring.join("README.txt"), "two files of a ring\n").unwrap();

    let pattern = format!("node2={}/node2.pcap*", ring.display());
    let whole = netcap(&["correlate", "--format", "json", POD, "--point", &format!("node2={UNDERLAY}")]);
    for spec in [pattern, format!("node2={}", ring.display())] {
        let out = netcap(&["correlate", "--format", "json", POD, "--point", &spec]);
        assert!(out.status.success(), "{spec}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let node2 = &doc["points"][1];
        assert_eq!(node2["name"], "node2");
        assert_eq!(node2["frames"], 12);
        assert_eq!(node2["files"].as_array().unwrap().iter().map(|f| f["frames"].as_u64().unwrap()).collect::<Vec<_>>(), [5, 7]);
        let whole: Value = serde_json::from_slice(&whole.stdout).unwrap();
        assert_eq!(doc["findings"], whole["findings"], "{spec}");
        let text = netcap(&["correlate", POD, "--point", &spec]);
        assert!(String::from_utf8_lossy(&text.stdout).contains(": 12 frames from 2 files"), "{}", String::from_utf8_lossy(&text.stdout));
    }
    // A directory as FILE: each capture a point named by its path in the directory.
    let out = netcap(&["correlate", "--format", "json", ring.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["points"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["node2.pcap0", "node2.pcap1"]);
    let out = netcap(&["summary", "--format", "json", ring.to_str().unwrap()]);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["frames"], 12);
    // Nothing to read.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = netcap(&["summary", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no capture file in this directory"));
    let out = netcap(&["correlate", POD, "--point", &format!("x={}/nothing*", ring.display())]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches"));
}

/// Microsoft Retina bundles (`fixtures/lab/retina/`): the nodes' points are named by
/// host and interface, and the finding cites node2's own `UdpInCsumErrors`.
#[test]
fn retina_bundles_name_their_points_and_cite_their_counters() {
    let mut bundles: Vec<String> = std::fs::read_dir(root().join("fixtures/lab/retina"))
        .unwrap()
        .map(|e| format!("fixtures/lab/retina/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".tar.gz"))
        .collect();
    bundles.sort();
    let mut args = vec!["correlate", "--format", "json"];
    args.extend(bundles.iter().map(String::as_str));
    let out = netcap(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["points"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 8);
    assert_eq!(names[4], "node2/eth0");
    assert_eq!(doc["points"][4]["host"], "node2");
    let f = &doc["findings"][0];
    assert_eq!(f["kind"], "dropped_bad_outer_checksum");
    assert_eq!(f["evidence"]["host_counters"][0]["counter"], "UdpInCsumErrors");
    assert_eq!(f["evidence"]["host_counters"][0]["value"], 2);
    // Text: the sentence.
    let mut args = vec!["correlate"];
    args.extend(bundles.iter().map(String::as_str));
    let text = String::from_utf8(netcap(&args).stdout).unwrap();
    assert!(text.contains("node2's own kernel counted UdpInCsumErrors 2"), "{text}");
    // --point NAME=BUNDLE names the host.
    let a = format!("alpha={}", bundles[0]);
    let b = format!("beta={}", bundles[1]);
    let out = netcap(&["correlate", "--format", "json", "--point", &a, "--point", &b]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["points"][4]["name"], "beta/eth0");
    assert_eq!(doc["findings"][0]["evidence"]["host_counters"][0]["host"], "beta");
}
