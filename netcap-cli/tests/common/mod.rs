//! Shared by the `netcap` binary's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root, where `netcap` runs so that paths in its output are stable.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `netcap ARGS` in the workspace root.
pub fn netcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcap")).args(args).current_dir(root()).output().expect("run netcap")
}

/// The six captures of the flannel lab, upstream first.
pub const FLANNEL: [&str; 6] = [
    "fixtures/lab/flannel/client_pod.pcap",
    "fixtures/lab/flannel/client_vxlan.pcap",
    "fixtures/lab/flannel/client_underlay.pcap",
    "fixtures/lab/flannel/server_underlay.pcap",
    "fixtures/lab/flannel/server_vxlan.pcap",
    "fixtures/lab/flannel/server_pod.pcap",
];

/// A run's standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `netcap ARGS` in the workspace root reading a pipe (its output piped too), fed
/// `header` (a capture's file header): the child and the pipe's writing end.
pub fn piped(args: &[&str], header: &[u8]) -> (Child, ChildStdin) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcap"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run netcap");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(header).expect("write the header");
    (child, stdin)
}

/// Says on the test process's own stderr that a test (or part of one) is skipped and
/// why: written past libtest's output capture, so the line shows without --nocapture.
pub fn skip(what: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{what}");
}

/// The pcap records of a capture, after its 24-byte header (little-endian files).
pub fn records(pcap: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(&pcap[at..at + 16 + caplen]);
        at += 16 + caplen;
    }
    out
}

/// Waits until the process's main thread sleeps reading its standard input (Linux's
/// wchan), so that everything written so far has been read; gives up after 10 s.
pub fn wait_reading(pid: u32) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        let signals = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| d.flatten().any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "signals")))
            .unwrap_or(false);
        if wchan.contains("pipe") && signals {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` (`INT`, `TERM`) to process `pid`.
pub fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status().expect("kill");
    assert!(status.success());
}

/// Every file and directory under `dir` (hidden ones too, links not followed), by path
/// relative to it: a file's bytes, a directory's `None`. Two equal trees are the same
/// output, byte for byte, and nothing else beside it.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, p: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(entries) = std::fs::read_dir(p) else { return };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
