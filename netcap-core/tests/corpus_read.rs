//! Capture-reading conformance over the public corpus (`../shared/corpus` from the
//! workspace root; skipped where that folder is absent).
//!
//! For every file in `MANIFEST.tsv`: netcap reads it without panicking and in bounded
//! time. For every file tshark 4.0 read completely (tags contain none of
//! `truncated-file`, `corrupt-file`, `read-error`, `tshark-unsupported`), netcap's frame
//! count must equal the manifest's `packets` (tshark's frame count). Disagreements fail
//! the test unless listed, with a reason, in [`ALLOWED`]. What netcap does on the files
//! tshark could not read fully is printed as a report (`--nocapture` to see it) and
//! documented in `docs/conformance.md`, section "Capture reading".

mod common;

use std::collections::HashMap;
use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use netcap_core::capture::CaptureReader;

use common::{Manifest, PER_FILE_LIMIT};

/// Fully-read files whose count may differ from tshark's: `(corpus_file, reason)`.
/// Keep it small; every entry needs a reason a reviewer can check.
const ALLOWED: &[(&str, &str)] = &[];

struct Outcome {
    frames: u64,
    /// `open` or `next_frame` error, if any.
    error: Option<String>,
    warnings: Vec<String>,
    elapsed: Duration,
}

fn read_all(path: &Path) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        frames: 0,
        error: None,
        warnings: Vec::new(),
        elapsed: Duration::ZERO,
    };
    match CaptureReader::open(path) {
        Err(e) => outcome.error = Some(e.kind.to_string()),
        Ok(mut reader) => {
            let mut last_number = 0;
            loop {
                match reader.next_frame() {
                    Ok(Some(frame)) => {
                        assert_eq!(frame.caplen as usize, frame.data.len());
                        // tshark's frame numbers: increasing, gaps only where tshark
                        // lists a non-packet block (custom, systemd journal) as a frame.
                        assert!(frame.number > last_number, "{}", path.display());
                        last_number = frame.number;
                        outcome.frames += 1;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        outcome.error =
                            Some(format!("record {:?} at {}: {}", e.record, e.offset, e.kind));
                        break;
                    }
                }
                if started.elapsed() > PER_FILE_LIMIT {
                    outcome.error = Some("time limit exceeded".to_string());
                    break;
                }
            }
            // Once finished, the reader stays finished.
            assert!(matches!(reader.next_frame(), Ok(None)));
            outcome.warnings = reader
                .take_warnings()
                .iter()
                .map(|w| w.kind.to_string())
                .collect();
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

#[test]
fn corpus_frame_counts_match_tshark() -> Result<(), Box<dyn Error>> {
    let Some((root, path)) = common::corpus_manifest("corpus conformance") else {
        return Ok(());
    };
    let manifest = Manifest::read(&path)?;
    let (c_file, c_packets, c_tags) = (
        manifest.column("corpus_file")?,
        manifest.column("packets")?,
        manifest.column("tags")?,
    );
    let allowed: HashMap<&str, &str> = ALLOWED.iter().copied().collect();

    let started = Instant::now();
    let mut files = 0usize;
    let mut strict = 0usize;
    let mut agree = 0usize;
    let mut allowed_seen = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let mut report: Vec<String> = Vec::new();
    for line in &manifest.lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(packets), Some(tags)) =
            (cols.get(c_file), cols.get(c_packets), cols.get(c_tags))
        else {
            failures.push(format!("malformed manifest row: {line}"));
            continue;
        };
        files += 1;
        let outcome = read_all(&root.join(file));
        if outcome.elapsed > PER_FILE_LIMIT {
            failures.push(format!("{file}: took {:?}", outcome.elapsed));
        }
        let tshark: u64 = packets.parse().unwrap_or(0);
        let fully_read = common::fully_read(tags);
        let detail = match (&outcome.error, outcome.warnings.is_empty()) {
            (Some(e), _) => format!("error: {e}"),
            (None, false) => format!("warning: {}", outcome.warnings.join("; ")),
            (None, true) => "clean end".to_string(),
        };
        if fully_read {
            strict += 1;
            if outcome.frames == tshark && outcome.error.is_none() {
                agree += 1;
            } else if let Some(reason) = allowed.get(file) {
                allowed_seen += 1;
                report.push(format!(
                    "ALLOWED {file}: tshark {tshark}, netcap {} ({detail}) -- {reason}",
                    outcome.frames
                ));
            } else {
                failures.push(format!(
                    "{file}: tshark {tshark}, netcap {} ({detail})",
                    outcome.frames
                ));
            }
        } else {
            report.push(format!(
                "not fully read by tshark [{tags}] {file}: tshark {tshark}, netcap {} ({detail})",
                outcome.frames
            ));
        }
    }
    for line in &report {
        println!("{line}");
    }
    println!(
        "corpus: {files} files in {:?}; {strict} fully read by tshark, {agree} agree, \
         {allowed_seen} allowed disagreements; {} not fully read by tshark",
        started.elapsed(),
        files - strict
    );
    for (file, _) in ALLOWED {
        if !report
            .iter()
            .any(|l| l.starts_with(&format!("ALLOWED {file}:")))
        {
            failures.push(format!("{file}: listed in ALLOWED but agrees (or is gone)"));
        }
    }
    common::assert_no_disagreements(&failures);
    Ok(())
}

/// Frame numbers are tshark's, also where tshark lists custom blocks as frames: in
/// gopacket's test018.pcapng (custom blocks, SPBs and EPBs) `tshark -r` shows packets
/// as frames 2, 3, 5 and 7 and custom blocks as "data" frames 1, 4, 6 and 8.
#[test]
fn frame_numbers_count_the_blocks_tshark_lists() -> Result<(), Box<dyn Error>> {
    let root = common::corpus_dir();
    for order in ["le", "be"] {
        let path = root.join(format!("gopacket/pcapgo/tests/{order}/test018.pcapng"));
        if !path.exists() {
            common::skip(format_args!("skipping: {} not found", path.display()));
            return Ok(());
        }
        let mut reader = CaptureReader::open(&path)?;
        let mut numbers = Vec::new();
        while let Some(frame) = reader.next_frame()? {
            numbers.push((frame.number, frame.caplen));
        }
        assert_eq!(numbers, [(2, 314), (3, 342), (5, 314), (7, 342)], "{order}");
    }
    Ok(())
}

/// Everything a reader yields for a file: per frame its number, point, timestamp,
/// lengths, record and data offsets and a hash of its bytes; the error; the warnings.
fn transcript(reader: Result<CaptureReader, netcap_core::capture::CaptureError>) -> Vec<String> {
    use std::hash::{Hash, Hasher};
    let mut reader = match reader {
        Ok(r) => r,
        Err(e) => return vec![format!("open: {e}")],
    };
    let mut out = Vec::new();
    loop {
        match reader.advance() {
            Ok(true) => {
                let data_offset = reader.data_offset();
                let Some(f) = reader.current() else { break };
                let mut h = std::collections::hash_map::DefaultHasher::new();
                f.data.hash(&mut h);
                out.push(format!(
                    "{} {} {} {} {} {} {:?} {:x}",
                    f.number, f.point, f.ts_ns, f.caplen, f.len, f.offset, data_offset, h.finish()
                ));
            }
            Ok(false) => break,
            Err(e) => {
                out.push(format!("error: {e}"));
                break;
            }
        }
    }
    out.extend(reader.take_warnings().iter().map(|w| format!("warning: {w}")));
    out
}

/// A regular file is memory-mapped; the mapped reader must yield exactly what the
/// streaming reader yields, on every corpus file (and the data offset of a frame must
/// hold its bytes).
#[test]
fn mapped_and_streamed_reading_agree_on_every_corpus_file() -> Result<(), Box<dyn Error>> {
    let Some((root, path)) = common::corpus_manifest("mapped vs streamed") else {
        return Ok(());
    };
    let manifest = Manifest::read(&path)?;
    let c_file = manifest.column("corpus_file")?;
    let (mut mapped_files, mut failures) = (0usize, Vec::new());
    for line in &manifest.lines {
        let Some(file) = line.split('\t').nth(c_file) else { continue };
        let path = root.join(file);
        if CaptureReader::open(&path).is_ok_and(|r| r.is_mapped()) {
            mapped_files += 1;
        }
        let (a, b) = (transcript(CaptureReader::open(&path)), transcript(CaptureReader::open_streamed(&path)));
        if a != b {
            let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            failures.push(format!("{file}: first difference at line {at}: {:?} vs {:?}", a.get(at), b.get(at)));
        }
    }
    println!("mapped vs streamed: {} files, {mapped_files} mapped", manifest.lines.len());
    assert!(mapped_files > manifest.lines.len() / 2, "most corpus files are plain files and should be mapped");
    common::assert_no_disagreements(&failures);
    Ok(())
}

/// The data offset names the frame's bytes in the file.
#[test]
fn the_data_offset_holds_the_frame_bytes() -> Result<(), Box<dyn Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for file in ["constructed/two-if.pcapng", "constructed/modified.pcap", "lab/flannel/server_underlay.pcap", "constructed/verdicts.pcap.gz"] {
        let path = root.join(file);
        let bytes = std::fs::read(&path)?;
        let mut reader = CaptureReader::open(&path)?;
        let gz = file.ends_with(".gz");
        let mut frames = 0;
        while reader.advance()? {
            let at = reader.data_offset().expect("a current frame") as usize;
            let f = reader.current().expect("a current frame");
            frames += 1;
            if !gz {
                assert_eq!(&bytes[at..at + f.data.len()], f.data, "{file} frame {}", f.number);
            }
            assert!(at as u64 > f.offset, "{file}: data after the record header");
        }
        assert!(frames > 0, "{file}");
        assert_eq!(reader.is_mapped(), !gz && cfg!(target_os = "linux"), "{file}");
    }
    Ok(())
}
