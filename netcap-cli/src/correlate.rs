//! `netcap correlate`: every file read at once, frames merged in capture-time order
//! (clock offsets applied), fed to the TCP analysis and the correlator.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::path::PathBuf;

use netcap_core::capture::{CaptureReader, Frame, LinkType, PointId};
use netcap_core::correlate::clock::{ClockEstimator, Estimate};
use netcap_core::correlate::{packet_key, CorrelateOptions, Correlator, PacketPath, Report};
use netcap_core::decode::Packet;
use netcap_core::flow::table::TableStats;
use netcap_core::tcp::stats::Samples;
use netcap_core::tcp::{FlowRecord, SegmentInfo};
use serde::Serialize;

use crate::{name_points, open, text, AnalysisArgs, CorrelateArgs, SummaryFormat};

/// A frame copied out of its reader's buffer.
struct Owned {
    number: u64,
    point: usize,
    link_type: LinkType,
    ts_ns: i64,
    has_timestamp: bool,
    caplen: u32,
    len: u32,
    offset: u64,
    data: Vec<u8>,
}

impl Owned {
    fn frame(&self) -> Frame<'_> {
        Frame {
            number: self.number,
            point: PointId(u32::try_from(self.point).unwrap_or(u32::MAX)),
            link_type: self.link_type,
            ts_ns: self.ts_ns,
            has_timestamp: self.has_timestamp,
            caplen: self.caplen,
            len: self.len,
            offset: self.offset,
            data: &self.data,
        }
    }
}

/// One capture point of the run.
#[derive(Debug, Clone, Serialize)]
pub struct PointRow {
    pub name: String,
    pub file: String,
    pub interface: Option<String>,
    pub link_type: LinkType,
    pub frames: u64,
    /// Added to the point's timestamps: given with `--clock-offset`, or the estimate
    /// when it exceeds both its uncertainty and 100 µs.
    pub clock_offset_ns: i64,
    /// The estimate of this point's clock against the first point's (null for the
    /// first point, a given offset, or no packets matched in both directions).
    pub clock_estimate: Option<Estimate>,
}

/// `netcap correlate --format json`.
#[derive(Debug, Serialize)]
pub struct Output {
    pub points: Vec<PointRow>,
    #[serde(flatten)]
    pub report: Report,
}

/// One input file; `None` when it could not be opened (indexes follow the files).
struct Source {
    reader: Option<CaptureReader>,
}

/// The run's capture points, numbered in file order, then in each file's order: the
/// same numbers in the estimation pass and the matching pass.
#[derive(Default)]
struct Registry {
    points: Vec<PointRow>,
    names: Vec<String>,
    /// Added to each point's timestamps.
    offsets: Vec<i64>,
    /// (source, reader point id) → point number.
    ids: std::collections::HashMap<(usize, usize), usize>,
    /// Offsets given with `--clock-offset`.
    given: Vec<(String, i64)>,
    /// Names given with `--point NAME=FILE[#IFACE]`: (name, file, interface).
    renames: Vec<(String, String, Option<String>)>,
}

impl Registry {
    /// The point number of reader point `id` in source `src`.
    fn point_of(&mut self, src: usize, reader: &CaptureReader, id: PointId) -> Option<usize> {
        let pid = id.0 as usize;
        if let Some(&p) = self.ids.get(&(src, pid)) {
            return Some(p);
        }
        let p = reader.points().get(pid)?;
        // `--point NAME=FILE[#IFACE]`: IFACE is the interface name, the pcapng interface
        // number or the LINUX_SLL2 ifindex; without it the file's only (or first) point.
        let renamed = self.renames.iter().find(|(_, file, iface)| {
            *file == p.file
                && match iface {
                    None => pid == 0,
                    Some(i) => {
                        p.interface.as_deref() == Some(i.as_str())
                            || p.idb.is_some_and(|n| n.to_string() == *i)
                            || p.ifindex.is_some_and(|n| n.to_string() == *i)
                    }
                }
        });
        let name = renamed.map_or_else(|| p.name.clone(), |r| r.0.clone());
        let offset = self.given.iter().find(|(n, _)| *n == name).map_or(0, |x| x.1);
        self.points.push(PointRow {
            name: name.clone(),
            file: p.file.clone(),
            interface: p.interface.clone(),
            link_type: p.link_type,
            frames: 0,
            clock_offset_ns: offset,
            clock_estimate: None,
        });
        self.names.push(name);
        self.offsets.push(offset);
        self.ids.insert((src, pid), self.points.len() - 1);
        Some(self.points.len() - 1)
    }

    fn given(&self, point: usize) -> bool {
        self.points.get(point).is_some_and(|p| self.given.iter().any(|(n, _)| *n == p.name))
    }
}

/// Frames read for the clock estimate, shared among the files (the first of each).
const ESTIMATE_FRAMES: usize = 1 << 18;

/// An estimate smaller than this (or than its uncertainty) is taken for a shared clock.
const MIN_OFFSET_NS: i64 = 100_000;

/// First pass: every file read once, the fingerprints' first sightings collected, the
/// offsets of the points without a given one estimated against the first point.
fn estimate_offsets(files: &[PathBuf], decoder: &netcap_core::decode::Decoder, reg: &mut Registry) {
    let mut est = ClockEstimator::default();
    let mut packet = Packet::default();
    // The start of every file: captures taken together overlap there.
    let budget = (ESTIMATE_FRAMES / files.len().max(1)).max(1);
    for (i, path) in files.iter().enumerate() {
        let Ok(mut reader) = open(path) else { continue };
        let mut read = 0usize;
        while let Ok(Some(frame)) = reader.next_frame() {
            read += 1;
            if est.is_full() || read > budget {
                break;
            }
            decoder.decode_into(frame.link_type, frame.data, &mut packet);
            let key = packet_key(&packet, frame.data);
            let (pid, ts) = (frame.point, frame.ts_ns);
            // The frame borrows the reader; registering a new point needs the reader.
            let Some(p) = reg.point_of(i, &reader, pid) else { continue };
            if let Some((fp, src, dst)) = key {
                let ts = ts.saturating_add(reg.offsets[p]);
                est.add(u32::try_from(p).unwrap_or(u32::MAX), fp, src, dst, ts);
            }
        }
    }
    for (p, e) in est.solve(reg.points.len()).into_iter().enumerate() {
        let Some(e) = e else { continue };
        if reg.given(p) || p == 0 {
            continue;
        }
        reg.points[p].clock_estimate = Some(e);
        if e.offset_ns.abs() > e.uncertainty_ns.max(MIN_OFFSET_NS) {
            reg.offsets[p] = e.offset_ns.saturating_neg();
            reg.points[p].clock_offset_ns = e.offset_ns.saturating_neg();
        }
    }
}

/// `±1.5s`, `-250ms`, `+40us`, `100ns`, or plain seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let (num, unit) = rest.split_at(rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len()));
    let scale = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    Some((sign * v * scale).round() as i64)
}

/// Sees every frame of an analysis, in merged time order, after the TCP analysis and
/// the correlator: `points` holds every point registered so far (`point` among them),
/// `frame.ts_ns` has the point's clock offset applied.
pub trait Observer {
    fn frame(
        &mut self,
        points: &[PointRow],
        point: usize,
        frame: &Frame<'_>,
        packet: &Packet,
        segment: Option<&SegmentInfo>,
    ) -> io::Result<()>;

    /// Whether this observer takes the correlator's packet rows as they are made
    /// (`paths`) instead of finding them all in the report (`list_packets` must be on).
    fn wants_paths(&self) -> bool {
        false
    }

    /// Packets accounted since the last call, each with its path point by point.
    fn paths(&mut self, _points: &[PointRow], _paths: Vec<PacketPath>) -> io::Result<()> {
        Ok(())
    }
}

impl Observer for () {
    fn frame(&mut self, _: &[PointRow], _: usize, _: &Frame<'_>, _: &Packet, _: Option<&SegmentInfo>) -> io::Result<()> {
        Ok(())
    }
}

/// What one analysis of a set of captures found.
#[derive(Debug)]
pub struct Analysis {
    pub output: Output,
    /// Every TCP flow, point names filled in, in order of id.
    pub flows: Vec<FlowRecord>,
    /// The files read, `--point` files included, in the order read.
    pub files: Vec<PathBuf>,
    /// Whether any file failed (could not be opened, or stopped at a corrupt record).
    pub failed: bool,
    /// What happened to the TCP flow table.
    pub table: TableStats,
    /// The Karn RTT samples of every flow (for the health summary).
    pub karn: Samples,
}

/// Parses `--clock-offset` and `--point`; the message names the bad argument.
fn parse_specs(args: &AnalysisArgs) -> Result<Registry, String> {
    let mut given = Vec::new();
    for o in &args.clock_offsets {
        match o.split_once('=').and_then(|(n, d)| Some((n.to_string(), parse_duration(d)?))) {
            Some(x) => given.push(x),
            None => return Err(format!("--clock-offset {o}: expected NAME=±DURATION (e.g. node2=-1.5ms)")),
        }
    }
    let mut renames: Vec<(String, String, Option<String>)> = Vec::new();
    for spec in &args.points {
        let Some((name, target)) = spec.split_once('=') else {
            return Err(format!("--point {spec}: expected NAME=FILE[#IFACE]"));
        };
        let (file, iface) = match target.rsplit_once('#') {
            Some((f, i)) => (f.to_string(), Some(i.to_string())),
            None => (target.to_string(), None),
        };
        renames.push((name.to_string(), file, iface));
    }
    Ok(Registry { given, renames, ..Registry::default() })
}

/// Reads every file at once, frames merged in time order (offsets applied), through
/// the TCP analysis, the correlator and `observer`. `Err` is a usage error (message
/// for the user) or, inside `Ok`, the observer's I/O error.
pub fn analyze(
    args: &AnalysisArgs,
    list_packets: bool,
    observer: &mut dyn Observer,
) -> Result<io::Result<Analysis>, String> {
    analyze_with(args, list_packets, false, observer)
}

/// [`analyze`] once more over the same files (a second pass for what the first one
/// found): the same points, offsets and flow ids; errors and warnings are not printed
/// again.
pub fn analyze_again(args: &AnalysisArgs, observer: &mut dyn Observer) -> Result<io::Result<Analysis>, String> {
    analyze_with(args, false, true, observer)
}

fn analyze_with(
    args: &AnalysisArgs,
    list_packets: bool,
    quiet: bool,
    observer: &mut dyn Observer,
) -> Result<io::Result<Analysis>, String> {
    let mut reg = parse_specs(args)?;
    let mut files: Vec<PathBuf> = args.common.files.clone();
    for (_, f, _) in &reg.renames {
        if !files.iter().any(|x| x.as_os_str() == f.as_str()) {
            files.push(PathBuf::from(f));
        }
    }
    let decoder = args.common.decoder();
    // Estimating needs a second read: not possible from standard input.
    let rereadable = files.len() > 1 && files.iter().all(|f| f.as_os_str() != "-");
    if rereadable {
        estimate_offsets(&files, &decoder, &mut reg);
    }
    Ok(merge(args, list_packets, quiet, observer, files, reg, &decoder))
}

#[allow(clippy::too_many_arguments)]
fn merge(
    args: &AnalysisArgs,
    list_packets: bool,
    quiet: bool,
    observer: &mut dyn Observer,
    files: Vec<PathBuf>,
    mut reg: Registry,
    decoder: &netcap_core::decode::Decoder,
) -> io::Result<Analysis> {
    let mut failed = files.is_empty();
    let mut sources: Vec<Source> = Vec::new();
    for path in &files {
        match open(path) {
            Ok(reader) => sources.push(Source { reader: Some(reader) }),
            Err(e) => {
                if !quiet {
                    crate::ui::error(e);
                }
                failed = true;
                sources.push(Source { reader: None });
            }
        }
    }
    // The next frame of each source, ordered by time (after its point's offset).
    let mut heap: BinaryHeap<Reverse<(i64, usize, u64)>> = BinaryHeap::new();
    let mut next: Vec<Option<Owned>> = Vec::new();
    let pull = |i: usize, sources: &mut Vec<Source>, reg: &mut Registry, failed: &mut bool| -> Option<Owned> {
        let src = sources.get_mut(i)?;
        let reader = src.reader.as_mut()?;
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => return None,
            Err(e) => {
                if !quiet {
                    crate::ui::error(e);
                }
                *failed = true;
                return None;
            }
        };
        let reader_point = frame.point;
        let owned = Owned {
            number: frame.number,
            point: 0,
            link_type: frame.link_type,
            ts_ns: frame.ts_ns,
            has_timestamp: frame.has_timestamp,
            caplen: frame.caplen,
            len: frame.len,
            offset: frame.offset,
            data: frame.data.to_vec(),
        };
        let point = reg.point_of(i, reader, reader_point)?;
        Some(Owned { point, ..owned })
    };
    for i in 0..sources.len() {
        let f = pull(i, &mut sources, &mut reg, &mut failed);
        if let Some(f) = &f {
            heap.push(Reverse((f.ts_ns.saturating_add(reg.offsets[f.point]), i, f.number)));
        }
        next.push(f);
    }
    let mut tcp = args.common.analyzer();
    let mut flows = Vec::new();
    // The correlator gets the offsets once every point is known; points appear with
    // their first frame, so offsets are looked up per frame through this vector.
    let opts = CorrelateOptions { list_packets, nat: args.nat, ..CorrelateOptions::default() };
    let mut correlator = Correlator::new(opts, Vec::new());
    let mut packet = Packet::default();
    let mut progress = crate::ui::Progress::new(&files);
    while let Some(Reverse((_, i, _))) = heap.pop() {
        let Some(f) = next[i].take() else { continue };
        progress.frame(i, f.offset);
        decoder.decode_into(f.link_type, &f.data, &mut packet);
        let mut frame = f.frame();
        let point = u32::try_from(f.point).unwrap_or(u32::MAX);
        reg.points[f.point].frames += 1;
        frame.ts_ns = f.ts_ns.saturating_add(reg.offsets[f.point]);
        let segment = tcp.segment(point, &frame, &packet);
        flows.append(&mut tcp.take_finished());
        correlator.add(point, &frame, &packet);
        observer.frame(&reg.points, f.point, &frame, &packet, segment.as_ref())?;
        if list_packets && observer.wants_paths() {
            let paths = correlator.take_packet_paths();
            if !paths.is_empty() {
                observer.paths(&reg.points, paths)?;
            }
        }
        let g = pull(i, &mut sources, &mut reg, &mut failed);
        if let Some(g) = &g {
            heap.push(Reverse((g.ts_ns.saturating_add(reg.offsets[g.point]), i, g.number)));
        }
        next[i] = g;
    }
    for s in sources.iter_mut().filter_map(|s| s.reader.as_mut()) {
        for w in s.take_warnings() {
            if !quiet {
                crate::ui::warn(w);
            }
        }
    }
    flows.append(&mut tcp.finish());
    name_points(&mut flows, &reg.names);
    if list_packets && observer.wants_paths() {
        correlator.flush();
        observer.paths(&reg.points, correlator.take_packet_paths())?;
    }
    let report = correlator.finish(&reg.names, &flows);
    flows.sort_by_key(|f| f.id);
    let (table, karn) = (tcp.table_stats(), tcp.karn_samples().clone());
    Ok(Analysis { output: Output { points: reg.points, report }, flows, files, failed, table, karn })
}

pub fn run(args: &CorrelateArgs, out: &mut impl Write) -> io::Result<bool> {
    let analysis = match analyze(&args.analysis, args.packets, &mut ()) {
        Ok(a) => a?,
        Err(msg) => {
            crate::ui::error(msg);
            return Ok(true);
        }
    };
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &analysis.output)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => text::correlate(out, &analysis.output)?,
    }
    Ok(analysis.failed)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("+1.234567s"), Some(1_234_567_000));
        assert_eq!(parse_duration("-250ms"), Some(-250_000_000));
        assert_eq!(parse_duration("40us"), Some(40_000));
        assert_eq!(parse_duration("7ns"), Some(7));
        assert_eq!(parse_duration("2"), Some(2_000_000_000));
        assert_eq!(parse_duration("3h"), None);
    }
}
