//! `--threads N` changes the time a command takes, never what it writes: every command's
//! output is byte for byte the same with 1, 2 and 7 threads, on the lab captures
//! (several points, several chunks of frames) and on a constructed capture of many
//! short TCP connections that exercises the flow table's sharding, eviction
//! (`--max-flows`) and idle expiry (`--flow-timeout`) across chunk boundaries.

mod common;

use std::path::{Path, PathBuf};

use common::{netcap, root};

const THREADS: [&str; 3] = ["1", "2", "7"];

/// A classic pcap of `n` TCP connections in Ethernet/IPv4, interleaved five at a time:
/// SYN, SYN/ACK, ACK, a data segment, FIN (checksums left zero: `bad` verdicts are fine
/// here). Every 1,000 connections the clock jumps 20 s, past a 10 s flow timeout, and
/// some connections resume on the same ports after the gap.
fn many_connections(path: &Path, n: u32) {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    let mut ts_us: u64 = 1_700_000_000_000_000;
    let record = |out: &mut Vec<u8>, ts_us: u64, frame: &[u8]| {
        out.extend(((ts_us / 1_000_000) as u32).to_le_bytes());
        out.extend(((ts_us % 1_000_000) as u32).to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend(frame);
    };
    let frame = |c: u32, from_client: bool, flags: u8, seq: u32, ack: u32, payload: usize| -> Vec<u8> {
        let client = [10, 1, (c >> 8) as u8, c as u8];
        let server = [10, 2, 0, (c % 7) as u8];
        let cport = 30_000 + (c % 20_000) as u16;
        let (src, dst, sport, dport) = if from_client { (client, server, cport, 80) } else { (server, client, 80, cport) };
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        let total = (20 + 20 + payload) as u16;
        f.extend([0x45, 0, (total >> 8) as u8, total as u8, (c >> 8) as u8, c as u8, 0x40, 0, 64, 6, 0, 0]);
        f.extend(src);
        f.extend(dst);
        f.extend(sport.to_be_bytes());
        f.extend(dport.to_be_bytes());
        f.extend(seq.to_be_bytes());
        f.extend(ack.to_be_bytes());
        f.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend(std::iter::repeat_n(b'x', payload));
        f
    };
    let (syn, ack, psh, fin) = (0x02, 0x10, 0x08, 0x01);
    for group in 0..n.div_ceil(5) {
        if group > 0 && group % 200 == 0 {
            ts_us += 20_000_000;
        }
        let conns: Vec<u32> = (group * 5..(group * 5 + 5).min(n)).collect();
        // Connection c resumes (same ports) after a gap when c ≡ 3 mod 1000.
        let steps: [(bool, u8, u32, u32, usize); 5] =
            [(true, syn, 100, 0, 0), (false, syn | ack, 500, 101, 0), (true, ack, 101, 501, 0), (true, psh | ack, 101, 501, 100), (true, fin | ack, 201, 501, 0)];
        for (from_client, flags, seq, ackn, payload) in steps {
            for &c in &conns {
                let c = if c % 1000 == 3 && group % 200 == 0 && group > 0 { c - 1000 } else { c };
                ts_us += 37;
                record(&mut out, ts_us, &frame(c, from_client, flags, seq, ackn, payload));
            }
        }
    }
    std::fs::write(path, out).expect("write the constructed capture");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netcap-threads-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `bytes` with every `--threads T` (the command line, which reports and evidence
/// files quote) as `--threads N`: same length, T being one digit.
fn unquote_threads(bytes: &[u8], t: &str) -> Vec<u8> {
    let (from, to) = (format!("--threads {t}").into_bytes(), b"--threads N".to_vec());
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(&from) {
            out.extend(&to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// stdout, then (path, bytes) of every file written.
type Written = (Vec<u8>, Vec<(String, Vec<u8>)>);

/// Runs `args` with each thread count; the outputs (stdout, and the files the command
/// writes under `out`, `{out}` standing for it in `args`) must be equal.
fn same_for_every_thread_count(label: &str, args: &[&str], dir: &Path) {
    let mut first: Option<Written> = None;
    for t in THREADS {
        // One path for every run: the command line it appears in is compared too.
        let out = dir.join(label);
        if out.is_dir() {
            std::fs::remove_dir_all(&out).expect("clear the last run's output");
        } else if out.is_file() {
            std::fs::remove_file(&out).expect("clear the last run's output");
        }
        let out_s = out.to_string_lossy().into_owned();
        let mut full: Vec<String> = args.iter().map(|a| a.replace("{out}", &out_s)).collect();
        full.extend(["--threads".to_string(), t.to_string()]);
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let o = netcap(&refs);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{label} --threads {t}: {}", String::from_utf8_lossy(&o.stderr));
        let mut files = Vec::new();
        if out.is_dir() {
            let mut stack = vec![out.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).expect("read output dir").flatten() {
                    if e.path().is_dir() {
                        stack.push(e.path());
                    } else {
                        let rel = e.path().strip_prefix(&out).expect("inside").to_string_lossy().into_owned();
                        files.push((rel, unquote_threads(&std::fs::read(e.path()).expect("read output"), t)));
                    }
                }
            }
        } else if out.is_file() {
            files.push((String::new(), unquote_threads(&std::fs::read(&out).expect("read output"), t)));
        }
        files.sort();
        let stdout = unquote_threads(String::from_utf8_lossy(&o.stdout).replace(&out_s, "{out}").as_bytes(), t);
        match &first {
            None => {
                assert!(!stdout.is_empty() || !files.is_empty(), "{label}: no output");
                first = Some((stdout, files));
            }
            Some((s, f)) => {
                assert!(*s == stdout, "{label}: stdout differs between --threads 1 and --threads {t}");
                assert_eq!(f.len(), files.len(), "{label}: files differ with --threads {t}");
                for ((na, a), (nb, b)) in f.iter().zip(&files) {
                    assert_eq!(na, nb, "{label}");
                    assert!(a == b, "{label}: {na} differs between --threads 1 and --threads {t}");
                }
            }
        }
    }
}

#[test]
fn every_command_writes_the_same_with_1_2_and_7_threads_on_the_lab_captures() {
    let dir = scratch("lab");
    for scenario in ["flannel", "tcp-loss", "wire-loss", "vxlan-tso", "nat"] {
        let mut files: Vec<String> = std::fs::read_dir(root().join("fixtures/lab").join(scenario))
            .expect("lab scenario")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
            .map(|p| p.strip_prefix(root()).expect("in the workspace").to_string_lossy().into_owned())
            .collect();
        files.sort();
        let f: Vec<&str> = files.iter().map(String::as_str).collect();
        let with = |head: &[&'static str]| -> Vec<&str> { head.iter().copied().chain(f.iter().copied()).collect() };
        same_for_every_thread_count(&format!("{scenario}-summary"), &with(&["summary", "--format", "json"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-flows"), &with(&["flows", "--format", "json"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-packets"), &with(&["packets", "--format", "jsonl"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-correlate"), &with(&["correlate", "--packets", "--format", "json"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-report"), &with(&["report", "--format", "html", "-o", "-"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-export"), &with(&["export", "-o", "{out}"]), &dir);
        same_for_every_thread_count(&format!("{scenario}-extract"), &with(&["extract", "--flow", "0", "-o", "{out}"]), &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn many_connections_with_eviction_and_expiry_give_the_same_output_with_1_2_and_7_threads() {
    let dir = scratch("many");
    let capture = dir.join("many.pcap");
    many_connections(&capture, 5000);
    let c = capture.to_string_lossy().into_owned();
    let limits = ["--max-flows", "300", "--flow-timeout", "10"];
    let with = |head: &[&'static str]| -> Vec<String> {
        head.iter().copied().chain(limits).map(str::to_string).chain([c.clone()]).collect()
    };
    for (label, head) in [
        ("summary", &["summary", "--format", "json"][..]),
        ("flows", &["flows", "--format", "json"][..]),
        ("packets", &["packets", "--format", "jsonl"][..]),
        ("correlate", &["correlate", "--format", "json"][..]),
    ] {
        let args = with(head);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        same_for_every_thread_count(label, &refs, &dir);
    }
    // The capture does what it is for: 5,000 connections plus the resumed ones, many
    // evicted from 300 slots, and idle ones expired.
    let o = netcap(&with(&["flows", "--format", "json"]).iter().map(String::as_str).collect::<Vec<_>>());
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("flows JSON");
    let flows = doc["flows"].as_array().expect("flows");
    assert!(flows.len() >= 5000, "{} flows", flows.len());
    let ids: std::collections::BTreeSet<u64> = flows.iter().filter_map(|f| f["id"].as_u64()).collect();
    assert_eq!(ids.len(), flows.len(), "flow ids are unique");
    assert_eq!(ids.iter().next_back().copied(), Some(flows.len() as u64 - 1), "flow ids are 0..n");
    assert!(doc["table"]["evicted"].as_u64().is_some_and(|n| n > 0), "{}", doc["table"]);
    assert!(doc["table"]["expired"].as_u64().is_some_and(|n| n > 0), "{}", doc["table"]);
    let _ = std::fs::remove_dir_all(&dir);
}
