//! `netcap extract` on the flannel incident (fixtures/lab/flannel: six capture points;
//! finding 1 is the `dropped_bad_outer_checksum` of SYN attempts 1 and 2, seen at the
//! four points up to server_underlay — see `tests/correlate.rs`): the evidence file
//! holds exactly the cited frames, byte for byte and with their original timestamps,
//! netcap and tshark read it, and the comments say why each frame is there.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use netcap_core::capture::{CaptureReader, LinkType};
use serde_json::Value;

const POINTS: [&str; 6] = ["client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod"];

fn flannel() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/flannel")
}

fn files() -> Vec<String> {
    POINTS.iter().map(|p| format!("{p}.pcap")).collect()
}

/// A fresh output path in the test's own temporary directory.
fn out_path(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("extract").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("evidence.pcapng")
}

/// `netcap ARGS` in the flannel directory.
fn netcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcap")).args(args).current_dir(flannel()).output().expect("run netcap")
}

/// `netcap extract SELECTORS… <six files> -o OUT`, which must succeed.
fn extract(selectors: &[&str], out: &Path) -> Output {
    let mut args: Vec<String> = vec!["extract".into()];
    args.extend(selectors.iter().map(|s| s.to_string()));
    args.extend(files());
    args.extend(["-o".to_string(), out.display().to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = netcap(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// One frame of a capture file as netcap reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    point: String,
    number: u64,
    ts_ns: i64,
    caplen: u32,
    len: u32,
    data: Vec<u8>,
}

fn read(path: &Path) -> (Vec<Read>, Vec<netcap_core::capture::CapturePoint>) {
    let mut r = CaptureReader::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let pid = f.point.0 as usize;
        let mut frame = Read { point: String::new(), number: f.number, ts_ns: f.ts_ns, caplen: f.caplen, len: f.len, data: f.data.to_vec() };
        frame.point = r.points()[pid].name.clone();
        frames.push(frame);
    }
    assert!(r.take_warnings().is_empty());
    (frames, r.points().to_vec())
}

/// Frame `number` of a source point's file.
fn source(point: &str, number: u64) -> Read {
    read(&flannel().join(format!("{point}.pcap"))).0.into_iter().find(|f| f.number == number).unwrap()
}

/// The evidence frames as (point, source frame number), matched to the source by
/// their bytes and timestamp (the evidence numbers its own frames 1, 2, …).
fn origins(evidence: &[Read]) -> Vec<(String, u64)> {
    evidence
        .iter()
        .map(|e| {
            let all = read(&flannel().join(format!("{}.pcap", e.point))).0;
            let s = all.iter().find(|s| s.data == e.data && s.ts_ns == e.ts_ns).unwrap_or_else(|| panic!("{} frame not in its source", e.point));
            (e.point.clone(), s.number)
        })
        .collect()
}

/// `--finding 1`: SYN attempts 1 and 2 at the four points that saw them, in merged time
/// order; each frame equal to its source frame in bytes, lengths and timestamp; one
/// IDB per point of the run named as netcap names the point, nanosecond resolution,
/// the point's link type, snaplen 0.
#[test]
fn finding_1_holds_exactly_the_dropped_syn_attempts() {
    let out = out_path("finding1");
    extract(&["--finding", "1"], &out);
    let (frames, points) = read(&out);
    let want: Vec<(String, u64)> = [1u64, 2].iter().flat_map(|&n| POINTS[..4].iter().map(move |p| (p.to_string(), n))).collect();
    let got: Vec<(String, u64)> = origins(&frames);
    assert_eq!(got, want);
    for (e, (p, n)) in frames.iter().zip(&want) {
        let s = source(p, *n);
        assert_eq!((e.ts_ns, e.caplen, e.len, &e.data), (s.ts_ns, s.caplen, s.len, &s.data), "{p}:{n}");
    }
    let names: Vec<&str> = points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, POINTS);
    for p in &points {
        assert_eq!((p.interface.as_deref(), p.link_type, p.tsresol.as_str(), p.snaplen), (Some(p.name.as_str()), LinkType::ETHERNET, "1e-9", 0));
    }
}

/// A clock offset moves a point in the analysis, not in the evidence: the frames keep
/// the timestamps of their source file.
#[test]
fn evidence_keeps_the_original_timestamps() {
    let out = out_path("offset");
    extract(&["--finding", "1", "--clock-offset", "server_underlay=+300ms"], &out);
    let (frames, _) = read(&out);
    assert_eq!(frames.len(), 8);
    for (e, (p, n)) in frames.iter().zip(origins(&frames)) {
        assert_eq!(e.ts_ns, source(&p, n).ts_ns);
    }
}

/// Whether tshark can be run; when not, the tshark tests skip — unless
/// `NETCAP_REQUIRE_TSHARK=1` (set by `.ci/run`), where its absence fails them.
fn tshark() -> bool {
    let ok = Command::new("tshark").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("NETCAP_REQUIRE_TSHARK").as_deref() != Ok("1"), "tshark is required (NETCAP_REQUIRE_TSHARK=1) but not found");
        common::skip(format_args!("tshark not found: skipped"));
    }
    ok
}

/// tshark reads the file without complaint and shows every frame's interface name and
/// comment (tshark 4.0: `frame.comment`); the comments of finding 1 name the finding,
/// the packet, the SYN attempt, the outer checksum the kernel rejected and where the
/// packet was never seen.
#[test]
fn tshark_shows_the_comments() {
    if !tshark() {
        return;
    }
    let out = out_path("tshark");
    extract(&["--finding", "1"], &out);
    let o = Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.time_epoch", "-e", "frame.comment"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("damaged") && !stderr.contains("corrupt"), "{stderr}");
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 8);
    let ifaces: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(ifaces, [&POINTS[..4], &POINTS[..4]].concat());
    for (i, l) in lines.iter().enumerate() {
        let (attempt, packet) = (i / 4 + 1, i / 4 + 1);
        let c = l[2];
        assert!(
            c.starts_with(&format!("finding 1 (dropped_bad_outer_checksum, packet {packet} of 2): SYN attempt {attempt} of 3 of 10.244.1.2:55406 > 10.244.2.3:80; ")),
            "{c}"
        );
        assert!(c.ends_with("; not seen at server_vxlan, server_pod"), "{c}");
        // tshark's epoch seconds with 9 decimals = the source frame's timestamp.
        let s = source(l[0], attempt as u64);
        assert_eq!(l[1].replace('.', "").trim_start_matches('0'), s.ts_ns.to_string(), "{l:?}");
    }
    let underlay = |i: usize| lines[i][2];
    assert!(underlay(2).contains("; outer UDP checksum 0xffff, expected 0x3525; a Linux receiver drops it (UdpInCsumErrors);"));
    assert!(underlay(3).contains("; outer UDP checksum 0xffff, expected 0x3525; a Linux receiver drops it (UdpInCsumErrors);"));
    assert!(underlay(7).contains("; outer UDP checksum 0xffff, expected 0x0da8;"));
    assert!(underlay(0).contains("; TCP checksum 0x191b partial (TX offload, expected 0x1304);"), "{}", underlay(0));
    assert!(underlay(4).contains("; TCP analysis: retransmission;"));
    // The section: netcap as the writing application, the command line as comment.
    let o = Command::new("capinfos").arg(&out).output();
    if let Ok(o) = o {
        let info = String::from_utf8_lossy(&o.stdout);
        assert!(info.contains(&format!("netcap {}", env!("CARGO_PKG_VERSION"))), "{info}");
        assert!(info.contains("extract --finding 1"), "{info}");
    }
}

/// `netcap packets --format jsonl` of a file, one JSON value per frame.
fn jsonl(args: &[&str]) -> Vec<Value> {
    let o = netcap(&[&["packets", "--format", "jsonl"], args].concat());
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// netcap reads the evidence back with the same decode and checksum verdicts as the
/// source frames, frame by frame.
#[test]
fn netcap_reads_the_evidence_with_the_same_verdicts() {
    let out = out_path("verdicts");
    extract(&["--finding", "1"], &out);
    let evidence = jsonl(&[out.to_str().unwrap()]);
    assert_eq!(evidence.len(), 8);
    for (i, e) in evidence.iter().enumerate() {
        let (point, n) = (e["point"].as_str().unwrap(), (i / 4 + 1) as u64);
        let src = jsonl(&[&format!("{point}.pcap")]).into_iter().find(|s| s["frame"] == n).unwrap();
        for field in ["layers", "receiver_accepts", "drop", "stop", "ts_ns", "caplen", "len", "link_type"] {
            assert_eq!(e[field], src[field], "{point}:{n} {field}");
        }
    }
    let drops: Vec<bool> = evidence.iter().map(|e| e["receiver_accepts"].as_bool().unwrap()).collect();
    assert_eq!(drops, [true, true, false, false, true, true, false, false]);
}

/// `--finding 6` (`syn_retry_delay`, related to finding 1): every SYN attempt and
/// SYN/ACK of the connection at every point; the first two attempts' comments name
/// both findings.
#[test]
fn a_syn_retry_delay_brings_its_syns_and_the_related_finding() {
    let out = out_path("finding6");
    let o = extract(&["--finding", "6"], &out);
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 20 frames"));
    let (frames, _) = read(&out);
    // 3 attempts at the four points up to server_underlay, the third at the last two,
    // the SYN/ACK at all six.
    assert_eq!(frames.len(), 3 * 4 + 2 + 6);
    let mut got = origins(&frames);
    got.sort();
    let mut want: Vec<(String, u64)> = Vec::new();
    for p in &POINTS[..4] {
        want.extend((1..=4).map(|n| (p.to_string(), n)));
    }
    for p in &POINTS[4..] {
        want.extend((1..=2).map(|n| (p.to_string(), n)));
    }
    want.sort();
    assert_eq!(got, want);
    assert!(frames.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns), "merged time order");
}

/// `--flow ID` takes a flow id as `netcap flows` shows it (one file: the same ids); for
/// several files the analysis numbers flows in merged time order — here flow 3 is the
/// connection at server_underlay, the fourth point to see its first SYN.
#[test]
fn flow_by_id_matches_netcap_flows() {
    let o = netcap(&["flows", "--format", "json", "server_underlay.pcap"]);
    let flows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &flows["flows"][0];
    let (id, packets) = (f["id"].as_u64().unwrap(), f["c2s"]["packets"].as_u64().unwrap() + f["s2c"]["packets"].as_u64().unwrap());
    let out = out_path("flow-one");
    let o = netcap(&["extract", "--flow", &id.to_string(), "server_underlay.pcap", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (frames, _) = read(&out);
    assert_eq!(frames.len() as u64, packets);

    let out = out_path("flow-six");
    extract(&["--flow", "3"], &out);
    let (frames, _) = read(&out);
    assert_eq!(frames.len(), 12);
    assert!(frames.iter().all(|f| f.point == "server_underlay"));
    let numbers: Vec<u64> = origins(&frames).iter().map(|x| x.1).collect();
    assert_eq!(numbers, (1..=12).collect::<Vec<u64>>());
}

/// A connection `ADDR:PORT-ADDR:PORT`, in either order, is the connection at every
/// point: all 68 frames of the six files, each point's frames in its own order.
#[test]
fn flow_by_connection_at_every_point() {
    for spec in ["10.244.1.2:55406-10.244.2.3:80", "10.244.2.3:80-10.244.1.2:55406"] {
        let out = out_path("connection");
        extract(&["--flow", spec], &out);
        let (frames, _) = read(&out);
        assert_eq!(frames.len(), 4 * 12 + 2 * 10, "{spec}");
        let got = origins(&frames);
        for p in POINTS {
            let numbers: Vec<u64> = got.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
            let n = if POINTS[..4].contains(&p) { 12 } else { 10 };
            assert_eq!(numbers, (1..=n).collect::<Vec<u64>>(), "{spec} {p}");
        }
    }
}

/// `--frames` with lists and ranges, several selectors at once (a union, each frame
/// once), in merged time order, each comment naming what selected it.
#[test]
fn frames_lists_ranges_and_unions() {
    let out = out_path("frames");
    extract(&["--frames", "server_vxlan:1,3-4", "--frames", "client_pod:2", "--finding", "1"], &out);
    let (frames, _) = read(&out);
    let got = origins(&frames);
    let mut want: Vec<(String, u64)> = [1u64, 2].iter().flat_map(|&n| POINTS[..4].iter().map(move |p| (p.to_string(), n))).collect();
    want.extend([("server_vxlan".to_string(), 1), ("server_vxlan".to_string(), 3), ("server_vxlan".to_string(), 4)]);
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "the union, client_pod:2 once");
    assert!(frames.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns), "merged time order");
    if tshark() {
        let o = Command::new("tshark").arg("-r").arg(&out).args(["-T", "fields", "-e", "frame.comment"]).output().unwrap();
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.lines().any(|l| l.starts_with("finding 1 (dropped_bad_outer_checksum, packet 2 of 2), frame client_pod:2: SYN attempt 2 of 3")), "{text}");
        assert!(text.lines().any(|l| l.starts_with("frame server_vxlan:1: SYN attempt 3 of 3 of 10.244.1.2:55406 > 10.244.2.3:80")), "{text}");
    }
}

/// `netcap summary` of one file lists the same findings, in the same order, as
/// `netcap correlate` (so `--finding N` means the same for both), and extract takes
/// finding 1 of a single underlay capture: its two dropped SYNs.
#[test]
fn one_file_findings_are_numbered_as_summary_lists_them() {
    let kinds = |cmd: &str| -> Vec<(String, Value)> {
        let o = netcap(&[cmd, "--format", "json", "server_underlay.pcap"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"].as_array().unwrap().iter().map(|f| (f["kind"].as_str().unwrap().to_string(), f["frames"].clone())).collect()
    };
    assert_eq!(kinds("summary"), kinds("correlate"));
    let out = out_path("single");
    let o = netcap(&["extract", "--finding", "1", "server_underlay.pcap", "-o", out.to_str().unwrap()]);
    assert!(o.status.success());
    let numbers: Vec<u64> = read(&out).0.iter().map(|f| f.number).collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(origins(&read(&out).0), [("server_underlay".to_string(), 1), ("server_underlay".to_string(), 2)]);
}

/// Standard input is read once, like a file: `--frames`, `--flow` and `--finding` work
/// (`-o -` to a pipe), and `--finding 1` writes what it writes from the file.
#[test]
fn standard_input_works_like_a_file() {
    let bytes = std::fs::read(flannel().join("server_underlay.pcap")).unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_netcap"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let _ = c.stdin.take().unwrap().write_all(&bytes);
        c.wait_with_output().unwrap()
    };
    let o = run(&["extract", "--frames", "stdin:1-2", "-", "-o", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = CaptureReader::from_reader("x", std::io::Cursor::new(o.stdout)).unwrap();
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 2);
    let o = run(&["extract", "--finding", "1", "-", "-o", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_stdin = o.stdout;
    let file = out_path("stdin-finding");
    let capture = flannel().join("server_underlay.pcap");
    let o = netcap(&["extract", "--finding", "1", capture.to_str().unwrap(), "-o", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_file = std::fs::read(&file).unwrap();
    // The packet blocks (bytes, times, comments) are the same; the section and
    // interface blocks name the command and the input, which differ.
    let packets = epbs(&from_stdin);
    assert_eq!(packets.len(), 2);
    assert_eq!(packets, epbs(&from_file));
}

/// The Enhanced Packet Blocks of a little-endian pcapng file, as bytes.
fn epbs(file: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= file.len() {
        let kind = u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
        if kind == 6 {
            out.push(&file[at..at + len]);
        }
        at += len.max(12);
    }
    out
}

/// Exit 1 with a message naming the selector when a selector matches nothing or a
/// finding number is out of range, and no output file; exit 2 for a malformed one.
#[test]
fn errors_name_the_selector() {
    let out = out_path("errors");
    let o_str = out.to_str().unwrap().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["--finding", "7"], "--finding 7: there are 6 findings"),
        (&["--frames", "nosuch:1"], "--frames nosuch:1 matched no frame"),
        (&["--frames", "server_pod:11"], "--frames server_pod:11 matched no frame"),
        (&["--flow", "999", "--frames", "client_pod:1"], "--flow 999 matched no frame"),
    ];
    for (sel, msg) in cases {
        let mut args = vec!["extract"];
        args.extend_from_slice(sel);
        let f = files();
        args.extend(f.iter().map(String::as_str));
        args.extend(["-o", &o_str]);
        let o = netcap(&args);
        assert_eq!(o.status.code(), Some(1), "{sel:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(msg), "{sel:?}: {err}");
        assert!(!out.exists(), "{sel:?}: no evidence file");
        assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0, "no partial file left");
    }
    for bad in [&["--finding", "0"][..], &["--frames", "client_pod"], &["--flow", "a-b"], &[]] {
        let mut args = vec!["extract"];
        args.extend_from_slice(bad);
        args.extend(["server_pod.pcap", "-o", &o_str]);
        assert_eq!(netcap(&args).status.code(), Some(2), "{bad:?}");
    }
    let o = netcap(&["extract", "--frames", "x:1", "missing.pcap", "-o", &o_str]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.pcap"));
    let o = netcap(&["extract", "--frames", "server_pod:1", "server_pod.pcap", "-o", "server_pod.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the output is one of the input files"));
}

/// `netcap extract --finding 1 FILES… -o OUT` in `fixtures/lab/DIR`; the comments as
/// tshark shows them (None without tshark) and the frames as netcap reads them.
fn lab_finding_1(dir: &str, files: &[&str], test: &str) -> (Vec<Read>, Option<Vec<String>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab").join(dir);
    let out = out_path(test);
    let o = Command::new(env!("CARGO_BIN_EXE_netcap"))
        .args(["extract", "--finding", "1"])
        .args(files)
        .args(["-o", out.to_str().unwrap()])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let comments = tshark().then(|| {
        let o = Command::new("tshark").arg("-r").arg(&out).args(["-T", "fields", "-e", "frame.comment"]).output().unwrap();
        String::from_utf8(o.stdout).unwrap().lines().map(str::to_string).collect()
    });
    (read(&out).0, comments)
}

/// Injected wire loss (fixtures/lab/wire-loss): finding 1's evidence is each dropped
/// segment at the two points that saw it, as many as the nftables counter dropped,
/// each "not seen at mid_out, receiver".
#[test]
fn wire_loss_evidence_is_the_dropped_segments() {
    let gt: Value = serde_json::from_str(
        &std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/wire-loss/ground_truth.json")).unwrap(),
    )
    .unwrap();
    let dropped = gt["drop_rule"]["nft_counter_dropped"].as_u64().unwrap() as usize;
    let (frames, comments) = lab_finding_1("wire-loss", &["sender.pcap", "mid_in.pcap", "mid_out.pcap", "receiver.pcap"], "wire-loss");
    assert_eq!(frames.len(), 2 * dropped);
    assert!(frames.iter().all(|f| f.point == "sender" || f.point == "mid_in"));
    if let Some(c) = comments {
        assert_eq!(c.len(), 2 * dropped);
        assert!(c.iter().all(|l| l.starts_with("finding 1 (lost_between, packet ") && l.ends_with("; not seen at mid_out, receiver")), "{c:?}");
    }
}

/// Behind a NAT the packet carries other addresses, but it is the same packet: the
/// comment at nat_out still names the point that never saw it (regression: the path
/// was looked up by the translated addresses and the part was left out).
#[test]
fn nat_evidence_says_where_the_packet_was_not_seen_on_both_sides() {
    let (frames, comments) = lab_finding_1("nat", &["client.pcap", "nat_in.pcap", "nat_out.pcap", "server.pcap"], "nat");
    assert!(frames.iter().any(|f| f.point == "nat_out"));
    if let Some(c) = comments {
        assert!(c.iter().all(|l| l.ends_with("; not seen at server")), "{c:?}");
        assert!(c.iter().any(|l| l.contains(", 10.81.2.1:40001 > 10.81.2.2:8080;")), "the translated side: {c:?}");
    }
}

/// Failed handshakes (fixtures/lab/syn-retries, one client capture): finding 2, a
/// connection timed out after 8 SYNs, is its 8 SYNs numbered 1 to 8 of 8; finding 3,
/// refused, is the SYN and the RST that refused it.
#[test]
fn failed_handshakes_bring_their_syns_and_the_refusal() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/syn-retries");
    let run = |n: &str, test: &str| {
        let out = out_path(test);
        let o = Command::new(env!("CARGO_BIN_EXE_netcap"))
            .args(["extract", "--finding", n, "client.pcap", "-o", out.to_str().unwrap()])
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let out = run("2", "timed-out");
    assert_eq!(read(&out).0.len(), 8);
    if tshark() {
        let o = Command::new("tshark").arg("-r").arg(&out).args(["-T", "fields", "-e", "frame.comment"]).output().unwrap();
        let c: Vec<String> = String::from_utf8(o.stdout).unwrap().lines().map(str::to_string).collect();
        let want: Vec<String> =
            (1..=8).map(|k| format!("finding 2 (handshake_failure): SYN attempt {k} of 8 of 10.78.0.1:40002 > 10.78.0.2:9")).collect();
        let got: Vec<String> = c.iter().map(|l| l.split(';').next().unwrap().to_string()).collect();
        assert_eq!(got, want);
    }
    let out = run("3", "refused");
    let o = Command::new(env!("CARGO_BIN_EXE_netcap")).args(["packets", "--format", "jsonl", out.to_str().unwrap()]).output().unwrap();
    let flags: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["layers"].as_array().unwrap().last().unwrap()["flag_names"].clone())
        .collect();
    assert_eq!(flags, [serde_json::json!(["SYN"]), serde_json::json!(["RST", "ACK"])]);
}

/// `--frames-from`: the frames a query over the exported `packets` table selects — here
/// every frame whose inner TCP checksum is not good or whose receiver drops it — written
/// by DuckDB as Parquet, and the same list as a CSV written by hand: the evidence holds
/// exactly those frames, each with its `frame POINT:N` comment.
#[test]
fn frames_from_a_query_result() {
    let out = out_path("frames-from");
    let dir = out.parent().unwrap().to_path_buf();
    let export = dir.join("export");
    let mut args = vec!["export".to_string(), "-o".into(), export.display().to_string()];
    args.extend(files());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(netcap(&a).status.success());
    // The query by hand, from `netcap packets`: the frames a receiver drops.
    let mut want: Vec<(String, u64)> = Vec::new();
    for l in jsonl(&["client_underlay.pcap", "server_underlay.pcap"]) {
        if l["receiver_accepts"] == false {
            want.push((l["point"].as_str().unwrap().to_string(), l["frame"].as_u64().unwrap()));
        }
    }
    assert_eq!(want, [("client_underlay".to_string(), 1), ("client_underlay".to_string(), 2), ("server_underlay".to_string(), 1), ("server_underlay".to_string(), 2)]);
    // A CSV with quoting and a column order of its own.
    let csv = dir.join("frames.csv");
    let mut text = "frame,\"point\",why\n".to_string();
    for (p, f) in &want {
        text.push_str(&format!("{f},\"{p}\",\"bad, outer\"\n"));
    }
    std::fs::write(&csv, text).unwrap();
    extract(&["--frames-from", csv.to_str().unwrap()], &out);
    let mut got = origins(&read(&out).0);
    got.sort();
    assert_eq!(got, want);

    // The same selection as a query result DuckDB writes (Parquet, frame as uint64).
    let duckdb = Command::new("python3").args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success());
    if !duckdb {
        assert!(std::env::var("NETCAP_REQUIRE_DUCKDB").as_deref() != Ok("1"), "NETCAP_REQUIRE_DUCKDB=1 but DuckDB is missing");
        common::skip(format_args!("frames_from_a_query_result: the DuckDB half skipped, DuckDB (python3 -m pip install duckdb) is not installed"));
        return;
    }
    let sql = format!(
        "COPY (SELECT point, frame FROM '{}' WHERE NOT receiver_accepts ORDER BY ALL) TO '{}' (FORMAT parquet)",
        export.join("packets/**/*.parquet").display(),
        dir.join("frames.parquet").display()
    );
    let o = Command::new("python3").args(["-c", "import duckdb, sys; duckdb.sql(sys.argv[1])", &sql]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out2 = dir.join("evidence2.pcapng");
    extract(&["--frames-from", dir.join("frames.parquet").to_str().unwrap()], &out2);
    let mut got = origins(&read(&out2).0);
    got.sort();
    assert_eq!(got, want);
    // A file without the columns is refused, naming what is missing.
    let o = netcap(&["extract", "--frames-from", csv.parent().unwrap().join("export/flows/part-0.parquet").to_str().unwrap(), "client_pod.pcap", "-o", "/dev/null"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no column \"frame\""), "{}", String::from_utf8_lossy(&o.stderr));
}
