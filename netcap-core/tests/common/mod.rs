//! What the corpus conformance tests (`corpus_read.rs`, `corpus_decode.rs`,
//! `corpus_tcp.rs`) share: where the public corpus is (`../shared/corpus` from the
//! workspace root) and skipping where it is absent, reading `MANIFEST.tsv`, the tags that
//! make tshark's view of a file no oracle, netcap's time limit per file, and running the
//! work on every file on a few threads.

// Each test crate compiles this module for itself and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::error::Error;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tags meaning tshark did not read the whole file, so what it says of the file (frame
/// count, per-frame counts, analysis) is not an oracle.
pub const NOT_FULLY_READ: [&str; 4] = [
    "truncated-file",
    "corrupt-file",
    "read-error",
    "tshark-unsupported",
];

/// netcap may not take longer than this on a single file (a hang fails the test instead
/// of blocking it).
pub const PER_FILE_LIMIT: Duration = Duration::from_secs(20);

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// The corpus folder and its `MANIFEST.tsv`; `None` where the manifest is absent, after
/// saying on stderr that `test` is skipped.
pub fn corpus_manifest(test: &str) -> Option<(PathBuf, PathBuf)> {
    let root = corpus_dir();
    let manifest = root.join("MANIFEST.tsv");
    if !manifest.exists() {
        skip(format_args!("skipping {test}: {} not found", manifest.display()));
        return None;
    }
    Some((root, manifest))
}

/// Whether tshark read the whole file, from the manifest's comma-separated `tags`: none
/// of them is one of [`NOT_FULLY_READ`].
pub fn fully_read(tags: &str) -> bool {
    !tags.split(',').any(|t| NOT_FULLY_READ.contains(&t))
}

// ---------------------------------------------------------------------------------------
// Manifest

/// `MANIFEST.tsv` as read: the header's column names and the other non-blank lines, each
/// a row of tab-separated fields.
#[derive(Debug)]
pub struct Manifest {
    header: Vec<String>,
    pub lines: Vec<String>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, Box<dyn Error>> {
        let text = fs::read_to_string(path)?;
        let mut lines = text.lines();
        let header = lines
            .next()
            .ok_or("empty manifest")?
            .split('\t')
            .map(str::to_string)
            .collect();
        let lines = lines
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        Ok(Manifest { header, lines })
    }

    /// The index of the column `name` in a row.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("manifest has no column {name}"))
    }
}

/// One manifest row, as the decode and TCP tests read it.
#[derive(Debug)]
pub struct Row {
    pub file: String,
    /// tshark's frame count.
    pub packets: u64,
    pub fully_read: bool,
    /// tshark's per-frame counts, by key (`ipv4`, `tcp`, …; `docs/conformance.md`).
    pub counts: HashMap<String, u64>,
    /// The file's SHA-256 (hex), which names its cached tshark output.
    pub sha256: String,
}

impl Row {
    /// tshark's count of frames with `key` (0 where the manifest has none).
    pub fn count(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// Every row of the manifest; a row short of a column or with unreadable `counts` is an
/// error.
pub fn read_manifest(path: &Path) -> Result<Vec<Row>, Box<dyn Error>> {
    let manifest = Manifest::read(path)?;
    let (c_file, c_packets, c_tags, c_counts, c_sha) = (
        manifest.column("corpus_file")?,
        manifest.column("packets")?,
        manifest.column("tags")?,
        manifest.column("counts")?,
        manifest.column("sha256")?,
    );
    let mut rows = Vec::new();
    for line in &manifest.lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let field = |c: usize| {
            cols.get(c)
                .copied()
                .ok_or_else(|| format!("short manifest row: {line}"))
        };
        let tags = field(c_tags)?;
        let counts_text = unquote(field(c_counts)?.trim());
        let counts: HashMap<String, u64> = if counts_text.is_empty() {
            HashMap::new()
        } else {
            serde_json::from_str(&counts_text)
                .map_err(|e| format!("counts of {}: {e}", field(c_file).unwrap_or("?")))?
        };
        rows.push(Row {
            file: field(c_file)?.to_string(),
            packets: field(c_packets)?.parse().unwrap_or(0),
            fully_read: fully_read(tags),
            counts,
            sha256: field(c_sha)?.to_string(),
        });
    }
    Ok(rows)
}

/// A field as the manifest writer quoted it (CSV style: `"{""ipv4"":3}"`), unquoted.
fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_string(),
    }
}

/// Where netcap read `row`'s file otherwise than tshark (an error, or another frame count):
/// what the report says of it. The frames of such a file are not compared with tshark's
/// (`corpus_read.rs` owns that).
pub fn reading_differs(row: &Row, frames: u64, error: Option<&str>) -> Option<String> {
    (error.is_some() || frames != row.packets).then(|| {
        format!(
            "{}: tshark {} frames, netcap {frames} ({})",
            row.file,
            row.packets,
            error.unwrap_or("no error")
        )
    })
}

/// Fails the test where `failures` lists any disagreement with tshark.
#[track_caller]
pub fn assert_no_disagreements(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with tshark:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Per file

/// How many files run at a time: one per core, at most `max`.
pub fn threads(max: usize) -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(max))
}

/// Runs `work` on every row's file (its path under `root`), [`threads`]`(max_threads)`
/// files at a time; the results come in row order. `work` catches its own panics.
pub fn for_each_file<R: Send>(
    root: &Path,
    rows: &[Row],
    max_threads: usize,
    work: impl Fn(&Path, &Row) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..rows.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads(max_threads) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(row) = rows.get(i) else { break };
                let outcome = work(&root.join(&row.file), row);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.expect("every row run"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// tshark, the oracle

/// The first line of `tshark --version`, or `None` (after saying on stderr that `test`
/// is skipped) where tshark is not on `PATH` — unless `NETCAP_REQUIRE_TSHARK=1` (set by
/// `.ci/run`, which installs it), where its absence fails the test.
#[track_caller]
pub fn tshark_version(test: &str) -> Option<String> {
    let out = Command::new("tshark").arg("--version").stderr(Stdio::null()).output();
    match out {
        Ok(o) if o.status.success() => {
            Some(String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string())
        }
        _ => {
            assert!(
                std::env::var("NETCAP_REQUIRE_TSHARK").as_deref() != Ok("1"),
                "{test}: tshark is required (NETCAP_REQUIRE_TSHARK=1) but not found"
            );
            skip(format_args!("skipping {test}: tshark not found on PATH"));
            None
        }
    }
}

/// Where tshark's output for one corpus file is kept between runs of test `name`: the
/// corpus files are immutable (named by their SHA-256 in the manifest) and the key covers
/// tshark's version, its options and the fields, so a cached output is what tshark would
/// print again. `NETCAP_TSHARK_CACHE=off` runs tshark on every file.
pub fn tshark_cache_dir(name: &str, version: &str, args: &[&str], fields: &[&str]) -> Option<PathBuf> {
    if std::env::var("NETCAP_TSHARK_CACHE").is_ok_and(|v| v == "off") {
        return None;
    }
    let h = fnv1a(std::iter::once(version).chain(args.iter().copied()).chain(fields.iter().copied()));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}/{h:016x}"));
    fs::create_dir_all(&dir).ok().map(|_| dir)
}

/// FNV-1a of `parts`, each ended by a 0 byte: a cache key stable across toolchains,
/// unlike `DefaultHasher`.
pub fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// tshark's `-T fields` lines (tab-separated, every occurrence) for one file, from the
/// cache or from running `tshark -n -r PATH ARGS` with at most `limit` of wall time.
pub fn tshark_output(
    path: &Path,
    args: &[&str],
    fields: &[&str],
    cached: Option<&Path>,
    limit: Duration,
) -> Result<String, String> {
    if let Some(text) = cached.and_then(|c| fs::read_to_string(c).ok()) {
        return Ok(text);
    }
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path).args(args);
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let (status, out) = run_limited(&mut cmd, limit)?;
    if !status.success() {
        return Err(format!("tshark exited with {status}"));
    }
    let text = String::from_utf8(out).map_err(|_| "unreadable output".to_string())?;
    if let Some(c) = cached {
        // Write then rename, so that an interrupted run leaves no partial entry.
        let tmp = c.with_extension("part");
        if fs::write(&tmp, &text).is_ok() {
            let _ = fs::rename(&tmp, c);
        }
    }
    Ok(text)
}

/// Runs `cmd` (stdin closed, stderr discarded) and returns its exit status and standard
/// output; a child still running after `limit` is killed and is an error.
pub fn run_limited(cmd: &mut Command, limit: Duration) -> Result<(std::process::ExitStatus, Vec<u8>), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {:?}: {e}", cmd.get_program()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let started = Instant::now();
    let (out, status) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut b = Vec::new();
            stdout.read_to_end(&mut b).map(|_| b)
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Ok(st),
                Ok(None) if started.elapsed() > limit => {
                    // Ours to end: the child we spawned, by its handle.
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("{:?}: time limit ({limit:?})", cmd.get_program()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => break Err(format!("wait: {e}")),
            }
        };
        (reader.join(), status)
    });
    let status = status?;
    match out {
        Ok(Ok(b)) => Ok((status, b)),
        _ => Err("unreadable output".into()),
    }
}

/// Says on the test process's own stderr that a test (or part of one) is skipped and
/// why: written past libtest's output capture, so the line shows without --nocapture.
pub fn skip(what: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{what}");
}
