//! `netcap report` on the flannel lab captures (six points; the facts are in
//! `fixtures/lab/flannel/README.md`: SYN attempts 1 and 2 carry outer UDP checksum
//! 0xffff where 0x3525 and 0x0da8 were expected, are seen on server_underlay and never
//! on server_vxlan; attempt 3 at +3.026 s gets through) and the tcp-loss captures.
//! The Markdown is snapshotted; the HTML is checked for being self-contained and is
//! rendered in headless Chromium where it is installed.

mod common;

use common::{netcap, root};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};


/// The six flannel captures in path order, relative to the workspace root.
fn flannel() -> Vec<String> {
    ["client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod"]
        .iter()
        .map(|p| format!("fixtures/lab/flannel/{p}.pcap"))
        .collect()
}


fn report(files: &[String], extra: &[&str]) -> String {
    let mut args = vec!["report"];
    args.extend(files.iter().map(String::as_str));
    args.extend(extra);
    let out = netcap(&args);
    assert!(out.status.success(), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// The rows of the evidence table of finding `n` (1-based) in the Markdown.
fn evidence(md: &str, n: usize) -> Vec<Vec<String>> {
    let start = md.find(&format!("\n### {n}. ")).expect("finding heading");
    let rest = &md[start + 1..];
    let end = rest[1..].find("\n### ").or_else(|| rest.find("\n## ")).unwrap_or(rest.len());
    rest[..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| packet"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

#[test]
fn markdown_flannel_reads_like_the_incident() {
    let md = report(&flannel(), &["-o", "-"]);
    // The verdict first, errors before warnings before information; then the findings'
    // evidence, the points between, and the inventory last.
    assert!(md.starts_with(
        "# netcap report\n\n## Verdict\n\n1 error, 1 warning and 4 information findings:\n\n\
         - error: 2 packets of 10.244.1.2:55406 > 10.244.2.3:80 were seen on server_underlay and missing from server_vxlan:"
    ), "{md}");
    assert!(md.contains("(UdpInCsumErrors). (finding 1)\n- warning: 10.244.1.2:55406 > 10.244.2.3:80 connected after 3.027 s"));
    assert!(md.contains("(finding 6)\n- info: 4 offload_artifact findings (numbers 2, 3, 4, 5); the first: 7 frames on client_pod"));
    let at = |h: &str| md.find(h).unwrap_or_else(|| panic!("{h} in the report"));
    let order = ["## Verdict", "## Findings", "## Between points", "## Flows in trouble", "## What was captured", "## Command"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Information findings are folded to their verdict line unless --verbose.
    assert!(!md.contains("### 2. offload_artifact"));
    assert!(md.contains("Information findings 2, 3, 4, 5: their sentence is in the verdict"));
    let verbose = report(&flannel(), &["-o", "-", "--verbose"]);
    assert!(verbose.contains("### 2. offload_artifact (info)"));
    let errors = report(&flannel(), &["-o", "-", "--min-severity", "error"]);
    assert!(errors.contains("1 error: 5 less severe findings hidden by --min-severity error."), "{errors}");
    assert!(!errors.contains("### 6. syn_retry_delay"));
    // What was captured: six points, 68 frames, the six-point path.
    assert!(md.contains("6 capture points, 68 frames, from 2026-11-22 04:50:11.883689000 to 2026-11-22 04:50:14.910887000 UTC (3.027 s)"));
    assert!(md.contains(
        "- 10.244.1.2 > 10.244.2.3: client_pod → client_vxlan → client_underlay → server_underlay → server_vxlan → server_pod"
    ));
    assert!(md.contains("| server_underlay | server_vxlan | 5 | 2 | 0 | 0 | 0 |"), "2 lost on the last hop");
    // Finding 1 cites the two SYNs at the four points that saw them, with the values.
    assert!(md.contains("### 1. dropped_bad_outer_checksum (error)"));
    let rows = evidence(&md, 1);
    assert_eq!(rows.len(), 8, "{rows:?}");
    let at = |point: &str, frame: &str| {
        rows.iter().find(|r| r[1] == point && r[2] == frame).unwrap_or_else(|| panic!("{point}:{frame} in {rows:?}"))
    };
    let r = at("server_underlay", "1");
    assert_eq!(r[0], "1");
    assert!(r[4].contains("TCP SYN seq 4151873217 len 0"), "{r:?}");
    assert!(r[4].contains("outer UDP checksum 0xffff, expected 0x3525"), "{r:?}");
    assert!(r[4].contains("a Linux receiver drops it (UdpInCsumErrors)"), "{r:?}");
    let r = at("server_underlay", "2");
    assert_eq!((r[0].as_str(), r[3].as_str()), ("2", "+1.010080 s"));
    assert!(r[4].contains("outer UDP checksum 0xffff, expected 0x0da8"), "{r:?}");
    assert!(r[4].ends_with("; TCP analysis: retransmission"), "{r:?}");
    assert_eq!(at("client_pod", "2")[3], "+1.009864 s");
    assert!(!rows.iter().any(|r| r[1] == "server_vxlan" || r[1] == "server_pod"));
    // The SYN retry delay, related to finding 1.
    assert!(md.contains("syn_retry_delay (warning)"));
    assert!(md.contains("**Related:** finding 1."));
    // Checksum table: two bad outer UDP checksums on each underlay.
    assert!(md.contains("| **client_underlay** | **udp@0** | **bad** | **2** | **1, 2** |"));
    assert!(md.contains("| **server_underlay** | **udp@0** | **bad** | **2** | **1, 2** |"));
    // The command, last.
    assert!(md.trim_end().ends_with(&format!("netcap report {} -o -\n```", flannel().join(" "))));
    insta::assert_snapshot!("report_flannel_markdown", md);
}

#[test]
fn markdown_file_follows_the_extension() {
    let path = scratch("flannel.md");
    let p = path.to_str().unwrap();
    let out = netcap(&["report", "fixtures/lab/flannel/server_underlay.pcap", "-o", p]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "nothing on stdout with -o FILE");
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.starts_with("# netcap report\n"));
    assert!(md.contains("### 1. dropped_bad_outer_checksum (error)"));
}

/// The inputs are read once: a report from standard input is the report of the same
/// capture as a file (named `stdin.pcap`, so that its point is `stdin` too) but for the
/// file column and the command line.
#[test]
fn stdin_report_is_the_report_of_the_file() {
    let capture = root().join("fixtures/lab/flannel/server_underlay.pcap");
    let file = std::fs::File::open(&capture).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netcap"))
        .args(["report", "-", "-o", "-"])
        .stdin(Stdio::from(file))
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_stdin = String::from_utf8(out.stdout).unwrap();
    let dir = scratch("stdin-as-file");
    let _ = std::fs::remove_file(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&capture, dir.join("stdin.pcap")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netcap")).args(["report", "stdin.pcap", "-o", "-"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success());
    let from_file = String::from_utf8(out.stdout).unwrap();
    let unify = |md: &str| md.replace("| stdin.pcap |", "| - |").replace("netcap report stdin.pcap -o -", "netcap report - -o -");
    assert_eq!(unify(&from_stdin), unify(&from_file));
    // The evidence values are there: the cited frames were read again from the spill.
    let rows = evidence(&from_stdin, 1);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][..3], ["1", "stdin", "1"]);
    assert!(rows[0][4].contains("0xffff"), "{:?}", rows[0]);
    assert!(!from_stdin.contains("cannot be read twice"));
}

#[test]
fn an_input_is_never_overwritten_and_a_bad_path_fails_first() {
    let copy = scratch("input.pcap");
    std::fs::copy(root().join("fixtures/lab/flannel/server_underlay.pcap"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let c = copy.to_str().unwrap();
    let out = netcap(&["report", c, "-o", c]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the output is one of the input files"));
    assert_eq!(std::fs::read(&copy).unwrap(), before, "the capture is untouched");
    let out = netcap(&["report", c, "-o", "no/such/dir/r.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/r.md"));
    // A usage error leaves no empty report behind.
    let md = scratch("never.md");
    let _ = std::fs::remove_file(&md);
    let out = netcap(&["report", c, "--flow", "99", "-o", md.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!md.exists());
}

#[test]
fn unknown_flow_is_an_error() {
    let out = netcap(&["report", "fixtures/lab/flannel/server_underlay.pcap", "--flow", "99", "-o", "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--flow 99: no TCP flow has that id"));
}

/// The flannel report as HTML in the scratch file `name` (one per test: tests run in
/// parallel, and netcap creates its output before reading the captures).
fn flannel_html(name: &str) -> (PathBuf, String) {
    let path = scratch(name);
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(flannel());
    args.extend(["-o".into(), path.to_str().unwrap().into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = netcap(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&path).unwrap();
    (path, html)
}

#[test]
fn html_is_self_contained_with_the_plots() {
    let (_, html) = flannel_html("flannel-plots.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(banned), "{banned} in a self-contained report");
    }
    // Two delay plots (one per direction) and the SYN timeline. The flow in most
    // trouble carried 8 segments and retried its SYN: its story is the SYN timeline,
    // not a time-sequence graph and an RTT plot.
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains(
        "flow 3 at server_underlay (10.244.1.2:55406 → 10.244.2.3:80) carried 8 segments with data, SYN or FIN: its story is its 3 SYN attempts"
    ));
    assert!(!html.contains("Time-sequence graph of"));
    // The bad outer checksums' rows are highlighted.
    assert!(html.contains("<tr class=\"bad\"><td>client_underlay</td><td>udp@0</td><td>bad</td>"), "highlighted row");
    assert_eq!(html.matches("<tr class=\"bad\">").count(), 2);
    assert!(html.contains("<figcaption>SYN attempts of 10.244.1.2:55406 → 10.244.2.3:80 at each point</figcaption>"));
    assert!(html.contains("attempt 1 at +0.000 s: not seen at server_vxlan, server_pod"));
    assert!(html.contains("attempt 2 at +1.010 s: not seen at server_vxlan, server_pod"));
    assert!(html.contains("attempt 3 at +3.026 s: seen at every point"));
    // The SYN timeline's y axis names the six points.
    for p in ["client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod"] {
        assert!(html.contains(&format!(">\n{p}\n</text>")) || html.contains(&format!(">{p}</text>")), "{p} label");
    }
    assert!(html.contains("outer UDP checksum 0xffff, expected 0x3525"));
}

#[test]
fn tcp_loss_flow_plots_are_the_senders() {
    let path = scratch("tcp-loss.html");
    let out = netcap(&[
        "report",
        "fixtures/lab/tcp-loss/sender.pcap",
        "fixtures/lab/tcp-loss/receiver.pcap",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let html = std::fs::read_to_string(&path).unwrap();
    // The data connection at the sender: 23 retransmissions (the kernel's RetransSegs
    // for it, fixtures/lab/tcp-loss/README.md).
    assert!(html.contains("Time-sequence graph of flow 2 at sender (10.77.0.1:40000 → 10.77.0.2:5201)"));
    assert!(html.contains("retransmission (23)"));
    // The wire dropped 25 sender → receiver segments, 24 of them on the data
    // connection (ground_truth.json: wire a>b dropped 25, one on the control
    // connection): every one is ringed where the sender sent it.
    assert!(html.contains("lost further along the path, as the findings cite it (24)"));
}

/// Chromium, if installed; `NETCAP_REQUIRE_CHROMIUM=1` (set by `.ci/run`) makes its
/// absence a failure.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() && std::env::var("NETCAP_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
        panic!("NETCAP_REQUIRE_CHROMIUM=1 but no chromium on PATH");
    }
    found
}

#[test]
fn html_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        common::skip(format_args!("skipped: chromium not installed"));
        return;
    };
    let (html, _) = flannel_html("flannel-render.html");
    let png = scratch("flannel.png");
    let _ = std::fs::remove_file(&png);
    let profile = scratch("chromium-profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1200,6000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.canonicalize().unwrap().display()))
        .output()
        .expect("run chromium");
    assert!(png.is_file(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 6000), "the window size asked for");
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let white = pixels.iter().filter(|p| p[..3] == [255, 255, 255]).count();
    let inked = pixels.len() - white;
    assert!(inked * 50 > pixels.len(), "page is (nearly) blank: {inked} of {} pixels not white", pixels.len());
    // The plots' colours made it to the screen: the SYN timeline's red crosses
    // (214, 39, 40) and the first series' blue (31, 119, 180), within antialiasing.
    let near = |c: [u8; 3]| pixels.iter().filter(|p| p[..3].iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 8)).count();
    assert!(near([214, 39, 40]) > 50, "no red cross rendered");
    assert!(near([31, 119, 180]) > 50, "no blue mark rendered");
}

/// The format follows `-o`'s extension: `.pdf` is an error naming the file and saying
/// what netcap writes (nothing is created, no capture read), not Markdown under a PDF
/// name; with `--format` any name is taken as asked.
#[test]
fn an_unknown_output_extension_is_an_error() {
    let files = flannel();
    let pdf = scratch("incident.pdf");
    let _ = std::fs::remove_file(&pdf);
    let mut args = vec!["report", "-o", pdf.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let out = netcap(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("incident.pdf: netcap does not write .pdf reports: name it NAME.md or NAME.html, or give --format"), "{err}");
    assert!(!pdf.exists());
    args.extend(["--format", "markdown"]);
    let out = netcap(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&pdf).unwrap().starts_with("# "));
}

/// The `.pcap` files of lab incident `dir` (fixtures/lab/DIR), sorted.
fn lab(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("fixtures/lab").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Screenshots the report of `files` in headless Chromium at `width`×`height` (the first
/// screen of a laptop); the pixels, RGB.
fn first_screen(chromium: &std::path::Path, name: &str, files: &[String], width: u32, height: u32) -> Vec<[u8; 3]> {
    let html = scratch(&format!("{name}.html"));
    let mut args: Vec<&str> = vec!["report"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", html.to_str().unwrap()]);
    let out = common::netcap(&args);
    assert!(html.is_file(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let png = scratch(&format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", scratch(&format!("chromium-profile-{name}")).display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.canonicalize().unwrap().display()))
        .output()
        .expect("run chromium");
    assert!(png.is_file(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let mut reader = png::Decoder::new(std::fs::File::open(&png).unwrap()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    buf[..info.buffer_size()].chunks(info.color_type.samples()).map(|p| [p[0], p[1], p[2]]).collect()
}

/// Every lab incident's report puts its verdict inside the first screen (1280×720): the
/// verdict box's left bar, in the colour of its worst finding — red for an error, amber
/// for a warning, green for nothing wrong — is on screen, and no other verdict colour is.
#[test]
fn each_report_opens_with_its_verdict_on_the_first_screen() {
    let Some(chromium) = chromium() else {
        common::skip(format_args!("skipped: chromium not installed"));
        return;
    };
    const RED: [u8; 3] = [0xc6, 0x28, 0x28];
    const AMBER: [u8; 3] = [0xe0, 0xa8, 0x00];
    const GREEN: [u8; 3] = [0x2e, 0x7d, 0x32];
    for (dir, tone) in [
        ("flannel", RED),
        ("input-drop", RED),
        ("mtu-drop", RED),
        ("tcp-loss", AMBER),
        ("wire-loss", AMBER),
        ("nat", AMBER),
        ("ipip", GREEN),
    ] {
        let pixels = first_screen(&chromium, &format!("first-screen-{dir}"), &lab(dir), 1280, 720);
        let count = |c: [u8; 3]| pixels.iter().filter(|p| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 6)).count();
        // The bar is 6 px wide and at least two lines high.
        assert!(count(tone) > 6 * 40, "{dir}: the verdict's bar is not on the first screen ({} pixels)", count(tone));
        for other in [RED, AMBER, GREEN].into_iter().filter(|&c| c != tone) {
            assert!(count(other) < 6 * 10, "{dir}: another verdict colour {other:?} on screen ({} pixels)", count(other));
        }
    }
}

/// With TSO/GRO the units reconcile: the between-points table counts packets on the
/// wire (1572 client → server at every hop of fixtures/lab/vxlan-tso, although the pod
/// and VXLAN points hold 132 frames), and the one-way delay legend, which matches frame
/// to frame, says how many of those it draws.
#[test]
fn tso_units_reconcile_between_the_table_and_the_plot() {
    let files = lab("vxlan-tso");
    let html_path = scratch("vxlan-tso.html");
    let mut args: Vec<&str> = vec!["report"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", html_path.to_str().unwrap()]);
    assert!(netcap(&args).status.success());
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<tr><td>client_pod</td><td>client_vxlan</td><td class=\"n\">1572</td>"), "table row");
    assert!(html.contains(
        "client_pod → client_vxlan (69 drawn of 1572 packets matched; the others were matched by their TCP bytes (TSO/GRO super-frames))"
    ));
    // The server's answers carry no super-frames: one count.
    assert!(html.contains("server_pod → server_vxlan (63 packets)"));
}
