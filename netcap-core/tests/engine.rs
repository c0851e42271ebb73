//! The engine ([`netcap_core::analysis`]) against the building blocks it runs: on every
//! corpus file (`../shared/corpus`, skipped where absent) and on the lab captures, a run
//! of the engine — chunks, a thread pool, the TCP analysis in shards — must say what
//! one [`Analyzer`] fed frame by frame says: the same label, RTT and flow id for every
//! frame, the same flow records, the same points. Where the TCP segments of a capture
//! span more than the flow timeout, a flow may sit idle past it, and the two sweep
//! idle flows at other moments (the engine per shard and per chunk:
//! docs/architecture.md): such files are counted, not compared.

mod common;

use std::convert::Infallible;
use std::error::Error;
use std::path::Path;

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order, PointInfo};
use netcap_core::capture::CaptureReader;
use netcap_core::decode::{Decoder, Packet};
use netcap_core::tcp::{Analyzer, FlowRecord, SegmentInfo, TcpAnalysisOptions};

/// Per frame, (frame number, segment) as the engine delivers them.
#[derive(Default)]
struct Segments(PerFrame);

impl Observer for Segments {
    type Error = Infallible;
    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        self.0.push((e.frame.number, e.segment.copied()));
        Ok(())
    }
}

/// Per frame: its number and what the TCP analysis says.
type PerFrame = Vec<(u64, Option<SegmentInfo>)>;

/// What one analyzer says, frame by frame, and the time its segments span; `None` when
/// the file cannot be read.
fn reference(path: &Path) -> Option<(PerFrame, Vec<FlowRecord>, i64)> {
    let mut reader = CaptureReader::open(path).ok()?;
    let decoder = Decoder::new(Default::default());
    let mut tcp = Analyzer::new(TcpAnalysisOptions::default());
    let mut packet = Packet::default();
    let mut segments = Vec::new();
    let mut flows = Vec::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    // In file order the engine numbers a file's points as the reader does.
    while let Ok(Some(frame)) = reader.next_frame() {
        decoder.decode_into(frame.link_type, frame.data, &mut packet);
        let s = tcp.segment(frame.point.0, &frame, &packet);
        if s.is_some() {
            (first, last) = (first.min(frame.ts_ns), last.max(frame.ts_ns));
        }
        segments.push((frame.number, s));
        for p in reader.points() {
            tcp.name_point(p.id.0, &p.name);
        }
        flows.append(&mut tcp.take_finished());
    }
    flows.append(&mut tcp.finish());
    flows.sort_by_key(|f| f.id);
    Some((segments, flows, last.saturating_sub(first)))
}

fn compare(path: &Path) -> Result<Option<String>, String> {
    let Some((want, want_flows, span)) = reference(path) else { return Ok(None) };
    let mut got = Segments::default();
    let outcome = Analysis::new().file(path).order(Order::Files).threads(3).run(&mut got).map_err(|e| e.to_string())?;
    if span > TcpAnalysisOptions::default().limits.idle_timeout_ns {
        return Ok(Some(format!("{}: TCP segments over {} s; not compared", path.display(), span / 1_000_000_000)));
    }
    if got.0.len() != want.len() {
        return Err(format!("{}: {} frames, reference {}", path.display(), got.0.len(), want.len()));
    }
    for ((n, a), (_, b)) in got.0.iter().zip(&want) {
        if a != b {
            return Err(format!("{}: frame {n}: engine {a:?}, one analyzer {b:?}", path.display()));
        }
    }
    let json = |f: &FlowRecord| serde_json::to_string(f).unwrap_or_default();
    if outcome.flows.len() != want_flows.len() {
        return Err(format!("{}: {} flows, reference {}", path.display(), outcome.flows.len(), want_flows.len()));
    }
    for (a, b) in outcome.flows.iter().zip(&want_flows) {
        if json(a) != json(b) {
            return Err(format!("{}: flow records differ:\n  engine   {}\n  analyzer {}", path.display(), json(a), json(b)));
        }
    }
    Ok(None)
}

#[test]
fn the_engine_says_what_one_analyzer_says_on_every_corpus_file() -> Result<(), Box<dyn Error>> {
    let Some((root, manifest)) = common::corpus_manifest("engine vs analyzer") else {
        return Ok(());
    };
    let rows = common::read_manifest(&manifest)?;
    let results = common::for_each_file(&root, &rows, 2, |path, _| compare(path));
    let (mut failures, mut skipped, mut compared) = (Vec::new(), Vec::new(), 0);
    for r in results {
        match r {
            Ok(None) => compared += 1,
            Ok(Some(note)) => skipped.push(note),
            Err(e) => failures.push(e),
        }
    }
    println!("engine vs analyzer: {compared} files compared, {} spanning more than the flow timeout not compared", skipped.len());
    assert!(compared > rows.len() * 9 / 10, "{compared} of {} compared", rows.len());
    common::assert_no_disagreements(&failures);
    Ok(())
}

#[test]
fn the_engine_says_what_one_analyzer_says_on_the_lab_captures() -> Result<(), Box<dyn Error>> {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab");
    let mut n = 0;
    for scenario in std::fs::read_dir(&lab)? {
        let scenario = scenario?.path();
        if !scenario.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&scenario)? {
            let f = f?.path();
            if f.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                assert_eq!(compare(&f)?, None, "{}", f.display());
                n += 1;
            }
        }
    }
    assert!(n >= 20, "{n} lab captures");
    Ok(())
}

/// The flows the engine hands out name their point: to the observer as each one ends,
/// and in the outcome; a point named with `Analysis::point` by that name.
#[test]
fn every_flow_record_names_its_point() -> Result<(), Box<dyn Error>> {
    #[derive(Default)]
    struct Points(Vec<String>);
    impl Observer for Points {
        type Error = Infallible;
        fn flow(&mut self, _: &[PointInfo], flow: &FlowRecord) -> Result<(), Infallible> {
            self.0.push(flow.point.clone());
            Ok(())
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/flannel/server_underlay.pcap");
    let runs = [
        ("server_underlay", Analysis::new().file(&path)),
        ("server_underlay", Analysis::new().file(&path).order(Order::Files)),
        ("node2", Analysis::new().point("node2", &path)),
    ];
    for (name, analysis) in runs {
        let mut seen = Points::default();
        let outcome = analysis.run(&mut seen)?;
        let kept: Vec<&str> = outcome.flows.iter().map(|f| f.point.as_str()).collect();
        assert_eq!((seen.0.len(), kept.len()), (1, 1), "{name}");
        assert_eq!((seen.0[0].as_str(), kept[0]), (name, name));
    }
    // A lone analyzer names the flows of the points it was told.
    let (_, flows, _) = reference(&path).ok_or("server_underlay.pcap unreadable")?;
    assert_eq!(flows.iter().map(|f| f.point.as_str()).collect::<Vec<_>>(), ["server_underlay"]);
    Ok(())
}

/// Sets the stop flag once it has seen `after` frames.
struct StopAfter {
    after: u64,
    seen: u64,
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Observer for StopAfter {
    type Error = Infallible;
    fn frame(&mut self, _: &FrameEvent<'_>) -> Result<(), Infallible> {
        self.seen += 1;
        if self.seen == self.after {
            self.flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

/// `Analysis::stop_on`: a flag set before the run stops it before the first frame; set
/// mid-run, reading stops and the outcome covers what was read, marked interrupted;
/// never set, nothing changes.
#[test]
fn a_stop_flag_ends_the_run_with_what_was_read() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/tcp-loss/sender.pcap");
    let whole = Analysis::new().file(&file).run(&mut ()).unwrap();
    assert!(!whole.interrupted);
    assert_eq!(whole.read, 3088);

    let set = Arc::new(AtomicBool::new(true));
    let none = Analysis::new().file(&file).stop_on(Arc::clone(&set)).run(&mut ()).unwrap();
    assert!(none.interrupted);
    assert_eq!((none.read, none.frames), (0, 0));
    assert!(!none.read_nothing(), "stopped, not failed");

    // Longer than the chunks read ahead (2 × 2048 frames): the capture ten times over,
    // each copy 10 s after the one before.
    let pcap = std::fs::read(&file).unwrap();
    let mut long = pcap[..24].to_vec();
    for copy in 0..10u32 {
        let mut at = 24;
        while at + 16 <= pcap.len() {
            let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
            let secs = u32::from_le_bytes(pcap[at..at + 4].try_into().unwrap()) + copy * 10;
            long.extend_from_slice(&secs.to_le_bytes());
            long.extend_from_slice(&pcap[at + 4..at + 16 + caplen]);
            at += 16 + caplen;
        }
    }
    for threads in [1, 2] {
        let flag = Arc::new(AtomicBool::new(false));
        let mut obs = StopAfter { after: 100, seen: 0, flag: Arc::clone(&flag) };
        let part = Analysis::new()
            .reader("long.pcap", std::io::Cursor::new(long.clone()))
            .threads(threads)
            .stop_on(flag)
            .run(&mut obs)
            .unwrap();
        assert!(part.interrupted);
        // Every frame read was delivered; reading stopped within the chunks read ahead.
        assert_eq!(part.frames, obs.seen);
        assert_eq!(part.read, part.frames);
        assert!(part.frames >= 100 && part.frames <= 3 * 2048, "{threads}: {}", part.frames);
        assert_eq!(part.flows.iter().map(|f| f.c2s.packets + f.s2c.packets).sum::<u64>(), part.frames);
    }
}
