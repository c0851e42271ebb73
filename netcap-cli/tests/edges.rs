//! The edges a new user meets first: options in tcpdump's places and spellings, inputs
//! that are not captures or are given twice, and a run stopped by Ctrl-C or SIGTERM.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{kill, netcap, records, root, stderr, wait_reading, FLANNEL};
use serde_json::Value;

const UNDERLAY: &str = "fixtures/lab/flannel/server_underlay.pcap";

/// `-q`, `-n` and `--color` work before the command's name as after it: the output is
/// the command's, not a summary of a file named like the command.
#[test]
fn options_every_command_takes_go_before_or_after_its_name() {
    let flows = netcap(&["flows", "--color", "never", "-q", UNDERLAY]);
    assert!(flows.status.success(), "{}", stderr(&flows));
    assert!(String::from_utf8_lossy(&flows.stdout).contains("10.244.1.2:55406 > 10.244.2.3:80"));
    for args in [
        &["--color", "never", "-q", "flows", UNDERLAY][..],
        &["-q", "--color=never", "flows", UNDERLAY],
        &["-qn", "flows", UNDERLAY],
        &["-n", "--quiet", "flows", UNDERLAY, "--color", "never"],
    ] {
        let out = netcap(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(out.stdout, flows.stdout, "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
    let summary = netcap(&["summary", UNDERLAY]);
    let before = netcap(&["-q", "summary", UNDERLAY]);
    assert_eq!(before.stdout, summary.stdout);
    // Without a command's name the options belong to the bare form (a summary).
    assert_eq!(netcap(&["-q", UNDERLAY]).stdout, summary.stdout);
}

/// tcpdump's `-r FILE` reads FILE; `-n` is accepted (netcap never resolves names).
#[test]
fn tcpdump_read_and_numeric_options_are_taken() {
    let plain = netcap(&["summary", "--format", "json", UNDERLAY]);
    for args in [&["-r", UNDERLAY, "--format", "json"][..], &["summary", "-nn", "--format", "json", "-r", UNDERLAY]] {
        let out = netcap(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(out.stdout, plain.stdout, "{args:?}");
    }
    // -r beside FILE arguments: both are read, -r's after.
    let two = netcap(&["summary", "--format", "json", "fixtures/lab/flannel/client_pod.pcap", "-r", UNDERLAY]);
    let r: Value = serde_json::from_slice(&two.stdout).unwrap();
    let points: Vec<&str> = r["points"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(points, ["client_pod", "server_underlay"]);
    assert_eq!(r["frames"], 24);
}

/// Options netcap does not have, in tcpdump's and tshark's spelling: a usage error
/// (status 2) saying what to use instead, before anything is read.
#[test]
fn foreign_options_say_what_to_use_instead() {
    for (args, says) in [
        (&["summary", "-i", "eth0"][..], "tcpdump -i IFACE -w - | netcap summary -"),
        (&["-i", "any"], "does not capture"),
        (&["packets", UNDERLAY, "-w", "out.pcap"], "netcap extract"),
        (&["summary", "-Y", "tcp.analysis.retransmission", UNDERLAY], "-f 'EXPR'"),
        (&["packets", "-x", UNDERLAY], "tcpdump -X -r OUT.pcapng"),
        (&["packets", "-X", UNDERLAY], "does not print packet bytes"),
        (&["correlate", "-w", UNDERLAY], "netcap extract"),
    ] {
        let out = netcap(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

/// An input that cannot be read leaves no empty report behind it: the error, status 1,
/// and nothing on standard output (text or JSON).
#[test]
fn an_unreadable_input_prints_no_empty_report() {
    for cmd in ["summary", "flows", "correlate"] {
        for format in ["text", "json"] {
            let out = netcap(&[cmd, "--format", format, "fixtures/README.md"]);
            assert_eq!(out.status.code(), Some(1), "{cmd} {format}");
            assert!(out.stdout.is_empty(), "{cmd} {format}: {}", String::from_utf8_lossy(&out.stdout));
            // At the start of a file: "not a capture", no byte offset.
            assert!(stderr(&out).contains("fixtures/README.md: not a capture (its first bytes, 23 20"), "{}", stderr(&out));
            assert!(!stderr(&out).contains("offset"), "{}", stderr(&out));
        }
    }
    let out = netcap(&["summary", "no/such/file.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("no/such/file.pcap: No such file"), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.md");
    let out = netcap(&["report", "fixtures/README.md", "-o", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!report.exists(), "no report for nothing read");
    // A readable file beside the unreadable one: its results are printed.
    let out = netcap(&["summary", "--format", "json", "fixtures/README.md", UNDERLAY]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["frames"], 12);
}

/// One file (or standard input) given twice would be two points holding the same
/// packets: refused, naming it.
#[test]
fn the_same_input_twice_is_refused() {
    let dotted = format!("./{UNDERLAY}");
    for args in [&["summary", UNDERLAY, UNDERLAY][..], &["correlate", UNDERLAY, &dotted], &["flows", "-", "-"]] {
        let out = netcap(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(stderr(&out).contains("given twice"), "{args:?}: {}", stderr(&out));
    }
}

/// `tcpdump -w - | netcap CMD -` stopped by Ctrl-C: the result for the frames read,
/// marked as interrupted, and status 130 (SIGTERM: 143). A second signal exits at once
/// and removes the temporary output being written; an older export stays as it was.
#[test]
fn a_signal_ends_a_piped_run_with_what_was_read() {
    if !cfg!(target_os = "linux") {
        common::skip(format_args!("skipped: the signal test watches /proc (Linux only)"));
        return;
    }
    let pcap = std::fs::read(root().join("fixtures/lab/flannel/client_pod.pcap")).unwrap();
    let recs = records(&pcap);
    assert_eq!(recs.len(), 12);
    // netcap ARGS reading a pipe, fed the capture's file header.
    let start = |args: &[&str]| common::piped(args, &pcap[..24]);
    let run = |args: &[&str], signal: &str| {
        let (child, mut stdin) = start(args);
        for r in &recs[..5] {
            stdin.write_all(r).unwrap();
        }
        stdin.flush().unwrap();
        wait_reading(child.id());
        kill(child.id(), signal);
        std::thread::sleep(Duration::from_millis(200));
        // The next record wakes the blocked read; it is not analysed.
        stdin.write_all(recs[5]).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let out = run(&["summary", "-"], "INT");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Interrupted (Ctrl-C) after 5 frames read: everything below covers only them.\n"), "{text}");
    assert!(text.contains("\n5 frames, 362 bytes,"), "{text}");
    assert!(stderr(&out).contains("interrupted (Ctrl-C)"));

    let out = run(&["flows", "--format", "json", "-"], "TERM");
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    // The SYNs and the first data segments (client_pod frames 1..5): 4 to the server.
    assert_eq!(doc["flows"][0]["c2s"]["packets"], 4);

    let out = run(&["correlate", "--format", "json", "-"], "INT");
    assert_eq!(out.status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert_eq!(doc["points"][0]["frames"], 5);
    let whole = netcap(&["correlate", "--format", "json", "fixtures/lab/flannel/client_pod.pcap"]);
    let whole: Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert!(whole.get("interrupted").is_none(), "absent when the run was not stopped");

    // export: the tables closed valid, holding the frames read.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run(&["export", "-", "-o", out_dir.to_str().unwrap()], "INT");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let part = out_dir.join("packets/part-0.parquet");
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&part).unwrap()).expect("a valid Parquet file");
    assert_eq!(parquet::file::reader::FileReader::metadata(&reader).file_metadata().num_rows(), 5);

    // Two signals during export: out at once, the new tables gone and the old ones (the
    // interrupted export's above) as they were.
    let before = common::tree(&out_dir);
    // netcap ARGS stopped by two signals while it waits for input: its exit status. The
    // temporary output `started(pid)` is there while it runs.
    let twice = |args: &[&str], signal: &str, started: &dyn Fn(u32) -> std::path::PathBuf| {
        let (child, mut stdin) = start(args);
        stdin.flush().unwrap();
        wait_reading(child.id());
        let started = started(child.id());
        assert!(started.exists(), "{} not there while running", started.display());
        kill(child.id(), signal);
        std::thread::sleep(Duration::from_millis(200));
        kill(child.id(), signal);
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        out.status.code()
    };
    let stage = |pid| out_dir.join(format!(".netcap-tmp-{pid}"));
    let status = twice(&["export", "-", "-o", out_dir.to_str().unwrap(), "--force"], "TERM", &stage);
    assert_eq!(status, Some(143));
    let after = common::tree(&out_dir);
    assert!(after == before, "not the old tables byte for byte, or a temporary directory left: {:?}", after.keys().collect::<Vec<_>>());

    // Two signals: out at once, the temporary output file gone, none under the name.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.txt");
    let tmp = |pid| dir.path().join(format!(".summary.txt.netcap-tmp-{pid}"));
    assert_eq!(twice(&["summary", "-", "-o", path.to_str().unwrap()], "INT", &tmp), Some(130));
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "the cut-short output is removed");
}

fn text(args: &[&str]) -> String {
    let out = netcap(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// `correlate` opens with the verdict: errors, then warnings, then information, each
/// finding under the number `extract --finding` takes; a kind with more than three
/// findings is one line. Information findings' frames and hints only with --verbose.
#[test]
fn correlate_text_opens_with_the_verdict_worst_first() {
    let mut args = vec!["correlate"];
    args.extend(FLANNEL);
    let t = text(&args);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "Verdict: 1 error, 1 warning and 4 information findings");
    assert!(lines[1].starts_with("   1. [error] 2 packets of 10.244.1.2:55406 > 10.244.2.3:80 were seen on server_underlay and missing from server_vxlan"), "{t}");
    assert!(lines[2].starts_with("   6. [warning] 10.244.1.2:55406 > 10.244.2.3:80 connected after 3.027 s: 3 SYN attempts"), "{t}");
    assert!(lines[3].starts_with("    - [info] 4 offload_artifact findings (numbers 2, 3, 4, 5); the first: 7 frames on client_pod"), "{t}");
    assert_eq!(lines[4], "");
    assert_eq!(lines[5], "Capture points");
    // The evidence below: the error's frames and hint; the information findings folded.
    assert!(t.contains("\n  1. [error] dropped_bad_outer_checksum: "));
    assert!(t.contains("\n     packet 2: seen at client_pod:2, client_vxlan:2, client_underlay:2, server_underlay:2\n"));
    assert!(!t.contains("[info] offload_artifact: 7 frames"), "folded: {t}");
    assert!(t.ends_with("  Information findings 2, 3, 4, 5 are in the verdict; --verbose lists their frames and hints.\n"), "{t}");
    args.push("--verbose");
    let verbose = text(&args);
    assert!(verbose.contains("\n  2. [info] offload_artifact: 7 frames on client_pod carry only the pseudo-header checksum"));
    assert!(verbose.contains("\n     packet 7: seen at client_pod:11\n"));
    // --min-severity: only errors; what was hidden is counted.
    let mut args = vec!["correlate", "--min-severity", "error"];
    args.extend(FLANNEL);
    let t = text(&args);
    assert!(t.starts_with("Verdict: 1 error (5 less severe hidden by --min-severity)\n   1. [error] "), "{t}");
    assert!(!t.contains("[warning]"));
    // JSON always carries every finding: --min-severity there is a usage error.
    let out = netcap(&["correlate", "--format", "json", "--min-severity", "error", FLANNEL[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("JSON carries every finding"), "{}", stderr(&out));
}

/// Nothing wrong: said first, in so many words.
#[test]
fn a_clean_run_says_no_problems_found() {
    // The server's pod and VXLAN device: the same 10 packets at both, no loss; their TCP
    // checksums are TX-offload partials (information only).
    let t = text(&["correlate", "--min-severity", "warning", FLANNEL[4], FLANNEL[5]]);
    assert!(
        t.starts_with("No problems found: every packet was seen at every point on its path. (2 less severe hidden by --min-severity)\n"),
        "{t}"
    );
    let t = text(&["correlate", FLANNEL[4], FLANNEL[5]]);
    assert!(t.starts_with("No problems found: every packet was seen at every point on its path; 2 information findings:\n"), "{t}");
    let t = text(&["summary", "--min-severity", "warning", FLANNEL[5]]);
    assert!(t.starts_with("No problems found. (1 less severe hidden by --min-severity)\n"), "{t}");
}

/// Totals over several points count a connection once: the flannel connection seen at
/// four points is one connection, four flows, one SYN-retried connection. Counts take
/// their plural only when not 1.
#[test]
fn a_connection_seen_at_four_points_is_counted_once() {
    let mut args = vec!["summary"];
    args.extend(&FLANNEL[..4]);
    let t = text(&args);
    assert!(t.contains("\nTCP\n  1 connection over the points, 4 flows (one per point that saw one); flows by outcome: closed 4\n"), "{t}");
    assert!(t.contains("\n  retransmissions (every point's flows together) 8 segments, 0 bytes (25.00 % of the segments that carry data, SYN or FIN)\n"), "{t}");
    assert!(t.contains("\n  SYN retried in 1 connection: 1 connected after 3.026 s\n"), "{t}");
    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let out = netcap(&json_args);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["tcp"]["flows"].as_u64(), r["tcp"]["connections"].as_u64(), r["tcp"]["syn_retried"].as_u64()), (Some(4), Some(1), Some(1)));
    assert_eq!(r["tcp"]["syn_retry_connect_delay"]["count"], 1);
    // One point: one flow, no "over the points".
    let t = text(&["summary", FLANNEL[3]]);
    assert!(t.contains("\nTCP\n  1 flow: closed 1\n  retransmissions 2 segments, 0 bytes"), "{t}");
    let t = text(&["flows", FLANNEL[3]]);
    assert!(t.starts_with("1 TCP flow, 1 in trouble\n"), "{t}");
}
