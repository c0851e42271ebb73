//! Outputs under faults: a file-size limit (`ulimit -f`, EFBIG) and a full disk (a small
//! tmpfs, ENOSPC) while writing `-o`, a report, an evidence pcapng or an export; an
//! output that is an input under another name (a symbolic or hard link); SIGTERM during
//! an export. Whatever happens, the output's name holds the old file (or nothing) or the
//! whole new one, and no temporary file is left beside it.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{kill, netcap, piped, records, root, stderr, tree, wait_reading, FLANNEL};

const CLIENT_POD: &str = "fixtures/lab/flannel/client_pod.pcap";
const TABLES: [&str; 6] = ["packets", "tcp_events", "flows", "findings", "pairs", "matches"];

/// Runs `netcap ARGS` in the workspace root under `ulimit -f BLOCKS` (1024-byte blocks,
/// bash's unit): a write past it fails with EFBIG (netcap ignores SIGXFSZ).
fn limited(blocks: u32, args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_netcap"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run bash")
}

/// The names in `dir` that look like netcap's temporary files or directories.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    tree(dir).into_keys().filter(|p| p.to_string_lossy().contains(".netcap-tmp-")).collect()
}

/// The byte count of a "writing failed after N bytes" message.
fn bytes_written(msg: &str) -> u64 {
    let rest = msg.split("writing failed after ").nth(1).unwrap_or_else(|| panic!("no byte count: {msg}"));
    rest.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no byte count: {msg}"))
}

/// Whether `path` is a whole Parquet file: `PAR1` at both ends, and the footer reads.
fn whole_parquet(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.len() >= 12
        && bytes.starts_with(b"PAR1")
        && bytes.ends_with(b"PAR1")
        && parquet::file::reader::SerializedFileReader::new(std::fs::File::open(path).unwrap()).is_ok()
}

/// Rows in `DIR/<table>/part-0.parquet`.
fn rows(dir: &Path, table: &str) -> i64 {
    use parquet::file::reader::FileReader;
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(dir.join(table).join("part-0.parquet")).unwrap()).unwrap();
    reader.metadata().file_metadata().num_rows()
}

/// Every table of an export in `dir`, each a whole Parquet file.
fn whole_export(dir: &Path) {
    for t in TABLES {
        let part = dir.join(t).join("part-0.parquet");
        assert!(whole_parquet(&part), "{} is not a whole Parquet file", part.display());
    }
}

/// A file-size limit on every kind of output file: the error names the file, says `File
/// too large` and how many bytes were written (the limit, 4096 or 1024); exit 1; no file
/// where there was none, the old one byte for byte where there was; no temporary file.
#[test]
fn a_file_size_limit_leaves_no_file_that_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |name: &str| d.join(name).to_str().unwrap().to_string();
    let (jsonl, report, evidence, man) = (path("p.jsonl"), path("r.md"), path("e.pcapng"), path("man"));
    // Outputs of 11,081, 2,886, 3,092 bytes and more; 4 or 2 KiB allowed (report and
    // extract also write their frame log, 120 bytes a frame, to a temporary file).
    let cases: [(u32, Vec<&str>, &str); 4] = [
        (4, vec!["packets", "--format", "jsonl", CLIENT_POD, "-o", &jsonl], &jsonl),
        (2, vec!["report", CLIENT_POD, "-o", &report], &report),
        (2, vec!["extract", CLIENT_POD, "--frames", "client_pod:1-12", "-o", &evidence], &evidence),
        (1, vec!["man", "--dir", &man], "man/netcap.1"),
    ];
    for (blocks, args, file) in &cases {
        let file = d.join(file);
        let out = limited(*blocks, args);
        let msg = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {msg}");
        let named = format!("netcap: error: {}: writing failed after {} bytes: File too large (os error 27); no file was left", file.display(), blocks * 1024);
        assert!(msg.contains(&named), "{args:?}: {msg}");
        assert!(!file.exists(), "{args:?}: {} left", file.display());
        assert_eq!(temporaries(d), Vec::<PathBuf>::new(), "{args:?}");
    }
    // An older output of each stays as it was, byte for byte.
    for (_, args, _) in &cases[..3] {
        let whole = netcap(args);
        assert!(whole.status.success(), "{args:?}: {}", stderr(&whole));
    }
    let before = tree(d);
    for (blocks, args, file) in &cases[..3] {
        let out = limited(*blocks, args);
        let msg = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {msg}");
        let unchanged = format!("File too large (os error 27); the old {} is unchanged", d.join(file).display());
        assert!(msg.contains(&unchanged), "{args:?}: {msg}");
    }
    assert!(tree(d) == before, "an old output changed, or a temporary file was left: {:?}", tree(d).keys().collect::<Vec<_>>());
}

/// An output that is a device or a pipe is written directly, not renamed over: `-o
/// /dev/null` stays the device, `/dev/full` says `No space left on device` (exit 1).
#[test]
fn a_device_output_is_written_directly() {
    if !Path::new("/dev/full").exists() {
        common::skip(format_args!("a_device_output_is_written_directly: skipped: no /dev/full"));
        return;
    }
    let out = netcap(&["summary", CLIENT_POD, "-o", "/dev/null"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    let out = netcap(&["summary", CLIENT_POD, "-o", "/dev/full"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "netcap: error: /dev/full: writing failed after 0 bytes: No space left on device (os error 28)\n");
}

/// A file-size limit during `export --force`: the error names the table's file where
/// it was to go, exit 1, and the old export is there byte for byte, with no temporary
/// directory; a new directory is not created at all.
#[test]
fn a_failed_export_keeps_the_old_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let o = out_dir.to_str().unwrap();
    let first = netcap(&["export", FLANNEL[3], "-o", o]);
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(out_dir.join("notes.txt"), b"mine").unwrap();
    let before = tree(&out_dir);
    // The packets table of the client pod's capture is 12,664 bytes; 4 KiB allowed.
    let out = limited(4, &["export", CLIENT_POD, "-o", o, "--force"]);
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    let part = out_dir.join("packets/part-0.parquet");
    assert!(
        msg.contains(&format!("{}: writing failed after 4096 bytes: File too large (os error 27); {o} is as it was", part.display())),
        "{msg}"
    );
    assert!(tree(&out_dir) == before, "the old export changed: {:?}", tree(&out_dir).keys().collect::<Vec<_>>());
    whole_export(&out_dir);
    assert_eq!(rows(&out_dir, "packets"), 12, "the server underlay's 12 frames, not the client pod's");
    // A new directory: nothing at all.
    let fresh = dir.path().join("fresh");
    let out = limited(4, &["export", CLIENT_POD, "-o", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("File too large (os error 27); nothing was left"), "{}", stderr(&out));
    assert!(!fresh.exists());
    assert_eq!(temporaries(dir.path()), Vec::<PathBuf>::new());
    // The same export without the limit replaces the tables and keeps notes.txt.
    let ok = netcap(&["export", CLIENT_POD, "-o", o, "--force"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    whole_export(&out_dir);
    assert_eq!(rows(&out_dir, "packets"), 12);
    assert_eq!(rows(&out_dir, "tcp_events"), 8);
    assert_eq!(std::fs::read(out_dir.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(temporaries(&out_dir), Vec::<PathBuf>::new());
}

/// A tmpfs mounted for a test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// A tmpfs of `size` (`256k`), or `None` (said) where mounting is not permitted.
    fn mount(test: &str, size: &str) -> Option<Self> {
        if !cfg!(target_os = "linux") {
            common::skip(format_args!("{test}: skipped: tmpfs is Linux's"));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::piped())
            .output();
        match mounted {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                common::skip(format_args!("{test}: skipped: cannot mount a tmpfs ({})", String::from_utf8_lossy(&o.stderr).trim()));
                None
            }
            Err(e) => {
                common::skip(format_args!("{test}: skipped: no mount command ({e})"));
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system but for about `free` bytes, with `filler`.
    fn fill(&self, free: usize) {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5a_u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        drop(f);
        let len = std::fs::metadata(&filler).unwrap().len();
        let keep = len.saturating_sub(free as u64) / 4096 * 4096;
        std::fs::OpenOptions::new().write(true).open(&filler).unwrap().set_len(keep).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A real full disk (a 256 KiB tmpfs filled but for 8 KiB): `No space left on device`,
/// named with the file and the bytes that fitted, exit 1, the old output as it was, and
/// no temporary file; the same for an export over an older one.
#[test]
fn a_full_disk_leaves_the_old_output() {
    let Some(fs) = Tmpfs::mount("a_full_disk_leaves_the_old_output", "256k") else { return };
    let d = fs.path().join("work");
    std::fs::create_dir(&d).unwrap();
    let jsonl = d.join("p.jsonl");
    let out_dir = d.join("out");
    let (j, o) = (jsonl.to_str().unwrap(), out_dir.to_str().unwrap());
    std::fs::write(&jsonl, b"the old output\n").unwrap();
    let first = netcap(&["export", FLANNEL[3], "-o", o]);
    assert!(first.status.success(), "{}", stderr(&first));
    fs.fill(8 << 10);
    let before = tree(&d);

    let out = netcap(&["packets", "--format", "jsonl", CLIENT_POD, "-o", j]);
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains(&format!("netcap: error: {j}: writing failed after ")), "{msg}");
    assert!(msg.contains(" bytes: No space left on device (os error 28); the old "), "{msg}");
    assert!(bytes_written(&msg) < 11_081, "{msg}");

    let out = netcap(&["export", CLIENT_POD, "-o", o, "--force"]);
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains(&format!("{o}/")) && msg.contains("No space left on device (os error 28)"), "{msg}");
    assert!(msg.ends_with(&format!("; {o} is as it was\n")), "{msg}");

    assert!(tree(&d) == before, "an old output changed, or a temporary file was left: {:?}", tree(&d).keys().collect::<Vec<_>>());
    assert_eq!(std::fs::read(&jsonl).unwrap(), b"the old output\n");
    whole_export(&out_dir);
}

/// netcap `export - -o DIR --force` reading a pipe, fed the client pod's capture header
/// and first 5 records, then sent `signals` signals (TERM) while it waits for more. It
/// checks that during the run DIR holds the old export only (and the temporary
/// directory), then returns the output.
fn export_signalled(out_dir: &Path, signals: usize) -> Output {
    let pcap = std::fs::read(root().join(CLIENT_POD)).unwrap();
    let recs = records(&pcap);
    let before = tree(out_dir);
    let (child, mut stdin) = piped(&["export", "-", "-o", out_dir.to_str().unwrap(), "--force"], &pcap[..24]);
    for r in &recs[..5] {
        stdin.write_all(r).unwrap();
    }
    stdin.flush().unwrap();
    wait_reading(child.id());
    // While it runs: the old tables, untouched, beside the temporary directory.
    let stage = out_dir.join(format!(".netcap-tmp-{}", child.id()));
    assert!(stage.join("packets").is_dir(), "{} not there while running", stage.display());
    let mut during = tree(out_dir);
    during.retain(|p, _| !p.starts_with(stage.file_name().unwrap()));
    assert!(during == before, "the old export changed while the new one was written");
    for _ in 0..signals {
        kill(child.id(), "TERM");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The next record wakes a blocked read; it is not analysed.
    let _ = stdin.write_all(recs[5]);
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// SIGTERM during `export --force` over an older export. One signal: the tables of the
/// 5 frames read, whole, in place of the old ones. Two: out at once (143), the old
/// export byte for byte. Neither leaves a temporary directory; two signals on a new
/// directory leave no directory at all.
#[test]
fn sigterm_during_export_leaves_the_old_directory_or_the_whole_new_one() {
    if !cfg!(target_os = "linux") {
        common::skip(format_args!("skipped: the signal test watches /proc (Linux only)"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let old = netcap(&["export", FLANNEL[3], "-o", out_dir.to_str().unwrap()]);
    assert!(old.status.success(), "{}", stderr(&old));
    let before = tree(&out_dir);

    let out = export_signalled(&out_dir, 2);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(tree(&out_dir) == before, "not the old export byte for byte: {:?}", tree(&out_dir).keys().collect::<Vec<_>>());

    let out = export_signalled(&out_dir, 1);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(stderr(&out).contains("netcap: warning: interrupted (SIGTERM)"), "{}", stderr(&out));
    whole_export(&out_dir);
    assert_eq!(rows(&out_dir, "packets"), 5, "the frames read before the signal");
    assert_eq!(temporaries(dir.path()), Vec::<PathBuf>::new());

    // A directory that did not exist: none after two signals.
    let fresh = dir.path().join("fresh");
    let pcap = std::fs::read(root().join(CLIENT_POD)).unwrap();
    let (child, mut stdin) = piped(&["export", "-", "-o", fresh.to_str().unwrap()], &pcap[..24]);
    stdin.flush().unwrap();
    wait_reading(child.id());
    assert!(fresh.join(format!(".netcap-tmp-{}", child.id())).is_dir());
    kill(child.id(), "TERM");
    std::thread::sleep(Duration::from_millis(200));
    kill(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(!fresh.exists(), "{} left", fresh.display());
}

/// An output that is an input under another name — a symbolic link to it, a hard link
/// to it — is refused like the input itself, for `-o`, `report`, `extract` and
/// `export`: exit 1, before anything is read, a message naming both and saying they are
/// the same file, and the input unchanged.
#[test]
fn links_to_an_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in.pcap");
    std::fs::copy(root().join(CLIENT_POD), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let hard = d.join("hard.pcap");
    std::fs::hard_link(&input, &hard).unwrap();
    let soft = d.join("soft.pcap");
    std::os::unix::fs::symlink(&input, &soft).unwrap();
    let i = input.to_str().unwrap();
    for (link, how) in [(&hard, "(hard links to one file)".to_string()), (&soft, format!("({} is a symbolic link to it)", soft.display()))] {
        let l = link.to_str().unwrap();
        let said = format!("netcap: error: {l}: the output is one of the input files: {l} and {i} are the same file {how}\n");
        for args in [
            &["summary", i, "-o", l][..],
            &["packets", "--format", "jsonl", i, "-o", l],
            &["report", i, "--format", "markdown", "-o", l],
            &["extract", i, "--frames", "in:1", "-o", l],
        ] {
            let out = netcap(args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), said, "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(std::fs::read(&input).unwrap(), original, "{args:?}");
        }
    }
    // export: an input inside a table --force would replace, or a link to one there.
    let out_dir = d.join("out");
    let o = out_dir.to_str().unwrap();
    let first = netcap(&["export", i, "-o", o]);
    assert!(first.status.success(), "{}", stderr(&first));
    let inside = out_dir.join("flows/in.pcap");
    std::fs::hard_link(&input, &inside).unwrap();
    let out = netcap(&["export", i, "-o", o, "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let n = inside.display();
    assert_eq!(
        stderr(&out),
        format!("netcap: error: {n}: the output is one of the input files: {n} and {i} are the same file (hard links to one file); --force would replace {o}/flows with everything in it\n")
    );
    assert!(inside.exists() && rows(&out_dir, "flows") == 1);
    // The output directory is an input (a directory of captures).
    let out = netcap(&["export", d.to_str().unwrap(), "-o", d.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("netcap: error: {}: the output directory is one of the inputs\n", d.display()));
    assert_eq!(std::fs::read(&input).unwrap(), original);
    assert_eq!(temporaries(d), Vec::<PathBuf>::new());
}

/// An output that is a symbolic link to another file (not an input) is written where
/// the link points: the link stays a link.
#[test]
fn an_output_link_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.json");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = netcap(&["summary", "--format", "json", CLIENT_POD, "-o", link.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(doc["frames"], 12);
    assert_eq!(temporaries(dir.path()), Vec::<PathBuf>::new());
}
