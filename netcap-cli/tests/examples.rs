//! The runnable examples of netcap-core (`netcap-core/examples/`), run on fixtures: each
//! prints what the `netcap` command (or tshark) says of the same capture.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use common::{netcap, root};

/// The examples' directory, built once (in the profile the tests run in).
fn examples() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_netcap"));
        let profile_dir = bin.parent().expect("target/PROFILE").to_path_buf();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "-q", "-p", "netcap-core", "--examples"]).current_dir(root());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    })
}

/// Runs example `name` in the workspace root; its stdout.
fn example(name: &str, args: &[&str]) -> String {
    let out = Command::new(examples().join(name)).args(args).current_dir(root()).output().expect("run the example");
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn verdicts_prints_every_checksum_verdict_and_the_drops() {
    let out = example("verdicts", &["fixtures/lab/flannel/server_underlay.pcap"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12);
    // The flannel signature: a wrong 0xffff outer UDP checksum, dropped by the receiver.
    assert_eq!(
        lines[0],
        "server_underlay 1: ipv4@0 good 0xce5a, udp@0 bad 0xffff expected 0x3525, ipv4@1 good 0x6dcb, tcp@1 good 0x1304 => dropped (UdpInCsumErrors)"
    );
    assert_eq!(lines[2], "server_underlay 3: ipv4@0 good 0xcc83, udp@0 good 0x386b, ipv4@1 good 0x6dc9, tcp@1 good 0x0732");
    // The frames it says are dropped are those `netcap packets` says a receiver drops.
    let jsonl = netcap(&["packets", "--format", "jsonl", "fixtures/lab/flannel/server_underlay.pcap"]);
    let dropped: Vec<u64> = String::from_utf8_lossy(&jsonl.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|v| v["receiver_accepts"] == false)
        .filter_map(|v| v["frame"].as_u64())
        .collect();
    let said: Vec<u64> = lines.iter().filter(|l| l.contains("=> dropped")).filter_map(|l| l.split([' ', ':']).nth(1)?.parse().ok()).collect();
    assert_eq!(said, dropped);
    assert_eq!(said, [1, 2]);
}

#[test]
fn flows_prints_the_retransmissions_and_rtt_netcap_flows_gives() {
    let file = "fixtures/lab/tcp-loss/sender.pcap";
    let out = example("flows", &[file]);
    let o = netcap(&["flows", "--format", "json", file]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("flows JSON");
    let mut flows: Vec<&serde_json::Value> = doc["flows"].as_array().expect("flows").iter().collect();
    flows.sort_by_key(|f| f["id"].as_u64());
    let want: Vec<String> = flows
        .iter()
        .map(|f| {
            let karn = &f["rtt"]["karn"];
            let p50 = karn["p50_ns"].as_i64().map_or("-".to_string(), |ns| format!("{:.3} ms", ns as f64 / 1e6));
            let ep = |e: &serde_json::Value| format!("{}:{}", e["ip"].as_str().unwrap_or(""), e["port"]);
            format!(
                "flow {} at {}: {} > {}, retransmissions {} / {}, Karn RTT p50 {p50} ({} samples)",
                f["id"], f["point"].as_str().unwrap_or(""), ep(&f["client"]), ep(&f["server"]), f["c2s"]["retransmissions"], f["s2c"]["retransmissions"], karn["count"]
            )
        })
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    // The iperf3 connection lost 23 segments on the way and the sender resent them
    // (fixtures/lab/tcp-loss/README.md).
    assert!(out.contains("10.77.0.1:40000 > 10.77.0.2:5201, retransmissions 23 / 0"), "{out}");
}

#[test]
fn findings_names_the_flannel_drop_and_its_frames() {
    let lab = "fixtures/lab/flannel/";
    let files: Vec<String> = ["client_pod", "server_underlay", "server_pod"].iter().map(|p| format!("{lab}{p}.pcap")).collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = example("findings", &args);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("1. [error] dropped_bad_outer_checksum: 2 packets of 10.244.1.2:55406 > 10.244.2.3:80 were seen on server_underlay and missing from server_pod"), "{out}");
    assert_eq!(lines[1], "   frames: client_pod:1, server_underlay:1, client_pod:2, server_underlay:2");
}

#[test]
fn correlate_json_writes_what_netcap_correlate_writes() {
    for scenario in ["flannel", "wire-loss", "clock-offset"] {
        let mut files: Vec<String> = std::fs::read_dir(root().join("fixtures/lab").join(scenario))
            .expect("lab scenario")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "pcap"))
            .map(|e| format!("fixtures/lab/{scenario}/{}", e.file_name().to_string_lossy()))
            .collect();
        files.sort();
        let args: Vec<&str> = files.iter().map(String::as_str).collect();
        let ours = example("correlate_json", &args);
        let mut cli_args = vec!["correlate", "--format", "json"];
        cli_args.extend(&args);
        let cli = netcap(&cli_args);
        assert!(cli.status.success());
        assert!(ours.as_bytes() == cli.stdout.as_slice(), "{scenario}: the example's JSON differs from netcap correlate's");
    }
    // The example is the promised short program.
    let source = std::fs::read_to_string(root().join("netcap-core/examples/correlate_json.rs")).expect("source");
    assert!(source.lines().count() < 30);
}

#[test]
fn vni_counter_counts_what_tshark_counts() {
    if Command::new("tshark").arg("--version").output().is_err() {
        assert!(std::env::var_os("NETCAP_REQUIRE_TSHARK").is_none(), "tshark is required");
        common::skip(format_args!("skipping: tshark not installed"));
        return;
    }
    for file in ["fixtures/lab/flannel/server_underlay.pcap", "fixtures/lab/vxlan-tso/client_underlay.pcap", "fixtures/constructed/verdicts.pcap"] {
        let ours = example("vni_counter", &[file]);
        let t = Command::new("tshark")
            .args(["-n", "-r", file, "-d", "udp.port==8472,vxlan", "-T", "fields", "-e", "vxlan.vni"])
            .current_dir(root())
            .output()
            .expect("tshark");
        let mut counts: std::collections::BTreeMap<u32, u64> = Default::default();
        for line in String::from_utf8_lossy(&t.stdout).lines() {
            // The outermost VXLAN header's VNI (tshark lists nested ones after a comma).
            if let Some(vni) = line.split(',').next().and_then(|v| v.trim().parse().ok()) {
                *counts.entry(vni).or_default() += 1;
            }
        }
        let stem = std::path::Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let want: Vec<String> = counts.iter().map(|(vni, n)| format!("{stem} vni {vni}: {n} frames")).collect();
        assert_eq!(ours.lines().collect::<Vec<_>>(), want, "{file}");
        assert!(!want.is_empty(), "{file} carries VXLAN");
    }
}
