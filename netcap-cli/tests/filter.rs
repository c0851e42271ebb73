//! Narrowing the work from the command line: the capture filter (`-f`, `-F`, after
//! `--`), `--inner`, `-c`, `--from`/`--to`, on the flannel lab captures, whose frames
//! `fixtures/lab/flannel/README.md` lists. Frame numbers are checked against tcpdump's
//! where it is installed (the corpus-wide comparison is netcap-core's
//! `tests/corpus_filter.rs`). Tests that need libpcap skip with a line on stderr where
//! it is missing, unless `NETCAP_REQUIRE_TCPDUMP=1` (`.ci/run`).

mod common;

use std::process::Command;

use common::{netcap, root};
use serde_json::Value;

const UNDERLAY: &str = "fixtures/lab/flannel/server_underlay.pcap";
const POD: &str = "fixtures/lab/flannel/client_pod.pcap";

fn have_libpcap(test: &str) -> bool {
    match netcap_core::filter::libpcap_version() {
        Ok(_) => true,
        Err(e) => {
            assert!(std::env::var("NETCAP_REQUIRE_TCPDUMP").as_deref() != Ok("1"), "{test}: {e}");
            common::skip(format_args!("skipping {test}: {e}"));
            false
        }
    }
}

/// The frame numbers `netcap packets --format jsonl ARGS` prints.
fn frames(args: &[&str]) -> Vec<u64> {
    let mut all = vec!["packets", "--format", "jsonl"];
    all.extend_from_slice(args);
    let out = netcap(&all);
    assert!(out.status.success(), "netcap {all:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["frame"].as_u64().unwrap())
        .collect()
}

/// The frame numbers tcpdump keeps with `expr` (its listing of the kept packets,
/// found in order in its listing of every packet), or `None` without tcpdump.
fn tcpdump_frames(file: &str, expr: &str) -> Option<Vec<u64>> {
    let list = |e: Option<&str>| -> Option<Vec<String>> {
        let mut cmd = Command::new("tcpdump");
        cmd.current_dir(root()).args(["-n", "-tt", "-r", file]);
        if let Some(e) = e {
            cmd.arg(e);
        }
        let out = cmd.output().ok()?;
        // A packet's first line starts with its `-tt` time; a tunnel's payload follows
        // on lines of its own.
        let first_lines = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).map(str::to_string).collect();
        out.status.success().then_some(first_lines)
    };
    let all = list(None)?;
    let kept = list(Some(expr))?;
    let mut numbers = Vec::new();
    let mut i = 0;
    for line in kept {
        while all.get(i).is_some_and(|l| *l != line) {
            i += 1;
        }
        i += 1;
        numbers.push(i as u64);
    }
    Some(numbers)
}

#[test]
fn the_filter_means_what_it_means_to_tcpdump_in_every_spelling() {
    if !have_libpcap("the_filter_means_what_it_means_to_tcpdump_in_every_spelling") {
        return;
    }
    let expr = "udp port 8472 and ip[8] = 64 and udp[6:2] = 0xffff";
    // The two SYNs whose outer UDP checksum is 0xffff (the README's frames 1 and 2).
    assert_eq!(frames(&[UNDERLAY, "-f", expr]), [1, 2]);
    assert_eq!(frames(&[UNDERLAY, "--filter", expr]), [1, 2]);
    assert_eq!(frames(&[UNDERLAY, "--", "udp", "port", "8472", "and", "ip[8]", "=", "64", "and", "udp[6:2]", "=", "0xffff"]), [1, 2]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filter.txt");
    std::fs::write(&file, "# the bad outer checksums\nudp port 8472 and ip[8] = 64  # ttl\nand udp[6:2] = 0xffff\n").unwrap();
    assert_eq!(frames(&[UNDERLAY, "-F", file.to_str().unwrap()]), [1, 2]);
    for expr in ["udp port 8472", "not tcp", "src host 192.168.50.2", "greater 100", "ether src 02:00:c0:a8:32:01"] {
        let ours = frames(&[UNDERLAY, "-f", expr]);
        if let Some(theirs) = tcpdump_frames(UNDERLAY, expr) {
            assert_eq!(ours, theirs, "{expr}");
        }
    }
    // The outer filter sees the underlay: no frame there is TCP on the outside.
    assert!(frames(&[UNDERLAY, "-f", "tcp port 80"]).is_empty());
}

#[test]
fn a_bad_expression_is_reported_with_libpcaps_words_and_the_position() {
    if !have_libpcap("a_bad_expression_is_reported_with_libpcaps_words_and_the_position") {
        return;
    }
    let out = netcap(&["summary", UNDERLAY, "-f", "tcp port 80 and vlan 5000"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"-f "tcp port 80 and vlan 5000": VLAN tag 5000 greater than maximum 4095"#), "{err}");
    assert!(err.contains("\n    tcp port 80 and vlan 5000\n                         ^"), "{err}");
    assert!(out.stdout.is_empty(), "nothing is printed for a run that did not start");
    // Given twice.
    let out = netcap(&["flows", UNDERLAY, "-f", "tcp", "--", "udp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the capture filter is given 2 ways (-f, the expression after --): give it once"));
    // --inner too, in a correlation.
    let out = netcap(&["correlate", POD, UNDERLAY, "--inner", "tcp prot 80"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(r#"--inner "tcp prot 80""#));
}

#[test]
fn the_count_and_the_time_window_apply_before_analysis() {
    // The first two SYNs of the underlay (frames 1 and 2, 1.010 s apart; the third at
    // +3.026 s), and 12 frames in all.
    assert_eq!(frames(&[UNDERLAY, "-c", "3"]), [1, 2, 3]);
    assert_eq!(frames(&[UNDERLAY, "--from", "+1s", "--to", "+3s"]), [2]);
    assert_eq!(frames(&[UNDERLAY, "--to", "2026-11-22T04:50:12.893769Z"]), [1]);
    assert_eq!(frames(&[UNDERLAY, "--to", "2026-11-22T04:50:12.893769001Z"]), [1, 2]);
    let late = frames(&[UNDERLAY, "--from", "2026-11-22T05:50:14+01:00"]);
    assert_eq!(late.first(), Some(&3));
    assert_eq!(late.len(), 10);
    // The TCP analysis sees only what is kept: without the first two SYNs the third is
    // no retransmission.
    let out = netcap(&["packets", "--format", "jsonl", UNDERLAY, "--from", "+3s", "-c", "1"]);
    let frame: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(frame["frame"], 3);
    assert_eq!(frame["tcp"]["label"], Value::Null, "{frame}");
    let out = netcap(&["summary", UNDERLAY, "--from", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected an RFC 3339 time"));
    assert_eq!(netcap(&["summary", UNDERLAY, "-c", "0"]).status.code(), Some(2));
}

#[test]
fn inner_filters_select_the_pods_connection_on_the_underlay() {
    if !have_libpcap("inner_filters_select_the_pods_connection_on_the_underlay") {
        return;
    }
    // Every underlay frame carries 10.244.1.2:55406 <> 10.244.2.3:80.
    assert_eq!(frames(&[UNDERLAY, "--inner", "tcp port 80"]).len(), 12);
    assert!(frames(&[UNDERLAY, "--inner", "tcp port 81"]).is_empty());
    // The SYNs only (from the pod), outer and inner together: the VXLAN port outside.
    assert_eq!(frames(&[UNDERLAY, "-f", "udp port 8472", "--inner", "tcp[tcpflags] == tcp-syn"]), [1, 2, 3]);
    // Without a tunnel the innermost packet is the frame: the same expression works on
    // the pod's own interface, so a correlation keeps the connection at both points.
    let out = netcap(&["correlate", "--format", "json", POD, "--point", &format!("node2={UNDERLAY}"), "--inner", "host 10.244.2.3 and tcp port 80"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["points"][0]["frames"], 12);
    assert_eq!(doc["points"][1]["frames"], 12);
    assert_eq!(doc["findings"][0]["kind"], "dropped_bad_outer_checksum");
    // Another connection's filter keeps nothing, and finds nothing.
    let out = netcap(&["correlate", "--format", "json", POD, "--point", &format!("node2={UNDERLAY}"), "--inner", "tcp port 443"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["points"][1]["frames"], 0);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
}
