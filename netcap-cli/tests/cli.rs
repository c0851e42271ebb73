//! The `netcap` binary on committed captures: the flannel lab captures (real kernel,
//! see `fixtures/lab/flannel/README.md` for tshark's view and the kernel counters) and
//! the constructed fixtures. Facts are asserted by value; the text output is
//! snapshotted with insta.

mod common;

use common::netcap;

use std::path::PathBuf;

use serde_json::Value;


/// Paths relative to the workspace root, where `netcap` runs, so outputs are stable.
fn lab(name: &str) -> String {
    format!("fixtures/lab/flannel/{name}")
}

fn constructed(name: &str) -> String {
    format!("fixtures/constructed/{name}")
}


fn jsonl(args: &[&str]) -> Vec<Value> {
    let out = netcap(args);
    assert!(out.status.success(), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn layer<'a>(frame: &'a Value, proto: &str, depth: u64) -> &'a Value {
    frame["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["proto"] == proto && l["depth"] == depth)
        .unwrap_or_else(|| panic!("no {proto}@{depth} in frame {}", frame["frame"]))
}

/// The `proto` of every layer of a `packets --format jsonl` frame.
fn protos(frame: &Value) -> Vec<String> {
    frame["layers"].as_array().unwrap().iter().map(|l| l["proto"].as_str().unwrap().to_string()).collect()
}

fn is_client_syn(frame: &Value) -> bool {
    frame["layers"].as_array().unwrap().iter().any(|l| l["proto"] == "tcp" && l["flags"] == 2)
}

/// The acceptance check: on the receiver's underlay the first two SYNs carry
/// outer UDP 0xffff, judged bad (tshark computes 0x3525 and 0x0da8), and the receiver
/// drops them (node2's `Udp InCsumErrors` rose by exactly 2); the third is good and
/// accepted; the receiver's VXLAN device saw only the third.
#[test]
fn flannel_receiver_underlay_shows_two_dropped_syns_and_one_accepted() {
    let frames = jsonl(&["packets", "--format", "jsonl", &lab("server_underlay.pcap")]);
    assert_eq!(frames.len(), 12);
    let syns: Vec<&Value> = frames.iter().filter(|f| is_client_syn(f)).collect();
    assert_eq!(syns.len(), 3);
    let expect = [(1, 0xffff, 0x3525, "bad", false), (2, 0xffff, 0x0da8, "bad", false), (3, 0x386b, 0x386b, "good", true)];
    for (syn, (frame, stored, expected, status, accepts)) in syns.iter().zip(expect) {
        assert_eq!(syn["frame"], frame);
        assert_eq!(syn["point"], "server_underlay");
        let udp = layer(syn, "udp", 0);
        assert_eq!(udp["dst_port"], 8472);
        assert_eq!(udp["checksum"]["status"], status, "frame {frame}");
        assert_eq!(udp["checksum"]["stored"], stored, "frame {frame}");
        assert_eq!(udp["checksum"]["expected"], expected, "frame {frame}");
        assert_eq!(syn["receiver_accepts"], accepts, "frame {frame}");
        assert_eq!(layer(syn, "vxlan", 0)["vni"], 1);
        assert_eq!(layer(syn, "tcp", 1)["checksum"]["status"], "good");
        if !accepts {
            assert_eq!(syn["drop"]["counter"], "UdpInCsumErrors");
        }
    }
    // Drops netcap predicts == the kernel's InCsumErrors delta (counters.txt).
    let dropped = frames.iter().filter(|f| f["receiver_accepts"] == false).count();
    assert_eq!(dropped, 2);

    let vxlan = jsonl(&["packets", "--format", "jsonl", &lab("server_vxlan.pcap")]);
    assert_eq!(vxlan.len(), 10);
    let syns: Vec<&Value> = vxlan.iter().filter(|f| is_client_syn(f)).collect();
    assert_eq!(syns.len(), 1);
    assert_eq!(syns[0]["frame"], 1);
    // The third attempt: the same inner IPv4 ID as frame 3 on the underlay.
    assert_eq!(layer(syns[0], "ipv4", 0)["ip_id"], layer(&frames[2], "ipv4", 1)["ip_id"]);
}

/// The client's pod veth has TX checksum offload on: its TCP checksums are the
/// pseudo-header sum 0x191b (tshark says Bad); netcap says `partial` and accepts.
#[test]
fn flannel_client_pod_tcp_checksums_are_offload_partials() {
    let frames = jsonl(&["packets", "--format", "jsonl", &lab("client_pod.pcap")]);
    let syns: Vec<&Value> = frames.iter().filter(|f| is_client_syn(f)).collect();
    assert_eq!(syns.len(), 3);
    for syn in syns {
        let c = &layer(syn, "tcp", 0)["checksum"];
        assert_eq!(c["status"], "partial");
        assert_eq!(c["stored"], 0x191b);
        assert_eq!(syn["receiver_accepts"], true);
    }
}

#[test]
fn summary_json_counts_the_flannel_verdicts_per_layer_and_depth() {
    let out = netcap(&["summary", "--format", "json", &lab("server_underlay.pcap")]);
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["frames"], 12);
    assert_eq!(r["points"][0]["name"], "server_underlay");
    let row = |proto: &str, depth: u64, status: &str| {
        r["checksums"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["proto"] == proto && c["depth"] == depth && c["status"] == status)
            .cloned()
    };
    let bad = row("udp", 0, "bad").expect("bad outer udp row");
    assert_eq!(bad["count"], 2);
    let firsts: Vec<u64> = bad["first_frames"].as_array().unwrap().iter().map(|f| f["frame"].as_u64().unwrap()).collect();
    assert_eq!(firsts, [1, 2]);
    assert_eq!(row("udp", 0, "good").unwrap()["count"], 10);
    assert_eq!(row("tcp", 1, "good").unwrap()["count"], 12);
    assert_eq!(r["receiver_drops"][0]["count"], 2);
    assert_eq!(r["receiver_drops"][0]["counter"], "UdpInCsumErrors");
    assert_eq!(r["encapsulations"][0]["path"], "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
    // TCP health: the one connection, its two repeated SYNs, its 3 s connect delay.
    let tcp = &r["tcp"];
    assert_eq!(tcp["flows"], 1);
    assert_eq!(tcp["outcomes"], serde_json::json!({"closed": 1}));
    assert_eq!((tcp["retransmissions"].as_u64(), tcp["syn_retried"].as_u64()), (Some(2), Some(1)));
    let delay = tcp["syn_retry_connect_delay"]["max_ns"].as_i64().unwrap();
    assert!((2_900_000_000..3_100_000_000).contains(&delay), "{delay}");
    assert_eq!(tcp["worst"][0]["syn_attempts"], 3);
    assert_eq!(tcp["table"]["created"], 1);
}

#[test]
fn bare_netcap_is_summary() {
    let a = netcap(&[&lab("server_underlay.pcap")]);
    let b = netcap(&["summary", &lab("server_underlay.pcap")]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_corrupt_file_is_reported_the_next_file_still_runs_and_the_exit_status_is_1() {
    let out = netcap(&[
        "summary",
        "--format",
        "json",
        &constructed("impossible-length.pcap"),
        &lab("server_vxlan.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("impossible-length.pcap"), "{err}");
    assert!(err.contains("record 3"), "{err}");
    assert!(err.contains("byte offset"), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The two good records before the corrupt one, plus the second file's 10 frames.
    assert_eq!(r["frames"], 12);
}

#[test]
fn a_file_cut_mid_record_warns_and_exits_0() {
    let out = netcap(&["summary", "--format", "json", &constructed("cut-mid-record.pcap")]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning"), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["frames"], 3);
}

#[test]
fn quiet_silences_warnings_but_not_errors() {
    let out = netcap(&["summary", "-q", "--format", "json", &constructed("cut-mid-record.pcap")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["frames"], 3, "the same figures as without --quiet");
    let out = netcap(&["summary", "--quiet", "no/such/file.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.pcap"));
}

/// Not a terminal: no progress bar, no colour — stderr stays empty for a good file.
#[test]
fn piped_runs_have_no_progress_and_no_colour() {
    let out = netcap(&["summary", &lab("server_underlay.pcap")]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.stdout.contains(&0x1b), "no escape sequences when piped");
}

#[test]
fn colour_always_marks_the_faults() {
    let out = netcap(&["summary", "--color", "always", &lab("server_underlay.pcap")]);
    let text = String::from_utf8(out.stdout).unwrap();
    // The bad outer UDP checksum row and the error finding, in bold red.
    assert!(text.contains("udp@0      \x1b[1;31mbad          \x1b[0m          2"), "{text}");
    assert!(text.contains("1. [\x1b[1;31merror\x1b[0m] dropped_bad_outer_checksum"), "{text}");
    let out = netcap(&["packets", "--color=always", &lab("server_underlay.pcap")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains("\x1b[1;31mBAD\x1b[0m (expected 0x3525)"));
    let out = netcap(&["summary", "--color", "never", &lab("server_underlay.pcap")]);
    assert!(!out.stdout.contains(&0x1b));
}

#[test]
fn output_file_holds_what_stdout_would() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-output");
    std::fs::create_dir_all(&dir).unwrap();
    for (cmd, extra) in [("packets", "--format=jsonl"), ("summary", "--format=json"), ("flows", "--format=json"), ("correlate", "--format=json")] {
        let path = dir.join(format!("{cmd}.out"));
        let to_file = netcap(&[cmd, extra, &lab("server_underlay.pcap"), "-o", path.to_str().unwrap()]);
        assert!(to_file.status.success(), "{cmd}");
        assert!(to_file.stdout.is_empty(), "{cmd}: nothing on stdout with -o FILE");
        let to_stdout = netcap(&[cmd, extra, &lab("server_underlay.pcap"), "-o", "-"]);
        assert_eq!(std::fs::read(&path).unwrap(), to_stdout.stdout, "{cmd}");
        assert!(!to_stdout.stdout.is_empty());
    }
    let copy = dir.join("input.pcap");
    std::fs::copy(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/flannel/server_underlay.pcap"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = netcap(&["summary", copy.to_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "refused");
    assert_eq!(std::fs::read(&copy).unwrap(), before, "the capture is untouched");
    let out = netcap(&["summary", &lab("server_underlay.pcap"), "-o", "no/such/dir/x.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/x.txt"));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = netcap(&["summary", "no/such/file.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.pcap"));
}

#[test]
fn text_output_snapshots() {
    for name in ["server_underlay.pcap", "server_vxlan.pcap", "client_pod.pcap"] {
        let out = netcap(&["packets", &lab(name)]);
        assert!(out.status.success());
        insta::assert_snapshot!(format!("packets_{name}"), String::from_utf8(out.stdout).unwrap());
    }
    let out = netcap(&["summary", &lab("server_underlay.pcap"), &lab("server_vxlan.pcap")]);
    insta::assert_snapshot!("summary_flannel_server", String::from_utf8(out.stdout).unwrap());
    let out = netcap(&["packets", &constructed("verdicts.pcap")]);
    insta::assert_snapshot!("packets_verdicts", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn vxlan_port_option_decodes_another_port_as_vxlan() {
    // verdicts.pcap frame 1 is IPv4/UDP to port 9 with a 24-byte payload.
    let f = constructed("verdicts.pcap");
    let plain = jsonl(&["packets", "--format", "jsonl", &f]);
    assert_eq!(protos(&plain[0]), ["eth", "ipv4", "udp"]);
    assert_eq!(plain[0]["stop"], Value::Null);
    let extra = jsonl(&["packets", "--format", "jsonl", "--vxlan-port", "9", &f]);
    assert_eq!(protos(&extra[0]), ["eth", "ipv4", "udp", "vxlan", "eth"]);
    assert_eq!(layer(&extra[0], "eth", 1)["depth"], 1);
}

/// `--decode-as`: a port made plain UDP stops being decoded as its tunnel, a port given
/// a tunnel is decoded as it, tshark's spelling works, and a bad value is refused with
/// the protocol names (`encapsulations.pcap` frame 18: GTP-U on 2152; frame 15: GRE in
/// UDP on 4754).
#[test]
fn decode_as_overrides_the_port_of_every_udp_tunnel() {
    let f = constructed("encapsulations.pcap");
    let plain = jsonl(&["packets", "--format", "jsonl", &f]);
    assert_eq!(protos(&plain[17]), ["eth", "ipv4", "udp", "gtpu", "ipv4", "tcp"]);
    assert_eq!(layer(&plain[17], "tcp", 1)["checksum"]["status"], "good");
    let off = jsonl(&["packets", "--format", "jsonl", "--decode-as", "2152=udp", &f]);
    assert_eq!(protos(&off[17]), ["eth", "ipv4", "udp"]);
    // GRE in UDP moved to another port: 4754 is plain, 50001 (frame 15's source) is not
    // a destination port, so the frame stays plain UDP; frame 15 is found again by
    // naming 4754 with tshark's spelling.
    let moved = jsonl(&["packets", "--format", "jsonl", "--decode-as", "4754=udp", &f]);
    assert_eq!(protos(&moved[14]), ["eth", "ipv4", "udp"]);
    let tshark = jsonl(&["packets", "--format", "jsonl", "--decode-as", "udp.port==4754,gre", &f]);
    assert_eq!(protos(&tshark[14]), ["eth", "ipv4", "udp", "gre", "ipv4", "tcp"]);
    // The plain IPv4/UDP frame to port 9 of verdicts.pcap as MPLS in UDP: its payload is
    // not a label stack ending in IP, and the walk says where it stopped.
    let as_mpls = jsonl(&["packets", "--format", "jsonl", "--decode-as", "9=mpls", &constructed("verdicts.pcap")]);
    assert_eq!(protos(&as_mpls[0])[..4], ["eth", "ipv4", "udp", "mpls"]);
    let bad = netcap(&["packets", "--decode-as", "9=foo", &f]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unknown protocol \"foo\"") && err.contains("gtpu"), "{err}");
}

fn json(args: &[&str]) -> Value {
    let out = netcap(args);
    assert!(out.status.success(), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// The flannel check: at every client-side point the connection took 3 SYN
/// attempts at about 0, 1 and 3 s (tshark: frames 1–3 at +0, +1.009864, +3.025839 s on
/// client_pod), the classic schedule, and a connect delay of about 3 s (SYN/ACK at
/// +3.026699 s). The server's VXLAN device saw one attempt only.
#[test]
fn flannel_flows_show_three_syn_attempts_and_a_three_second_connect_delay() {
    for point in ["client_pod", "client_underlay", "client_vxlan", "server_underlay"] {
        let doc = json(&["flows", "--format", "json", &lab(&format!("{point}.pcap"))]);
        let flows = doc["flows"].as_array().unwrap();
        assert_eq!(flows.len(), 1, "{point}");
        let f = &flows[0];
        assert_eq!(f["point"], point);
        assert_eq!((f["client"]["ip"].as_str(), f["client"]["port"].as_u64()), (Some("10.244.1.2"), Some(55406)));
        assert_eq!((f["server"]["ip"].as_str(), f["server"]["port"].as_u64()), (Some("10.244.2.3"), Some(80)));
        assert_eq!(f["outcome"], "closed");
        let syn = &f["syn"];
        assert_eq!(syn["attempts"], 3, "{point}");
        assert_eq!(syn["schedule"], "linux-classic");
        let offs: Vec<i64> = syn["offsets_ns"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(offs[0], 0);
        assert!((900_000_000..1_100_000_000).contains(&offs[1]), "{point}: {offs:?}");
        assert!((2_900_000_000..3_100_000_000).contains(&offs[2]), "{point}: {offs:?}");
        let delay = syn["connect_delay_ns"].as_i64().unwrap();
        assert!((2_900_000_000..3_100_000_000).contains(&delay), "{point}: {delay}");
        assert_eq!(f["c2s"]["retransmissions"], 2, "the two repeated SYNs");
        assert_eq!(f["s2c"]["retransmissions"], 0);
        assert!(f["rtt"]["initial_rtt_ns"].as_i64().unwrap() > 0);
    }
    // On client_pod the numbers are exact (tshark 4.0.17, frame.time_relative).
    let doc = json(&["flows", "--format", "json", &lab("client_pod.pcap")]);
    let syn = &doc["flows"][0]["syn"];
    assert_eq!(syn["offsets_ns"], serde_json::json!([0i64, 1_009_864_000i64, 3_025_839_000i64]));
    assert_eq!(syn["connect_delay_ns"], 3_026_699_000i64);
    assert_eq!(doc["flows"][0]["rtt"]["initial_rtt_ns"], 882_000, "tshark: tcp.analysis.initial_rtt 0.000882");

    let doc = json(&["flows", "--format", "json", &lab("server_vxlan.pcap")]);
    let f = &doc["flows"][0];
    assert_eq!((f["syn"]["attempts"].as_u64(), f["syn"]["schedule"].as_str()), (Some(1), Some("none")));
    assert_eq!(f["encapsulation"], serde_json::json!([]));
    // On an underlay the flow carries its VXLAN path, client → server.
    let doc = json(&["flows", "--format", "json", &lab("client_underlay.pcap")]);
    assert_eq!(
        doc["flows"][0]["encapsulation"],
        serde_json::json!([{"proto": "ipv4", "src": "192.168.50.1", "dst": "192.168.50.2"}, {"proto": "vxlan", "vni": 1}])
    );
}

/// `packets --format jsonl` carries the analysis per TCP frame, as tshark shows it on
/// client_pod: frames 2 and 3 are retransmissions of the SYN; frame 4 (SYN/ACK) acks
/// frame 1 after 3.026699 s; frame 5 acks frame 4 after 22 µs.
#[test]
fn packets_carry_the_tcp_analysis() {
    let frames = jsonl(&["packets", "--format", "jsonl", &lab("client_pod.pcap")]);
    let tcp = |n: usize| &frames[n - 1]["tcp"];
    assert_eq!(tcp(1)["analysis"], serde_json::json!([]));
    assert_eq!(tcp(2)["analysis"], serde_json::json!(["retransmission"]));
    assert_eq!(tcp(3)["analysis"], serde_json::json!(["retransmission"]));
    assert_eq!((tcp(4)["acks_frame"].as_u64(), tcp(4)["ack_rtt_ns"].as_i64()), (Some(1), Some(3_026_699_000)));
    assert_eq!((tcp(5)["acks_frame"].as_u64(), tcp(5)["ack_rtt_ns"].as_i64()), (Some(4), Some(22_000)));
    assert_eq!(tcp(5)["initial_rtt_ns"], 882_000);
    assert!(frames.iter().all(|f| f["tcp"]["flow"] == 0));
}

#[test]
fn flows_text_lists_the_flow_in_trouble_with_its_syn_attempts() {
    let out = netcap(&["flows", &lab("client_pod.pcap"), &lab("server_vxlan.pcap")]);
    assert!(out.status.success());
    insta::assert_snapshot!("flows_flannel", String::from_utf8(out.stdout).unwrap());
}

/// Departure 1 of docs/tcp-analysis.md: the same connection captured at two points of one
/// pcapng is two flows. tshark 4.0.17 flags 12 frames of this file (its conversations
/// ignore the interface); only frames 2 and 3, the client's SYN retransmissions, are
/// retransmissions at their point.
#[test]
fn a_segment_seen_at_two_points_is_not_a_retransmission() {
    let frames = jsonl(&["packets", "--format", "jsonl", &lab("pods_merged.pcapng")]);
    assert_eq!(frames.len(), 22);
    let flagged: Vec<u64> = frames
        .iter()
        .filter(|f| !f["tcp"]["analysis"].as_array().unwrap().is_empty())
        .map(|f| f["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(flagged, [2, 3]);
    let doc = json(&["flows", "--format", "json", &lab("pods_merged.pcapng")]);
    let flows = doc["flows"].as_array().unwrap();
    let summary: Vec<(&str, u64, u64)> = flows
        .iter()
        .map(|f| (f["point"].as_str().unwrap(), f["syn"]["attempts"].as_u64().unwrap(), f["c2s"]["retransmissions"].as_u64().unwrap()))
        .collect();
    assert_eq!(summary, [("pods_merged", 3, 2), ("pods_merged#1", 1, 0)]);
}

/// The findings one capture is enough for, in `netcap summary`: on the receiver's
/// underlay alone, the two frames with a wrong outer checksum and the SYN-retry delay
/// they explain; on the syn-retries lab capture, the failed handshakes.
#[test]
fn summary_reports_single_capture_findings() {
    let r = json(&["summary", "--format", "json", &lab("server_underlay.pcap")]);
    let f = r["findings"].as_array().unwrap();
    let kinds: Vec<&str> = f.iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["dropped_bad_outer_checksum", "syn_retry_delay"]);
    let frames: Vec<u64> = f[0]["frames"].as_array().unwrap().iter().map(|p| p[0]["frame"].as_u64().unwrap()).collect();
    assert_eq!(frames, [1, 2]);
    assert_eq!(f[0]["evidence"]["outer_udp_checksums"][1]["expected"], 0x0da8);
    assert_eq!(f[1]["related"], serde_json::json!([1]));

    let r = json(&["summary", "--format", "json", "fixtures/lab/syn-retries/client.pcap"]);
    let kinds: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["kind"].as_str().unwrap(), x["evidence"]["outcome"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        kinds,
        [("handshake_failure", "timed_out"), ("handshake_failure", "timed_out"), ("handshake_failure", "refused"), ("syn_retry_delay", "-")]
    );
}

/// Shell completions and the man page come from the clap definitions: every command is
/// in them.
#[test]
fn completions_and_man_page_list_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = netcap(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for cmd in ["packets", "summary", "flows", "correlate", "report", "extract", "quiet", "color"] {
            assert!(text.contains(cmd), "{shell} completion lacks {cmd}");
        }
    }
    let out = netcap(&["man"]);
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(man.contains(".TH netcap 1"));
    for cmd in ["packets", "summary", "flows", "correlate", "report", "extract", "completions"] {
        assert!(man.contains(cmd), "man page lacks {cmd}");
    }
}
