//! What pcapng files say beside their packets, against Wireshark's tools, over every
//! pcapng file of the corpus that tshark reads (`../shared/corpus`, skipped where
//! absent): the names of Name Resolution Blocks against tshark, the section's and
//! interfaces' descriptions (`shb_hardware`, `shb_os`, `shb_userappl`,
//! `if_description`, `if_os`) against capinfos.
//!
//! tshark's host table (`tshark -r FILE -q -z hosts`, resolution from DNS packets off)
//! lists what its name resolution knows of the addresses it met: the file's NRB names,
//! and the system's own (its hosts file). So: every address netcap's reader names
//! ([`netcap_core::capture::CaptureReader::meta`]) is in tshark's table; in a file where
//! netcap names any address, each entry of tshark's table is one of netcap's names for
//! that address; and a file whose blocks (walked here on their own) include an NRB with
//! an address record is one where netcap names something.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use common::{assert_no_disagreements, corpus_manifest, for_each_file, read_manifest, run_limited, tshark_version, PER_FILE_LIMIT};
use netcap_core::capture::{CaptureMeta, CaptureReader, FileFormat};

/// tshark's host table for `path`: address → name.
fn tshark_hosts(path: &Path) -> Result<BTreeMap<IpAddr, String>, String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(["-q", "-z", "hosts", "-o", "nameres.dns_pkt_addr_resolution:FALSE"]);
    let (status, out) = run_limited(&mut cmd, PER_FILE_LIMIT)?;
    if !status.success() {
        return Err(format!("tshark exited with {status}"));
    }
    let text = String::from_utf8_lossy(&out);
    let mut hosts = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut fields = line.split('\t');
        let (Some(a), Some(n)) = (fields.next(), fields.next()) else { return Err(format!("unexpected line {line:?}")) };
        let a: IpAddr = a.parse().map_err(|_| format!("unexpected address {a:?}"))?;
        hosts.insert(a, n.to_string());
    }
    Ok(hosts)
}

/// Whether the uncompressed pcapng file `path` has an NRB holding an IPv4 or IPv6
/// record: its blocks walked by their lengths, each section in its byte order.
fn has_nrb_record(path: &Path) -> bool {
    let Ok(d) = std::fs::read(path) else { return false };
    let (mut at, mut little) = (0usize, true);
    let u32_at = |at: usize, little: bool| {
        let b: [u8; 4] = d.get(at..at + 4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
        if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
    };
    while at + 12 <= d.len() {
        if d[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            little = d.get(at + 8..at + 12) == Some([0x4d, 0x3c, 0x2b, 0x1a].as_slice());
        }
        let len = u32_at(at + 4, little) as usize;
        if len < 12 || len % 4 != 0 || at + len > d.len() {
            return false;
        }
        // The first record's type: 1 (IPv4) or 2 (IPv6).
        if u32_at(at, little) == 4 && len >= 16 {
            let b = [d[at + 8], d[at + 9]];
            let record = if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) };
            if record == 1 || record == 2 {
                return true;
            }
        }
        at += len;
    }
    false
}

/// What netcap's reader says of `path` beside its packets, read to the end (or the
/// first error).
fn netcap_meta(path: &Path) -> CaptureMeta {
    let Ok(mut r) = CaptureReader::open(path) else { return CaptureMeta::default() };
    while let Ok(Some(_)) = r.next_frame() {}
    r.meta().clone()
}

/// netcap's names for `path`.
fn netcap_names(path: &Path) -> BTreeMap<IpAddr, BTreeSet<String>> {
    let mut names: BTreeMap<IpAddr, BTreeSet<String>> = BTreeMap::new();
    for n in &netcap_meta(path).names {
        names.entry(n.address).or_default().insert(n.name.clone());
    }
    names
}

/// The pcapng files of the corpus that tshark reads to the end.
fn pcapng_rows(root: &Path, manifest: &Path) -> Vec<common::Row> {
    let pcapng = |r: &common::Row| r.fully_read && CaptureReader::open(root.join(&r.file)).is_ok_and(|r| matches!(r.format(), FileFormat::PcapNg { .. }));
    read_manifest(manifest).expect("manifest").into_iter().filter(pcapng).collect()
}

/// capinfos's account of `path`: the first section's hardware, OS and application, and
/// each interface's description and OS, as `key = value` lines netcap's are compared to.
fn capinfos(path: &Path) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("capinfos");
    cmd.arg(path);
    let (_, out) = run_limited(&mut cmd, PER_FILE_LIMIT)?;
    let text = String::from_utf8_lossy(&out);
    let mut lines = Vec::new();
    let mut interface = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(if line.starts_with(' ') { " = " } else { ": " }) else {
            if let Some(n) = line.strip_prefix("Interface #").and_then(|l| l.strip_suffix(" info:")) {
                interface = n.parse::<u32>().ok();
            }
            continue;
        };
        let value = value.trim();
        match (key.trim(), interface) {
            ("Capture hardware", _) => lines.push(format!("hardware = {value}")),
            ("Capture oper-sys", _) => lines.push(format!("os = {value}")),
            ("Capture application", _) => lines.push(format!("application = {value}")),
            ("Description", Some(i)) => lines.push(format!("interface {i} description = {value}")),
            ("Operating system", Some(i)) => lines.push(format!("interface {i} os = {value}")),
            _ => {}
        }
    }
    lines.sort();
    Ok(lines)
}

fn first_line(v: &str) -> &str {
    v.lines().next().unwrap_or("").trim()
}

/// The same lines from netcap's [`CaptureMeta`] (first section, its interfaces); of a
/// value of several lines, the first (capinfos prints the others on lines of their own).
fn meta_lines(meta: &CaptureMeta) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(s) = meta.sections.iter().find(|s| s.section == 0) {
        for (key, value) in [("hardware", &s.hardware), ("os", &s.os), ("application", &s.application)] {
            if let Some(v) = value {
                lines.push(format!("{key} = {}", first_line(v)));
            }
        }
    }
    for i in meta.interfaces.iter().filter(|i| i.section == 0) {
        for (key, value) in [("description", &i.description), ("os", &i.os)] {
            if let Some(v) = value {
                lines.push(format!("interface {} {key} = {}", i.idb, first_line(v)));
            }
        }
    }
    lines.sort();
    lines
}

#[test]
fn section_and_interface_options_match_capinfos() {
    let Some((root, manifest)) = corpus_manifest("section_and_interface_options_match_capinfos") else { return };
    if tshark_version("section_and_interface_options_match_capinfos").is_none() {
        return;
    }
    let rows = pcapng_rows(&root, &manifest);
    let results = for_each_file(&root, &rows, 2, |path, row| {
        let meta = netcap_meta(path);
        // capinfos numbers interfaces across sections: files of one section only.
        if meta.sections.iter().any(|s| s.section > 0) || meta.interfaces.iter().any(|i| i.section > 0) {
            return (0, None);
        }
        let ours = meta_lines(&meta);
        match capinfos(path) {
            Ok(theirs) if theirs == ours => (ours.len(), None),
            Ok(theirs) => (0, Some(format!("{}: capinfos {theirs:?}, netcap {ours:?}", row.file))),
            Err(e) => (0, Some(format!("{}: capinfos: {e}", row.file))),
        }
    });
    let compared: usize = results.iter().map(|(n, _)| n).sum();
    eprintln!("section_and_interface_options_match_capinfos: {} pcapng files, {compared} options", rows.len());
    let failures: Vec<String> = results.into_iter().filter_map(|(_, f)| f).collect();
    assert_no_disagreements(&failures);
    assert!(compared >= 100, "the corpus's pcapng files describe their sections");
}

#[test]
fn nrb_names_match_tshark() {
    let Some((root, manifest)) = corpus_manifest("nrb_names_match_tshark") else { return };
    if tshark_version("nrb_names_match_tshark").is_none() {
        return;
    }
    let rows = pcapng_rows(&root, &manifest);
    let results = for_each_file(&root, &rows, 2, |path, row| {
        let ours = netcap_names(path);
        let theirs = match tshark_hosts(path) {
            Ok(h) => h,
            Err(e) => return (0, Some(format!("{}: {e}", row.file))),
        };
        if ours.is_empty() && has_nrb_record(path) {
            return (0, Some(format!("{}: an NRB with addresses, and netcap names none", row.file)));
        }
        // tshark's table also lists the system's own names for the addresses it met:
        // in a file netcap names nothing in, those are all it lists.
        let missing: Vec<String> = theirs
            .iter()
            .filter(|(a, n)| !ours.is_empty() && !ours.get(*a).is_some_and(|s| s.contains(*n)))
            .map(|(a, n)| format!("{a} {n}"))
            .collect();
        let extra: Vec<String> = ours.keys().filter(|a| !theirs.contains_key(*a)).map(|a| a.to_string()).collect();
        let named = ours.len();
        if missing.is_empty() && extra.is_empty() {
            (named, None)
        } else {
            (named, Some(format!("{}: tshark names that netcap lacks {missing:?}; netcap names that tshark lacks {extra:?}", row.file)))
        }
    });
    let files = results.iter().filter(|(n, _)| *n > 0).count();
    let addresses: usize = results.iter().map(|(n, _)| n).sum();
    eprintln!("nrb_names_match_tshark: {} pcapng files, {files} with NRB names, {addresses} addresses", rows.len());
    let failures: Vec<String> = results.into_iter().filter_map(|(_, f)| f).collect();
    assert_no_disagreements(&failures);
    assert!(files >= 5, "the corpus has pcapng files with NRBs");
}
