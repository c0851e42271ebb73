//! A capture point read from several files (`Analysis::series`: ring buffers, rotated
//! files) is the one file they were cut from: a lab capture cut into parts, byte for
//! byte (its pcap header, then runs of its records), read as a series in any order,
//! gives the same frames, numbers, flows and correlation as the whole file; a missing
//! part or an overlap is a warning; `PointInfo::files` lists the parts. And a directory
//! as input: every capture in it, named by its path in it.

use std::convert::Infallible;
use std::fs;
use std::path::{Path, PathBuf};

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order, Outcome};
use netcap_core::capture::{find_captures, relative_name, CaptureReader, CaptureWarning, WarningKind};

fn lab(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab").join(path)
}

/// Cuts pcap `src` into files of `per` records each under `dir` (`name.pcap0`, `1`, …,
/// as `tcpdump -C -W` names them); returns them in order.
fn cut(src: &Path, dir: &Path, name: &str, per: usize) -> Vec<PathBuf> {
    let bytes = fs::read(src).unwrap();
    let mut reader = CaptureReader::open(src).unwrap();
    let mut starts = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        starts.push(f.offset as usize);
    }
    starts.push(bytes.len());
    let mut files = Vec::new();
    for (k, run) in starts.windows(2).collect::<Vec<_>>().chunks(per).enumerate() {
        let (from, to) = (run[0][0], run[run.len() - 1][1]);
        let mut out = bytes[..24].to_vec();
        out.extend_from_slice(&bytes[from..to]);
        let path = dir.join(format!("{name}{k}"));
        fs::write(&path, out).unwrap();
        files.push(path);
    }
    files
}

/// Per frame: point name, number, time; and the warnings.
#[derive(Default)]
struct Seen {
    frames: Vec<(String, u64, i64)>,
    warnings: Vec<CaptureWarning>,
}

impl Observer for Seen {
    type Error = Infallible;
    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        self.frames.push((e.point_info.name.clone(), e.frame.number, e.frame.ts_ns));
        Ok(())
    }
    fn warning(&mut self, w: &CaptureWarning) {
        self.warnings.push(w.clone());
    }
}

fn run(a: Analysis) -> (Outcome, Seen) {
    let mut seen = Seen::default();
    let outcome = match a.threads(2).run(&mut seen) {
        Ok(o) => o,
        Err(e) => match e {
            netcap_core::analysis::AnalysisError::Observer(never) => match never {},
            _ => unreachable!(),
        },
    };
    (outcome, seen)
}

#[test]
fn a_series_of_parts_is_the_file_they_were_cut_from() {
    let dir = tempfile::tempdir().unwrap();
    let sender = lab("tcp-loss/sender.pcap");
    let receiver = lab("tcp-loss/receiver.pcap");
    let parts = cut(&sender, dir.path(), "node1.pcap", 700);
    assert_eq!(parts.len(), 5, "3,088 frames in parts of 700");
    // Given in reverse: the series orders them by their first frame.
    let mut given = parts.clone();
    given.reverse();

    let (whole, whole_seen) = run(Analysis::new().point("s", &sender).point("r", &receiver));
    let (series, series_seen) = run(Analysis::new().series("s", given).point("r", &receiver));
    assert_eq!(series_seen.frames, whole_seen.frames, "same frames, same numbers, same order");
    assert!(series_seen.warnings.is_empty(), "{:?}", series_seen.warnings);
    let json = |o: &Outcome| {
        let mut v = serde_json::to_value(o.correlation().unwrap()).unwrap();
        for p in v["points"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("file");
            p.as_object_mut().unwrap().remove("files");
        }
        v
    };
    assert_eq!(json(&series), json(&whole), "the same correlation");
    assert_eq!(series.flows.len(), whole.flows.len());
    // The point lists its files, in order, with their frames and times.
    let files = &series.points[0].files;
    assert_eq!(files.iter().map(|f| f.file.clone()).collect::<Vec<_>>(), parts.iter().map(|p| p.to_string_lossy().into_owned()).collect::<Vec<_>>());
    assert_eq!(files.iter().map(|f| f.frames).collect::<Vec<_>>(), [700, 700, 700, 700, 288]);
    assert_eq!(files[0].first_ts_ns, Some(whole_seen.frames[0].2));
    assert!(whole.points.iter().all(|p| p.files.is_empty()));
    assert_eq!(series.inputs.len(), 6, "every part is an input of its own");

    // In file order too (`summary`, `flows`, `packets`).
    let (_, files_seen) = run(Analysis::new().order(Order::Files).series("s", parts.clone()));
    let (_, one_seen) = run(Analysis::new().order(Order::Files).point("s", &sender));
    assert_eq!(files_seen.frames, one_seen.frames);
}

#[test]
fn a_missing_part_or_an_overlap_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let sender = lab("tcp-loss/sender.pcap");
    let parts = cut(&sender, dir.path(), "ring.pcap", 700);
    // The middle part whose absence leaves the longest time without frames (the lab's
    // sender pauses for its losses: more than 1 s).
    let (all, _) = run(Analysis::new().order(Order::Files).series("ring", parts.clone()));
    let spans = &all.points[0].files;
    let missing = (1..spans.len() - 1).max_by_key(|&k| spans[k + 1].first_ts_ns.unwrap() - spans[k - 1].last_ts_ns.unwrap()).unwrap();
    let without: Vec<PathBuf> = parts.iter().enumerate().filter(|(k, _)| *k != missing).map(|(_, p)| p.clone()).collect();
    let (outcome, seen) = run(Analysis::new().order(Order::Files).series("ring", without));
    let gaps: Vec<&CaptureWarning> = seen.warnings.iter().filter(|w| matches!(w.kind, WarningKind::FileGap { .. })).collect();
    assert_eq!(gaps.len(), 1, "{:?}", seen.warnings);
    let files = &outcome.points[0].files;
    let expected = files[missing].first_ts_ns.unwrap() - files[missing - 1].last_ts_ns.unwrap();
    assert!(expected > 1_000_000_000, "{expected}");
    assert_eq!(gaps[0].kind, WarningKind::FileGap { previous: parts[missing - 1].to_string_lossy().into_owned(), gap_ns: expected });
    assert_eq!(gaps[0].file, parts[missing + 1].to_string_lossy());
    // Numbers go on across the gap: the parts before, then the part after.
    let before = 700 * missing;
    assert_eq!(seen.frames[before].1, before as u64 + 1);
    // A part given twice overlaps the one after it.
    let (_, seen) = run(Analysis::new().order(Order::Files).series("ring", [parts[0].clone(), parts[0].clone()]));
    assert!(seen.warnings.iter().any(|w| matches!(w.kind, WarningKind::FileGap { gap_ns, .. } if gap_ns < 0)), "{:?}", seen.warnings);
    assert_eq!(seen.frames.len(), 1400);
}

#[test]
fn a_directory_holds_every_capture_in_it_named_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("node1")).unwrap();
    fs::create_dir_all(root.join(".hidden")).unwrap();
    fs::copy(lab("flannel/client_pod.pcap"), root.join("node1/pod.pcap")).unwrap();
    fs::copy(lab("flannel/server_underlay.pcap"), root.join("node2.pcap")).unwrap();
    fs::copy(lab("flannel/client_pod.pcap"), root.join(".hidden/x.pcap")).unwrap();
    fs::write(root.join("node1/ip-resources.txt"), "not a capture\n").unwrap();
    fs::write(root.join("empty.pcap"), "").unwrap();
    let found = find_captures(root).unwrap();
    assert_eq!(found, [root.join("node1/pod.pcap"), root.join("node2.pcap")]);
    assert_eq!(relative_name(root, &root.join("node1/pod.pcap")), "node1/pod");
    assert_eq!(relative_name(root, &root.join("a/b.pcapng.gz")), "a/b");
    assert_eq!(relative_name(root, &root.join(".pcap")), ".pcap");
    let (outcome, _) = run(Analysis::new().directory(root));
    let names: Vec<&str> = outcome.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["node1/pod", "node2"]);
    assert_eq!(outcome.report.unwrap().findings[0].kind, "dropped_bad_outer_checksum");
    assert!(find_captures(&root.join("absent")).is_err());
}
