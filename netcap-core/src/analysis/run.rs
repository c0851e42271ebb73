//! The run: inputs opened, frames read in the run's order in chunks, each chunk decoded
//! and TCP-analysed on the thread pool while the previous one goes through the
//! correlator to the observer on the calling thread and the next one is read; the end
//! of the run.
//!
//! ```text
//!   calling thread:  correlate + observe chunk k, then read chunk k+2  | …
//!   pool:            decode chunk k+1 (frames in parallel),            | …
//!                    then its TCP analysis (shards in parallel)
//! ```
//!
//! Everything a chunk's analysis computes depends only on the frames and their order,
//! never on the threads: the output is the same for every thread count.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(target_os = "linux")]
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::capture::{CaptureError, CaptureReader, CaptureWarning, PointId, WarningKind};
use crate::correlate::{CorrelateOptions, Correlator};
use crate::decode::Decoder;
use crate::tcp::shards::Shards;
use crate::tcp::stats::Samples;
use crate::tcp::FlowRecord;

use super::chunk::{Chunk, Maps};
use super::estimate::estimate_offsets;
use super::inputs::Input;
use super::observer::{FrameEvent, Observer, Progress};
use super::points::{FileSpan, Registry};
use super::select::{Selector, Window};
use super::{Analysis, AnalysisError, Order, Outcome};

/// Frames between two progress calls.
const PROGRESS_EVERY: u64 = 1 << 13;

/// A time between the last frame of a series' file and the first of the next longer
/// than this is noted ([`WarningKind::FileGap`]).
pub(crate) const FILE_GAP_NS: i64 = 1_000_000_000;

/// What an input is to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// A file (or stream) of its own.
    Single,
    /// The first file of series `k`.
    Head(usize),
    /// A later file of the series whose first file is this input.
    Member(usize),
}

/// A series' files in order of their first frame's time (a file without one last,
/// in the order given).
fn series_order(files: Vec<std::path::PathBuf>) -> Vec<std::path::PathBuf> {
    let mut keyed: Vec<(i64, usize, std::path::PathBuf)> = files
        .into_iter()
        .enumerate()
        .map(|(k, p)| {
            let first = CaptureReader::open_streamed(&p).ok().and_then(|mut r| match r.advance() {
                Ok(true) => r.current().map(|f| f.ts_ns),
                _ => None,
            });
            (first.unwrap_or(i64::MAX), k, p)
        })
        .collect();
    keyed.sort_by_key(|(t, k, _)| (*t, *k));
    keyed.into_iter().map(|(_, _, p)| p).collect()
}

/// What the pool works on: decoding and the TCP shards.
struct Front {
    decoder: Decoder,
    tcp: Shards,
    /// Whether the correlator runs (its fingerprints are taken on the pool).
    fingerprint: bool,
    /// The filters and the count.
    selector: Selector,
}

/// What the calling thread works on: points, the correlator, the observer, the flows.
struct Back<'o, O: Observer + ?Sized> {
    observer: &'o mut O,
    correlator: Option<Correlator>,
    /// Whether the correlator's per-packet paths go to the observer.
    stream_paths: bool,
    /// Whether the report keeps the packets' paths (`CorrelateOptions::list_packets`).
    report_packets: bool,
    reg: Registry,
    flows: Vec<FlowRecord>,
    keep_flows: bool,
    /// Most flow records kept ([`Analysis::max_flow_records`]); the others are
    /// delivered to the observer and counted in `not_kept`.
    max_kept: usize,
    not_kept: u64,
    errors: Vec<CaptureError>,
    warnings: Vec<CaptureWarning>,
    frames: u64,
    /// Frames read, selected or not.
    read: u64,
    /// The selection's time window.
    window: Window,
    /// Set once the selection's count is reached: reading stops.
    enough: &'o AtomicBool,
    /// The caller's stop flag ([`Analysis::stop_on`](super::Analysis::stop_on)).
    stop: Option<std::sync::Arc<AtomicBool>>,
    /// Whether reading stopped because the stop flag was set.
    interrupted: bool,
    /// Per input: frames delivered, first and last time (a series' files).
    spans: Vec<(u64, Option<i64>, Option<i64>)>,
    /// The names the inputs read so far give addresses.
    names: crate::analysis::Names,
    /// Per input: the file of its series read after it ends, if any (input `i + 1`).
    chain: Vec<Option<std::path::PathBuf>>,
    /// Per input: added to its frame numbers (a series numbers its files' frames on).
    base: Vec<u64>,
    /// Per input: its last frame's number (with `base`) and time, as read.
    last: Vec<Option<(u64, i64)>>,
    /// Per input: the byte offset reached.
    at: Vec<u64>,
    /// (shard, shard's flow id) → the run's flow id, while the flow lives.
    ids: FxHashMap<(u8, u64), u64>,
    next_id: u64,
    live: u64,
    peak: u64,
    karn: Samples,
}

/// The inputs being read, and the next frame of each in time order.
struct Feed {
    readers: Vec<Option<CaptureReader>>,
    maps: Maps,
    /// Per input: whether it is a regular, uncompressed file.
    seekable: Vec<bool>,
    /// Per input: the point of its current frame.
    heads: Vec<usize>,
    heap: BinaryHeap<Reverse<(i64, usize, u64)>>,
    /// Register every point of a file up to a frame's, in the file's order (the
    /// file-by-file order's numbering).
    register_all: bool,
}

pub(super) fn run<O: Observer + ?Sized>(analysis: Analysis, observer: &mut O) -> Result<Outcome, AnalysisError<O::Error>> {
    let threads = match analysis.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    // With one thread everything runs on the calling thread. With more, the pool has
    // that many workers for decoding and the TCP shards, and the calling thread feeds
    // the correlator and the observer beside them (it mostly waits when they are cheap).
    // The pool's threads are joined before `run` returns: none outlives the run (a
    // dropped rayon pool's threads end later, on their own). A pool that cannot be
    // built leaves the run on the calling thread.
    if threads > 1 {
        let mut workers = Vec::new();
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .spawn_handler(|worker| {
                let name = format!("netcap-{}", worker.index());
                workers.push(std::thread::Builder::new().name(name).spawn(move || worker.run())?);
                Ok(())
            })
            .build();
        if let Ok(pool) = built {
            let done = run_on(analysis, observer, Some(&pool));
            drop(pool);
            for worker in workers {
                // A worker that panicked has no outcome to give: the run's is whole.
                let _ = worker.join();
            }
            return done;
        }
    }
    run_on(analysis, observer, None)
}

fn run_on<O: Observer + ?Sized>(analysis: Analysis, observer: &mut O, pool: Option<&rayon::ThreadPool>) -> Result<Outcome, AnalysisError<O::Error>> {
    let Analysis { mut inputs, renames, offsets, decode, tcp, correlate, order, keep_flows, max_flow_records, threads: _, selection, series, bundles, stop } = analysis;
    // Files only named by `point`, and the files of each series, are read after the
    // inputs given, in the order named. A series' files are inputs of their own (their
    // offsets are their own), in order of their first frame, each read after the one
    // before.
    let mut chain: Vec<Option<std::path::PathBuf>> = vec![None; inputs.len()];
    let mut units: Vec<Unit> = vec![Unit::Single; inputs.len()];
    let mut named_series = Vec::new();
    let mut pending = series.into_iter().enumerate().peekable();
    for k in 0..=renames.len() {
        while let Some((index, s)) = pending.next_if(|(_, s)| s.after_renames <= k) {
            let head = inputs.len();
            for (m, path) in series_order(s.files).into_iter().enumerate() {
                if m > 0 {
                    if let Some(c) = chain.last_mut() {
                        *c = Some(path.clone());
                    }
                }
                inputs.push(Input::Path(path));
                chain.push(None);
                units.push(if m == 0 { Unit::Head(index) } else { Unit::Member(head) });
            }
            named_series.push((head, s.name));
        }
        if let Some(r) = renames.get(k) {
            let path = std::path::Path::new(&r.file);
            if !inputs.iter().any(|i| i.is_path(path)) {
                inputs.push(Input::Path(path.to_path_buf()));
                chain.push(None);
                units.push(Unit::Single);
            }
        }
    }
    let decoder = Decoder::new(decode);
    let mut reg = Registry::new(offsets, renames);
    reg.series(units.clone(), named_series, inputs.iter().map(Input::name).collect());
    // A bundle's capture is shown as BUNDLE/MEMBER (an unpacked copy is temporary).
    reg.bundled(
        bundles
            .iter()
            .flat_map(|b| {
                b.captures.iter().map(|c| {
                    let member = c.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    (c.to_string_lossy().into_owned(), format!("{}/{member}", b.facts.source), b.facts.host.clone())
                })
            })
            .collect(),
    );
    let mut correlator = None;
    let mut stream_paths = false;
    // The packets' paths stay in the report only when the caller asked for them there.
    let report_packets = correlate.list_packets;
    if order == Order::Time {
        // Estimating reads the start of each input before the merge: only files can.
        if inputs.len() > 1 && inputs.iter().all(Input::rereadable) {
            estimate_offsets(&mut inputs, &decoder, &mut reg, pool);
        }
        stream_paths = observer.wants_paths();
        let opts = CorrelateOptions { list_packets: correlate.list_packets || stream_paths, ..correlate };
        correlator = Some(Correlator::new(opts, Vec::new()));
    }
    let names: Vec<String> = inputs.iter().map(Input::name).collect();
    let mut front = Front { decoder, tcp: Shards::new(tcp), fingerprint: order == Order::Time, selector: Selector::new(&selection) };
    let enough = AtomicBool::new(false);
    let mut back = Back {
        observer,
        correlator,
        stream_paths,
        report_packets,
        reg,
        flows: Vec::new(),
        keep_flows: keep_flows || order == Order::Time,
        max_kept: max_flow_records,
        not_kept: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
        frames: 0,
        read: 0,
        window: Window::new(&selection),
        enough: &enough,
        stop,
        interrupted: false,
        at: vec![0; inputs.len()],
        spans: vec![(0, None, None); inputs.len()],
        names: crate::analysis::Names::default(),
        base: vec![0; inputs.len()],
        last: vec![None; inputs.len()],
        chain,
        ids: FxHashMap::default(),
        next_id: 0,
        live: 0,
        peak: 0,
        karn: Samples::default(),
    };
    match order {
        Order::Time => {
            let mut feed = Feed::new(inputs.len(), false);
            for (i, input) in inputs.iter_mut().enumerate() {
                // A series' later files are opened when the one before ends.
                if matches!(units[i], Unit::Member(_)) {
                    continue;
                }
                match input.open() {
                    Ok(r) => feed.add(i, r, input.is_regular_file()),
                    Err(e) => back.error(e),
                }
            }
            back.start(&mut feed);
            pipeline(&mut front, &mut back, &mut feed, pool)?;
            back.end(&mut feed);
        }
        Order::Files => {
            let n = inputs.len();
            for (i, input) in inputs.iter_mut().enumerate() {
                if back.interrupted {
                    break;
                }
                if matches!(units[i], Unit::Member(_)) {
                    continue;
                }
                let mut feed = Feed::new(n, true);
                match input.open() {
                    Ok(r) => feed.add(i, r, input.is_regular_file()),
                    Err(e) => {
                        back.error(e);
                        continue;
                    }
                }
                back.start(&mut feed);
                pipeline(&mut front, &mut back, &mut feed, pool)?;
                back.end(&mut feed);
            }
        }
    }
    let selection = selection.report(back.read);
    let mut outcome = back.finish(&mut front, names, pool)?;
    outcome.selection = selection;
    // The bundles' nodes' counters in the findings.
    outcome.hosts = bundles.iter().map(|b| std::sync::Arc::clone(&b.facts)).collect();
    if let Some(report) = outcome.report.as_mut() {
        crate::findings::hosts::cite_counters(&mut report.findings, &outcome.points, &outcome.hosts);
        crate::findings::hosts::cite_systems(&mut report.findings, &outcome.points);
    }
    outcome.bundles = bundles;
    Ok(outcome)
}

/// The bytes of a frame libpcap hands a filter at most: its interface's snapshot
/// length, made the link type's largest when 0 or larger (as libpcap's readers do).
fn filter_snaplen(reader: &CaptureReader, point: PointId, link_type: crate::capture::LinkType) -> u32 {
    let max = crate::capture::max_caplen(link_type);
    match reader.points().get(point.0 as usize).map_or(0, |p| p.snaplen) {
        0 => max,
        s => s.min(max),
    }
}

impl Front {
    /// The selection, decoding and TCP analysis of a chunk.
    fn analyse(&mut self, chunk: &mut Chunk, enough: &AtomicBool, maps: &Maps, parallel: bool) {
        chunk.analyse(&self.decoder, &mut self.tcp, &mut self.selector, enough, maps, self.fingerprint, parallel);
    }
}

/// Chunk after chunk until the feed is dry: chunk k+1 is analysed on the pool while
/// chunk k goes to the observer here and chunk k+2 is read.
fn pipeline<O: Observer + ?Sized>(front: &mut Front, back: &mut Back<'_, O>, feed: &mut Feed, pool: Option<&rayon::ThreadPool>) -> Result<(), AnalysisError<O::Error>> {
    let (mut cur, mut next, mut after) = (Chunk::default(), Chunk::default(), Chunk::default());
    // The mappings live as long as the feed; taken out so that reading can go on
    // while the frames of earlier chunks are still used.
    let maps = std::mem::take(&mut feed.maps);
    let result = chunks(front, back, feed, &maps, pool, [&mut cur, &mut next, &mut after]);
    feed.maps = maps;
    result
}

fn chunks<O: Observer + ?Sized>(
    front: &mut Front,
    back: &mut Back<'_, O>,
    feed: &mut Feed,
    maps: &Maps,
    pool: Option<&rayon::ThreadPool>,
    [cur, next, after]: [&mut Chunk; 3],
) -> Result<(), AnalysisError<O::Error>> {
    let (mut cur, mut next, mut after) = (cur, next, after);
    back.fill(feed, cur);
    match pool {
        Some(p) => p.install(|| front.analyse(cur, back.enough, maps, true)),
        None => front.analyse(cur, back.enough, maps, false),
    }
    back.fill(feed, next);
    while !cur.is_dry() {
        match pool {
            Some(p) => {
                let delivered = p.in_place_scope(|s| {
                    if !next.is_dry() {
                        let (next, front, enough) = (&mut *next, &mut *front, back.enough);
                        s.spawn(move |_| front.analyse(next, enough, maps, true));
                    }
                    let delivered = back.deliver(cur, maps);
                    back.fill(feed, after);
                    delivered
                });
                delivered?;
            }
            None => {
                back.deliver(cur, maps)?;
                front.analyse(next, back.enough, maps, false);
                back.fill(feed, after);
            }
        }
        std::mem::swap(&mut cur, &mut next);
        std::mem::swap(&mut next, &mut after);
        after.clear();
    }
    Ok(())
}

impl Feed {
    fn new(inputs: usize, register_all: bool) -> Self {
        Feed {
            readers: (0..inputs).map(|_| None).collect(),
            maps: (0..inputs).map(|_| None).collect(),
            seekable: vec![false; inputs],
            heads: vec![0; inputs],
            heap: BinaryHeap::new(),
            register_all,
        }
    }

    fn add(&mut self, input: usize, reader: CaptureReader, seekable: bool) {
        if let Some(s) = self.seekable.get_mut(input) {
            *s = seekable && !reader.compressed();
        }
        #[cfg(target_os = "linux")]
        if let Some(m) = self.maps.get_mut(input) {
            *m = reader.mapping().map(Arc::clone);
        }
        if let Some(r) = self.readers.get_mut(input) {
            *r = Some(reader);
        }
    }
}

impl<O: Observer + ?Sized> Back<'_, O> {
    fn error(&mut self, e: CaptureError) {
        self.observer.error(&e);
        self.errors.push(e);
    }

    fn warning(&mut self, w: CaptureWarning) {
        self.observer.warning(&w);
        self.warnings.push(w);
    }

    /// The first frame of every input in the heap; the time window's relative bounds
    /// count from the first frame read from here.
    fn start(&mut self, feed: &mut Feed) {
        self.window.restart();
        for i in 0..feed.readers.len() {
            if let Some(key) = self.pull(feed, i) {
                feed.heap.push(Reverse(key));
            }
        }
    }

    /// What an input read to its end leaves: its warnings, the names it gives
    /// addresses.
    fn read_to_end(&mut self, reader: &mut CaptureReader) {
        self.names.add(&reader.meta().names);
        for w in reader.take_warnings() {
            self.warning(w);
        }
    }

    /// The warnings (and names) of every input, once it is read.
    fn end(&mut self, feed: &mut Feed) {
        for i in 0..feed.readers.len() {
            if let Some(reader) = feed.readers.get_mut(i).and_then(Option::as_mut) {
                self.read_to_end(reader);
            }
        }
    }

    /// Advances input `i` to its next frame; its heap key (time after the point's
    /// offset, input, frame number), or `None` at its end (or error). At the end of a
    /// series' file, the next file is opened and its first frame is the key.
    fn pull(&mut self, feed: &mut Feed, i: usize) -> Option<(i64, usize, u64)> {
        let reader = feed.readers.get_mut(i)?.as_mut()?;
        match reader.advance() {
            Ok(true) => {}
            Ok(false) => return self.next_file(feed, i),
            Err(e) => {
                self.error(e);
                return self.next_file(feed, i);
            }
        }
        let frame = reader.current()?;
        let number = frame.number.saturating_add(self.base[i]);
        self.last[i] = Some((number, frame.ts_ns));
        let point = if feed.register_all {
            self.reg.point_in_order(i, reader, frame.point)?
        } else {
            self.reg.point_of(i, reader, frame.point)?
        };
        if let Some(h) = feed.heads.get_mut(i) {
            *h = point;
        }
        Some((frame.ts_ns.saturating_add(self.reg.offsets[point]), i, number))
    }

    /// Input `i` ended: when it is a file of a series with a file after it, that file
    /// (input `i + 1`) is opened, numbered on from `i`'s last frame, a gap or overlap
    /// between the two noted, and its first frame pulled.
    fn next_file(&mut self, feed: &mut Feed, i: usize) -> Option<(i64, usize, u64)> {
        let path = self.chain.get(i).cloned().flatten()?;
        let j = i + 1;
        // The file before is done: its warnings now, its reader closed (a mapping its
        // frames still use stays in the feed's maps).
        if let Some(mut r) = feed.readers.get_mut(i).and_then(Option::take) {
            self.read_to_end(&mut r);
        }
        let (last_number, last_ts) = self.last.get(i).copied().flatten().map_or((self.base[i], None), |(n, t)| (n, Some(t)));
        // Streamed: the feed's mappings are lent to the chunks being filled.
        match CaptureReader::open_streamed(&path) {
            Ok(r) => {
                let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
                feed.add(j, r, regular);
            }
            Err(e) => {
                self.error(e);
                self.base[j] = last_number;
                self.last[j] = self.last[i];
                return self.next_file(feed, j);
            }
        }
        self.base[j] = last_number;
        let key = self.pull(feed, j);
        if let (Some(prev), Some((_, first))) = (last_ts, self.last.get(j).copied().flatten()) {
            let gap_ns = first.saturating_sub(prev);
            if !(0..=FILE_GAP_NS).contains(&gap_ns) {
                let previous = self.reg.input_name(i);
                self.warning(CaptureWarning { file: path.to_string_lossy().into_owned(), record: None, offset: 0, kind: WarningKind::FileGap { previous, gap_ns } });
            }
        }
        key
    }

    /// Moves frames from the feed into `chunk`, in time order, until it is full or the
    /// feed is dry. Frames of mapped inputs stay where they are; the others are copied.
    fn fill(&mut self, feed: &mut Feed, chunk: &mut Chunk) {
        while !chunk.is_full() && !self.enough.load(Ordering::Relaxed) {
            if self.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
                self.interrupted = true;
                break;
            }
            let Some(Reverse((ts, i, _))) = feed.heap.pop() else { break };
            let point = feed.heads.get(i).copied().unwrap_or(0);
            self.read += 1;
            let admitted = self.window.admits(ts);
            if let Some(reader) = feed.readers.get(i).and_then(Option::as_ref).filter(|_| admitted) {
                if let Some(frame) = reader.current() {
                    // A mapped input's frames stay in the mapping.
                    let arena = if reader.is_mapped() {
                        None
                    } else {
                        let start = chunk.arena.len();
                        chunk.arena.extend_from_slice(frame.data);
                        Some(start)
                    };
                    chunk.slots.push(super::chunk::Slot {
                        input: u32::try_from(i).unwrap_or(u32::MAX),
                        point: u32::try_from(point).unwrap_or(u32::MAX),
                        number: frame.number.saturating_add(self.base[i]),
                        ts_ns: ts,
                        has_timestamp: frame.has_timestamp,
                        caplen: frame.caplen,
                        len: frame.len,
                        offset: frame.offset,
                        link_type: frame.link_type,
                        data_offset: reader.data_offset().unwrap_or(0),
                        arena,
                        seekable: feed.seekable.get(i).copied().unwrap_or(false),
                        big_endian: reader.big_endian(),
                        filter_snaplen: filter_snaplen(reader, frame.point, frame.link_type),
                    });
                }
            }
            if let Some(key) = self.pull(feed, i) {
                feed.heap.push(Reverse(key));
            }
        }
        chunk.filled();
    }

    /// The run's id of a shard's flow, given on first sight.
    fn flow_id(&mut self, shard: u8, local: u64) -> u64 {
        if let Some(&g) = self.ids.get(&(shard, local)) {
            return g;
        }
        let g = self.next_id;
        self.next_id += 1;
        self.ids.insert((shard, local), g);
        self.live += 1;
        self.peak = self.peak.max(self.live);
        g
    }

    /// A flow that ended: the run's id, its point's name; to the observer, kept.
    fn flow_ended(&mut self, shard: u8, mut flow: FlowRecord) -> Result<(), AnalysisError<O::Error>> {
        flow.id = match self.ids.remove(&(shard, flow.id)) {
            Some(g) => g,
            None => {
                let g = self.flow_id(shard, flow.id);
                self.ids.remove(&(shard, flow.id));
                g
            }
        };
        self.live = self.live.saturating_sub(1);
        flow.point = self.reg.points.get(flow.point_index as usize).map(|p| p.name.clone()).unwrap_or_default();
        self.observer.flow(&self.reg.points, &flow).map_err(AnalysisError::Observer)?;
        if self.keep_flows {
            // A flood of one-packet flows must not hold a record each: past the limit
            // they are counted, as the table's evictions are.
            if self.flows.len() < self.max_kept {
                self.flows.push(flow);
            } else {
                self.not_kept += 1;
            }
        }
        Ok(())
    }

    /// The frames of an analysed chunk, in order: flows that ended, the correlator,
    /// the observer.
    fn deliver(&mut self, chunk: &Chunk, maps: &Maps) -> Result<(), AnalysisError<O::Error>> {
        for note in &chunk.notes {
            let file = self.reg.points.iter().find(|p| p.input == note.input as usize).map(|p| p.file.clone()).unwrap_or_default();
            self.warning(CaptureWarning {
                file,
                record: Some(note.number),
                offset: note.offset,
                kind: WarningKind::FilterNotApplicable { filter: note.expr.clone(), link_type: note.link_type.0, message: note.message.clone() },
            });
        }
        let mut ended = chunk.finished.iter().peekable();
        for (i, slot) in chunk.slots.iter().enumerate() {
            while let Some((_, shard, f)) = ended.next_if(|(at, _, _)| *at <= i) {
                self.flow_ended(*shard, f.clone())?;
            }
            let (Some(frame), Some(packet)) = (chunk.frame(i, maps), chunk.packets.get(i)) else { continue };
            let segment = match (chunk.segments.get(i).copied().flatten(), chunk.shards.get(i).copied().flatten()) {
                (Some(mut s), Some(shard)) => {
                    s.flow = self.flow_id(shard, s.flow);
                    if let (true, Some(rtt)) = (s.karn, s.ack_rtt_ns) {
                        self.karn.add(rtt);
                    }
                    Some(s)
                }
                _ => None,
            };
            let point = slot.point as usize;
            if let Some(p) = self.reg.points.get_mut(point) {
                p.frames += 1;
            }
            self.frames += 1;
            if let Some(a) = self.at.get_mut(slot.input as usize) {
                *a = slot.offset;
            }
            if let Some((n, first, last)) = self.spans.get_mut(slot.input as usize) {
                *n += 1;
                first.get_or_insert(slot.ts_ns);
                *last = Some(slot.ts_ns);
            }
            if let Some(c) = self.correlator.as_mut() {
                c.add_keyed(slot.point, &frame, packet, chunk.keys.get(i).copied().flatten());
            }
            let points = &self.reg.points;
            if let Some(point_info) = points.get(point) {
                let event = FrameEvent {
                    points,
                    point,
                    point_info,
                    frame,
                    packet,
                    segment: segment.as_ref(),
                    input: slot.input as usize,
                    data_offset: slot.data_offset,
                    seekable: slot.seekable,
                };
                self.observer.frame(&event).map_err(AnalysisError::Observer)?;
                if let Some(s) = &segment {
                    self.observer.segment(&event, s).map_err(AnalysisError::Observer)?;
                }
            }
            if self.stream_paths {
                if let Some(c) = self.correlator.as_mut() {
                    let paths = c.take_packet_paths();
                    if !paths.is_empty() {
                        self.observer.paths(&self.reg.points, &paths).map_err(AnalysisError::Observer)?;
                    }
                }
            }
            if self.frames % PROGRESS_EVERY == 0 {
                self.observer.progress(&Progress { frames: self.frames, bytes: self.at.iter().sum() });
            }
        }
        for (_, shard, f) in ended {
            self.flow_ended(*shard, f.clone())?;
        }
        Ok(())
    }

    /// The end of the input: live flows finished, the correlator's last packets and
    /// report.
    fn finish(mut self, front: &mut Front, inputs: Vec<String>, pool: Option<&rayon::ThreadPool>) -> Result<Outcome, AnalysisError<O::Error>> {
        let rest = match pool {
            Some(p) => p.install(|| front.tcp.finish(true)),
            None => front.tcp.finish(false),
        };
        // Oldest first, as one flow table drains; each record moved once, out of its
        // shard's list.
        let mut order: Vec<(i64, u64, usize, usize)> = Vec::with_capacity(rest.iter().map(Vec::len).sum());
        for (shard, flows) in rest.iter().enumerate() {
            for (i, f) in flows.iter().enumerate() {
                let id = self.ids.get(&(shard as u8, f.id)).copied().unwrap_or(u64::MAX);
                order.push((f.last_ts_ns, id, shard, i));
            }
        }
        order.sort_unstable();
        let mut rest: Vec<Vec<Option<FlowRecord>>> = rest.into_iter().map(|flows| flows.into_iter().map(Some).collect()).collect();
        for (_, _, shard, i) in order {
            if let Some(f) = rest.get_mut(shard).and_then(|flows| flows.get_mut(i)).and_then(Option::take) {
                self.flow_ended(shard as u8, f)?;
            }
        }
        drop(rest);
        let names = self.reg.names();
        let report = match self.correlator.take() {
            Some(mut c) => {
                if self.stream_paths {
                    c.flush();
                    let paths = c.take_packet_paths();
                    self.observer.paths(&self.reg.points, &paths).map_err(AnalysisError::Observer)?;
                }
                let mut report = c.finish(&names, &self.flows);
                if !self.report_packets {
                    report.packets = None;
                }
                if self.not_kept > 0 {
                    report.notes.push(format!(
                        "{} TCP flow records were analysed but not kept, past the first {} (--max-flow-records): the findings about flows cover those",
                        self.not_kept, self.max_kept
                    ));
                }
                Some(report)
            }
            None => None,
        };
        self.flows = crate::flow::in_order_of(std::mem::take(&mut self.flows), |f| f.id);
        // A series' points list its files.
        let files: Vec<Vec<FileSpan>> = self
            .reg
            .points
            .iter()
            .map(|p| {
                if !self.reg.in_series(p.input) {
                    return Vec::new();
                }
                let span = |i: usize| {
                    let (frames, first, last) = self.spans.get(i).copied().unwrap_or_default();
                    FileSpan { file: inputs.get(i).cloned().unwrap_or_default(), frames, first_ts_ns: first, last_ts_ns: last }
                };
                self.reg.unit_inputs(p.input).into_iter().map(span).collect()
            })
            .collect();
        for (p, f) in self.reg.points.iter_mut().zip(files) {
            p.files = f;
        }
        let mut table = front.tcp.table_stats();
        table.peak = self.peak;
        table.not_kept = self.not_kept;
        Ok(Outcome {
            points: self.reg.points,
            report,
            flows: self.flows,
            table,
            karn: self.karn,
            inputs,
            errors: self.errors,
            warnings: self.warnings,
            frames: self.frames,
            read: self.read,
            selection: None,
            hosts: Vec::new(),
            names: self.names,
            bundles: Vec::new(),
            interrupted: self.interrupted,
        })
    }
}
