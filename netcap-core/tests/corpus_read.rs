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
            eprintln!("skipping: {} not found", path.display());
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
