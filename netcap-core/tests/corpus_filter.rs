//! Capture filters against tcpdump, the oracle of their meaning: for every expression of
//! [`EXPRESSIONS`] over every corpus file (`../shared/corpus`, skipped where absent)
//! that tcpdump reads, the frames a run of the engine keeps
//! ([`netcap_core::filter::Selection`]) are the frames `tcpdump -r FILE -w - EXPR`
//! writes, compared by frame number.
//!
//! tcpdump's kept records are numbered by finding each, in order, among the records of
//! `tcpdump -r FILE -w -` (every record libpcap reads); netcap's frames by their rank
//! among the frames it reads (its frame numbers are tshark's, which also count pcapng
//! custom blocks, libpcap's do not). libpcap cuts a record longer than the file's
//! snapshot length to it, and netcap's filter sees the same bytes, so records are
//! compared cut so. Frames are compared up to the first record where libpcap and
//! netcap read differently otherwise (libpcap stops at a record longer than its link
//! type allows; netcap reads on): those files are counted and listed, not hidden.
//!
//! `--inner` has no oracle of its own: no tool filters the innermost packet. Its test
//! cuts each frame's innermost packet ([`netcap_core::filter::innermost`]) out into a
//! capture of its own (Ethernet or raw IP) and asks tcpdump, on the lab captures and
//! on every corpus file with a tunnel.
//!
//! tcpdump's answers are cached under the test's target directory by tcpdump version,
//! file hash and expression (`NETCAP_TSHARK_CACHE=off` ignores the cache). Without
//! tcpdump or libpcap the test skips, unless `NETCAP_REQUIRE_TCPDUMP=1` (`.ci/run`).

mod common;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{corpus_manifest, fnv1a, for_each_file, read_manifest, run_limited, tshark_cache_dir, Row};
use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order};
use netcap_core::filter::{libpcap_version, Filter, Selection};

/// The expressions: hosts, nets, ports, VLAN, protocols, TCP flags, the overlay ports,
/// Ethernet addresses, byte offsets, lengths, negations.
const EXPRESSIONS: &[&str] = &[
    "tcp",
    "udp",
    "icmp",
    "ip6",
    "arp",
    "ip",
    "host 192.168.1.1",
    "src host 10.0.0.1 or dst host 10.0.0.2",
    "net 192.168.0.0/16",
    "src net 10.0.0.0/8",
    "dst net 172.16.0.0/12",
    "net fe80::/10",
    "tcp port 80",
    "port 53",
    "udp dst port 53",
    "tcp src port 443 or tcp dst port 443",
    "portrange 1-1023",
    "tcp dst portrange 1024-65535",
    "vlan",
    "vlan 100",
    "vlan and tcp",
    "mpls",
    "pppoes",
    "ip proto 47",
    "ip proto 17",
    "ip6 proto 58",
    "proto 50",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[tcpflags] & tcp-rst != 0",
    "udp port 8472",
    "udp port 4789 or udp port 6081",
    "ether host ff:ff:ff:ff:ff:ff",
    "ether broadcast",
    "ether multicast",
    "ether proto 0x88cc",
    "ip[8] < 64",
    "ip[6:2] & 0x1fff != 0",
    "ether[12:2] = 0x0800",
    "tcp[12] & 0xf0 > 0x50",
    "udp[4:2] > 100",
    "ip6[6] = 17",
    "not tcp",
    "not (port 80 or port 443)",
    "ip and not udp",
    "! arp",
    "greater 1000",
    "less 100",
    "len >= 1500",
    "ip multicast",
    "icmp[icmptype] = icmp-echo",
    "icmp6",
    "ip6 and tcp",
    "sctp",
    "igmp",
    "host 192.168.1.1 and tcp port 80",
    "tcp and (port 80 or port 8080)",
    "ip host 127.0.0.1",
];

/// One record as tcpdump writes it.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    ts: (u32, u32),
    caplen: u32,
    len: u32,
    data: Vec<u8>,
}

/// The records of a pcap stream (tcpdump's `-w -`); `None` when it has no header.
fn pcap_records(bytes: &[u8]) -> Option<Vec<Record>> {
    let magic = bytes.get(..4)?;
    let swapped = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if swapped { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let (s, f, caplen, len) = (u32_at(at)?, u32_at(at + 4)?, u32_at(at + 8)?, u32_at(at + 12)?);
        let data = bytes.get(at + 16..at + 16 + caplen as usize)?.to_vec();
        at += 16 + caplen as usize;
        out.push(Record { ts: (s, f), caplen, len, data });
    }
    Some(out)
}

/// `tcpdump -r FILE -w - [EXPR]`: its records, or `None` when it wrote no pcap
/// (tcpdump does not read the file, or refuses the expression for its link type).
fn tcpdump(path: &Path, expr: Option<&str>) -> Result<Option<Vec<Record>>, String> {
    let mut cmd = Command::new("tcpdump");
    cmd.arg("-r").arg(path).args(["-w", "-"]);
    if let Some(e) = expr {
        cmd.arg(e);
    }
    let (_, out) = run_limited(&mut cmd, Duration::from_secs(60))?;
    Ok(pcap_records(&out))
}

/// The 1-based numbers, among `all`, of `kept` (a subsequence of it).
fn numbers(all: &[Record], kept: &[Record]) -> Result<Vec<u64>, String> {
    let mut out = Vec::with_capacity(kept.len());
    let mut i = 0;
    for k in kept {
        while all.get(i).is_some_and(|r| r != k) {
            i += 1;
        }
        if i >= all.len() {
            return Err(format!("a kept record ({} bytes) is not among the file's records", k.caplen));
        }
        i += 1;
        out.push(i as u64);
    }
    Ok(out)
}

/// Per frame: its number (and its bytes and wire length, when asked).
#[derive(Default)]
struct Frames {
    numbers: Vec<u64>,
    bytes: Option<Vec<(Vec<u8>, u32)>>,
}

impl Observer for Frames {
    type Error = Infallible;
    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        self.numbers.push(e.frame.number);
        if let Some(b) = self.bytes.as_mut() {
            // What libpcap hands a filter: the record cut to the snapshot length.
            let max = netcap_core::capture::max_caplen(e.frame.link_type);
            let snaplen = match e.point_info.capture.snaplen {
                0 => max,
                s => s.min(max),
            };
            let data = e.frame.data.get(..snaplen as usize).unwrap_or(e.frame.data);
            b.push((data.to_vec(), e.frame.len));
        }
        Ok(())
    }
}

fn netcap(path: &Path, selection: Selection, bytes: bool) -> Frames {
    let mut frames = Frames { numbers: Vec::new(), bytes: bytes.then(Vec::new) };
    // The observer never fails; capture errors end the input, as in tcpdump.
    let _ = Analysis::new().file(path).order(Order::Files).threads(1).select(selection).run(&mut frames);
    frames
}

/// What one file gave.
#[derive(Default)]
struct FileResult {
    /// tcpdump read it.
    read: bool,
    /// Frames compared (the first frames both read alike).
    compared: u64,
    /// libpcap and netcap read a record differently here (1-based), or one read more.
    differs_at: Option<(u64, String)>,
    /// Expressions compared.
    expressions: usize,
    /// Frames kept, every expression together, tcpdump's count.
    kept: u64,
    failures: Vec<String>,
}

fn check_file(path: &Path, row: &Row, cache: Option<&Path>) -> FileResult {
    let mut result = FileResult::default();
    let all = match tcpdump(path, None) {
        Ok(Some(all)) => all,
        Ok(None) => return result,
        Err(e) => {
            result.failures.push(format!("{}: tcpdump: {e}", row.file));
            return result;
        }
    };
    result.read = true;
    let mine = netcap(path, Selection::new(), true);
    let mine_bytes = mine.bytes.unwrap_or_default();
    // netcap's frame number → its rank among the frames read, libpcap's numbering.
    let rank: std::collections::HashMap<u64, u64> = mine.numbers.iter().enumerate().map(|(i, &n)| (n, i as u64 + 1)).collect();
    // The frames both read alike: netcap's frame i is tcpdump's record i.
    let mut limit = 0u64;
    for (i, r) in all.iter().enumerate() {
        match mine_bytes.get(i) {
            Some((data, len)) if *data == r.data && *len == r.len => limit = i as u64 + 1,
            Some((data, len)) => {
                let why = format!("libpcap {} of {} bytes, netcap {} of {len}", r.caplen, r.len, data.len());
                result.differs_at = Some((i as u64 + 1, why));
                break;
            }
            None => {
                result.differs_at = Some((i as u64 + 1, format!("netcap read {} frames, libpcap {}", mine_bytes.len(), all.len())));
                break;
            }
        }
    }
    if result.differs_at.is_none() && mine_bytes.len() > all.len() {
        result.differs_at = Some((all.len() as u64 + 1, format!("netcap read {} frames, libpcap {}", mine_bytes.len(), all.len())));
    }
    result.compared = limit;
    let cache_file = |expr: &str| cache.map(|c| c.join(format!("{:016x}", fnv1a([row.sha256.as_str(), expr]))));
    for expr in EXPRESSIONS {
        let cached: Option<PathBuf> = cache_file(expr);
        let theirs: Vec<u64> = match cached.as_deref().and_then(|c| fs::read_to_string(c).ok()) {
            Some(text) => text.split_whitespace().filter_map(|n| n.parse().ok()).collect(),
            None => {
                let kept = match tcpdump(path, Some(expr)) {
                    Ok(k) => k.unwrap_or_default(),
                    Err(e) => {
                        result.failures.push(format!("{}: tcpdump {expr:?}: {e}", row.file));
                        continue;
                    }
                };
                match numbers(&all, &kept) {
                    Ok(n) => {
                        if let Some(c) = &cached {
                            let text: Vec<String> = n.iter().map(u64::to_string).collect();
                            let tmp = c.with_extension("part");
                            if fs::write(&tmp, text.join(" ")).is_ok() {
                                let _ = fs::rename(&tmp, c);
                            }
                        }
                        n
                    }
                    Err(e) => {
                        result.failures.push(format!("{}: tcpdump {expr:?}: {e}", row.file));
                        continue;
                    }
                }
            }
        };
        let filter = match Filter::new(expr) {
            Ok(f) => f,
            Err(e) => {
                result.failures.push(format!("{expr:?}: {e}"));
                continue;
            }
        };
        let ours: Vec<u64> = netcap(path, Selection::new().filter(filter), false).numbers.iter().filter_map(|n| rank.get(n).copied()).collect();
        let theirs: BTreeSet<u64> = theirs.into_iter().filter(|&n| n <= limit).collect();
        let ours: BTreeSet<u64> = ours.into_iter().filter(|&n| n <= limit).collect();
        result.expressions += 1;
        result.kept += theirs.len() as u64;
        if theirs != ours {
            let only_tcpdump: Vec<_> = theirs.difference(&ours).take(5).collect();
            let only_netcap: Vec<_> = ours.difference(&theirs).take(5).collect();
            result.failures.push(format!(
                "{}: {expr:?}: tcpdump keeps {} frames, netcap {} (only tcpdump: {only_tcpdump:?}, only netcap: {only_netcap:?})",
                row.file,
                theirs.len(),
                ours.len()
            ));
        }
    }
    result
}

/// tcpdump's version line, or `None` (after saying why on stderr) where tcpdump or
/// libpcap is missing and `NETCAP_REQUIRE_TCPDUMP` is not `1`.
fn tcpdump_version(test: &str) -> Option<String> {
    let required = std::env::var("NETCAP_REQUIRE_TCPDUMP").as_deref() == Ok("1");
    let out = Command::new("tcpdump").arg("--version").output();
    let version = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string(),
        _ => {
            assert!(!required, "{test}: tcpdump is required (NETCAP_REQUIRE_TCPDUMP=1) but not found");
            common::skip(format_args!("skipping {test}: tcpdump not found on PATH"));
            return None;
        }
    };
    if let Err(e) = libpcap_version() {
        assert!(!required, "{test}: libpcap is required (NETCAP_REQUIRE_TCPDUMP=1): {e}");
        common::skip(format_args!("skipping {test}: {e}"));
        return None;
    }
    Some(version)
}

#[test]
fn filters_keep_what_tcpdump_keeps_on_the_corpus() {
    let test = "filters_keep_what_tcpdump_keeps_on_the_corpus";
    let Some((root, manifest)) = corpus_manifest(test) else { return };
    let Some(version) = tcpdump_version(test) else { return };
    assert!(EXPRESSIONS.len() >= 40);
    let mut rows = read_manifest(&manifest).expect("manifest");
    // NETCAP_FILTER_FILES=TEXT: only the files whose path contains TEXT (to look into one).
    if let Ok(only) = std::env::var("NETCAP_FILTER_FILES") {
        rows.retain(|r| r.file.contains(&only));
    }
    let cache = tshark_cache_dir("tcpdump-filter", &version, &[], &[]);
    let results = for_each_file(&root, &rows, 4, |path, row| check_file(path, row, cache.as_deref()));
    let read = results.iter().filter(|r| r.read).count();
    let compared: u64 = results.iter().map(|r| r.compared).sum();
    let kept: u64 = results.iter().map(|r| r.kept).sum();
    let differs: Vec<String> = rows
        .iter()
        .zip(&results)
        .filter_map(|(row, r)| r.differs_at.as_ref().map(|(n, why)| format!("  {} from record {n}: {why}", row.file)))
        .collect();
    let failures: Vec<String> = results.iter().flat_map(|r| r.failures.iter().cloned()).collect();
    eprintln!(
        "{test}: {} expressions, {read} of {} files read by tcpdump ({}), {compared} frames compared per expression, {kept} kept by tcpdump in all, {} disagreements",
        EXPRESSIONS.len(),
        rows.len(),
        version,
        failures.len()
    );
    eprintln!("{} files where libpcap and netcap read a record differently (compared up to it):\n{}", differs.len(), differs.join("\n"));
    assert!(read >= rows.len() / 2, "tcpdump read only {read} files");
    assert!(failures.is_empty(), "{} disagreement(s) with tcpdump:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Inner filters

/// Expressions for `--inner`: what a pod's connection is selected by.
const INNER_EXPRESSIONS: &[&str] = &[
    "tcp",
    "udp",
    "icmp or icmp6",
    "tcp port 8080",
    "tcp port 80 or tcp port 443",
    "net 10.244.0.0/16",
    "host 10.244.1.2",
    "tcp[tcpflags] & tcp-syn != 0",
    "ip6",
    "not tcp",
    "greater 200",
    "vlan",
    "ether multicast",
];

/// Records to write: (bytes, wire length).
type Records = Vec<(Vec<u8>, u32)>;

/// A pcap file (µs, little-endian) of `records`, link type `lt`.
fn write_pcap(path: &Path, lt: u32, records: &[(Vec<u8>, u32)]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&262_144u32.to_le_bytes());
    b.extend_from_slice(&lt.to_le_bytes());
    for (i, (data, len)) in records.iter().enumerate() {
        // The record's index as its time, to number tcpdump's output.
        b.extend_from_slice(&(i as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(*len).max(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
    }
    fs::write(path, b).expect("write pcap");
}

/// A frame's innermost packet: its link type (1 or 101), bytes and wire length.
type InnerPacket = (u32, Vec<u8>, u32);

/// Per frame: its number, and its innermost packet when it has one; the deepest
/// tunnel depth.
#[derive(Default)]
struct Inner {
    frames: Vec<(u64, Option<InnerPacket>)>,
    depth: u8,
}

impl Observer for Inner {
    type Error = Infallible;
    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        self.depth = self.depth.max(e.packet.depth());
        let inner = netcap_core::filter::innermost(e.packet).and_then(|(lt, start)| {
            let data = e.frame.data.get(start..)?;
            Some((u32::from(lt.0), data.to_vec(), e.frame.len.saturating_sub(start as u32)))
        });
        self.frames.push((e.frame.number, inner));
        Ok(())
    }
}

/// For one capture: `--inner EXPR` keeps the frames whose innermost packet, cut out
/// and written to a pcap of its own, tcpdump keeps with EXPR. `None`: no frame has a
/// tunnel and `always` is false. Else the frames with an innermost packet, the frames
/// tcpdump kept (every expression together), the disagreements.
fn check_inner(path: &Path, scratch: &Path, always: bool) -> Option<(usize, u64, Vec<String>)> {
    let mut inner = Inner::default();
    let _ = Analysis::new().file(path).order(Order::Files).threads(1).run(&mut inner);
    if inner.depth == 0 && !always {
        return None;
    }
    let with_inner = inner.frames.iter().filter(|(_, i)| i.is_some()).count();
    // Per link type of the innermost packet: its pcap and the frame numbers by record.
    let mut failures = Vec::new();
    let mut kept_total = 0;
    let split: Vec<(u32, Records, Vec<u64>)> = [1u32, 101]
        .iter()
        .map(|&lt| {
            let (mut records, mut numbers) = (Vec::new(), Vec::new());
            for (n, i) in &inner.frames {
                if let Some((l, data, len)) = i {
                    if *l == lt {
                        records.push((data.clone(), *len));
                        numbers.push(*n);
                    }
                }
            }
            (lt, records, numbers)
        })
        .collect();
    for expr in INNER_EXPRESSIONS {
        let mut theirs = BTreeSet::new();
        for (lt, records, numbers) in &split {
            if records.is_empty() {
                continue;
            }
            let file = scratch.join(format!("inner-{lt}.pcap"));
            write_pcap(&file, *lt, records);
            match tcpdump(&file, Some(expr)) {
                Ok(kept) => theirs.extend(kept.unwrap_or_default().iter().filter_map(|r| numbers.get(r.ts.0 as usize).copied())),
                Err(e) => failures.push(format!("{}: tcpdump {expr:?}: {e}", path.display())),
            }
        }
        let filter = Filter::new(expr).expect("valid expression");
        let ours: BTreeSet<u64> = netcap(path, Selection::new().inner(filter), false).numbers.into_iter().collect();
        kept_total += theirs.len() as u64;
        if theirs != ours {
            let only_tcpdump: Vec<_> = theirs.difference(&ours).take(5).collect();
            let only_netcap: Vec<_> = ours.difference(&theirs).take(5).collect();
            failures.push(format!(
                "{}: --inner {expr:?}: tcpdump keeps {} frames, netcap {} (only tcpdump: {only_tcpdump:?}, only netcap: {only_netcap:?})",
                path.display(),
                theirs.len(),
                ours.len()
            ));
        }
    }
    Some((with_inner, kept_total, failures))
}

#[test]
fn inner_filters_keep_what_tcpdump_keeps_of_the_decapsulated_packets() {
    let test = "inner_filters_keep_what_tcpdump_keeps_of_the_decapsulated_packets";
    let Some(_) = tcpdump_version(test) else { return };
    let scratch = std::env::temp_dir().join(format!("netcap-inner-{}", std::process::id()));
    fs::create_dir_all(&scratch).expect("scratch dir");
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab");
    let mut files: Vec<(PathBuf, bool)> = ["flannel/client_underlay.pcap", "flannel/server_pod.pcap", "ipip/a_underlay.pcap", "vxlan-tso/server_underlay.pcap", "nat/nat_in.pcap"]
        .iter()
        .map(|f| (lab.join(f), true))
        .collect();
    if let Some((root, manifest)) = corpus_manifest(test) {
        let mut rows = read_manifest(&manifest).expect("manifest");
        if let Ok(only) = std::env::var("NETCAP_FILTER_FILES") {
            rows.retain(|r| r.file.contains(&only));
        }
        files.extend(rows.iter().map(|r| (root.join(&r.file), false)));
    }
    let (mut checked, mut frames, mut kept, mut failures) = (0, 0, 0, Vec::new());
    for (i, (path, always)) in files.iter().enumerate() {
        let dir = scratch.join(i.to_string());
        fs::create_dir_all(&dir).expect("scratch dir");
        if let Some((n, k, f)) = check_inner(path, &dir, *always) {
            checked += 1;
            frames += n;
            kept += k;
            failures.extend(f);
        }
        let _ = fs::remove_dir_all(&dir);
    }
    let _ = fs::remove_dir_all(&scratch);
    eprintln!(
        "{test}: {checked} captures with a tunnel or from the lab, {frames} frames with an innermost packet, {} expressions, {kept} kept by tcpdump in all",
        INNER_EXPRESSIONS.len()
    );
    assert!(checked >= 5 && kept > 0);
    assert!(failures.is_empty(), "{} disagreement(s) with tcpdump:\n{}", failures.len(), failures.join("\n"));
}
