//! Checksum verdicts, header by header, against tshark 4.0 over the public corpus
//! (`../shared/corpus`; skipped with one line where it or `tshark` is absent).
//!
//! For every file tshark reads completely, tshark prints per frame the status of every
//! IPv4 header, UDP, TCP, ICMP and ICMPv6 checksum it judged (`*.checksum.status`,
//! every occurrence, outermost first), and netcap decodes the frame. Per frame and
//! protocol the two lists are compared position by position where both tools decoded the
//! same number of headers of that protocol; where the numbers differ (a header one tool
//! decodes and the other does not: sFlow samples, a cut header tshark still lists, …)
//! the frame's headers of that protocol are counted apart, not compared.
//!
//! A header is compared when both tools judge it: tshark says Good, Bad, Not present or
//! Illegal (not Unverified), netcap anything but `unverifiable`. netcap's `partial` is
//! tshark's Bad (tshark has no notion of offload). Two departures are tshark's and are
//! shown with the bytes that prove them, not counted as disagreements:
//! - a TCP checksum stored as 0xffff where the computed one is 0x0000: tshark says Bad
//!   ("see RFC 1624"); the sum verifies and a receiver accepts it;
//! - a zero UDP checksum over IPv6 to a tunnel port that may send it (RFC 6935 / 6936:
//!   VXLAN, Geneve, GRE and MPLS in UDP, VXLAN-GPE): tshark says Illegal.
//!
//! The test asserts that the verdicts agree on at least 99.9 % of the headers both judge
//! (issue 11) and prints the disagreements by kind with examples.
//! `cargo test -p netcap-core --test corpus_checksums -- --nocapture` prints the report.
//! tshark's output is cached like `corpus_tcp`'s (`NETCAP_TSHARK_CACHE=off` to rerun it).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use netcap_core::capture::CaptureReader;
use netcap_core::checksum::Status;
use netcap_core::decode::{DecodeOptions, Decoder, LayerKind, Packet, UdpTunnel};

use common::{Row, PER_FILE_LIMIT};

/// The share of headers both tools judge whose verdicts must agree, in percent.
const MIN_AGREEMENT_PCT: f64 = 99.9;

/// tshark's longest run on one file.
const TSHARK_LIMIT: Duration = Duration::from_secs(60);

/// Checksum validation on (it is off by default), reassembly off (with it, tshark judges
/// the reassembled datagram's transport checksum on the last fragment), flannel's port
/// decoded as VXLAN as netcap does, and the CAPWAP 802.11 frame control read in standard
/// byte order as netcap reads it.
const TSHARK_ARGS: [&str; 14] = [
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-d",
    "udp.port==8472,vxlan",
    "-o",
    "capwap.swap_fc:FALSE",
];

/// The protocols compared, in the order of the status fields after `frame.number`.
const PROTOS: [&str; 5] = ["ipv4", "udp", "tcp", "icmp", "icmpv6"];

const FIELDS: [&str; 6] = [
    "frame.number",
    "ip.checksum.status",
    "udp.checksum.status",
    "tcp.checksum.status",
    "icmp.checksum.status",
    "icmpv6.checksum.status",
];

/// tshark's checksum status values.
const BAD: u8 = 0;
const GOOD: u8 = 1;
const UNVERIFIED: u8 = 2;
const NOT_PRESENT: u8 = 3;
const ILLEGAL: u8 = 4;

/// One of netcap's verdicts, with what the departures need.
#[derive(Debug, Clone, Copy)]
struct Verdict {
    status: Status,
    stored: u16,
    expected: Option<u16>,
    /// UDP over IPv6 to a port whose zero checksum RFC 6935 / 6936 allows.
    zero_allowed: bool,
}

/// Per frame: netcap's verdicts per protocol of [`PROTOS`], outermost first.
type NetFrame = [Vec<Verdict>; 5];

/// What one frame's verdicts are, in netcap's decode.
fn net_frame(packet: &Packet, opts: &DecodeOptions) -> NetFrame {
    let mut out: NetFrame = Default::default();
    let mut over_v6 = false;
    for l in &packet.layers {
        match l.kind {
            LayerKind::Ipv4 { .. } => over_v6 = false,
            LayerKind::Ipv6 { .. } => over_v6 = true,
            _ => {}
        }
        let Some(v) = l.checksum else { continue };
        let (i, zero_allowed) = match l.kind {
            LayerKind::Ipv4 { .. } => (0, false),
            LayerKind::Udp { src_port, dst_port, .. } => {
                let t = opts.udp_tunnel(src_port, dst_port);
                (1, over_v6 && t.is_some_and(UdpTunnel::zero_checksum_allowed_over_ipv6))
            }
            LayerKind::Tcp { .. } => (2, false),
            LayerKind::Icmp { .. } => (3, false),
            LayerKind::Icmpv6 { .. } => (4, false),
            _ => continue,
        };
        out[i].push(Verdict { status: v.status, stored: v.stored, expected: v.expected, zero_allowed });
    }
    out
}

/// What tshark's status means in netcap's terms, for a header both judge.
fn tshark_equivalent(s: Status) -> u8 {
    match s {
        Status::Good => GOOD,
        Status::Bad | Status::Partial => BAD,
        Status::Absent => NOT_PRESENT,
        Status::IllegalZero => ILLEGAL,
        _ => UNVERIFIED,
    }
}

/// One file's outcome.
#[derive(Debug, Default)]
struct Outcome {
    tshark: BTreeMap<u64, [Vec<u8>; 5]>,
    tshark_error: Option<String>,
    net: BTreeMap<u64, NetFrame>,
    net_frames: u64,
    net_error: Option<String>,
}

fn parse_line(line: &str) -> Option<(u64, [Vec<u8>; 5])> {
    let mut cols = line.split('\t');
    let number = cols.next()?.parse().ok()?;
    let mut out: [Vec<u8>; 5] = Default::default();
    for slot in &mut out {
        let col = cols.next().unwrap_or("");
        *slot = col.split(',').filter(|v| !v.is_empty()).filter_map(|v| v.parse().ok()).collect();
    }
    Some((number, out))
}

fn run_file(path: &Path, decoder: &Decoder, cached: Option<&Path>) -> Outcome {
    let mut out = Outcome::default();
    std::thread::scope(|inner| {
        let tshark = inner.spawn(|| common::tshark_output(path, &TSHARK_ARGS, &FIELDS, cached, TSHARK_LIMIT));
        let started = Instant::now();
        let run = catch_unwind(AssertUnwindSafe(|| {
            let mut reader = match CaptureReader::open(path) {
                Ok(r) => r,
                Err(e) => {
                    out.net_error = Some(format!("open: {}", e.kind));
                    return;
                }
            };
            let mut packet = Packet::default();
            loop {
                match reader.next_frame() {
                    Ok(Some(frame)) => {
                        out.net_frames += 1;
                        decoder.decode_into(frame.link_type, frame.data, &mut packet);
                        out.net.insert(frame.number, net_frame(&packet, decoder.options()));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.net_error = Some(format!("record {:?}: {}", e.record, e.kind));
                        break;
                    }
                }
                if started.elapsed() > PER_FILE_LIMIT {
                    out.net_error = Some("time limit exceeded".into());
                    break;
                }
            }
        }));
        if run.is_err() {
            out.net_error = Some("PANIC while decoding".into());
        }
        match tshark.join() {
            Ok(Ok(text)) => out.tshark = text.lines().filter_map(parse_line).collect(),
            Ok(Err(e)) => out.tshark_error = Some(e),
            Err(_) => out.tshark_error = Some("tshark runner panicked".into()),
        }
    });
    out
}

/// How the headers of the corpus compared.
#[derive(Debug, Default)]
struct Tally {
    /// Headers both tools judge, and of those the equal ones.
    judged: u64,
    equal: u64,
    /// Headers one tool or both left unverified.
    unjudged: u64,
    /// Headers in frames where the tools decoded a different number of headers of that
    /// protocol.
    unaligned: u64,
    /// tshark's departures, by kind: count and an example.
    departures: BTreeMap<&'static str, (u64, String)>,
    /// Disagreements by (protocol, tshark, netcap): count and an example.
    differ: BTreeMap<(&'static str, u8, Status), (u64, String)>,
}

fn note(map_entry: &mut (u64, String), example: impl FnOnce() -> String) {
    map_entry.0 += 1;
    if map_entry.1.is_empty() {
        map_entry.1 = example();
    }
}

fn compare(file: &str, out: &Outcome, t: &mut Tally) {
    for (frame, net) in &out.net {
        let Some(ts) = out.tshark.get(frame) else { continue };
        for (i, proto) in PROTOS.iter().enumerate() {
            let (a, b) = (&ts[i], &net[i]);
            if a.len() != b.len() {
                t.unaligned += a.len().max(b.len()) as u64;
                continue;
            }
            for (&s, v) in a.iter().zip(b) {
                let n = tshark_equivalent(v.status);
                if s == UNVERIFIED || n == UNVERIFIED {
                    t.unjudged += 1;
                    continue;
                }
                t.judged += 1;
                if s == n {
                    t.equal += 1;
                    continue;
                }
                let at = || format!("{file} frame {frame}: {proto} stored {:#06x}, expected {:?}", v.stored, v.expected);
                // RFC 1624: a stored 0xffff for a computed 0x0000 verifies.
                if *proto == "tcp" && s == BAD && v.status == Status::Good && v.stored == 0xffff {
                    t.equal += 1;
                    note(t.departures.entry("tshark: TCP 0xffff for a computed 0x0000 is Bad (RFC 1624: it verifies)").or_default(), at);
                    continue;
                }
                // RFC 6935 / 6936: the tunnel may send a zero UDP checksum over IPv6.
                if *proto == "udp" && s == ILLEGAL && v.status == Status::Absent && v.stored == 0 && v.zero_allowed {
                    t.equal += 1;
                    note(t.departures.entry("tshark: a zero UDP checksum over IPv6 to a tunnel port is Illegal (RFC 6935/6936 allow it)").or_default(), at);
                    continue;
                }
                note(t.differ.entry((proto, s, v.status)).or_default(), at);
            }
        }
    }
}

#[test]
fn corpus_checksum_verdicts_match_tshark_header_by_header() -> Result<(), Box<dyn Error>> {
    let Some((root, manifest)) = common::corpus_manifest("corpus checksum conformance") else {
        return Ok(());
    };
    let Some(version) = common::tshark_version("corpus checksum conformance") else {
        return Ok(());
    };
    let started = Instant::now();
    let rows: Vec<Row> = common::read_manifest(&manifest)?.into_iter().filter(|r| r.fully_read).collect();
    let cache = common::tshark_cache_dir("corpus_checksums", &version, &TSHARK_ARGS, &FIELDS);
    let decoder = Decoder::default();
    let outcomes = common::for_each_file(&root, &rows, 8, |path, row| {
        let cached = cache.as_ref().map(|d| d.join(format!("{}.tsv", row.sha256)));
        run_file(path, &decoder, cached.as_deref())
    });
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    let mut not_compared: HashMap<String, String> = HashMap::new();
    let mut compared = 0usize;
    for (row, out) in rows.iter().zip(&outcomes) {
        if let Some(e) = &out.net_error {
            if e.starts_with("PANIC") || e.starts_with("time limit") {
                failures.push(format!("{}: netcap {e}", row.file));
            }
        }
        if let Some(e) = &out.tshark_error {
            not_compared.insert(row.file.clone(), e.clone());
            continue;
        }
        if let Some(line) = common::reading_differs(row, out.net_frames, out.net_error.as_deref()) {
            not_compared.insert(row.file.clone(), line);
            continue;
        }
        compared += 1;
        compare(&row.file, out, &mut tally);
    }
    let pct = if tally.judged == 0 { 100.0 } else { tally.equal as f64 * 100.0 / tally.judged as f64 };
    println!(
        "checksum verdicts vs {version}: {} files fully read by tshark, {compared} compared, in {:?}",
        rows.len(),
        started.elapsed()
    );
    println!(
        "headers both tools judge: {}; equal: {} ({pct:.3} %); left unverified by one tool: {}; \
         not compared (the tools decode a different number of headers of that protocol in the frame): {}",
        tally.judged, tally.equal, tally.unjudged, tally.unaligned
    );
    println!("\ntshark's departures (counted as equal; the stored values prove them):");
    for (what, (n, example)) in &tally.departures {
        println!("{n:>7}  {what}\n           e.g. {example}");
    }
    println!("\ndisagreements: protocol, tshark status (0 Bad, 1 Good, 3 Not present, 4 Illegal), netcap verdict");
    for ((proto, s, n), (count, example)) in &tally.differ {
        println!("{count:>7}  {proto} tshark {s} netcap {}\n           e.g. {example}", n.as_str());
    }
    for (file, why) in &not_compared {
        println!("file not compared: {file}: {why}");
    }
    if pct < MIN_AGREEMENT_PCT {
        failures.push(format!(
            "checksum verdicts agree on {pct:.3} % of the {} headers both tools judge, below {MIN_AGREEMENT_PCT} %",
            tally.judged
        ));
    }
    if compared * 10 < rows.len() * 9 {
        failures.push(format!("only {compared} of {} files compared", rows.len()));
    }
    common::assert_no_disagreements(&failures);
    Ok(())
}
