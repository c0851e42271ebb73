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

/// Inspektor Gadget's `-o pcap-ng` layout (fixtures/lab/inspektor-gadget): one IDB per
/// container interface, `if_description` `container=NAME`; the points are the
/// containers, not the `if_name` the CLI machine gave both ("eth0"). The flannel
/// incident between them: the first two SYNs (client frames 1 and 2) never reached the
/// server pod.
#[test]
fn inspektor_gadget_points_are_its_containers() {
    let out = netcap(&["correlate", "--format", "json", "fixtures/lab/inspektor-gadget/tcpdump.pcapng"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let points: Vec<(&str, &str, &str, u64)> = doc["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["interface"].as_str().unwrap(), p["description"].as_str().unwrap(), p["frames"].as_u64().unwrap()))
        .collect();
    assert_eq!(points, [("client", "eth0", "container=client", 12), ("server", "eth0", "container=server", 10)]);
    assert_eq!(doc["points"][0]["os"], "linux");
    assert_eq!(doc["points"][0]["application"], "gopacket");
    assert!(doc.get("names").is_none(), "no NRB, no names");
    let lost = doc["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "lost_between").expect("lost_between");
    let frames: Vec<(&str, u64)> = lost["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|seen| (seen[0]["point"].as_str().unwrap(), seen[0]["frame"].as_u64().unwrap()))
        .collect();
    assert_eq!(frames, [("client", 1), ("client", 2)]);
}

/// Names from Name Resolution Blocks (the same capture saved by tshark with the pods'
/// names) beside the addresses in the tables, and in the JSON's `names`.
#[test]
fn name_resolution_blocks_name_addresses_in_every_table() {
    const NAMED: &str = "fixtures/lab/inspektor-gadget/named.pcapng";
    let names = serde_json::json!({ "10.244.1.2": ["client-7d9f"], "10.244.2.3": ["web-0"] });
    for command in ["correlate", "flows", "summary"] {
        let out = netcap(&[command, "--format", "json", NAMED]);
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["names"], names, "{command}");
    }
    let pair = "10.244.1.2:55406 (client-7d9f) > 10.244.2.3:80 (web-0)";
    let flows = String::from_utf8(netcap(&["flows", NAMED]).stdout).unwrap();
    assert_eq!(flows.matches(pair).count(), 3, "both flows' rows and the troubled flow's details:\n{flows}");
    let correlate = String::from_utf8(netcap(&["correlate", NAMED]).stdout).unwrap();
    assert!(correlate.contains(&format!("2 packets of {pair} seen on client never reached server")), "{correlate}");
    let summary = String::from_utf8(netcap(&["summary", NAMED]).stdout).unwrap();
    assert!(summary.contains(&format!("flow 0 at client: {pair}: closed")), "{summary}");
    // Without NRBs the same tables carry addresses only.
    let plain = String::from_utf8(netcap(&["flows", "fixtures/lab/inspektor-gadget/tcpdump.pcapng"]).stdout).unwrap();
    assert!(!plain.contains("web-0") && plain.contains("10.244.1.2:55406 > 10.244.2.3:80"), "{plain}");
}

/// `path` (a little-endian µs pcap) as a pcapng whose Section Header Block records the
/// system `os`, as dumpcap writes it (`shb_os`, `shb_userappl`); one Ethernet IDB.
fn pcapng_written_on(path: &str, os: &str) -> Vec<u8> {
    fn block(kind: u32, mut body: Vec<u8>) -> Vec<u8> {
        body.resize(body.len().div_ceil(4) * 4, 0);
        let n = (12 + body.len()) as u32;
        [kind.to_le_bytes().to_vec(), n.to_le_bytes().to_vec(), body, n.to_le_bytes().to_vec()].concat()
    }
    fn opt(code: u16, value: &[u8]) -> Vec<u8> {
        let mut v = [code.to_le_bytes(), (value.len() as u16).to_le_bytes()].concat();
        v.extend(value);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v
    }
    let mut shb = [0x1A2B_3C4Du32.to_le_bytes().to_vec(), vec![1, 0, 0, 0], vec![0xff; 8]].concat();
    shb.extend(opt(3, os.as_bytes()));
    shb.extend(opt(4, b"Dumpcap (Wireshark) 4.0.17"));
    shb.extend(opt(0, b""));
    let mut out = block(0x0A0D_0D0A, shb);
    out.extend(block(1, [1u16.to_le_bytes(), [0, 0]].concat().into_iter().chain(262_144u32.to_le_bytes()).collect()));
    let mut r = netcap_core::capture::CaptureReader::open(root().join(path)).unwrap();
    while let Some(f) = r.next_frame().unwrap() {
        let us = (f.ts_ns / 1000) as u64;
        let mut body = [0u32, (us >> 32) as u32, us as u32, f.caplen, f.len].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        body.extend(f.data);
        out.extend(block(6, body));
    }
    out
}

/// A finding about offload names the system its points' captures were written on when
/// the capture records a release (dumpcap's `shb_os`), not a bare OS name.
#[test]
fn offload_findings_name_the_capturing_system() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["correlate".into(), "--format".into(), "json".into()];
    for p in ["client_pod", "client_vxlan", "client_underlay"] {
        args.push(format!("fixtures/lab/flannel/{p}.pcap"));
    }
    for (p, os) in [("server_underlay", "Linux 6.1.0-18-amd64"), ("server_vxlan", "Linux 6.1.0-18-amd64"), ("server_pod", "linux")] {
        let path = dir.path().join(format!("{p}.pcapng"));
        std::fs::write(&path, pcapng_written_on(&format!("fixtures/lab/flannel/{p}.pcap"), os)).unwrap();
        args.push(path.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = netcap(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let drop = findings.iter().find(|f| f["kind"] == "dropped_bad_outer_checksum").unwrap();
    assert!(drop["summary"].as_str().unwrap().ends_with(" server_underlay, server_vxlan captured on Linux 6.1.0-18-amd64 (as the capture records it)."), "{}", drop["summary"]);
    let systems = &drop["evidence"]["capture_systems"];
    assert_eq!(systems[0], serde_json::json!({ "point": "server_underlay", "os": "Linux 6.1.0-18-amd64", "application": "Dumpcap (Wireshark) 4.0.17" }));
    assert_eq!(systems.as_array().unwrap().len(), 2);
    // server_pod's capture says only "linux": nothing to cite; the pcap points have no system.
    for f in findings.iter().filter(|f| f["kind"] == "offload_artifact") {
        let cited = f["evidence"].get("capture_systems").is_some();
        assert_eq!(cited, f["points"][0] == "server_vxlan", "{f}");
    }
    assert_eq!(doc["points"][5]["os"], "linux");
}
