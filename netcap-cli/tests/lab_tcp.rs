//! TCP analysis against real kernels: the lab captures of `fixtures/lab/tcp-loss/` and
//! `fixtures/lab/syn-retries/` (made by the scripts beside them; their READMEs explain
//! every figure) and the ground truth recorded with them — the sender's kernel counters,
//! the wire's own drop list, the client's `connect()` results — compared with
//! `netcap flows --format json` and `netcap packets --format jsonl`.

mod common;

use common::root;


use serde_json::Value;


fn netcap(args: &[&str]) -> Vec<u8> {
    let out = common::netcap(args);
    assert!(out.status.success(), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn flows(file: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&netcap(&["flows", "--format", "json", file])).expect("JSON");
    doc["flows"].as_array().expect("flows").clone()
}

fn ground_truth(dir: &str) -> Value {
    let text = std::fs::read_to_string(root().join(dir).join("ground_truth.json")).expect("ground truth");
    serde_json::from_str(&text).expect("ground truth JSON")
}

fn flow_of(flows: &[Value], client_port: u64) -> &Value {
    flows
        .iter()
        .find(|f| f["client"]["port"] == client_port)
        .unwrap_or_else(|| panic!("no flow from client port {client_port}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

/// At the sender, netcap's retransmissions per connection are the kernel's: the sum
/// over the namespace's two connections is `Tcp RetransSegs` (+24), and the frames are
/// exactly the ones the ground truth lists (by sequence; tshark 4.0.17 calls 13 of them
/// out-of-order, see docs/tcp-analysis.md).
#[test]
fn sender_retransmissions_equal_the_kernels_per_connection() {
    let gt = ground_truth("fixtures/lab/tcp-loss");
    let kernel = u(&gt["kernel_counters"]["sender_nc_snd"]["TcpRetransSegs"]["delta"]);
    assert_eq!(kernel, 24);
    let sender = flows("fixtures/lab/tcp-loss/sender.pcap");
    assert_eq!(sender.len(), 2);
    let packets: Vec<Value> = netcap(&["packets", "--format", "jsonl", "fixtures/lab/tcp-loss/sender.pcap"])
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON line"))
        .collect();
    let mut total = 0;
    for conn in gt["connections"].as_array().unwrap() {
        let port = u(&conn["client"]["port"]);
        let f = flow_of(&sender, port);
        let expected = u(&conn["sender_pcap"]["retransmissions_by_sequence_client_to_server"]);
        assert_eq!(u(&f["c2s"]["retransmissions"]), expected, "{} connection", conn["role"]);
        assert_eq!(u(&f["s2c"]["retransmissions"]), 0);
        assert_eq!(u(&f["c2s"]["out_of_order"]), 0, "a sender never reorders what it sends");
        total += expected;
        let frames: Vec<u64> =
            conn["sender_pcap"]["retransmissions_client_to_server"].as_array().unwrap().iter().map(|r| u(&r["frame"])).collect();
        let ours: Vec<u64> = packets
            .iter()
            .filter(|p| p["tcp"]["flow"] == f["id"])
            .filter(|p| {
                p["tcp"]["analysis"].as_array().unwrap().iter().any(|l| {
                    ["retransmission", "fast_retransmission", "spurious_retransmission"].contains(&l.as_str().unwrap())
                })
            })
            .map(|p| u(&p["frame"]))
            .collect();
        assert_eq!(ours, frames, "{} connection", conn["role"]);
    }
    assert_eq!(total, kernel);
    // Payload bytes each way are tshark's (ground truth from `tcp.len`).
    for conn in gt["connections"].as_array().unwrap() {
        let f = flow_of(&sender, u(&conn["client"]["port"]));
        assert_eq!(f["c2s"]["payload_bytes"], conn["sender_pcap"]["payload_bytes_client_to_server"]);
        assert_eq!(f["s2c"]["payload_bytes"], conn["sender_pcap"]["payload_bytes_server_to_client"]);
    }
}

/// At the receiver every segment the wire dropped from the data connection left a gap
/// (`lost_segment`: 24, one per drop, no two drops adjacent), and the 23 segments the
/// sender resent fill those gaps: their TCP timestamps are newer than the segment that
/// revealed each gap, so netcap calls them retransmissions, none out of order (the wire
/// never reorders). The control connection's single drop was the last segment in
/// flight, so the receiver saw no gap: its resend arrives in order and is unlabelled.
#[test]
fn receiver_sees_one_gap_per_drop_filled_by_retransmissions() {
    let gt = ground_truth("fixtures/lab/tcp-loss");
    let receiver = flows("fixtures/lab/tcp-loss/receiver.pcap");
    let data = gt["connections"].as_array().unwrap().iter().find(|c| c["role"] == "data").unwrap();
    let f = flow_of(&receiver, u(&data["client"]["port"]));
    assert_eq!(u(&f["c2s"]["lost_segments"]), u(&data["wire_dropped_client_to_server"]));
    assert_eq!(u(&f["c2s"]["retransmissions"]), u(&data["receiver_pcap"]["retransmissions_by_sequence_client_to_server"]));
    assert_eq!(u(&f["c2s"]["out_of_order"]), 0);
    let control = gt["connections"].as_array().unwrap().iter().find(|c| c["role"] == "control").unwrap();
    let c = flow_of(&receiver, u(&control["client"]["port"]));
    assert_eq!((u(&c["c2s"]["lost_segments"]), u(&c["c2s"]["retransmissions"])), (0, 0));
    // The wire delays 10 ms each way: at the sender the handshake RTT is ~20 ms.
    let sender = flows("fixtures/lab/tcp-loss/sender.pcap");
    let rtt = sender[0]["rtt"]["initial_rtt_ns"].as_i64().unwrap();
    assert!((20_000_000..25_000_000).contains(&rtt), "initial RTT {rtt} ns");
}

/// Each connection of syn-retries/client.pcap: SYN attempts and their offsets (tshark's
/// `frame.time_epoch`, µs), the schedule the sysctls give, and the outcome the client's
/// `connect()` returned (ETIMEDOUT, ECONNREFUSED, success).
#[test]
fn syn_attempts_schedules_and_outcomes_match_the_kernel() {
    let gt = ground_truth("fixtures/lab/syn-retries");
    let flows = flows("fixtures/lab/syn-retries/client.pcap");
    assert_eq!(flows.len(), 4);
    let schedules = [("a", "linux-classic"), ("b", "linux-linear"), ("c", "none"), ("d", "linux-classic")];
    for case in gt["cases"].as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let f = flow_of(&flows, u(&case["client"]["port"]));
        let syn = &f["syn"];
        assert_eq!(syn["attempts"], case["syn_count"], "case {name}");
        let offsets: Vec<i64> = syn["offsets_ns"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let want: Vec<i64> =
            case["syn_offsets_s"].as_array().unwrap().iter().map(|v| (v.as_f64().unwrap() * 1e9).round() as i64).collect();
        assert_eq!(offsets.len(), want.len(), "case {name}");
        for (o, w) in offsets.iter().zip(&want) {
            assert!((o - w).abs() < 1_000, "case {name}: {offsets:?} vs {want:?}");
        }
        let schedule = schedules.iter().find(|(c, _)| *c == name).unwrap().1;
        assert_eq!(syn["schedule"], schedule, "case {name}");
        let outcome = case["outcome"].as_str().unwrap();
        assert_eq!(syn["outcome"], outcome, "case {name}");
        if outcome == "established" {
            // The client measured connect() → writable; netcap the first SYN → SYN/ACK.
            let delay = syn["connect_delay_ns"].as_i64().unwrap();
            let client = (case["connect_delay_s"].as_f64().unwrap() * 1e9) as i64;
            assert!((client - delay).abs() < 10_000_000, "case {name}: {delay} vs {client}");
        } else {
            assert_eq!(f["outcome"], outcome, "case {name}");
        }
        // Every SYN after the first is a retransmission: the kernel's TCPSynRetrans.
        let kernel = u(&case["kernel_counters_nc_cli"]["TcpExtTCPSynRetrans"]["delta"]);
        assert_eq!(u(&f["c2s"]["retransmissions"]), kernel, "case {name}");
    }
}

/// One direction's RTT as tcptrace reports it (`tcptrace -lr`): samples, min, max (ms).
#[derive(Debug, Clone, Copy, PartialEq)]
struct TraceRtt {
    samples: u64,
    min_ms: f64,
    max_ms: f64,
}

/// Per connection (client `ip:port`), tcptrace's RTT of a→b (the client's data) and b→a.
fn tcptrace_rtt(file: &str) -> Option<Vec<(String, TraceRtt, TraceRtt)>> {
    let out = std::process::Command::new("tcptrace").args(["-lr", file]).current_dir(root()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut conns = Vec::new();
    for block in text.split("TCP connection ").skip(2) {
        let host = block.lines().find_map(|l| l.trim().strip_prefix("host ").and_then(|h| h.split_once(':')).map(|(_, a)| a.trim().to_string()))?;
        // Two columns per line: a→b, then b→a.
        let pair = |label: &str| -> Option<(f64, f64)> {
            let line = block.lines().find(|l| l.trim_start().starts_with(label))?;
            let values: Vec<f64> = line.split(label).skip(1).filter_map(|v| v.split_whitespace().next()?.parse().ok()).collect();
            Some((*values.first()?, *values.get(1)?))
        };
        let samples = pair("RTT samples:")?;
        let min = pair("RTT min:")?;
        let max = pair("RTT max:")?;
        let side = |i: usize| {
            let pick = |p: (f64, f64)| if i == 0 { p.0 } else { p.1 };
            TraceRtt { samples: pick(samples) as u64, min_ms: pick(min), max_ms: pick(max) }
        };
        conns.push((host, side(0), side(1)));
    }
    Some(conns)
}

/// Each direction's RTT, as tcptrace gives it: at the tcp-loss sender the client's data
/// crosses the 20 ms path (c2s) and the server's only the client's own stack (s2c). On
/// the short connection both tools take the same samples (count, min and max to
/// 0.1 ms, tcptrace's precision); on the bulk one, with 23 retransmissions, they keep
/// about as many and agree on the smallest and on s2c.
#[test]
fn rtt_per_direction_agrees_with_tcptrace() {
    const FILE: &str = "fixtures/lab/tcp-loss/sender.pcap";
    let Some(trace) = tcptrace_rtt(FILE).filter(|t| !t.is_empty()) else {
        assert!(std::env::var("NETCAP_REQUIRE_TCPTRACE").as_deref() != Ok("1"), "NETCAP_REQUIRE_TCPTRACE=1 but tcptrace is missing");
        common::skip(format_args!("skipped: tcptrace not installed (apt-get install tcptrace)"));
        return;
    };
    let flows = flows(FILE);
    let ms = |v: &Value| v.as_i64().unwrap() as f64 / 1e6;
    for (host, a2b, b2a) in &trace {
        let port: u64 = host.rsplit(':').next().unwrap().parse().unwrap();
        let f = flow_of(&flows, port);
        let (c2s, s2c) = (&f["c2s"]["rtt"]["karn"], &f["s2c"]["rtt"]["karn"]);
        if port == 47361 {
            for (mine, theirs, dir) in [(c2s, a2b, "c2s"), (s2c, b2a, "s2c")] {
                assert_eq!(u(&mine["count"]), theirs.samples, "{host} {dir}");
                assert!((ms(&mine["min_ns"]) - theirs.min_ms).abs() <= 0.05, "{host} {dir} min {mine} {theirs:?}");
                assert!((ms(&mine["max_ns"]) - theirs.max_ms).abs() <= 0.05, "{host} {dir} max {mine} {theirs:?}");
            }
        } else {
            assert_eq!(port, 40000);
            let (n, t) = (u(&c2s["count"]) as f64, a2b.samples as f64);
            assert!((n - t).abs() <= t * 0.05, "{host} c2s samples {n} vs tcptrace {t}");
            assert!((ms(&c2s["min_ns"]) - a2b.min_ms).abs() <= 0.1, "{host} c2s min");
            assert_eq!((u(&s2c["count"]), b2a.samples), (1, 1), "{host} s2c");
        }
        // The path is 20 ms one way round: the client's data sees it, the server's not.
        assert!(ms(&c2s["p50_ns"]) > 19.0 && ms(&s2c["p50_ns"]) < 1.0, "{host}: {c2s} {s2c}");
    }
    assert_eq!(trace.len(), 2);
}
