//! The cost of a run follows its frames and bytes, never the shape of the input: one
//! dimension at a time (capture points, pcapng sections, LINUX_SLL2 interfaces, flows,
//! findings, tunnel depth, options per block, IPv6 extension headers, comment size) is
//! scaled by 10, and the work `netcap` does must grow at most about 10 times too.
//!
//! The work counter is the number of instructions the process executes, as Valgrind's
//! cachegrind counts them (`--cache-sim=no`): every loop counts, whatever code it is in,
//! and the count does not depend on the machine's load, unlike wall time (the wall-time
//! version is `benches/benches/shape.rs`, figures in docs/performance.md). Each
//! dimension is measured at sizes 1, n and 10 n; the growth is
//! `(I(10 n) − I(1)) / (I(n) − I(1))`: about 10 when linear (less where per-frame work
//! dominates), 100 when quadratic. The limit is [`MAX_GROWTH`]. Where n adds less than
//! 1 % of `I(1)` (a comment netcap skips without reading it), that 1 % is the divisor.
//!
//! Skips (one `skipped:` line) without Valgrind, unless `NETCAP_REQUIRE_VALGRIND=1`
//! (set by `.ci/run`, which installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Growth allowed for a tenfold input: linear with room for an n log n sort and for
/// allocator noise, far below quadratic (100).
const MAX_GROWTH: f64 = 16.0;

/// The commands measured: the engine with correlation and its text, the report, the
/// Parquet export.
const COMMANDS: [&str; 3] = ["correlate", "report", "export"];

// ---- captures, written here so that each dimension varies alone ----

fn sum16(data: &[u8]) -> u32 {
    data.chunks(2).map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))).sum()
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// A TCP SYN (20-byte header) from port `1024 + k % 60000` of `10.x.y.z` (k) to
/// 10.255.0.1:80, in IPv4 with correct checksums unless `bad_tcp`.
fn ipv4_syn(k: u32, bad_tcp: bool) -> Vec<u8> {
    let src = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
    let dst = [10, 255, 0, 1];
    let tcp = tcp_syn(k, &src, &dst, bad_tcp);
    let mut ip = vec![0x45, 0, 0, 0, (k >> 8) as u8, k as u8, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&(20 + tcp.len() as u16).to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = fold(sum16(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&tcp);
    ip
}

/// The TCP header of [`ipv4_syn`], its checksum over the pseudo-header of `src`/`dst`
/// (4 or 16 bytes each).
fn tcp_syn(k: u32, src: &[u8], dst: &[u8], bad: bool) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20);
    tcp.extend_from_slice(&(1024 + (k % 60000) as u16).to_be_bytes());
    tcp.extend_from_slice(&80u16.to_be_bytes());
    tcp.extend_from_slice(&k.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(src);
    pseudo.extend_from_slice(dst);
    let len = tcp.len() as u32;
    if src.len() == 4 {
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        pseudo.extend_from_slice(&len.to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 6]);
    }
    let c = fold(sum16(&pseudo) + sum16(&tcp)) ^ u16::from(bad);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    tcp
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A pcap file of `link_type` with the frames, 1 µs apart.
fn pcap(link_type: u32, frames: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, link_type] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in frames.into_iter().enumerate() {
        let ts = 1_700_000_000u64 * 1_000_000 + i as u64;
        for v in [(ts / 1_000_000) as u32, (ts % 1_000_000) as u32, f.len() as u32, f.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&f);
    }
    out
}

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out.extend(std::iter::repeat_n(0, pad));
    out.extend_from_slice(&len.to_le_bytes());
}

fn shb(out: &mut Vec<u8>) {
    let mut b = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&(-1i64).to_le_bytes());
    block(out, 0x0a0d_0d0a, &b);
}

fn idb(out: &mut Vec<u8>) {
    let mut b = vec![1, 0, 0, 0];
    b.extend_from_slice(&65535u32.to_le_bytes());
    block(out, 1, &b);
}

/// An option (code, value), padded.
fn option(code: u16, value: &[u8]) -> Vec<u8> {
    let mut o = code.to_le_bytes().to_vec();
    o.extend_from_slice(&(value.len() as u16).to_le_bytes());
    o.extend_from_slice(value);
    o.extend(std::iter::repeat_n(0, (4 - value.len() % 4) % 4));
    o
}

/// An enhanced packet block on interface `iface` at `ts_us`, with `options` (the end
/// of options added).
fn epb(out: &mut Vec<u8>, iface: u32, ts_us: u64, frame: &[u8], options: &[Vec<u8>]) {
    let mut b = Vec::new();
    for v in [iface, (ts_us >> 32) as u32, ts_us as u32, frame.len() as u32, frame.len() as u32] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(frame);
    b.extend(std::iter::repeat_n(0, (4 - frame.len() % 4) % 4));
    if !options.is_empty() {
        for o in options {
            b.extend_from_slice(o);
        }
        b.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(out, 6, &b);
}

const T0_US: u64 = 1_700_000_000 * 1_000_000;

/// Frames per capture of the per-frame dimensions.
const FRAMES: u32 = 300;

/// The capture of `dimension` at `size`, and its file name's extension.
fn capture(dimension: &str, n: u32) -> (Vec<u8>, &'static str) {
    let syn = |k: u32| ethernet(0x0800, &ipv4_syn(k, false));
    match dimension {
        // n interfaces of one section, each seeing the same 3 SYNs (a broadcast seen
        // everywhere): every point on the same path.
        "points" => {
            let mut out = Vec::new();
            shb(&mut out);
            for _ in 0..n {
                idb(&mut out);
            }
            for round in 0..3u32 {
                for k in 0..n {
                    epb(&mut out, k, T0_US + u64::from(round) * 2_000_000 + u64::from(k), &syn(7 + round), &[]);
                }
            }
            (out, "pcapng")
        }
        // n sections of one interface and one frame each: n points.
        "sections" => {
            let mut out = Vec::new();
            for k in 0..n {
                shb(&mut out);
                idb(&mut out);
                epb(&mut out, 0, T0_US + u64::from(k), &syn(k % 3), &[]);
            }
            (out, "pcapng")
        }
        // LINUX_SLL2, each frame on an interface index of its own.
        "interfaces" => {
            let frames = (0..n).map(|k| {
                let mut f = vec![0x08, 0x00, 0, 0];
                f.extend_from_slice(&(k + 1).to_be_bytes());
                f.extend_from_slice(&[0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                f.extend_from_slice(&ipv4_syn(k % 3, false));
                f
            });
            (pcap(276, frames), "pcap")
        }
        // n connection attempts, each its own 5-tuple (a SYN flood).
        "flows" => (pcap(1, (0..n).map(syn)), "pcap"),
        // n frames with a bad TCP checksum, each its own flow: n findings.
        "findings" => (pcap(1, (0..n).map(|k| ethernet(0x0800, &ipv4_syn(k, true)))), "pcap"),
        // FRAMES frames of n IPv4-in-IPv4 headers around the SYN.
        "tunnel_depth" => {
            let frame = |k: u32| {
                let mut inner = ipv4_syn(k, false);
                for _ in 0..n {
                    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 4, 0, 0, 192, 168, 0, 1, 192, 168, 0, 2];
                    ip[2..4].copy_from_slice(&(20 + inner.len() as u16).to_be_bytes());
                    let c = fold(sum16(&ip));
                    ip[10..12].copy_from_slice(&c.to_be_bytes());
                    ip.extend_from_slice(&inner);
                    inner = ip;
                }
                ethernet(0x0800, &inner)
            };
            (pcap(1, (0..FRAMES).map(frame)), "pcap")
        }
        // FRAMES packet blocks of n comment options each.
        "options" => {
            let mut out = Vec::new();
            shb(&mut out);
            idb(&mut out);
            let options: Vec<Vec<u8>> = (0..n).map(|_| option(1, b"note")).collect();
            for k in 0..FRAMES {
                epb(&mut out, 0, T0_US + u64::from(k), &syn(k), &options);
            }
            (out, "pcapng")
        }
        // FRAMES IPv6 SYNs behind n destination-options headers (8 bytes each).
        "ipv6_extensions" => {
            let frame = |k: u32| {
                let (src, dst) = ([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (k >> 8) as u8, k as u8], [0xfd; 16]);
                let tcp = tcp_syn(k, &src, &dst, false);
                let mut ext = Vec::new();
                for i in 0..n {
                    ext.extend_from_slice(&[if i + 1 == n { 6 } else { 60 }, 0, 1, 4, 0, 0, 0, 0]);
                }
                let mut ip = vec![0x60, 0, 0, 0];
                ip.extend_from_slice(&((ext.len() + tcp.len()) as u16).to_be_bytes());
                ip.extend_from_slice(&[if n == 0 { 6 } else { 60 }, 64]);
                ip.extend_from_slice(&src);
                ip.extend_from_slice(&dst);
                ip.extend_from_slice(&ext);
                ip.extend_from_slice(&tcp);
                ethernet(0x86dd, &ip)
            };
            (pcap(1, (0..FRAMES).map(frame)), "pcap")
        }
        // FRAMES packet blocks with one comment of 16 n bytes.
        "comment_size" => {
            let mut out = Vec::new();
            shb(&mut out);
            idb(&mut out);
            let comment = vec![b'x'; 16 * n as usize];
            for k in 0..FRAMES {
                epb(&mut out, 0, T0_US + u64::from(k), &syn(k), &[option(1, &comment)]);
            }
            (out, "pcapng")
        }
        other => panic!("no dimension {other}"),
    }
}

// ---- measuring ----

fn valgrind() -> bool {
    let found = Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("NETCAP_REQUIRE_VALGRIND").as_deref() != Ok("1"), "NETCAP_REQUIRE_VALGRIND=1 but valgrind is missing");
        common::skip(format_args!("skipped: valgrind not installed (apt-get install valgrind): the shape suite counts instructions with it"));
    }
    found
}

/// Instructions `netcap COMMAND FILE` executes (one thread, so the count is the work).
fn instructions(command: &str, file: &Path, dir: &Path) -> u64 {
    let out = dir.join(format!("out-{command}"));
    let _ = std::fs::remove_dir_all(&out);
    let mut args: Vec<String> = vec![command.into(), file.display().to_string(), "--threads".into(), "1".into()];
    match command {
        "report" => args.extend(["-o".into(), format!("{}.html", out.display())]),
        "export" => args.extend(["-o".into(), out.display().to_string(), "--force".into()]),
        _ => {}
    }
    let run = Command::new("valgrind")
        .args(["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"])
        .arg(env!("CARGO_BIN_EXE_netcap"))
        .args(&args)
        .output()
        .expect("run valgrind");
    let stderr = String::from_utf8_lossy(&run.stderr);
    // netcap exits 1 when it finds errors (the findings dimension): only a crash fails.
    assert!(run.status.code().is_some_and(|c| c <= 1), "netcap {args:?}: {stderr}");
    let line = stderr.lines().find(|l| l.contains("I   refs:") || l.contains("I refs:")).unwrap_or_else(|| panic!("no count: {stderr}"));
    line.rsplit(':').next().unwrap().trim().replace(',', "").parse().expect("a count")
}

/// Measures `dimension` at 1, `n` and `10 n` for every command and asserts the growth.
fn grows_linearly(dimension: &str, n: u32) {
    if !valgrind() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = [1, n, 10 * n]
        .iter()
        .map(|&size| {
            let (bytes, ext) = capture(dimension, size);
            let path = dir.path().join(format!("{dimension}-{size}.{ext}"));
            std::fs::write(&path, bytes).expect("write capture");
            path
        })
        .collect();
    let mut failures = Vec::new();
    for command in COMMANDS {
        let i: Vec<u64> = files.iter().map(|f| instructions(command, f, dir.path())).collect();
        // What the n more costs; at least 1 % of the smallest run, so that a dimension
        // netcap skips over (a comment it never reads) compares its noise to that.
        let extra = i[1].saturating_sub(i[0]).max(i[0] / 100);
        let growth = i[2].saturating_sub(i[0]) as f64 / extra as f64;
        let line = format!("{dimension:<16} {command:<10} I(1) {:>12}  I({n}) {:>12}  I({}) {:>13}  growth {growth:.1}", i[0], i[1], 10 * n, i[2]);
        common::skip(format_args!("shape: {line}"));
        if growth > MAX_GROWTH {
            failures.push(line);
        }
    }
    assert!(failures.is_empty(), "work grows faster than the input:\n{}", failures.join("\n"));
}

#[test]
fn capture_points() {
    grows_linearly("points", 200);
}

#[test]
fn pcapng_sections() {
    grows_linearly("sections", 300);
}

#[test]
fn sll2_interfaces() {
    grows_linearly("interfaces", 300);
}

#[test]
fn flows() {
    grows_linearly("flows", 300);
}

#[test]
fn findings() {
    grows_linearly("findings", 300);
}

#[test]
fn tunnel_depth() {
    grows_linearly("tunnel_depth", 3);
}

#[test]
fn options_per_block() {
    grows_linearly("options", 30);
}

#[test]
fn ipv6_extension_headers() {
    grows_linearly("ipv6_extensions", 4);
}

#[test]
fn comment_size() {
    grows_linearly("comment_size", 100);
}

// ---- the limits: each counted and said ----

fn json(args: &[&str]) -> serde_json::Value {
    let out = common::netcap(args);
    assert!(out.status.code().is_some_and(|c| c <= 1), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn limits_are_counted_and_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |dimension: &str, n: u32| {
        let (bytes, ext) = capture(dimension, n);
        let path = dir.path().join(format!("{dimension}.{ext}"));
        std::fs::write(&path, bytes).expect("write");
        path.display().to_string()
    };
    let notes = |v: &serde_json::Value| -> Vec<String> {
        v["notes"].as_array().expect("notes").iter().map(|n| n.as_str().unwrap().to_string()).collect()
    };

    // 300 points see the same 3 SYNs: 256 sightings kept per packet, 44 counted; each
    // direction's path keeps 64 points.
    let points = write("points", 300);
    let v = json(&["correlate", &points, "--format", "json"]);
    assert_eq!(v["packet_count"], 3);
    assert_eq!(v["sightings_dropped"], 3 * 44);
    let paths = v["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 3);
    assert!(paths.iter().all(|p| p["points"].as_array().unwrap().len() == 64), "{paths:?}");
    let n = notes(&v);
    assert!(n.iter().any(|n| n.starts_with("3 directions seen at more than 64 capture points") && n.contains("was seen at 256")), "{n:?}");
    assert!(n.iter().any(|n| n == "132 sightings of packets seen at more than 256 capture points were not matched"), "{n:?}");
    // --max-path-points raises the limit: the paths hold every point that kept a sighting.
    let v = json(&["correlate", &points, "--format", "json", "--max-path-points", "300"]);
    assert!(v["paths"].as_array().unwrap().iter().all(|p| p["points"].as_array().unwrap().len() == 256));
    assert!(!notes(&v).iter().any(|n| n.contains("directions seen at more than")));

    // A flood of 300 one-SYN flows with a table of 100 and 100 records kept: evictions
    // counted, 200 records not kept, and the findings cover the 100 kept.
    let flood = write("flows", 300);
    let v = json(&["flows", &flood, "--format", "json", "--max-flows", "100", "--max-flow-records", "100"]);
    // The table never held more than its size and counted its evictions (it is split
    // in shards, each evicting its least recently seen); as many records as its size are
    // listed, the others counted.
    // 16 shards of ceil(100 / 16) = 7 flows (docs/tcp-analysis.md).
    assert!(v["table"]["peak"].as_u64().unwrap() <= 112, "{}", v["table"]);
    assert!(v["table"]["evicted"].as_u64().unwrap() >= 150, "{}", v["table"]);
    assert_eq!(v["table"]["created"], 300);
    assert_eq!(v["flows"].as_array().expect("flows").len(), 100);
    assert_eq!(v["table"]["not_kept"], 200);
    let text = common::netcap(&["flows", &flood, "--max-flow-records", "100"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("200 more flow records were analysed but not listed, past the first 100 (--max-flow-records)."),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let v = json(&["correlate", &flood, "--format", "json", "--max-flow-records", "100"]);
    let failures = v["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "handshake_failure").count();
    assert_eq!(failures, 100);
    let n = notes(&v);
    assert!(
        n.iter().any(|n| n.starts_with("200 TCP flow records were analysed but not kept, past the first 100 (--max-flow-records)")),
        "{n:?}"
    );
}

/// The Markdown report of a capture written as NAME (exit 0 or 1: findings).
fn markdown_report(capture: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, capture).expect("write");
    let md = dir.path().join("r.md");
    let out = common::netcap(&["report", path.to_str().unwrap(), "-o", md.to_str().unwrap()]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(&md).expect("report")
}

/// The report of 300 points that all see 3 failed SYNs: each SYN timeline shows 64
/// points (its path) and says how many rows it left out: 236 per timeline.
#[test]
fn the_report_says_what_its_syn_timelines_leave_out() {
    let text = markdown_report(&capture("points", 300).0, "points.pcapng");
    assert!(
        text.contains("A SYN timeline shows at most 64 capture points: 708 rows of other points that saw the SYNs are left out (the timelines together)."),
        "{}",
        &text[..text.len().min(3000)]
    );
}

/// The report of 300 pcapng sections, one failed connection each, the last with a bad
/// TCP checksum: 300 capture points, 300 paths, 300 findings and 600 checksum rows. Each
/// list keeps 256 rows and the Findings section 100 findings in full; the bad checksum
/// row is kept though it comes last; the report says what it left out and where it is.
#[test]
fn the_report_bounds_its_lists_and_says_so() {
    let n = 300;
    let mut cap = Vec::new();
    for k in 0..n {
        shb(&mut cap);
        idb(&mut cap);
        epb(&mut cap, 0, T0_US + u64::from(k), &ethernet(0x0800, &ipv4_syn(k, k == n - 1)), &[]);
    }
    let text = markdown_report(&cap, "s.pcapng");
    let section = |title: &str| -> &str {
        let start = text.find(&format!("## {title}\n")).unwrap_or_else(|| panic!("no {title} in {text}"));
        let rest = &text[start + 3..];
        &rest[..rest.find("\n## ").unwrap_or(rest.len())]
    };
    let not_shown: Vec<&str> = section("Not shown").lines().filter_map(|l| l.strip_prefix("- ")).collect();
    assert_eq!(
        not_shown,
        [
            "The Findings section gives the first 100 findings in full: 201 more are counted in the verdict; `netcap correlate --format json` lists each with its frames.",
            "The paths list shows 256 of 300 directions (those through more than one point first); `netcap correlate --format json` lists them all.",
            "The checksum table shows 256 of 600 rows (bad and illegal-zero verdicts first); `netcap export` writes the verdicts of every frame.",
            "The capture points table shows 256 of 300 points (the first ones); `netcap summary` lists them all.",
        ]
    );
    // The verdict counts every finding; 100 are given in full, worst (the bad checksum's
    // error) first.
    let findings = section("Findings");
    assert_eq!(findings.matches("\n### ").count(), 100);
    assert!(section("Verdict").contains("301 errors"), "{}", section("Verdict"));
    // Tables of 256 rows; the bad row of the last point is kept, in table order (last),
    // and highlighted (bold in Markdown).
    let rows = |s: &str| s.lines().filter(|l| l.starts_with("| s") || l.starts_with("| **s")).count();
    assert_eq!(rows(section("Checksum verdicts")), 256);
    assert_eq!(rows(section("What was captured")), 256);
    let last = section("Checksum verdicts").lines().rfind(|l| l.starts_with("| ")).expect("rows");
    assert_eq!(last, "| **s#299** | **tcp@0** | **bad** | **1** | **300** |");
    assert_eq!(section("Between points").lines().filter(|l| l.starts_with("- ")).count(), 256);
}
